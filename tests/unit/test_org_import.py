"""The organisation loaded from files and edited one unit at a time: `flask org import/export`, `flask places
import` (CSV/XLSX, all or nothing with each bad row in Chinese, --partial), the checks of the unit tree (superior's
kind, cycles, re-pathing a moved subtree, retiring only without open cases), the refcache version bump, the admin
API /api/v1/units and the admin pages, and the standard divisions of `places suggest-divisions`."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from hotline.extensions import db

HEADER = "code,name,kind,parent_code,aliases\n"
TREE = (
    HEADER + "HC,禾川市,city,,\n"
    "HC01,东篱区,district,HC,东篱\n"
    "HC01S01,竹溪街道,street,HC01,竹溪\n"
    "HC01S01C01,桃坞社区,community,HC01S01,桃坞;桃坞小区\n"
    "HC01S02,芦汀街道,street,HC01,\n"
    "HC02,南屏区,district,HC,\n"
    "HCJT,禾川市交通运输局,department,HC,市交通局\n"
)


@pytest.fixture(scope="module")
def blank(app, tmp_path_factory):
    """A fresh instance with no units (its own SQLite file, the session's Redis), with the CLI."""
    from flask_migrate import upgrade

    from hotline import cli, create_app
    from hotline.extensions import redis_url_for

    instance = tmp_path_factory.mktemp("org_import")
    other = create_app(
        {
            "instance": instance,
            "database_url": "sqlite:///" + str(instance / "hotline.db"),
            "redis_url": redis_url_for(app.config["HOTLINE"]),
            "testing": True,
        }
    )
    cli.register(other)
    with other.app_context():
        upgrade()
    return other


def _run(app, *args):
    result = app.test_cli_runner().invoke(args=[str(a) for a in args])
    return result.exit_code, result.output


def _units(app) -> dict[str, tuple]:
    from hotline.models import Department

    with app.app_context():
        rows = db.session.execute(
            sa.select(Department.code, Department.kind, Department.path, Department.active, Department.aliases)
        ).all()
    return {code: (kind, path, active, list(aliases)) for code, kind, path, active, aliases in rows}


def test_import_is_an_upsert_by_code_and_the_same_file_again_changes_nothing(blank, tmp_path):
    from hotline.db.refcache import current_version

    path = tmp_path / "units.csv"
    path.write_text(TREE, encoding="utf-8")
    with blank.app_context():
        before = current_version().split(".")[0]
    code, out = _run(blank, "org", "import", path)
    assert code == 0, out
    assert "新增 7" in out and "写入单位：7/7" in out  # the progress line
    with blank.app_context():
        assert int(current_version().split(".")[0]) > int(before)  # every process reloads units and places
    units = _units(blank)
    assert units["HC01S01C01"] == ("community", "/HC/HC01/HC01S01/HC01S01C01/", True, ["桃坞", "桃坞小区"])
    code, out = _run(blank, "org", "import", path)
    assert code == 0 and "新增 0，更新 0" in out and "未变 7" in out, out
    assert _units(blank) == units
    path.write_text(TREE.replace("桃坞;桃坞小区", "桃坞"), encoding="utf-8")
    code, out = _run(blank, "org", "import", path)
    assert code == 0 and "更新 1" in out, out
    assert _units(blank)["HC01S01C01"][3] == ["桃坞"]


def test_bad_rows_are_named_in_chinese_and_nothing_is_loaded_unless_partial(blank, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(TREE, encoding="utf-8")
    assert _run(blank, "org", "import", path)[0] == 0
    bad = (
        HEADER + "HC03,北坡区,district,HC,\n"  # 2: good
        "HC03S01,柳岸街道,street,HC,\n"  # 3: a street under the city
        "HC03S02,杏园街道,street,HC03,\n"  # 4: good
        "HC03S02,杏园街道,street,HC03,\n"  # 5: duplicate code
        "HC03S03,梨花街道,town,HC03,\n"  # 6: unknown kind
        "HC03S04,桂坊街道,street,NOPE,\n"  # 7: unknown superior
        "HC03S03C01,梨花社区,community,HC03S03,\n"  # 8: its superior's row is bad
        "HC,禾川市,city,HC01S01C01,\n"  # 9: a cycle and a city with a superior
    )
    path.write_text(bad, encoding="utf-8")
    code, out = _run(blank, "org", "import", path)
    assert code != 0
    assert "未导入任何单位" in out and "--partial" in out
    assert "第 3 行：街道/镇「柳岸街道」的上级应为区县，而 HC 是市级" in out
    assert "第 5 行：单位代码 HC03S02 与第 4 行重复" in out
    assert "第 6 行：单位类型（kind）应为" in out and "「town」" in out
    assert "第 7 行：上级单位代码（parent_code）NOPE 不存在" in out
    assert "第 8 行：上级单位 HC03S03 所在的第 6 行有错误" in out
    assert "第 9 行：市级「禾川市」是最上级单位" in out
    assert "HC03" not in _units(blank)
    code, out = _run(blank, "org", "import", path, "--partial")
    assert code == 0, out
    assert "跳过有错误的 6 行" in out
    units = _units(blank)
    assert units["HC03S02"][1] == "/HC/HC03/HC03S02/" and "HC03S01" not in units and "HC03S03C01" not in units


def test_moving_a_street_repaths_its_subtree_and_cycles_are_refused(blank, tmp_path):
    path = tmp_path / "move.csv"
    path.write_text(TREE, encoding="utf-8")
    assert _run(blank, "org", "import", path)[0] == 0
    path.write_text(HEADER + "HC01S01,竹溪街道,street,HC02,竹溪\n", encoding="utf-8")
    code, out = _run(blank, "org", "import", path)
    assert code == 0 and "重算路径 2" in out, out
    units = _units(blank)
    assert units["HC01S01"][1] == "/HC/HC02/HC01S01/"
    assert units["HC01S01C01"][1] == "/HC/HC02/HC01S01/HC01S01C01/"  # the community moved with its street
    path.write_text(HEADER + "HC02,南屏区,district,HC,\nHCJT,禾川市交通运输局,department,HCJT2,\n"
                    "HCJT2,交通执法支队,department,HCJT,\n", encoding="utf-8")  # fmt: skip
    code, out = _run(blank, "org", "import", path)
    assert code != 0 and "上级单位形成循环" in out, out
    path.write_text(HEADER + "HC01,东篱区,department,HC,东篱\n", encoding="utf-8")
    code, out = _run(blank, "org", "import", path)
    assert code != 0 and "不能把 HC01 改为市直部门：它的下级单位（" in out, out
    path.write_text(TREE, encoding="utf-8")
    assert _run(blank, "org", "import", path)[0] == 0  # back where it was
    assert _units(blank)["HC01S01C01"][1] == "/HC/HC01/HC01S01/HC01S01C01/"


def test_export_round_trips_through_xlsx(blank, tmp_path):
    source = tmp_path / "units.csv"
    source.write_text(TREE, encoding="utf-8")
    assert _run(blank, "org", "import", source)[0] == 0
    target = tmp_path / "units.xlsx"
    code, out = _run(blank, "org", "export", target)
    assert code == 0, out
    before = _units(blank)
    code, out = _run(blank, "org", "import", target)
    assert code == 0 and "新增 0，更新 0" in out, out
    assert _units(blank) == before


def test_places_import_reads_xlsx_with_unit_code_and_partial_skips_bad_rows(blank, tmp_path):
    from hotline.models import Department, Place

    source = tmp_path / "units.csv"
    source.write_text(TREE, encoding="utf-8")
    assert _run(blank, "org", "import", source)[0] == 0
    book = Workbook()
    sheet = book.active
    for row in [
        ("name", "kind", "unit_code", "aliases"),
        ("竹溪路", "road", "HC01S01", ""),
        ("桃花岭", "landmark", "HC01S01C01", "桃岭;桃花山"),
        ("无名河", "river", "HC01S01", ""),
        ("芦汀桥", "landmark", "NOPE", ""),
    ]:
        sheet.append(row)
    path = tmp_path / "places.xlsx"
    book.save(path)
    code, out = _run(blank, "places", "import", path)
    assert code != 0 and "第 4 行：类型（kind）应为" in out and "未导入任何地名" in out, out
    with blank.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Place)) == 0
    code, out = _run(blank, "places", "import", path, "--partial")
    assert code == 0 and "新增 2" in out and "第 5 行：未知的单位代码 NOPE（已跳过）" in out, out
    with blank.app_context():
        hill = db.session.scalar(sa.select(Place).where(Place.name == "桃花岭"))
        assert hill.aliases == ["桃岭", "桃花山"]
        assert db.session.get(Department, hill.department_id).code == "HC01S01C01"
    code, out = _run(blank, "places", "import", path, "--partial")
    assert code == 0 and "新增 0，更新 0，未变 2" in out, out
    code, out = _run(blank, "places", "export", tmp_path / "out.csv")
    assert code == 0
    assert (tmp_path / "out.csv").read_text(encoding="utf-8-sig").splitlines()[:2] == [
        "name,kind,unit_code,aliases",
        "竹溪路,road,HC01S01,",
    ]


