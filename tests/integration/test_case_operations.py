"""The case operations (hotline/cases/operations.py) called directly, without HTTP: each state change goes
through the workflow and writes exactly one timeline event; an illegal one is refused and changes nothing."""

from __future__ import annotations

from itertools import pairwise

import pytest

from hotline.cases import operations as ops
from hotline.cases.errors import NotAllowed, RuleRefused
from hotline.cases.workflow import InvalidTransition
from tests.factories import PATH, STATUSES, department, user


def steps(case) -> list[tuple]:
    return [(e.action, e.from_status, e.to_status) for e in case.events]


def assert_chained(case):
    """Every event starts where the one before it ended, and the last ends at the case's status."""
    trail = [e for e in case.events if e.to_status is not None]
    for before, after in pairwise(trail):
        assert after.from_status == before.to_status, steps(case)
    assert trail[-1].to_status == case.status, steps(case)


@pytest.fixture()
def ctx(app):
    with app.app_context():
        yield


@pytest.mark.parametrize("status", STATUSES)
def test_make_case_reaches_each_state_through_the_workflow(ctx, make_case, status):
    case = make_case(status)
    assert case.status == status and case.events[0].action == "create"
    assert_chained(case)
    path = ["create", "dispatch", "sign", "reply", "close"]
    expected = ["create", "dispatch", "return"] if status == "returned" else path[: PATH.index(status) + 1]
    assert [a for a, _, _ in steps(case) if a != "rating_invite"] == expected


def test_make_case_outside_an_app_context_gives_a_readable_case(make_case, make_user, api):
    handler = make_user(role="department_handler", unit="CGJ")
    case = make_case("dispatched", unit="CGJ", urgency="urgent", channel="web", content="人行道上的共享单车堆成山")
    assert case.number and case.status == "dispatched" and case.urgency == "urgent"
    body = api(handler.username).get(f"/cases/{case.number}").get_json()
    assert body["status"] == "dispatched" and body["department_code"] == "CGJ" and body["channel"] == "web"


def test_the_whole_path_writes_one_event_per_step(ctx, make_case, clock):
    case = make_case()
    handler = user("handler_zjj")
    assert steps(case) == [("create", None, "registered")] and case.routing_pending

    assignment = ops.dispatch(case, department("ZJJ"), user("dispatcher1"), clock.advance(minutes=1))
    assert case.status == "dispatched" and case.lead_department.code == "ZJJ"
    assert (assignment.role, assignment.status) == ("lead", "pending")
    assert assignment.deadline_sign and assignment.deadline_reply and case.deadline_reply == assignment.deadline_reply

    ops.sign(case, handler, clock.advance(minutes=5))
    assert case.status == "handling" and assignment.status == "signed" and assignment.signed_at == clock()
    ops.contact(case, handler, "已电话联系市民，约定明天上门", clock.advance(hours=1))
    assert case.status == "handling" and assignment.contacted_at == clock()
    ops.reply(case, handler, "已责令餐馆安装油烟净化器。", "resolved", clock.advance(days=1))
    assert case.status == "replied" and assignment.reply_result == "resolved"
    ops.close(case, user("agent1"), "回访满意", clock.advance(hours=2))
    assert case.status == "closed" and case.closed_at == clock()

    assert steps(case) == [
        ("create", None, "registered"),
        ("dispatch", "registered", "dispatched"),
        ("sign", "dispatched", "handling"),
        ("contact", "handling", "handling"),
        ("reply", "handling", "replied"),
        ("rating_invite", "replied", "replied"),  # 好差评: the reply and a rating link go to the citizen
        ("close", "replied", "closed"),
    ]
    by = {
        e.action: (e.actor.username if e.actor else None, e.department.code if e.department else None)
        for e in case.events
    }
    assert by["dispatch"] == ("dispatcher1", "ZJJ") and by["sign"] == by["reply"] == ("handler_zjj", "ZJJ")
    assert by["close"] == ("agent1", None)


def test_return_then_redispatch_to_another_unit(ctx, make_case, clock):
    case = make_case("returned", unit="SHJ")
    assert steps(case)[-1] == ("return", "dispatched", "returned")
    returned = case.assignments[-1]
    assert returned.status == "returned" and returned.return_reason

    ops.decide_return(case, user("dispatcher1"), True, department("RSJ"), "改派人社局", clock())
    assert case.status == "dispatched" and case.lead_department.code == "RSJ"
    assert steps(case)[-1] == ("redispatch", "returned", "dispatched")
    assert case.events[-1].data["from_department"] == "SHJ"
    ops.sign(case, user("handler_rsj"), clock())
    assert case.status == "handling"
    with pytest.raises(RuleRefused) as refused:  # the unit that returned it holds no task on it any more
        ops.sign(case, user("handler_shj"), clock())
    assert refused.value.code == "no_assignment"


