"""Extensions (approved moves the deadline, denied does not, a third is refused), pauses while waiting for the
citizen, and 催办/督办 with the unit's acknowledgement — over the API, on the real database."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from hotline.cases.errors import RuleRefused
from hotline.extensions import db
from hotline.models import Assignment, Case, OutboxMessage, SlaCard
from hotline.sla import clock as sla
from tests.helpers import new_case
from tests.integration.sla_support import dispatch_at, sh, user
from workers.jobs.sla import sweep_sla

WD = sla.WorkCalendar()


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def test_extension_approved_moves_deadline_denied_does_not_third_refused(app, api, phone, make_case):
    number = make_case("handling", phone=phone, category="城乡建设").number
    handler, monitor = api("handler_zjj"), api("monitor1")
    before = api("monitor1").get(f"/cases/{number}").get_json()
    due = _at(before["deadlines"]["reply"])
    assigned = _at(before["assignments"][0]["assigned_at"])

    resp = handler.post(f"/cases/{number}/extension", json={"days": 3, "reason": "需要协调三个部门现场勘查"})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert _at(body["deadlines"]["reply"]) == due  # nothing moves before the decision
    assert body["extensions"][-1]["status"] == "pending" and body["events"][-1]["action"] == "extension_request"
    refused = handler.post(f"/cases/{number}/extension", json={"days": 1, "reason": "再申请一次"})
    assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "extension_pending"
    assert handler.post(f"/cases/{number}/extension/decision", json={"approve": True}).status_code == 403

    resp = monitor.post(f"/cases/{number}/extension/decision", json={"approve": True, "note": "同意"})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    moved = _at(body["deadlines"]["reply"])
    assert moved == sla.deadline(assigned, sla.Limit(10, "work_days"), WD)  # 7 + 3 working days from dispatch
    assert moved > due and _at(body["assignments"][0]["deadlines"]["reply"]) == moved
    assert body["extensions"][-1]["status"] == "approved" and _at(body["extensions"][-1]["new_due"]) == moved
    assert body["events"][-1]["action"] == "extension_decision" and body["events"][-1]["data"]["approve"] is True
    with app.app_context():
        a = db.session.scalar(sa.select(Assignment).join(Case).where(Case.number == number))
        assert a.sla_limits["reply"] == {"amount": 10.0, "unit": "work_days"}
        assert a.yellow_reply_at == sla.deadline(assigned, sla.Limit(8, "work_days"), WD)  # 80 % of 10 days

    assert handler.post(f"/cases/{number}/extension", json={"days": 5, "reason": "市民要求补充材料"}).status_code == 200
    resp = monitor.post(f"/cases/{number}/extension/decision", json={"approve": False, "note": "理由不充分"})
    assert resp.status_code == 200
    body = resp.get_json()
    assert _at(body["deadlines"]["reply"]) == moved  # denied: unchanged
    assert body["extensions"][-1]["status"] == "denied" and body["extensions"][-1]["new_due"] is None
    no_pending = monitor.post(f"/cases/{number}/extension/decision", json={"approve": True})
    assert no_pending.status_code == 422 and no_pending.get_json()["error"]["code"] == "no_pending_extension"

    third = handler.post(f"/cases/{number}/extension", json={"days": 2, "reason": "第三次申请"})
    assert third.status_code == 422
    error = third.get_json()["error"]
    assert error["code"] == "extension_limit"
    assert error["message"] == "每件工单最多申请延期2次，本单位已申请2次，不能再次申请"
    assert _at(api("monitor1").get(f"/cases/{number}").get_json()["deadlines"]["reply"]) == moved
    with app.app_context():
        texts = db.session.scalars(
            sa.select(OutboxMessage.text).where(
                OutboxMessage.text.contains(number), OutboxMessage.text.contains("延期")
            )
        ).all()
    assert any("请审批" in t for t in texts) and any("同意延期3天" in t for t in texts)


def test_extension_after_the_reply_deadline_is_refused(app, phone):
    from hotline.sla import supervision

    number, aid = dispatch_at(app, phone, sh(2026, 4, 1, 10), department="ZJJ")
    with app.app_context():
        case = db.session.scalar(sa.select(Case).where(Case.number == number))
        due = db.session.get(Assignment, aid).deadline_reply
        with pytest.raises(RuleRefused) as refused:
            supervision.request_extension(case, user("handler_zjj"), 2, "来不及了", due + timedelta(minutes=1))
        assert refused.value.code == "deadline_passed" and "延期须在时限届满前申请" in refused.value.message
        db.session.rollback()
        supervision.request_extension(case, user("handler_zjj"), 2, "需要补充材料", due - timedelta(minutes=1))
        db.session.commit()


def test_extension_input_and_roles(api, phone, make_case):
    number = make_case("handling", phone=phone, category="城乡建设").number
    bad = api("handler_zjj").post(f"/cases/{number}/extension", json={"days": 0, "reason": "x"})
    assert bad.status_code == 400 and set(bad.get_json()["error"]["fields"]) == {"days", "reason"}
    assert api("monitor1").post(f"/cases/{number}/extension", json={"days": 2, "reason": "理由充分"}).status_code == 403
    other = api("handler_shj").post(f"/cases/{number}/extension", json={"days": 2, "reason": "理由充分"})
    assert other.status_code == 404  # not its case: as if it did not exist


def test_pause_stops_the_clock_and_resume_moves_deadlines(app, api, phone):
    number, aid = dispatch_at(app, phone, sh(2026, 4, 7, 10), department="ZJJ")  # Tuesday
    from hotline.sla import supervision

    handler = user  # a demo user, loaded inside the app context
    with app.app_context():
        before = db.session.get(Assignment, aid)
        start, contact_due, reply_due = before.assigned_at, before.deadline_contact, before.deadline_reply
        case = db.session.scalar(sa.select(Case).where(Case.number == number))
        supervision.pause(case, handler("handler_zjj"), "市民出差，约定下周一补充材料", sh(2026, 4, 7, 14))
        db.session.commit()
        assert db.session.get(Assignment, aid).next_card_at is None
    with app.app_context():  # no card while paused, even past the old deadlines
        sweep_sla(contact_due + timedelta(hours=1))
        cards = sa.select(sa.func.count()).select_from(SlaCard).where(SlaCard.assignment_id == aid)
        assert db.session.scalar(cards) == 0
    with app.app_context():
        case = db.session.scalar(sa.select(Case).where(Case.number == number))
        with pytest.raises(RuleRefused):
            supervision.pause(case, handler("handler_zjj"), "再暂停", sh(2026, 4, 8, 9))
        db.session.rollback()
        supervision.resume(case, handler("handler_zjj"), sh(2026, 4, 13, 11))  # Monday 11:00
        db.session.commit()
    pauses = [(sh(2026, 4, 7, 14), sh(2026, 4, 13, 11))]
    with app.app_context():
        a = db.session.get(Assignment, aid)
        assert a.deadline_contact == sla.deadline(start, sla.Limit(1, "work_days"), WD, pauses)
        assert a.deadline_contact == sh(2026, 4, 13, 16)  # Tue 10-14 (4 h), paused, Mon 11-16 (5 h)
        assert a.deadline_reply == sla.deadline(start, sla.Limit(7, "work_days"), WD, pauses) > reply_due
        assert a.next_card_at == a.yellow_contact_at and a.paused_at is None
        case = db.session.get(Case, a.case_id)
        assert case.deadline_reply == a.deadline_reply and case.deadline_contact == a.deadline_contact
    body = api("admin").get(f"/cases/{number}").get_json()
    assert [e["action"] for e in body["events"]][-2:] == ["pause", "resume"]
    assert [(p["department_code"], p["reason"]) for p in body["pauses"]] == [("ZJJ", "市民出差，约定下周一补充材料")]
    assert _at(body["pauses"][0]["started_at"]) == sh(2026, 4, 7, 14)
    assert _at(body["pauses"][0]["ended_at"]) == sh(2026, 4, 13, 11)


def test_pause_resume_over_the_api(api, phone, make_case):
    number = make_case("handling", phone=phone, category="城乡建设").number
    handler = api("handler_zjj")
    assert handler.post(f"/cases/{number}/resume", json={}).get_json()["error"]["code"] == "not_paused"
    resp = handler.post(f"/cases/{number}/pause", json={"reason": "市民电话无人接听，等待回电"})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["pauses"][0]["ended_at"] is None
    again = handler.post(f"/cases/{number}/pause", json={"reason": "再次暂停"})
    assert again.status_code == 422 and again.get_json()["error"]["code"] == "already_paused"
    assert api("agent1").post(f"/cases/{number}/pause", json={"reason": "无权暂停"}).status_code == 403
    assert handler.post(f"/cases/{number}/pause", json={}).status_code == 400
    resp = handler.post(f"/cases/{number}/resume", json={})
    assert resp.status_code == 200 and resp.get_json()["pauses"][0]["ended_at"]
    assert resp.get_json()["events"][-1]["action"] == "resume"


def test_supervise_and_acknowledge(app, api, phone, make_case):
    number = make_case("handling", phone=phone, category="城乡建设").number
    supervisor, handler = api("supervisor1"), api("handler_zjj")
    nothing = handler.post(f"/cases/{number}/supervise/ack", json={})
    assert nothing.status_code == 422 and nothing.get_json()["error"]["code"] == "no_open_supervision"
    agent = api("agent1").post(f"/cases/{number}/supervise", json={"level": "remind", "note": "请尽快办理"})
    assert agent.status_code == 403
    bad = supervisor.post(f"/cases/{number}/supervise", json={"level": "urge", "note": "请尽快办理"})
    assert bad.status_code == 400 and "level" in bad.get_json()["error"]["fields"]

    resp = supervisor.post(
        f"/cases/{number}/supervise", json={"level": "remind", "note": "市民再次来电催促，请尽快联系"}
    )
    assert resp.status_code == 200, resp.get_json()
    resp = supervisor.post(f"/cases/{number}/supervise", json={"level": "supervise", "note": "列入督办，三日内办结"})
    body = resp.get_json()
    assert [(s["level"], s["acknowledged_at"]) for s in body["supervisions"]] == [("remind", None), ("supervise", None)]
    assert [e["action"] for e in body["events"]][-2:] == ["supervise", "supervise"]
    assert body["events"][-1]["note"] == "督办：列入督办，三日内办结"

    resp = handler.post(f"/cases/{number}/supervise/ack", json={"note": "已安排专人今日上门"})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert all(s["acknowledged_at"] for s in body["supervisions"])
    assert body["events"][-1]["action"] == "supervise_ack" and body["events"][-1]["actor"] == "handler_zjj"
    assert handler.post(f"/cases/{number}/supervise/ack", json={}).status_code == 422
    with app.app_context():
        recipients = db.session.scalars(
            sa.select(OutboxMessage.recipient).where(
                OutboxMessage.text.contains(number), OutboxMessage.text.contains("督办")
            )
        ).all()
        supervisor_id = user("supervisor1").id
    assert f"user:{supervisor_id}" in recipients  # the acknowledgement goes back to who sent it


def test_supervise_needs_a_unit_at_work(api, phone):
    number = new_case(api("agent1"), phone)["number"]
    resp = api("supervisor1").post(f"/cases/{number}/supervise", json={"level": "remind", "note": "请尽快办理"})
    assert resp.status_code == 422 and resp.get_json()["error"]["code"] == "no_assignment"
