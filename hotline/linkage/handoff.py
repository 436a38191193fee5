"""The emergency transfer as a real hand-off (issue 21): a signed request to the configured linkage endpoint of
110/119/120/122 and, when the case came from a call and a call platform is configured, the transfer command
``POST {HOTLINE_CTI_URL}/calls/{call_id}/transfer``.

Both are ``outbox`` rows of channel ``webhook`` (recipients ``linkage:<line>`` and ``cti:<call id>``) written in the
transfer's transaction and sent by the webhook relay (workers/jobs/webhooks.py) with the same headers and retries
as webhooks — signed with HOTLINE_LINKAGE_SECRET (resp. the CTI secret); every attempt and the answer's code are in
``webhook_attempts``, and the case keeps an ``outbound`` ``case_links`` row per line. The handed-over case keeps
urgency 紧急 (at least) and its address.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from flask import current_app

from hotline.db.transactions import after_commit
from hotline.extensions import db
from hotline.models import Case, CaseLink, OutboxMessage
from hotline.webhooks.fanout import CHANNEL, wake_relay
from hotline.webhooks.payloads import case_view

EVENT = "linkage.handoff"


def endpoints() -> dict[str, str]:
    """HOTLINE_LINKAGE_ENDPOINTS "110=https://…,119=https://…" as {line: url}."""
    raw = current_app.config["HOTLINE"].linkage_endpoints or ""
    pairs = (item.strip().partition("=") for item in raw.split(","))
    return {line.strip(): url.strip() for line, _, url in pairs if line.strip() and url.strip()}


def _row(case: Case, recipient: str, event: str, data: dict, now: datetime) -> None:
    delivery = str(uuid.uuid4())
    body = {"id": delivery, "event": event, "occurred_at": now.isoformat(), "data": data}
    db.session.add(
        OutboxMessage(
            channel=CHANNEL,
            recipient=recipient,
            recipient_masked=recipient[:64],
            case_id=case.id,
            text=event,
            payload={"delivery": delivery, "event": event, "body": body},
            created_at=now,
        )
    )


def queue_handoff(case: Case, line: str, note: str, now: datetime) -> bool:
    """Queue the hand-off of ``case`` to ``line`` (in the transfer's transaction); returns whether anything was
    queued (nothing is configured: the transfer stays a record, as before)."""
    if case.urgency == "normal":
        case.urgency = "urgent"  # 紧急: the line receives it as urgent at least
    settings = current_app.config["HOTLINE"]
    url = endpoints().get(line)
    queued = False
    if url:
        view = case_view(case, citizen=True)
        data = {"line": line, "note": note, "sender": settings.linkage_id, "case": view}
        _row(case, f"linkage:{line}", EVENT, data, now)
        db.session.add(
            CaseLink(
                case_id=case.id,
                direction="outbound",
                source_type=line,
                source=line,
                ref=case.number,
                status="queued",
                data={"url": url},
                created_at=now,
                updated_at=now,
            )
        )
        queued = True
    if case.call_id and settings.cti_url:
        _row(case, f"cti:{case.call_id}", "call.transfer", {"call_id": case.call_id, "target": line}, now)
        queued = True
    if queued:
        after_commit(wake_relay)
    return queued


def target_of(recipient: str, settings) -> tuple[str, str] | None:
    """(url, secret) of a hand-off row's recipient, or None when it is not (or no longer) configured."""
    kind, _, value = recipient.partition(":")
    if kind == "linkage":
        url = endpoints().get(value)
        return (url, settings.linkage_secret) if url else None
    if kind == "cti" and settings.cti_url:
        return f"{settings.cti_url.rstrip('/')}/calls/{value}/transfer", settings.cti_secret
    return None
