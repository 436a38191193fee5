"""Password hashing with Argon2id (argon2-cffi), one-time passwords, and the password policy.

- A password a person chose is stored as Argon2id.
- A one-time password (set-up, import, an admin's reset) is 16 random characters (≈ 79 bits) issued by the server:
  no guessing attack applies to it, so it is stored as a salted SHA-256 (``otp$salt$hex``) — the same reasoning as
  API tokens — which lets ``users import`` load 50,000 accounts in seconds. It opens one thing only: the
  change-password page (``must_change_password``, hotline/auth/forced.py), and it expires.
- The policy (``problems()``): a minimum length, not in the shipped list of common passwords
  (``common_passwords.txt``), not the username (nor containing it), not the demo password.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
MIN_LENGTH = 10  # the default of HOTLINE_PASSWORD_MIN_LENGTH
MAX_LENGTH = 128
ONE_TIME = "otp$"
OTP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read from paper or a screen
OTP_GROUPS, OTP_GROUP = 4, 4
DEMO_PASSWORD = "hotline12345"  # noqa: S105 - hotline/seed/city.py's public demo password, refused as a new one
COMMON_FILE = Path(__file__).with_name("common_passwords.txt")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _otp_digest(salt: str, password: str) -> str:
    return hashlib.sha256((salt + ":" + password).encode()).hexdigest()


def new_one_time_password() -> str:
    """16 random characters in groups of four, e.g. ``k7mq-x3pa-9rtw-hh2c``."""
    groups = ("".join(secrets.choice(OTP_ALPHABET) for _ in range(OTP_GROUP)) for _ in range(OTP_GROUPS))
    return "-".join(groups)


def hash_one_time(password: str) -> str:
    salt = secrets.token_hex(8)
    return f"{ONE_TIME}{salt}${_otp_digest(salt, password)}"


def is_one_time(stored: str) -> bool:
    return stored.startswith(ONE_TIME)


def verify_password(stored: str, password: str) -> bool:
    if is_one_time(stored):
        try:
            salt, digest = stored[len(ONE_TIME) :].split("$", 1)
        except ValueError:
            return False
        typed = password.strip().lower()  # typed from a printout: spaces around, capitals
        return hmac.compare_digest(_otp_digest(salt, typed), digest)
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
    """Whether a stored hash was made with other parameters than today's (rehashed at the next login). A one-time
    password is never rehashed: it is replaced by the user's own at this login."""
    if is_one_time(stored):
        return False
    try:
        return _hasher.check_needs_rehash(stored)
    except InvalidHashError:
        return True


def warm_up() -> None:
    """Make the dummy hash at start-up, so the first unknown-user login does not pay for it."""
    _dummy_hash()


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    lines = COMMON_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def problems(password: str, username: str = "", min_length: int = MIN_LENGTH) -> list[str]:
    """Why ``password`` may not be chosen (Chinese, for the form or the JSON error); [] when it may."""
    out = []
    if len(password) < min_length:
        out.append(f"密码至少需要 {min_length} 个字符")
    if len(password) > MAX_LENGTH:
        out.append(f"密码最多 {MAX_LENGTH} 个字符")
    lowered = password.strip().lower()
    name = (username or "").strip().lower()
    if lowered == DEMO_PASSWORD or lowered in common_passwords():
        out.append("该密码过于常见，容易被猜中，请换一个")
    elif len(set(lowered)) <= 2:
        out.append("密码不能由同一两个字符重复组成")
    if name and (lowered == name or (len(name) >= 4 and name in lowered)):
        out.append("密码不能与用户名相同或包含用户名")
    return out