def test_a_unit_with_open_cases_cannot_be_retired(app, api, make_case):
    """The demo instance: a unit leading an open case refuses to retire, naming the count (import and API)."""
    from hotline.org import units

    make_case("dispatched", unit="JTJ")
    with app.app_context():
        count = units.open_case_count(db.session.scalar(sa.text("SELECT id FROM departments WHERE code = 'JTJ'")))
        assert count >= 1
        row = {"line": 2, "code": "JTJ", "name": "市交通运输局", "kind": "department", "parent_code": "C"}
        report = units.apply([row | {"active": "0"}])
        db.session.rollback()
    assert not report.applied and report.errors[0].code == "open_cases"
    assert f"还有 {count} 件未办结的工单，不能停用" in report.errors[0].reason
    resp = api("admin").client.patch(
        "/api/v1/units/JTJ", json={"active": False}, headers={"Authorization": f"Bearer {api('admin').token}"}
    )
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "unit_has_open_cases", resp.get_json()
    assert api("admin").get("/units/JTJ").get_json()["active"] is True


def test_units_api_lists_adds_and_changes_units(app, api):
    admin = api("admin")
    headers = {"Authorization": f"Bearer {admin.token}"}
    flat = admin.get("/units").get_json()
    street = next(u for u in flat["units"] if u["code"] == "D01S01")
    assert street["parent_code"] == "D01" and street["kind"] == "street"
    tree = admin.get("/units?format=tree").get_json()["units"]
    city = next(u for u in tree if u["code"] == "C")
    assert any(d["code"] == "D01" and any(s["code"] == "D01S01" for s in d["children"]) for d in city["children"])
    code = "T" + uuid.uuid4().hex[:8].upper()
    body = {"code": code, "name": "测试澄园社区", "kind": "community", "parent_code": "D01S01", "aliases": ["澄园"]}
    assert api("agent1").post("/units", json=body).status_code == 403
    bad = admin.post("/units", json=body | {"parent_code": "D01"})
    assert bad.status_code == 400 and "社区/村「测试澄园社区」的上级应为街道/镇" in bad.get_json()["error"]["message"]
    created = admin.post("/units", json=body)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["path"].endswith(f"/D01/D01S01/{code}/")
    assert admin.post("/units", json=body).status_code == 409
    with app.test_request_context():
        from hotline.dispatch.service import suggest_for

        assert suggest_for("澄园门口路灯坏了").place.street_code == "D01S01"  # within a second, no restart
    changed = admin.client.patch(f"/api/v1/units/{code}", json={"aliases": [], "active": False}, headers=headers)
    assert changed.status_code == 200 and changed.get_json()["active"] is False, changed.get_json()
    assert admin.client.patch("/api/v1/units/NOPE", json={"name": "某某"}, headers=headers).status_code == 404
    assert [u["code"] for u in admin.get(f"/units?q={code}").get_json()["units"]] == [code]


