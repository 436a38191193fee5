"""The SLA sweeper with an injected clock: yellow then red cards at the right moments, once each (events,
notices and ``sla.card`` messages), two sweepers at once, re-runs, pauses and escalation to the superior unit."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
import sqlalchemy as sa

from hotline.extensions import db
from hotline.models import Assignment, CaseEvent, OutboxMessage, SlaCard, SlaTimer
from hotline.sla import clock as sla
from tests.helpers import at_once
from tests.integration.sla_support import SocketCapture, dispatch_at, sh
from workers.jobs import sla as sla_job

SECOND = timedelta(seconds=1)
DEPT_ROOMS = ["department:C", "department:D01", "department:D01S01", "role:monitor"]


def sweep_sla(now, app=None):
    """The cron job itself, run at an injected ``now`` inside the test app."""
    with (app or _APP[0]).app_context():
        return sla_job.sweep_sla(now)


_APP: list = []


@pytest.fixture(autouse=True)
def _remember_app(app):
    _APP[:] = [app]


def _cards(app, assignment_id):
    with app.app_context():
        return db.session.execute(
            sa.select(SlaCard.milestone, SlaCard.level, SlaCard.due_at)
            .where(SlaCard.assignment_id == assignment_id)
            .order_by(SlaCard.id)
        ).all()


def _events(app, number, *actions):
    from hotline.models import Case

    with app.app_context():
        return db.session.execute(
            sa.select(CaseEvent.action, CaseEvent.data, CaseEvent.created_at)
            .join(Case, Case.id == CaseEvent.case_id)
            .where(Case.number == number, CaseEvent.action.in_(actions))
            .order_by(CaseEvent.id)
        ).all()


def _assignment(app, assignment_id) -> dict:
    with app.app_context():
        a = db.session.get(Assignment, assignment_id)
        return {
            c: getattr(a, c)
            for c in (
                "assigned_at",
                "deadline_contact",
                "yellow_contact_at",
                "deadline_reply",
                "yellow_reply_at",
                "next_card_at",
                "escalated_at",
            )
        } | {"escalated_to": a.escalated_to_id}


def test_yellow_then_red_on_working_time_once_each(app, api, phone):
    # Friday 16:00, signed at once: first contact within 1 working day → Monday 16:00; 80 % of 9 office
    # hours = 7 h 12 min → Friday 16-18 (2 h) + Monday 09:00-14:12.
    start = sh(2026, 3, 6, 16)
    number, aid = dispatch_at(app, phone, start)
    timers = _assignment(app, aid)
    yellow, red = sh(2026, 3, 9, 14, 12), sh(2026, 3, 9, 16)
    assert timers["yellow_contact_at"] == yellow and timers["deadline_contact"] == red
    assert timers["next_card_at"] == yellow  # the sign milestone is done: the contact yellow comes first
    one_day, cal = sla.Limit(1, "work_days"), sla.WorkCalendar()
    assert sla.elapsed_fraction(start, red, yellow, one_day, cal) == 0.8
    assert sla.card_level(sla.elapsed_fraction(start, red, yellow - SECOND, one_day, cal)) is None

    capture = SocketCapture(app)
    try:
        for moment in (sh(2026, 3, 7, 12), sh(2026, 3, 8, 23, 59), yellow - SECOND):  # the weekend does not count
            sweep_sla(moment)
        assert _cards(app, aid) == [] and capture.cards(number) == []

        assert sweep_sla(yellow)["yellow"] >= 1
        sweep_sla(yellow)  # a second run at the same moment
        sweep_sla(yellow + timedelta(minutes=1))
        sweep_sla(red - SECOND)
        assert _cards(app, aid) == [("contact", "yellow", red)]
        yellows = capture.cards(number)
        assert [
            {k: m[k] for k in ("number", "level", "limit", "due_at", "department_code", "cursor")} for m in yellows
        ] == [
            {
                "number": number,
                "level": "yellow",
                "limit": "contact",
                "due_at": red.astimezone(UTC).isoformat(),
                "department_code": "D01S01",
                "cursor": yellows[0]["cursor"],
            }
        ]
        assert sorted(yellows[0]["room"]) == DEPT_ROOMS and yellows[0]["namespace"] == "/console"

        assert sweep_sla(red)["red"] >= 1
        sweep_sla(red)
        sweep_sla(red + timedelta(minutes=5))
        reds = capture.cards(number)
        assert [(m["level"], m["limit"]) for m in reds] == [("red", "contact")]
        assert sorted(reds[0]["room"]) == DEPT_ROOMS
    finally:
        capture.close()
    assert [(m, lvl) for m, lvl, _ in _cards(app, aid)] == [("contact", "yellow"), ("contact", "red")]

    events = _events(app, number, "yellow_card", "red_card")
    assert [(e.action, e.data["milestone"], e.created_at) for e in events] == [
        ("yellow_card", "contact", yellow),
        ("red_card", "contact", red),
    ]
    assert [e[0] for e in _events(app, number, "yellow_card")] == ["yellow_card"]
    assert yellows[0]["cursor"] < reds[0]["cursor"]

    with app.app_context():
        notices = db.session.execute(
            sa.select(OutboxMessage.recipient, OutboxMessage.text)
            .where(OutboxMessage.text.contains(number), OutboxMessage.text.contains("牌"))
            .order_by(OutboxMessage.id)
        ).all()
        street = db.session.scalar(sa.text("SELECT id FROM departments WHERE code = 'D01S01'"))
    assert [r for r, _ in notices] == [f"department:{street}", f"department:{street}", "role:monitor"]
    assert "黄牌" in notices[0][1] and "红牌" in notices[1][1]

    body = api("monitor1").get(f"/cases/{number}").get_json()
    assert [(c["milestone"], c["level"], c["department_code"]) for c in body["cards"]] == [
        ("contact", "yellow", "D01S01"),
        ("contact", "red", "D01S01"),
    ]
    # after the red card the next look is the reply's yellow instant (80 % of 7 working days)
    assert _assignment(app, aid)["next_card_at"] == _assignment(app, aid)["yellow_reply_at"] == sh(2026, 3, 16, 12, 24)


def test_two_sweepers_at_once_write_one_card(app, phone):
    start = sh(2026, 3, 10, 10)
    number, aid = dispatch_at(app, phone, start)
    yellow = _assignment(app, aid)["yellow_contact_at"]
    assert yellow == sh(2026, 3, 10, 17, 12)  # Tue 10:00 + 7 h 12 min of office time
    capture = SocketCapture(app)
    try:
        assert len(at_once(app, lambda: sla_job.sweep_sla(yellow))) == 2
        assert _cards(app, aid) == [("contact", "yellow", sh(2026, 3, 11, 10))]
        assert len(_events(app, number, "yellow_card")) == 1
        assert [m["number"] for m in capture.cards(number)] == [number]
    finally:
        capture.close()


def test_rearmed_timer_never_doubles_a_card(app, phone):
    """Even when next_card_at points back into the past (a replan, a lost claim), the unique constraint holds."""
    number, aid = dispatch_at(app, phone, sh(2026, 3, 10, 10))
    red = _assignment(app, aid)["deadline_contact"]
    sweep_sla(red)
    assert [lvl for _, lvl, _ in _cards(app, aid)] == ["red"]  # first seen past the deadline: red only
    capture = SocketCapture(app)
    try:
        for _ in range(2):
            with app.app_context():
                db.session.execute(
                    sa.update(SlaTimer)
                    .where(SlaTimer.assignment_id == aid)
                    .values(next_card_at=red - timedelta(hours=3))
                )
                db.session.commit()
            sweep_sla(red + timedelta(minutes=1))
        assert [lvl for _, lvl, _ in _cards(app, aid)] == ["red"]
        assert len(_events(app, number, "red_card")) == 1
        assert capture.cards(number) == []
    finally:
        capture.close()


def test_unsigned_case_cards_sign_and_contact(app, phone):
    _number, aid = dispatch_at(app, phone, sh(2026, 3, 10, 10), sign_after=None)
    sweep_sla(sh(2026, 3, 10, 17, 11))
    assert _cards(app, aid) == []
    sweep_sla(sh(2026, 3, 10, 17, 12))  # Tue 10:00 + 7 h 12 min of office time: both 1-working-day limits
    assert sorted((m, lvl) for m, lvl, _ in _cards(app, aid)) == [("contact", "yellow"), ("sign", "yellow")]


def test_escalation_after_five_working_days_once(app, api, phone):
    number, aid = dispatch_at(app, phone, sh(2026, 3, 6, 16))  # contact due Mon 03-09 16:00
    sweep_sla(sh(2026, 3, 9, 16))
    escalate = sh(2026, 3, 16, 16)  # + 5 working days
    sweep_sla(escalate - SECOND)
    assert _events(app, number, "escalate") == [] and _assignment(app, aid)["escalated_at"] is None
    capture = SocketCapture(app)
    try:
        assert sweep_sla(escalate)["escalated"] >= 1
        sweep_sla(escalate)
        sweep_sla(escalate + timedelta(hours=1))
        updates = [
            m
            for m in capture.emits("case.updated")
            if m["data"]["action"] == "escalate" and m["data"]["number"] == number
        ]
        assert len(updates) == 1 and "role:supervisor" in updates[0]["room"]
    finally:
        capture.close()
    events = _events(app, number, "escalate")
    assert len(events) == 1 and events[0].data["to_department"] == "D01" and events[0].created_at == escalate
    with app.app_context():
        district = db.session.scalar(sa.text("SELECT id FROM departments WHERE code = 'D01'"))
        recipients = db.session.scalars(
            sa.select(OutboxMessage.recipient).where(
                OutboxMessage.text.contains(number), OutboxMessage.text.contains("升级")
            )
        ).all()
    assert _assignment(app, aid)["escalated_to"] == district
    assert sorted(recipients) == sorted([f"department:{district}", "role:supervisor"])
    timeline = api("handler_d01").get(f"/cases/{number}").get_json()["events"]
    assert "上级单位" in next(e for e in timeline if e["action"] == "escalate")["note"]


def test_no_escalation_once_the_milestone_is_done(app, phone):
    from hotline.cases import operations as ops
    from hotline.models import Case
    from tests.integration.sla_support import user

    number, aid = dispatch_at(app, phone, sh(2026, 3, 6, 16))
    sweep_sla(sh(2026, 3, 9, 16))  # red card on the first contact
    with app.app_context():
        case = db.session.scalar(sa.select(Case).where(Case.number == number))
        ops.contact(case, user("handler_d01s01"), "已电话联系市民", sh(2026, 3, 10, 9))
        db.session.commit()
    sweep_sla(sh(2026, 3, 16, 16))
    assert _events(app, number, "escalate") == [] and _assignment(app, aid)["escalated_at"] is None
    with app.app_context():  # the escalation check ran and is not pending any more
        assert (
            db.session.scalar(
                sa.select(SlaCard.escalate_at).where(SlaCard.assignment_id == aid, SlaCard.level == "red")
            )
            is None
        )
