"""Why the routing quality targets are (not) reached: label noise, learning curve, errors to read by hand.

    python -m tests.bench.routing_analysis --data ../shared/data/tipdm [--taxonomy ../shared/data/taxonomy.csv]
        [--out bench/routing_analysis.json] [--sample 30]

On the chosen model's out-of-fold probabilities (5-fold CV over near-duplicate groups, as routing_bench):
- label noise: exact duplicates (after normalisation) with different labels; near-duplicate groups that mix
  labels; level-3 categories that the taxonomy files under two of the labelled level-1 categories; how the
  labels of texts containing a few everyday words split;
- confidence: precision of the most confident 80 % ranked by top probability and by the top-2 margin;
- learning curve: the same CV with each training fold cut to 1/8, 1/4, 1/2 of its near-duplicate groups;
- ``--sample`` errors drawn at random (seed 0) and as many with probability ≥ 0.9, written with file and
  line number to bench/routing_errors.tsv for reading by hand (bench/ is never committed: it quotes the data).
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from tests.bench.routing_bench import CHOSEN

WORDS = ("公积金", "物业", "电梯", "景区", "噪音", "学校", "医保", "养老", "社保卡", "房价")
FRACTIONS = (0.125, 0.25, 0.5, 1.0)


def rows_with_lines(path: Path) -> tuple[list[str], list[str], list[int]]:
    """``routing.classifier.load_tsv`` with the 1-based line number of each kept row."""
    from routing.classifier import load_tsv

    texts, labels, lines = [], [], []
    with open(path, encoding="utf-8-sig", errors="replace") as fh:
        for number, line in enumerate(fh, 1):
            parts = line.rstrip("\r\n").split("\t")
            if len(parts) == 2 and parts[0].strip() and parts[1].strip():
                texts.append(parts[0].strip())
                labels.append(parts[1].strip())
                lines.append(number)
    assert texts == load_tsv(path)[0], "rows_with_lines drifted from load_tsv"
    return texts, labels, lines


def label_noise(texts: list[str], labels: list[str], groups: np.ndarray, taxonomy: str | None) -> dict:
    from routing.evaluation import group_label_conflicts
    from routing.text import normalize

    by_text: dict[str, set] = defaultdict(set)
    count: Counter = Counter()
    for t, lab in zip(texts, labels, strict=True):
        key = normalize(t)
        by_text[key].add(lab)
        count[key] += 1
    dup = [k for k, c in count.items() if c > 1]
    out = {
        "exact_duplicate_texts": len(dup),
        "exact_duplicates_with_different_labels": sum(len(by_text[k]) > 1 for k in dup),
        "near_duplicate_groups": group_label_conflicts(groups, labels),
    }
    seen = set(labels)
    if taxonomy:
        leaves: dict[str, set] = defaultdict(set)
        with open(taxonomy, encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                if row["level1"] in seen and row["level3"] != "其他":
                    leaves[row["level3"]].add(row["level1"])
        out["taxonomy_leaves_under_two_labels"] = {k: sorted(v) for k, v in leaves.items() if len(v) > 1}
    out["label_split_of_texts_with"] = {
        w: dict(Counter(lab for t, lab in zip(texts, labels, strict=True) if w in t).most_common()) for w in WORDS
    }
    return out


def _precision80(conf: np.ndarray, correct: np.ndarray) -> float:
    keep = np.argsort(-conf, kind="stable")[: max(1, round(0.8 * len(conf)))]
    return round(float(correct[keep].mean()), 4)


def per_source(proba: np.ndarray, classes: list[str], y: np.ndarray, src: np.ndarray, names: list[str]) -> dict:
    from routing.evaluation import score_metrics

    out = {}
    srt = np.sort(proba, axis=1)
    correct = np.asarray(classes)[proba.argmax(axis=1)] == y
    for k, name in enumerate(names):
        sel = src == k
        m = score_metrics(proba[sel], classes, list(y[sel]))
        out[name] = {
            "macro_f1": round(m["macro_f1"], 4),
            "top3": round(m["top3_accuracy"], 4),
            "precision80_top_probability": round(m["precision_at_coverage"], 4),
            "precision80_top2_margin": _precision80((srt[:, -1] - srt[:, -2])[sel], correct[sel]),
        }
    return out


def learning_curve(texts, labels, groups, splits, src, names) -> dict:
    from routing.cv import out_of_fold_proba

    rng = np.random.default_rng(0)
    y = np.asarray(labels)
    out = {}
    for frac in FRACTIONS:
        cut = []
        for tr, te in splits:
            g = np.unique(groups[tr])
            chosen = rng.choice(g, max(1, round(frac * len(g))), replace=False)
            cut.append((tr[np.isin(groups[tr], chosen)], te))
        started = time.perf_counter()
        proba, classes = out_of_fold_proba(texts, labels, cut, algorithm=CHOSEN)
        out[str(frac)] = {
            "train_rows_per_fold": int(np.mean([len(tr) for tr, _ in cut])),
            "seconds": round(time.perf_counter() - started, 1),
            **per_source(proba, classes, y, src, names),
        }
        print(f"learning curve {frac}: {out[str(frac)]}", flush=True)
    return out


def error_sample(proba, classes, y, src, names, lines, texts, n: int, path: Path) -> dict:
    pred = np.asarray(classes)[proba.argmax(axis=1)]
    conf = proba.max(axis=1)
    errors = np.flatnonzero(pred != y)
    confident = errors[conf[errors] >= 0.9]
    rng = np.random.default_rng(0)
    picks = {
        "random": np.sort(rng.choice(errors, min(n, len(errors)), replace=False)),
        "p>=0.9": np.sort(rng.choice(confident, min(n, len(confident)), replace=False)),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("sample\tfile\tline\tlabel\tpredicted\tp\ttext\n")
        for name, rows in picks.items():
            for i in rows:
                fh.write(f"{name}\t{names[src[i]]}\t{lines[i]}\t{y[i]}\t{pred[i]}\t{conf[i]:.3f}\t{texts[i][:200]}\n")
    return {
        "errors": len(errors),
        "errors_p_ge_0.9": len(confident),
        "sample_file": str(path),
        "sampled": {k: [f"{names[src[i]]}:{lines[i]}" for i in v] for k, v in picks.items()},
    }


def main(argv: list[str] | None = None) -> int:
    from routing.cv import grouped_folds, out_of_fold_proba
    from routing.evaluation import near_duplicate_groups

    p = argparse.ArgumentParser(
        prog="python -m tests.bench.routing_analysis",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--data", required=True)
    p.add_argument("--taxonomy", help="taxonomy.csv (level1,level2,level3) to find leaves under two labels")
    p.add_argument("--out", default="bench/routing_analysis.json")
    p.add_argument("--sample", type=int, default=30)
    p.add_argument("--no-curve", action="store_true", help="skip the learning curve (the slow part)")
    args = p.parse_args(argv)
    texts, labels, src, lines, names = [], [], [], [], []
    for k, path in enumerate(sorted(Path(args.data).glob("*.tsv"))):
        t, lab, ln = rows_with_lines(path)
        texts += t
        labels += lab
        lines += ln
        src += [k] * len(t)
        names.append(path.stem)
    src_arr, y = np.asarray(src), np.asarray(labels)
    groups = near_duplicate_groups(texts)
    splits = grouped_folds(labels, groups, 5)
    res: dict = {"noise": label_noise(texts, labels, groups, args.taxonomy)}
    proba, classes = out_of_fold_proba(texts, labels, splits, algorithm=CHOSEN)
    res["chosen"] = per_source(proba, classes, y, src_arr, names)
    out = Path(args.out)
    res["errors"] = error_sample(
        proba, classes, y, src_arr, names, lines, texts, args.sample, out.with_name("routing_errors.tsv")
    )
    if not args.no_curve:
        res["learning_curve"] = learning_curve(texts, labels, groups, splits, src_arr, names)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, ensure_ascii=False, indent=2), encoding="utf-8")
    print(json.dumps({k: v for k, v in res.items() if k != "errors"}, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
