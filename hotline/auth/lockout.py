"""Per-account login lockout with exponential back-off, on top of the per-address rate limit.

Kept in the database (table ``login_throttle``), so every web process sees the same count and the lock holds
while Redis is down. Counted per account name as typed (lower-cased), whether or not such a user exists: a lock
therefore says nothing about which usernames exist. After ``login_lockout_after`` failures in a row the name is
locked for ``login_lockout_seconds``; every further failure (attempts during a lock are refused unchecked and not
counted) doubles it, up to ``login_lockout_max_seconds``. A successful login clears the count; a count whose last
failure is older than ``RESET_AFTER`` starts again from one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from hotline.extensions import db
from hotline.models import LoginThrottle
from hotline.models.types import utcnow

RESET_AFTER = timedelta(hours=24)
MAX_DOUBLINGS = 30  # 2**30 × the base is far beyond any cap; keeps the arithmetic small


@dataclass(frozen=True)
class Policy:
    after: int = 10  # failures in a row before the first lock
    seconds: int = 60  # the first lock
    max_seconds: int = 3600  # no lock longer than this

    @classmethod
    def of(cls, settings) -> Policy:
        return cls(settings.login_lockout_after, settings.login_lockout_seconds, settings.login_lockout_max_seconds)

    def lock_seconds(self, failures: int) -> int:
        """How long the ``failures``-th failure in a row locks the name: 0 before ``after``, then doubling."""
        if self.after <= 0 or failures < self.after:
            return 0
        return min(self.max_seconds, self.seconds * 2 ** min(failures - self.after, MAX_DOUBLINGS))


def account_key(username: str) -> str:
    return (username or "").strip().lower()[:64]


def locked_until(username: str, now: datetime | None = None) -> datetime | None:
    """The end of the lock on ``username``, or None when it may try now."""
    now = now or utcnow()
    until = db.session.scalar(
        sa.select(LoginThrottle.locked_until).where(LoginThrottle.username == account_key(username))
    )
    return until if until is not None and until > now else None


def seconds_left(until: datetime, now: datetime | None = None) -> int:
    return max(1, math.ceil((until - (now or utcnow())).total_seconds()))


@lru_cache(maxsize=4)
def _count_statement(dialect: str):
    """INSERT (name, 1, now) ON CONFLICT (name) DO UPDATE failures + 1 (or 1 after RESET_AFTER) RETURNING failures:
    one statement, so concurrent failures on several processes are all counted."""
    table = LoginThrottle.__table__
    module = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(table).values(
        username=sa.bindparam("name"),
        failures=1,
        last_failure_at=sa.bindparam("now", type_=table.c.last_failure_at.type),
    )
    restart = table.c.last_failure_at < sa.bindparam("stale", type_=table.c.last_failure_at.type)
    return stmt.on_conflict_do_update(
        index_elements=[table.c.username],
        set_={
            "failures": sa.case((restart, 1), else_=table.c.failures + 1),
            "last_failure_at": stmt.excluded.last_failure_at,
        },
    ).returning(table.c.failures)


def record_failure(username: str, policy: Policy, now: datetime | None = None) -> datetime | None:
    """Count a failed login of ``username``; returns the end of the lock it starts (None: no lock yet).
    Flushes; the caller commits (the login view commits on every attempt)."""
    now = now or utcnow()
    name = account_key(username)
    dialect = db.session.get_bind().dialect.name
    failures = db.session.execute(_count_statement(dialect), {"name": name, "now": now, "stale": now - RESET_AFTER})
    failures = failures.scalar_one()
    seconds = policy.lock_seconds(failures)
    until = now + timedelta(seconds=seconds) if seconds else None
    db.session.execute(sa.update(LoginThrottle).where(LoginThrottle.username == name).values(locked_until=until))
    # names nobody tried for a day are forgotten here, so sprayed random names do not pile up
    db.session.execute(
        sa.delete(LoginThrottle).where(
            LoginThrottle.last_failure_at < now - RESET_AFTER,
            sa.or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until < now),
        )
    )
    return until


def record_success(username: str) -> None:
    db.session.execute(sa.delete(LoginThrottle).where(LoginThrottle.username == account_key(username)))
