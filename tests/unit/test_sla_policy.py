"""Table tests for hotline.sla.clock's policy side: elapsed fraction and cards, limits, the default policy
and its overrides, category limits. Same calendar and office hours as test_sla_calendar.py."""

from datetime import timedelta

import pytest

from hotline.sla import clock as sla
from tests.unit.sla_support import ch, sh, wd, wh

Limit, WorkCalendar = sla.Limit, sla.WorkCalendar


# --- elapsed fraction and cards -------------------------------------------------------------

P_MORNING = [(sh(2026, 3, 9, 10, 30), sh(2026, 3, 9, 11, 30))]


@pytest.mark.parametrize(
    ("start", "due", "now", "limit", "pauses", "fraction"),
    [
        (sh(2026, 3, 9, 10), sh(2026, 3, 9, 12), sh(2026, 3, 9, 11, 36), ch(2), (), 0.8),
        (sh(2026, 3, 9, 10), sh(2026, 3, 9, 12), sh(2026, 3, 9, 9), ch(2), (), 0.0),
        (sh(2026, 3, 9, 10), sh(2026, 3, 9, 12), sh(2026, 3, 9, 13), ch(2), (), 1.5),
        (sh(2026, 3, 9, 10), sh(2026, 3, 9, 13), sh(2026, 3, 9, 12), ch(2), P_MORNING, 0.5),
        (sh(2026, 3, 6, 17), sh(2026, 3, 9, 17), sh(2026, 3, 9, 10), wd(1), (), 120 / 540),
        (sh(2026, 3, 6, 17), sh(2026, 3, 9, 17), sh(2026, 3, 8, 23), wd(1), (), 60 / 540),  # weekend: frozen
        (sh(2026, 3, 6, 17), sh(2026, 3, 9, 17), sh(2026, 3, 9, 17), wd(1), (), 1.0),
        (sh(2026, 3, 6, 17), sh(2026, 3, 9, 17), sh(2026, 3, 10, 9), wd(1), (), 600 / 540),
        (sh(2026, 3, 9, 10), sh(2026, 3, 9, 14), sh(2026, 3, 9, 12), wh(3), P_MORNING, 1 / 3),
        (sh(2026, 3, 9, 10), sh(2026, 3, 10, 10), sh(2026, 3, 9, 17), wd(1), (), 420 / 540),  # yellow soon
    ],
)
def test_elapsed_fraction(start, due, now, limit, pauses, fraction):
    assert sla.elapsed_fraction(start, due, now, limit, WorkCalendar(), pauses) == pytest.approx(fraction)


def test_elapsed_fraction_with_open_pause():
    cal, start, now = WorkCalendar(), sh(2026, 3, 6, 20), sh(2026, 3, 9, 12)
    pauses = [(sh(2026, 3, 9, 10), None)]
    due = sla.deadline(start, wd(1), cal, pauses, now=now)
    assert due == sh(2026, 3, 10, 11)  # Mon 9-10 counted, paused 10-12, 12-18 + Tue 9-11
    assert sla.elapsed_fraction(start, due, now, wd(1), cal, pauses) == pytest.approx(60 / 540)


def test_elapsed_fraction_is_one_exactly_at_deadline():
    cal, start = WorkCalendar(), sh(2026, 2, 13, 16, 7)
    pauses = [(sh(2026, 2, 14, 11), sh(2026, 2, 24, 10, 13))]
    due = sla.deadline(start, wd(2), cal, pauses)
    assert due == sh(2026, 2, 25, 15, 20)  # Fri 113 + Sat 120 min, paused, Tue 467 + Wed 380 = 1080
    assert sla.elapsed_fraction(start, due, due, wd(2), cal, pauses) == 1.0
    assert sla.card_level(sla.elapsed_fraction(start, due, due - timedelta(minutes=1), wd(2), cal, pauses)) == "yellow"


@pytest.mark.parametrize(
    ("fraction", "card"),
    [(0.0, None), (0.79, None), (0.8, "yellow"), (0.99, "yellow"), (1.0, "red"), (1.5, "red")],
)
def test_card_level(fraction, card):
    assert sla.card_level(fraction) == card


# --- limits and policy ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "unit"),
    [
        (1, "weeks"),
        (0, "work_days"),
        (-1, "clock_hours"),
        (float("nan"), "work_hours"),
        ("2", "work_days"),
        (True, "work_days"),
        (float("inf"), "natural_days"),
    ],
)
def test_limit_validation(amount, unit):
    with pytest.raises(ValueError, match=r"unit|amount"):
        Limit(amount, unit)


def test_default_policy_complete():
    assert set(sla.DEFAULT_POLICY) == {(m, t) for m in sla.MILESTONES for t in sla.TIERS}


