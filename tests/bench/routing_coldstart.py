"""Cold-start unit routing: a fresh demo instance (new SQLite database, migrations, the demo seed; no trained
model) routes caller-style messages written for the demo city (tests/bench/data/routing_coldstart.tsv:
expected unit, level-1 category, message), through the app's own path (``hotline.dispatch.service.suggest_for``:
gazetteer, category map, lexicon, KB, rules). Reports top-1 / top-3 unit accuracy overall and per level-1
category, the misses, and the in-process suggestion latency (p50/p95).

    python -m tests.bench.routing_coldstart [--out bench/routing_coldstart.json] [--data FILE] [--model PATH]

``--model PATH``: copy a trained model into the instance first (e.g. to check the unit accuracy does not drop
after training on the labelled data). Also part of `make bench-routing` (tests/bench/routing_bench.py).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

NAME = "routing_coldstart"
DATA = Path(__file__).parent / "data" / "routing_coldstart.tsv"
TARGETS = {"top1": 0.90, "top3": 0.97, "suggest_p95_ms": 5.0}


def load(path: Path = DATA) -> list[tuple[str, str, str]]:
    """(expected unit, level-1 category, message) rows."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        unit, level1, text = line.split("\t")[:3]
        rows.append((unit.strip(), level1.strip(), text.strip()))
    return rows


def fresh_app(instance: Path, model: str | None = None):
    from flask_migrate import upgrade

    from hotline import create_app
    from hotline.seed.loader import seed_demo

    app = create_app({"instance": instance, "database_url": f"sqlite:///{instance / 'hotline.db'}", "testing": True})
    with app.app_context():
        upgrade()
        seed_demo()
    if model:
        from routing.model import model_path

        target = model_path(instance)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(model, target)
    return app


def evaluate(app, rows: list[tuple[str, str, str]]) -> dict:
    from hotline.dispatch.service import suggest_for

    per: dict[str, dict] = {}
    misses, times = [], []
    with app.test_request_context():
        suggest_for("预热", None)
        for unit, level1, text in rows:
            started = time.perf_counter()
            result = suggest_for(text, None)
            times.append((time.perf_counter() - started) * 1000)
            units = [s["department_code"] for s in result.suggestions]
            top1, top3 = units[:1] == [unit], unit in units[:3]
            row = per.setdefault(level1, {"n": 0, "top1": 0, "top3": 0})
            row["n"] += 1
            row["top1"] += top1
            row["top3"] += top3
            if not top1:
                misses.append(
                    {
                        "text": text,
                        "expected": unit,
                        "got": units,
                        "paths": [s.get("path") for s in result.suggestions],
                        "model_used": result.model_used,
                    }
                )
        # the same messages again: the latency of a warm process (first pass includes lazy loading)
        times = []
        for _, _, text in rows:
            started = time.perf_counter()
            suggest_for(text, None)
            times.append((time.perf_counter() - started) * 1000)
    n = len(rows)
    by_category = {
        k: {"n": v["n"], "top1": round(v["top1"] / v["n"], 3), "top3": round(v["top3"] / v["n"], 3)}
        for k, v in sorted(per.items())
    }
    return {
        "n": n,
        "top1": round(sum(v["top1"] for v in per.values()) / n, 4),
        "top3": round(sum(v["top3"] for v in per.values()) / n, 4),
        "by_category": by_category,
        "misses": misses,
        "suggest_ms": {
            "p50": round(float(np.percentile(times, 50)), 3),
            "p95": round(float(np.percentile(times, 95)), 3),
        },
    }


def measure(data: Path = DATA, model: str | None = None) -> dict:
    rows = load(data)
    with tempfile.TemporaryDirectory(prefix="routing-coldstart-") as tmp:
        app = fresh_app(Path(tmp), model)
        res = evaluate(app, rows)
        from hotline.extensions import stop_embedded_redis

        stop_embedded_redis(app.config["HOTLINE"])
    res |= {"data": str(data), "model": model, "targets": TARGETS}
    return res


def markdown(res: dict) -> str:
    lines = [
        "## Cold-start unit routing (fresh demo instance"
        + (", with model" if res.get("model") else ", no model")
        + ")",
        "",
        f"{res['n']} messages ({res['data']}): **top-1 unit {res['top1']:.3f}** (target ≥ {TARGETS['top1']}), "
        f"**top-3 unit {res['top3']:.3f}** (target ≥ {TARGETS['top3']}); suggestion in process "
        f"p50 {res['suggest_ms']['p50']} ms, p95 {res['suggest_ms']['p95']} ms (target ≤ {TARGETS['suggest_p95_ms']}).",
        "",
        "| level-1 category | n | top-1 | top-3 |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {k} | {v['n']} | {v['top1']:.3f} | {v['top3']:.3f} |" for k, v in res["by_category"].items()]
    if res["misses"]:
        lines += ["", "Top-1 misses:", "", "| message | expected | suggested |", "|---|---|---|"]
        lines += [f"| {m['text']} | {m['expected']} | {', '.join(map(str, m['got']))} |" for m in res["misses"]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.bench.routing_coldstart", description=__doc__)
    p.add_argument("--data", default=str(DATA))
    p.add_argument("--model", default=None, help="a trained model file to install into the fresh instance")
    p.add_argument("--out", default="bench/routing_coldstart.json")
    args = p.parse_args(argv)
    res = measure(Path(args.data), args.model)
    md = markdown(res)
    print(md)
    from tests.bench.report import save

    save(Path(args.out), res, md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
