"""Routing benchmark: category classifier quality, speed and memory on labelled history.

    python -m tests.bench.routing_bench --data ../shared/data/tipdm [--out bench/routing.json] [--with-words]

For each DATA/*.tsv (titles.tsv, bodies.tsv): stratified k-fold CV of the chosen model ("svm"), the
TF-IDF + linear baseline, with --with-words the jieba-words variant ("svm_words"), and hand-made
keyword routing (no training) for reference: macro-F1,
top-3 accuracy, precision of the most confident 80 % (and the probability threshold that gives it).
Then, each in a fresh subprocess: training on all of DATA as `flask routing train` does (wall time,
peak RSS), and serving (RSS added by importing + loading the model + first call, classify latency
p50/p95 per case for titles and bodies, and the whole `engine.suggest`). Finally a duplicates
check of the similarity methods on synthetic re-reports. The model lives in a temp folder and is
deleted: nothing trained on the data is written into the project. Prints markdown, writes JSON.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path

import numpy as np

ALGORITHMS = ("svm", "svm_words", "baseline", "keywords")  # chosen first; keywords = hand-made, no training
TARGETS = {"bodies": 0.95, "titles": 0.92, "top3": 0.995, "precision80": 0.99, "latency_ms": 2.0,
           "train_s": 60.0, "train_rss_mb": 2048.0, "model_mb": 150.0}


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _cv_job(job: tuple[str, str, str, int]) -> dict:
    path, name, algorithm, folds = job
    from routing.classifier import cross_validate, load_tsv, score_metrics

    texts, labels, skipped = load_tsv(path)
    if algorithm == "keywords":
        from routing.keywords import keyword_scores

        classes = sorted(set(labels))
        started = time.perf_counter()
        proba = np.zeros((len(texts), len(classes)))
        for i, text in enumerate(texts):
            for cat, score in keyword_scores(text, classes):
                proba[i, classes.index(cat)] = score
        metrics = score_metrics(proba, classes, labels)
        metrics.update(folds=0, n=len(texts), seconds=round(time.perf_counter() - started, 1))
    else:
        metrics = asdict(cross_validate(texts, labels, folds=folds, algorithm=algorithm))
    metrics.pop("per_class_f1", None)
    return {"data": name, "algorithm": algorithm, "skipped": skipped, **metrics}


def child_train(data: str, out: str, algorithm: str) -> dict:
    from routing.classifier import load_tsv_dir, train

    started = time.perf_counter()
    loaded = load_tsv_dir(data)
    model = train(loaded.texts, loaded.labels, algorithm=algorithm)
    model.save(out)
    return {"seconds": round(time.perf_counter() - started, 1), "n": len(loaded.texts), "files": loaded.files,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "model_file_mb": round(os.path.getsize(out) / 2**20, 1)}


def _latency(fn, texts: list[str]) -> dict:
    for t in texts[:20]:
        fn(t)
    wall, cpu = [], []
    for t in texts:
        started, started_cpu = time.perf_counter(), time.thread_time()
        fn(t)
        cpu.append((time.thread_time() - started_cpu) * 1000)
        wall.append((time.perf_counter() - started) * 1000)
    out = {"n": len(wall)}
    for name, values in (("", wall), ("cpu_", cpu)):  # CPU time: what the case costs, whatever else runs
        out |= {f"{name}p50_ms": round(float(np.percentile(values, 50)), 3),
                f"{name}p95_ms": round(float(np.percentile(values, 95)), 3),
                f"{name}mean_ms": round(float(np.mean(values)), 3)}
    return out


def child_serve(model_path: str, data: str, sample: int) -> dict:
    rss0 = _rss_mb()
    from routing.classifier import Model, load_tsv

    model = Model.load(model_path, trusted_dir=os.path.dirname(model_path))
    model.predict_top("首次调用加载分词词典")
    rss1 = _rss_mb()
    rng = random.Random(0)
    out: dict = {"rss_before_mb": round(rss0, 1), "rss_after_mb": round(rss1, 1),
                 "model_added_mb": round(rss1 - rss0, 1)}
    from hotline.seed.city import AREAS, CATEGORY_DEPARTMENTS, DEPARTMENTS, LEVEL1_DEPARTMENTS
    from routing.engine import mapping_from_seed, suggest
    from routing.gazetteer import Gazetteer

    gaz = Gazetteer(AREAS, {d["code"]: d["name"] for d in DEPARTMENTS}, {d["code"]: d["parent"] for d in DEPARTMENTS})
    mapping = mapping_from_seed(LEVEL1_DEPARTMENTS, CATEGORY_DEPARTMENTS)
    for path in sorted(Path(data).glob("*.tsv")):
        texts = load_tsv(path)[0]
        texts = rng.sample(texts, min(sample, len(texts)))
        out[f"classify_{path.stem}"] = _latency(lambda t: model.predict_top(t, 3), texts)
        out[f"suggest_{path.stem}"] = _latency(
            lambda t: suggest(t, None, model=model, mapping=mapping, gazetteer=gaz, rules=()), texts)
    return out


def _child(args: list[str]) -> dict:
    proc = subprocess.run([sys.executable, "-m", "tests.bench.routing_bench", *args], capture_output=True,
                          text=True, check=False)
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
            out[f"{path.stem}/{method}"] = {"auc": round(float(roc_auc_score(y, scores)), 4),
                                            "ms_per_pair": round(per_pair, 3)}
    return out


def _mark(ok: bool) -> str:
    return "✅" if ok else "❌"


def markdown(res: dict) -> str:
    lines = [f"## Routing classifier (stratified {res['folds']}-fold CV)", "",
             "| data | model | macro-F1 | accuracy | top-3 | precision @80% | threshold @80% | CV time s |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in res["cv"]:
        lines.append(f"| {r['data']} ({r['n']}) | {r['algorithm']} | {r['macro_f1']:.4f} | {r['accuracy']:.4f} | "
                     f"{r['top3_accuracy']:.4f} | {r['precision_at_coverage']:.4f} | "
                     f"{r['threshold_at_coverage']:.3f} | {r['seconds']} |")
    t, s = res["train"], res["serve"]
    lines += ["", "| measure (chosen model) | value | target | met |", "| --- | --- | --- | --- |"]
    chosen = {r["data"]: r for r in res["cv"] if r["algorithm"] == "svm"}
    for name, target in (("bodies", TARGETS["bodies"]), ("titles", TARGETS["titles"])):
        if name in chosen:
            f1 = chosen[name]["macro_f1"]
            lines.append(f"| macro-F1 {name} | {f1:.4f} | ≥ {target} | {_mark(f1 >= target)} |")
    for name, r in chosen.items():
        lines.append(f"| top-3 {name} | {r['top3_accuracy']:.4f} | ≥ {TARGETS['top3']} | "
                     f"{_mark(r['top3_accuracy'] >= TARGETS['top3'])} |")
        lines.append(f"| precision @80% {name} | {r['precision_at_coverage']:.4f} | ≥ {TARGETS['precision80']} | "
                     f"{_mark(r['precision_at_coverage'] >= TARGETS['precision80'])} |")
    for key in sorted(k for k in s if k.startswith(("classify_", "suggest_"))):
        v = s[key]
        ok = "" if key.startswith("suggest_") else _mark(v["cpu_p95_ms"] <= TARGETS["latency_ms"])
        target = "≤ 2 ms (CPU p95)" if ok else ""
        lines.append(f"| {key} ms: CPU p50 / p95 / mean (wall p50 / p95) | {v['cpu_p50_ms']} / {v['cpu_p95_ms']} / "
                     f"{v['cpu_mean_ms']} ({v['p50_ms']} / {v['p95_ms']}) | {target} | {ok} |")
    lines += [f"| training on all {t['n']} rows | {t['seconds']} s | ≤ 60 s | {_mark(t['seconds'] <= 60)} |",
              f"| training peak RSS | {t['peak_rss_mb']} MB | ≤ 2048 MB | {_mark(t['peak_rss_mb'] <= 2048)} |",
              f"| web process: RSS added by loading the model | {s['model_added_mb']} MB | ≤ 150 MB | "
              f"{_mark(s['model_added_mb'] <= 150)} |",
              f"| model file | {t['model_file_mb']} MB | | |"]
    lines += ["", "| duplicates (synthetic re-reports vs same-category texts) | AUC | ms/pair |", "| --- | --- | --- |"]
    lines += [f"| {k} | {v['auc']} | {v['ms_per_pair']} |" for k, v in res["duplicates"].items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child-train":
        print(json.dumps(child_train(argv[1], argv[2], argv[3])))
        return 0
    if argv and argv[0] == "--child-serve":
        print(json.dumps(child_serve(argv[1], argv[2], int(argv[3]))))
        return 0
    p = argparse.ArgumentParser(prog="python -m tests.bench.routing_bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="folder with *.tsv (text<TAB>level-1 category)")
    p.add_argument("--out", default="bench/routing.json")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--sample", type=int, default=400, help="texts per file for the latency runs")
    p.add_argument("--jobs", type=int, default=2, help="parallel CV processes (2 cores here)")
    p.add_argument("--with-words", action="store_true",
                   help="also cross-validate the jieba-words variant (svm_words; doubles the run time)")
    args = p.parse_args(argv)
    files = sorted(Path(args.data).glob("*.tsv"))
    if not files:
        p.error(f"no .tsv files in {args.data}")
    started = time.perf_counter()
    load_before = os.getloadavg()
    algorithms = ALGORITHMS if args.with_words else tuple(a for a in ALGORITHMS if a != "svm_words")
    jobs = [(str(f), f.stem, alg, args.folds) for f in files for alg in algorithms]
    jobs.sort(key=lambda j: (j[2] == "keywords", j[2] != "svm_words", -os.path.getsize(j[0])))  # longest first
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        cv = list(pool.map(_cv_job, jobs))
    cv.sort(key=lambda r: (r["data"], ALGORITHMS.index(r["algorithm"])))
    with tempfile.TemporaryDirectory(prefix="routing-bench-") as tmp:
        model_path = os.path.join(tmp, "routing_model.pkl")
        train_res = _child(["--child-train", args.data, model_path, "svm"])
        serve = _child(["--child-serve", model_path, args.data, str(args.sample)])
    res = {"folds": args.folds, "data": os.path.abspath(args.data), "cv": cv, "train": train_res, "serve": serve,
           "duplicates": duplicates_check(args.data), "targets": TARGETS,
           "wall_seconds": round(time.perf_counter() - started, 1),
           "loadavg_1min": {"start": round(load_before[0], 2), "end": round(os.getloadavg()[0], 2)}}
    md = markdown(res)
    print(md)
    print(f"total {res['wall_seconds']} s; machine load average (1 min) {res['loadavg_1min']['start']} at start, "
          f"{res['loadavg_1min']['end']} at end (2 cores: latency and CV times above ~2 are inflated)")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, ensure_ascii=False, indent=2), encoding="utf-8")
    out.with_suffix(".md").write_text(md, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
