"""Gazetteer: district / street from addresses and texts of the demo city (exact, fuzzy, patterns)."""

from __future__ import annotations

import pytest

from hotline.seed.city import AREAS, DEPARTMENTS
from routing.gazetteer import Gazetteer, homophones


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return Gazetteer(AREAS, {d["code"]: d["name"] for d in DEPARTMENTS}, {d["code"]: d["parent"] for d in DEPARTMENTS})


# (address or text, expected district, expected street)
ADDRESSES = [
    # district names and short forms
    ("东城区", "D01", None),
    ("东城", "D01", None),
    ("西城区政府对面", "D02", None),
    ("高新区管委会", "D03", None),
    ("滨江区", "D04", None),
    ("北湖区万达广场", "D05", None),
    ("临川县", "D06", None),
    ("临川县汽车站旁边", "D06", None),
    # full-width and spaces
    ("东城区 人民路 ３号", "D01", None),
    ("ＸＸ市西城区中山路１８号", "D02", None),
    # streets by name, street office short forms
    ("和平街道办事处", "D01", "D01S01"),
    ("和平街办", "D01", "D01S01"),
    ("科技城街道", "D03", "D03S02"),
    ("长宁镇", "D04", "D04S04"),
    ("白云乡政府", "D06", "D06S04"),
    ("临川县城关镇南门街", "D06", "D06S01"),
    ("北湖区柳林镇柳林村3组", "D05", "D05S04"),
    # "XX路XX号" patterns
    ("和平路28号", "D01", "D01S01"),
    ("东城区朝阳路88号3单元", "D01", "D01S03"),
    ("金城路100号", "D02", "D02S02"),
    ("望江路5号附近", "D04", "D04S02"),
    ("莲花路12号", "D05", "D05S02"),
    ("创新路66号人才公寓", "D03", "D03S01"),
    ("建设北路1号", "D01", "D01S04"),
    ("高新区科技大道100号", "D03", None),
    ("人民路12号", "D01", None),
    # "XX小区 / 社区 / 花园 / 新村"
    ("光明小区3栋2单元", "D02", "D02S03"),
    ("幸福小区5栋", "D01", None),
    ("锦绣花园7栋", "D01", "D01S04"),
    ("金城花园小区", "D02", "D02S02"),
    ("朝阳新村12栋", "D01", "D01S03"),
    ("湖西新村", "D05", "D05S03"),
    ("北湖二村", "D05", "D05S01"),
    ("长安街道长安里社区", "D02", "D02S04"),
    # landmarks
    ("市第一人民医院门口", "D01", None),
    ("火车站广场", "D02", None),
    ("湖西农贸市场门口", "D05", "D05S03"),
    ("江滨公园", "D04", "D04S01"),
    ("桃花岛景区售票处", "D06", "D06S05"),
    ("青山水库下游", "D06", "D06S02"),
    ("新华书店门口", "D02", "D02S05"),
    # typos / homophones and abbreviations (fuzzy)
    ("东成区", "D01", None),
    ("西程区政府", "D02", None),
    ("锦秀花园", "D01", "D01S04"),
    ("东华门小区", "D01", "D01S02"),
    ("和平里", "D01", "D01S01"),
    ("龙湾湿地", "D03", "D03S03"),
    ("桃花岛", "D06", "D06S05"),
    # street implies district even when another district's landmark is in the text
    ("滨江区望江楼旁", "D04", "D04S02"),
    # within a case text
    ("我家住在莲花小区，楼下饭店油烟很大", "D05", "D05S02"),
    ("北湖区柳林工业园区的工厂晚上偷排污水", "D05", "D05S04"),
]


def test_at_least_forty_forms():
    assert len(ADDRESSES) >= 40


@pytest.mark.parametrize(("text", "district", "street"), ADDRESSES)
def test_locate(gaz, text, district, street):
    place = gaz.locate(text)
    assert place is not None, text
    assert (place.district_code, place.street_code) == (district, street)
    assert 0.0 < place.score <= 1.0


@pytest.mark.parametrize(
    "text",
    [
        "",
        None,
        "路灯坏了",
        "老城区的路灯坏了",
        "建设南路",
        "中山北路",
        "光明新路",
        "公司拖欠工资",
        "A7县某镇",
        "G市城区",
    ],
)
def test_no_place(gaz, text):
    assert gaz.locate(text) is None


def test_exact_beats_fuzzy_and_scores(gaz):
    exact = gaz.locate("东城区")
    fuzzy = gaz.locate("东成区")
    assert exact.method == "exact" and exact.score == 1.0
    assert fuzzy.method == "fuzzy" and fuzzy.score < exact.score
    assert fuzzy.alias == "东城区" and fuzzy.mention == "东成区"


def test_explicit_district_restricts_streets(gaz):
    # 和平路 belongs to 东城区/和平街道; with 西城区 named explicitly we keep the district only
    place = gaz.locate("西城区和平路")
    assert (place.district_code, place.street_code) == ("D02", None)


def test_longest_alias_wins(gaz):
    # 北湖街道 (street D05S01) contains 北湖 (district alias)
    place = gaz.locate("北湖街道")
    assert place.street_code == "D05S01" and place.alias == "北湖街道"


def test_homophones():
    assert homophones("东成区", "东城区")
    assert not homophones("老城区", "东城区")
    assert not homophones("东城", "东城区")


def test_only_gazetteer_codes_are_places():
    g = Gazetteer(
        {"X1": ["甲区"], "X1S1": ["乙街道", "丙路"]},
        {"X1": "甲区", "X1S1": "乙街道", "C": "市"},
        {"X1": "C", "X1S1": "X1"},
    )
    assert g.streets == {"X1S1"}
    place = g.locate("丙路3号")
    assert (place.district_code, place.street_code) == ("X1", "X1S1")
    assert g.district_of("X1S1") == "X1" and g.district_of("X1") == "X1"
