"""Engine: rules override the model, auto only above the threshold, 属地 resolution, no-model mode."""

from __future__ import annotations

import pytest

from hotline.seed.city import AREAS, CATEGORY_DEPARTMENTS, DEPARTMENTS, LEVEL1_DEPARTMENTS
from routing.classifier import Model, train
from routing.engine import NO_MODEL_NOTE, mapping_from_seed, resolve_department, suggest
from routing.gazetteer import Gazetteer, Place
from routing.rules import Rule
from tests.unit.test_routing_classifier import LABELS, TEXTS

MAPPING = mapping_from_seed(LEVEL1_DEPARTMENTS, CATEGORY_DEPARTMENTS)
UNITS = {d["code"] for d in DEPARTMENTS}


@pytest.fixture(scope="module")
def model() -> Model:
    return train(TEXTS, LABELS)


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return Gazetteer(AREAS, {d["code"]: d["name"] for d in DEPARTMENTS}, {d["code"]: d["parent"] for d in DEPARTMENTS})


def run(text, address=None, **kw):
    kw.setdefault("mapping", MAPPING)
    kw.setdefault("gazetteer", None)
    kw.setdefault("threshold", 0.5)
    return suggest(text, address, **kw)


def test_mapping_from_seed():
    assert MAPPING["城乡建设"] == ("ZJJ", True)  # most level-2 categories are 属地
    assert MAPPING["劳动和社会保障"] == ("RSJ", False)
    assert MAPPING["环境保护"] == ("SHJ", False)
    assert set(MAPPING) == set(LEVEL1_DEPARTMENTS)
    assert {unit for unit, _ in MAPPING.values()} <= UNITS


def test_resolve_department():
    street, district = Place("D01", "D01S01", "和平路", 1.0), Place("D02", None, "西城区", 1.0)
    assert resolve_department("城乡建设", MAPPING, street) == "D01S01"
    assert resolve_department("城乡建设", MAPPING, district) == "D02"
    assert resolve_department("城乡建设", MAPPING, None) == "ZJJ"
    assert resolve_department("劳动和社会保障", MAPPING, street) == "RSJ"
    assert resolve_department("城乡建设", {"城乡建设": {"department": "ZJJ", "local": False}}, street) == "ZJJ"
    assert resolve_department("未知", MAPPING, district) == "D02"


def test_suggest_shape_and_top3(model):
    s = run("公司拖欠工资半年不发", model=model)
    assert s.model_used and len(s.suggestions) == 3
    assert s.suggestions[0]["category"] == "劳动和社会保障"
    assert s.suggestions[0]["department_code"] == "RSJ"
    scores = [x["score"] for x in s.suggestions]
    assert scores == sorted(scores, reverse=True)
    body = s.to_dict()
    assert set(body) >= {"suggestions", "auto", "emergency"}
    assert set(body["suggestions"][0]) == {"category", "department_code", "score"}


def test_auto_only_above_threshold(model):
    text = "公司拖欠工资半年不发"
    top = model.predict_top(text, k=1)[0][1]
    assert run(text, model=model, threshold=top - 0.01).auto is True
    assert run(text, model=model, threshold=top).auto is True  # ≥ threshold
    below = run(text, model=model, threshold=min(1.0, top + 0.01))
    assert below.auto is False and "低于自动派单阈值" in below.note


def test_local_category_goes_to_the_street(model, gaz):
    s = run("小区物业不作为，楼道垃圾没人清理", "东城区和平路28号", model=model, gazetteer=gaz)
    assert s.suggestions[0]["category"] == "城乡建设"
    assert s.suggestions[0]["department_code"] == "D01S01"
    assert s.place.street_code == "D01S01"
    s = run("小区物业不作为，楼道垃圾没人清理", "西城区", model=model, gazetteer=gaz)
    assert s.suggestions[0]["department_code"] == "D02"
    s = run("公司拖欠工资", "和平路28号", model=model, gazetteer=gaz)  # city-wide matter
    assert s.suggestions[0]["department_code"] == "RSJ"


def test_place_from_text_when_no_address(model, gaz):
    s = run("莲花小区物业不作为", model=model, gazetteer=gaz)
    assert s.place.street_code == "D05S02"


def test_rule_overrides_the_model(model, gaz):
    text = "公司拖欠工资半年不发"
    assert run(text, model=model).suggestions[0]["department_code"] == "RSJ"
    rules = [
        Rule(1, 1, "工资", None, None, None, "GJJ", "测试：低优先级"),
        Rule(2, 10, "拖欠", None, None, None, "D03", "高新区欠薪专班"),
    ]
    s = run(text, model=model, rules=rules, threshold=0.99)
    assert s.rule_id == 2
    assert s.suggestions[0] == {"category": "劳动和社会保障", "department_code": "D03", "score": 1.0}
    assert len(s.suggestions) == 3 and len({x["category"] for x in s.suggestions}) == 3
    assert s.auto is True and "高新区欠薪专班" in s.note


def test_rule_with_category_and_area(model, gaz):
    rule = Rule("r-water", 5, "停水", None, "城乡建设", "D01", "ZLS", "")
    s = run("停水两天了，自来水公司没有通知", "和平路3号", model=model, gazetteer=gaz, rules=[rule])
    assert s.rule_id == "r-water" and s.suggestions[0]["department_code"] == "ZLS"
    s = run("停水两天了，自来水公司没有通知", "西城区", model=model, gazetteer=gaz, rules=[rule])
    assert s.rule_id is None


def test_emergency_is_flagged_and_not_auto(model):
    s = run("救命，楼下着火了", model=model, threshold=0.0)
    assert s.emergency == "119" and s.auto is False and "119" in s.note


def test_out_of_scope_is_not_dispatched(model):
    s = run("公司拖欠工资，我已经申请劳动仲裁了", model=model, threshold=0.0)
    assert s.out_of_scope["reason"] == "仲裁" and "仲裁委员会" in s.out_of_scope["answer"]
    assert s.auto is False


def test_no_model_mode(gaz):
    s = run("小区物业乱收费，电梯坏了", "和平路28号", model=None, gazetteer=gaz, threshold=0.0)
    assert s.model_used is False and s.auto is False
    assert NO_MODEL_NOTE in s.note
    assert s.suggestions[0]["category"] == "城乡建设"
    assert s.suggestions[0]["department_code"] == "D01S01"
    assert all(x["score"] <= 0.6 for x in s.suggestions)


def test_no_model_rules_still_apply():
    rules = [Rule(1, 1, "电梯", None, None, None, "SCJ", "特种设备")]
    s = run("电梯困住了吗？电梯年检过期", model=None, rules=rules)
    assert s.rule_id == 1 and s.suggestions[0]["department_code"] == "SCJ" and s.auto is False


def test_no_model_nothing_matched():
    s = run("你好", model=None)
    assert s.suggestions == [] and s.auto is False and "人工选择" in s.note


def test_category_unknown_to_the_model_is_not_auto_dispatched(model):
    s = run("派出所民警办户口态度很差", model=model, threshold=0.0)
    assert s.suggestions[-1]["category"] == "政法" and s.suggestions[-1]["department_code"] == "GAJ"
    assert s.suggestions[0] == run("派出所民警办户口态度很差", model=model, threshold=0.0, k=1).suggestions[0]
    assert s.auto is False and "未学习过「政法」" in s.note
    assert len(s.suggestions) == 3
    assert [x["score"] for x in s.suggestions] == sorted((x["score"] for x in s.suggestions), reverse=True)
    assert run("公司拖欠工资半年不发", model=model, threshold=0.0).auto is True
