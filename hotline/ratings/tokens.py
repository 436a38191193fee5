"""Rating link tokens: ``NONCE.MAC`` — a random nonce (stored on the invitation) and an HMAC-SHA256 of it with
a key derived from the app secret. Expiry and single use live on the invitation row, so a token can be refused
as forged (bad MAC or unknown nonce), expired or used — three different answers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

from flask import current_app

_SHAPE = re.compile(r"^[A-Za-z0-9_-]{16,43}\.[A-Za-z0-9_-]{22}$")


def _mac(nonce: str) -> str:
    key = hashlib.sha256(b"rating-link:" + current_app.config["SECRET_KEY"].encode()).digest()
    digest = hmac.new(key, nonce.encode(), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


def make_token(nonce: str) -> str:
    return f"{nonce}.{_mac(nonce)}"


def nonce_from(token: str) -> str | None:
    """The nonce of a well-formed token with a valid MAC, else None (forged or mangled)."""
    if not isinstance(token, str) or not _SHAPE.match(token):
        return None
    nonce, _, mac = token.partition(".")
    return nonce if hmac.compare_digest(mac, _mac(nonce)) else None