def test_admin_pages_list_edit_and_import(app):
    from tests.integration.test_pages import Browser

    admin = Browser(app, "admin")
    page = admin.html("/admin/org/units?q=和平")
    assert "单位与地名" in page and "D01S01" in page
    assert "人民公园" in admin.html("/admin/org/units/D01S01")  # the unit's places
    assert Browser(app, "dispatcher1").get("/admin/org/units").status_code == 403
    code = "P" + uuid.uuid4().hex[:8].upper()
    form = {"code": code, "name": "测试沁园社区", "kind": "community", "parent_code": "D01", "aliases": ""}
    resp = admin.post("/admin/org/units/new", form)
    assert resp.status_code == 400 and "上级应为街道/镇" in resp.get_data(as_text=True)
    resp = admin.post("/admin/org/units/new", form | {"parent_code": "D01S01", "active": "y"}, follow=True)
    assert "已新增" in resp.get_data(as_text=True)
    resp = admin.post(f"/admin/org/units/{code}", form | {"parent_code": "D01S02", "aliases": "沁园"}, follow=True)
    text = resp.get_data(as_text=True)
    assert "已保存（已停用）" in text and "沁园" in text  # the checkbox left out: retired
    upload = admin.client.post(
        "/admin/org/import",
        data={
            "csrf_token": admin.token,
            "what": "units",
            "file": (__import__("io").BytesIO((HEADER + f"{code},测试沁园社区,community,D01,\n").encode()), "u.csv"),
        },
        content_type="multipart/form-data",
    )
    text = upload.get_data(as_text=True)
    assert upload.status_code == 400 and "未导入" in text and "上级应为街道/镇" in text


def test_suggest_divisions_prints_a_unit_file_of_the_citys_districts(blank, tmp_path):
    code, out = _run(blank, "places", "suggest-divisions", "江苏省", "南京市")
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0] == "code,name,kind,parent_code,aliases,active"
    assert lines[1] == "320100,南京市,city,,,1" and "320102,玄武区,district,320100,玄武,1" in lines
    path = tmp_path / "nanjing.csv"
    path.write_text(out, encoding="utf-8")
    code, out = _run(blank, "org", "import", path)
    assert code == 0 and "新增" in out, out
    code, out = _run(blank, "places", "suggest-divisions", "江苏省", "北京")
    assert code != 0 and "江苏省没有「北京」" in out
