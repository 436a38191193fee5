"""Login failures per account name (the lockout's back-off state) and the login audit trail."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from hotline.extensions import db
from hotline.models.types import UTCDateTime, utcnow


class LoginThrottle(db.Model):
    """Consecutive failed logins of one account name (lower-cased, whether or not such a user exists, so a lock
    says nothing about existence); the row is deleted by a successful login (hotline/auth/lockout.py)."""

    __tablename__ = "login_throttle"

    username: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)
    failures: so.Mapped[int] = so.mapped_column(default=0)
    last_failure_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, index=True)
    locked_until: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)


class LoginEvent(db.Model):
    """One row per login attempt (success, failure, locked), logout and password change (hotline/auth/audit.py)."""

    __tablename__ = "login_events"
    __table_args__ = (sa.Index("ix_login_events_username_at", "username", "at"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow, index=True)
    username: so.Mapped[str] = so.mapped_column(sa.String(64))  # as typed (trimmed, cut to 64)
    user_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"), index=True)  # None: no such user
    result: so.Mapped[str] = so.mapped_column(sa.String(16))  # success, failure, locked, logout, password
    reason: so.Mapped[str] = so.mapped_column(sa.String(32), default="")  # bad_password, unknown_user, inactive
    ip: so.Mapped[str] = so.mapped_column(sa.String(64), default="")
    user_agent: so.Mapped[str] = so.mapped_column(sa.String(255), default="")
