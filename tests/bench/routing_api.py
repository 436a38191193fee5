"""Routing quality through the served path, on a held-out split: what a city (or an acceptance check) sees.

    python -m tests.bench.routing_api --data ../shared/data/tipdm [--out bench/routing_api.json]

For each split of DATA/*.tsv into training rows and held-out rows (20 %): the training rows are written to
a temp folder, a temp instance is migrated and seeded with the project's CLI, ``flask routing train --data``
trains it, and every held-out text is sent to ``POST /api/v1/routing/suggest`` (Flask test client, real
SQLite and Redis). The answers are scored as they come: the first suggestion's category, the three
suggested categories, the first score for the auto-dispatch ranking, and any non-200 answer counted as a
miss. The same held-out texts are also scored by the trained model file directly; both must agree, or the
API changes what the model decided.

Splits: "grouped" holds out whole near-duplicate groups (``routing.evaluation.near_duplicate_groups``:
no held-out text has its own title/body or a re-post in the training rows, the honest estimate) and
"plain" holds out random rows (twins split across the cut, as in a split made row by row). Part of
``make bench-routing``; the model and the split live in temp folders and are deleted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from tests.bench.server import DbTarget, Instance, log

HOLDOUT_FOLDS = 5  # 1 of 5 folds held out: 20 %


def splits(labels: list[str], groups: np.ndarray) -> dict[str, np.ndarray]:
    """Held-out row indices per split kind (the first fold of each 5-fold scheme, seed 0)."""
    from sklearn.model_selection import StratifiedKFold

    from routing.cv import grouped_folds

    y = np.asarray(labels)
    plain = next(iter(StratifiedKFold(HOLDOUT_FOLDS, shuffle=True, random_state=0).split(np.zeros(len(y)), y)))
    return {"grouped": grouped_folds(labels, groups, HOLDOUT_FOLDS)[0][1], "plain": plain[1]}


def write_training(
    folder: Path, texts: list[str], labels: list[str], src: np.ndarray, names: list[str], held: np.ndarray
) -> None:
    """DATA/<name>.tsv without the held-out rows (text and label never contain tabs or newlines)."""
    folder.mkdir(parents=True)
    out = np.ones(len(texts), dtype=bool)
    out[held] = False
    for k, name in enumerate(names):
        rows = np.flatnonzero(out & (src == k))
        (folder / f"{name}.tsv").write_text("".join(f"{texts[i]}\t{labels[i]}\n" for i in rows), encoding="utf-8")


def score_answers(answers: list[dict | None], labels: list[str], coverage: float = 0.8) -> dict:
    """Metrics of API answers (None = refused): top-1, top-3, precision of the most confident share."""
    from sklearn.metrics import f1_score

    pred = [a["suggestions"][0]["category"] if a and a["suggestions"] else "" for a in answers]
    top3 = [
        bool(a) and lab in [s["category"] for s in a["suggestions"][:3]] for a, lab in zip(answers, labels, strict=True)
    ]
    conf = np.array([a["suggestions"][0]["score"] if a and a["suggestions"] else -1.0 for a in answers])
    correct = np.array([p == lab for p, lab in zip(pred, labels, strict=True)])
    keep = max(1, round(coverage * len(labels)))
    by_conf = np.argsort(-conf, kind="stable")
    present = sorted(set(labels))
    return {
        "n": len(labels),
        "refused": sum(a is None for a in answers),
        "macro_f1": float(f1_score(labels, pred, average="macro", labels=present)),
        "accuracy": float(correct.mean()),
        "top3_accuracy": float(np.mean(top3)),
        "precision_at_coverage": float(correct[by_conf[:keep]].mean()),
        "auto": float(np.mean([bool(a) and a["auto"] for a in answers])),
    }


def ask_api(instance: Instance, texts: list[str]) -> tuple[list[dict | None], dict]:
    """POST every text to /api/v1/routing/suggest in this process; refused answers → None (with reasons)."""
    from hotline import create_app

    app = create_app({"instance": instance.folder, "database_url": instance.database_url})
    client = app.test_client()
    headers = {"Authorization": f"Bearer {instance.token}"}
    answers: list[dict | None] = []
    refusals: dict[str, int] = {}
    wall = []
    for i, text in enumerate(texts):
        started = time.perf_counter()
        resp = client.post("/api/v1/routing/suggest", json={"content": text}, headers=headers)
        wall.append((time.perf_counter() - started) * 1000)
        body = resp.get_json(silent=True) or {}
        if resp.status_code == 200:
            answers.append(body)
        else:
            answers.append(None)
            reason = f"{resp.status_code} {body.get('error', {}).get('message', '')[:80]}"
            refusals[reason] = refusals.get(reason, 0) + 1
        if (i + 1) % 1000 == 0:
            log(f"  {i + 1}/{len(texts)} answered")
    timing = {"p50_ms": round(float(np.percentile(wall, 50)), 2), "p95_ms": round(float(np.percentile(wall, 95)), 2)}
    return answers, {"refusals": refusals, "http_wall": timing}


def direct(model_file: Path, texts: list[str], labels: list[str]) -> tuple[dict, list[str]]:
    """The same texts scored by the trained model file itself (no API): metrics and top-1 per text."""
    from routing.evaluation import score_metrics
    from routing.model import Model

    model = Model.load(model_file, trusted_dir=model_file.parent)
    proba = model.proba(texts)
    cols = [model.classes.index(c) if c in model.classes else None for c in sorted(set(labels) | set(model.classes))]
    classes = sorted(set(labels) | set(model.classes))
    full = np.zeros((len(texts), len(classes)))
    for j, c in enumerate(cols):
        if c is not None:
            full[:, j] = proba[:, c]
    m = score_metrics(full, classes, labels)
    m.pop("per_class_f1", None)
    return m, [model.classes[k] for k in proba.argmax(axis=1)]


def measure(data: str, kinds: tuple[str, ...] = ("grouped", "plain")) -> dict:
    from routing.evaluation import near_duplicate_groups
    from routing.model import model_path
    from tests.bench.routing_bench import load_sources

    texts, labels, src, names, _ = load_sources(data)
    held_by_kind = splits(labels, near_duplicate_groups(texts))
    out: dict = {"data": os.path.abspath(data), "holdout_share": 1 / HOLDOUT_FOLDS, "splits": {}}
    for kind in kinds:
        held = np.sort(held_by_kind[kind])
        tmp = Path(tempfile.mkdtemp(prefix=f"routing-api-{kind}-"))
        instance = Instance(DbTarget("sqlite"), folder=tmp / "instance")
        try:
            write_training(tmp / "train", texts, labels, src, names, held)
            instance.prepare()
            started = time.perf_counter()
            trained = instance.flask("routing", "train", "--data", str(tmp / "train"))
            train_s = round(time.perf_counter() - started, 1)
            log(f"{kind}: trained on {len(texts) - len(held)} rows in {train_s} s; asking the API for {len(held)}")
            answers, extra = ask_api(instance, [texts[i] for i in held])
            res: dict = {
                "train_rows": len(texts) - len(held),
                "train_wall_s": train_s,
                "train_output": trained.strip().splitlines()[-3:],
                **extra,
                "by_file": {},
            }
            for k, name in enumerate(names):
                rows = [j for j, i in enumerate(held) if src[i] == k]
                sub_labels = [labels[held[j]] for j in rows]
                api = score_answers([answers[j] for j in rows], sub_labels)
                model_m, model_top = direct(model_path(instance.folder), [texts[held[j]] for j in rows], sub_labels)
                api_top = [answers[j]["suggestions"][0]["category"] if answers[j] else None for j in rows]
                agree = float(np.mean([a == b for a, b in zip(api_top, model_top, strict=True)])) if rows else 1.0
                res["by_file"][name] = {"api": api, "model": model_m, "top1_agreement": agree}
            out["splits"][kind] = res
        finally:
            instance.cleanup()
            shutil.rmtree(tmp, ignore_errors=True)
    return out


def markdown(res: dict) -> str:
    lines = [
        "## Routing through `POST /api/v1/routing/suggest` on a held-out 20 % (trained by `flask routing train`)",
        "",
        "| split | file (n) | macro-F1 API / model | top-3 API / model | precision @80% API / model | "
        "auto-dispatched | refused | API top-1 = model top-1 |",
        "| --- |" + " --- |" * 7,
    ]
    for kind, s in res["splits"].items():
        for name, r in s["by_file"].items():
            a, m = r["api"], r["model"]
            lines.append(
                f"| {kind} | {name} ({a['n']}) | {a['macro_f1']:.4f} / {m['macro_f1']:.4f} | "
                f"{a['top3_accuracy']:.4f} / {m['top3_accuracy']:.4f} | "
                f"{a['precision_at_coverage']:.4f} / {m['precision_at_coverage']:.4f} | {a['auto']:.1%} | "
                f"{a['refused']} | {r['top1_agreement']:.4f} |"
            )
    for kind, s in res["splits"].items():
        lines.append(
            f"\n{kind}: trained on {s['train_rows']} rows in {s['train_wall_s']} s (CLI, wall); "
            f"HTTP p50 / p95 {s['http_wall']['p50_ms']} / {s['http_wall']['p95_ms']} ms; "
            f"refusals: {s['refusals'] or 'none'}"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m tests.bench.routing_api",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--data", required=True, help="folder with *.tsv (text<TAB>level-1 category)")
    p.add_argument("--out", default="bench/routing_api.json")
    p.add_argument("--split", choices=("grouped", "plain", "both"), default="both")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    if not any(Path(args.data).glob("*.tsv")):
        p.error(f"no .tsv files in {args.data}")
    res = measure(args.data, ("grouped", "plain") if args.split == "both" else (args.split,))
    md = markdown(res)
    print(md)
    from tests.bench.report import save

    save(Path(args.out), res, md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
