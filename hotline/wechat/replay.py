"""One use per signed WeChat request: its (timestamp, nonce) is remembered for the signature window.

WeChat's plain-mode signature covers only the token, timestamp and nonce — not the body — so a signed URL that
leaks (an access log, a proxy) could carry any message for as long as its timestamp is accepted. Each (timestamp,
nonce) is therefore claimed once, in the database (``replay_guards``: every web process sees it, and it holds while
Redis is down), together with the SHA-256 of the body it came with. The same pair again is refused — unless the
body is byte-for-byte the same, which is WeChat retrying a slow answer (or a harmless exact copy): that one goes on
to the MsgId dedupe, which answers the first answer again and creates nothing.
"""

from __future__ import annotations

import hashlib
import time
from datetime import datetime

import sqlalchemy as sa

from hotline.db.dialect import insert_ignore
from hotline.extensions import db
from hotline.models import ReplayGuard
from hotline.wechat import locations

PRUNE_EVERY = 60.0  # seconds between two prunes of expired rows by one process
BATCH = 1000  # rows deleted per prune and table at most (WeChat sends far fewer per minute)
_last_prune = [0.0]


def fingerprint(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def claim(scope: str, key: str, body: bytes, expires_at: datetime, now: datetime) -> bool:
    """Record (scope, key) with ``body``'s fingerprint and commit; False when it was claimed before with another
    body (a replay). Its own commit, before the message is handled: a later rollback must not free the pair."""
    digest = fingerprint(body)
    row_id = db.session.scalar(
        insert_ignore(ReplayGuard, ["scope", "key"])
        .values(scope=scope, key=key, fingerprint=digest, expires_at=expires_at, created_at=now)
        .returning(ReplayGuard.id)
    )
    first = None
    if row_id is None:
        first = db.session.scalar(
            sa.select(ReplayGuard.fingerprint).where(ReplayGuard.scope == scope, ReplayGuard.key == key)
        )
    db.session.commit()
    if time.monotonic() - _last_prune[0] > PRUNE_EVERY:
        _last_prune[0] = time.monotonic()
        prune(now)
        db.session.commit()
    return row_id is not None or first == digest


def prune(now: datetime) -> int:
    """Delete up to ``BATCH`` rows whose window has passed (their timestamps are refused as stale anyway), and the
    unused locations. Rows another process is deleting are skipped (``SKIP LOCKED`` on PostgreSQL), never waited
    for: two processes pruning at once neither block nor deadlock each other."""
    expired = (
        sa.select(ReplayGuard.id).where(ReplayGuard.expires_at < now).limit(BATCH).with_for_update(skip_locked=True)
    )
    gone = db.session.execute(sa.delete(ReplayGuard).where(ReplayGuard.id.in_(expired))).rowcount or 0
    return gone + locations.prune(now)
