"""Personal data at rest: authenticated encryption, keyed-hash (blind index) look-ups and masking.

Two algorithm sets (``HOTLINE_CRYPTO``): ``aes`` (default) — AES-256-GCM and HMAC-SHA256, keys derived with
HKDF-SHA256; ``sm`` — the national algorithms, SM4-GCM and HMAC-SM3, keys derived with HKDF-SM3 (``sm.py``).

A ciphertext says which algorithm and key wrote it: ``"<tag>:<base64(nonce + ciphertext + tag)>"``, the tag being
the key id (8 hex digits of the data key) for AES-GCM and ``sm4-<key id>`` for SM4-GCM. Every cipher reads both
algorithms under the current and the old data keys, so a database half-way through ``flask keys rotate`` (or hosts
half-way through a change of setting) stays readable; new values use the configured algorithm and current key.

A blind index says its algorithm too: 64 hex digits of HMAC-SHA256, or ``sm3:`` + the first 60 hex digits of
HMAC-SM3 (240 bits; the column is 64 characters). There is one index per value, so the index in use is the one
the database is written with (recorded in ``key_fingerprints``, ``keyset.py``), not the setting: until
``keys rotate`` has re-written every index in one transaction, a host set to ``sm`` keeps finding files under
the old one: every cipher of an app asks the app's ``IndexTracker`` (``app.extensions["hotline_index"]``, set by
``keyset.check_on_start``), which re-reads that record at most every ``ttl`` seconds.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time
from collections.abc import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app, has_app_context

from hotline.citizens import sm

ALGORITHMS = {"aes": "AES-256-GCM + HMAC-SHA256", "sm": "SM4-GCM + HMAC-SM3"}
INDEX_NAMES = {"aes": "hmac-sha256", "sm": "hmac-sm3"}  # as recorded in key_fingerprints
SM_TAG = "sm4-"
SM_INDEX = "sm3:"


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"hotline-12345", info=purpose).derive(secret.encode())


def index_algorithm_of(digest: str) -> str:
    """The algorithm a stored blind index was computed with."""
    return "sm" if digest.startswith(SM_INDEX) else "aes"


def algorithm_of(token: str) -> str:
    """The algorithm a stored ciphertext was written with."""
    return "sm" if token.startswith(SM_TAG) else "aes"


class DataKeyError(ValueError):
    """A stored value was written under a data key this process does not have (HOTLINE_DATA_KEY is wrong)."""

    def __init__(self, key_id: str):
        self.key_id = key_id
        super().__init__(f"personal data written under data key id {key_id}, which is not configured on this host")


class DataCipher:
    """Encrypts/decrypts personal data and computes blind indexes from one data key (and the old ones)."""

    def __init__(self, data_key: str, old_keys: tuple[str, ...] = (), index_key: str = "", algorithm: str = "aes"):
        if not data_key:
            raise ValueError("data key is empty")
        if algorithm not in ALGORITHMS:
            raise ValueError(f"HOTLINE_CRYPTO must be one of {', '.join(ALGORITHMS)}, not {algorithm!r}")
        if algorithm == "sm" and not sm.available():
            raise sm.SMUnavailable()
        self.algorithm = algorithm
        self.sm_available = sm.available()
        self._aead: dict[str, object] = {}
        for secret in (data_key, *old_keys):
            kid = self._key_id(secret)
            self._aead.setdefault(kid, AESGCM(_derive(secret, b"encrypt")))
            if self.sm_available:
                self._aead.setdefault(SM_TAG + kid, sm.SM4GCM(sm.hkdf_sm3(secret.encode(), b"encrypt-sm4", 16)))
        kid = self._key_id(data_key)
        self.key_id = SM_TAG + kid if algorithm == "sm" else kid  # the tag new values are written with
        # The blind index has its own key, so rotating the encryption key leaves look-ups untouched.
        secret = (index_key or data_key).encode()
        self._index_keys = {"aes": _derive(secret.decode(), b"blind-index")}
        if self.sm_available:
            self._index_keys["sm"] = sm.hkdf_sm3(secret, b"blind-index-sm3", 32)
        self.index_algorithm = algorithm  # used outside an app that tracks the database's (IndexTracker)

    @staticmethod
    def _key_id(secret: str) -> str:
        return hashlib.sha256(b"kid:" + secret.encode()).hexdigest()[:8]

    @staticmethod
    def tag_of(token: str) -> str:
        return token.partition(":")[0]

    def readable(self, token: str | None) -> bool:
        """True when ``token`` is a ciphertext under one of this cipher's keys (either algorithm)."""
        return token is not None and self.tag_of(token) in self._aead

    def needs_rotation(self, token: str | None) -> bool:
        return token is not None and self.tag_of(token) != self.key_id

    def encrypt(self, value: str | None) -> str | None:
        if value is None:
            return None
        nonce = os.urandom(12)
        blob = nonce + self._aead[self.key_id].encrypt(nonce, value.encode(), None)
        return f"{self.key_id}:{base64.b64encode(blob).decode()}"

    def decrypt(self, token: str | None) -> str | None:
        if token is None:
            return None
        tag, _, body = token.partition(":")
        aead = self._aead.get(tag)
        if aead is None:
            if tag.startswith(SM_TAG) and not self.sm_available:
                raise sm.SMUnavailable(f"（数据库中有 SM4 加密的数据：{tag}）")
            raise DataKeyError(tag)
        blob = base64.b64decode(body)
        try:
            return aead.decrypt(blob[:12], blob[12:], None).decode()
        except (InvalidTag, ValueError):
            raise DataKeyError(tag) from None

    def current_index_algorithm(self) -> str:
        """The algorithm of the database's blind indexes: the app's tracker's, else this cipher's setting."""
        tracker = current_app.extensions.get("hotline_index") if has_app_context() else None
        return tracker.current() if tracker is not None else self.index_algorithm

    def blind_index(self, value: str) -> str:
        return self.index_with(self.current_index_algorithm(), value)

    def index_with(self, algorithm: str, value: str) -> str:
        if algorithm == "sm":
            key = self._index_keys.get("sm")
            if key is None:
                raise sm.SMUnavailable("（数据库的盲索引为 HMAC-SM3）")
            return SM_INDEX + sm.hmac_sm3(key, value.encode()).hex()[:60]
        return hmac.new(self._index_keys["aes"], value.encode(), hashlib.sha256).hexdigest()


class IndexTracker:
    """The algorithm the database's blind indexes are written with, as ``source()`` reads it (None: unknown or not
    answering — the last known value, at first the setting, is kept), re-read at most every ``ttl`` seconds."""

    def __init__(self, source: Callable[[], str | None], ttl: float, default: str):
        self.source, self.ttl, self.algorithm = source, ttl, default
        self._checked = float("-inf")

    def current(self) -> str:
        if time.monotonic() - self._checked >= self.ttl:
            self._checked = time.monotonic()
            found = self.source()
            if found in ALGORITHMS:
                self.algorithm = found
        return self.algorithm

    def switched(self, algorithm: str) -> None:
        """This process has just switched the database (``keys rotate``): no need to wait for the next read."""
        self.algorithm, self._checked = algorithm, time.monotonic()


def mask_name(name: str | None) -> str:
    """张三 -> 张*, 欧阳修文 -> 欧***."""
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)
