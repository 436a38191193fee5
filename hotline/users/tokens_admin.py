"""Per-user API tokens: issue (shown once), list and revoke — each audited (``token.create`` / ``token.revoke``).

A user manages their own tokens (page /account/tokens); an admin (``users.admin``) any user's, and
``flask token revoke`` from the command line. A revoked token stops authenticating at its next request
(hotline/auth/tokens.py looks it up on every request)."""

from __future__ import annotations

import sqlalchemy as sa

from hotline import audit
from hotline.auth.tokens import create_token
from hotline.cases.errors import InvalidInput, NotFound
from hotline.extensions import db
from hotline.models import ApiToken, User
from hotline.models.types import utcnow

MAX_LABEL = 64


def issue(actor, user: User, label: str) -> tuple[ApiToken, str]:
    label = (label or "").strip()
    if len(label) > MAX_LABEL:
        raise InvalidInput("invalid_input", f"用途说明最多 {MAX_LABEL} 个字符", {"label": "太长"})
    value = create_token(user, label)
    db.session.flush()
    row = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == ApiToken.hash(value)))
    audit.record(
        actor, "token.create", "token", row.id, after={"user": user.username, "label": label, "hint": row.hint}
    )
    return row, value


def listing(user: User | None = None, include_revoked: bool = True) -> list[tuple[ApiToken, str]]:
    query = sa.select(ApiToken, User.username).join(User, User.id == ApiToken.user_id).order_by(ApiToken.id.desc())
    if user is not None:
        query = query.where(ApiToken.user_id == user.id)
    if not include_revoked:
        query = query.where(ApiToken.revoked_at.is_(None))
    return [(tok, name) for tok, name in db.session.execute(query)]


def to_dict(tok: ApiToken, username: str) -> dict:
    return {
        "id": tok.id,
        "username": username,
        "label": tok.label,
        "hint": tok.hint,
        "created_at": tok.created_at.isoformat() if tok.created_at else None,
        "revoked_at": tok.revoked_at.isoformat() if tok.revoked_at else None,
    }


def get(token_id: int, owner: User | None = None) -> ApiToken:
    """Token ``token_id``; with ``owner``, only one of that user's (another's is 404, not 403)."""
    tok = db.session.get(ApiToken, token_id)
    if tok is None or (owner is not None and tok.user_id != owner.id):
        raise NotFound("token_not_found", f"令牌 {token_id} 不存在")
    return tok


def revoke(actor, token_id: int, owner: User | None = None) -> ApiToken:
    tok = get(token_id, owner)
    if tok.revoked_at is None:
        tok.revoked_at = utcnow()
        db.session.flush()
        audit.record(actor, "token.revoke", "token", tok.id, after={"user_id": tok.user_id, "hint": tok.hint})
    return tok


def revoke_all_of(actor, user: User) -> list[ApiToken]:
    live = db.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)))
    return [revoke(actor, tok.id) for tok in list(live)]
