"""The routing lexicon as data: shipped by the seed, read by the router through the routing tables, edited by the
admin through the API and the admin page (the change reaches the next suggestion)."""

from __future__ import annotations

import sqlalchemy as sa

from hotline.models import Category, RoutingLexicon

WORDS = "停水 水压 水管"


def _suggest(api, text, address=None):
    body = {"content": text} | ({"address": address} if address else {})
    r = api("agent1").post("/routing/suggest", json=body)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_seeded_lexicon_routes_to_the_leaf_unit(api):
    first = _suggest(api, "我们小区停水两天了")["suggestions"][0]
    assert first["department_code"] == "ZLS"
    assert first["path"] == "城乡建设/城市建设和市政管理/自来水供应" and first["category"] == "城乡建设"
    assert "停水" in first["why"]
    assert _suggest(api, "想提取住房公积金")["suggestions"][0]["department_code"] == "GJJ"
    # a community's name → its street office for a 属地 matter
    first = _suggest(api, "和平里社区的垃圾好几天没人清运")["suggestions"][0]
    assert first["department_code"] == "D01S01" and "属地" in first["why"]


def test_admin_edits_reach_the_router(api, app):
    listed = api("dispatcher1").get("/routing/lexicon").get_json()["items"]
    water = next(i for i in listed if i["category"] == "城乡建设/城市建设和市政管理/自来水供应")
    assert "停水" in water["words"] and water["department_code"] == "ZLS"
    text = "小区的共享充电宝押金退不了"
    before = [s["department_code"] for s in _suggest(api, text)["suggestions"]][:1]
    assert before != ["GXJ"]
    assert api("dispatcher1").put("/routing/lexicon", json={"category": "x", "words": "a"}).status_code == 403
    r = api("admin").put(
        "/routing/lexicon", json={"category": "科技与信息产业/其他/其他", "words": "共享充电宝，充电宝押金"}
    )
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["words"] == ["共享充电宝", "充电宝押金"]
    first = _suggest(api, text)["suggestions"][0]
    assert first["department_code"] == "GXJ" and "共享充电宝" in first["why"]
    # switched off: the words no longer route
    r = api("admin").put(
        "/routing/lexicon", json={"category": "科技与信息产业/其他/其他", "words": "共享充电宝", "enabled": False}
    )
    assert r.status_code == 200 and r.get_json()["enabled"] is False
    assert [s["department_code"] for s in _suggest(api, text)["suggestions"]][:1] == before


def test_bad_input_is_a_chinese_error(api):
    r = api("admin").put("/routing/lexicon", json={"category": "不存在/的分类", "words": "停水"})
    assert r.status_code == 400 and "分类不存在" in r.get_json()["error"]["message"]
    r = api("admin").put("/routing/lexicon", json={"category": "城乡建设/其他/其他", "words": "水"})
    assert r.status_code == 400 and "2到12个字" in r.get_json()["error"]["message"]


def _row(app, path):
    from hotline.extensions import db

    with app.app_context():
        category = db.session.scalar(sa.select(Category).where(Category.path == path))
        row = db.session.scalar(sa.select(RoutingLexicon).where(RoutingLexicon.category_id == category.id))
        return category.id, row.word_list, row.enabled


def test_admin_page_lists_and_saves(app):
    from tests.integration.test_pages import Browser

    admin = Browser(app, "admin")
    html = admin.html("/admin/routing/lexicon")
    assert "路由词表" in html and "自来水供应" in html
    assert Browser(app, "dispatcher1").get("/admin/routing/lexicon").status_code == 403
    path = "城乡建设/城市建设和市政管理/燃气供应"
    category_id, old, _ = _row(app, path)
    try:
        resp = admin.post(
            f"/admin/routing/lexicon/{category_id}", {"words": "燃气 天然气 燃气卡 气卡", "enabled": "y"}, follow=True
        )
        assert "词语已保存" in resp.get_data(as_text=True)
        assert _row(app, path)[1:] == (["燃气", "天然气", "燃气卡", "气卡"], True)
        resp = admin.post(f"/admin/routing/lexicon/{category_id}", {"words": "气", "enabled": "y"}, follow=True)
        assert "2到12个字" in resp.get_data(as_text=True)
        assert _row(app, path)[1] == ["燃气", "天然气", "燃气卡", "气卡"]
    finally:
        admin.post(f"/admin/routing/lexicon/{category_id}", {"words": " ".join(old), "enabled": "y"})
