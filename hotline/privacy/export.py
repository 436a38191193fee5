"""Everything held about one person, as a ZIP: ``person.json``, ``cases.json`` (with timelines and replies),
``calls.json``, ``ratings.json``, ``records.json`` (other systems' records), ``wechat.json`` and ``index.html``
(the same, readable, zh-CN). Decrypts the person's own data for them; the caller audits and commits."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime
from html import escape

import sqlalchemy as sa

from hotline.citizens.identities import is_wechat
from hotline.citizens.profile import citizen_name, phone_number
from hotline.extensions import db
from hotline.models import Assignment, Call, CaseEvent, Citizen, ExternalRecord, Rating, WechatMessage
from hotline.privacy.person import cases_of, phones_of


def _iso(value):
    return value.isoformat() if value else None


def collect(files: list[Citizen]) -> dict:
    ids = [c.id for c in files]
    phones = phones_of(ids)
    cases = cases_of(ids)
    case_ids = [c.id for c in cases]
    events = db.session.scalars(
        sa.select(CaseEvent).where(CaseEvent.case_id.in_(case_ids)).order_by(CaseEvent.created_at, CaseEvent.id)
    ).all()
    replies = db.session.scalars(sa.select(Assignment).where(Assignment.case_id.in_(case_ids))).all()
    number_of = {c.id: c.number for c in cases}
    person = {
        "files": [
            {"id": c.id, "name": citizen_name(c), "tags": list(c.tags or ()), "created_at": _iso(c.created_at)}
            for c in files
        ],
        "phones": [
            {
                "kind": p.kind,
                "number": None if is_wechat(p) else phone_number(p),
                "identity": "微信" if is_wechat(p) else None,
                "created_at": _iso(p.created_at),
            }
            for p in phones
        ],
    }
    case_rows = []
    for c in cases:
        case_rows.append(
            {
                "number": c.number,
                "kind": c.kind,
                "channel": c.channel,
                "status": c.status,
                "title": c.title,
                "content": c.content,
                "address": c.address,
                "category": c.category.path if c.category else None,
                "answer": c.answer,
                "created_at": _iso(c.created_at),
                "closed_at": _iso(c.closed_at),
                "replies": [
                    {
                        "unit": a.department.name if a.department else None,
                        "reply": a.reply_content,
                        "at": _iso(a.replied_at),
                    }
                    for a in replies
                    if a.case_id == c.id and a.reply_content
                ],
                "timeline": [
                    {"action": e.action, "to": e.to_status, "note": e.note, "at": _iso(e.created_at)}
                    for e in events
                    if e.case_id == c.id
                ],
            }
        )
    calls = db.session.scalars(sa.select(Call).where(Call.citizen_id.in_(ids)).order_by(Call.created_at)).all()
    ratings = db.session.scalars(sa.select(Rating).where(Rating.citizen_id.in_(ids)).order_by(Rating.created_at)).all()
    records = db.session.scalars(sa.select(ExternalRecord).where(ExternalRecord.citizen_id.in_(ids))).all()
    wechat_hashes = [p.phone_hash for p in phones if is_wechat(p)]
    messages = (
        db.session.scalars(
            sa.select(WechatMessage).where(WechatMessage.openid_hash.in_(wechat_hashes)).order_by(WechatMessage.id)
        ).all()
        if wechat_hashes
        else []
    )
    return {
        "generated_at": datetime.now(UTC).isoformat(),
        "person": person,
        "cases": case_rows,
        "calls": [
            {
                "call_id": c.call_id,
                "status": c.status,
                "ringing_at": _iso(c.ringing_at),
                "answered_at": _iso(c.answered_at),
                "ended_at": _iso(c.ended_at),
                "duration_seconds": c.duration_seconds,
                "recording_url": c.recording_url,
            }
            for c in calls
        ],
        "ratings": [
            {
                "case": number_of.get(r.case_id),
                "score": r.score,
                "resolved": r.resolved,
                "comment": r.comment,
                "channel": r.channel,
                "at": _iso(r.created_at),
            }
            for r in ratings
        ],
        "records": [
            {"source": r.source, "ref": r.ref, "title": r.title, "status": r.status, "at": _iso(r.occurred_at)}
            for r in records
        ],
        "wechat": [
            {
                "type": m.msg_type,
                "action": m.action,
                "case": number_of.get(m.case_id),
                "reply": m.reply,
                "at": _iso(m.created_at),
            }
            for m in messages
        ],
    }


def _table(title: str, rows: list[dict]) -> str:
    if not rows:
        return f"<h2>{escape(title)}</h2><p>（无）</p>"
    head = "".join(f"<th>{escape(k)}</th>" for k in rows[0] if not isinstance(rows[0][k], list))
    body = "".join(
        "<tr>"
        + "".join(f"<td>{escape('' if v is None else str(v))}</td>" for v in r.values() if not isinstance(v, list))
        + "</tr>"
        for r in rows
    )
    return f"<h2>{escape(title)}（{len(rows)}）</h2><table border='1' cellpadding='4'><tr>{head}</tr>{body}</table>"


def html(data: dict) -> str:
    person = data["person"]
    names = "、".join(f["name"] for f in person["files"] if f["name"]) or "（未登记姓名）"
    timelines = "".join(
        f"<h3>工单 {escape(c['number'])} 的办理过程</h3>" + _table("记录", c["timeline"]) for c in data["cases"]
    )
    return (
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'><title>个人信息副本</title></head><body>"
        f"<h1>12345 热线持有的个人信息副本</h1><p>生成时间：{escape(data['generated_at'])}</p>"
        f"<p>姓名：{escape(names)}</p>"
        + _table("号码与身份", person["phones"])
        + _table("工单", data["cases"])
        + timelines
        + _table("来电", data["calls"])
        + _table("评价", data["ratings"])
        + _table("其他系统的记录", data["records"])
        + _table("微信消息", data["wechat"])
        + "</body></html>"
    )


def zip_bytes(data: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in ("person", "cases", "calls", "ratings", "records", "wechat"):
            zf.writestr(f"{name}.json", json.dumps(data[name], ensure_ascii=False, indent=2))
        zf.writestr("index.html", html(data))
    return buffer.getvalue()
