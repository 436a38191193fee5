"""Benchmark ``profile_lookup``: GET /api/v1/citizens/lookup?phone= (一号一档) on a big PostgreSQL database.

Target (issue "Real-time agent console"): p95 ≤ 20 ms through HTTP with 1,000,000 cases and 300,000
citizens loaded.

1. ``bulk_load`` (a subprocess, so its own peak RSS is measured) fills a small database
   (``hotline_bench_lookup_small``: 100k cases, dropped afterwards) and the real one (``hotline_bench_lookup``,
   1M cases, 300k citizens): the loader's memory must not grow with the row count.
2. gunicorn (gthread) on that instance; the load generator asks for random loaded numbers (a sample of
   all files, and separately the heavy callers with ≥ 20 cases):
   - wrk, 1 connection: the latency of one agent's look-up on an otherwise idle server (service time);
   - Python open loop at ``--lookup-rate`` requests/s (latency from the scheduled send time);
   - wrk, ``--connections`` connections: saturation throughput (latency there is mostly queueing).
3. In-process (Flask test client) on the same database: SQL statements and database time per look-up,
   a step breakdown and cProfile's top functions, and EXPLAIN (ANALYZE, BUFFERS) of every statement
   ``file_summary`` issues for a heavy caller.

    python -m tests.bench.run --only profile_lookup [--pg URL] [--lookup-cases 1000000]
        [--lookup-citizens 300000] [--lookup-rate 50]
"""
from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from tests.bench.load import CpuMeter
from tests.bench.lookup_inprocess import profile_in_process
from tests.bench.lookup_load import paced_lookup, wrk_lookup
from tests.bench.lookup_report import markdown, targets
from tests.bench.server import ROOT, DbTarget, Gunicorn, Instance, ServerConfig, log

NAME = "profile_lookup"
TITLE = "一号一档 look-up on 1M cases / 300k citizens (PostgreSQL)"
LOOKUP_DB = "hotline_bench_lookup"
SMALL_DB = "hotline_bench_lookup_small"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/"


# --- bulk load -----------------------------------------------------------------------------------------

