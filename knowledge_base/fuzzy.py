"""Typo tolerance for queries: homophones (pinyin, the usual input-method slip: 公基金 → 公积金) and one wrong
character (rapidfuzz Levenshtein distance 1: 营业执找 → 营业执照), against the index's keyword vocabulary
(title and tag words only, so a typo is corrected into something an entry is *about*)."""

from __future__ import annotations

from rapidfuzz.distance import Levenshtein

_CHAR_PINYIN: dict[str, str] = {}


def _lazy_pinyin():
    """pypinyin's reader, imported on first use: its phrase dictionary is large in every process that imports
    it (measurements: tests/bench/README.md, kb_search), and most processes (workers, the sweeper, web workers
    that never search) never need it."""
    try:  # pypinyin is a pinned dependency; without it only the edit-distance correction works
        from pypinyin import lazy_pinyin
    except ImportError:  # pragma: no cover
        return None
    return lazy_pinyin


def char_pinyin(ch: str) -> str:
    """Toneless reading of one character (its most common one), cached: the same key for words and queries."""
    syl = _CHAR_PINYIN.get(ch)
    if syl is None:
        reader = _lazy_pinyin()
        syl = _CHAR_PINYIN[ch] = reader(ch)[0] if reader else ch
    return syl


def pinyin_key(word: str) -> str:
    return "".join(char_pinyin(ch) for ch in word)


class KeywordVocab:
    """Keywords (2–6 characters) with reference counts, their pinyin and (length, character) buckets."""

    def __init__(self):
        self.count: dict[str, int] = {}
        self.by_pinyin: dict[str, set[str]] = {}
        self.buckets: dict[tuple[int, str], set[str]] = {}
        self._pinyin_cache: dict[str, str] = {}

    def add(self, word: str, times: int = 1) -> None:
        if not 2 <= len(word) <= 6:
            return
        n = self.count.get(word, 0)
        self.count[word] = n + times
        if n:
            return
        key = self._pinyin_cache.get(word)
        if key is None:
            key = self._pinyin_cache[word] = pinyin_key(word)
        if key and key != word:
            self.by_pinyin.setdefault(key, set()).add(word)
        for ch in set(word):
            self.buckets.setdefault((len(word), ch), set()).add(word)

    def remove(self, word: str) -> None:
        n = self.count.get(word, 0)
        if n > 1:
            self.count[word] = n - 1
            return
        if n == 0:
            return
        del self.count[word]
        key = self._pinyin_cache.get(word, "")
        self.by_pinyin.get(key, set()).discard(word)
        for ch in set(word):
            self.buckets.get((len(word), ch), set()).discard(word)

    def corrections(self, window: str, syllables: list[str]) -> list[tuple[str, float]]:
        """Keywords ``window`` may have been meant as, with a confidence (1.0 homophone, 0.8 one character)."""
        if window in self.count:
            return []
        out: dict[str, float] = {}
        key = "".join(syllables)
        for word in self.by_pinyin.get(key, ()):
            out[word] = 1.0
        if len(window) >= 3:
            seen: dict[str, int] = {}
            for ch in set(window):
                for word in self.buckets.get((len(window), ch), ()):
                    seen[word] = seen.get(word, 0) + 1
            for word, shared in seen.items():
                if shared >= len(window) - 1 and word not in out and Levenshtein.distance(window, word) <= 1:
                    out[word] = 0.8
        return list(out.items())


def syllables_of(run: str) -> list[str]:
    """One toneless syllable per character of a Han run."""
    return [char_pinyin(ch) for ch in run]
