"""The gazetteer lives in the database (``places``): another city's places locate its cases with no code change,
and the demo city's places stop locating anything once they are retired."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from hotline.extensions import db

OTHER_CITY = """unit,kind,name,aliases
QH01S01,community,杏林社区,杏林小区
QH01S01,road,柳岸路,
QH01S02,landmark,桂香公园,
"""


@pytest.fixture(scope="module")
def other_city(app, tmp_path_factory):
    """A fresh instance (its own SQLite file) of a city that is not the demo: 青禾市, 青禾区, two streets.

    It shares the session app's Redis: the limiter and Socket.IO are process-wide singletons that the second
    create_app points at its own Redis, so a Redis of its own stopped afterwards would break later tests."""
    from flask_migrate import upgrade

    from hotline import create_app
    from hotline.dispatch import places
    from hotline.extensions import redis_url_for
    from hotline.models import Department

    instance = tmp_path_factory.mktemp("other_city")
    other = create_app(
        {
            "instance": instance,
            "database_url": "sqlite:///" + str(instance / "hotline.db"),
            "redis_url": redis_url_for(app.config["HOTLINE"]),
            "testing": True,
        }
    )
    with other.app_context():
        upgrade()
        city = Department(code="QH", name="青禾市", kind="city", path="/QH/")
        district = Department(code="QH01", name="青禾区", kind="district", parent=city, path="/QH/QH01/")
        db.session.add_all(
            [
                city,
                district,
                Department(code="QH01S01", name="柳岸街道", kind="street", parent=district, path="/QH/QH01/QH01S01/"),
                Department(code="QH01S02", name="桂香街道", kind="street", parent=district, path="/QH/QH01/QH01S02/"),
            ]
        )
        db.session.flush()
        places.load(places.read_csv(OTHER_CITY))
        db.session.commit()
    yield other


def _place(app, text: str):
    from hotline.dispatch.service import suggest_for

    with app.test_request_context():
        return suggest_for(text).place


def test_another_citys_community_locates_its_street(other_city):
    place = _place(other_city, "杏林社区门口的路灯坏了好几天了，晚上很黑")
    assert (place.district_code, place.street_code) == ("QH01", "QH01S01")
    assert _place(other_city, "杏林小区3栋楼下垃圾没人清运").street_code == "QH01S01"  # an alias of the place
    assert _place(other_city, "桂香公园的健身器材坏了").street_code == "QH01S02"
    # the demo city's places are not this city's
    assert _place(other_city, "人民公园和平里社区门口的路灯坏了") is None


def test_the_kb_tokenizer_keeps_the_citys_places_whole(other_city):
    from hotline.kb.index import tokenizer

    with other_city.app_context():
        assert "杏林社区" in tokenizer().tokens("杏林社区附近哪里能办社保卡")


def test_an_added_place_is_seen_after_the_version_bump(other_city):
    from hotline.dispatch import places

    assert _place(other_city, "青石巷口的井盖丢了") is None
    with other_city.app_context():
        places.load([{"unit": "QH01S02", "kind": "road", "name": "青石巷", "aliases": []}])
        db.session.commit()  # bump_version() after the commit: every process rebuilds its gazetteer
    assert _place(other_city, "青石巷口的井盖丢了").street_code == "QH01S02"


def test_retired_demo_places_are_not_found(app):
    """The demo instance: its places locate a case; retired, they locate nothing (only the units' own names
    remain), and loading the demo's list again brings them back."""
    from hotline.dispatch import places
    from hotline.models import Place
    from hotline.seed import city

    text = "人民公园和平里社区门口的路灯坏了"
    assert _place(app, text).street_code == "D01S01"
    with app.app_context():
        try:
            report = places.load([], replace=True, allow_empty=True)
            db.session.commit()
            assert report.retired == len(city.PLACES)
            assert _place(app, text) is None
            assert _place(app, "和平街道办事处门口").street_code == "D01S01"  # the unit's own name
        finally:
            places.load(city.PLACES)
            db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Place).where(Place.active)) == len(city.PLACES)
    assert _place(app, text).street_code == "D01S01"


def test_a_bad_place_list_loads_nothing(app):
    from hotline.dispatch import places

    with pytest.raises(places.PlaceListError) as err:
        places.read_csv("unit,kind,name\nD01,river,青龙河\nD01,road,X\n")
    assert [line for line, _ in err.value.errors] == [2, 3]
    with app.app_context(), pytest.raises(places.PlaceListError):
        places.load([{"unit": "NOPE", "kind": "road", "name": "无名路", "aliases": []}])


def test_a_demo_database_from_before_the_places_table_gets_its_places(app, other_city):
    """`make run` on a demo database upgraded from before the places table (units there, places empty) loads
    the demo's places; another city's database, or a demo with places, is left alone."""
    from hotline.models import Place
    from hotline.seed.loader import demo_city_without_places, seed_places

    with other_city.app_context():
        assert not demo_city_without_places()
    with app.app_context():
        assert not demo_city_without_places()
        saved = db.session.execute(sa.select(Place.__table__)).mappings().all()
        try:
            db.session.execute(sa.delete(Place))
            assert demo_city_without_places()
            assert seed_places() == len(saved)
            assert not demo_city_without_places()
        finally:
            db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Place)) == len(saved)


def test_place_list_errors_name_each_row_in_chinese(app):
    from hotline.dispatch import places

    text = "unit,kind,name,aliases\nD01S01,road,青龙路,\nD01S01,road,青龙路,青龙大道\nNOPE,landmark,无名塔,\n"
    with pytest.raises(places.PlaceListError) as err:
        places.read_csv(text)
    assert err.value.errors == [(3, "与第 2 行重复（单位 D01S01、名称 青龙路）")]
    rows = places.read_csv(text.replace("D01S01,road,青龙路,青龙大道\n", ""))
    with app.app_context(), pytest.raises(places.PlaceListError) as err:
        places.load(rows)
    assert err.value.errors == [(3, "未知的单位代码 NOPE")]
    with app.app_context(), pytest.raises(places.PlaceListError, match="地名表为空"):
        places.load([], replace=True)


def test_places_import_reads_an_excel_gbk_csv_and_reports_bad_rows(app, tmp_path):
    from hotline.models import Place

    good = tmp_path / "good.csv"
    good.write_bytes("unit,kind,name,aliases\nD01S01,landmark,青龙塔测试点,青龙塔\n".encode("gb18030"))
    bad = tmp_path / "bad.csv"
    bad.write_text("unit,kind,name\nD01S01,river,青龙河\n", encoding="utf-8")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["places", "import", str(bad)])
    assert result.exit_code != 0
    assert "第 2 行：类型（kind）应为" in result.output and "未导入任何地名" in result.output
    result = runner.invoke(args=["places", "import", str(good)])
    assert result.exit_code == 0, result.output
    assert "新增 1" in result.output
    with app.app_context():
        place = db.session.scalar(sa.select(Place).where(Place.name == "青龙塔测试点"))
        assert place.aliases == ["青龙塔"]
        db.session.delete(place)
        db.session.commit()