@pytest.mark.parametrize(
    ("milestone", "urgency", "kind", "complex_", "expected"),
    [
        ("sign", "emergency", "complaint", False, ch(0.5)),
        ("sign", "urgent", "help", False, ch(2)),
        ("sign", "normal", "complaint", False, wd(1)),
        ("sign", "normal", "complaint", True, wd(1)),
        ("contact", "emergency", "help", False, ch(2)),
        ("contact", "urgent", "help", False, ch(4)),
        ("contact", "normal", "help", False, wd(1)),
        ("contact", "normal", "help", True, wd(2)),
        ("reply", "emergency", "help", True, ch(24)),  # urgency beats complex
        ("reply", "urgent", "consult", False, ch(24)),  # kind override only for the normal tier
        ("reply", "normal", "complaint", False, wd(7)),
        ("reply", "low", "complaint", False, wd(7)),  # unknown urgency -> normal
        ("reply", "normal", "complaint", True, wd(15)),
        ("reply", "normal", "consult", False, wd(3)),
        ("reply", "normal", "suggestion", False, wd(15)),
        ("reply", "normal", "consult", True, wd(15)),
        ("sign", "normal", "consult", False, wd(1)),  # kind override only for reply
    ],
)
def test_limit_for(milestone, urgency, kind, complex_, expected):
    assert sla.limit_for(milestone, urgency, kind, complex_) == expected


def test_limit_for_policy_overrides():
    policy = {("reply", "normal"): wd(5), ("sign", "emergency"): ch(0.25), ("reply", "consult"): wd(2)}
    assert sla.limit_for("reply", "normal", "complaint", policy=policy) == wd(5)
    assert sla.limit_for("reply", "normal", "consult", policy=policy) == wd(2)
    assert sla.limit_for("reply", "normal", "suggestion", policy=policy) == wd(15)
    assert sla.limit_for("sign", "emergency", "help", policy=policy) == ch(0.25)
    assert sla.limit_for("contact", "urgent", "help", policy=policy) == ch(4)
    with pytest.raises(ValueError, match="milestone"):
        sla.limit_for("close", "normal", "help")


@pytest.mark.parametrize(
    ("urgency", "kind", "complex_", "expected"),
    [
        (
            "normal",
            "complaint",
            False,
            {"sign": sh(2026, 3, 9, 18), "contact": sh(2026, 3, 9, 18), "reply": sh(2026, 3, 17, 18)},
        ),
        (
            "normal",
            "consult",
            False,
            {"sign": sh(2026, 3, 9, 18), "contact": sh(2026, 3, 9, 18), "reply": sh(2026, 3, 11, 18)},
        ),
        (
            "normal",
            "complaint",
            True,
            {"sign": sh(2026, 3, 9, 18), "contact": sh(2026, 3, 10, 18), "reply": sh(2026, 3, 27, 18)},
        ),
        (
            "emergency",
            "help",
            False,
            {"sign": sh(2026, 3, 6, 20, 30), "contact": sh(2026, 3, 6, 22), "reply": sh(2026, 3, 7, 20)},
        ),
        (
            "urgent",
            "help",
            False,
            {"sign": sh(2026, 3, 6, 22), "contact": sh(2026, 3, 7, 0), "reply": sh(2026, 3, 7, 20)},
        ),
    ],
)
def test_deadlines_for_friday_evening(urgency, kind, complex_, expected):
    got = sla.deadlines_for(sh(2026, 3, 6, 20), urgency, kind, WorkCalendar(), complex_)
    assert got == expected


# --- category limits ------------------------------------------------------------------------

CATEGORY_POLICY = {
    ("reply", "category:城乡建设"): wd(10),
    ("reply", "category:城乡建设/物业管理"): wd(5),
    ("sign", "category:环境保护"): wh(4),
    ("reply", "consult"): wd(2),
}


@pytest.mark.parametrize(
    ("milestone", "urgency", "kind", "complex_", "category", "expected"),
    [
        ("reply", "normal", "complaint", False, "城乡建设/物业管理/物业服务", wd(5)),  # longest prefix wins
        ("reply", "normal", "complaint", False, "城乡建设/房屋安全", wd(10)),
        ("reply", "normal", "complaint", False, "城乡建设", wd(10)),
        ("reply", "normal", "consult", False, "城乡建设/物业管理", wd(5)),  # category beats kind
        ("reply", "normal", "consult", False, "交通运输/道路", wd(2)),  # no category key: kind
        ("reply", "normal", "complaint", False, "交通运输", wd(7)),  # nothing: tier
        ("reply", "normal", "complaint", False, None, wd(7)),
        ("reply", "normal", "complaint", False, "城乡", wd(7)),  # a prefix of a name is not a path prefix
        ("reply", "urgent", "complaint", False, "城乡建设/物业管理", ch(24)),  # urgency tiers ignore categories
        ("reply", "normal", "complaint", True, "城乡建设/物业管理", wd(15)),  # complex tier too
        ("sign", "normal", "complaint", False, "环境保护/大气污染", wh(4)),
        ("contact", "normal", "complaint", False, "环境保护/大气污染", wd(1)),  # only the milestone given
    ],
)
def test_limit_for_category(milestone, urgency, kind, complex_, category, expected):
    assert sla.limit_for(milestone, urgency, kind, complex_, CATEGORY_POLICY, category) == expected


def test_category_keys():
    assert sla.category_keys("a/b/c") == ["category:a/b/c", "category:a/b", "category:a"]
    assert sla.category_keys(None) == [] and sla.category_keys("") == []


def test_deadlines_for_with_category():
    got = sla.deadlines_for(
        sh(2026, 3, 9, 10),
        "normal",
        "complaint",
        WorkCalendar(),
        policy=CATEGORY_POLICY,
        category="城乡建设/物业管理/物业服务",
    )
    assert got["reply"] == sh(2026, 3, 16, 10)  # 5 working days
    assert got["sign"] == sh(2026, 3, 10, 10)
