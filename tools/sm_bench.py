"""Speed of the personal-data algorithms on this host: AES-256-GCM + HMAC-SHA256 (default) and SM4-GCM + HMAC-SM3
(HOTLINE_CRYPTO=sm) as ``hotline.citizens.privacy.DataCipher`` does them (cryptography's OpenSSL), and — when the
``gmssl`` package is importable — the pure-Python gmssl's SM4-CBC (+ HMAC-SM3 over its SM3: encrypt-then-MAC, what
the option would need without SM4-GCM). Values like those stored: an E.164 number and a Chinese name.

    .venv/bin/python tools/sm_bench.py [--n 20000]
    PYTHONPATH=/tmp/gmssl_pkg .venv/bin/python tools/sm_bench.py   # with gmssl installed by pip --target there

Prints microseconds per operation (median of 5 runs); numbers in docs/operations.md ("国密算法").
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hotline.citizens import sm
from hotline.citizens.privacy import DataCipher

VALUES = ("+8613800138000", "欧阳修文")


def _per_op(fn, n: int) -> float:
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        for i in range(n):
            fn(VALUES[i & 1])
        runs.append((time.perf_counter() - start) / n * 1e6)
    return statistics.median(runs)


def _cipher_rows(algorithm: str, n: int) -> list[tuple[str, float]]:
    c = DataCipher("bench-data-key-" + "x" * 32, (), "bench-index-key-" + "y" * 32, algorithm)
    tokens = {v: c.encrypt(v) for v in VALUES}
    return [
        ("encrypt", _per_op(c.encrypt, n)),
        ("decrypt", _per_op(lambda v: c.decrypt(tokens[v]), n)),
        ("blind index", _per_op(lambda v: c.index_with(algorithm, v), n)),
    ]


def _gmssl_rows(n: int) -> list[tuple[str, float]] | None:
    try:
        from gmssl import sm3 as gsm3
        from gmssl import sm4 as gsm4
    except ImportError:
        return None
    key, mac_key = os.urandom(16), os.urandom(32)

    def hmac_sm3(data: bytes) -> bytes:
        k = mac_key.ljust(64, b"\0")
        inner = bytes.fromhex(gsm3.sm3_hash(list(bytes(b ^ 0x36 for b in k) + data)))
        return bytes.fromhex(gsm3.sm3_hash(list(bytes(b ^ 0x5C for b in k) + inner)))

    enc, dec = gsm4.CryptSM4(), gsm4.CryptSM4()
    enc.set_key(key, gsm4.SM4_ENCRYPT)
    dec.set_key(key, gsm4.SM4_DECRYPT)

    def encrypt(value: str) -> bytes:
        iv = os.urandom(16)
        body = iv + enc.crypt_cbc(iv, value.encode())
        return body + hmac_sm3(body)

    def decrypt(blob: bytes) -> str:
        body, tag = blob[:-32], blob[-32:]
        if hmac_sm3(body) != tag:
            raise ValueError("bad tag")
        return dec.crypt_cbc(body[:16], body[16:]).decode()

    sealed = {v: encrypt(v) for v in VALUES}
    assert decrypt(sealed[VALUES[1]]) == VALUES[1]
    small = max(1, n // 20)  # pure Python: far fewer rounds
    return [
        ("encrypt", _per_op(encrypt, small)),
        ("decrypt", _per_op(lambda v: decrypt(sealed[v]), small)),
        ("blind index", _per_op(lambda v: hmac_sm3(v.encode()), small)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000, help="operations per run")
    args = parser.parse_args()
    print(f"{sm.library()}; SM3/SM4 {'available' if sm.available() else 'NOT available'}; {args.n} ops x 5 runs")
    table = [("AES-256-GCM + HMAC-SHA256 (cryptography)", _cipher_rows("aes", args.n))]
    if sm.available():
        table.append(("SM4-GCM + HMAC-SM3 (cryptography/OpenSSL)", _cipher_rows("sm", args.n)))
    gm = _gmssl_rows(args.n)
    if gm is not None:
        import importlib.metadata

        version = importlib.metadata.version("gmssl")
        table.append((f"SM4-CBC + HMAC-SM3 (gmssl {version}, pure Python)", gm))
    else:
        print("gmssl not importable: pip install --target /tmp/gmssl_pkg gmssl==3.2.2; PYTHONPATH=/tmp/gmssl_pkg")
    print(f"{'library':<52} {'encrypt µs':>11} {'decrypt µs':>11} {'index µs':>9}")
    for name, rows in table:
        print(f"{name:<52} " + " ".join(f"{us:>{w}.1f}" for (_, us), w in zip(rows, (11, 11, 9), strict=True)))


if __name__ == "__main__":
    main()
