"""Call events from the call platform (CTI): idempotent, order-independent, pops the file on ringing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from hotline.citizens.file import file_summary
from hotline.citizens.phones import try_normalize
from hotline.citizens.profile import get_or_create
from hotline.db.dialect import insert_ignore
from hotline.extensions import db
from hotline.models import Call, Citizen, CitizenPhone, User
from hotline.realtime.publish import publish

EVENTS = ("ringing", "answered", "ended", "recording", "rating")  # rating: keypad 1-5 (hotline/ratings)
STATUS_RANK = {"ringing": 0, "answered": 1, "ended": 2}


@dataclass
class CallEvent:
    event: str
    call_id: str
    caller: str
    callee: str
    at: datetime
    agent: str | None = None
    recording_url: str | None = None


def _load_call(call_id: str, at: datetime) -> Call:
    db.session.execute(
        insert_ignore(Call.__table__, ["call_id"]).values(
            call_id=call_id, status="ringing", created_at=at, callee="", seen_events=[]
        )
    )
    return db.session.scalar(sa.select(Call).where(Call.call_id == call_id).with_for_update())


def handle(evt: CallEvent) -> tuple[Call, bool]:
    """Apply one event; returns (call, duplicate). Repeats change nothing; late events fill gaps only."""
    call = _load_call(evt.call_id, evt.at)
    seen = call.seen_events or []
    if evt.event in seen and not _new_recording(call, evt):
        return call, True
    if evt.event not in seen:
        call.seen_events = [*seen, evt.event]
    if evt.callee and not call.callee:
        call.callee = evt.callee[:32]
    agent = db.session.scalar(sa.select(User).where(User.username == evt.agent)) if evt.agent else None
    if agent and not call.agent_id:
        call.agent_id = agent.id
    if call.citizen_id is None:
        phone = try_normalize(evt.caller)
        if phone is not None:
            row = get_or_create(phone)
            call.citizen_id, call.phone_id = row.citizen_id, row.id
    if evt.event == "ringing":
        call.ringing_at = call.ringing_at or evt.at
    elif evt.event == "answered":
        call.answered_at = call.answered_at or evt.at
    elif evt.event == "ended":
        call.ended_at = call.ended_at or evt.at
    elif evt.event == "recording" and evt.recording_url:
        call.recording_url = evt.recording_url
    if evt.event in STATUS_RANK and STATUS_RANK[evt.event] > STATUS_RANK.get(call.status, 0):
        call.status = evt.event
    if call.ended_at and call.answered_at:
        call.duration_seconds = max(0, int((call.ended_at - call.answered_at).total_seconds()))
    elif call.ended_at:
        call.duration_seconds = 0
    db.session.flush()
    if evt.event == "ringing" and call.status == "ringing":
        _publish_ringing(call, evt, agent)
    return call, False


def _new_recording(call: Call, evt: CallEvent) -> bool:
    """A repeated ``recording`` report is new only when it brings another recording address than the stored one
    (the platform re-encoded or moved the file); the same report again is a duplicate."""
    return evt.event == "recording" and bool(evt.recording_url) and evt.recording_url != call.recording_url


def _publish_ringing(call: Call, evt: CallEvent, agent: User | None) -> None:
    masked = db.session.get(CitizenPhone, call.phone_id).masked if call.phone_id else "未知号码"
    summary = file_summary(db.session.get(Citizen, call.citizen_id), evt.at) if call.citizen_id else None
    rooms = [f"user:{agent.id}"] if agent else ["role:agent"]
    publish(
        "call.ringing",
        {
            "call_id": call.call_id,
            "caller": masked,
            "agent": agent.username if agent else None,
            "at": evt.at.isoformat(),
            "citizen": summary,
        },
        rooms,
    )
