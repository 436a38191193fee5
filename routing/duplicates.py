"""Duplicate detection for new cases (the same matter reported again, 重复件).

``similar`` compares two texts with rapidfuzz. Compared (tests/bench/routing_bench.py, section
"duplicates") on synthetic re-reports of the labelled titles/bodies (clauses dropped, reordered, cut
to a shorter report, characters replaced) against other texts of the same category: character
``partial_ratio`` (best-aligned substring), character ``ratio`` and jieba ``token_set_ratio`` all rank
them almost perfectly, jieba ``token_sort_ratio`` does worst. Chosen: ``partial_ratio`` — a shortened
re-report still scores high in absolute terms (plain ``ratio`` of a half-length re-report is at most
~0.67, so no single threshold fits short and long texts), and it needs no segmentation (several times
faster than the jieba methods). Below ``MIN_PARTIAL`` characters a partial match means little, and plain
``ratio`` is used. (measurements: tests/bench/README.md, routing)

``find_duplicates`` also requires the same place when both places are known.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from rapidfuzz import fuzz

from routing.text import normalize, words

METHODS = ("partial", "chars", "tokens", "token_set", "mixed")
DEFAULT_METHOD = "partial"
DEFAULT_THRESHOLD = 0.6
MIN_PARTIAL = 8


@dataclass(frozen=True)
class Candidate:
    id: object
    text: str
    place: object | None  # gazetteer Place (or anything with district_code/street_code) or None
    created_at: datetime | None = None


_NOT_ALNUM = re.compile(r"[\W_]+")  # \w is str.isalnum() plus "_"


@lru_cache(maxsize=1024)
def _clean(text: str) -> str:
    """Normalised letters and digits only. Cached: the routing job compares each new case with the newest
    similar open cases, which are mostly the same ones from case to case during a burst of reports, and
    computes the keys of one text under several scopes."""
    return _NOT_ALNUM.sub("", normalize(text))


def similar(text_a: str, text_b: str, method: str = DEFAULT_METHOD) -> float:
    """Similarity in [0, 1]."""
    return _similar_clean(_clean(text_a or ""), _clean(text_b or ""), method)


def _similar_clean(a: str, b: str, method: str) -> float:
    if not a or not b:
        return 0.0
    if method == "chars":
        return fuzz.ratio(a, b) / 100
    if method == "partial":
        if min(len(a), len(b)) < MIN_PARTIAL:
            return fuzz.ratio(a, b) / 100
        return fuzz.partial_ratio(a, b) / 100
    wa, wb = " ".join(words(a)), " ".join(words(b))
    if method == "tokens":
        return fuzz.token_sort_ratio(wa, wb) / 100
    if method == "token_set":
        return fuzz.token_set_ratio(wa, wb) / 100
    if method == "mixed":
        return (fuzz.ratio(a, b) + fuzz.token_sort_ratio(wa, wb)) / 200
    raise ValueError(f"unknown method {method!r}; choose from {METHODS}")


def same_place(a, b) -> bool:
    """False only when both places are known and differ (street when both have one, else district)."""
    if a is None or b is None:
        return True
    sa, sb = getattr(a, "street_code", None), getattr(b, "street_code", None)
    if sa and sb:
        return sa == sb
    return getattr(a, "district_code", None) == getattr(b, "district_code", None)


def find_duplicates(
    new: tuple[str, object | None],
    candidates,
    threshold: float = DEFAULT_THRESHOLD,
    method: str = DEFAULT_METHOD,
    limit: int = 5,
) -> list[tuple[object, float]]:
    """(id, score) of candidates at least ``threshold`` similar to ``new = (text, place)``, best first.

    ``candidates``: ``(id, text, place, created_at)`` tuples or :class:`Candidate`; newer first on ties.
    """
    text, place = new
    clean = _clean(text or "")  # once, not once per candidate
    found: list[tuple[object, float, datetime | None]] = []
    for cand in candidates:
        cid, ctext, cplace, created = (
            (cand.id, cand.text, cand.place, cand.created_at) if isinstance(cand, Candidate) else tuple(cand)
        )
        if not same_place(place, cplace):
            continue
        score = _similar_clean(clean, _clean(ctext or ""), method)
        if score >= threshold:
            found.append((cid, round(score, 4), created))
    found.sort(key=lambda f: (-f[1], -(f[2].timestamp() if f[2] else 0.0)))
    return [(cid, score) for cid, score, _ in found[:limit]]


# --- candidate keys (MinHash LSH) -------------------------------------------------------------------
# A text's character bigrams are min-hashed BANDS × ROWS times; each band of ROWS minima is one key. Two
# texts share at least one key with probability 1 - (1 - J^ROWS)^BANDS for bigram-set Jaccard J: ≈ 1 at
# J = 0.6 (a re-report with a clause dropped), ≈ 0.78 at J = 0.3 (a re-report in other words), ≈ 0.15 at
# J = 0.1 (unrelated texts of one topic). The app stores the keys of open cases and looks candidates up by them,
# so the candidate set stays small however many cases there are; rapidfuzz (``similar``) decides.
BANDS, ROWS = 16, 2
_PRIME = (1 << 31) - 1  # a·v < 2^63 for v < 2^32: numpy int64 never overflows


def _hash_params():
    import random

    import numpy as np

    rnd = random.Random(12345)  # fixed: keys must be the same in every process and every release
    n = BANDS * ROWS
    return (
        np.array([rnd.randrange(1, _PRIME) for _ in range(n)], dtype=np.int64)[:, None],
        np.array([rnd.randrange(0, _PRIME) for _ in range(n)], dtype=np.int64)[:, None],
    )


_A, _B = _hash_params()


def band_keys(text: str, scope: str = "") -> list[int]:
    """BANDS signed 64-bit keys of ``text`` within ``scope`` (e.g. a district code: only texts of the same
    scope share keys). Empty text: no keys."""
    import hashlib
    import zlib

    import numpy as np

    chars = _clean(text or "")
    if not chars:
        return []
    grams = {chars[i : i + 2] for i in range(max(1, len(chars) - 1))}
    values = np.fromiter((zlib.crc32(g.encode()) for g in grams), dtype=np.int64, count=len(grams))
    minima = ((_A * values + _B) % _PRIME).min(axis=1).reshape(BANDS, ROWS)
    prefix = f"{scope}|".encode()
    return [
        int.from_bytes(
            hashlib.blake2b(prefix + bytes([band]) + row.tobytes(), digest_size=8).digest(), "big", signed=True
        )
        for band, row in enumerate(minima)
    ]
