"""Fine-grained routing (routing/fine.py) on the demo city's own tables: the category map (level-3 overrides such
as the utilities), the shipped lexicon, the gazetteer for 属地 matters; with and without a level-1 model."""

from __future__ import annotations

import csv

import pytest

from hotline.dispatch.lexicon import shipped
from hotline.seed.city import AREAS, CATEGORY3_DEPARTMENTS, CATEGORY_DEPARTMENTS, DEPARTMENTS, LEVEL1_DEPARTMENTS
from hotline.seed.loader import TAXONOMY
from routing.engine import NO_MODEL_NOTE, mapping_from_seed, suggest
from routing.fine import FineRouter
from routing.gazetteer import Gazetteer


def _categories() -> dict[str, tuple[str | None, bool]]:
    out = {}
    with TAXONOMY.open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            names = [row["level1"], row["level2"], row["level3"]]
            for level in range(1, 4):
                path = "/".join(names[:level])
                owner = CATEGORY3_DEPARTMENTS.get(path) or CATEGORY_DEPARTMENTS.get("/".join(names[:2]))
                if level == 1 or owner is None:
                    owner = {"department": LEVEL1_DEPARTMENTS[names[0]], "local": False}
                out[path] = (owner["department"], bool(owner["local"]))
    return out


CATEGORIES = _categories()
MAPPING = mapping_from_seed(LEVEL1_DEPARTMENTS, CATEGORY_DEPARTMENTS)


@pytest.fixture(scope="module")
def fine() -> FineRouter:
    return FineRouter(CATEGORIES, shipped())


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return Gazetteer(AREAS, {d["code"]: d["name"] for d in DEPARTMENTS}, {d["code"]: d["parent"] for d in DEPARTMENTS})


def top(fine, gaz, text, **kw):
    return suggest(text, None, mapping=MAPPING, gazetteer=gaz, fine=fine, **kw)


@pytest.mark.parametrize(
    ("text", "unit", "path"),
    [
        ("停水两天了", "ZLS", "城乡建设/城市建设和市政管理/自来水供应"),
        ("家门口水管爆了", "ZLS", "城乡建设/城市建设和市政管理/自来水供应"),
        ("晚上突然停电", "GDGS", "城乡建设/城市建设和市政管理/电力供应"),
        ("暖气不热", "RLJT", "城乡建设/城市建设和市政管理/冬季采暖"),
        ("燃气卡充不进去", "RQJT", "城乡建设/城市建设和市政管理/燃气供应"),
        ("想提取公积金", "GJJ", None),
        ("公交司机开车打电话", "GJJT", "城乡建设/城市建设和市政管理/公共汽车"),
        ("饭馆用地沟油", "SCJ", "卫生计生/食品药品监管/食品安全"),
    ],
)
def test_everyday_words_reach_the_unit_of_the_leaf(fine, gaz, text, unit, path):
    s = top(fine, gaz, text)
    first = s.suggestions[0]
    assert first["department_code"] == unit
    if path:
        assert first["path"] == path
    assert first["category"] == first["path"].split("/")[0]
    assert "匹配词" in first["why"]
    assert s.model_used is False and s.auto is False and NO_MODEL_NOTE in s.note


def test_community_name_goes_to_its_street_office(fine, gaz):
    s = top(fine, gaz, "和平里社区楼下的垃圾好几天没人清运")
    first = s.suggestions[0]
    assert first["department_code"] == "D01S01"  # 和平里社区 → 和平街道, 环境卫生 is 属地
    assert "属地" in first["why"] and "和平里社区" in first["why"]
    # the category's own unit is offered next, and the place's own name is no 社区 matter
    assert s.suggestions[1]["department_code"] == "CGJ"
    assert all(x["department_code"] != "MZJ" for x in s.suggestions)


def test_without_a_place_a_local_category_goes_to_its_unit(fine, gaz):
    assert top(fine, gaz, "路边的垃圾好几天没人清运").suggestions[0]["department_code"] == "CGJ"


def test_scores_ordered_and_modest_without_a_model(fine, gaz):
    s = top(fine, gaz, "小区物业不管，楼道里的垃圾堆了好几天，路灯也不亮")
    scores = [x["score"] for x in s.suggestions]
    assert scores == sorted(scores, reverse=True) and all(0 < x <= 0.6 for x in scores)
    assert len({x["department_code"] for x in s.suggestions}) == len(s.suggestions)


def test_admin_words_are_data(gaz):
    text = "小区里的共享充电宝押金退不了"
    plain = FineRouter(CATEGORIES, shipped())
    assert all(x["department_code"] != "SCJ" for x in top(plain, gaz, text).suggestions[:1])
    edited = FineRouter(CATEGORIES, {**shipped(), "商贸旅游/市场监管/商品质量": ["共享充电宝"]})
    first = top(edited, gaz, text).suggestions[0]
    assert first["department_code"] == "SCJ" and "共享充电宝" in first["why"]


def test_kb_entries_carry_their_own_unit(gaz):
    kb = [("城乡建设/住房保障与房地产", "GJJ", ["商贷转公积金"])]
    first = top(FineRouter(CATEGORIES, {}, kb), gaz, "我想办理商贷转公积金").suggestions[0]
    assert first["department_code"] == "GJJ" and first["path"] == "城乡建设/住房保障与房地产"


