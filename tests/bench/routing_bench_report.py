"""The routing benchmark's markdown (bench/routing.md, and its section of bench/report.md): cross-validation
table, the chosen model against the previous one and the baseline with the targets, label noise, duplicates
methods, and the served path."""

from __future__ import annotations


def _mark(ok: bool) -> str:
    return "✅" if ok else "❌"


def _row(res: dict, data: str, algorithm: str) -> dict | None:
    return next((r for r in res["cv"] if r["data"] == data and r["algorithm"] == algorithm), None)


def markdown(res: dict, chosen: str, served: tuple[str, ...], targets: dict) -> str:
    lines = [
        f"## Routing classifier (titles + bodies trained together; stratified {res['folds']}-fold CV over "
        "near-duplicate groups)",
        "",
        "| data | model | macro-F1 | accuracy | top-3 | precision @80% | threshold @80% | coverage @99% precision "
        "| auto p≥0.95 (app default): coverage / precision | CV time s |",
        "| --- |" + " --- |" * 9,
    ]
    for r in res["cv"]:
        lines.append(
            f"| {r['data']} ({r['n']}) | {r['algorithm']} | {r['macro_f1']:.4f} | {r['accuracy']:.4f} | "
            f"{r['top3_accuracy']:.4f} | {r['precision_at_coverage']:.4f} | "
            f"{r['threshold_at_coverage']:.3f} | {r['coverage_at_99']:.1%} | "
            f"{r['auto_at'][-1]['coverage']:.1%} / {r['auto_at'][-1]['precision']:.4f} | {r['seconds']} |"
        )
    algs = [a for a in served if a in res["train"]]
    lines += [
        "",
        "| measure | "
        + " | ".join(f"{a}{' (chosen)' if a == chosen else ''}" for a in algs)
        + " | target | chosen meets |",
        "| --- |" + " --- |" * (len(algs) + 2),
    ]

    def add(label, values, target, ok):
        lines.append(f"| {label} | " + " | ".join(values) + f" | {target} | {_mark(ok)} |")

    for name in ("bodies", "titles"):
        rs = [_row(res, name, a) for a in algs]
        if rs[0] is None:
            continue
        add(
            f"macro-F1 {name}",
            [f"{r['macro_f1']:.4f}" for r in rs],
            f"≥ {targets[name]}",
            rs[0]["macro_f1"] >= targets[name],
        )
        add(
            f"top-3 {name}",
            [f"{r['top3_accuracy']:.4f}" for r in rs],
            f"≥ {targets['top3']}",
            rs[0]["top3_accuracy"] >= targets["top3"],
        )
        add(
            f"precision @80% {name}",
            [f"{r['precision_at_coverage']:.4f}" for r in rs],
            f"≥ {targets['precision80']}",
            rs[0]["precision_at_coverage"] >= targets["precision80"],
        )
    for key in sorted(k for k in res["serve"][algs[0]] if k.startswith("classify_")):
        vs = [res["serve"][a][key] for a in algs]
        add(
            f"{key} ms per case: CPU p50 / p95 (wall p95)",
            [f"{v['cpu_p50_ms']} / {v['cpu_p95_ms']} ({v['p95_ms']})" for v in vs],
            "≤ 2 ms (CPU p95)",
            vs[0]["cpu_p95_ms"] <= targets["latency_ms"],
        )
    for key in sorted(k for k in res["serve"][algs[0]] if k.startswith("suggest_")):
        v = res["serve"][algs[0]][key]
        lines.append(
            f"| engine.{key} ms: CPU p50 / p95 | {v['cpu_p50_ms']} / {v['cpu_p95_ms']} |" + " |" * (len(algs) + 1)
        )
    ts = [res["train"][a] for a in algs]
    add(
        f"training on all {ts[0]['n']} rows, wall s",
        [str(t["seconds"]) for t in ts],
        "≤ 60 s",
        ts[0]["seconds"] <= targets["train_s"],
    )
    add(
        "training peak RSS MB",
        [str(t["peak_rss_mb"]) for t in ts],
        "≤ 2048 MB",
        ts[0]["peak_rss_mb"] <= targets["train_rss_mb"],
    )
    ss = [res["serve"][a] for a in algs]
    add(
        "web process: RSS added by importing + loading the model MB",
        [str(s["model_added_mb"]) for s in ss],
        "≤ 150 MB",
        ss[0]["model_added_mb"] <= targets["model_mb"],
    )
    lines.append("| model file MB | " + " | ".join(str(t["model_file_mb"]) for t in ts) + " | | |")
    n = res["noise"]
    a = n["all"]
    lines += [
        "",
        "Label noise and twins (text-only near-duplicate groups: ≥ 50 % shared character trigrams):",
        f"{a['texts_in_multi_groups']} of {a['texts']} texts are in {a['multi_groups']} multi-text groups; "
        f"{a['mixed_label_groups']} groups ({a['texts_in_mixed_groups']} texts) mix labels. "
        f"{n['twin_pairs']} title/body twin pairs agree on the label {n['twin_pairs_label_agreement']}. "
        f"The chosen model's CV errors: {n['chosen_errors']}, of which {n['chosen_errors_with_p_ge_0.9']} with "
        "probability ≥ 0.9 (mostly multi-topic messages or labels that contradict the text).",
    ]
    lines += ["", "| duplicates (synthetic re-reports vs same-category texts) | AUC | ms/pair |", "| --- | --- | --- |"]
    lines += [f"| {k} | {v['auc']} | {v['ms_per_pair']} |" for k, v in res["duplicates"].items()]
    if "served" in res:
        from tests.bench.routing_api import markdown as served_markdown

        lines += ["", served_markdown(res["served"]).replace("## ", "### ", 1)]
    if "coldstart_with_model" in res:
        from tests.bench.routing_coldstart import markdown as cold_markdown

        lines += ["", cold_markdown(res["coldstart_with_model"]).replace("## ", "### ", 1)]
    return "\n".join(lines) + "\n"
