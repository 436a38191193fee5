"""Consistency checks for the demo city's seed data (hotline/seed)."""

import csv
from collections import Counter
from pathlib import Path

import pytest

from hotline.seed import city

ROOT = Path(__file__).resolve().parents[2]
SEED_TAXONOMY = ROOT / "hotline" / "seed" / "taxonomy.csv"
SHARED_TAXONOMY = ROOT.parent / "shared" / "data" / "taxonomy.csv"

LEVEL1_NAMES = [
    "城乡建设",
    "环境保护",
    "交通运输",
    "教育文体",
    "劳动和社会保障",
    "商贸旅游",
    "卫生计生",
    "党务政务",
    "农村农业",
    "国土资源",
    "政法",
    "民政",
    "科技与信息产业",
    "纪检监察",
    "经济管理",
]
ROLES = {"agent", "dispatcher", "monitor", "supervisor", "department_handler", "department_admin", "admin", "auditor"}
ROLES |= {"integration"}  # the data-sharing platform's account (issue 21)
KINDS = {"city", "district", "street", "department", "utility"}


def _rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def taxonomy() -> list[dict]:
    return _rows(SEED_TAXONOMY)


@pytest.fixture(scope="module")
def by_code() -> dict[str, dict]:
    return {d["code"]: d for d in city.DEPARTMENTS}


def test_taxonomy_shape(taxonomy):
    assert [*taxonomy[0]] == ["level1", "level2", "level3"]
    assert len(taxonomy) == 517
    assert sorted({r["level1"] for r in taxonomy}) == sorted(LEVEL1_NAMES)
    assert len({r["level2"] for r in taxonomy}) == 103
    assert all(r["level1"] and r["level2"] and r["level3"] for r in taxonomy)


@pytest.mark.skipif(not SHARED_TAXONOMY.exists(), reason="shared data not available")
def test_taxonomy_is_exact_copy_of_shared_file():
    assert SEED_TAXONOMY.read_bytes() == SHARED_TAXONOMY.read_bytes()
    shared_l1 = {r["level1"] for r in _rows(SHARED_TAXONOMY)}
    assert shared_l1 == set(LEVEL1_NAMES)


def test_department_codes_unique_and_well_formed():
    codes = [d["code"] for d in city.DEPARTMENTS]
    dupes = [c for c, n in Counter(codes).items() if n > 1]
    assert not dupes
    for d in city.DEPARTMENTS:
        assert set(d) == {"code", "name", "kind", "parent"}
        assert d["code"].isascii() and d["code"] == d["code"].upper() and d["code"].isalnum()
        assert d["name"]
        assert d["kind"] in KINDS
    names = [d["name"] for d in city.DEPARTMENTS]
    assert len(names) == len(set(names))


def test_city_is_root(by_code):
    assert city.CITY["code"] == "C" and city.CITY["name"] == "示范市"
    roots = [d for d in city.DEPARTMENTS if d["parent"] is None]
    assert roots == [by_code["C"]]
    assert by_code["C"]["kind"] == "city"


def test_every_parent_exists(by_code):
    for d in city.DEPARTMENTS:
        if d["parent"] is not None:
            assert d["parent"] in by_code, d


def test_districts_and_streets(by_code):
    districts = [d for d in city.DEPARTMENTS if d["kind"] == "district"]
    assert [d["code"] for d in districts] == [f"D{i:02d}" for i in range(1, 7)]
    assert all(d["parent"] == "C" for d in districts)
    assert any(d["name"].endswith("县") for d in districts)
    streets = [d for d in city.DEPARTMENTS if d["kind"] == "street"]
    for s in streets:
        assert by_code[s["parent"]]["kind"] == "district", s
        assert s["code"].startswith(s["parent"] + "S")
        assert s["name"].endswith(("街道", "镇", "乡"))
    per_district = Counter(s["parent"] for s in streets)
    for d in districts:
        assert 3 <= per_district[d["code"]] <= 5, d


def test_city_departments_and_utilities(by_code):
    units = [d for d in city.DEPARTMENTS if d["kind"] in ("department", "utility")]
    assert len(units) >= 28
    assert all(d["parent"] == "C" for d in units)
    for code in ("ZJJ", "SHJ", "JTJ", "JYJ", "RSJ", "SWJ", "WJW", "GAJ", "SCJ"):
        assert by_code[code]["kind"] == "department"
    assert sum(1 for d in units if d["kind"] == "utility") >= 4


