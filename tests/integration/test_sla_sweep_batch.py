"""The card sweep as a batch: many cards in one sweep get exactly one card row, one timeline event (its note and
data written by the database) and one ``sla.card`` message each, a summary notice per recipient, and
red cards their escalation instant — also with two sweepers working through small batches at the same time."""

from __future__ import annotations

from collections import namedtuple
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from hotline.db.sqlfuncs import local_minute, utc_iso
from hotline.extensions import db
from hotline.models import Assignment, Case, CaseEvent, OutboxMessage, SlaCard
from hotline.realtime.publish import PayloadError, check_payload, department_rooms
from hotline.sla import deadlines, sweeper, timers
from tests.helpers import at_once
from tests.integration.sla_support import SH, SocketCapture, dispatch_at, sh, unit
from workers.jobs import sla as sla_job

LABELS = {"sign": "签收", "contact": "首次联系", "reply": "答复"}
# June 2025: before every other test's timers, so a sweep then cards only what these tests dispatch
START = sh(2025, 6, 10, 10)


def _dispatch_many(app, phone, when, signed: int, unsigned: int, department="SHJ") -> dict[str, int]:
    out = {}
    for i in range(signed + unsigned):
        number, aid = dispatch_at(app, phone, when, department, sign_after=timedelta(minutes=5) if i < signed else None)
        out[number] = aid
    return out


def _state(app, numbers) -> dict:
    """Cards, card events and timers of ``numbers``."""
    with app.app_context():
        cards = db.session.execute(
            sa.select(SlaCard.id, Case.number, SlaCard.milestone, SlaCard.level, SlaCard.due_at, SlaCard.escalate_at)
            .join(Case, Case.id == SlaCard.case_id)
            .where(Case.number.in_(numbers))
            .order_by(SlaCard.id)
        ).all()
        events = db.session.execute(
            sa.select(
                CaseEvent.id,
                Case.number,
                CaseEvent.action,
                CaseEvent.note,
                CaseEvent.data,
                CaseEvent.created_at,
                CaseEvent.actor_label,
                CaseEvent.from_status,
                CaseEvent.to_status,
                Case.status.label("case_status"),
            )
            .join(Case, Case.id == CaseEvent.case_id)
            .where(Case.number.in_(numbers), CaseEvent.action.in_(["yellow_card", "red_card"]))
            .order_by(CaseEvent.id)
        ).all()
    return {"cards": cards, "events": events}


def _assignments(app, ids) -> list[Assignment]:
    with app.app_context():
        rows = db.session.scalars(sa.select(Assignment).where(Assignment.id.in_(ids))).all()
        db.session.expunge_all()
        return rows


def _notices(app, recipient, since_id) -> list[str]:
    with app.app_context():
        return db.session.scalars(
            sa.select(OutboxMessage.text)
            .where(OutboxMessage.recipient == recipient, OutboxMessage.id > since_id)
            .order_by(OutboxMessage.id)
        ).all()


def _last_outbox(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(OutboxMessage.id), 0)))


