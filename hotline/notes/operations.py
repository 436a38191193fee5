"""Add and list internal notes. ``@mentions`` name a user (username or full name) or a unit (code or name);
each one mentioned gets an in-app notice (outbox, after commit), delivered live to the bell."""

from __future__ import annotations

import re
from datetime import datetime

import sqlalchemy as sa

from hotline.cases.errors import InvalidInput
from hotline.channels.notify import notify_department, notify_user
from hotline.extensions import db
from hotline.models import Case, CaseNote, Department, User

MENTION = re.compile(r"@([0-9A-Za-z_\-\u4e00-\u9fff]{2,40})")
MAX_TEXT = 2000
MAX_MENTIONS = 10


def _resolve(token: str) -> dict | None:
    user = db.session.scalar(
        sa.select(User).where(sa.or_(User.username == token, User.name == token), User.active.is_(True)).limit(1)
    )
    if user is not None:
        return {"kind": "user", "id": user.id, "label": user.name}
    unit = db.session.scalar(
        sa.select(Department)
        .where(sa.or_(Department.code == token, Department.name == token), Department.active.is_(True))
        .limit(1)
    )
    if unit is not None:
        return {"kind": "unit", "id": unit.id, "label": unit.name}
    return None


def mentions_in(text: str) -> tuple[list[dict], list[str]]:
    """(resolved mentions, unknown names) of a note's text, each once, in order."""
    found, unknown, seen = [], [], set()
    for token in MENTION.findall(text):
        if token in seen:
            continue
        seen.add(token)
        hit = _resolve(token)
        if hit is None:
            unknown.append(token)
        elif (hit["kind"], hit["id"]) not in {(m["kind"], m["id"]) for m in found}:
            found.append(hit)
    return found[:MAX_MENTIONS], unknown


def add(case: Case, author: User, text: str, now: datetime) -> CaseNote:
    text = (text or "").strip()
    if not text:
        raise InvalidInput("invalid_input", "备注内容不能为空", {"text": "请填写备注内容"})
    if len(text) > MAX_TEXT:
        raise InvalidInput("invalid_input", f"备注最多 {MAX_TEXT} 字", {"text": "内容过长"})
    mentions, unknown = mentions_in(text)
    if unknown:
        names = "、".join("@" + u for u in unknown[:5])
        raise InvalidInput("unknown_mention", f"找不到被提到的人员或单位：{names}", {"text": "请检查 @ 后的名称"})
    note = CaseNote(case_id=case.id, author_id=author.id, text=text, mentions=mentions, created_at=now)
    db.session.add(note)
    db.session.flush()
    summary = text if len(text) <= 60 else text[:60] + "…"
    for m in mentions:
        whom = "您" if m["kind"] == "user" else "贵单位"
        message = f"{author.name} 在工单 {case.number} 的内部备注中提到了{whom}：{summary}"
        if m["kind"] == "user":
            if m["id"] != author.id:
                notify_user(m["id"], message, case.id)
        else:
            notify_department(m["id"], message, case.id)
    return note


def listed(case: Case) -> list[dict]:
    rows = db.session.execute(
        sa.select(CaseNote, User.name)
        .join(User, User.id == CaseNote.author_id)
        .where(CaseNote.case_id == case.id)
        .order_by(CaseNote.id)
    ).all()
    return [as_dict(n, name) for n, name in rows]


def as_dict(note: CaseNote, author_name: str) -> dict:
    return {
        "id": note.id,
        "text": note.text,
        "author": author_name,
        "mentions": note.mentions,
        "created_at": note.created_at.isoformat(),
    }
