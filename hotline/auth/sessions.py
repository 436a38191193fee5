"""Server-side revocable sessions.

The session cookie is signed but kept by the browser, so the server cannot delete it. Each user row holds a
session generation; a session stores the generation it was opened with, and the user loader
(hotline/auth/security.py) accepts the session only while the two are equal. Logout and a password change add
one to the user's generation: every cookie issued before — a copy taken from another machine included — stops
working at its next request (Socket.IO connections too: they load the user the same way).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import session
from flask_login import login_user, logout_user
from sqlalchemy.orm.attributes import set_committed_value

from hotline.extensions import db
from hotline.models import User

GENERATION = "_gen"  # the session key
LOGIN_KEYS = ("_user_id", "_fresh", "_id", GENERATION)  # Flask-Login's keys and ours


def open_session(user: User) -> None:
    """Log ``user`` in on this browser, bound to the user's current generation."""
    login_user(user)
    session[GENERATION] = user.session_generation


def is_current(user: User) -> bool:
    """Whether this request's session was opened in ``user``'s current generation. A session opened before
    generations existed (no key) counts as generation 0: valid until the user's first logout or password change."""
    return session.get(GENERATION, 0) == user.session_generation


def forget() -> None:
    """Drop the login from a session that is no longer valid (the browser gets a cookie without it)."""
    for key in LOGIN_KEYS:
        session.pop(key, None)


def revoke_all(user: User) -> int:
    """End every session of ``user`` (flushes; the caller commits). Returns the new generation."""
    generation = db.session.execute(
        sa.update(User)
        .where(User.id == user.id)
        .values(session_generation=User.session_generation + 1)
        .returning(User.session_generation)
    ).scalar_one()
    set_committed_value(user, "session_generation", generation)
    return generation


def close_session(user: User) -> None:
    """Logout: end this session and every other session of ``user``."""
    revoke_all(user)
    logout_user()
    forget()


def renew(user: User) -> None:
    """After a password change: end every other session, keep this one (on the new generation)."""
    revoke_all(user)
    session[GENERATION] = user.session_generation
