"""API bearer tokens: shown once, stored as a SHA-256 hash."""

from __future__ import annotations

import secrets
from functools import lru_cache

import sqlalchemy as sa

from hotline.db.insert import attached, labelled, unprefixed
from hotline.extensions import db
from hotline.models import ApiToken, Department, User


def create_token(user: User, label: str = "") -> str:
    token = "hl_" + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user=user, token_hash=ApiToken.hash(token), label=label[:64], hint=token[:9]))
    return token


@lru_cache(maxsize=1)
def _user_by_token_hash():
    """Built once per process: every API request runs it. Core columns, labelled u_/d_ (user, unit)."""
    users, units, tokens = User.__table__, Department.__table__, ApiToken.__table__
    return (
        sa.select(*labelled(users, "u_"), *labelled(units, "d_"))
        .select_from(
            users.join(tokens, tokens.c.user_id == users.c.id).outerjoin(units, units.c.id == users.c.department_id)
        )
        .where(
            tokens.c.token_hash == sa.bindparam("token_hash"), tokens.c.revoked_at.is_(None), users.c.active.is_(True)
        )
    )


def user_for_token(token: str) -> User | None:
    """One query: the active user of an unrevoked token, with the user's unit (read with Core and attached to
    the session as loaded instances: every API request pays this)."""
    row = db.session.execute(_user_by_token_hash(), {"token_hash": ApiToken.hash(token)}).mappings().first()
    if row is None:
        return None
    unit = None
    if row["d_id"] is not None:
        unit = attached(Department, unprefixed(row, "d_"))
    return attached(User, unprefixed(row, "u_"), department=unit)