def run_loader(instance: Instance, citizens: int, cases: int, phones: Path | None = None,
               heavy: Path | None = None) -> dict:
    cmd = [sys.executable, "-m", "tests.bench.bulk_load", "--database-url", instance.database_url, "--instance",
           str(instance.folder), "--citizens", str(citizens), "--cases", str(cases), "--json"]
    if phones:
        cmd += ["--phones-out", str(phones)]
    if heavy:
        cmd += ["--heavy-out", str(heavy)]
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
    sys.stderr.write(proc.stderr)
    if proc.returncode != 0:
        raise RuntimeError(f"bulk_load failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["wall_seconds"] = round(time.monotonic() - started, 1)
    return result

# --- the benchmark -------------------------------------------------------------------------------------

def run(ctx) -> tuple[dict, str]:
    pg = getattr(ctx, "pg_url", "") or next((d.url for d in ctx.databases if d.name == "postgresql"), "") or DEFAULT_PG
    citizens = getattr(ctx, "lookup_citizens", 300_000)
    cases = getattr(ctx, "lookup_cases", 1_000_000)
    rate = getattr(ctx, "lookup_rate", 50.0)
    duration = ctx.duration
    servers = [s for s in ctx.servers if s.worker_class == "gthread"] or [ServerConfig("gthread", 4, 4)]
    results: dict = {"settings": {"citizens": citizens, "cases": cases, "rate": rate, "duration_s": duration,
                                  "connections": ctx.connections, "servers": [s.label for s in servers],
                                  "pg_server": pg.rsplit("@", 1)[-1]},
                     "loadavg_before": [round(x, 2) for x in os.getloadavg()]}
    # 1. loader memory at 1/10 of the size, in a database of its own.
    small = Instance(DbTarget("postgresql", pg, SMALL_DB), redis_url=ctx.redis_url, keep=False, prestart_redis=False)
    try:
        small.prepare()
        log(f"bulk load (small): {citizens // 10:,} citizens, {cases // 10:,} cases")
        results["load_small"] = run_loader(small, citizens // 10, cases // 10)
    finally:
        small.cleanup()
        with contextlib.suppress(Exception):
            _drop_database(pg, SMALL_DB)
    # 2. the real one.
    instance = Instance(DbTarget("postgresql", pg, LOOKUP_DB), redis_url=ctx.redis_url, keep=ctx.keep,
                        prestart_redis=ctx.prestart_redis)
    try:
        instance.prepare()
        phones, heavy = instance.folder / "phones.txt", instance.folder / "heavy.txt"
        log(f"bulk load: {citizens:,} citizens, {cases:,} cases")
        results["load"] = run_loader(instance, citizens, cases, phones, heavy)
        results["runs"] = {}
        for config in servers:
            results["runs"][config.label] = run_server(ctx, instance, config, phones, heavy, rate, duration)
        sample = [ln for ln in phones.read_text().splitlines() if ln]
        heavy_list = [ln for ln in heavy.read_text().splitlines() if ln]
        log("in-process profile (Flask test client) and EXPLAIN ANALYZE")
        results["profile"] = profile_in_process(instance, sample, heavy_list)
    finally:
        instance.cleanup()
        if not ctx.keep:  # ~1.4 GB, and useless without the instance folder's keys
            with contextlib.suppress(Exception):
                _drop_database(pg, LOOKUP_DB)
    results["targets"] = targets(results)
    return results, markdown(results, NAME, TITLE, LOOKUP_DB)


def _drop_database(server_url: str, name: str) -> None:
    import psycopg

    from tests.bench.server import bench_pg_url

    admin = sa.engine.make_url(bench_pg_url(server_url, name)).set(database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_server(ctx, instance: Instance, config: ServerConfig, phones: Path, heavy: Path, rate: float,
               duration: float) -> dict:
    out: dict = {"server": config.label}
    wrk = ctx.load.wrk
    with Gunicorn(instance, config) as server:
        pids = server.worker_pids()
        if wrk:  # warm-up: PostgreSQL buffers, every worker's pool and statement cache
            wrk_lookup(wrk, server.url, instance.token, phones, ctx.connections, ctx.warmup or 2, "warmup")
        runs = []
        if wrk:
            runs.append(("single", lambda: wrk_lookup(wrk, server.url, instance.token, phones, 1, duration,
                                                      "1 connection, random files")))
            runs.append(("single_heavy", lambda: wrk_lookup(wrk, server.url, instance.token, heavy, 1, duration,
                                                            "1 connection, heavy callers (≥ 20 cases)")))
        runs.append(("paced", lambda: paced_lookup(server.url, instance.token, phones, rate, duration,
                                                   f"open loop {rate:g}/s, random files")))
        runs.append(("paced_heavy", lambda: paced_lookup(server.url, instance.token, heavy, rate, duration,
                                                         f"open loop {rate:g}/s, heavy callers")))
        if wrk:
            runs.append(("saturation", lambda: wrk_lookup(wrk, server.url, instance.token, phones, ctx.connections,
                                                          duration, f"{ctx.connections} connections, random files")))
        for key, fn in runs:
            meter = CpuMeter(pids)
            result = fn()
            result["cpu"] = meter.stop()
            if result["rps"]:
                result["cpu"]["server_ms_per_request"] = round(10 * result["cpu"]["server_pct"] / result["rps"], 2)
            out[key] = result
            lat = result["latency_ms"]
            log(f"lookup {config.label} {result['name']}: {result['rps']}/s p50 {lat.get('p50')} p95 {lat.get('p95')} "
                f"p99 {lat.get('p99')} ms, errors {result['errors']}, not found {result.get('not_found')}")
        out["workers"] = server.worker_memory()
    return out
