"""Two-factor login: TOTP (RFC 6238, pyotp) with server-side QR enrolment and one-use recovery codes.

- The secret is stored encrypted with the data key (the personal-data cipher, hotline/citizens/privacy.py). While
  ``totp_enabled_at`` is empty it is a pending enrolment: the user proves the authenticator with one code first.
- A code is accepted for its 30-second step and one step either side (clock drift), and each step only once per
  user (``totp_last_step``, a conditional UPDATE), so an observed code cannot be replayed.
- Recovery codes: ``RECOVERY_COUNT`` random codes shown once at enrolment, stored as SHA-256 (they are random, like
  tokens), each usable once (conditional UPDATE of ``used_at``).
- Which roles must use it: HOTLINE_TOTP_ROLES (hotline/auth/forced.py sends them to enrolment).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

import pyotp
import segno
import sqlalchemy as sa
from flask import current_app

from hotline.extensions import db
from hotline.models import RecoveryCode, User
from hotline.models.types import utcnow

RECOVERY_COUNT = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
STEP = 30
DRIFT = 1  # steps either side


def _cipher():
    return current_app.extensions["hotline_cipher"]


def secret_of(user: User) -> str | None:
    return _cipher().decrypt(user.totp_secret) if user.totp_secret else None


def start_enrolment(user: User) -> str:
    """A pending secret for ``user`` (kept if one is already pending); flushes."""
    if user.totp_secret and user.totp_enabled_at is None:
        return secret_of(user)
    secret = pyotp.random_base32()
    user.totp_secret = _cipher().encrypt(secret)
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.flush()
    return secret


def provisioning_uri(user: User, secret: str) -> str:
    issuer = current_app.config["HOTLINE"].totp_issuer
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=issuer)


def qr_data_uri(uri: str) -> str:
    """The QR code of ``uri`` as an SVG data: URI, made on the server (no script, allowed by img-src data:)."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    code = "".join(ch for ch in (code or "") if ch.isdigit())
    if len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // STEP
    for step in range(current - DRIFT, current + DRIFT + 1):
        if secrets.compare_digest(totp.at(step * STEP), code):
            return step
    return None


def check_code(user: User, code: str, now: datetime | None = None) -> bool:
    """Whether ``code`` is a valid, unused code of ``user``'s secret (pending or enabled); marks its step used."""
    secret = secret_of(user)
    if not secret:
        return False
    step = _matching_step(secret, code, now or utcnow())
    if step is None:
        return False
    used = db.session.execute(
        sa.update(User)
        .where(User.id == user.id, sa.or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if used.rowcount != 1:
        return False  # this step (or a later one) was used already: a replay
    user.totp_last_step = step
    return True


def _hash(code: str) -> str:
    return hashlib.sha256(code.strip().lower().replace(" ", "").encode()).hexdigest()


def new_recovery_codes(user: User) -> list[str]:
    """Replace ``user``'s recovery codes with RECOVERY_COUNT new ones (returned in clear, shown once)."""
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_COUNT):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10))
        code = f"{raw[:5]}-{raw[5:]}"
        codes.append(code)
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_hash(code.replace("-", ""))))
    db.session.flush()
    return codes


def use_recovery_code(user: User, code: str) -> bool:
    """Spend one recovery code of ``user``: True once per code."""
    digest = _hash((code or "").replace("-", ""))
    spent = db.session.execute(
        sa.update(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.code_hash == digest, RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return spent.rowcount == 1


def recovery_codes_left(user: User) -> int:
    where = (RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    return db.session.scalar(sa.select(sa.func.count()).select_from(RecoveryCode).where(*where)) or 0


def confirm_enrolment(user: User, code: str, now: datetime | None = None) -> list[str] | None:
    """Enable the pending secret when ``code`` matches it: returns the new recovery codes, or None."""
    if user.totp_secret is None or user.totp_enabled_at is not None or not check_code(user, code, now):
        return None
    user.totp_enabled_at = now or utcnow()
    return new_recovery_codes(user)


def disable(user: User) -> None:
    """Remove the second factor (an admin's reset, hotline/users): the user enrols again if the role requires it."""
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
