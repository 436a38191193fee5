"""Signatures of webhook deliveries (and of the linkage's outbound hand-offs)."""

from __future__ import annotations

import hashlib
import hmac


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=HEX(HMAC-SHA256(secret, timestamp + "." + body))``: the ``X-Hotline-Signature`` header."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def body_signature(secret: str, body: bytes) -> str:
    """``sha256=HEX(HMAC-SHA256(secret, body))``: the header of POST /linkage/inbound (API.md)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def valid(header: str, expected: str) -> bool:
    return bool(header) and hmac.compare_digest(header.encode(), expected.encode())
