"""CTI webhook (signed, idempotent, order-independent) and the 一号一档 file."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from tests.helpers import new_case


def post_cti(app, payload: dict, secret: str | None = None):
    raw = json.dumps(payload, ensure_ascii=False).encode()
    key = (secret or app.config["HOTLINE"].cti_secret).encode()
    sig = "sha256=" + hmac.new(key, raw, hashlib.sha256).hexdigest()
    return app.test_client().post(
        "/api/v1/cti/events", data=raw, content_type="application/json", headers={"X-Hotline-Signature": sig}
    )


def _evt(event, call_id, caller, at, **kw):
    return {"event": event, "call_id": call_id, "caller": caller, "callee": "12345", "at": at.isoformat(), **kw}


def test_call_events_are_idempotent_and_order_independent(app, api, phone):
    """(The socket pop itself is checked against a live server in tests/e2e/test_console_realtime.py.)"""
    number = new_case(api("agent1"), phone)["number"]
    call_id = "call-" + uuid.uuid4().hex[:8]
    now = datetime.now(UTC)
    formatted = f"+86 {phone[:3]}-{phone[3:7]}-{phone[7:]}"
    resp = post_cti(app, _evt("ringing", call_id, formatted, now, agent="agent1"))
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["duplicate"] is False and resp.get_json()["status"] == "ringing"

    # the same event again changes nothing
    again = post_cti(app, _evt("ringing", call_id, formatted, now, agent="agent1"))
    assert again.get_json()["duplicate"] is True

    # ended arrives before answered: both harmless, duration right
    post_cti(app, _evt("ended", call_id, formatted, now + timedelta(seconds=95)))
    body = post_cti(app, _evt("answered", call_id, formatted, now + timedelta(seconds=5))).get_json()
    assert body["status"] == "ended" and body["duration_seconds"] == 90
    post_cti(
        app,
        _evt(
            "recording", call_id, formatted, now + timedelta(seconds=96), recording_url="https://pbx.example/rec/1.wav"
        ),
    )

    # a case registered during the call is linked to it, and the file lists the call
    linked = new_case(api("agent1"), phone, call_id=call_id)
    assert linked["call_id"] == call_id
    from hotline.extensions import db
    from hotline.models import Call

    with app.app_context():
        call = db.session.scalar(sa.select(Call).where(Call.call_id == call_id))
        assert call.recording_url.endswith("1.wav") and call.seen_events.count("ringing") == 1
    file = api("agent1").get(f"/citizens/lookup?phone={phone}").get_json()["citizen"]
    assert file["name"] == "王**"  # 王小明
    assert call_id in [c["call_id"] for c in file["calls"]]
    assert {c["number"] for c in file["open_cases"]} == {number, linked["number"]}


def test_cti_refuses_bad_signatures_and_input(app):
    payload = _evt("ringing", "c-bad", "13800138000", datetime.now(UTC))
    resp = post_cti(app, payload, secret="wrong-secret")
    assert resp.status_code == 401 and resp.get_json()["error"]["code"] == "bad_signature"
    unsigned = app.test_client().post("/api/v1/cti/events", json=payload)
    assert unsigned.status_code == 401
    bad = post_cti(app, {**payload, "event": "exploded"})
    assert bad.status_code == 400 and "event" in bad.get_json()["error"]["fields"]
    bad_time = post_cti(app, {**payload, "at": "yesterday"})
    assert bad_time.status_code == 400 and "at" in bad_time.get_json()["error"]["fields"]


def test_two_numbers_one_file_and_merge(app, api, phone):
    agent = api("agent1")
    same = [phone, f"+86 {phone[:3]}-{phone[3:7]}-{phone[7:]}", f"0086{phone}", f"{phone[:3]} {phone[3:7]} {phone[7:]}"]
    for form in same:
        new_case(agent, form)
    file = agent.get(f"/citizens/lookup?phone={phone}").get_json()["citizen"]
    assert len(file["phones"]) == 1 and len(file["open_cases"]) == 4
    assert file["flags"]["repeat_caller"] is True

    landline = "010-6" + phone[-7:]
    new_case(agent, landline)
    other = agent.get(f"/citizens/lookup?phone={landline}").get_json()["citizen"]
    assert other["citizen_id"] != file["citizen_id"]
    resp = agent.post("/citizens/merge", json={"source_phone": landline, "target_phone": phone, "note": "同一人"})
    assert resp.status_code == 200, resp.get_json()
    merged = resp.get_json()
    assert merged["citizen_id"] == file["citizen_id"] and len(merged["phones"]) == 2
    assert len(merged["open_cases"]) == 5
    via_landline = agent.get(f"/citizens/lookup?phone={landline}").get_json()["citizen"]
    assert via_landline["citizen_id"] == file["citizen_id"]
    from hotline.extensions import db
    from hotline.models import CitizenEvent

    with app.app_context():
        actions = set(
            db.session.scalars(
                sa.select(CitizenEvent.action).where(
                    CitizenEvent.citizen_id.in_([file["citizen_id"], other["citizen_id"]])
                )
            )
        )
    assert {"merged_in", "merged_into"} <= actions


def test_external_records_tags_and_unmask_audit(app, api, phone):
    agent = api("agent1")
    body = {
        "phone": phone,
        "source": "网上办事大厅",
        "ref": "WS-" + phone,
        "title": "个体工商户营业执照申请",
        "status": "审核中",
        "occurred_at": "2026-11-01T10:00:00+08:00",
    }
    assert agent.post("/citizens/records", json=body).status_code == 201
    assert agent.post("/citizens/records", json={**body, "status": "已办结"}).status_code == 200
    file = agent.get(f"/citizens/lookup?phone={phone}").get_json()["citizen"]
    assert [(r["title"], r["status"]) for r in file["records"]] == [("个体工商户营业执照申请", "已办结")]
    resp = agent.post(f"/citizens/{file['citizen_id']}/tags", json={"tags": ["elderly"]})
    assert resp.get_json()["care"] == ["老年人"] and resp.get_json()["flags"]["special_care"] is True
    assert agent.post(f"/citizens/{file['citizen_id']}/tags", json={"tags": ["vip"]}).status_code == 422

    resp = agent.post(f"/citizens/{file['citizen_id']}/unmask", json={})
    assert resp.get_json()["phones"] == ["+86" + phone]
    assert api("handler_zjj").post(f"/citizens/{file['citizen_id']}/unmask", json={}).status_code == 403
    from hotline.extensions import db
    from hotline.models import AuditLog, User

    with app.app_context():
        rows = db.session.execute(
            sa.select(User.username, AuditLog.action)
            .join(User, User.id == AuditLog.user_id)
            .where(AuditLog.citizen_id == file["citizen_id"])
        ).all()
    assert rows == [("agent1", "unmask_phone")]


def test_lookup_errors(app, api):
    agent = api("agent1")
    assert agent.get("/citizens/lookup?phone=").status_code == 400
    resp = agent.get("/citizens/lookup?phone=12ab")
    assert resp.status_code == 400 and resp.get_json()["error"]["code"].startswith("phone_")
    unknown = agent.get("/citizens/lookup?phone=13011112222").get_json()
    assert unknown["found"] is False
    assert api("handler_zjj").get("/citizens/lookup?phone=13011112222").status_code == 403
