"""API bearer tokens: shown once, stored as a SHA-256 hash."""
from __future__ import annotations

import secrets
from functools import lru_cache

import sqlalchemy as sa
import sqlalchemy.orm as so

from hotline.extensions import db
from hotline.models import ApiToken, User


def create_token(user: User) -> str:
    token = "hl_" + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user=user, token_hash=ApiToken.hash(token)))
    return token


@lru_cache(maxsize=1)
def _user_by_token_hash():
    """Built once per process: every API request runs it (building the select costs more than running it)."""
    return (sa.select(User).join(ApiToken, ApiToken.user_id == User.id)
            .where(ApiToken.token_hash == sa.bindparam("token_hash"), ApiToken.revoked_at.is_(None),
                   User.active.is_(True))
            .options(so.joinedload(User.department)))


def user_for_token(token: str) -> User | None:
    """One query: the active user of an unrevoked token (with the user's unit)."""
    return db.session.scalar(_user_by_token_hash(), {"token_hash": ApiToken.hash(token)})
