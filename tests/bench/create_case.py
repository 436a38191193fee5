"""Benchmark ``create_case``: POST /api/v1/cases over HTTP against gunicorn, next to two baselines
measured through the same server: GET /bench/ping (trivial JSON) and POST /bench/bare-insert
(citizen + phone + case + event rows, one Core INSERT each, one commit).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from collections import Counter

from tests.bench.create_case_report import markdown
from tests.bench.load import LoadSpec
from tests.bench.routing_workers import RoutingWorkers
from tests.bench.server import Gunicorn, Instance, embedded_redis_pids, log

NAME = "create_case"
TITLE = "Create-case over HTTP vs. baselines"

TARGET_RATE = 200.0  # cases/s on PostgreSQL
TARGET_P95_MS = 100.0
TARGET_BARE_RATIO = 1 / 3
TARGET_RSS_MB = 150.0

CREATE_BODY = json.dumps(
    {
        "channel": "phone",
        "kind": "complaint",
        "content": "小区门口垃圾堆放多日无人清理，气味很大，请尽快处理（{n}）",
        "citizen_phone": "{phone}",
        "citizen_name": "张三",
        "address": "人民路1号",
        "district_code": "D01",
        "category": "环境保护",
    },
    ensure_ascii=False,
)
BARE_BODY = json.dumps(
    {"citizen_phone": "{phone}", "kind": "complaint", "content": "小区门口垃圾堆放（{n}）", "address": "人民路1号"},
    ensure_ascii=False,
)


def specs(ctx, token: str) -> dict[str, LoadSpec]:
    common = {"connections": ctx.connections, "threads": ctx.threads, "duration": ctx.duration, "warmup": ctx.warmup}
    return {
        "ping": LoadSpec("ping", "GET", "/bench/ping", **common),
        "bare_insert": LoadSpec("bare_insert", "POST", "/bench/bare-insert", BARE_BODY, **common),
        "create_case": LoadSpec(
            "create_case", "POST", "/api/v1/cases", CREATE_BODY, {"Authorization": f"Bearer {token}"}, **common
        ),
    }


def server_errors(log_text: str) -> dict[str, int]:
    """Exception lines of the server log (the last line of each traceback), counted."""
    found: Counter = Counter()
    for line in log_text.splitlines():
        if re.match(r"[A-Za-z_][\w.]*(Error|Exception|Violation)\b.*:", line):
            found[line[:240]] += 1
    return dict(found.most_common(5))


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 3) if b else None


@contextlib.contextmanager
def _routing(instance: Instance, endpoint: str, routing_workers: int):
    """During create-case runs, ``routing_workers`` RQ workers route the new cases on the same cores."""
    if endpoint != "create_case" or not routing_workers:
        yield None
        return
    with RoutingWorkers(instance, routing_workers) as workers:
        yield workers


def run_server(ctx, instance: Instance, config, routing_workers: int = 0) -> dict:
    out: dict = {
        "server": config.label,
        "loadavg_before": [round(x, 2) for x in os.getloadavg()],
        "routing_workers": routing_workers,
    }
    with Gunicorn(instance, config) as server:
        for name, spec in specs(ctx, instance.token).items():
            with _routing(instance, name, routing_workers) as workers:
                result = ctx.load.saturate(server.url, spec, watch=server.worker_pids())
                if workers is not None:
                    result["routing"] = workers.report()
            out[name] = result
            lat = result["latency_ms"]
            log(
                f"{instance.db.name} {config.label} {name}: {result['rps']}/s p50 {lat.get('p50')} "
                f"p95 {lat.get('p95')} p99 {lat.get('p99')} ms, errors {result['errors']}"
            )
            if result["errors"]:
                log(f"  first error: {result['error_sample'][:200]}")
        if ctx.rate and out["create_case"]["rps"] < 0.9 * ctx.rate:
            out["create_case_paced"] = {
                "skipped": f"saturation throughput {out['create_case']['rps']:g}/s is below "
                f"90% of {ctx.rate:g}/s: an open loop at that rate only queues"
            }
            log(
                f"{instance.db.name} {config.label} create_case open loop skipped: "
                f"{out['create_case_paced']['skipped']}"
            )
        elif ctx.rate:
            spec = specs(ctx, instance.token)["create_case"]
            with _routing(instance, "create_case", routing_workers) as workers:
                result = ctx.load.paced(server.url, spec, ctx.rate)
                if workers is not None:
                    result["routing"] = workers.report()
            out["create_case_paced"] = result
            lat = result["latency_ms"]
            log(
                f"{instance.db.name} {config.label} create_case open loop {ctx.rate:g}/s: {result['rps']}/s done, "
                f"p50 {lat.get('p50')} p95 {lat.get('p95')} p99 {lat.get('p99')} ms, errors {result['errors']}"
            )
        out["workers"] = server.worker_memory()
        if not instance.redis_url:  # every worker must share one embedded Redis (case numbers, Socket.IO, RQ)
            out["embedded_redis_servers"] = len(set(server.redis_servers) | set(embedded_redis_pids(instance.folder)))
        if any(out[k]["errors"] for k in ("ping", "bare_insert", "create_case")):
            out["server_errors"] = server_errors(server.log_tail(4000))
    rps = {k: out[k]["rps"] for k in ("ping", "bare_insert", "create_case")}
    out["ratios"] = {
        "create_vs_bare": _ratio(rps["create_case"], rps["bare_insert"]),
        "create_vs_ping": _ratio(rps["create_case"], rps["ping"]),
        "bare_vs_ping": _ratio(rps["bare_insert"], rps["ping"]),
        "cpu_bare_vs_create": _ratio(
            *(out[k].get("cpu", {}).get("server_ms_per_request") or 0 for k in ("bare_insert", "create_case"))
        ),
    }
    return out


def run(ctx) -> tuple[dict, str]:
    results: dict = {
        "settings": {
            "duration_s": ctx.duration,
            "warmup_s": ctx.warmup,
            "connections": ctx.connections,
            "load_threads": ctx.threads,
            "load_tool": ctx.load.tool,
            "paced_rate": ctx.rate,
            "servers": [c.label for c in ctx.servers],
        },
        "databases": {},
    }
    for db in ctx.databases:
        instance = Instance(db, redis_url=ctx.redis_url, keep=ctx.keep, prestart_redis=ctx.prestart_redis)
        try:
            instance.prepare()
            runs = {}
            for config in ctx.servers:  # the web tier alone: routing runs in workers (other machines)
                runs[config.label] = run_server(ctx, instance, config)
                time.sleep(1)
            best = best_server(runs)
            if ctx.routing_workers:  # the whole system on these 2 cores: the best server + routing workers
                config = next(c for c in ctx.servers if c.label == best)
                runs[f"{best} + {ctx.routing_workers} RQ"] = run_server(ctx, instance, config, ctx.routing_workers)
        finally:
            instance.cleanup()
        results["databases"][db.name] = {"runs": runs, "best_server": best, "targets": targets(db.name, runs[best])}
    return results, markdown(ctx, results, NAME, TITLE)


def best_server(runs: dict) -> str:
    """The server for the targets (web tier runs only): among those whose open loop at the target rate kept
    p95 within the target with every request served and no error, the most create-cases/s at saturation;
    if none did, the most create-cases/s without errors (within 5 %, the lower p95)."""
    runs = {k: r for k, r in runs.items() if not r.get("routing_workers")}

    def slo(r: dict) -> bool:
        paced = r.get("create_case_paced") or {}
        return (
            "skipped" not in paced
            and bool(paced)
            and paced["errors"] == 0
            and paced["rps"] >= 0.95 * paced["offered_rps"]
            and paced["latency_ms"].get("p95", 1e9) <= TARGET_P95_MS
            and r["create_case"]["errors"] == 0
        )

    meeting = {k: r for k, r in runs.items() if slo(r)}
    if meeting:
        return max(meeting, key=lambda k: meeting[k]["create_case"]["rps"])
    clean = {k: r["create_case"] for k, r in runs.items() if r["create_case"]["errors"] == 0} or {
        k: r["create_case"] for k, r in runs.items()
    }
    top = max(r["rps"] for r in clean.values())
    close = [k for k, r in clean.items() if r["rps"] >= 0.95 * top]
    return min(close, key=lambda k: clean[k]["latency_ms"].get("p95", 1e9))


def targets(db: str, run: dict) -> list[dict]:
    cc = run["create_case"]
    paced = run.get("create_case_paced")
    rss = max((w["rss_mb"] for w in run["workers"]), default=0.0)
    ran = paced is not None and "skipped" not in paced
    errors = cc["errors"] + (paced["errors"] if ran else 0)
    rows = [
        {
            "target": f"create-case ≥ {TARGET_RATE:g}/s" + ("" if db == "postgresql" else " (set for PostgreSQL)"),
            "measured": f"{cc['rps']:g}/s",
            "met": cc["rps"] >= TARGET_RATE,
        },
        # a closed loop keeps every connection waiting: mean latency = connections / throughput (Little's law),
        # so this row describes the queue, not the service; the p95 target is checked at the offered rate below
        {
            "target": f"(information) p95 at saturation, {run['create_case']['connections']} connections",
            "measured": f"{cc['latency_ms'].get('p95', 0):g} ms",
            "met": None,
        },
    ]
    if paced and not ran:
        rows.append(
            {
                "target": f"p95 ≤ {TARGET_P95_MS:g} ms at {TARGET_RATE:g} cases/s offered (open loop)",
                "measured": "not run: " + paced["skipped"],
                "met": False,
            }
        )
    elif paced:
        rows.append(
            {
                "target": f"p95 ≤ {TARGET_P95_MS:g} ms at {paced['offered_rps']:g} cases/s offered (open loop)",
                "measured": f"{paced['latency_ms'].get('p95', 0):g} ms, {paced['rps']:g}/s served",
                "met": paced["latency_ms"].get("p95", 1e9) <= TARGET_P95_MS
                and paced["rps"] >= 0.95 * paced["offered_rps"],
            }
        )
    rows += [
        {"target": "zero errors", "measured": str(errors), "met": errors == 0},
        {
            "target": "create-case ≥ 1/3 of bare insert",
            "measured": f"{run['ratios']['create_vs_bare']:.2f}",
            "met": (run["ratios"]["create_vs_bare"] or 0) >= TARGET_BARE_RATIO,
        },
        {
            "target": f"each web worker ≤ {TARGET_RSS_MB:g} MB RSS",
            "measured": f"max {rss:g} MB",
            "met": bool(run["workers"]) and rss <= TARGET_RSS_MB,
        },
    ]
    return rows
