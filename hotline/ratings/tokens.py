"""Rating link tokens: ``NONCE.MAC`` — a random nonce and an HMAC-SHA256 of it with a key derived from the app
secret. Only ``token_hash()`` (SHA-256 of the whole token) is stored on the invitation: the link exists in the
citizen's message alone, so nobody reading the database or a staff page can rebuild it. Expiry and single use
live on the invitation row, so a token can be refused as forged (bad MAC or unknown hash), expired or used —
three different answers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

from flask import current_app

_SHAPE = re.compile(r"^[A-Za-z0-9_-]{16,43}\.[A-Za-z0-9_-]{22}$")
# a token as it appears in a link or a message text (GET /outbox masks it: staff never see a citizen's link)
IN_TEXT = re.compile(r"(/r/)[A-Za-z0-9_-]{16,43}\.[A-Za-z0-9_-]{22}")
MASK = "＊＊＊（评价链接仅发送给市民）"


def mac_for(secret: str, nonce: str) -> str:
    key = hashlib.sha256(b"rating-link:" + secret.encode()).digest()
    digest = hmac.new(key, nonce.encode(), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _mac(nonce: str) -> str:
    return mac_for(current_app.config["SECRET_KEY"], nonce)


def make_token(nonce: str) -> str:
    return f"{nonce}.{_mac(nonce)}"


def new_token() -> str:
    """A fresh link token (handed to the invitation's message once, never stored)."""
    return make_token(secrets.token_urlsafe(16))


def token_hash(token: str) -> str:
    """What the invitation stores and is looked up by: hex SHA-256 of the whole token."""
    return hashlib.sha256(token.encode()).hexdigest()


def well_formed(token) -> bool:
    """A well-formed token with a valid MAC (False: forged or mangled, no database look-up needed)."""
    if not isinstance(token, str) or not _SHAPE.match(token):
        return False
    nonce, _, mac = token.partition(".")
    return hmac.compare_digest(mac, _mac(nonce))


def mask_links(text: str | None) -> str | None:
    """``text`` with every rating-link token replaced by a mask (for staff views of sent messages)."""
    return IN_TEXT.sub(lambda m: m.group(1) + MASK, text) if text else text
