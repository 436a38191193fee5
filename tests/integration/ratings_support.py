"""Helpers for the 好差评 tests: the invitation links in the outbox and signed callbacks (a replied case:
``make_case("replied")``)."""

from __future__ import annotations

import hashlib
import hmac
import json


def outbox(api, number: str) -> list[dict]:
    resp = api("supervisor1").get(f"/outbox?case={number}")
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()["items"]


def invitation_tokens(api, number: str, purpose: str | None = None) -> list[str]:
    return [
        m["url"].rsplit("/r/", 1)[1]
        for m in outbox(api, number)
        if m["kind"] == "rating_invitation" and (purpose is None or "/r/" in m["url"])
    ]


def signed(secret: str, body: dict) -> tuple[bytes, dict]:
    raw = json.dumps(body, ensure_ascii=False).encode()
    sig = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return raw, {"Content-Type": "application/json", "X-Hotline-Signature": sig}