def test_emergency_and_rules_still_decide(fine, gaz):
    from routing.rules import Rule

    s = top(fine, gaz, "楼道里着火了，浓烟很大")
    assert s.emergency == "119" and s.auto is False
    rule = Rule(id=7, priority=1, keyword="停水", regex=None, category=None, area=None, department_code="D01")
    s = top(fine, gaz, "停水两天了", rules=[rule])
    assert s.rule_id == 7 and s.suggestions[0]["department_code"] == "D01"
    assert "ZLS" in [x["department_code"] for x in s.suggestions[1:]]


class _Level1Model:
    """A level-1 model stand-in with fixed probabilities (the real classifier is tested in test_routing_engine)."""

    def __init__(self, proba: dict[str, float]):
        self.proba, self.classes = proba, list(proba)

    def predict_top(self, text, k=3):
        return sorted(self.proba.items(), key=lambda kv: -kv[1])[:k]


def test_model_level1_blends_with_the_lexicon(fine, gaz):
    model = _Level1Model({"城乡建设": 0.9, "环境保护": 0.1})
    s = top(fine, gaz, "停水两天了", model=model, threshold=0.5)
    assert s.model_used and s.suggestions[0]["department_code"] == "ZLS" and s.auto is True
    assert "分类模型" in s.suggestions[0]["why"]
    # a level-1 class of the model without any matched word stands for its level-1 unit
    assert ("环境保护", "SHJ") in {(x["category"], x["department_code"]) for x in s.suggestions}
    # the model outweighs a weak lexicon hit of another level-1 category
    model = _Level1Model({"劳动和社会保障": 0.97, "商贸旅游": 0.03})
    s = top(fine, gaz, "单位的电梯", model=model, threshold=0.5)
    assert s.suggestions[0]["category"] == "劳动和社会保障"
    assert s.suggestions[1]["department_code"] == "SCJ"  # 电梯 → 特种设备, still offered
    # a level-1 category the model never learned: a near-certain model keeps its level-1, the words' unit is
    # still offered in the last place when the model's third class is next to impossible
    text = "派出所民警办户口态度很差，身份证也补办不了"
    model = _Level1Model({"劳动和社会保障": 0.985, "商贸旅游": 0.011, "城乡建设": 0.004})
    s = top(fine, gaz, text, model=model, threshold=0.5)
    assert [x["category"] for x in s.suggestions[:2]] == ["劳动和社会保障", "商贸旅游"]
    assert s.suggestions[2]["department_code"] == "GAJ"
    # below near-certainty the model cannot judge a category it never learned: strong words for it go first,
    # never auto-dispatched, followed by the model's own first two
    model = _Level1Model({"劳动和社会保障": 0.97, "商贸旅游": 0.026, "城乡建设": 0.004})
    s = top(fine, gaz, text, model=model, threshold=0.5)
    assert s.suggestions[0]["department_code"] == "GAJ" and s.auto is False and "未学习过" in s.note
    assert [x["category"] for x in s.suggestions[1:]] == ["劳动和社会保障", "商贸旅游"]
    # … but not on one short word, and not for a category the model did learn (there its confidence counts)
    assert top(fine, gaz, "户口", model=model, threshold=0.5).suggestions[0]["category"] == "劳动和社会保障"
    learned = _Level1Model({"劳动和社会保障": 0.97, "城乡建设": 0.03})
    s = top(fine, gaz, "停水两天了，水管爆了", model=learned, threshold=0.5)
    assert [x["category"] for x in s.suggestions] == ["劳动和社会保障", "城乡建设"]
    assert s.suggestions[1]["department_code"] == "ZLS"
    # an unsure model lets strong, one-sided words decide: never auto-dispatched
    model = _Level1Model({"劳动和社会保障": 0.45, "商贸旅游": 0.35, "城乡建设": 0.2})
    s = top(fine, gaz, text, model=model, threshold=0.5)
    assert s.suggestions[0]["department_code"] == "GAJ" and s.auto is False and "未学习过" in s.note
    assert [x["category"] for x in s.suggestions[1:]] == ["劳动和社会保障", "商贸旅游"]
    assert [x["score"] for x in s.suggestions] == sorted((x["score"] for x in s.suggestions), reverse=True)
    # one short word is not enough against an unsure model
    assert top(fine, gaz, "户口").suggestions[0]["category"] == "政法"  # the words alone
    assert top(fine, gaz, "户口", model=model, threshold=0.5).suggestions[0]["category"] == "劳动和社会保障"


def test_model_level1_decides_and_the_words_pick_the_unit_within_it(fine, gaz):
    # 燃气 words under the model's 城乡建设: the gas utility, not the level-1 default unit
    model = _Level1Model({"城乡建设": 0.95, "环境保护": 0.04, "交通运输": 0.01})
    s = top(fine, gaz, "燃气卡充不进去，家里没法做饭", model=model, threshold=0.8)
    assert (s.suggestions[0]["category"], s.suggestions[0]["department_code"]) == ("城乡建设", "RQJT")
    assert s.suggestions[0]["score"] == 0.95 and s.auto is True
    assert [x["category"] for x in s.suggestions] == ["城乡建设", "环境保护", "交通运输"]
