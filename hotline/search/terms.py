"""Search terms of a text: overlapping character bigrams of every run of letters/digits (a run of one character is
kept as itself), so that any substring of two or more characters is found as a phrase of consecutive bigrams —
no dictionary, the same on SQLite FTS5 and PostgreSQL tsvector. Pure: no flask/hotline imports.

    terms("油烟扰民，12号")   -> "油烟 烟扰 扰民 12 2号"
    query_runs("油烟 12号") -> [("phrase", ["油烟"]), ("phrase", ["12", "2号"])]
"""

from __future__ import annotations

import re
import unicodedata

RUN = re.compile(r"[^\W_]+")
MAX_QUERY_RUNS = 8


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").lower()


def _bigrams(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def terms(*texts: str) -> str:
    out: list[str] = []
    for text in texts:
        for run in RUN.findall(normalise(text)):
            out += _bigrams(run)
    return " ".join(out)


def query_runs(q: str) -> list[tuple[str, list[str]]]:
    """The query's runs: ("phrase", bigrams) for two or more characters, ("prefix", [char]) for one."""
    runs = []
    for run in RUN.findall(normalise(q))[:MAX_QUERY_RUNS]:
        runs.append(("prefix", [run]) if len(run) == 1 else ("phrase", _bigrams(run)))
    return runs


def fts5_match(runs: list[tuple[str, list[str]]]) -> str:
    """An FTS5 MATCH expression: every run must occur (phrases of bigrams, prefix for one character)."""
    parts = []
    for kind, grams in runs:
        phrase = '"' + " ".join(grams) + '"'
        parts.append(phrase + "*" if kind == "prefix" else phrase)
    return " AND ".join(parts)


def tsquery_text(runs: list[tuple[str, list[str]]]) -> str:
    """A to_tsquery('simple', …) text: bigrams joined by <-> (phrase), runs by &, one character as prefix."""
    parts = []
    for kind, grams in runs:
        parts.append(f"{grams[0]}:*" if kind == "prefix" else "(" + " <-> ".join(grams) + ")")
    return " & ".join(parts)
