"""Personal data at rest: authenticated encryption, keyed-hash (blind index) look-ups and masking.

Ciphertexts are text ``"<key id>:<base64(nonce + AES-GCM ciphertext)>"`` so keys can be rotated:
old key ids stay readable while new values use the current key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"hotline-12345", info=purpose).derive(secret.encode())


class DataKeyError(ValueError):
    """A stored value was written under a data key this process does not have (HOTLINE_DATA_KEY is wrong)."""

    def __init__(self, key_id: str):
        self.key_id = key_id
        super().__init__(f"personal data written under data key id {key_id}, which is not configured on this host")


class DataCipher:
    """Encrypts/decrypts personal data and computes blind indexes from one data key."""

    def __init__(self, data_key: str, old_keys: tuple[str, ...] = (), index_key: str = ""):
        if not data_key:
            raise ValueError("data key is empty")
        self.key_id = self._key_id(data_key)
        self._aead = {self.key_id: AESGCM(_derive(data_key, b"encrypt"))}
        for old in old_keys:
            self._aead.setdefault(self._key_id(old), AESGCM(_derive(old, b"encrypt")))
        # The blind index has its own key, so rotating the encryption key leaves look-ups untouched.
        self._index_key = _derive(index_key or data_key, b"blind-index")

    def needs_rotation(self, token: str | None) -> bool:
        return token is not None and not token.startswith(self.key_id + ":")

    @staticmethod
    def _key_id(secret: str) -> str:
        return hashlib.sha256(b"kid:" + secret.encode()).hexdigest()[:8]

    def encrypt(self, value: str | None) -> str | None:
        if value is None:
            return None
        nonce = os.urandom(12)
        blob = nonce + self._aead[self.key_id].encrypt(nonce, value.encode(), None)
        return f"{self.key_id}:{base64.b64encode(blob).decode()}"

    def decrypt(self, token: str | None) -> str | None:
        if token is None:
            return None
        key_id, _, body = token.partition(":")
        aead = self._aead.get(key_id)
        if aead is None:
            raise DataKeyError(key_id)
        blob = base64.b64decode(body)
        try:
            return aead.decrypt(blob[:12], blob[12:], None).decode()
        except InvalidTag:
            raise DataKeyError(key_id) from None

    def blind_index(self, value: str) -> str:
        return hmac.new(self._index_key, value.encode(), hashlib.sha256).hexdigest()


def mask_name(name: str | None) -> str:
    """张三 -> 张*, 欧阳修文 -> 欧***."""
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)
