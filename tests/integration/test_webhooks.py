"""Outbound webhooks (issue 21) against a real HTTP receiver on 127.0.0.1: signed deliveries through the outbox,
the delivery log, redelivery, masking and audited unmasking, in-order delivery after an outage, 24 h then
flagged."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from hotline.extensions import db
from hotline.models import AuditLog, OutboxMessage, WebhookSubscription
from tests.integration.connected_support import Receiver, admin_user, signed_ok
from workers.jobs.webhooks import relay_webhooks

SECRET = "s3cret-for-tests"
CASE_EVENTS = ["case.created", "case.updated", "case.replied", "case.closed", "rating.created"]


@pytest.fixture()
def admin(app, make_user, api):
    name = admin_user(app, make_user)
    return api(name)


@pytest.fixture()
def receiver(app):
    settings = app.config["HOTLINE"]
    before, settings.webhook_allow_private = settings.webhook_allow_private, True
    server = Receiver()
    yield server
    server.down()
    settings.webhook_allow_private = before
    with app.app_context():  # no other test's cases go to this receiver
        db.session.execute(sa.update(WebhookSubscription).values(active=False))
        db.session.commit()


def _subscribe(admin, url, events=CASE_EVENTS, **extra) -> int:
    answer = admin.post("/webhooks", json={"url": url, "events": events, "secret": SECRET, **extra})
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["id"]


def _relay(app, now=None) -> int:
    with app.app_context():
        return relay_webhooks(now=now, budget=30)


def _of_case(server: Receiver, number: str) -> list[dict]:
    return [r for r in server.accepted() if json.loads(r["body"])["data"].get("case", {}).get("number") == number]


def test_signed_deliveries_of_a_case_life(app, admin, make_case, receiver):
    sub_id = _subscribe(admin, receiver.url)
    case = make_case("closed", unit="ZJJ")
    assert _relay(app) >= 7

    got = _of_case(receiver, case.number)
    assert all(signed_ok(SECRET, r) for r in got)
    assert not signed_ok("another-secret", got[0])
    names = [r["headers"]["X-Hotline-Event"] for r in got]
    assert names == [
        "case.created",
        "case.updated",  # dispatch
        "case.updated",  # sign
        "case.updated",  # reply
        "case.replied",
        "case.updated",  # close
        "case.closed",
    ]
    bodies = [json.loads(r["body"]) for r in got]
    assert [b["event"] for b in bodies] == names
    assert [b["id"] for b in bodies] == [r["headers"]["X-Hotline-Delivery"] for r in got]
    assert len({b["id"] for b in bodies}) == len(bodies)
    assert bodies[4]["data"]["change"]["action"] == "reply"
    assert bodies[-1]["data"]["case"]["status"] == "closed"
    citizen = bodies[0]["data"]["case"]["citizen"]
    assert "****" in citizen["phone"] and citizen["name"] == "王**"

    log = admin.get(f"/webhooks/{sub_id}/deliveries").get_json()["deliveries"]
    mine = [d for d in log if d["case_number"] == case.number]
    assert len(mine) == 7 and all(d["status"] == "sent" and d["response_code"] == 200 for d in mine)

    again = admin.post(f"/webhooks/{sub_id}/deliveries/{mine[0]['id']}/redeliver")
    assert again.status_code == 202
    _relay(app)
    resent = _of_case(receiver, case.number)[-1]
    assert resent["headers"]["X-Hotline-Delivery"] == mine[0]["delivery"]  # the same id: receivers dedupe
    assert signed_ok(SECRET, resent)


def test_nothing_queued_for_events_not_subscribed_or_rolled_back(app, admin, make_case, receiver):
    sub_id = _subscribe(admin, receiver.url, events=["case.closed"])
    case = make_case("replied")
    with app.app_context():
        queued = db.session.scalar(sa.select(sa.func.count()).where(OutboxMessage.recipient == f"webhook:{sub_id}"))
    assert queued == 0, "replied is not closed: nothing for a case.closed subscription"
    _relay(app)
    assert _of_case(receiver, case.number) == []


def test_receiver_down_then_up_gets_every_event_once_in_order(app, admin, make_case, receiver, clock):
    sub_id = _subscribe(admin, receiver.url)
    receiver.down()
    cases = [make_case("replied") for _ in range(4)] + [make_case("closed") for _ in range(2)]
    assert _relay(app) == 0  # connection refused: every head delivery back to pending with back-off
    receiver.up()
    receiver.status = 503  # up, but failing: answer codes go to the log
    later = datetime.now(UTC) + timedelta(minutes=5)
    assert _relay(app, now=later) == 0
    log = admin.get(f"/webhooks/{sub_id}/deliveries?limit=1000").get_json()["deliveries"]
    assert any(d["response_code"] == 503 for d in log)
    receiver.status = 200
    _relay(app, now=later + timedelta(hours=2))

    with app.app_context():
        rows = db.session.execute(
            sa.select(OutboxMessage.id, OutboxMessage.payload, OutboxMessage.status, OutboxMessage.case_id)
            .where(OutboxMessage.recipient == f"webhook:{sub_id}")
            .order_by(OutboxMessage.id)
        ).all()
    assert rows and all(r.status == "sent" for r in rows)
    assert any(r["status"] == 503 for r in receiver.received)
    delivered = [r["headers"]["X-Hotline-Delivery"] for r in receiver.accepted()]
    counts = defaultdict(int)
    for d in delivered:
        counts[d] += 1
    expected = [r.payload["delivery"] for r in rows]
    assert sorted(counts) == sorted(expected)
    assert set(counts.values()) == {1}, "every delivery id exactly once"
    for case in cases:  # in order per case: the outbox order, which is the order of the changes
        wanted = [r.payload["delivery"] for r in rows if r.payload["body"]["data"]["case"]["number"] == case.number]
        got = [r["headers"]["X-Hotline-Delivery"] for r in _of_case(receiver, case.number)]
        assert got == wanted


def test_failing_for_24_hours_flags_the_subscription(app, admin, make_case, receiver):
    sub_id = _subscribe(admin, receiver.url, events=["case.created"])
    receiver.status = 500
    make_case("registered")
    assert _relay(app) == 0
    view = admin.get(f"/webhooks/{sub_id}").get_json()
    assert view["flagged_at"] is None
    _relay(app, now=datetime.now(UTC) + timedelta(hours=25))
    view = admin.get(f"/webhooks/{sub_id}").get_json()
    assert view["flagged_at"] is not None and "24" in view["flag_reason"]
    log = admin.get(f"/webhooks/{sub_id}/deliveries").get_json()["deliveries"]
    assert log[0]["status"] == "failed" and log[0]["response_code"] == 500 and log[0]["attempts"] == 2


def test_unmasking_subscription_gets_full_data_and_is_audited(app, admin, make_case, receiver, phone):
    _subscribe(admin, receiver.url, events=["case.created"], may_unmask=True)
    case = make_case("registered", phone=phone, citizen_name="李四")
    _relay(app)
    body = json.loads(_of_case(receiver, case.number)[0]["body"])
    assert body["data"]["case"]["citizen"]["name"] == "李四"
    assert body["data"]["case"]["citizen"]["phone"].endswith(phone[-8:])
    with app.app_context():
        audited = db.session.scalar(
            sa.select(sa.func.count()).where(AuditLog.action == "webhook_unmask", AuditLog.case_id == case.id)
        )
    assert audited == 1


def test_alert_raised_through_enqueue_event(app, admin, receiver):
    from hotline.webhooks.fanout import enqueue_event

    _subscribe(admin, receiver.url, events=["alert.raised"])
    with app.app_context():
        assert enqueue_event("alert.raised", {"kind": "surge", "key": "测试", "count": 12}) == 1
        db.session.rollback()  # not committed: nothing goes out
        assert enqueue_event("alert.raised", {"kind": "surge", "key": "测试", "count": 13}) == 1
        db.session.commit()
    _relay(app)
    alerts = [b for b in receiver.bodies() if b["event"] == "alert.raised"]
    assert [a["data"]["count"] for a in alerts] == [13]


def test_bad_subscriptions_are_refused_in_chinese(app, api, admin):
    answer = admin.post("/webhooks", json={"url": "ftp://x", "events": ["case.created"], "secret": SECRET})
    assert answer.status_code == 400 and "http" in answer.get_json()["error"]["message"]
    answer = admin.post("/webhooks", json={"url": "http://127.0.0.1:9/x", "events": ["case.created"], "secret": SECRET})
    assert answer.status_code == 400 and "内网" in answer.get_json()["error"]["message"]  # SSRF guard
    answer = admin.post("/webhooks", json={"url": "https://93.184.216.34/h", "events": ["nope"], "secret": SECRET})
    assert answer.status_code == 400 and "未知的事件类型" in answer.get_json()["error"]["message"]
    answer = admin.post("/webhooks", json={"url": "https://93.184.216.34/h", "events": ["case.created"], "secret": "x"})
    assert answer.status_code == 400
    assert api("agent1").post("/webhooks", json={}).status_code == 403
