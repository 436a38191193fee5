"""Duplicates of the same matter in other words: recall and precision of the duplicate score on a paraphrase set
written for the demo city (tests/bench/data/routing_paraphrases.tsv: 1 = the same matter in other words, 0 = another
matter at the same place), scored as the app scores a candidate (``hotline.dispatch.duplicates``: rapidfuzz
similarity, raised for the same category leaf at the same named place, routing/matter.py) on a fresh demo
instance, at the configured duplicate threshold; the character similarity alone for comparison.

    python -m tests.bench.routing_paraphrase [--out bench/routing_paraphrase.json]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

NAME = "routing_paraphrase"
DATA = Path(__file__).parent / "data" / "routing_paraphrases.tsv"
TARGETS = {"recall": 0.9, "precision": 0.9}


def load(path: Path = DATA) -> list[tuple[int, str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            label, a, b = line.split("\t")[:3]
            rows.append((int(label), a.strip(), b.strip()))
    return rows


def _rates(pred: list[bool], gold: list[int]) -> dict:
    tp = sum(p and g for p, g in zip(pred, gold, strict=True))
    fp = sum(p and not g for p, g in zip(pred, gold, strict=True))
    fn = sum((not p) and g for p, g in zip(pred, gold, strict=True))
    return {
        "recall": round(tp / max(1, tp + fn), 4),
        "precision": round(tp / max(1, tp + fp), 4),
        "tp": tp,
        "fp": fp,
        "fn": fn,
    }


def measure(data: Path = DATA) -> dict:
    from hotline.dispatch.duplicates import _without_place, topics
    from routing.duplicates import similar
    from routing.matter import matter_score
    from tests.bench.routing_coldstart import fresh_app

    rows = load(data)
    with tempfile.TemporaryDirectory(prefix="routing-paraphrase-") as tmp:
        app = fresh_app(Path(tmp))
        threshold = app.config["HOTLINE"].duplicate_threshold
        with app.test_request_context():
            started = time.perf_counter()
            scored = []
            for label, a, b in rows:
                text = similar(_without_place(a), _without_place(b))
                scored.append((label, a, b, text, matter_score(text, list(topics(b)), list(topics(a)), b, a)))
            ms = (time.perf_counter() - started) * 1000 / len(rows)
        from hotline.extensions import stop_embedded_redis

        stop_embedded_redis(app.config["HOTLINE"])
    gold = [r[0] for r in scored]
    return {
        "pairs": len(rows),
        "same_matter": sum(gold),
        "near_misses": len(gold) - sum(gold),
        "threshold": threshold,
        "matter": _rates([r[4] >= threshold for r in scored], gold),
        "characters_only": _rates([r[3] >= threshold for r in scored], gold),
        "ms_per_pair": round(ms, 3),
        "errors": [
            {"label": label, "open": a, "new": b, "score": round(s, 3)}
            for label, a, b, _, s in scored
            if (s >= threshold) != bool(label)
        ],
        "targets": TARGETS,
    }


def markdown(res: dict) -> str:
    m, c = res["matter"], res["characters_only"]
    lines = [
        "## Duplicates of the same matter (paraphrase set)",
        "",
        f"{res['pairs']} pairs ({res['same_matter']} same matter in other words, {res['near_misses']} other matters "
        f"at the same place), threshold {res['threshold']}: **recall {m['recall']}, precision {m['precision']}** "
        f"(targets ≥ {TARGETS['recall']} / ≥ {TARGETS['precision']}); character similarity alone: recall "
        f"{c['recall']}, precision {c['precision']}. {res['ms_per_pair']} ms per pair.",
    ]
    if res["errors"]:
        lines += ["", "| label | open case | new report | score |", "|---|---|---|---|"]
        lines += [f"| {e['label']} | {e['open']} | {e['new']} | {e['score']} |" for e in res["errors"]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.bench.routing_paraphrase", description=__doc__)
    p.add_argument("--out", default="bench/routing_paraphrase.json")
    args = p.parse_args(argv)
    res = measure()
    md = markdown(res)
    print(md)
    from tests.bench.report import save

    save(Path(args.out), res, md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
