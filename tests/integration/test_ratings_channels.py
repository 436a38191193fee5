"""好差评 channels: the SMS sender against a real (fake) HTTP gateway, inbound SMS "1"–"5", the CTI keypad."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.helpers import run_jobs
from tests.integration.ratings_support import outbox, signed


class FakeGateway:
    """A tiny real HTTP server speaking the generic gateway protocol: POST JSON, answer 200 (or a set status)."""

    def __init__(self):
        self.received: list[dict] = []
        self.status = 200
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                gateway.received.append({"body": body, "auth": self.headers.get("Authorization")})
                self.send_response(gateway.status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": true}')

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/send"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def gateway(app):
    fake = FakeGateway()
    settings = app.config["HOTLINE"]
    saved = (settings.sms_gateway_url, settings.sms_gateway_token)
    settings.sms_gateway_url, settings.sms_gateway_token = fake.url, "gw-token"
    yield fake
    settings.sms_gateway_url, settings.sms_gateway_token = saved
    fake.close()


def test_sms_invitation_goes_through_the_http_gateway(app, api, phone, gateway, make_case):
    run_jobs(app)  # deliver what earlier tests queued, so only this case's message reaches the gateway
    gateway.received.clear()
    number = make_case("replied", phone=phone).number
    run_jobs(app)
    sent = [r for r in gateway.received if number in r["body"]["text"]]
    assert len(sent) == 1
    assert sent[0]["body"]["to"] == "+86" + phone and sent[0]["auth"] == "Bearer gw-token"
    assert "/r/" in sent[0]["body"]["text"] and sent[0]["body"]["client_ref"].isdigit()
    sms = [m for m in outbox(api, number) if m["channel"] == "sms"]
    assert sms[0]["status"] == "sent" and sms[0]["sent_at"]


def test_gateway_failure_is_retried_not_lost(app, api, phone, gateway, make_case):
    run_jobs(app)
    gateway.status = 503
    number = make_case("replied", phone=phone).number
    run_jobs(app)
    sms = next(m for m in outbox(api, number) if m["channel"] == "sms")
    tried = sms["attempts"]  # the first relay run tried; later runs wait for its back-off
    assert sms["status"] == "pending" and tried == 1
    gateway.status = 200
    from workers.jobs.outbox import relay_outbox

    with app.app_context():
        relay_outbox()  # still backing off: not tried again
        assert next(m for m in outbox(api, number) if m["channel"] == "sms")["attempts"] == tried
        relay_outbox(now=datetime.now(UTC) + timedelta(minutes=5))  # the scheduler's run after the back-off
    sms = next(m for m in outbox(api, number) if m["channel"] == "sms")
    assert sms["status"] == "sent" and sms["attempts"] == tried + 1


def _inbound(app, body, secret=None):
    raw, headers = signed(secret or app.config["HOTLINE"].sms_secret, body)
    return app.test_client().post("/api/v1/sms/inbound", data=raw, headers=headers)


def test_inbound_sms_digit_rates_the_latest_invited_case(app, api, phone, make_case):
    first = make_case("replied", phone=phone).number
    second = make_case("replied", phone=phone).number
    resp = _inbound(app, {"from": "+86 " + phone, "text": " 5 ", "id": "m1"})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["rated"] is True and body["case_number"] == second and body["rating"]["channel"] == "sms"
    assert body["case_status"] == "closed"
    # the next digit rates the remaining invitation (the earlier case); then nothing is left
    resp = _inbound(app, {"from": phone, "text": "２", "id": "m2"})
    assert resp.get_json()["case_number"] == first and resp.get_json()["rectification_id"]
    resp = _inbound(app, {"from": phone, "text": "4", "id": "m3"})
    assert resp.get_json() == {"rated": False, "code": "no_invitation", "message": "该号码没有待评价的工单"}


def test_inbound_sms_refuses_bad_input(app, api, phone):
    assert _inbound(app, {"from": phone, "text": "1"}, secret="wrong").status_code == 401
    client = app.test_client()
    assert (
        client.post(
            "/api/v1/sms/inbound", data=b'{"from": "1", "text": "1"}', headers={"Content-Type": "application/json"}
        ).status_code
        == 401
    )
    _raw, headers = signed(app.config["HOTLINE"].sms_secret, {})
    for payload in (b"not json", b"[1, 2]", b"\xff\xfe"):
        import hashlib
        import hmac

        sig = "sha256=" + hmac.new(app.config["HOTLINE"].sms_secret.encode(), payload, hashlib.sha256).hexdigest()
        resp = client.post("/api/v1/sms/inbound", data=payload, headers={**headers, "X-Hotline-Signature": sig})
        assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "invalid_json"
    resp = _inbound(app, {"text": "1"})
    assert resp.status_code == 400 and "from" in resp.get_json()["error"]["fields"]
    resp = _inbound(app, {"from": phone, "text": 5})
    assert resp.status_code == 400 and "text" in resp.get_json()["error"]["fields"]
    resp = _inbound(app, {"from": "not-a-number", "text": "1"})
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "invalid_phone"
    resp = _inbound(app, {"from": phone, "text": "谢谢你们 <b>"})
    assert resp.status_code == 200 and resp.get_json()["code"] == "not_a_rating"
    resp = _inbound(app, {"from": "139" + f"{uuid.uuid4().int % 10**8:08d}", "text": "3"})
    assert resp.get_json()["code"] == "no_invitation"


def _cti(app, body, secret=None):
    raw, headers = signed(secret or app.config["HOTLINE"].cti_secret, body)
    return app.test_client().post("/api/v1/cti/events", data=raw, headers=headers)


def test_keypad_rating_from_the_call_platform(app, api, phone, make_case):
    number = make_case("replied", phone=phone).number
    call_id = "kp-" + uuid.uuid4().hex[:8]
    at = datetime.now(UTC).isoformat()
    resp = _cti(app, {"event": "rating", "call_id": call_id, "caller": phone, "digits": "1", "at": at})
    assert resp.status_code == 200, resp.get_json()
    rating = resp.get_json()["rating"]
    assert rating["rated"] is True and rating["case_number"] == number and rating["score"] == 1
    # the platform repeats the event: harmless
    again = _cti(app, {"event": "rating", "call_id": call_id, "caller": phone, "digits": "1", "at": at})
    assert again.get_json()["duplicate"] is True and again.get_json()["rating"] is None
    case = api("supervisor1").get(f"/cases/{number}").get_json()
    assert [r["channel"] for r in case["ratings"]] == ["phone"]
    assert [e["action"] for e in case["events"]][-2:] == ["rate", "rating_poor"]
    # bad digits, missing digits
    for digits in ("9", "", None, "12"):
        body = {"event": "rating", "call_id": call_id + "x", "caller": phone, "at": at}
        if digits is not None:
            body["digits"] = digits
        resp = _cti(app, body)
        assert resp.status_code == 400 and "digits" in resp.get_json()["error"]["fields"], digits
    other = _cti(
        app,
        {
            "event": "rating",
            "call_id": "kp-" + uuid.uuid4().hex[:8],
            "caller": "139" + f"{uuid.uuid4().int % 10**8:08d}",
            "digits": "5",
            "at": at,
        },
    )
    assert other.get_json()["rating"]["code"] == "no_invitation"
