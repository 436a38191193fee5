"""Locate a case in the city: district (区/县) and street/town (街道/镇/乡) from an address or text.

Pure: the app passes the areas in as plain data (each district/street code with its name and the places of the
``places`` table, built by ``hotline.dispatch.service``) with the department names and parents.

Order of evidence, strongest first:
1. exact alias hits (longest match wins, a hit inside a longer hit is dropped); a street implies its
   district; an explicitly named district (东城区/东城) restricts the streets to its own;
2. fuzzy matches of mentions that end like a place ("XX路XX号", "XX小区", "XX街道", "XX镇" …): the
   stem before the place word is compared with the aliases of the same kind (rapidfuzz ratio, and
   homophones through pypinyin's character table, the usual input-method typo: 东成区 → 东城区);
3. rapidfuzz partial matching of long aliases (≥ 5 characters) for abbreviations and dropped words
   (address-sized input only, ≤ 80 characters).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz

from routing.text import normalize

# place words, grouped into kinds whose members stand in for each other (小区 ≈ 社区 ≈ 花园 …)
_KINDS: dict[str, str] = {
    "街道": "admin",
    "街办": "admin",
    "镇": "admin",
    "乡": "admin",
    "区": "district",
    "县": "district",
    "路": "road",
    "街": "road",
    "大道": "road",
    "大街": "road",
    "巷": "road",
    "小区": "estate",
    "社区": "estate",
    "花园": "estate",
    "家园": "estate",
    "新村": "estate",
    "村": "estate",
}
_SUFFIXES = sorted(_KINDS, key=len, reverse=True)
_MENTION = re.compile("(" + "|".join(_SUFFIXES) + r")(?:\d+号)?")
_FUZZY_MIN = 80.0
_PARTIAL_MAX_TEXT = 80


@dataclass(frozen=True)
class Place:
    district_code: str | None
    street_code: str | None
    alias: str  # the gazetteer alias that matched
    score: float  # 1.0 exact … ~0.7 weakest fuzzy
    mention: str = ""  # the text that matched it
    method: str = "exact"  # exact | fuzzy | partial


@dataclass(frozen=True)
class _Alias:
    text: str
    code: str
    admin: bool  # the unit's own name or its short form (explicit, not a landmark)
    stem: str  # alias without its place word
    kind: str | None  # place-word kind, None when the alias has none


def _split_suffix(alias: str) -> tuple[str, str | None]:
    for suf in _SUFFIXES:
        if alias.endswith(suf) and len(alias) > len(suf):
            return alias[: -len(suf)], _KINDS[suf]
    return alias, None


@lru_cache(maxsize=1)
def _readings() -> dict[str, frozenset[str]]:
    """Character → toneless pinyin readings, read from pypinyin's table (a large JSON file, read once; size:
    tests/bench/README.md, routing; empty if absent)."""
    import importlib.util
    import json
    import os
    import unicodedata

    spec = importlib.util.find_spec("pypinyin")
    if spec is None or not spec.origin:
        return {}
    path = os.path.join(os.path.dirname(spec.origin), "pinyin_dict.json")
    with open(path, encoding="utf-8") as fh:
        raw = json.load(fh)
    interned: dict[frozenset[str], frozenset[str]] = {}
    out: dict[str, frozenset[str]] = {}
    for key, value in raw.items():
        code = int(key)
        if not 0x4E00 <= code <= 0x9FFF:
            continue
        plain = frozenset(
            "".join(c for c in unicodedata.normalize("NFD", r) if not unicodedata.combining(c))
            for r in value.split(",")
        )
        out[chr(code)] = interned.setdefault(plain, plain)
    return out


def homophones(a: str, b: str) -> bool:
    """Same length and every differing character shares a reading (东成 ~ 东城)."""
    if len(a) != len(b) or not a:
        return False
    table = _readings()
    for x, y in zip(a, b, strict=True):
        if x != y and not (table.get(x, frozenset()) & table.get(y, frozenset())):
            return False
    return True


class Gazetteer:
    """areas: code → aliases; names: code → official name; parents: code → parent code."""

    def __init__(
        self,
        areas: dict[str, list[str]],
        names: dict[str, str] | None = None,
        parents: dict[str, str | None] | None = None,
    ):
        names = names or {}
        parents = parents or {}
        codes = set(areas)  # only the places of the gazetteer; other units of `names` are ignored
        self.names = {c: n for c, n in names.items() if c in codes}
        # a code is a street when its parent is itself a place of the gazetteer
        self.parents = {c: parents.get(c) for c in codes}
        self.streets = {c for c in codes if self.parents.get(c) in codes}
        aliases: dict[str, _Alias] = {}
        for code in sorted(codes):
            own = names.get(code, "")
            admin_forms = {own} if own else set()
            if own:
                stem, kind = _split_suffix(own)
                if kind == "district" and len(stem) >= 2:
                    admin_forms.add(stem)
                if own.endswith("街道"):
                    admin_forms |= {stem + "街办", stem + "街道办"}
            for text in [*admin_forms, *areas.get(code, [])]:
                text = normalize(text)
                if len(text) < 2 or text in aliases:
                    continue
                stem, kind = _split_suffix(text)
                aliases[text] = _Alias(text, code, text in admin_forms, stem, kind)
        self._aliases = sorted(aliases.values(), key=lambda a: -len(a.text))
        self._by_kind: dict[str, list[_Alias]] = {}
        for alias in self._aliases:
            if alias.kind and len(alias.stem) >= 2:
                self._by_kind.setdefault(alias.kind, []).append(alias)
        self._long = [a for a in self._aliases if len(a.text) >= 5]

    def district_of(self, code: str | None) -> str | None:
        if code is None:
            return None
        return self.parents.get(code) if code in self.streets else code

    def _place(self, alias: _Alias, score: float, mention: str, method: str) -> Place:
        street = alias.code if alias.code in self.streets else None
        return Place(self.district_of(alias.code), street, alias.text, round(score, 3), mention, method)

    # --- exact ---------------------------------------------------------------------------

    def _exact_hits(self, text: str) -> list[tuple[int, int, _Alias]]:
        hits: list[tuple[int, int, _Alias]] = []
        for alias in self._aliases:  # longest first
            start = text.find(alias.text)
            while start >= 0:
                end = start + len(alias.text)
                if not any(s <= start and end <= e for s, e, _ in hits):
                    hits.append((start, end, alias))
                start = text.find(alias.text, start + 1)
        return hits

    # --- fuzzy ---------------------------------------------------------------------------

    def _fuzzy(self, text: str, allowed: set[str] | None, streets_only: bool) -> tuple[float, _Alias, str, str] | None:
        best: tuple[float, _Alias, str, str] | None = None
        for m in _MENTION.finditer(text):
            for alias in self._by_kind.get(_KINDS[m.group(1)], ()):
                if streets_only and alias.code not in self.streets:
                    continue
                if allowed is not None and self.district_of(alias.code) not in allowed:
                    continue
                n = len(alias.stem)
                for k in (n, n - 1):  # a typo, or a dropped character (an inserted one is another place: 中山北路)
                    if k < 2 or m.start() - k < 0:
                        continue
                    stem = text[m.start() - k : m.start()]
                    score = fuzz.ratio(stem, alias.stem)
                    if homophones(stem, alias.stem):
                        score = max(score, 92.0)
                    if score < _FUZZY_MIN:
                        continue
                    if stem + m.group(1) != alias.text:
                        score *= 0.97 if stem == alias.stem else 1.0  # same name, sister place word
                    if best is None or score > best[0]:
                        best = (score, alias, text[m.start() - k : m.end()], "fuzzy")
        if len(text) > _PARTIAL_MAX_TEXT:
            return best  # partial matching of whole aliases: for address-sized input only
        for alias in self._long:
            if streets_only and alias.code not in self.streets:
                continue
            if allowed is not None and self.district_of(alias.code) not in allowed:
                continue
            res = fuzz.partial_ratio_alignment(alias.text, text, score_cutoff=85)
            if res is not None and (best is None or res.score > best[0]):
                best = (res.score, alias, text[res.dest_start : res.dest_end], "partial")
        return best

    def named_spot(self, text: str | None) -> str | None:
        """The longest estate, road or landmark named exactly in the text (no unit name, no fuzzy matching): the
        duplicate check's "same place" (cheap: exact hits only)."""
        spots = [a.text for _, _, a in self._exact_hits(normalize(text or "")) if not a.admin and len(a.text) >= 3]
        return max(spots, key=len) if spots else None

    def locate(self, text: str | None) -> Place | None:
        text = normalize(text or "")
        if not text:
            return None
        hits = self._exact_hits(text)
        named = {a.code for _, _, a in hits if a.admin and a.code not in self.streets}
        streets = [
            (s, a) for s, _, a in hits if a.code in self.streets and (not named or self.district_of(a.code) in named)
        ]
        if streets:
            _, alias = min(streets, key=lambda sa: (-len(sa[1].text), sa[0]))
            return self._place(alias, 1.0, alias.text, "exact")
        fuzzy = self._fuzzy(text, named or None, streets_only=bool(hits))
        if fuzzy is not None:
            score, alias, mention, method = fuzzy
            return self._place(alias, 0.9 * score / 100, mention, method)
        if hits:
            # explicit district names first, then the longest landmark
            _, _, alias = min(hits, key=lambda h: (not h[2].admin, -len(h[2].text), h[0]))
            return self._place(alias, 1.0 if len(alias.text) >= 3 else 0.8, alias.text, "exact")
        return None
