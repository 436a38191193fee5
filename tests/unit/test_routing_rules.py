"""Override rules: construction checks (zh-CN messages) and matching by keyword/regex/category/area/priority."""

from __future__ import annotations

import pytest

from routing.gazetteer import Place
from routing.rules import Rule, RuleError, apply


def rule(id_, priority=0, keyword=None, regex=None, category=None, area=None, unit="ZJJ", note=""):
    return Rule(id_, priority, keyword, regex, category, area, unit, note)


D01S01 = Place("D01", "D01S01", "和平路", 1.0)
D02 = Place("D02", None, "西城区", 1.0)


def test_invalid_regex_rejected_with_chinese_message():
    with pytest.raises(RuleError, match="正则表达式无效"):
        rule(1, regex="([未闭合")


def test_rule_needs_a_condition_and_a_unit():
    with pytest.raises(RuleError, match="至少要设置"):
        rule(1)
    with pytest.raises(RuleError, match="承办单位"):
        rule(1, keyword="停水", unit=" ")


def test_from_dict():
    r = Rule.from_dict({"id": 7, "priority": "5", "keyword": "停水", "department_code": "ZLS", "regex": ""})
    assert (r.id, r.priority, r.keyword, r.regex, r.department_code) == (7, 5, "停水", None, "ZLS")
    with pytest.raises(RuleError, match="缺少字段"):
        Rule.from_dict({"id": 1, "keyword": "x"})
    with pytest.raises(RuleError, match="整数"):
        Rule.from_dict({"id": 1, "priority": "高", "keyword": "x", "department_code": "A"})


def test_keyword_alternatives_and_full_width():
    r = rule(1, keyword="停水|水压低，没水", unit="ZLS")
    assert apply([r], "我家没水了") is r
    assert apply([r], "小区停水三天") is r
    assert apply([r], "ＸＸ小区停水") is r
    assert apply([r], "停电了") is None


def test_regex_condition():
    r = rule(1, regex=r"\d+路公交", unit="GJJT")
    assert apply([r], "12路公交车不停站") is r
    assert apply([r], "公交太少") is None


def test_all_set_conditions_must_hold():
    r = rule(1, keyword="噪音", category="环境保护", area="D01", unit="D01")
    assert apply([r], "广场舞噪音", "环境保护", D01S01) is r  # district rule covers its streets
    assert apply([r], "广场舞噪音", "城乡建设", D01S01) is None
    assert apply([r], "广场舞噪音", "环境保护", D02) is None
    assert apply([r], "广场舞噪音", "环境保护", None) is None


def test_street_rule():
    r = rule(1, area="D01S01", unit="D01S01")
    assert apply([r], "任何事情", None, D01S01) is r
    assert apply([r], "任何事情", None, Place("D01", None, "东城区", 1.0)) is None


def test_highest_priority_wins_then_smallest_id():
    low = rule(1, priority=1, keyword="电梯", unit="SCJ")
    high = rule(2, priority=9, keyword="电梯", unit="ZJJ")
    tie = rule(3, priority=9, keyword="电梯", unit="CGJ")
    assert apply([low, high, tie], "电梯坏了") is high
    assert apply([tie, low], "电梯坏了") is tie
    assert apply([], "电梯坏了") is None


# (a|aa)+$ backtracks exponentially on a run of "a" that does not end the text: on re it takes ~2^(n/1.4)
# steps, on the regex package it runs out of the time limit
CATASTROPHIC = r"(a|aa)+$"


def test_a_regex_that_runs_out_of_time_does_not_match_and_is_reported():
    slow = rule(1, priority=9, regex=CATASTROPHIC, unit="SCJ")
    fine = rule(2, priority=1, keyword="aaa", unit="ZJJ")
    skipped: list = []
    assert apply([slow, fine], "a" * 60 + "!", skipped=skipped) is fine
    assert skipped == [1]
    skipped.clear()
    assert apply([slow, fine], "aaaa", skipped=skipped) is slow and skipped == []  # a quick match still counts


def test_check_speed_refuses_a_catastrophic_regex_and_passes_ordinary_ones():
    from routing.rules import check_speed

    with pytest.raises(RuleError, match="正则表达式匹配过慢"):
        check_speed(rule(1, regex=CATASTROPHIC))
    with pytest.raises(RuleError, match="过慢"):  # built from the pattern's own characters, not only "a"
        check_speed(rule(2, regex=r"(噪|噪噪)+$"))
    for slow in (r"(x+x+)+y", r"(\w+\s?)+$"):
        with pytest.raises(RuleError, match="过慢"):
            check_speed(rule(3, regex=slow))
    for ordinary in (r"\d+路公交", r"(噪音|扰民).*(夜间|凌晨)", r"^[\u4e00-\u9fa5]{2,8}小区", r"[0-9]+号楼\s*\d*单元"):
        check_speed(rule(3, regex=ordinary))
    check_speed(rule(4, keyword="噪音"))  # no regex: nothing to check


def test_the_engine_notes_a_skipped_rule():
    from routing.engine import suggest

    s = suggest("a" * 60 + "!", model=None, mapping={}, gazetteer=None, rules=[rule(5, regex=CATASTROPHIC, unit="SCJ")])
    assert s.rule_id is None and "规则 5 的正则表达式匹配超时" in s.note
