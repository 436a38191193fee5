"""Fine-grained routing: a case text → level-3 (else level-2) category and the unit that handles it, with no
labelled history (a city's first day), combined with the level-1 model when there is one.

Pure: the app passes everything in as plain data —
- ``categories``: every taxonomy path ("城乡建设/城市建设和市政管理/自来水供应") → (unit code or None, 属地 flag),
  the category map as stored (level-3 overrides such as the utilities included);
- ``lexicon``: category path → everyday words (停水 水压 水管 …), the admin-editable routing lexicon;
- ``kb``: (category path, unit code, terms) of knowledge-base entries (service items and articles carry a
  unit and a category; their tags are the words callers use for them).

Scoring: the text (with the located place's own mention removed, so "和平里社区" does not read as a
社区 matter) is scanned left to right for the longest known term at each position; each hit adds its weight
(longer words weigh more; a word shared by several categories is split among them) to its categories.
Categories vote for their unit (a 属地 category resolves to the street/district of the place when known), so
several small hits for the same unit add up; the unit's category is its best-scoring path. Every candidate keeps
why: the words matched, the place used, and the model's level-1 probability.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from routing.text import normalize

MIN_TERM = 2
MAX_TERM = 12
SOURCE_WEIGHT = {"lexicon": 1.0, "name": 0.8, "kb": 0.5}
GENERIC_NAMES = frozenset({"其他", "其他污染", "其他补贴", "其他野生资源管理"})
STRONG_EVIDENCE = 3.0  # matched weight from which the lexicon's evidence counts fully (≈ two 3-char words)
# With a level-1 model its level-1 decides (its precision is measured, the lexicon's is not). The lexicon's
# level-1 goes first only when its evidence is strong and one-sided and the model is unsure: at least
# LEXICON_SURE of the matched weight, LEXICON_STRENGTH of STRONG_EVIDENCE matched, the model's own level-1 at most
# RIVAL_SHARE of it in the words, and the model's top probability below MODEL_UNSURE (UNKNOWN_UNSURE when the
# words' category is one the model never learned). Tuned so that neither held-out split of
# tests.bench.routing_api loses a level-1 answer, then for tests.bench.routing_coldstart --model.
LEXICON_SURE = 0.7
LEXICON_STRENGTH = 0.5
RIVAL_SHARE = 0.5
MODEL_UNSURE = 0.6
UNKNOWN_UNSURE = 0.5
# A category the model never learned it cannot judge (its confidence there says nothing): the words' level-1 goes
# first when it is such a category, holds at least UNKNOWN_SHARE of the matched weight and the matched weight is at
# least UNKNOWN_EVIDENCE (one 4-character or two 2-character words), unless the model is near-certain (top
# probability ≥ MODEL_CERTAIN). Tuned on the aggregate figures of tests.bench.routing_api (macro-F1 and top-3 of
# each split within 0.003 of the model alone), then for tests.bench.routing_coldstart --model.
UNKNOWN_SHARE = 0.9
UNKNOWN_EVIDENCE = 2.0
MODEL_CERTAIN = 0.98
LAST_SLOT = 0.005  # the lexicon's own best unit takes the last suggestion from a level-1 class the model gives < this
LEXICON_SCORE = 0.6  # the score of a level-1 category chosen by the lexicon alone (never auto-dispatched)
_BUS_LINE = re.compile(r"\d{1,3}路(?:公交车|公交|汽车|车)?(?!口)")  # "26路车", "12路": a bus line, not a road
KEPT_PLACE_WORDS = ("景区", "医院", "水库", "码头", "中学", "小学", "幼儿园", "汽车站", "火车站", "农贸市场", "菜市场")


@dataclass
class Candidate:
    unit: str | None
    path: str
    score: float
    words: list[str] = field(default_factory=list)
    local: bool = False

    @property
    def level1(self) -> str:
        return self.path.split("/", 1)[0]


def _term_weight(term: str) -> float:
    return 1.0 + 0.5 * (min(len(term), 6) - MIN_TERM)


class FineRouter:
    def __init__(
        self,
        categories: dict[str, tuple[str | None, bool]],
        lexicon: dict[str, Iterable[str]] | None = None,
        kb: Iterable[tuple[str, str | None, Iterable[str]]] = (),
    ):
        self.categories = dict(categories)
        # term -> {(path, unit override or None): weight}
        terms: dict[str, dict[tuple[str, str | None], float]] = {}

        def add(term: str, path: str, unit: str | None, source: str) -> None:
            term = normalize(term)
            if not (MIN_TERM <= len(term) <= MAX_TERM) or path not in self.categories:
                return
            slot = terms.setdefault(term, {})
            key = (path, unit)
            slot[key] = max(slot.get(key, 0.0), SOURCE_WEIGHT[source])

        for path in self.categories:
            name = path.rsplit("/", 1)[-1]
            if path.count("/") >= 1 and name not in GENERIC_NAMES:
                add(name, path, None, "name")
        for path, words in (lexicon or {}).items():
            for word in words:
                add(word, path, None, "lexicon")
        for path, unit, words in kb:
            for word in words:
                add(word, path, unit, "kb")
        # lexicon and names beat a KB tag for the same word: drop KB entries of terms the lexicon has
        for slot in terms.values():
            if any(unit is None for _, unit in slot) and any(unit is not None for _, unit in slot):
                for key in [k for k in slot if k[1] is not None]:
                    del slot[key]
        # two vocabularies matched separately, so a long KB tag ("路灯坏了") never hides a lexicon word ("路灯")
        self.terms = {t: v for t, v in terms.items() if any(unit is None for _, unit in v)}
        self.kb_terms = {t: v for t, v in terms.items() if t not in self.terms}
        self.max_len = max((len(t) for t in terms), default=0)

    def __len__(self) -> int:
        return len(self.terms)

    def hits(self, text: str, terms: dict | None = None) -> list[str]:
        """Known terms of the (normalised) text, leftmost-longest, not overlapping."""
        out, i, n = [], 0, len(text)
        terms, top = self.terms if terms is None else terms, self.max_len
        while i < n - 1:
            for size in range(min(top, n - i), MIN_TERM - 1, -1):
                piece = text[i : i + size]
                if piece in terms:
                    out.append(piece)
                    i += size
                    break
            else:
                i += 1
        return out

    def resolve(self, path: str, unit: str | None, place) -> tuple[str | None, bool]:
        """Unit of a category: a KB entry's own unit, else the category's (属地 → street/district of the place)."""
        if unit is not None:
            return unit, False
        own, local = self.categories.get(path, (None, False))
        if local and place is not None:
            return (place.street_code or place.district_code or own), True
        return own, local

    def rank(self, text: str, place=None, model_proba: dict[str, float] | None = None, k: int = 3) -> list[Candidate]:
        """Candidate units, best first. ``model_proba``: the level-1 model's probabilities (None: no model);
        scores are in [0, 1]: the lexicon's share of the evidence, blended with the model's level-1 probability."""
        norm = normalize(text or "")
        mention = normalize(getattr(place, "mention", "") or "")
        if mention and len(mention) >= 2:
            # a place's own name is not what the matter is about (和平里社区 is no 社区 matter), but a landmark's
            # kind often is (桃花岛景区, 青山水库, 县人民医院)
            keep = next((w for w in KEPT_PLACE_WORDS if mention.endswith(w)), "")
            norm = norm.replace(mention, f" {keep} ")
        norm = _BUS_LINE.sub(" 公交车 ", norm)
        by_path: dict[tuple[str, str | None], float] = {}
        words: dict[tuple[str, str | None], list[str]] = {}
        for term, slot in [(t, self.terms[t]) for t in self.hits(norm)] + [
            (t, self.kb_terms[t]) for t in self.hits(norm, self.kb_terms)
        ]:
            share = _term_weight(term) / len(slot)
            for key, source_weight in slot.items():
                by_path[key] = by_path.get(key, 0.0) + share * source_weight
                words.setdefault(key, []).append(term)
        units: dict[str | None, Candidate] = {}
        best_leaf: dict[str | None, float] = {}
        for (path, kb_unit), score in by_path.items():
            unit, local = self.resolve(path, kb_unit, place)
            cand = units.get(unit)
            if cand is None:
                cand = units[unit] = Candidate(unit, path, 0.0, [], local)
            cand.score += score
            cand.words += [w for w in words[(path, kb_unit)] if w not in cand.words]
            if score > best_leaf.get(unit, 0.0):
                best_leaf[unit], cand.path, cand.local = score, path, local
        total = sum(c.score for c in units.values())
        ranked = [Candidate(c.unit, c.path, c.score / total, c.words, c.local) for c in units.values()] if total else []
        ranked.sort(key=lambda c: (-c.score, c.path))
        if model_proba:
            return self._by_model(ranked, model_proba, place, total, k)
        return _with_home_unit(ranked, self.categories, place)[:k]

    def _by_model(self, lex: list[Candidate], proba: dict[str, float], place, total: float, k: int):
        """The model's level-1 order decides the level-1 categories (one suggestion each, with the model's
        probability as its score, so auto-dispatch and the level-1 figures stay the model's); within each, the
        lexicon's best unit and leaf, else the level-1 category's own unit. Strong lexicon evidence for another
        level-1 category goes first only when the model is unsure (see LEXICON_SURE … MODEL_UNSURE), or when it is
        one the model never learned (see UNKNOWN_SHARE … MODEL_CERTAIN). ``total``: the matched weight."""
        order = sorted(proba, key=lambda c: (-proba[c], c))
        p_top = proba[order[0]]
        strength = min(1.0, total / STRONG_EVIDENCE)
        scores = dict(proba)
        by_level1: dict[str, float] = {}
        for c in lex:
            by_level1[c.level1] = by_level1.get(c.level1, 0.0) + c.score
        words = max(by_level1, key=lambda c: (by_level1[c], c), default=None)
        if (
            words is not None
            and words != order[0]
            and (
                self._unsure(words in proba, by_level1[words], by_level1.get(order[0], 0.0), p_top, strength)
                or (
                    words not in proba
                    and by_level1[words] >= UNKNOWN_SHARE
                    and total >= UNKNOWN_EVIDENCE
                    and p_top < MODEL_CERTAIN
                )
            )
        ):
            order = [words, *[c for c in order if c != words]]
            # a category the model never learned is never auto-dispatched (the engine says so); a learned one
            # keeps the model's probability
            scores[words] = proba.get(words, min(LEXICON_SCORE * by_level1[words], p_top))
        out: list[Candidate] = []
        seen: set = set()
        for level1 in order:
            best = next((c for c in lex if c.level1 == level1 and c.unit not in seen), None)
            if best is None:
                unit, local = self.resolve(level1, None, place)
                if unit in seen:
                    continue
                best = Candidate(unit, level1, 0.0, [], local)
            cap = out[-1].score if out else 1.0
            out.append(Candidate(best.unit, best.path, min(scores[level1], cap), best.words, best.local))
            seen.add(best.unit)
            if len(out) >= k:
                break
        units = {c.unit for c in out}
        if len(out) == k > 1 and lex and lex[0].unit not in units and scores.get(out[-1].level1, 0.0) < LAST_SLOT:
            c = lex[0]  # the words' own answer is still offered when the model's last class is next to impossible
            out[-1] = Candidate(c.unit, c.path, min(out[-1].score, LEXICON_SCORE * c.score), c.words, c.local)
        return out

    @staticmethod
    def _unsure(learned: bool, share: float, rival: float, p_top: float, strength: float) -> bool:
        """Strong, one-sided words for another level-1 category (``share`` of the matched weight, the model's own
        level-1 ``rival``) while the model is unsure."""
        return (
            p_top < (MODEL_UNSURE if learned else UNKNOWN_UNSURE)
            and strength >= LEXICON_STRENGTH
            and share >= LEXICON_SURE
            and rival <= RIVAL_SHARE * share
        )


def _with_home_unit(ranked: list[Candidate], categories: dict, place) -> list[Candidate]:
    """A 属地 candidate sent to the street also offers the category's own unit next (the dispatcher's usual
    alternative); units appear once."""
    out: list[Candidate] = []
    seen: set = set()
    for c in ranked:
        if c.unit not in seen:
            out.append(c)
            seen.add(c.unit)
    extra = []
    for c in out:
        if c.local and place is not None:
            own = categories.get(c.path, (None, False))[0]
            if own and own not in seen:
                extra.append(Candidate(own, c.path, c.score * 0.5, c.words, False))
                seen.add(own)
    if not extra:
        return out
    # the first candidate's home unit goes right after it (scores kept in order), the others after the rest
    first = extra[0]
    first.score = min(out[0].score, max(first.score, out[1].score if len(out) > 1 else 0.0))
    rest = [Candidate(e.unit, e.path, min(e.score, out[-1].score), e.words, False) for e in extra[1:]]
    return [*out[:1], first, *out[1:], *rest]
