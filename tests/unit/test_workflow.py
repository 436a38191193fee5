"""The case state machine (docs/domain.md): every listed transition, refused ones, and the zh-CN messages."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from hotline.cases.workflow import (
    ACTION_LABELS,
    OPEN_STATES,
    STATE_LABELS,
    TRANSITIONS,
    CaseState,
    InvalidTransition,
    allowed_actions,
    next_state,
    state_label,
    transition,
)

OPEN = ["registered", "dispatched", "handling", "returned", "replied", "reopened"]

# Written from docs/domain.md, independently of the table in workflow.py.
EXPECTED = {
    ("registered", "answer"): "closed",  # 直接办结
    ("registered", "close"): "closed",
    ("registered", "dispatch"): "dispatched",
    ("dispatched", "sign"): "handling",
    ("dispatched", "return"): "returned",
    ("handling", "return"): "returned",
    ("handling", "reply"): "replied",
    ("returned", "redispatch"): "dispatched",
    ("returned", "reject_return"): "dispatched",
    ("replied", "close"): "closed",
    ("replied", "reopen"): "reopened",
    ("reopened", "dispatch"): "dispatched",  # 重办
    ("dispatched", "subdispatch"): "dispatched",  # 二次派单: a district hands it on to its street
    ("handling", "subdispatch"): "dispatched",
    ("registered", "transfer"): "closed",  # emergency transferred to 110/119/120/122
    ("reopened", "transfer"): "closed",
    **{(state, "merge"): "merged" for state in OPEN},
}

ACTIONS = sorted({action for _, action in EXPECTED} | {"contact", "assist", "fly", ""})
STATES = [s.value for s in CaseState]
REFUSED = [(s, a) for s in STATES for a in ACTIONS if (s, a) not in EXPECTED]


def case(status: str):
    return SimpleNamespace(status=status)


def test_table_is_exactly_the_documented_one():
    assert {(s.value, a): t.value for (s, a), t in TRANSITIONS.items()} == EXPECTED


@pytest.mark.parametrize(("state", "action"), list(EXPECTED), ids=[f"{s}-{a}" for s, a in EXPECTED])
def test_listed_transition(state, action):
    assert next_state(state, action) == EXPECTED[(state, action)]
    c = case(state)
    assert transition(c, action) == (state, EXPECTED[(state, action)])
    assert c.status == EXPECTED[(state, action)]
    assert isinstance(c.status, str) and type(c.status) is str  # stored as a plain string


@pytest.mark.parametrize(("state", "action"), REFUSED, ids=[f"{s}-{a or 'empty'}" for s, a in REFUSED])
def test_refused_transition_leaves_the_case_alone(state, action):
    c = case(state)
    with pytest.raises(InvalidTransition) as info:
        transition(c, action)
    assert c.status == state
    assert info.value.state == state and info.value.action == action
    assert f"「{STATE_LABELS[CaseState(state)]}」" in info.value.message


@pytest.mark.parametrize(
    ("state", "action", "message"),
    [
        ("dispatched", "close", "工单当前状态为「已派单」，不能执行「办结」操作"),
        ("registered", "sign", "工单当前状态为「已登记」，不能执行「签收」操作"),
        ("closed", "dispatch", "工单当前状态为「已办结」，不能执行「派单」操作"),
        ("merged", "merge", "工单当前状态为「已并单」，不能执行「并单」操作"),
        ("handling", "answer", "工单当前状态为「办理中」，不能执行「直接办结」操作"),
        ("replied", "return", "工单当前状态为「已答复」，不能执行「退回」操作"),
        ("dispatched", "redispatch", "工单当前状态为「已派单」，不能执行「改派」操作"),
        ("dispatched", "reject_return", "工单当前状态为「已派单」，不能执行「驳回退回」操作"),
        ("returned", "reply", "工单当前状态为「已退回」，不能执行「答复」操作"),
        ("reopened", "close", "工单当前状态为「重办」，不能执行「办结」操作"),
        ("bogus", "close", "工单当前状态为「bogus」，不能执行「办结」操作"),
        ("closed", "fly", "工单当前状态为「已办结」，不能执行「fly」操作"),
    ],
)
def test_refusal_message(state, action, message):
    with pytest.raises(InvalidTransition) as info:
        next_state(state, action)
    assert info.value.message == message
    assert str(info.value) == message


@pytest.mark.parametrize("state", ["bogus", "", "CLOSED", "Registered", " registered", "closed' OR '1'='1"])
def test_unknown_state_is_refused_not_a_crash(state):
    with pytest.raises(InvalidTransition) as info:
        transition(case(state), "close")
    assert info.value.state == state


def test_closed_and_merged_are_final():
    for final in ("closed", "merged"):
        assert allowed_actions(final) == []
        assert CaseState(final) not in OPEN_STATES


def test_open_states():
    assert {s.value for s in OPEN_STATES} == set(OPEN)


@pytest.mark.parametrize("state", OPEN)
def test_merge_from_every_open_state(state):
    assert "merge" in allowed_actions(state)


@pytest.mark.parametrize(
    ("state", "actions"),
    [
        ("registered", {"answer", "close", "dispatch", "merge", "transfer"}),
        ("dispatched", {"sign", "return", "merge", "subdispatch"}),
        ("handling", {"return", "reply", "merge", "subdispatch"}),
        ("returned", {"redispatch", "reject_return", "merge"}),
        ("replied", {"close", "reopen", "merge"}),
        ("reopened", {"dispatch", "merge", "transfer"}),
        ("closed", set()),
        ("merged", set()),
        ("bogus", set()),
    ],
)
def test_allowed_actions(state, actions):
    assert set(allowed_actions(state)) == actions


def test_every_state_is_reachable_from_registered():
    seen, todo = {"registered"}, ["registered"]
    while todo:
        state = todo.pop()
        for action in allowed_actions(state):
            target = next_state(state, action).value
            if target not in seen:
                seen.add(target)
                todo.append(target)
    assert seen == set(STATES)


def test_labels():
    cjk = re.compile(r"^[\u4e00-\u9fff]+$")
    assert set(STATE_LABELS) == set(CaseState)
    assert all(cjk.match(label) for label in STATE_LABELS.values())
    assert len(set(STATE_LABELS.values())) == len(STATE_LABELS)
    assert {a for _, a in TRANSITIONS} <= set(ACTION_LABELS)
    assert all(cjk.match(label) for label in ACTION_LABELS.values())
    assert all(len(s.value) <= 16 for s in CaseState)  # cases.status is VARCHAR(16)


@pytest.mark.parametrize(
    ("state", "label"),
    [
        ("registered", "已登记"),
        ("dispatched", "已派单"),
        ("handling", "办理中"),
        ("returned", "已退回"),
        ("replied", "已答复"),
        ("reopened", "重办"),
        ("closed", "已办结"),
        ("merged", "已并单"),
        ("bogus", "bogus"),
    ],
)
def test_state_label(state, label):
    assert state_label(state) == label
