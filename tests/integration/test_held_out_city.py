"""A city that is not the demo, loaded from files by the documented commands on a fresh instance: its units (four
levels, departments, a utility) from an XLSX by `flask org import`, its places by `flask places import` — then a
case whose text mentions one of its communities is located to that community's street and suggested to the street
(a 属地 category), end to end through the API and the routing job, with no code change.

澜山市 and everything in it are made up for this test; none of it is in the demo seed."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from hotline.extensions import db

UNITS = [  # code, name, kind, parent_code, aliases
    ("LS", "澜山市", "city", "", ""),
    ("LS01", "青澜区", "district", "LS", "青澜"),
    ("LS02", "松岭县", "district", "LS", "松岭"),
    ("LS01S01", "望潮街道", "street", "LS01", "望潮"),
    ("LS01S02", "枫桥街道", "street", "LS01", ""),
    ("LS02S01", "石埠镇", "street", "LS02", ""),
    ("LS02S02", "云溪乡", "street", "LS02", "云溪"),
    ("LS01S01C01", "翠湖社区", "community", "LS01S01", "翠湖小区"),
    ("LS01S01C02", "鹭洲社区", "community", "LS01S01", ""),
    ("LS01S02C01", "临江社区", "community", "LS01S02", ""),
    ("LS01S02C02", "梧桐里社区", "community", "LS01S02", "梧桐里"),
    ("LS02S01C01", "石埠村", "community", "LS02S01", ""),
    ("LS02S01C02", "溪口村", "community", "LS02S01", ""),
    ("LS02S02C01", "云岭村", "community", "LS02S02", ""),
    ("LS02S02C02", "柏坞村", "community", "LS02S02", "柏坞"),
    ("LSCG", "澜山市城市管理局", "department", "LS", "市城管局"),
    ("LSZJ", "澜山市住房和城乡建设局", "department", "LS", ""),
    ("LS01ZJ", "青澜区住房和城乡建设局", "department", "LS01", ""),
    ("LSSW", "澜山水务集团", "utility", "LS", "水务集团"),
]
PLACES = [  # name, kind, unit_code
    ("观澜大道", "road", "LS01S02"),
    ("鹭洲花园", "community", "LS01S01C02"),  # a place of a community unit counts for its street
    ("松风塔", "landmark", "LS02S02"),
]


def _xlsx(path, header, rows):
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(list(row))
    book.save(path)
    return str(path)


@pytest.fixture(scope="module")
def city(app, tmp_path_factory):
    """A fresh instance (its own SQLite file, sharing the session's Redis) with only an SLA policy, the taxonomy
    (no units) and one agent — what `setup` would leave."""
    from flask_migrate import upgrade

    from hotline import cli, create_app
    from hotline.auth.passwords import hash_password
    from hotline.auth.tokens import create_token
    from hotline.extensions import redis_url_for
    from hotline.models import User
    from hotline.seed.loader import seed_categories, seed_sla_policy

    instance = tmp_path_factory.mktemp("held_out_city")
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
        seed_sla_policy()
        seed_categories({})
        agent = User(username="ls_agent", name="澜山话务员", role="agent", password_hash=hash_password("x" * 12))
        db.session.add(agent)
        db.session.flush()
        other.config["TEST_TOKEN"] = create_token(agent)
        db.session.commit()
    other.config["FILES"] = tmp_path_factory.mktemp("held_out_files")
    return other


def _invoke(app, *args):
    result = app.test_cli_runner().invoke(args=list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        import traceback

        traceback.print_exception(result.exception)
    return result, result.output  # stdout and stderr (click 8.2)


def test_the_city_is_imported_from_xlsx_and_routes_a_community_to_its_street(city):
    from hotline.models import Category, Department, Place

    files = city.config["FILES"]
    units_file = _xlsx(files / "units.xlsx", ["code", "name", "kind", "parent_code", "aliases"], UNITS)
    places_file = _xlsx(files / "places.xlsx", ["name", "kind", "unit_code"], PLACES)

    result, output = _invoke(city, "org", "import", units_file)
    assert result.exit_code == 0, output
    assert f"新增 {len(UNITS)}" in output
    result, output = _invoke(city, "org", "import", units_file)  # the same file again changes nothing
    assert result.exit_code == 0, output
    assert "新增 0，更新 0" in output and f"未变 {len(UNITS)}" in output
    result, output = _invoke(city, "places", "import", places_file)
    assert result.exit_code == 0, output
    assert f"新增 {len(PLACES)}" in output

    with city.app_context():
        cuihu = db.session.scalar(sa.select(Department).where(Department.code == "LS01S01C01"))
        assert (cuihu.kind, cuihu.path, cuihu.aliases) == ("community", "/LS/LS01/LS01S01/LS01S01C01/", ["翠湖小区"])
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Place)) == len(PLACES)
        # the city's 属地 category: street-level matters go to the street where they happen
        category = db.session.scalar(sa.select(Category).where(Category.level == 1, Category.name == "城乡建设"))
        category.department = db.session.scalar(sa.select(Department).where(Department.code == "LSCG"))
        category.local = True
        from hotline.db.refcache import bump_version

        bump_version()
        db.session.commit()

    client = city.test_client()
    headers = {"Authorization": f"Bearer {city.config['TEST_TOKEN']}"}
    numbers = {}
    for text, street in [
        ("翠湖社区门口的路灯坏了好几天了，晚上很黑", "LS01S01"),  # a community unit
        ("柏坞那边的井盖丢了，很危险", "LS02S02"),  # a community's alias
        ("鹭洲花园小区的路灯不亮", "LS01S01"),  # a place of a community unit
        ("观澜大道上的井盖松动了", "LS01S02"),  # a road of a street
    ]:
        body = {"channel": "phone", "kind": "complaint", "content": text, "citizen_phone": "13912345678"}
        resp = client.post("/api/v1/cases", json=body, headers=headers)
        assert resp.status_code == 201, resp.get_json()
        numbers[resp.get_json()["number"]] = street

    from hotline.dispatch.routing_queue import route_pending

    with city.test_request_context():
        route_pending()
        db.session.commit()
    for number, street in numbers.items():
        case = client.get(f"/api/v1/cases/{number}", headers=headers).get_json()
        routing = client.get(f"/api/v1/cases/{number}/routing", headers=headers).get_json()
        assert routing["pending"] is False
        top = routing["suggestions"][0]
        assert (top["category"], top["department_code"]) == ("城乡建设", street), (number, routing)
        assert case["district_code"] == street, case  # the place the gazetteer found, filled in by the job


def test_the_demo_citys_places_locate_nothing_here(city):
    from hotline.dispatch.service import suggest_for

    with city.test_request_context():
        assert suggest_for("人民公园和平里社区门口的路灯坏了").place is None
        assert suggest_for("溪口村村口的路灯坏了").place.street_code == "LS02S01"


def test_a_retired_community_no_longer_locates_and_keeps_its_history(city):
    from hotline.dispatch.service import suggest_for
    from hotline.models import Department

    files = city.config["FILES"]
    retire = _xlsx(
        files / "retire.xlsx", ["code", "name", "kind", "parent_code", "aliases", "active"], [(*UNITS[13], 0)]
    )
    result, output = _invoke(city, "org", "import", retire)
    assert result.exit_code == 0, output
    assert "停用 1" in output
    with city.test_request_context():
        assert suggest_for("云岭村的路灯坏了").place is None
        unit = db.session.scalar(sa.select(Department).where(Department.code == "LS02S02C01"))
        assert unit is not None and unit.active is False
    result, output = _invoke(city, "org", "export", str(files / "export.csv"))
    assert result.exit_code == 0, output
    exported = (files / "export.csv").read_text(encoding="utf-8-sig").splitlines()
    assert exported[0] == "code,name,kind,parent_code,aliases,active"
    assert "LS02S02C01,云岭村,community,LS02S02,,0" in exported
    assert "LS01S01C01,翠湖社区,community,LS01S01,翠湖小区,1" in exported
