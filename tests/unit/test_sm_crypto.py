"""The national algorithms option (HOTLINE_CRYPTO=sm): SM4-GCM values, HMAC-SM3 blind indexes, self-describing
ciphertexts that every cipher reads whichever algorithm wrote them, and the key check's crypto line."""

from __future__ import annotations

import base64
import hashlib
import hmac
from types import SimpleNamespace

import pytest

from hotline.citizens import keyset, sm
from hotline.citizens.privacy import DataCipher, DataKeyError, IndexTracker, algorithm_of, index_algorithm_of
from hotline.config import Settings

KEY = "a-data-key-for-the-unit-tests-" + "k" * 20
INDEX = "an-index-key-for-the-unit-tests-" + "i" * 20


def test_sm4_gcm_matches_rfc_8998_and_sm3_matches_gb_t_32905():
    v = {k: bytes.fromhex(x) for k, x in sm._GCM_VECTOR.items()}
    sealed = sm.SM4GCM(v["key"]).encrypt(v["nonce"], v["plain"], v["aad"])
    assert sealed.hex().startswith("17f399f08c67d5ee19d0dc9969c4bb7d")
    assert sealed[-16:].hex() == "83de3541e4c2b58177e065a9bf7b62ec"  # the RFC's tag
    assert sm.SM4GCM(v["key"]).decrypt(v["nonce"], sealed, v["aad"]) == v["plain"]
    assert sm.sm3(b"abc").hex() == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert sm.available()


def test_hmac_sm3_agrees_with_an_independent_openssl():
    try:  # the system's OpenSSL behind hashlib, not the one in the cryptography wheel
        expected = hmac.new(b"index key", b"+8613800138000", "sm3").hexdigest()
    except ValueError:
        pytest.skip("this Python's hashlib has no SM3")
    assert sm.hmac_sm3(b"index key", b"+8613800138000").hex() == expected


def test_sm_cipher_writes_sm4_values_and_sm3_indexes():
    c = DataCipher(KEY, (), INDEX, "sm")
    token = c.encrypt("+8613800138000")
    assert token.startswith("sm4-") and algorithm_of(token) == "sm" and c.tag_of(token) == c.key_id
    assert c.decrypt(token) == "+8613800138000"
    assert c.encrypt("+8613800138000") != token  # a fresh nonce every time
    digest = c.blind_index("+8613800138000")
    assert digest.startswith("sm3:") and len(digest) == 64 and index_algorithm_of(digest) == "sm"
    assert digest == c.blind_index("+8613800138000")
    key = sm.hkdf_sm3(INDEX.encode(), b"blind-index-sm3", 32)
    assert digest == "sm3:" + sm.hmac_sm3(key, b"+8613800138000").hex()[:60]
    # SM4 with the SM3-derived key, nonce first, tag last
    blob = base64.b64decode(token.partition(":")[2])
    aead = sm.SM4GCM(sm.hkdf_sm3(KEY.encode(), b"encrypt-sm4", 16))
    assert aead.decrypt(blob[:12], blob[12:], None) == b"+8613800138000"


def test_the_default_stays_aes_gcm_and_hmac_sha256():
    c = DataCipher(KEY, (), INDEX)
    token = c.encrypt("张三")
    assert algorithm_of(token) == "aes" and not token.startswith("sm4-") and len(c.tag_of(token)) == 8
    digest = c.blind_index("+8613800138000")
    assert len(digest) == 64 and int(digest, 16) >= 0 and index_algorithm_of(digest) == "aes"
    assert digest != DataCipher(KEY, (), INDEX, "sm").blind_index("+8613800138000")
    assert Settings.from_env({}).crypto == "aes"
    assert Settings.from_env({"HOTLINE_CRYPTO": "sm"}).crypto == "sm"


def test_either_cipher_reads_what_the_other_wrote_so_a_half_rotated_database_stays_readable():
    aes, sm4 = DataCipher(KEY, (), INDEX, "aes"), DataCipher(KEY, (), INDEX, "sm")
    a, s = aes.encrypt("欧阳修文"), sm4.encrypt("欧阳修文")
    assert sm4.decrypt(a) == aes.decrypt(s) == "欧阳修文"
    assert sm4.needs_rotation(a) and not sm4.needs_rotation(s)
    assert aes.needs_rotation(s) and not aes.needs_rotation(a)
    # an SM4 value under an old data key, read after the key changed
    old = DataCipher("the-old-data-key-" + "o" * 30, (), INDEX, "sm")
    new = DataCipher(KEY, ("the-old-data-key-" + "o" * 30,), INDEX, "aes")
    token = old.encrypt("李四")
    assert new.readable(token) and new.needs_rotation(token) and new.decrypt(token) == "李四"
    # both index algorithms are at hand for the rotation
    assert aes.index_with("sm", "x") == sm4.blind_index("x") and sm4.index_with("aes", "x") == aes.blind_index("x")


