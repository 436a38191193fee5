"""POST /api/v1/routing/suggest and `flask routing train` (with small data the project writes itself)."""

from __future__ import annotations

SAMPLES = {
    "环境保护": [
        "小区旁边工厂排放黑烟，气味刺鼻",
        "河道里有人倾倒垃圾污水发臭",
        "夜间工地施工噪音扰民",
        "餐馆油烟直排污染空气",
        "化工厂废水排进河里",
        "垃圾焚烧厂臭味很大",
    ],
    "交通运输": [
        "公交车不按站停车",
        "出租车拒载还绕路",
        "路口红绿灯坏了车辆拥堵",
        "网约车司机乱收费",
        "长途客车超载",
        "公交线路调整后不方便",
    ],
    "劳动和社会保障": [
        "公司拖欠工资三个月",
        "单位不给缴纳社保",
        "养老保险转移手续怎么办",
        "工伤认定太慢",
        "失业金领取问题",
        "医保报销比例咨询",
    ],
}


def _write_data(folder):
    folder.mkdir()
    lines = [f"{text}\t{label}" for label, texts in SAMPLES.items() for text in texts]
    (folder / "small.tsv").write_text("\n".join([*lines, "malformed line without a tab"]), encoding="utf-8")


def test_suggest_without_model_then_with_trained_model(app, api, tmp_path):
    from routing.model import model_path

    path = model_path(app.config["HOTLINE"].instance)
    if path.exists():
        path.unlink()
    agent = api("agent1")
    body = {"content": "公司拖欠工资半年了，老板失联", "address": "东城区人民路8号"}
    resp = agent.post("/routing/suggest", json=body)
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["model_used"] is False and "未加载分类模型" in body["note"] and body["auto"] is False
    assert body["place"]["district_code"] == "D01"

    data = tmp_path / "data"
    _write_data(data)
    result = app.test_cli_runner().invoke(args=["routing", "train", "--data", str(data)])
    assert result.exit_code == 0, result.output
    assert "small.tsv: 18 行，跳过 1 行" in result.output and path.exists()
    try:
        body = agent.post("/routing/suggest", json={"content": "单位拖欠工资还不缴社保"}).get_json()
        assert body["model_used"] is True
        assert body["suggestions"][0]["category"] == "劳动和社会保障"
        assert body["suggestions"][0]["department_code"] == "RSJ"
        assert len(body["suggestions"]) <= 3 and all(0 <= s["score"] <= 1 for s in body["suggestions"])
    finally:
        path.unlink()


def test_emergency_and_out_of_scope_and_bad_input(app, api):
    agent = api("agent1")
    fire = agent.post("/routing/suggest", json={"content": "楼下着火了，浓烟很大，有人被困"}).get_json()
    assert fire["emergency"] == "119" and fire["auto"] is False
    court = agent.post("/routing/suggest", json={"content": "我想起诉我的邻居，法院怎么立案"}).get_json()
    assert court["out_of_scope"] is not None and court["out_of_scope"]["answer"]
    ordinary = agent.post("/routing/suggest", json={"content": "消防通道被私家车占用，请处理"}).get_json()
    assert ordinary["emergency"] is None
    bad = agent.post("/routing/suggest", json={"content": ""})
    assert bad.status_code == 400 and "content" in bad.get_json()["error"]["fields"]
    assert api("handler_zjj").post("/routing/suggest", json={"content": "测试内容"}).status_code == 200


def test_a_long_letter_gets_suggestions_and_a_too_long_one_a_clear_error(app, api):
    """A citizen's letter may run past a case's content limit (the labelled history holds one of 12,220
    characters): suggestions read it; past HOTLINE_ROUTING_MAX_CHARS the answer is a field error in Chinese."""
    settings = app.config["HOTLINE"]
    assert settings.routing_max_chars > settings.max_content_chars
    agent = api("agent1")
    repeats = settings.max_content_chars // 9 + 10
    letter = "尊敬的领导：小区楼下的工地夜间施工噪音扰民，" + "我们多次反映无果，" * repeats
    assert settings.max_content_chars < len(letter) <= settings.routing_max_chars
    resp = agent.post("/routing/suggest", json={"content": letter})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["suggestions"]
    too_long = agent.post("/routing/suggest", json={"content": "噪" * (settings.routing_max_chars + 1)})
    assert too_long.status_code == 400
    error = too_long.get_json()["error"]
    assert "content" in error["fields"] and f"不能超过{settings.routing_max_chars}个字" in error["message"]
