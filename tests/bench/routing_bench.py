"""Routing benchmark: category classifier quality, speed and memory on labelled history.

    python -m tests.bench.routing_bench --data ../shared/data/tipdm [--out bench/routing.json] [--with-words]

All DATA/*.tsv (titles.tsv, bodies.tsv) are trained together, as `flask routing train --data DATA` does,
and scored per file. Cross-validation is stratified k-fold over near-duplicate groups
(``routing.evaluation.near_duplicate_groups``: a body and its own title, re-posts — linked by text only):
a plain k-fold that splits such twins across folds overstates quality (measured: ~+2 macro-F1 points on
bodies). For the chosen model ("svm_nb_memory"), the previous one ("svm"), the TF-IDF + linear baseline
("baseline"), with --with-words the jieba-words variant, and hand-made keyword routing (no training):
macro-F1, accuracy, top-3, precision of the most confident 80 % (and the probability threshold that gives
it), the coverage at which precision reaches 99 %, and for cases with both a title and a body (twin pairs)
the combined prediction. A label-noise section counts near-duplicate groups whose labels disagree. Then,
each in a fresh subprocess: training on all of DATA (wall time, peak RSS), and serving (RSS added by
importing + loading the model + first call, classify latency per case for titles and bodies, and the whole
`engine.suggest`). Then a duplicates check of the similarity methods on synthetic re-reports, and the
served path on a held-out 20 % (``tests.bench.routing_api``: `flask routing train`, then the API). The model
lives in a temp folder and is deleted: nothing trained on the data is written into the project. Prints
markdown, writes JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from tests.bench.routing_bench_child import child_serve, child_train
from tests.bench.routing_bench_report import markdown

NAME = "routing"
ALGORITHMS = ("svm_nb_memory", "svm", "svm_words", "baseline", "keywords")  # chosen first; keywords: no training
CHOSEN, SERVED = ALGORITHMS[0], ("svm_nb_memory", "svm", "baseline")
TARGETS = {
    "bodies": 0.95,
    "titles": 0.92,
    "top3": 0.995,
    "precision80": 0.99,
    "latency_ms": 2.0,
    "train_s": 60.0,
    "train_rss_mb": 2048.0,
    "model_mb": 150.0,
}
AUTO_THRESHOLDS = (
    0.8,
    0.9,
    0.95,
)  # routing.engine.DEFAULT_THRESHOLD, 0.9, the app's default HOTLINE auto_dispatch_threshold


def load_sources(data: str) -> tuple[list[str], list[str], np.ndarray, list[str], dict]:
    """All *.tsv of DATA: texts, labels, source index per row, source names (file stems), skipped lines."""
    from routing.classifier import load_tsv

    texts, labels, src, names, skipped = [], [], [], [], {}
    for k, path in enumerate(sorted(Path(data).glob("*.tsv"))):
        t, lab, skip = load_tsv(path)
        texts += t
        labels += lab
        src += [k] * len(t)
        names.append(path.stem)
        skipped[path.stem] = skip
    return texts, labels, np.asarray(src), names, skipped


def _oof_job(job: tuple) -> tuple[str, np.ndarray, list[str], float]:
    """Out-of-fold probabilities of one algorithm over all rows (a worker process)."""
    texts, labels, splits, algorithm = job
    from routing.cv import out_of_fold_proba

    started = time.perf_counter()
    if algorithm == "keywords":
        from routing.keywords import keyword_scores

        classes = sorted(set(labels))
        proba = np.zeros((len(texts), len(classes)))
        for i, text in enumerate(texts):
            for cat, score in keyword_scores(text, classes):
                proba[i, classes.index(cat)] = score
    else:
        proba, classes = out_of_fold_proba(texts, labels, splits, algorithm=algorithm)
    return algorithm, proba, classes, round(time.perf_counter() - started, 1)


def twin_pairs(groups: np.ndarray, src: np.ndarray, names: list[str]) -> list[tuple[int, int]]:
    """(title row, body row) of groups made of exactly one title and one body: a case with both."""
    if "titles" not in names or "bodies" not in names:
        return []
    t_src, b_src = names.index("titles"), names.index("bodies")
    members: dict[int, list[int]] = {}
    for i, g in enumerate(groups.tolist()):
        members.setdefault(g, []).append(i)
    pairs = []
    for rows in members.values():
        if len(rows) == 2 and {int(src[rows[0]]), int(src[rows[1]])} == {t_src, b_src}:
            t, b = sorted(rows, key=lambda r: src[r] != t_src)
            pairs.append((t, b))
    return pairs


def _metrics(proba: np.ndarray, classes: list[str], labels: list[str]) -> dict:
    from routing.evaluation import at_threshold, coverage_at_precision, coverage_curve, score_metrics

    return {
        **score_metrics(proba, classes, labels),
        "coverage_at_99": coverage_at_precision(proba, classes, labels, 0.99),
        "precision_by_coverage": coverage_curve(proba, classes, labels),
        "auto_at": [at_threshold(proba, classes, labels, t) for t in AUTO_THRESHOLDS],
    }


def quality(data: str, folds: int, jobs: int, with_words: bool, ungrouped: bool = False) -> dict:
    from sklearn.model_selection import StratifiedKFold

    from routing.cv import grouped_folds
    from routing.evaluation import group_label_conflicts, near_duplicate_groups

    texts, labels, src, names, skipped = load_sources(data)
    started = time.perf_counter()
    groups = near_duplicate_groups(texts)
    group_seconds = round(time.perf_counter() - started, 1)
    splits = grouped_folds(labels, groups, folds)
    algorithms = [a for a in ALGORITHMS if with_words or a != "svm_words"]
    jobs_ = [(texts, labels, splits, a) for a in algorithms]
    if ungrouped:  # the usual plain k-fold, twins split across folds: shows how much it overstates
        plain = list(StratifiedKFold(folds, shuffle=True, random_state=0).split(np.zeros(len(labels)), labels))
        jobs_ += [(texts, labels, plain, a) for a in SERVED]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        oof = list(pool.map(_oof_job, jobs_))
    y = np.asarray(labels)
    pairs = twin_pairs(groups, src, names)
    rows, probas = [], {}
    for n_job, (algorithm, proba, classes, seconds) in enumerate(oof):
        leaky = n_job >= len(algorithms)
        probas.setdefault(algorithm, (proba, classes))
        for k, name in enumerate(names):
            sel = src == k
            rows.append(
                {
                    "data": name + (" — plain k-fold, twins split (leaky)" if leaky else ""),
                    "algorithm": algorithm,
                    "n": int(sel.sum()),
                    "skipped": skipped[name],
                    "seconds": seconds,
                    **_metrics(proba[sel], classes, list(y[sel])),
                }
            )
        if pairs and algorithm != "keywords" and not leaky:
            t, b = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
            geo = np.exp((np.log(np.clip(proba[t], 1e-12, 1)) + np.log(np.clip(proba[b], 1e-12, 1))) / 2)
            geo /= geo.sum(axis=1, keepdims=True)
            for part, p in (("title only", proba[t]), ("body only", proba[b]), ("title + body", geo)):
                rows.append(
                    {
                        "data": f"cases with title and body: {part}",
                        "algorithm": algorithm,
                        "n": len(pairs),
                        "skipped": 0,
                        "seconds": 0,
                        **_metrics(p, classes, list(y[b])),
                    }
                )
    for r in rows:
        r.pop("per_class_f1", None)
    noise = {
        "all": group_label_conflicts(groups, labels),
        "group_seconds": group_seconds,
        "twin_pairs": len(pairs),
        "twin_pairs_label_agreement": round(float(np.mean([y[t] == y[b] for t, b in pairs])), 4) if pairs else None,
    }
    proba, classes = probas[CHOSEN]
    pred = np.asarray(classes)[proba.argmax(axis=1)]
    conf = proba.max(axis=1)
    noise["chosen_errors"] = int((pred != y).sum())
    noise["chosen_errors_with_p_ge_0.9"] = int(((pred != y) & (conf >= 0.9)).sum())
    return {"cv": rows, "noise": noise, "folds": folds, "n": len(texts), "sources": names}


def _child(args: list[str]) -> dict:
    proc = subprocess.run(
        [sys.executable, "-m", "tests.bench.routing_bench", *args], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"child {args[0]} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def duplicates_check(data: str, pairs: int = 200) -> dict:
    from sklearn.metrics import roc_auc_score

    from routing.classifier import load_tsv
    from routing.duplicates import METHODS, similar

    rng = random.Random(0)

    def rereport(text: str) -> str:
        clauses = [c for c in re.split(r"(?<=[，。！？,!?；;])", text) if c]
        if len(clauses) > 2:
            clauses = [c for c in clauses if rng.random() > 0.25] or clauses[:1]
            if rng.random() < 0.5:
                clauses = clauses[: max(1, len(clauses) // 2)]
            if rng.random() < 0.5:
                rng.shuffle(clauses)
        chars = list("".join(clauses))
        for _ in range(max(1, len(chars) // 15)):
            chars[rng.randrange(len(chars))] = rng.choice("的了是在有我请问一")
        return "".join(chars)

    out = {}
    for path in sorted(Path(data).glob("*.tsv")):
        texts, labels, _ = load_tsv(path)
        texts = [t[:200] for t in texts]
        by_label: dict[str, list[int]] = {}
        for i, lab in enumerate(labels):
            by_label.setdefault(lab, []).append(i)
        cases = []
        for i in rng.sample(range(len(texts)), pairs):
            cases.append((texts[i], rereport(texts[i]), 1))
            j = rng.choice([j for j in by_label[labels[i]] if j != i])
            cases.append((texts[i], texts[j], 0))
        y = [c[2] for c in cases]
        for method in METHODS:
            started = time.perf_counter()
            scores = [similar(a, b, method) for a, b, _ in cases]
            per_pair = (time.perf_counter() - started) * 1000 / len(cases)
            out[f"{path.stem}/{method}"] = {
                "auc": round(float(roc_auc_score(y, scores)), 4),
                "ms_per_pair": round(per_pair, 3),
            }
    return out


def measure(
    data: str, folds: int = 5, jobs: int = 2, sample: int = 400, with_words: bool = False, ungrouped: bool = False
) -> dict:
    started = time.perf_counter()
    load_before = os.getloadavg()
    res = quality(data, folds, jobs, with_words, ungrouped)
    res["train"], res["serve"] = {}, {}
    with tempfile.TemporaryDirectory(prefix="routing-bench-") as tmp:
        for algorithm in SERVED:
            path = os.path.join(tmp, f"{algorithm}.npz")
            res["train"][algorithm] = _child(["--child-train", data, path, algorithm])
            res["serve"][algorithm] = _child(["--child-serve", path, data, str(sample)])
            if algorithm == CHOSEN:  # the cold-start set again, with the model trained on DATA installed
                from tests.bench import routing_coldstart

                res["coldstart_with_model"] = routing_coldstart.measure(model=path)
    from tests.bench import routing_api  # the acceptance path: CLI training, then POST /routing/suggest

    res |= {
        "data": os.path.abspath(data),
        "duplicates": duplicates_check(data),
        "targets": TARGETS,
        "served": routing_api.measure(data),
        "wall_seconds": round(time.perf_counter() - started, 1),
        "loadavg_1min": {"start": round(load_before[0], 2), "end": round(os.getloadavg()[0], 2)},
    }
    return res


def default_data() -> Path:
    return Path(os.environ.get("HOTLINE_ROUTING_DATA", Path(__file__).resolve().parents[3] / "shared/data/tipdm"))


def run(ctx) -> tuple[dict, str]:
    """Part of `make bench` (tests/bench/run.py) when the labelled data is there."""
    data = default_data()
    if not any(data.glob("*.tsv")):
        return {"skipped": f"no labelled data in {data}"}, f"## Routing classifier\n\nskipped: no *.tsv in {data}\n"
    res = measure(str(data))
    return res, markdown(res, CHOSEN, SERVED, TARGETS)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child-train":
        print(json.dumps(child_train(argv[1], argv[2], argv[3])))
        return 0
    if argv and argv[0] == "--child-serve":
        print(json.dumps(child_serve(argv[1], argv[2], int(argv[3]))))
        return 0
    p = argparse.ArgumentParser(
        prog="python -m tests.bench.routing_bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--data", required=True, help="folder with *.tsv (text<TAB>level-1 category)")
    p.add_argument("--out", default="bench/routing.json")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--sample", type=int, default=400, help="texts per file for the latency runs")
    p.add_argument("--jobs", type=int, default=2, help="parallel CV processes (2 cores here)")
    p.add_argument("--with-words", action="store_true", help="also cross-validate the jieba-words variant")
    p.add_argument(
        "--ungrouped",
        action="store_true",
        help="also the plain k-fold that splits near-duplicate twins across folds (overstates quality)",
    )
    p.add_argument("--coldstart-only", action="store_true", help="only the cold-start unit routing (no labelled data)")
    args = p.parse_args(argv)
    from tests.bench import routing_coldstart
    from tests.bench.report import save

    cold = routing_coldstart.measure()  # a fresh demo instance, no model: needs no labelled data
    cold_md = routing_coldstart.markdown(cold)
    print(cold_md)
    save(Path(args.out).with_name("routing_coldstart.json"), cold, cold_md)
    from tests.bench import routing_paraphrase

    para = routing_paraphrase.measure()  # duplicates of the same matter in other words (no labelled data either)
    para_md = routing_paraphrase.markdown(para)
    print(para_md)
    save(Path(args.out).with_name("routing_paraphrase.json"), para, para_md)
    if args.coldstart_only:
        return 0
    if not any(Path(args.data).glob("*.tsv")):
        p.error(f"no .tsv files in {args.data}")
    res = measure(args.data, args.folds, args.jobs, args.sample, args.with_words, args.ungrouped)
    md = markdown(res, CHOSEN, SERVED, TARGETS)
    print(md)
    print(
        f"total {res['wall_seconds']} s; machine load average (1 min) {res['loadavg_1min']['start']} at start, "
        f"{res['loadavg_1min']['end']} at end (2 cores: latency and CV times above ~2 are inflated)"
    )
    save(Path(args.out), res, md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
