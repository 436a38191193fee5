"""The login audit trail: one ``login_events`` row per login attempt, logout and password change."""

from __future__ import annotations

from flask import has_request_context, request

from hotline.extensions import db
from hotline.models import LoginEvent, User

RESULTS = ("success", "failure", "locked", "logout", "password", "totp")  # totp: a second factor enrolled


def record(result: str, username: str, user: User | None = None, reason: str = "") -> LoginEvent:
    """Add the event of this request (client address as the app sees it: behind HOTLINE_PROXY_FIX proxies, the
    forwarded one). Added to the session; the caller commits."""
    if result not in RESULTS:
        raise ValueError(f"unknown login result {result!r}")
    ip = agent = ""
    if has_request_context():
        ip = (request.remote_addr or "")[:64]
        agent = (request.user_agent.string or "")[:255]
    event = LoginEvent(
        username=(username or "").strip()[:64],
        user_id=user.id if user is not None else None,
        result=result,
        reason=reason[:32],
        ip=ip,
        user_agent=agent,
    )
    db.session.add(event)
    return event
