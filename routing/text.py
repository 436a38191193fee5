"""Text normalisation and tokenisation for the router (pure, no Flask/hotline imports).

``normalize`` folds full-width forms to half-width (NFKC), lowercases and collapses whitespace;
``head`` does so for the first ``max_chars`` characters only. ``char_ngrams`` and ``words`` are the two
token streams the classifier can use. On the labelled history (5-fold CV over near-duplicate groups,
tests/bench/routing_bench.py) character 1–2-grams carry almost all of the signal: 1–3-grams scored lower at
several times the features, and jieba words + word bigrams on top scored no better at several times the
classify time and a much larger process, so the chosen model uses characters only.

``strip_places`` removes anonymised place tokens of the training data ("A7县", "G市"); removing them cost
quality (they correlate with the source region), so the default keeps them.
(measurements: tests/bench/README.md, routing)
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from itertools import pairwise

_SPACES = re.compile(r"\s+")
_ANON_PLACE = re.compile(r"(?<![a-z0-9])[a-z]\d{0,2}(?=[市县区省])")


def normalize(text: str) -> str:
    """NFKC (full-width → half-width, compatibility forms), lowercase, single spaces, stripped."""
    if not text:
        return ""
    return _normalized(text)


@lru_cache(maxsize=64)
def _normalized(text: str) -> str:
    """One suggestion normalises its text in five checks (emergency, out-of-scope, place, keywords, rules):
    remembered, NFKC runs once, a visible saving in ``engine.suggest`` on long bodies (measurements:
    tests/bench/README.md, routing). A str caches its own hash, so a hit costs no rehash."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text).lower()).strip()


def truncate(text: str, max_chars: int | None) -> str:
    """The first ``max_chars`` characters (all of them when ``max_chars`` is falsy)."""
    return text[:max_chars] if max_chars else text


def head(text: str, max_chars: int | None) -> str:
    """``normalize(text)[:max_chars]``, normalising only a prefix of a long text: NFKC's cost grows with every
    character, and a very long body would otherwise spend it mostly on characters never scored (measurements:
    tests/bench/README.md, routing). The prefix (max_chars + 64 characters) is used when its normalised form is
    comfortably longer than ``max_chars`` (whitespace runs, which shrink, are the only common case where it is
    not); training and scoring both call this, so they agree whatever the text."""
    text = text or ""
    if not max_chars:
        return normalize(text)
    cut = max_chars + 64
    if len(text) > cut:
        prefix = normalize(text[:cut])
        if len(prefix) > max_chars + 8:
            return prefix[:max_chars]
    return normalize(text)[:max_chars]


def strip_places(text: str) -> str:
    """Drop anonymised place codes such as "a7县" → "县" (input already normalised)."""
    return _ANON_PLACE.sub("", text)


def char_ngrams(text: str, lo: int = 1, hi: int = 3) -> list[str]:
    """All character n-grams of length lo..hi (spaces kept: they are rare in Chinese text)."""
    out: list[str] = []
    n_chars = len(text)
    for n in range(lo, hi + 1):
        out.extend(text[i : i + n] for i in range(n_chars - n + 1))
    return out


@lru_cache(maxsize=1)
def _jieba():
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def words(text: str) -> list[str]:
    """jieba words (precise mode, no HMM for speed), whitespace dropped."""
    return [w for w in _jieba().lcut(text, HMM=False) if w.strip()]


def word_bigrams(tokens: list[str]) -> list[str]:
    return [f"{a}_{b}" for a, b in pairwise(tokens)]


def features(
    text: str,
    *,
    char_range: tuple[int, int] = (1, 3),
    use_words: bool = False,
    max_chars: int | None = None,
    drop_places: bool = False,
) -> list[str]:
    """Token list for one (already normalised) text: char n-grams, optionally prefixed jieba words."""
    text = truncate(text, max_chars)
    if drop_places:
        text = strip_places(text)
    toks = char_ngrams(text, *char_range)
    if use_words:
        w = words(text)
        toks.extend("w:" + t for t in w)
        toks.extend("w:" + t for t in word_bigrams(w))
    return toks
