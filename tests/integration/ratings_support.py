"""Helpers for the 好差评 tests: a case taken to 'replied' over HTTP, the invitation links in the outbox."""

from __future__ import annotations

import hashlib
import hmac
import json

from tests.helpers import new_case


def replied_case(api, phone: str, department: str = "ZJJ", handler: str = "handler_zjj", **overrides) -> str:
    agent, dispatcher, unit = api("agent1"), api("dispatcher1"), api(handler)
    number = new_case(agent, phone, **overrides)["number"]
    assert dispatcher.post(f"/cases/{number}/dispatch", json={"department_code": department}).status_code == 200
    assert unit.post(f"/cases/{number}/sign", json={}).status_code == 200
    resp = unit.post(
        f"/cases/{number}/reply", json={"content": "已责令餐馆安装油烟净化器并限期整改。", "result": "resolved"}
    )
    assert resp.status_code == 200, resp.get_json()
    return number


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
