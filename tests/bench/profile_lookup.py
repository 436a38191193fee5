"""Benchmark ``profile_lookup``: GET /api/v1/citizens/lookup?phone= (一号一档) on a big PostgreSQL database.

Target (issue "Real-time agent console"): p95 ≤ 20 ms through HTTP with 1,000,000 cases and 300,000
citizens loaded.

1. ``bulk_load`` (a subprocess, so its own peak RSS is measured) fills a small database
   (``NAME_small``: 100k cases, dropped afterwards) and the real one (``--pg-db NAME``, default
   ``hotline_bench_lookup``; 1M cases, 300k citizens): the loader's memory must not grow with the row count.
   ``--lookup-reuse DIR`` keeps the instance folder (keys, token, phone lists) in DIR and the database after
   the run, and the next run with the same DIR reuses both (``flask db upgrade`` + ANALYZE, no reload).
2. gunicorn (gthread) on that instance; the load generator asks for random loaded numbers (a sample of
   all files, and separately the heavy callers with ≥ 20 cases). The sample is split in two disjoint
   halves: the warm-up (16 connections, ``--warmup`` s) looks up only the first, the runs only the second:
   - wrk, 1 connection: the latency of one agent's look-up on an otherwise idle server (service time);
   - Python open loop at ``--lookup-rate`` requests/s (latency from the scheduled send time);
   - wrk, ``--connections`` connections: saturation throughput (latency there is mostly queueing).
3. In-process (Flask test client) on the same database: SQL statements and database time per look-up,
   a step breakdown and cProfile's top functions, and EXPLAIN (ANALYZE, BUFFERS) of every statement a
   heavy caller's look-up issues, plus the file statement for a random file nobody looked up.

    python -m tests.bench.run --only profile_lookup [--pg URL] [--lookup-cases 1000000]
        [--lookup-rate 50] [--pg-db NAME] [--lookup-reuse DIR]
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
from tests.bench.server import BENCH_DB, ROOT, DbTarget, Gunicorn, Instance, ServerConfig, log

NAME = "profile_lookup"
TITLE = "一号一档 look-up on 1M cases / 300k citizens (PostgreSQL)"
LOOKUP_DB = "hotline_bench_lookup"
STATE = "lookup_state.json"  # --lookup-reuse DIR: the load's results, token and database name
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/"


# --- bulk load -----------------------------------------------------------------------------------------


def run_loader(
    instance: Instance, citizens: int, cases: int, phones: Path | None = None, heavy: Path | None = None
) -> dict:
    cmd = [
        sys.executable,
        "-m",
        "tests.bench.bulk_load",
        "--database-url",
        instance.database_url,
        "--instance",
        str(instance.folder),
        "--citizens",
        str(citizens),
        "--cases",
        str(cases),
        "--json",
    ]
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


def _database_names(ctx) -> tuple[str, str]:
    """``--pg-db NAME`` (when given) names the big database; the small one is NAME_small."""
    chosen = next((d.bench_db for d in ctx.databases if d.name == "postgresql"), BENCH_DB)
    name = chosen if chosen != BENCH_DB else LOOKUP_DB
    return name, f"{name}_small"


def _database_exists(server_url: str, name: str) -> bool:
    import psycopg

    from tests.bench.server import bench_pg_url

    admin = sa.engine.make_url(bench_pg_url(server_url, name)).set(database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def _reused(pg: str, name: str, folder: Path, instance: Instance) -> dict | None:
    """The saved load of ``--lookup-reuse DIR`` when its database is still there: migrate it, attach to it."""
    state_file = folder / STATE
    if not state_file.exists() or not _database_exists(pg, name):
        return None
    state = json.loads(state_file.read_text())
    if state.get("database") != name:
        return None
    from tests.bench.server import bench_pg_url

    instance.database_url, instance.token = bench_pg_url(pg, name), state["token"]
    instance.flask("db", "upgrade")  # new migrations (indexes) apply to the loaded database
    with contextlib.closing(
        sa.create_engine(instance.database_url.replace("postgresql://", "postgresql+psycopg://", 1)).connect()
    ) as conn:
        conn.execute(sa.text("ANALYZE"))
        conn.commit()
    log(f"reusing database {name} and instance {folder} (loaded {state['loaded_at']})")
    return state


def run(ctx) -> tuple[dict, str]:
    pg = getattr(ctx, "pg_url", "") or next((d.url for d in ctx.databases if d.name == "postgresql"), "") or DEFAULT_PG
    citizens = getattr(ctx, "lookup_citizens", 300_000)
    cases = getattr(ctx, "lookup_cases", 1_000_000)
    rate = getattr(ctx, "lookup_rate", 50.0)
    reuse = getattr(ctx, "lookup_reuse", None)
    duration = ctx.duration
    big_db, small_db = _database_names(ctx)
    servers = [s for s in ctx.servers if s.worker_class == "gthread"] or [ServerConfig("gthread", 4, 4)]
    results: dict = {
        "settings": {
            "citizens": citizens,
            "cases": cases,
            "rate": rate,
            "duration_s": duration,
            "connections": ctx.connections,
            "servers": [s.label for s in servers],
            "pg_server": pg.rsplit("@", 1)[-1],
            "database": big_db,
            "reused_load": False,
        },
        "loadavg_before": [round(x, 2) for x in os.getloadavg()],
    }
    keep = ctx.keep or reuse is not None
    instance = Instance(
        DbTarget("postgresql", pg, big_db),
        redis_url=ctx.redis_url,
        keep=keep,
        prestart_redis=ctx.prestart_redis,
        folder=Path(reuse).resolve() if reuse else None,
    )
    state = _reused(pg, big_db, instance.folder, instance) if reuse else None
    try:
        if state is None:
            # 1. loader memory at 1/10 of the size, in a database of its own.
            results["load_small"] = load_small(ctx, pg, small_db, citizens // 10, cases // 10)
            # 2. the real one.
            instance.prepare()
            log(f"bulk load: {citizens:,} citizens, {cases:,} cases")
            results["load"] = run_loader(
                instance, citizens, cases, instance.folder / "phones.txt", instance.folder / "heavy.txt"
            )
            if reuse:
                (instance.folder / STATE).write_text(
                    json.dumps(
                        {
                            "database": big_db,
                            "token": instance.token,
                            "loaded_at": time.strftime("%Y-%m-%d %H:%M"),
                            "load": results["load"],
                            "load_small": results["load_small"],
                        },
                        ensure_ascii=False,
                    )
                )
        else:
            results["load"], results["load_small"] = state["load"], state["load_small"]
            results["settings"]["reused_load"] = state["loaded_at"]
            if not ctx.redis_url and ctx.prestart_redis:
                instance.start_embedded_redis()
        warm, measure = split_phones(instance.folder / "phones.txt")
        heavy = instance.folder / "heavy.txt"
        results["runs"] = {}
        for config in servers:
            results["runs"][config.label] = run_server(ctx, instance, config, warm, measure, heavy, rate, duration)
        sample = [ln for ln in measure.read_text().splitlines() if ln]
        heavy_list = [ln for ln in heavy.read_text().splitlines() if ln]
        log("in-process profile (Flask test client) and EXPLAIN ANALYZE")
        results["profile"] = profile_in_process(
            instance, sample, heavy_list, [ln for ln in warm.read_text().splitlines() if ln]
        )
    finally:
        instance.cleanup()
        if not keep:  # ~1.4 GB, and useless without the instance folder's keys
            with contextlib.suppress(Exception):
                _drop_database(pg, big_db)
    results["targets"] = targets(results)
    return results, markdown(results, NAME, TITLE, big_db)


def load_small(ctx, pg: str, name: str, citizens: int, cases: int) -> dict:
    small = Instance(DbTarget("postgresql", pg, name), redis_url=ctx.redis_url, keep=False, prestart_redis=False)
    try:
        small.prepare()
        log(f"bulk load (small): {citizens:,} citizens, {cases:,} cases")
        return run_loader(small, citizens, cases)
    finally:
        small.cleanup()
        with contextlib.suppress(Exception):
            _drop_database(pg, name)


def split_phones(phones: Path) -> tuple[Path, Path]:
    """Disjoint halves of the sampled numbers: warm-up files and measured files (never looked up in warm-up)."""
    lines = [ln for ln in phones.read_text().splitlines() if ln]
    warm, measure = phones.with_name("phones_warmup.txt"), phones.with_name("phones_measure.txt")
    warm.write_text("\n".join(lines[0::2]) + "\n")
    measure.write_text("\n".join(lines[1::2]) + "\n")
    return warm, measure


def _drop_database(server_url: str, name: str) -> None:
    import psycopg

    from tests.bench.server import bench_pg_url

    admin = sa.engine.make_url(bench_pg_url(server_url, name)).set(database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_server(
    ctx, instance: Instance, config: ServerConfig, warm: Path, phones: Path, heavy: Path, rate: float, duration: float
) -> dict:
    out: dict = {"server": config.label}
    wrk = ctx.load.wrk
    with Gunicorn(instance, config) as server:
        pids = server.worker_pids()
        if wrk:  # warm-up: every worker's pool and statement cache, index roots; files never measured
            wrk_lookup(wrk, server.url, instance.token, warm, ctx.connections, ctx.warmup or 2, "warmup")
        runs = []
        if wrk:
            runs.append(
                (
                    "single",
                    lambda: wrk_lookup(
                        wrk, server.url, instance.token, phones, 1, duration, "1 connection, random files"
                    ),
                )
            )
            runs.append(
                (
                    "single_heavy",
                    lambda: wrk_lookup(
                        wrk, server.url, instance.token, heavy, 1, duration, "1 connection, heavy callers (≥ 20 cases)"
                    ),
                )
            )
        runs.append(
            (
                "paced",
                lambda: paced_lookup(
                    server.url, instance.token, phones, rate, duration, f"open loop {rate:g}/s, random files"
                ),
            )
        )
        runs.append(
            (
                "paced_heavy",
                lambda: paced_lookup(
                    server.url, instance.token, heavy, rate, duration, f"open loop {rate:g}/s, heavy callers"
                ),
            )
        )
        if wrk:
            runs.append(
                (
                    "saturation",
                    lambda: wrk_lookup(
                        wrk,
                        server.url,
                        instance.token,
                        phones,
                        ctx.connections,
                        duration,
                        f"{ctx.connections} connections, random files",
                    ),
                )
            )
        for key, fn in runs:
            meter = CpuMeter(pids)
            result = fn()
            result["cpu"] = meter.stop()
            if result["rps"]:
                result["cpu"]["server_ms_per_request"] = round(10 * result["cpu"]["server_pct"] / result["rps"], 2)
            out[key] = result
            lat = result["latency_ms"]
            log(
                f"lookup {config.label} {result['name']}: {result['rps']}/s p50 {lat.get('p50')} p95 {lat.get('p95')} "
                f"p99 {lat.get('p99')} ms, errors {result['errors']}, not found {result.get('not_found')}"
            )
        out["workers"] = server.worker_memory()
    return out
