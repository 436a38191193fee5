"""What a citizen sees of a case: the state in plain Chinese, a timeline without internal steps, the reply.

Shared by the web status page and the WeChat "查询" answer. Internal events (SLA cards, supervision,
extension paperwork, returns between units) are left out; nobody's name or phone is shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from hotline.cases.workflow import AssignmentState, CaseState, state_label
from hotline.extensions import db
from hotline.models import Case, CaseEvent

CITIZEN_STATE = {  # state -> (label for the citizen, what it means)
    CaseState.REGISTERED: ("已受理", "您的诉求已登记，正在确定办理单位。"),
    CaseState.DISPATCHED: ("已转办", "已转交办理单位，等待单位接收。"),
    CaseState.HANDLING: ("办理中", "办理单位正在处理您的诉求。"),
    CaseState.RETURNED: ("办理中", "正在重新确定办理单位，请耐心等待。"),
    CaseState.REPLIED: ("已答复", "办理单位已答复，请查看答复内容。"),
    CaseState.REOPENED: ("重新办理", "您的诉求正在重新办理。"),
    CaseState.CLOSED: ("已办结", "您的诉求已办结，感谢您的支持。"),
    CaseState.MERGED: ("合并办理", "您的诉求已与相同诉求合并办理。"),
}


def _dept(event: CaseEvent) -> str:
    return event.department.name if event.department is not None else "办理单位"


CHANNEL_WORDS = {"web": "网站", "wechat": "微信", "phone": "电话", "sms": "短信", "app": "App", "walk_in": "来访"}
PLAIN = {  # action -> sentence; actions not listed are internal and not shown
    "create": lambda e: f"您的诉求已登记（{CHANNEL_WORDS.get(e.data.get('channel'), '热线')}受理）",
    "dispatch": lambda e: f"已转交{_dept(e)}办理",
    "redispatch": lambda e: f"已改由{_dept(e)}办理",
    "assist": lambda e: f"已请{_dept(e)}协助办理",
    "sign": lambda e: f"{_dept(e)}已接收，正在办理",
    "contact": lambda e: f"{_dept(e)}已与您联系",
    "reply": lambda e: f"{_dept(e)}已答复" if e.data.get("role", "lead") == "lead" else f"{_dept(e)}已提交协办意见",
    "answer": lambda e: "已直接答复并办结",
    "close": lambda e: "已办结",
    "reopen": lambda e: "已重新办理",
    "merge": lambda e: "已与相同诉求合并办理",
}


@dataclass
class CitizenStatus:
    number: str
    state: str
    label: str
    meaning: str
    kind_label: str
    created_at: str
    timeline: list[tuple[str, str]] = field(default_factory=list)
    reply: str | None = None
    reply_department: str | None = None
    merged_into: str | None = None


def _local(moment: datetime, tz: str) -> str:
    return moment.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def citizen_status(case: Case, tz: str = "Asia/Shanghai") -> CitizenStatus:
    label, meaning = CITIZEN_STATE.get(case.status, (state_label(case.status), ""))
    timeline = [(_local(e.created_at, tz), PLAIN[e.action](e)) for e in case.events if e.action in PLAIN]
    reply, reply_dept = None, None
    if case.status in (CaseState.REPLIED, CaseState.CLOSED):
        lead = next(
            (a for a in reversed(case.assignments) if a.role == "lead" and a.status == AssignmentState.REPLIED), None
        )
        if lead is not None and lead.reply_content:
            reply, reply_dept = lead.reply_content, lead.department.name
        elif case.answer:
            reply, reply_dept = case.answer, "12345 热线"
    merged_into = None
    if case.merged_into_id:
        merged_into = db.session.scalar(sa.select(Case.number).where(Case.id == case.merged_into_id))
    return CitizenStatus(
        number=case.number,
        state=case.status,
        label=label,
        meaning=meaning,
        kind_label=case.kind_label,
        created_at=_local(case.created_at, tz),
        timeline=timeline,
        reply=reply,
        reply_department=reply_dept,
        merged_into=merged_into,
    )


def as_text(status: CitizenStatus) -> str:
    """The status as one short message (WeChat answer)."""
    lines = [f"工单 {status.number}（{status.kind_label}）", f"当前状态：{status.label}。{status.meaning}"]
    if status.merged_into:
        lines.append(f"合并至工单：{status.merged_into}")
    if status.timeline:
        when, what = status.timeline[-1]
        lines.append(f"最新进展：{when} {what}")
    if status.reply:
        reply = status.reply if len(status.reply) <= 200 else status.reply[:200] + "…"
        lines.append(f"{status.reply_department}答复：{reply}")
    return "\n".join(lines)
