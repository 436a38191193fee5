"""The KB search index: pure, in-process, updated in place (no Flask, no ``hotline``).

Chosen over the database's full-text search: a compact inverted index (term → array of slots + array of
float32 weights, scored with numpy) answers fast and stays small for a city-sized catalogue, where SQLite FTS5
and PostgreSQL trigram have no Chinese segmentation, synonyms or homophone correction of their own
(measurements: tests/bench/README.md, kb_search). Every process keeps its own index and brings it up to date
from the database's change counter before each search (hotline/kb/index.py), so a publication is visible
everywhere at the next search.

Ranking: BM25-style term weights (precomputed per entry by ``text.term_vector``) × idf × query-term weight
(1.0 typed, 0.9 synonym, 0.8/0.6 typo correction, 0.5 substring), then × (1 + 0.25·usage + 0.1·freshness).
"""

from __future__ import annotations

import math
import threading
from array import array
from collections import Counter
from dataclasses import dataclass, field
from itertools import chain

import numpy as np

from knowledge_base.fuzzy import KeywordVocab, syllables_of
from knowledge_base.text import STOPWORDS, Tokenizer, han_runs, idf, normalise

NO_DATE = 2**31 - 1
KEYWORD_WEIGHT = 1.3  # terms at least this heavy come from titles/tags: typos are corrected into them
USAGE_W, FRESH_W, FRESH_DAYS = 0.25, 0.1, 365.0
KINDS = ("service_item", "article")


@dataclass
class Doc:
    """What the index keeps of one published entry."""

    id: int
    kind: str
    code: str
    title: str
    terms: dict[str, float]
    keywords: tuple[str, ...] | None = None  # words typos are corrected into; None: its heavy (title/tag) terms
    category: str = ""  # category path "l1/l2/l3"
    unit: str = ""  # owning unit's materialised path "/C/ZWJ/"
    districts: tuple[str, ...] = ()  # empty: the whole city
    usage: int = 0
    updated_day: int = 0  # date.toordinal()
    valid_from: int = 0
    valid_to: int = NO_DATE


@dataclass
class Filters:
    category: str = ""  # path prefix ("社会保障" or "社会保障/社会保险")
    unit: str = ""  # unit path prefix ("/C/RSJ/")
    district: str = ""  # district code: entries for it or for the whole city
    kind: str = ""


@dataclass
class Hit:
    id: int
    code: str
    title: str
    kind: str
    score: float
    matched: list[str] = field(default_factory=list)


