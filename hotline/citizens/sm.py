"""The national algorithms (国密) for personal data at rest: SM4-GCM, HMAC-SM3 and HKDF-SM3 (``HOTLINE_CRYPTO=sm``).

They come from the OpenSSL build of the ``cryptography`` package (its wheels ship OpenSSL with SM3/SM4): SM4 in GCM
mode (RFC 8998's AEAD_SM4_GCM, a 12-byte nonce and a 16-byte tag) through the ``Cipher`` interface, HMAC and HKDF
over SM3. The same library already does AES-GCM, so both algorithms share one code path, one nonce source and one
maintainer; measured against the pure-Python ``gmssl`` package in docs/operations.md ("国密算法"). ``available()``
says whether this host's build has them: a host without cannot read SM4 values, and ``keys check`` says so.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

TAG_BYTES = 16
NONCE_BYTES = 12


class SMUnavailable(RuntimeError):
    """This host's cryptography/OpenSSL build has no SM3/SM4."""

    def __init__(self, detail: str = ""):
        super().__init__(
            "本机的 cryptography/OpenSSL 不支持国密算法 SM3/SM4（HOTLINE_CRYPTO=sm 需要）。"
            f"请安装 requirements.txt 中的 cryptography 版本（其自带的 OpenSSL 支持 SM4）。{detail}"
        )


@lru_cache(maxsize=1)
def available() -> bool:
    """True when SM4-GCM, SM3 and HMAC-SM3 work on this host (checked once, with the RFC 8998 / GB/T test vectors)."""
    try:
        return self_test()
    except (UnsupportedAlgorithm, ValueError):
        return False


def library() -> str:
    """ "cryptography 50.0.2 (OpenSSL 4.0.3 …)": what does the work on this host."""
    import cryptography
    from cryptography.hazmat.backends.openssl.backend import backend

    return f"cryptography {cryptography.__version__} ({backend.openssl_version_text()})"


def hkdf_sm3(secret: bytes, purpose: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SM3(), length=length, salt=b"hotline-12345", info=purpose).derive(secret)


def hmac_sm3(key: bytes, data: bytes) -> bytes:
    mac = hmac.HMAC(key, hashes.SM3())
    mac.update(data)
    return mac.finalize()


def sm3(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize()


class SM4GCM:
    """SM4 in GCM mode with the interface of ``cryptography``'s ``AESGCM``: ``encrypt(nonce, data, aad)`` returns
    ciphertext + 16-byte tag; ``decrypt`` raises ``cryptography.exceptions.InvalidTag`` on a wrong key or tampering."""

    def __init__(self, key: bytes):
        if len(key) != 16:
            raise ValueError("SM4 keys are 128 bits")
        self._sm4 = algorithms.SM4(key)

    def encrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes:
        enc = Cipher(self._sm4, modes.GCM(nonce)).encryptor()
        if associated_data:
            enc.authenticate_additional_data(associated_data)
        return enc.update(data) + enc.finalize() + enc.tag

    def decrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes:
        if len(data) < TAG_BYTES:
            raise ValueError("ciphertext too short")
        dec = Cipher(self._sm4, modes.GCM(nonce, data[-TAG_BYTES:])).decryptor()
        if associated_data:
            dec.authenticate_additional_data(associated_data)
        return dec.update(data[:-TAG_BYTES]) + dec.finalize()


# RFC 8998 appendix A.1 (AEAD_SM4_GCM) and GB/T 32905-2016 appendix A.1 (SM3 of "abc")
_GCM_VECTOR = {
    "key": "0123456789abcdeffedcba9876543210",
    "nonce": "00001234567800000000abcd",
    "aad": "feedfacedeadbeeffeedfacedeadbeefabaddad2",
    "plain": "aa" * 8 + "bb" * 8 + "cc" * 8 + "dd" * 8 + "ee" * 8 + "ff" * 8 + "ee" * 8 + "aa" * 8,
    "sealed": "17f399f08c67d5ee19d0dc9969c4bb7d5fd46fd3756489069157b282bb200735"
    "d82710ca5c22f0ccfa7cbf93d496ac15a56834cbcf98c397b4024a2691233b8d"
    "83de3541e4c2b58177e065a9bf7b62ec",
}
_SM3_ABC = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"


def self_test() -> bool:
    v = {k: bytes.fromhex(x) for k, x in _GCM_VECTOR.items()}
    aead = SM4GCM(v["key"])
    sealed = aead.encrypt(v["nonce"], v["plain"], v["aad"])
    return (
        sealed == v["sealed"]
        and aead.decrypt(v["nonce"], sealed, v["aad"]) == v["plain"]
        and sm3(b"abc").hex() == _SM3_ABC
        and len(hmac_sm3(b"k", b"v")) == 32
    )
