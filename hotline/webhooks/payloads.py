"""Webhook events and their JSON bodies (documented in docs/api.md, section "connected").

Every body: ``{"id": DELIVERY, "event": NAME, "occurred_at": ISO, "data": {...}}``. Case events carry
``data.case`` (:func:`case_view`) and ``data.change`` (the timeline event); ``rating.created`` also
``data.rating``; ``alert.raised`` whatever its emitter gives. The citizen's name and phone are masked
(``张*``, ``138****8000``); a subscription with ``may_unmask`` gets them in full, filled in at sending time and
written to the audit log (hotline/webhooks/delivery.py).
"""

from __future__ import annotations

from datetime import datetime

from hotline.cases.workflow import CaseState
from hotline.citizens.privacy import mask_name
from hotline.citizens.profile import citizen_name
from hotline.models import Case, CaseEvent, Rating

EVENTS = {
    "case.created": "工单登记",
    "case.updated": "工单状态变化",
    "case.replied": "承办单位答复",
    "case.closed": "工单办结",
    "rating.created": "市民评价",
    "alert.raised": "预警",
}
CLOSING = {CaseState.CLOSED.value}


def events_of_change(kind: str, event: CaseEvent | None) -> list[str]:
    """The webhook events one change raises: ``created`` → case.created; a timeline event that changes the
    status → case.updated, and also case.replied (a lead unit's reply) / case.closed (closed by any action);
    ``rating`` → rating.created."""
    if kind == "created":
        return ["case.created"]
    if kind == "rating":
        return ["rating.created"]
    if event is None or event.from_status == event.to_status:
        return []
    names = ["case.updated"]
    if event.action == "reply":
        names.append("case.replied")
    if event.to_status in CLOSING:
        names.append("case.closed")
    return names


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def case_view(case: Case, links: list[dict] | None = None, *, citizen: bool = True) -> dict:
    """The case as a webhook (``citizen``: masked name and phone) or the feed (no citizen) shows it."""
    lead = case.lead_department
    view = {
        "number": case.number,
        "kind": case.kind,
        "channel": case.channel,
        "urgency": case.urgency,
        "status": case.status,
        "title": case.title,
        "content": case.content,
        "address": case.address,
        "category": case.category.path if case.category is not None else None,
        "department_code": lead.code if lead is not None else None,
        "created_at": _iso(case.created_at),
        "closed_at": _iso(case.closed_at),
        "version": case.version,
        "links": links or [],
    }
    if citizen:
        name = citizen_name(case.citizen) if case.citizen is not None else None
        view["citizen"] = {"name": mask_name(name), "phone": case.phone.masked if case.phone is not None else ""}
    return view


def change_view(event: CaseEvent) -> dict:
    return {
        "action": event.action,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "note": event.note,
        "actor": event.actor_label,
        "department_code": event.department.code if event.department is not None else None,
        "at": _iso(event.created_at),
    }


def rating_view(rating: Rating) -> dict:
    return {
        "id": rating.id,
        "score": rating.score,
        "resolved": rating.resolved,
        "comment": rating.comment,
        "channel": rating.channel,
        "purpose": rating.purpose,
        "poor": rating.poor,
        "at": _iso(rating.created_at),
    }