def test_rejected_return_goes_back_to_the_same_unit(ctx, make_case, clock):
    case = make_case("returned", unit="SHJ")
    ops.decide_return(case, user("dispatcher1"), False, None, "属于贵单位职责", clock())
    assert case.status == "dispatched" and case.lead_department.code == "SHJ"
    assert steps(case)[-1] == ("reject_return", "returned", "dispatched")
    assert case.events[-1].data == {"improper_return": True} and case.assignments[-1].status == "pending"
    with pytest.raises(RuleRefused) as refused:  # accepting needs the unit it goes to
        ops.decide_return(make_case("returned"), user("dispatcher1"), True, None, "", clock())
    assert refused.value.code == "department_required"


def test_a_district_assists_only_once_the_lead_is_out(ctx, make_case, clock):
    case = make_case()
    with pytest.raises(RuleRefused) as refused:
        ops.dispatch(case, department("D01"), user("dispatcher1"), clock(), role="assist")
    assert refused.value.code == "invalid_transition" and case.status == "registered"
    case = make_case("handling")
    ops.dispatch(case, department("D01"), user("dispatcher1"), clock(), role="assist")
    assert case.status == "handling" and steps(case)[-1] == ("assist", "handling", "handling")
    with pytest.raises(RuleRefused) as refused:
        ops.dispatch(case, department("D01"), user("dispatcher1"), clock(), role="assist")
    assert refused.value.code == "already_assigned"


def _close(case, now):
    ops.close(case, user("agent1"), "回访满意", now)


def _answer(case, now):
    ops.answer(case, user("agent1"), "已按知识库答复市民。", None, now)


def _dispatch(case, now):
    ops.dispatch(case, department("RSJ"), user("dispatcher1"), now)


ILLEGAL = [  # (state, operation): the workflow has no such transition from that state
    ("returned", _close),
    ("dispatched", _close),
    ("handling", _close),
    ("closed", _close),
    ("replied", _answer),
    ("dispatched", _answer),
    ("closed", _dispatch),
    ("handling", _dispatch),
    ("replied", _dispatch),
]


@pytest.mark.parametrize(("state", "operation"), ILLEGAL, ids=[f"{o.__name__[1:]}-{s}" for s, o in ILLEGAL])
def test_illegal_transition_is_refused_and_writes_nothing(ctx, make_case, clock, state, operation):
    case = make_case(state)
    before = steps(case)
    with pytest.raises(InvalidTransition) as refused:
        operation(case, clock())
    assert refused.value.code == "invalid_transition" and "工单当前状态为" in refused.value.message
    assert case.status == state and steps(case) == before


def test_unit_operations_refuse_the_wrong_actor_or_order(ctx, make_case, make_user, clock):
    case = make_case("dispatched", unit="ZJJ")
    with pytest.raises(NotAllowed):  # a centre user has no unit
        ops.sign(case, user("dispatcher1"), clock())
    with pytest.raises(RuleRefused) as refused:  # another unit holds no task on it
        ops.sign(case, user("handler_shj"), clock())
    assert refused.value.code == "no_assignment"
    with pytest.raises(RuleRefused) as refused:  # answering before signing
        ops.reply(case, user("handler_zjj"), "已处理。", "resolved", clock())
    assert refused.value.code == "not_signed"
    colleague = make_user(role="department_handler", unit="ZJJ")  # any handler of the unit may sign
    ops.sign(case, colleague, clock())
    with pytest.raises(RuleRefused) as refused:
        ops.sign(case, user("handler_zjj"), clock())
    assert refused.value.code == "already_signed"
    ops.contact(case, user("handler_zjj"), "已联系", clock())
    with pytest.raises(RuleRefused) as refused:
        ops.contact(case, user("handler_zjj"), "又联系", clock())
    assert refused.value.code == "already_contacted"
    assert [a for a, _, _ in steps(case)] == ["create", "dispatch", "sign", "contact"]


def test_merge_ends_the_duplicate_and_notes_it_on_both(ctx, make_case, clock):
    master, dup = make_case(), make_case("dispatched")
    ops.merge(dup, master, user("dispatcher1"), clock())
    assert dup.status == "merged" and dup.merged_into_id == master.id
    assert all(a.status == "cancelled" for a in dup.assignments)
    assert steps(dup)[-1] == ("merge", "dispatched", "merged")
    assert steps(master)[-1] == ("merged_in", "registered", "registered")
    with pytest.raises(RuleRefused) as refused:
        ops.merge(master, master, user("dispatcher1"), clock())
    assert refused.value.code == "merge_self"
    with pytest.raises(RuleRefused) as refused:
        ops.merge(make_case(), dup, user("dispatcher1"), clock())
    assert refused.value.code == "master_closed"
