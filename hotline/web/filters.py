"""Jinja filters and globals for the staff pages: local time, SLA remaining time, zh-CN labels.

Registered once on the app by the console blueprint (``init_blueprint``); every page blueprint uses them.
``now`` is a template global (one per render) that a view may override by passing ``now=`` explicitly.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app

from hotline.cases.workflow import ACTION_LABELS, STATE_LABELS, AssignmentState, CaseState
from hotline.models.cases import CHANNELS, KINDS, RESULTS, URGENCIES

ASSIGNMENT_STATUS = {
    AssignmentState.PENDING: "待签收",
    AssignmentState.SIGNED: "办理中",
    AssignmentState.REPLIED: "已答复",
    AssignmentState.RETURNED: "已退回",
    AssignmentState.CANCELLED: "已取消",
    AssignmentState.DELEGATED: "已二次派单",
}
ASSIGNMENT_ROLES = {"lead": "主办", "assist": "协办"}
# Actions written by operations but missing from workflow.ACTION_LABELS.
EXTRA_ACTION_LABELS = {"merged_in": "重复件并入"}
WARN_SHARE = 0.2  # yellow when less than 20% of the limit is left


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["HOTLINE"].timezone)


def local_dt(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A UTC datetime shown in the city's time zone (Asia/Shanghai by default)."""
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(_zone()).strftime(fmt)


def duration(delta: timedelta) -> str:
    """2天3小时 / 5小时12分 / 8分钟 (sign ignored)."""
    minutes = int(abs(delta).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}天{hours}小时" if hours else f"{days}天"
    if hours:
        return f"{hours}小时{mins}分" if mins else f"{hours}小时"
    return f"{mins}分钟"


def remaining(deadline: datetime | None, now: datetime) -> str:
    if deadline is None:
        return "—"
    delta = deadline - now
    return f"剩余 {duration(delta)}" if delta.total_seconds() >= 0 else f"已超时 {duration(delta)}"


def sla_level(deadline: datetime | None, start: datetime | None, now: datetime) -> str:
    """ "overdue" (red), "warn" (yellow: under 20% of the limit left) or "ok"; "" without a deadline."""
    if deadline is None:
        return ""
    if now > deadline:
        return "overdue"
    if start is not None and deadline > start:
        left = (deadline - now) / (deadline - start)
        if left < WARN_SHARE:
            return "warn"
    return "ok"


def state_label(status: str | None) -> str:
    if not status:
        return "—"
    try:
        return STATE_LABELS[CaseState(status)]
    except ValueError:
        return status


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action) or EXTRA_ACTION_LABELS.get(action, action)


FILTERS = {
    "local_dt": local_dt,
    "remaining": remaining,
    "state_label": state_label,
    "action_label": action_label,
    "kind_label": lambda v: KINDS.get(v, v),
    "channel_label": lambda v: CHANNELS.get(v, v),
    "urgency_label": lambda v: URGENCIES.get(v, v),
    "assignment_status": lambda v: ASSIGNMENT_STATUS.get(v, v),
    "assignment_role": lambda v: ASSIGNMENT_ROLES.get(v, v),
    "result_label": lambda v: RESULTS.get(v, v or "—"),
}


def init_blueprint(bp: Blueprint) -> None:
    """Install the filters and globals on the app when ``bp`` is registered."""

    def install(state) -> None:
        env = state.app.jinja_env
        env.filters.update(FILTERS)
        env.globals.update(sla_level=sla_level)
        state.app.context_processor(lambda: {"now": datetime.now(UTC)})

    bp.record_once(install)