class SearchIndex:
    def __init__(self, tokenizer: Tokenizer, synonyms: list[tuple[str, ...]] | None = None):
        self.tokenizer = tokenizer
        self._lock = threading.RLock()
        self._postings: dict[str, tuple[array, array]] = {}
        self._slot_of: dict[int, int] = {}
        self._ids = array("q")
        self._alive = bytearray()
        self._kind = bytearray()
        self._usage = array("f")
        self._updated = array("i")
        self._vfrom = array("i")
        self._vto = array("i")
        self._cat = array("i")
        self._unit = array("i")
        self._dist = array("q")
        self._titles: list[str] = []
        self._codes: list[str] = []
        self._keywords: list[tuple[str, ...]] = []
        self._interned: dict[str, int] = {"": 0}
        self._district_bits: dict[str, int] = {}
        self.vocab = KeywordVocab()
        self.synonyms: dict[str, tuple[str, ...]] = {}
        self.set_synonyms(synonyms or [])
        self.alive_count = 0

    # --- building -------------------------------------------------------------------------------------
    def set_synonyms(self, groups: list[tuple[str, ...]]) -> None:
        table: dict[str, set[str]] = {}
        for group in groups:
            terms = {normalise(t) for t in group if normalise(t)}
            for t in terms:
                table.setdefault(t, set()).update(terms - {t})
        self.synonyms = {t: tuple(sorted(others)) for t, others in table.items()}
        self.tokenizer.add_words(self.synonyms)

    def _intern(self, value: str) -> int:
        return self._interned.setdefault(value, len(self._interned))

    def _district_mask(self, codes: tuple[str, ...]) -> int:
        mask = 0
        for code in codes:
            bit = self._district_bits.setdefault(code, min(len(self._district_bits), 62))
            mask |= 1 << bit
        return mask

    def _add_meta(self, doc: Doc) -> int:
        """Everything of ``doc`` but its postings; returns its new slot."""
        slot = len(self._ids)
        self._slot_of[doc.id] = slot
        self._ids.append(doc.id)
        self._alive.append(1)
        self._kind.append(KINDS.index(doc.kind) if doc.kind in KINDS else 1)
        self._usage.append(float(doc.usage))
        self._updated.append(doc.updated_day)
        self._vfrom.append(doc.valid_from)
        self._vto.append(doc.valid_to)
        self._cat.append(self._intern("c:" + doc.category))
        self._unit.append(self._intern("u:" + doc.unit))
        self._dist.append(self._district_mask(doc.districts))
        self._titles.append(doc.title)
        self._codes.append(doc.code)
        self._keywords.append(doc.keywords)
        self.alive_count += 1
        return slot

    def upsert(self, doc: Doc) -> None:
        with self._lock:
            self.remove(doc.id)
            slot = self._add_meta(doc)
            if doc.keywords is None:
                self._keywords[slot] = tuple(t for t, w in doc.terms.items() if w >= KEYWORD_WEIGHT and 1 < len(t) < 7)
            for kw in self._keywords[slot]:
                self.vocab.add(kw)
            for term, weight in doc.terms.items():
                post = self._postings.get(term)
                if post is None:
                    post = self._postings[term] = (array("I"), array("f"))
                post[0].append(slot)
                post[1].append(weight)

    def bulk_load(self, docs: list[Doc]) -> None:
        """Add many entries at once (the first build): the postings of all of them are gathered with C-level
        iteration (itertools/np.fromiter) and grouped by one numpy sort, instead of per-term appends."""
        with self._lock:
            docs = list(docs)
            if not docs:
                return
            for doc in docs:
                self.remove(doc.id)
            first = len(self._ids)
            for doc in docs:
                self._add_meta(doc)
            lengths = np.fromiter((len(d.terms) for d in docs), dtype=np.int64, count=len(docs))
            total = int(lengths.sum())
            names = list(dict.fromkeys(chain.from_iterable(d.terms for d in docs)))
            term_ids = {t: i for i, t in enumerate(names)}
            t = np.fromiter(
                map(term_ids.__getitem__, chain.from_iterable(d.terms for d in docs)), dtype=np.uint32, count=total
            )
            w = np.fromiter(chain.from_iterable(d.terms.values() for d in docs), dtype=np.float32, count=total)
            s = np.repeat(np.arange(first, first + len(docs), dtype=np.uint32), lengths)
            self._bulk_keywords(docs, names, t, w, lengths)
            if not total:
                return
            order = np.argsort(t, kind="stable")
            t, s, w = t[order], s[order], w[order]
            starts = np.concatenate(([0], np.flatnonzero(np.diff(t)) + 1))
            ends = np.append(starts[1:], len(t))
            for tid, a, b in zip(t[starts].tolist(), starts.tolist(), ends.tolist(), strict=True):
                post = self._postings.get(names[tid])
                if post is None:
                    self._postings[names[tid]] = (array("I", s[a:b].tobytes()), array("f", w[a:b].tobytes()))
                else:
                    post[0].frombytes(s[a:b].tobytes())
                    post[1].frombytes(w[a:b].tobytes())

    def _bulk_keywords(self, docs: list[Doc], names: list[str], t, w, lengths) -> None:
        """Per-entry keywords (given, or the entry's heavy terms of 2–6 characters) into the typo vocabulary."""
        size_ok = np.fromiter(((1 < len(n) < 7) for n in names), dtype=bool, count=len(names))
        mask = (w >= KEYWORD_WEIGHT) & size_ok[t]
        owner = np.repeat(np.arange(len(docs)), lengths)[mask]
        picked = np.asarray(names, dtype=object)[t[mask]]
        bounds = np.searchsorted(owner, np.arange(len(docs) + 1))
        counts: Counter = Counter()
        first = len(self._ids) - len(docs)
        for i, doc in enumerate(docs):
            kws = doc.keywords if doc.keywords is not None else tuple(picked[bounds[i] : bounds[i + 1]])
            self._keywords[first + i] = kws
            counts.update(kws)
        for word, count in counts.items():
            self.vocab.add(word, count)

    def remove(self, entry_id: int) -> bool:
        with self._lock:
            slot = self._slot_of.pop(entry_id, None)
            if slot is None:
                return False
            self._alive[slot] = 0
            for kw in self._keywords[slot]:
                self.vocab.remove(kw)
            self._keywords[slot] = ()
            self.alive_count -= 1
            if len(self._ids) > 1000 and self.alive_count < len(self._ids) * 0.7:
                self.compact()
            return True

    def set_usage(self, usage: dict[int, int]) -> None:
        with self._lock:
            for entry_id, count in usage.items():
                slot = self._slot_of.get(entry_id)
                if slot is not None:
                    self._usage[slot] = float(count)

    def compact(self) -> None:
        """Drop removed slots from every posting list (updates leave tombstones behind)."""
        with self._lock:
            alive = np.frombuffer(bytes(self._alive), dtype=np.uint8).astype(bool)
            remap = np.cumsum(alive, dtype=np.int64) - 1
            for term in list(self._postings):
                slots, weights = self._postings[term]
                s = np.frombuffer(slots, dtype=np.uint32)
                keep = alive[s]
                if not keep.any():
                    del self._postings[term]
                    continue
                self._postings[term] = (
                    array("I", remap[s[keep]].astype(np.uint32).tobytes()),
                    array("f", np.frombuffer(weights, dtype=np.float32)[keep].tobytes()),
                )
            idx = np.flatnonzero(alive)
            for name in ("_ids", "_usage", "_updated", "_vfrom", "_vto", "_cat", "_unit", "_dist"):
                old = getattr(self, name)
                arr = np.frombuffer(old, dtype=np.dtype(old.typecode if old.typecode != "q" else "int64"))
                setattr(self, name, array(old.typecode, arr[idx].tobytes()))
            self._kind = bytearray(bytes(np.frombuffer(bytes(self._kind), dtype=np.uint8)[idx]))
            self._alive = bytearray(b"\x01" * len(idx))
            self._titles = [self._titles[i] for i in idx]
            self._codes = [self._codes[i] for i in idx]
            self._keywords = [self._keywords[i] for i in idx]
            self._slot_of = {int(eid): i for i, eid in enumerate(self._ids)}

    def __len__(self) -> int:
        return self.alive_count

    # --- querying -------------------------------------------------------------------------------------
    def analyse(self, query: str) -> list[tuple[str, float]]:
        """Query → weighted terms: tokens, index words inside the text, synonyms, typo corrections."""
        terms: dict[str, float] = {}

        def put(term: str, weight: float) -> None:
            if term and term not in STOPWORDS and weight > terms.get(term, 0.0):
                terms[term] = weight

        for tok in self.tokenizer.tokens(query):
            put(tok, 1.0)
        postings = self._postings
        for run in han_runs(query):
            syl = syllables_of(run) if len(run) >= 2 else []
            cuts = self.tokenizer.boundaries(run) if len(run) >= 2 else set()
            for size in range(min(6, len(run)), 1, -1):
                for i in range(len(run) - size + 1):
                    window = run[i : i + size]
                    if window in postings:
                        put(window, 0.5)
                    elif size <= 5 and i in cuts and i + size in cuts:  # typos only on whole segments
                        for word, conf in self.vocab.corrections(window, syl[i : i + size]):
                            put(word, conf * (0.8 if size >= 3 else 0.6))
        for term, weight in list(terms.items()):
            for other in self.synonyms.get(term, ()):
                put(other, weight * 0.9)
        return list(terms.items())

    def search(self, query: str, limit: int = 10, filters: Filters | None = None, today: int = 0) -> list[Hit]:
        """Best ``limit`` entries for ``query`` valid on day ``today`` (date ordinal; 0 = ignore validity)."""
        terms = self.analyse(query)
        with self._lock:
            n = len(self._ids)
            if not n or not terms:
                return []
            scores = np.zeros(n, dtype=np.float32)
            n_docs = max(self.alive_count, 1)
            matched = []
            for term, qw in terms:
                post = self._postings.get(term)
                if post is None:
                    continue
                slots = np.frombuffer(post[0], dtype=np.uint32)
                weights = np.frombuffer(post[1], dtype=np.float32)
                scores[slots] += weights * np.float32(qw * idf(n_docs, len(slots)))
                matched.append(term)
            mask = (scores > 0) & np.frombuffer(bytes(self._alive), dtype=np.uint8).astype(bool)
            if today:
                mask &= np.frombuffer(self._vfrom, dtype=np.int32) <= today
                mask &= np.frombuffer(self._vto, dtype=np.int32) >= today
            mask = self._apply_filters(mask, filters)
            cand = np.flatnonzero(mask)
            if not len(cand):
                return []
            usage = np.frombuffer(self._usage, dtype=np.float32)[cand]
            top_usage = float(np.frombuffer(self._usage, dtype=np.float32).max()) or 1.0
            boost = 1.0 + USAGE_W * np.log1p(usage) / math.log1p(top_usage)
            if today:
                age = np.maximum(today - np.frombuffer(self._updated, dtype=np.int32)[cand], 0)
                boost += FRESH_W * np.exp(-age / FRESH_DAYS)
            final = scores[cand] * boost
            k = min(limit, len(cand))
            best = np.argpartition(-final, k - 1)[:k]
            best = best[np.argsort(-final[best], kind="stable")]
            return [
                Hit(
                    id=int(self._ids[cand[i]]),
                    code=self._codes[cand[i]],
                    title=self._titles[cand[i]],
                    kind=KINDS[self._kind[cand[i]]],
                    score=round(float(final[i]), 3),
                    matched=matched,
                )
                for i in best
            ]

    def _apply_filters(self, mask, filters: Filters | None):
        if not filters:
            return mask
        if filters.kind:
            mask &= np.frombuffer(bytes(self._kind), dtype=np.uint8) == KINDS.index(filters.kind)
        for attr, prefix, value in (("_cat", "c:", filters.category), ("_unit", "u:", filters.unit)):
            if value:
                allowed = [i for key, i in self._interned.items() if key.startswith(prefix + value)]
                mask &= np.isin(np.frombuffer(getattr(self, attr), dtype=np.int32), allowed)
        if filters.district:
            bit = self._district_bits.get(filters.district)
            dist = np.frombuffer(self._dist, dtype=np.int64)
            mask &= (dist == 0) | (((dist >> bit) & 1) == 1 if bit is not None else False)
        return mask

    def memory_bytes(self) -> int:
        """Approximate bytes held by the index structures (arrays, posting lists, dictionaries)."""
        import sys

        total = sum(
            sys.getsizeof(a)
            for a in (
                self._ids,
                self._alive,
                self._kind,
                self._usage,
                self._updated,
                self._vfrom,
                self._vto,
                self._cat,
                self._unit,
                self._dist,
            )
        )
        total += sys.getsizeof(self._postings) + sum(
            sys.getsizeof(t) + sys.getsizeof(p) + sys.getsizeof(p[0]) + sys.getsizeof(p[1])
            for t, p in self._postings.items()
        )
        total += sys.getsizeof(self._slot_of) + 64 * len(self._slot_of)
        total += sum(sys.getsizeof(t) for t in self._titles) + sum(sys.getsizeof(c) for c in self._codes)
        return total


def snippet(text: str, terms: list[str], width: int = 90) -> str:
    """The part of ``text`` around the first query term found (whole text when short), on one line."""
    flat = " ".join((text or "").split())
    if len(flat) <= width:
        return flat
    low = flat.lower()
    positions = [p for p in (low.find(t) for t in terms if t) if p >= 0]
    start = max(0, min(positions) - width // 4) if positions else 0
    end = min(len(flat), start + width)
    return ("…" if start else "") + flat[start:end] + ("…" if end < len(flat) else "")
