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


def sent_messages(app, number: str) -> list[dict]:
    """The messages of a case as the citizen's gateway receives them (the outbox rows, links included): staff
    see them masked through GET /outbox, so tests read the links where only the citizen's message has them."""
    import sqlalchemy as sa

    from hotline.extensions import db
    from hotline.models import Case, OutboxMessage

    with app.app_context():
        case_id = db.session.scalar(sa.select(Case.id).where(Case.number == number))
        rows = db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.case_id == case_id).order_by(OutboxMessage.id)
        ).all()
        return [{"id": m.id, "channel": m.channel, "text": m.text, **(m.payload or {})} for m in rows]


def invitation_tokens(api, number: str, purpose: str | None = None) -> list[str]:
    app = api("supervisor1").client.application
    return [
        m["url"].rsplit("/r/", 1)[1]
        for m in sent_messages(app, number)
        if m.get("kind") == "rating_invitation" and (purpose is None or m.get("purpose") == purpose)
    ]


def signed(secret: str, body: dict) -> tuple[bytes, dict]:
    raw = json.dumps(body, ensure_ascii=False).encode()
    sig = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return raw, {"Content-Type": "application/json", "X-Hotline-Signature": sig}
