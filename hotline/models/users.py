"""Staff users, roles and API tokens."""

from __future__ import annotations

import hashlib
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_login import UserMixin

from hotline.auth.roles import DEPARTMENT, ROLE_LABELS
from hotline.extensions import db
from hotline.models.departments import Department
from hotline.models.types import UTCDateTime, utcnow

ROLES = ROLE_LABELS  # role -> zh-CN label, in the order pages and error messages list them
DEPARTMENT_ROLES = DEPARTMENT


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    username: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(64))
    role: so.Mapped[str] = so.mapped_column(sa.String(32), index=True)
    department_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("departments.id"), index=True)
    password_hash: so.Mapped[str] = so.mapped_column(sa.String(255))
    active: so.Mapped[bool] = so.mapped_column(default=True)
    # the sessions of this user that still count: a session stores the value it was opened with, and logout or a
    # password change adds one, so every cookie issued before stops working (hotline/auth/sessions.py)
    session_generation: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    # accounts (issue 17, hotline/users, hotline/auth/passwords.py): contact details; a one-time password (set-up,
    # import, reset) must be replaced before anything else; seed --demo's accounts carry demo_password until changed
    # (production mode refuses to start while one does); TOTP second factor; the OIDC subject of single sign-on
    email: so.Mapped[str] = so.mapped_column(sa.String(255), default="", server_default="")
    phone: so.Mapped[str] = so.mapped_column(sa.String(32), default="", server_default="")
    must_change_password: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    password_expires_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    demo_password: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    totp_secret: so.Mapped[str | None] = so.mapped_column(sa.String(255))  # encrypted with the data key
    totp_enabled_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    totp_last_step: so.Mapped[int | None] = so.mapped_column(sa.BigInteger)  # a code's 30-s step is used once
    oidc_subject: so.Mapped[str | None] = so.mapped_column(sa.String(255), unique=True, index=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    department: so.Mapped[Department | None] = so.relationship()

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    @property
    def is_department_user(self) -> bool:
        return self.role in DEPARTMENT_ROLES

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, self.role)

    def to_dict(self) -> dict:
        return {
            "username": self.username,
            "name": self.name,
            "role": self.role,
            "department_code": self.department.code if self.department else None,
        }


class ApiToken(db.Model):
    """Bearer tokens for machines; only a SHA-256 hash of the token is stored."""

    __tablename__ = "api_tokens"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    label: so.Mapped[str] = so.mapped_column(sa.String(64), default="", server_default="")  # what it is for
    hint: so.Mapped[str] = so.mapped_column(sa.String(16), default="", server_default="")  # its first characters
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    revoked_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    user: so.Mapped[User] = so.relationship()

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()
