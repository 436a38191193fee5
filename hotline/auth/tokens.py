"""API bearer tokens: shown once, stored as a SHA-256 hash."""
from __future__ import annotations

import secrets

import sqlalchemy as sa

from hotline.extensions import db
from hotline.models import ApiToken, User


def create_token(user: User) -> str:
    token = "hl_" + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user=user, token_hash=ApiToken.hash(token)))
    return token


def user_for_token(token: str) -> User | None:
    row = db.session.scalar(
        sa.select(ApiToken).where(ApiToken.token_hash == ApiToken.hash(token), ApiToken.revoked_at.is_(None))
    )
    if row is None or not row.user.active:
        return None
    return row.user