def test_batch_one_card_event_and_message_each_then_red_with_escalation(app, phone):
    mine = _dispatch_many(app, phone, START, signed=6, unsigned=1)  # 6 contact + 1 sign and contact = 8 cards
    assignments = _assignments(app, mine.values())
    yellow = {a.yellow_contact_at for a in assignments} | {a.yellow_sign_at for a in assignments if not a.signed_at}
    red = {a.deadline_contact for a in assignments} | {a.deadline_sign for a in assignments if not a.signed_at}
    assert len(yellow) == 1 and len(red) == 1  # dispatched together: one instant for all
    yellow, red = yellow.pop(), red.pop()
    with app.app_context():
        shj = unit("SHJ")
        shj_id, shj_name, rooms = shj.id, shj.name, sorted([*department_rooms(shj), "role:monitor"])
    monitor_before = _last_outbox(app)

    capture = SocketCapture(app)
    try:
        before = _last_outbox(app)
        with app.app_context():
            assert sla_job.sweep_sla(yellow)["yellow"] >= 8
        state = _state(app, list(mine))
        cards, events = state["cards"], state["events"]
        unsigned = {a.id for a in assignments if a.signed_at is None}
        expected = sorted([(n, "contact") for n in mine] + [(n, "sign") for n, aid in mine.items() if aid in unsigned])
        assert sorted((c.number, c.milestone) for c in cards) == expected and {c.level for c in cards} == {"yellow"}
        assert all(c.escalate_at is None for c in cards)
        by_card = {e.data["card_id"]: e for e in events}
        assert len(events) == len(cards) == len(by_card) == 8 and set(by_card) == {c.id for c in cards}
        for card in cards:
            event = by_card[card.id]
            due, what = card.due_at.astimezone(SH).strftime("%Y-%m-%d %H:%M"), LABELS[card.milestone]
            assert event.note == f"工单 {card.number} {what}时限已用去80%（黄牌），截止 {due}，请抓紧办理"
            assert event.data == {
                "card_id": card.id,
                "milestone": card.milestone,
                "level": "yellow",
                "due_at": card.due_at.isoformat(),
            }
            assert (event.number, event.action, event.created_at, event.actor_label) == (
                card.number,
                "yellow_card",
                yellow,
                sweeper.ACTOR,
            )
            assert event.from_status == event.to_status == event.case_status

        messages = [m for m in capture.emits("sla.card") if m["data"]["number"] in mine]
        assert all(sorted(m["room"]) == rooms for m in messages)
        in_order = sorted((m["data"] for m in messages), key=lambda c: c["cursor"])  # the console log's cursors
        assert [{k: v for k, v in c.items() if k != "cursor"} for c in in_order] == [
            {
                "number": e.number,
                "level": "yellow",
                "limit": e.data["milestone"],
                "due_at": e.data["due_at"],
                "department_code": "SHJ",
            }
            for e in events
        ]  # one message per card, in the order of the cards' timeline events

        summary = _notices(app, f"department:{shj_id}", before)
        assert len(summary) == 1 and summary[0].startswith(f"{shj_name}新增8件黄牌工单：")
        assert all(n in summary[0] for n in mine)

        with app.app_context():  # the same instant again, and a minute later: nothing new
            assert sla_job.sweep_sla(yellow)["yellow"] == 0
            sla_job.sweep_sla(yellow + timedelta(minutes=1))
        assert _state(app, list(mine)) == state and capture.cards() == []

        before = _last_outbox(app)
        with app.app_context():
            assert sla_job.sweep_sla(red)["red"] >= 8
            cal = deadlines.calendar()
        reds = [c for c in _state(app, list(mine))["cards"] if c.level == "red"]
        red_events = [e for e in _state(app, list(mine))["events"] if e.action == "red_card"]
        assert sorted((c.number, c.milestone) for c in reds) == expected and len(red_events) == 8
        assert all(c.escalate_at == timers.escalate_at(c.due_at, cal) for c in reds)
        notes = {e.data["card_id"]: e.note for e in red_events}
        assert all(
            notes[c.id] == f"工单 {c.number} {LABELS[c.milestone]}已超时（红牌），时限 "
            f"{c.due_at.astimezone(SH):%Y-%m-%d %H:%M}，承办单位：{shj_name}"
            for c in reds
        )
        assert sorted((c["number"], c["limit"]) for c in capture.cards() if c["number"] in mine) == sorted(
            (e.number, e.data["milestone"]) for e in red_events
        )
        assert _notices(app, f"department:{shj_id}", before)[0].startswith(f"{shj_name}新增8件红牌工单：")
        monitors = _notices(app, "role:monitor", monitor_before)
        assert any(t.startswith("各承办单位新增") and "红牌" in t for t in monitors)
    finally:
        capture.close()


def test_two_sweepers_through_small_batches_card_each_once(app, phone):
    mine = _dispatch_many(app, phone, START + timedelta(days=1), signed=7, unsigned=2)  # 11 cards
    yellow = _assignments(app, [next(iter(mine.values()))])[0].yellow_contact_at
    capture = SocketCapture(app)
    try:
        at_once(app, lambda: sla_job.sweep_sla(yellow, batch=2))
        state = _state(app, list(mine))
        assert len(state["cards"]) == len({(c.number, c.milestone, c.level) for c in state["cards"]}) == 11
        assert sorted(e.data["card_id"] for e in state["events"]) == sorted(c.id for c in state["cards"])
        sent = capture.cards()
        assert sorted((c["number"], c["limit"]) for c in sent if c["number"] in mine) == sorted(
            (e.number, e.data["milestone"]) for e in state["events"]
        )
        assert len({c["cursor"] for c in sent}) == len(sent)
    finally:
        capture.close()


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 3, 9, 7, 59, 30, tzinfo=UTC),
        datetime(2026, 3, 9, 16, 0, 0, 250_000, tzinfo=UTC),
        datetime(2025, 12, 31, 16, 30, tzinfo=UTC),
    ],
)
def test_sql_time_functions_match_python(app, moment):
    with app.app_context():
        at = sa.bindparam("at", moment, type_=Assignment.__table__.c.deadline_reply.type)
        iso, local = db.session.execute(sa.select(utc_iso(at), local_minute(at, sa.literal("Asia/Shanghai")))).one()
    assert iso == moment.isoformat()
    assert local == moment.astimezone(SH).strftime("%Y-%m-%d %H:%M")


def test_card_messages_follow_the_documented_payload(app):
    Row = namedtuple("Row", "cursor department_id number level milestone due_iso")
    with app.app_context():
        units = sweeper._departments()
        shj = unit("SHJ").id
    rows = [Row(i, shj, f"N{i}", "yellow", "reply", "2026-01-01T00:00:00+00:00") for i in range(1, 1202)]
    messages = sweeper._messages(rows, units)
    assert [m["cursor"] for m, _ in messages] == list(range(1, 1202))  # one per card, in cursor order
    for payload, rooms in messages:
        check_payload("sla.card", payload)
        assert "role:monitor" in rooms and "department:SHJ" in rooms
    with pytest.raises(PayloadError):
        check_payload("sla.card", {**messages[0][0], "phone": "139"})
