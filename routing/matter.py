"""The same matter in other words (并单): what a duplicate check adds to character similarity.

A re-report in other words ("幸福小区今天一早就停水了" for an open "幸福小区停水两天了") shares few character
bigrams, so neither the MinHash keys nor rapidfuzz find it. Two reports are about the same matter when they name
the same place (the estate, road or landmark the gazetteer found in the text or address) and the fine router finds
the same category leaf for both (routing/fine.py: 停水/没水/水压 → 自来水供应). Such a pair:
- shares *topic keys* (``topic_keys``: leaf @ place, stored beside the MinHash keys), so it becomes a candidate;
- scores ``TOPIC_SCORE`` + a share of its text similarity (``matter_score``), above the duplicate threshold.
A near-miss at the same place about another matter (noise vs. garbage at 幸福小区) has another leaf: no boost.

Pure: topics are computed by the app from its fine router and gazetteer (``topics_of``).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from math import sqrt

from routing.text import normalize

TOPIC_COPIES = 4  # keys per topic: a topic match counts like 4 shared MinHash bands when candidates are ranked
OTHER_MATTER = 0.8  # text similarity kept for two reports at one place whose category leaves differ
TOPIC_SCORE = 0.6  # same leaf at the same named place: at the default duplicate threshold
_NOT_ALNUM = re.compile(r"[\W_]+")
_FILLER = set("的了是在我们你他她它这那有就都也还又很吗呢吧啊呀请问一个")


def topics_of(leaves: list[str], place_name: str | None) -> list[str]:
    """ "leaf@place" for each leaf when a place is named; nothing without one (a topic alone is far too common)."""
    if not place_name:
        return []
    return [f"{leaf}@{normalize(place_name)}" for leaf in dict.fromkeys(leaves) if leaf]


def topic_keys(topics: list[str], scope: str = "") -> list[int]:
    """Signed 64-bit keys of each topic within ``scope`` (a different namespace from the MinHash band keys)."""
    out = []
    for topic in topics:
        for copy in range(TOPIC_COPIES):
            digest = hashlib.blake2b(f"{scope}|T{copy}|{topic}".encode(), digest_size=8).digest()
            out.append(int.from_bytes(digest, "big", signed=True))
    return out


def _grams(text: str) -> Counter:
    chars = [c for c in _NOT_ALNUM.sub("", normalize(text or "")) if c not in _FILLER]
    return Counter(chars[i] + chars[i + 1] for i in range(len(chars) - 1))


def cosine(a: str, b: str) -> float:
    """Cosine of the character-bigram counts (filler characters dropped): robust to reordering and padding."""
    ga, gb = _grams(a), _grams(b)
    if not ga or not gb:
        return 0.0
    dot = sum(v * gb.get(k, 0) for k, v in ga.items())
    return dot / sqrt(sum(v * v for v in ga.values()) * sum(v * v for v in gb.values()))


def _related(topics_a: list[str], topics_b: list[str]) -> bool:
    """A shared topic (the same category leaf at the same named place)."""
    for a in topics_a:
        for b in topics_b:
            (pa, _, at), (pb, _, bt) = a.partition("@"), b.partition("@")
            if at == bt and pa == pb:
                return True
    return False


def matter_score(text_score: float, topics_a: list[str], topics_b: list[str], a: str = "", b: str = "") -> float:
    """The duplicate score of a pair: its text similarity, raised for the same leaf at the same named place."""
    if _related(topics_a, topics_b):
        return max(text_score, TOPIC_SCORE + (1 - TOPIC_SCORE) * max(text_score - 0.3, cosine(a, b)))
    if topics_a and topics_b:  # both matters known, and they differ: alike words are not enough
        return text_score * OTHER_MATTER
    return text_score
