"""Password hashing with Argon2id (argon2-cffi)."""

from __future__ import annotations

import secrets
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
MIN_LENGTH = 10  # a new password (the change-password page)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash of a random password with the hasher's parameters, made once per process."""
    return _hasher.hash(secrets.token_urlsafe(16))


def verify_nothing(password: str) -> bool:
    """The work of a wrong-password check for a login whose user does not exist (or may not log in), so the
    answer takes as long as for a real user and the response time does not tell which usernames exist."""
    verify_password(_dummy_hash(), password)
    return False


def needs_rehash(stored: str) -> bool:
    """Whether a stored hash was made with other parameters than today's (rehashed at the next login)."""
    try:
        return _hasher.check_needs_rehash(stored)
    except InvalidHashError:
        return True


def warm_up() -> None:
    """Make the dummy hash at start-up, so the first unknown-user login does not pay for it."""
    _dummy_hash()
