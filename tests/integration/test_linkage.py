"""110 ↔ 12345 linkage (issue 21): POST /api/v1/linkage/inbound, HMAC-signed; one case per incident number even
when sent twice (or twice at once); the outcome goes back to the 110 system's webhook when replied and closed."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from hotline.cases import operations as ops
from hotline.extensions import db
from hotline.models import Case, CaseLink, WebhookSubscription
from hotline.webhooks.signing import body_signature
from tests.factories import user
from tests.helpers import at_once
from tests.integration.connected_support import Receiver, admin_user, signed_ok
from workers.jobs.webhooks import relay_webhooks

SHARED, OWN = "linkage-shared-secret", "secret-of-110-sz"


@pytest.fixture()
def linked(app):
    settings = app.config["HOTLINE"]
    saved = (settings.linkage_secret, settings.linkage_sources, settings.webhook_allow_private)
    settings.linkage_secret, settings.linkage_sources, settings.webhook_allow_private = SHARED, f"110-sz:{OWN}", True
    yield
    settings.linkage_secret, settings.linkage_sources, settings.webhook_allow_private = saved
    with app.app_context():
        db.session.execute(sa.update(WebhookSubscription).values(active=False))
        db.session.commit()


def _post(app, body: dict, secret: str):
    raw = json.dumps(body, ensure_ascii=False).encode()
    return app.test_client().post(
        "/api/v1/linkage/inbound",
        data=raw,
        headers={"Content-Type": "application/json", "X-Hotline-Signature": body_signature(secret, raw)},
    )


def _incident(reference: str, **extra) -> dict:
    return {
        "source": "110-sz",
        "source_type": "110",
        "reference": reference,
        "caller": "13912345678",
        "content": "小区门口路灯不亮已一周，群众报警，非警务警情转12345",
        "address": "福田区福华路88号",
        **extra,
    }


def test_inbound_twice_is_one_case(app, linked):
    first = _post(app, _incident("JJ2026120800017"), OWN)
    assert first.status_code == 201, first.get_json()
    number = first.get_json()["number"]
    again = _post(app, _incident("JJ2026120800017"), OWN)
    assert again.status_code == 200 and again.get_json() == {"number": number, "duplicate": True}
    with app.app_context():
        case = db.session.scalar(sa.select(Case).where(Case.number == number))
        assert case.channel == "110" and case.address == "福田区福华路88号"
        links = db.session.scalars(sa.select(CaseLink).where(CaseLink.ref == "JJ2026120800017")).all()
        assert [(x.case_id, x.direction, x.source) for x in links] == [(case.id, "inbound", "110-sz")]


def test_inbound_twice_at_once_is_one_case(app, linked):
    answers = at_once(app, lambda: _post(app, _incident("JJ-CONCURRENT-1"), OWN), n=4)
    numbers = {a.get_json()["number"] for a in answers}
    assert len(numbers) == 1
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 201]


def test_signature_is_checked(app, linked):
    assert _post(app, _incident("JJ-1"), "wrong-secret").status_code == 401
    assert _post(app, _incident("JJ-1"), SHARED).status_code == 401  # 110-sz has its own secret
    other = _post(app, {**_incident("JJ-2"), "source": "120-sz", "source_type": "120"}, SHARED)
    assert other.status_code == 201  # other sources use the shared one
    bad = _post(app, {**_incident("JJ-3"), "content": ""}, OWN)
    assert bad.status_code == 400 and "诉求内容" in bad.get_json()["error"]["message"]


def test_outcome_goes_back_to_the_sender(app, api, make_user, linked):
    server = Receiver()
    try:
        admin = api(admin_user(app, make_user))
        answer = admin.post(
            "/webhooks",
            json={"url": server.url, "events": ["case.replied", "case.closed"], "secret": OWN, "source": "110-sz"},
        )
        assert answer.status_code == 201
        number = _post(app, _incident("JJ-OUTCOME-1"), OWN).get_json()["number"]
        with app.app_context():
            case = db.session.scalar(sa.select(Case).where(Case.number == number))
            from tests.factories import Factories

            handler = Factories(app, {}, None).handler_of("ZJJ")
            ops.dispatch(case, handler.department, user("dispatcher1"), case.created_at)
            ops.sign(case, handler, case.created_at)
            ops.reply(case, handler, "已修复路灯", "resolved", case.created_at)
            ops.close(case, user("agent1"), "回访满意", case.created_at)
            db.session.commit()
            relay_webhooks(budget=30)
        got = [r for r in server.accepted() if json.loads(r["body"])["data"]["case"]["number"] == number]
        assert [r["headers"]["X-Hotline-Event"] for r in got] == ["case.replied", "case.closed"]
        assert all(signed_ok(OWN, r) for r in got)
        links = json.loads(got[0]["body"])["data"]["case"]["links"]
        assert links[0]["ref"] == "JJ-OUTCOME-1" and links[0]["source"] == "110-sz"
        assert json.loads(got[0]["body"])["data"]["change"]["note"] == "已修复路灯"
    finally:
        server.down()


def test_emergency_transfer_is_a_signed_handoff_and_a_call_transfer(app, make_case, linked):
    from hotline.dispatch.operations import transfer_emergency
    from hotline.models import WebhookAttempt

    line, platform = Receiver(), Receiver()
    settings = app.config["HOTLINE"]
    saved = (settings.linkage_endpoints, settings.cti_url)
    settings.linkage_endpoints, settings.cti_url = f"110={line.url},119=http://127.0.0.1:9/x", platform.url[:-5]
    try:
        case = make_case("registered", address="福田区深南大道1号", content="有人持刀威胁，请求出警")
        with app.app_context():
            row = db.session.get(Case, case.id)
            row.call_id = "CALL-HANDOFF-1"
            transfer_emergency(row, user("dispatcher1"), "110", "持刀威胁", row.created_at)
            db.session.commit()
            relay_webhooks(budget=30)
            row = db.session.get(Case, case.id)
            link = db.session.scalar(sa.select(CaseLink).where(CaseLink.case_id == case.id))
            codes = list(
                db.session.scalars(
                    sa.select(WebhookAttempt.status_code).where(WebhookAttempt.subscription_id.is_(None))
                )
            )
            event = row.events[-1]
        assert row.status == "closed" and row.urgency == "urgent"
        [sent] = [r for r in line.accepted() if json.loads(r["body"])["data"]["case"]["number"] == case.number]
        body = json.loads(sent["body"])
        assert sent["headers"]["X-Hotline-Event"] == "linkage.handoff" and signed_ok(SHARED, sent)
        assert body["data"]["line"] == "110" and body["data"]["case"]["address"] == "福田区深南大道1号"
        assert body["data"]["case"]["urgency"] == "urgent" and body["data"]["note"] == "持刀威胁"
        [command] = [r for r in platform.accepted() if r["path"].endswith("/calls/CALL-HANDOFF-1/transfer")]
        assert json.loads(command["body"])["data"] == {"call_id": "CALL-HANDOFF-1", "target": "110"}
        assert link.direction == "outbound" and link.status == "delivered" and link.data["response_code"] == 200
        assert 200 in codes and event.action == "transfer" and event.data["handoff"] is True
    finally:
        settings.linkage_endpoints, settings.cti_url = saved
        line.down()
        platform.down()
