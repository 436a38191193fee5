"""The administration audit log (等保): ``record()`` adds one append-only row in the caller's transaction.

Other packages call only ``record()`` (and ``snapshot()`` to build before/after dicts); the page, the API and the
CSV export live in this package's other modules."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask import has_request_context, request

from hotline.extensions import db
from hotline.models.audit import AuditEvent

__all__ = ["current_actor", "record", "snapshot"]


def current_actor():
    """The signed-in user of this request (None outside a request or when anonymous: a CLI command, a job)."""
    if not has_request_context():
        return None
    from flask_login import current_user

    return current_user if getattr(current_user, "is_authenticated", False) else None


def _plain(value):
    """JSON-safe copy of a before/after value (datetimes and dates as ISO text, sets as sorted lists)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(_plain(v) for v in value)
    return str(value)


def snapshot(obj, fields) -> dict:
    """``{field: value}`` of an ORM row (or any object) for before/after; None stays None."""
    if obj is None:
        return None
    return {f: _plain(getattr(obj, f, None)) for f in fields}


def record(
    actor,
    action: str,
    target_type: str = "",
    target_id=None,
    before=None,
    after=None,
    ip: str | None = None,
    detail: str = "",
) -> AuditEvent:
    """Add one audit row to the current session (the caller commits: the row stands or falls with the change).

    - ``actor``: a ``User`` (or Flask-Login's current_user), or None for the system / a CLI command.
    - ``action``: dotted name, ``area.object.verb``, e.g. ``org.unit.update``, ``token.revoke``, ``citizen.unmask``.
    - ``target_type`` / ``target_id``: what was acted on (``"unit"``, ``"CGJ"``); the id is stored as text.
    - ``before`` / ``after``: JSON-able dicts/lists (datetimes become ISO text); never put full phone numbers or
      passwords in them.
    - ``ip``: the client's address; by default the current request's (as ProxyFix sees it), "" outside a request.
    - ``detail``: a short zh-CN note (cut to 500 characters).
    """
    agent = ""
    if has_request_context():
        if ip is None:
            ip = request.remote_addr or ""
        agent = (request.user_agent.string or "")[:255]
    actor_id = actor_name = actor_role = None
    if actor is not None and getattr(actor, "is_authenticated", True) and getattr(actor, "id", None) is not None:
        actor_id, actor_name, actor_role = actor.id, actor.username, str(actor.role)
    event = AuditEvent(
        actor_id=actor_id,
        actor_name=(actor_name or "")[:64],
        actor_role=(actor_role or "")[:32],
        action=action[:64],
        target_type=(target_type or "")[:32],
        target_id="" if target_id is None else str(target_id)[:128],
        before=_plain(before),
        after=_plain(after),
        detail=(detail or "")[:500],
        ip=(ip or "")[:64],
        user_agent=agent,
    )
    db.session.add(event)
    return event
