"""Agents' "not found" / "outdated" feedback: a task for the owning unit, with a notice through the outbox."""

from __future__ import annotations

from datetime import datetime

from hotline.auth.roles import Role
from hotline.channels.notify import notify_department, notify_role
from hotline.extensions import db
from hotline.models import Case, Department, KbEntry, KbFeedback, User

KINDS = {"not_found": "知识库中没有找到", "outdated": "知识条目内容过时"}


def create(
    kind: str,
    actor: User,
    now: datetime,
    *,
    entry: KbEntry | None = None,
    department: Department | None = None,
    case: Case | None = None,
    query: str = "",
    note: str = "",
) -> KbFeedback:
    unit = entry.department if entry is not None and entry.department is not None else department
    fb = KbFeedback(
        kind=kind,
        entry_id=entry.id if entry else None,
        department_id=unit.id if unit else None,
        case_id=case.id if case else None,
        query=query,
        note=note,
        status="open",
        created_by_id=actor.id,
        created_at=now,
    )
    db.session.add(fb)
    db.session.flush()
    subject = f"「{entry.title}」" if entry else f"“{query}”"
    text = f"知识库反馈：{KINDS[kind]}{subject}" + (f"（{note}）" if note else "") + "，请核实更新"
    if unit is not None:
        notify_department(unit.id, text, case.id if case else None)
    else:
        notify_role(Role.ADMIN, text, case.id if case else None)
    return fb


def resolve(fb: KbFeedback, actor: User, now: datetime) -> None:
    fb.status, fb.resolved_at, fb.resolved_by_id = "done", now, actor.id


def to_dict(fb: KbFeedback) -> dict:
    return {
        "id": fb.id,
        "kind": fb.kind,
        "kind_label": KINDS[fb.kind],
        "entry_id": fb.entry_id,
        "entry_title": fb.entry.title if fb.entry else None,
        "department_code": fb.department.code if fb.department else None,
        "query": fb.query,
        "note": fb.note,
        "status": fb.status,
        "created_at": fb.created_at.isoformat(),
    }
