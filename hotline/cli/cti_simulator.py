"""A call simulator for demos and tests: posts real HMAC-signed CTI events to a running hotline."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.request
import uuid
from datetime import UTC, datetime


def sign(secret: str, raw: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def post_event(base_url: str, secret: str, payload: dict) -> dict:
    raw = json.dumps(payload, ensure_ascii=False).encode()
    if not base_url.startswith(("http://", "https://")):
        raise ValueError("url must start with http:// or https://")
    url = base_url.rstrip("/") + "/api/v1/cti/events"
    req = urllib.request.Request(  # noqa: S310 — http(s) checked above
        url,
        data=raw,
        method="POST",
        headers={"Content-Type": "application/json", "X-Hotline-Signature": sign(secret, raw)},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 — the operator gives the URL
        return json.loads(resp.read())


def simulate_call(
    base_url: str,
    secret: str,
    caller: str,
    agent: str | None,
    talk_seconds: float = 0,
    call_id: str | None = None,
    echo=print,
) -> str:
    """ringing → answered → (talk) → ended, like a real call platform would send them."""
    call_id = call_id or "sim-" + uuid.uuid4().hex[:12]
    for event in ("ringing", "answered", "ended"):
        if event == "ended" and talk_seconds:
            time.sleep(talk_seconds)
        payload = {
            "event": event,
            "call_id": call_id,
            "caller": caller,
            "callee": "12345",
            "at": datetime.now(UTC).isoformat(),
        }
        if agent:
            payload["agent"] = agent
        echo(f"{event}: {post_event(base_url, secret, payload)}")
        if event == "ringing":
            time.sleep(1.0)
    return call_id
