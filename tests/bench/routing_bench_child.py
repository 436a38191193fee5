"""What the routing benchmark measures in fresh child processes (``python -m tests.bench.routing_bench
--child-train`` / ``--child-serve``): training on all of DATA (wall time, peak RSS, model file size), and
serving (RSS added by loading the model, classify and ``engine.suggest`` latency per case)."""

from __future__ import annotations

import os
import random
import resource
import time
from pathlib import Path

import numpy as np


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def child_train(data: str, out: str, algorithm: str) -> dict:
    from routing.classifier import load_tsv_dir, train

    started = time.perf_counter()
    loaded = load_tsv_dir(data)
    model = train(loaded.texts, loaded.labels, algorithm=algorithm)
    model.save(out)
    return {
        "seconds": round(time.perf_counter() - started, 1),
        "n": len(loaded.texts),
        "files": loaded.files,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "model_file_mb": round(os.path.getsize(out) / 2**20, 1),
    }


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
        out |= {
            f"{name}p50_ms": round(float(np.percentile(values, 50)), 3),
            f"{name}p95_ms": round(float(np.percentile(values, 95)), 3),
            f"{name}mean_ms": round(float(np.mean(values)), 3),
        }
    return out


def child_serve(model_path: str, data: str, sample: int) -> dict:
    rss0 = _rss_mb()
    from routing.classifier import Model, load_tsv

    model = Model.load(model_path, trusted_dir=os.path.dirname(model_path))
    model.predict_top("首次调用加载分词词典")
    rss1 = _rss_mb()
    rng = random.Random(0)
    out: dict = {
        "rss_before_mb": round(rss0, 1),
        "rss_after_mb": round(rss1, 1),
        "model_added_mb": round(rss1 - rss0, 1),
    }
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
            lambda t: suggest(t, None, model=model, mapping=mapping, gazetteer=gaz, rules=()), texts
        )
    return out