def test_every_level2_category_is_mapped(taxonomy, by_code):
    keys = {f"{r['level1']}/{r['level2']}" for r in taxonomy}
    assert set(city.CATEGORY_DEPARTMENTS) == keys
    for key, m in city.CATEGORY_DEPARTMENTS.items():
        assert set(m) == {"department", "local"}, key
        assert isinstance(m["local"], bool), key
        assert m["department"] in by_code, key
        assert by_code[m["department"]]["kind"] in ("department", "utility"), key


def test_level3_overrides_and_out_of_scope(taxonomy, by_code):
    paths = {f"{r['level1']}/{r['level2']}" for r in taxonomy}
    paths |= {f"{r['level1']}/{r['level2']}/{r['level3']}" for r in taxonomy}
    for key, m in city.CATEGORY3_DEPARTMENTS.items():
        assert key.count("/") == 2 and key in paths, key
        assert m["department"] in by_code and isinstance(m["local"], bool), key
    for key in city.OUT_OF_SCOPE_CATEGORIES:
        assert key in paths, key


def test_level1_fallbacks(by_code):
    assert set(city.LEVEL1_DEPARTMENTS) == set(LEVEL1_NAMES)
    assert all(code in by_code for code in city.LEVEL1_DEPARTMENTS.values())


def test_users(by_code):
    usernames = [u["username"] for u in city.USERS]
    assert len(usernames) == len(set(usernames))
    assert {u["role"] for u in city.USERS} >= ROLES
    admin = next(u for u in city.USERS if u["username"] == "admin")
    assert admin["role"] == "admin" and admin["department"] is None
    for u in city.USERS:
        assert set(u) == {"username", "name", "role", "department"}
        assert u["role"] in ROLES and u["name"]
        if u["role"].startswith("department_"):
            assert u["department"] in by_code, u
        else:
            assert u["department"] is None, u
    dept_users = {(u["role"], u["department"]) for u in city.USERS}
    for code in ("ZJJ", "SHJ", "RSJ", "JTJ", "D01", "D01S01"):
        assert ("department_handler", code) in dept_users
        assert ("department_admin", code) in dept_users
    assert isinstance(city.DEMO_PASSWORD, str) and len(city.DEMO_PASSWORD) >= 8


def test_areas_gazetteer(by_code):
    areas = {d["code"] for d in city.DEPARTMENTS if d["kind"] in ("district", "street")}
    assert set(city.AREAS) == areas
    seen: dict[str, str] = {}
    for code, aliases in city.AREAS.items():
        low, high = (5, 10) if by_code[code]["kind"] == "district" else (2, 4)
        assert low <= len(aliases) <= high, code
        assert by_code[code]["name"] in aliases, code
        for alias in aliases:
            assert alias and alias not in seen, (alias, code, seen.get(alias))
            seen[alias] = code


def test_places_data_file(by_code):
    """data/places.csv: the demo city's gazetteer, loaded into the places table by the seed."""
    assert len(city.PLACES) >= 80
    keys = [(p["unit"], p["name"]) for p in city.PLACES]
    assert len(keys) == len(set(keys))
    for p in city.PLACES:
        assert set(p) == {"unit", "kind", "name", "aliases"}, p
        assert p["kind"] in {"alias", "road", "community", "landmark"}, p
        assert by_code[p["unit"]]["kind"] in ("district", "street"), p
        assert p["name"] != by_code[p["unit"]]["name"] and isinstance(p["aliases"], list), p


def test_seed_modules_are_small_and_read_their_data_files():
    from hotline.seed import kb_articles, kb_items

    for path in (ROOT / "hotline" / "seed").glob("*.py"):
        assert len(path.read_text(encoding="utf-8").splitlines()) <= 400, path
    assert len(kb_items.GROUPS) == 23 and sum(len(g[4]) for g in kb_items.GROUPS) == 99
    assert all(len(item) == 7 for g in kb_items.GROUPS for item in g[4])
    assert len(kb_articles.ARTICLES) == 60 and set(kb_articles.SERVICE_HALLS) == {f"D{i:02d}" for i in range(1, 7)}
