"""The case state machine (docs/domain.md): states, the transition table and the one function that moves a case."""

from __future__ import annotations

from enum import StrEnum

from hotline.cases.errors import DomainError


class CaseState(StrEnum):
    REGISTERED = "registered"
    DISPATCHED = "dispatched"
    HANDLING = "handling"
    RETURNED = "returned"
    REPLIED = "replied"
    REOPENED = "reopened"
    CLOSED = "closed"
    MERGED = "merged"


STATE_LABELS = {
    CaseState.REGISTERED: "已登记",
    CaseState.DISPATCHED: "已派单",
    CaseState.HANDLING: "办理中",
    CaseState.RETURNED: "已退回",
    CaseState.REPLIED: "已答复",
    CaseState.REOPENED: "重办",
    CaseState.CLOSED: "已办结",
    CaseState.MERGED: "已并单",
}


class AssignmentState(StrEnum):
    """A unit's task on a case (Assignment.status): pending → signed → replied, or returned / cancelled /
    delegated (handed on to a street, 二次派单)."""

    PENDING = "pending"
    SIGNED = "signed"
    REPLIED = "replied"
    RETURNED = "returned"
    CANCELLED = "cancelled"
    DELEGATED = "delegated"


OPEN_STATES = frozenset(s for s in CaseState if s not in (CaseState.CLOSED, CaseState.MERGED))

S = CaseState
# (from, action) -> to. An action not listed for a state is refused.
TRANSITIONS: dict[tuple[CaseState, str], CaseState] = {
    (S.REGISTERED, "answer"): S.CLOSED,
    (S.REGISTERED, "close"): S.CLOSED,
    (S.REGISTERED, "dispatch"): S.DISPATCHED,
    (S.DISPATCHED, "sign"): S.HANDLING,
    (S.DISPATCHED, "return"): S.RETURNED,
    (S.HANDLING, "return"): S.RETURNED,
    (S.HANDLING, "reply"): S.REPLIED,
    (S.RETURNED, "redispatch"): S.DISPATCHED,
    (S.RETURNED, "reject_return"): S.DISPATCHED,
    (S.REPLIED, "close"): S.CLOSED,
    (S.REPLIED, "reopen"): S.REOPENED,
    (S.REOPENED, "dispatch"): S.DISPATCHED,
    # a district hands its case on to one of its streets (二次派单): the street must sign again
    (S.DISPATCHED, "subdispatch"): S.DISPATCHED,
    (S.HANDLING, "subdispatch"): S.DISPATCHED,
    # an emergency transferred to 110/119/120/122 is closed on the hotline's side (recorded on the case)
    (S.REGISTERED, "transfer"): S.CLOSED,
    (S.REOPENED, "transfer"): S.CLOSED,
    **{(s, "merge"): S.MERGED for s in OPEN_STATES},
}

ACTION_LABELS = {
    "create": "登记",
    "attachment": "上传附件",  # hotline/evidence (issue 18)
    "attachment_shared": "共享附件",
    "publish": "公开",
    "unpublish": "取消公开",
    "answer": "直接办结",
    "close": "办结",
    "dispatch": "派单",
    "sign": "签收",
    "contact": "首次联系市民",
    "return": "退回",
    "redispatch": "改派",
    "reject_return": "驳回退回",
    "reply": "答复",
    "reopen": "重办",
    "merge": "并单",
    "merged_in": "并入工单",
    "assist": "协办派单",
    "subdispatch": "二次派单",
    "transfer": "转紧急热线",
    "reclassify": "更正分类",
    "cancel_duplicate": "撤销重复任务",  # data repair of migration 6b2d1f3a8c42
    # time-limit supervision (hotline/sla/supervision.py, sweeper.py)
    "pause": "暂停计时",
    "resume": "恢复计时",
    "extension": "申请延期",
    "extension_request": "申请延期",
    "extension_decision": "延期审批",
    "supervise": "催办督办",
    "supervise_ack": "确认督办",
    "yellow_card": "黄牌预警",
    "red_card": "红牌超时",
    "escalate": "超时升级",
    # 好差评 and the 差评 loop (hotline/ratings)
    "rating_invite": "评价邀请",
    "reply_notice": "答复告知",
    "rate": "市民评价",
    "rating_poor": "差评转核实",
    "rating_verify": "差评核实",
    "rectify": "整改反馈",
    "rectify_revisit": "整改回访",
    "rating_explain": "解释说明",
    "rating_appeal": "差评申诉",
    "rating_appeal_decision": "申诉复核",
}


def state_label(state: str) -> str:
    """The zh-CN name of a state ("dispatched" -> "已派单"); unknown values are returned as they are."""
    return STATE_LABELS.get(CaseState(state), state) if state in CaseState._value2member_map_ else state


class InvalidTransition(DomainError):
    """Refused state change (HTTP 422); ``message`` is shown to the user (zh-CN)."""

    status, code = 422, "invalid_transition"

    def __init__(self, state: str, action: str):
        self.state, self.action = state, action
        super().__init__(
            message=f"工单当前状态为「{state_label(state)}」，不能执行「{ACTION_LABELS.get(action, action)}」操作"
        )


def next_state(state: str, action: str) -> CaseState:
    try:
        return TRANSITIONS[(CaseState(state), action)]
    except (KeyError, ValueError):
        raise InvalidTransition(state, action) from None


def transition(case, action: str) -> tuple[str, str]:
    """Move ``case`` by ``action``; returns (from, to). Raises InvalidTransition."""
    before = case.status
    after = next_state(before, action)
    case.status = after.value
    return before, after.value


def allowed_actions(state: str) -> list[str]:
    return [action for (s, action) in TRANSITIONS if s == state]
