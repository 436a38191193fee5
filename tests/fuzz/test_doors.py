"""hypothesis against the doors that are not the JSON API: the citizens' web forms (/portal), the WeChat XML callback,
the CTI and SMS webhooks (signed bodies, so the fuzz reaches the parsing) and Open311's form posts and queries.
Every answer must be below 500; each door reports ``fuzz DOOR: N inputs, 5xx = K``.

These doors belong to other parts of issue 16's work: a door that still answers 5xx is reported (the count line and
the first failing inputs) and marked xfail instead of fixed here. ``FUZZ_DOOR_EXAMPLES`` bounds the inputs (default
150 per door).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import time
import urllib.parse
import uuid
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import counts

EXAMPLES = int(os.environ.get("FUZZ_DOOR_EXAMPLES", "150"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
WECHAT_TOKEN = "fuzz-wechat-token"
# Values that broke parsers before (issue 16): ² and １ pass str.isdigit(); huge numbers overflow SQL parameters;
# NUL is refused by PostgreSQL; ]]> closes a CDATA section; dates outside datetime's range.
NASTY = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "a\x00b",
        "²",
        "１２３",
        "1" + "0" * 20,
        "1" + "0" * 40,
        "-1",
        "NaN",
        "inf",
        "]]>",
        "<script>alert(1)</script>",
        "' OR '1'='1",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-12:00",
        "2020-01-01T00:00:00+08:00",
        "2099-01-01T00:00:00Z",
        "查询",
        "查询GD20261207000001谢谢",
        "13800138000",
        "138 1234 5678",
        "x" * 5000,
        "举报",
        "%00",
        "\ud800",
    ]
)
TEXT = st.one_of(NASTY, st.text(max_size=200))
SHORT = st.one_of(NASTY, st.text(max_size=40))
PHONEISH = st.one_of(NASTY, st.from_regex(r"\A1[3-9][0-9]{9}\Z"), st.text(alphabet="0123456789+- ", max_size=20))
IP = st.tuples(*[st.integers(1, 254)] * 4).map(lambda t: "10.{}.{}.{}".format(*t[1:]))


class Door:
    """Counts inputs and 5xx answers of one door; ``finish`` reports and fails (or xfails) the test."""

    def __init__(self, name: str):
        self.name, self.inputs, self.failures, self.statuses = name, 0, [], {}

    def saw(self, response, described: str) -> None:
        self.inputs += 1
        self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1
        if response.status_code >= 500:
            self.failures.append(f"{response.status_code} for {described[:400]}")

    def finish(self, owner: str, accepted: bool = True) -> None:
        """``accepted``: some inputs must get through (a 2xx), so the fuzz reaches past the signature and parser."""
        counts.report(f"fuzz {self.name}: {self.inputs} inputs, 5xx = {len(self.failures)}")
        print(self.name, sorted(self.statuses.items()))
        assert self.inputs >= EXAMPLES
        if accepted:
            assert any(200 <= status < 300 for status in self.statuses), self.statuses
        if self.failures:
            examples = "\n".join(sorted(set(self.failures))[:5])
            pytest.xfail(f"{self.name} answers 5xx ({owner}'s door, reported to the lead):\n{examples}")


def _client(app, ip: str):
    return app.test_client(environ_base={"REMOTE_ADDR": ip})


def _sign(secret: str, raw: bytes) -> dict:
    return {"X-Hotline-Signature": "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()}


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


# --- the citizens' web forms ---------------------------------------------------------------------------------------


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "no csrf_token on the portal form"
    return match.group(1)


def test_fuzz_portal_forms(fuzz_app):
    door = Door("portal")
    client = fuzz_app.test_client()
    token = _csrf(client.get("/portal/submit").get_data(as_text=True))

    @SETTINGS
    @given(
        fields=st.fixed_dictionaries(
            {
                "phone": PHONEISH,
                "name": SHORT,
                "kind": st.one_of(st.sampled_from(["help", "complaint", "report", "consult"]), SHORT),
                "district": SHORT,
                "address": TEXT,
                "content": TEXT,
                "challenge": SHORT,
                "answer": SHORT,
            },
            optional={"website": SHORT, "number": SHORT},
        ),
        path=st.sampled_from(["/portal/submit", "/portal/status"]),
        ip=IP,
        with_csrf=st.booleans(),
    )
    def run(fields, path, ip, with_csrf):
        data = {k: _encode(v) for k, v in fields.items()}
        if with_csrf:
            data["csrf_token"] = token
        client.environ_base["REMOTE_ADDR"] = ip
        door.saw(client.post(path, data=data), f"POST {path} {fields!r}")

    run()
    door.finish("portal", accepted=False)  # no input solves the challenge or names a case: refused, never a 5xx


# --- WeChat ------------------------------------------------------------------------------------------------------


def _wechat_query() -> dict:
    timestamp, nonce = str(int(time.time())), uuid.uuid4().hex[:10]
    signature = hashlib.sha1("".join(sorted([WECHAT_TOKEN, timestamp, nonce])).encode()).hexdigest()  # noqa: S324
    return {"signature": signature, "timestamp": timestamp, "nonce": nonce}


WECHAT_FIELDS = st.fixed_dictionaries(
    {
        "ToUserName": SHORT,
        "FromUserName": st.one_of(st.just("o" + "f" * 27), SHORT),
        "MsgType": st.one_of(st.sampled_from(["text", "voice", "location", "image", "event", "link", "video"]), SHORT),
    },
    optional={
        "CreateTime": st.one_of(st.integers(-(2**70), 2**70).map(str), SHORT),
        "Content": TEXT,
        "MsgId": st.one_of(st.integers(-(2**70), 2**70).map(str), SHORT),
        "Event": st.one_of(st.sampled_from(["subscribe", "unsubscribe", "CLICK", "LOCATION"]), SHORT),
        "Recognition": TEXT,
        "Location_X": SHORT,
        "Location_Y": SHORT,
        "Scale": SHORT,
        "Label": TEXT,
        "PicUrl": SHORT,
        "MediaId": SHORT,
    },
)


# Mostly well-formed messages with hostile text, so the fuzz reaches what a message does (查询, intake, replies).
WECHAT_MESSAGES = st.builds(
    lambda openid, msg_type, content, msg_id: {
        "ToUserName": "gh_hotline",
        "FromUserName": openid,
        "CreateTime": str(int(time.time())),
        "MsgType": msg_type,
        "Content": content,
        "Recognition": content,
        "Event": "subscribe",
        "Location_X": "23.1291",
        "Location_Y": "113.2644",
        "Label": content,
        "MsgId": str(msg_id),
    },
    st.sampled_from(["o" + "f" * 27, "o" + "e" * 27]),
    st.sampled_from(["text", "text", "voice", "location", "event", "image"]),
    st.one_of(NASTY, st.text(alphabet=st.characters(exclude_categories=("Cs", "Cc")), max_size=200)),
    st.integers(1, 2**62),
)


def _wechat_xml(fields: dict, cdata: bool) -> bytes:
    def value(v: str) -> str:
        return f"<![CDATA[{v}]]>" if cdata else escape(v)

    return _encode("<xml>" + "".join(f"<{k}>{value(v)}</{k}>" for k, v in fields.items()) + "</xml>")


def test_fuzz_wechat_xml_callback(fuzz_app, monkeypatch):
    settings_ = fuzz_app.config["HOTLINE"]
    for name, value in (
        ("wechat_token", WECHAT_TOKEN),
        ("wechat_appid", "wx0123456789abcdef"),
        ("wechat_aes_key", ""),
        ("wechat_secret", "fuzz-secret"),
        ("wechat_rate_limit", "100000 per minute"),
    ):
        monkeypatch.setattr(settings_, name, value)
    door = Door("wechat")
    client = fuzz_app.test_client()

    @SETTINGS
    @given(
        body=st.one_of(
            st.builds(_wechat_xml, WECHAT_MESSAGES, st.just(True)),
            st.builds(_wechat_xml, WECHAT_MESSAGES, st.just(False)),
            st.builds(_wechat_xml, WECHAT_FIELDS, st.booleans()),
            st.binary(max_size=300),
            TEXT.map(_encode),
            st.just(b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml>&e;</xml>'),
        ),
        signed=st.integers(0, 9),
    )
    def run(body, signed):
        query = _wechat_query() if signed else {"signature": "0" * 40, "timestamp": "1", "nonce": "n"}
        resp = client.post("/wechat", query_string=query, data=body, content_type="text/xml")
        door.saw(resp, f"POST /wechat {body[:300]!r}")

    run()
    door.finish("WeChat")


# --- CTI and SMS webhooks ------------------------------------------------------------------------------------------

CTI_EVENT = st.fixed_dictionaries(
    {},
    optional={
        "event": st.one_of(st.sampled_from(["ringing", "answered", "ended", "recording", "rating"]), SHORT),
        "call_id": st.one_of(st.uuids().map(str), SHORT),
        "caller": PHONEISH,
        "callee": SHORT,
        "agent": st.one_of(st.sampled_from(["agent1", "nobody"]), SHORT),
        "at": st.one_of(
            st.datetimes().map(lambda d: d.isoformat() + "+08:00"),
            SHORT,
        ),
        "recording_url": SHORT,
        "digits": SHORT,
    },
)


def _now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())


# Well-formed, fresh events with hostile values in one field at a time: past the signature, freshness and parser.
CTI_FRESH = st.builds(
    lambda event, call_id, caller, extra: {
        "event": event,
        "call_id": call_id,
        "caller": caller,
        "callee": "12345",
        "agent": "agent1",
        "at": _now_iso(),
        "digits": "5",
        **extra,
    },
    st.sampled_from(["ringing", "answered", "ended", "recording", "rating"]),
    st.uuids().map(str),
    st.from_regex(r"\A1[3-9][0-9]{9}\Z"),
    st.dictionaries(st.sampled_from(["agent", "recording_url", "digits", "callee", "call_id"]), SHORT, max_size=1),
)
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | SHORT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(SHORT, inner, max_size=4),
    max_leaves=10,
)


def _webhook_body(payload) -> bytes:
    return payload if isinstance(payload, bytes) else _encode(json.dumps(payload, ensure_ascii=False))


def test_fuzz_cti_events(fuzz_app):
    door = Door("cti")
    client = fuzz_app.test_client()
    secret = fuzz_app.config["HOTLINE"].cti_secret

    @SETTINGS
    @given(payload=st.one_of(CTI_FRESH, CTI_EVENT, JSONISH, st.binary(max_size=200)))
    def run(payload):
        raw = _webhook_body(payload)
        resp = client.post("/api/v1/cti/events", data=raw, content_type="application/json", headers=_sign(secret, raw))
        door.saw(resp, f"POST /api/v1/cti/events {raw[:300]!r}")

    run()
    door.finish("CTI")


def test_fuzz_sms_webhook(fuzz_app):
    door = Door("sms")
    client = fuzz_app.test_client()
    secret = fuzz_app.config["HOTLINE"].sms_secret
    sms = st.fixed_dictionaries({}, optional={"from": PHONEISH, "text": st.one_of(TEXT, st.integers()), "id": SHORT})

    @SETTINGS
    @given(payload=st.one_of(sms, sms, JSONISH, st.binary(max_size=200)))
    def run(payload):
        raw = _webhook_body(payload)
        resp = client.post("/api/v1/sms/inbound", data=raw, content_type="application/json", headers=_sign(secret, raw))
        door.saw(resp, f"POST /api/v1/sms/inbound {raw[:300]!r}")

    run()
    door.finish("SMS")


# --- Open311 -------------------------------------------------------------------------------------------------------


def test_fuzz_open311_form_posts_and_queries(fuzz_app, fuzz_tokens):
    door = Door("open311")
    client = fuzz_app.test_client()
    services = client.get("/open311/v2/services.json").get_json() or []
    codes = [s["service_code"] for s in services if isinstance(s, dict) and "service_code" in s] or ["001"]
    form = st.fixed_dictionaries(
        {},
        optional={
            "api_key": st.one_of(st.just(fuzz_tokens["agent1"]), SHORT),
            "service_code": st.one_of(st.sampled_from(codes), SHORT),
            "description": TEXT,
            "lat": st.one_of(st.floats().map(str), SHORT),
            "long": st.one_of(st.floats().map(str), SHORT),
            "address_string": TEXT,
            "address_id": SHORT,
            "email": SHORT,
            "device_id": SHORT,
            "account_id": SHORT,
            "first_name": SHORT,
            "last_name": SHORT,
            "phone": PHONEISH,
            "media_url": SHORT,
            "jurisdiction_id": SHORT,
        },
    )
    query = st.fixed_dictionaries(
        {},
        optional={
            "service_request_id": SHORT,
            "service_code": SHORT,
            "status": st.one_of(st.sampled_from(["open", "closed", "open,closed"]), SHORT),
            "start_date": SHORT,
            "end_date": SHORT,
            "page": SHORT,
            "page_size": SHORT,
            "jurisdiction_id": SHORT,
        },
    )

    @SETTINGS
    @given(
        post=st.booleans(),
        fmt=st.sampled_from(["json", "xml"]),
        fields=form,
        params=query,
        path_part=SHORT,
        ip=IP,
    )
    def run(post, fmt, fields, params, path_part, ip):
        client.environ_base["REMOTE_ADDR"] = ip
        if post:
            data = {k: _encode(v) for k, v in fields.items()}
            resp = client.post(f"/open311/v2/requests.{fmt}", data=data)
            door.saw(resp, f"POST /open311/v2/requests.{fmt} {fields!r}")
        else:
            args = {k: _encode(v) for k, v in params.items()}
            resp = client.get(f"/open311/v2/requests.{fmt}", query_string=args)
            door.saw(resp, f"GET /open311/v2/requests.{fmt} {params!r}")
            part = urllib.parse.quote(_encode(path_part.replace("/", "")[:40] or "x"))  # lone surrogates as bytes
            one = client.get(f"/open311/v2/requests/{part}.{fmt}")
            door.saw(one, f"GET /open311/v2/requests/{path_part!r}.{fmt}")

    run()
    door.finish("Open311")