def test_a_tampered_or_foreign_sm4_value_is_a_data_key_error():
    c = DataCipher(KEY, (), INDEX, "sm")
    token = c.encrypt("+8613800138000")
    tag, _, body = token.partition(":")
    blob = bytearray(base64.b64decode(body))
    blob[14] ^= 1
    with pytest.raises(DataKeyError):
        c.decrypt(f"{tag}:{base64.b64encode(bytes(blob)).decode()}")
    with pytest.raises(DataKeyError):
        DataCipher("another-data-key-" + "x" * 30, (), INDEX, "sm").decrypt(token)
    with pytest.raises(ValueError, match="HOTLINE_CRYPTO"):
        DataCipher(KEY, (), INDEX, "des")


def test_without_sm_support_sm_mode_refuses_to_start_and_the_key_check_fails(monkeypatch):
    monkeypatch.setattr(sm, "available", lambda: False)
    with pytest.raises(sm.SMUnavailable, match="SM3/SM4"):
        DataCipher(KEY, (), INDEX, "sm")
    settings = SimpleNamespace(crypto="sm")
    status = keyset.crypto_status(settings, None)
    assert not status.ok and status.env == "HOTLINE_CRYPTO" and "不支持" in status.note
    # an AES host on a database whose indexes are HMAC-SM3 cannot find anything either
    row = SimpleNamespace(fingerprint="hmac-sm3", host="web1")
    assert not keyset.crypto_status(SimpleNamespace(crypto="aes"), row).ok
    aes = DataCipher(KEY, (), INDEX, "aes")
    assert not aes.readable("sm4-" + aes.key_id + ":AAAA")
    with pytest.raises(sm.SMUnavailable):
        aes.decrypt("sm4-" + aes.key_id + ":AAAA")


def test_the_key_check_notes_a_setting_that_differs_from_the_databases_indexes():
    row = SimpleNamespace(fingerprint="hmac-sha256", host="web1")
    status = keyset.crypto_status(SimpleNamespace(crypto="sm"), row)
    assert status.ok and status.fingerprint == "hmac-sm3" and status.recorded == "hmac-sha256"
    assert "keys rotate" in status.note
    same = keyset.crypto_status(SimpleNamespace(crypto="sm"), SimpleNamespace(fingerprint="hmac-sm3", host="web1"))
    assert same.ok and not same.note


def test_the_index_tracker_follows_the_database_and_keeps_the_last_answer(monkeypatch):
    answers = iter(["aes", None, "sm"])
    clock = [100.0]
    monkeypatch.setattr("hotline.citizens.privacy.time.monotonic", lambda: clock[0])
    tracker = IndexTracker(lambda: next(answers), ttl=1.0, default="sm")
    assert tracker.current() == "aes"  # the database's, not the setting
    clock[0] += 0.5
    assert tracker.current() == "aes"  # not re-read within the ttl
    clock[0] += 1
    assert tracker.current() == "aes"  # the source did not answer: kept
    clock[0] += 1
    assert tracker.current() == "sm"
    tracker.switched("aes")
    assert tracker.current() == "aes"


def test_hashlib_sha256_index_is_unchanged_for_existing_databases():
    """The AES index of a value is what it was before the SM option existed (HKDF-SHA256 key, HMAC-SHA256)."""
    from hotline.citizens.privacy import _derive

    expected = hmac.new(_derive(INDEX, b"blind-index"), b"+8613800138000", hashlib.sha256).hexdigest()
    assert DataCipher(KEY, (), INDEX).blind_index("+8613800138000") == expected


def test_an_unrecorded_database_is_judged_by_most_of_its_indexes():
    sm_index = DataCipher(KEY, (), INDEX, "sm").blind_index("+8613800138000")
    aes_index = DataCipher(KEY, (), INDEX, "aes").blind_index("+8613800138000")
    assert keyset._majority([]) is None
    assert keyset._majority([sm_index, sm_index, "erased-row"]) == "sm"
    assert keyset._majority([aes_index, aes_index, sm_index]) == "aes"
