"""Benchmark ``sla_sweep``: the SLA sweeper (workers.jobs.sla.sweep_sla) on PostgreSQL with 100k and 1M open cases.

A dedicated database (``hotline_bench_sla``, or the one --pg-db names; dropped again afterwards unless --keep) is
migrated and seeded with the project's CLI, then filled with open cases and signed assignments by COPY (psycopg
``cursor.copy``, rows streamed from a generator). Every assignment carries its timers as the app would have stored
them; a chosen number are due at the sweep instant (their 80 % instant just passed), the others later. Each sweep
runs in a fresh child process (the app as the worker runs it, embedded Redis or --redis) that reports its wall time
and peak RSS:

- due: 1 % of the open cases cross their yellow threshold → that many cards and events, summary notices, and
  ``sla.card`` messages (one per card, pipelined);
- idle: the same instant again, nothing changed (the cost of the index probe);
- fixed: at 1M, 1,000 due — the same work as the 1 % sweep at 100k, to show the cost follows what is due;
- scattered: at 1M, the 1 % again but spread over the whole table (every row on a page of its own: worst case).

Due rows otherwise come in runs of neighbours (see ``positions`` in ``tests.bench.sla_sweep_data``, which
generates and loads the data).

    .venv/bin/python -m tests.bench.run --only sla_sweep --pg postgresql://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta

from tests.bench.report import table
from tests.bench.server import BENCH_DB as SERVER_BENCH_DB
from tests.bench.server import ROOT, DbTarget, Instance, log
from tests.bench.sla_sweep_data import RUNS, T0, load

NAME = "sla_sweep"
TITLE = "SLA sweeper on PostgreSQL, 100k → 1M open cases"
BENCH_DB = "hotline_bench_sla"
SIZES = (100_000, 1_000_000)
TARGET_DUE_S, TARGET_IDLE_S, TARGET_RSS_MB = 2.0, 0.2, 200.0
FIXED_DUE = 1_000


def sweep_in_child(instance: Instance, instants: list[datetime]) -> list[dict]:
    """Run sweep_sla at each instant in one fresh process (as an RQ worker would); wall time and peak RSS."""
    out = subprocess.run(
        [sys.executable, "-m", "tests.bench.sla_sweep", *[t.isoformat() for t in instants]],
        cwd=ROOT,
        env=instance.env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if out.returncode != 0:
        raise RuntimeError(f"sweep child failed:\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def child(argv: list[str]) -> None:
    import logging
    import resource

    import psutil
    import rq  # noqa: F401 — loaded in a real worker before any job runs (notices enqueue the outbox relay)

    import hotline.cases.operations  # noqa: F401
    import workers.jobs.outbox  # noqa: F401
    from hotline import create_app
    from workers.jobs.sla import sweep_sla

    logging.disable(logging.WARNING)
    reset_peak = _reset_peak_rss()
    app = create_app()
    results = []
    with app.app_context():
        sweep_sla(datetime.fromisoformat(argv[0]) - timedelta(days=30))  # a running worker: connected, compiled
        for raw in argv:
            load1 = os.getloadavg()[0]
            backend = _backend()
            db_cpu, cpu, started = _cpu(backend), time.process_time(), time.perf_counter()
            counts = sweep_sla(datetime.fromisoformat(raw))
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
            db_cpu = _cpu(backend) - db_cpu if backend and _backend() == backend else None
            peak = _peak_rss_mb() if reset_peak else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            results.append(
                {
                    "now": raw,
                    "seconds": round(elapsed, 4),
                    **counts,
                    "cpu_s": round(cpu, 3),
                    "db_cpu_s": None if db_cpu is None else round(db_cpu, 3),
                    "rss_mb": round(psutil.Process().memory_info().rss / 2**20, 1),
                    "peak_rss_mb": round(peak, 1),
                    "loadavg_1m": round(load1, 2),
                }
            )
    print(json.dumps(results))


def _backend() -> int | None:
    """The PostgreSQL backend serving this process's pooled connection (the sweep reuses it)."""
    import sqlalchemy as sa

    from hotline.extensions import db

    pid = db.session.execute(sa.text("SELECT pg_backend_pid()")).scalar()
    db.session.remove()
    return pid


def _cpu(pid: int | None) -> float:
    import psutil

    try:
        times = psutil.Process(pid).cpu_times()
    except (psutil.Error, TypeError, ValueError):
        return 0.0
    return times.user + times.system


def _reset_peak_rss() -> bool:
    """Linux keeps the parent's peak RSS across fork + exec (ru_maxrss, VmHWM): reset it, so the peak is ours."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _peak_rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def run(ctx) -> tuple[dict, str]:
    pg = next((d for d in ctx.databases if d.name == "postgresql"), None)
    if pg is None:
        log("sla_sweep skipped: it needs PostgreSQL (--pg URL or a PostgreSQL DATABASE_URL)")
        results = {"skipped": "no PostgreSQL server given (--pg URL or DATABASE_URL)"}
        return results, f"## {NAME} — {TITLE}\n\nSkipped: {results['skipped']}.\n"
    bench_db = pg.bench_db if pg.bench_db != SERVER_BENCH_DB else BENCH_DB  # --pg-db, else our own default
    instance = Instance(
        DbTarget("postgresql", pg.url, bench_db),
        redis_url=ctx.redis_url,
        keep=ctx.keep,
        prestart_redis=ctx.prestart_redis,
    )
    phases, total = [], 0
    try:
        instance.prepare()
        url = instance.database_url
        for phase, size in enumerate(SIZES):
            due_now = T0 + timedelta(hours=3 * phase)
            fixed_now, scattered_now = due_now + timedelta(hours=1), due_now + timedelta(hours=2)
            due = {due_now: (size // 100, False)}
            if phase:  # the same 1,000 as at 100k; and the 1 % again, scattered over the whole table
                due.update({fixed_now: (FIXED_DUE, False), scattered_now: (size // 100, True)})
            seconds = load(url, total + 1, size - total, due)
            log(f"sla_sweep: loaded {size - total:,} cases + assignments by COPY in {seconds:.1f}s ({size:,} open)")
            total = size
            keys = ["due", "idle", *(["fixed", "fixed_idle", "scattered", "scattered_idle"] if phase else [])]
            instants = [due_now, due_now, *([fixed_now, fixed_now, scattered_now, scattered_now] if phase else [])]
            sweeps = dict(zip(keys, sweep_in_child(instance, instants), strict=True))
            for key, s in sweeps.items():
                log(
                    f"sla_sweep {size:,} open, {key}: {s['seconds']:.3f}s, {s['yellow']} yellow cards, "
                    f"peak RSS {s['peak_rss_mb']} MB, load {s['loadavg_1m']}"
                )
            phases.append({"open_cases": size, "load_seconds": round(seconds, 1), **sweeps})
    finally:
        instance.cleanup()
        if not ctx.keep:
            _drop(pg.url, bench_db)
    results = {"phases": phases, "targets": targets(phases)}
    return results, markdown(results)


def _drop(server_url: str, bench_db: str) -> None:
    import psycopg
    import sqlalchemy as sa

    from tests.bench.server import bench_pg_url

    admin = sa.engine.make_url(bench_pg_url(server_url, bench_db)).set(database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{bench_db}" WITH (FORCE)')


def _cpu_cell(s: dict) -> str:
    if s.get("cpu_s") is None:
        return ""
    db = s.get("db_cpu_s")
    return (
        f"{s['cpu_s'] * 1000:.0f} + {db * 1000:.0f} = {(s['cpu_s'] + db) * 1000:.0f}"
        if db is not None
        else f"{s['cpu_s'] * 1000:.0f} + ?"
    )


def targets(phases: list[dict]) -> list[dict]:
    big = phases[-1]
    rss = max(s["peak_rss_mb"] for p in phases for s in p.values() if isinstance(s, dict))
    return [
        {
            "target": f"1 % due at {big['open_cases']:,} open ≤ {TARGET_DUE_S:g} s",
            "measured": f"{big['due']['seconds']:.3f} s ({big['due']['yellow']:,} cards)",
            "met": big["due"]["seconds"] <= TARGET_DUE_S and big["due"]["yellow"] == big["open_cases"] // 100,
        },
        {
            "target": f"(worst case, not a target) 1 % due scattered over {big['open_cases']:,} open",
            "measured": f"{big['scattered']['seconds']:.3f} s",
            "met": big["scattered"]["seconds"] <= TARGET_DUE_S,
        },
        {
            "target": f"nothing changed at {big['open_cases']:,} open ≤ {TARGET_IDLE_S * 1000:g} ms",
            "measured": f"{big['idle']['seconds'] * 1000:.1f} ms",
            "met": big["idle"]["seconds"] <= TARGET_IDLE_S and big["idle"]["yellow"] == 0,
        },
        {"target": f"sweeper peak RSS ≤ {TARGET_RSS_MB:g} MB", "measured": f"{rss:g} MB", "met": rss <= TARGET_RSS_MB},
    ]


def markdown(results: dict) -> str:
    lines = [
        f"## {NAME} — {TITLE}",
        "",
        "Each sweep is `workers.jobs.sla.sweep_sla(now)` in a fresh process (app start excluded): claim due "
        "assignments by `next_card_at <= now` (partial index), insert cards `ON CONFLICT DO NOTHING` and their "
        "events by INSERT … SELECT (on PostgreSQL one statement per batch of 5,000), outbox notices, publish "
        "`sla.card` (one message per card, pipelined) after commit. Data: signed assignments, the reply "
        "milestone's 80 % instant just passed for the due ones, 1–20 days ahead for the rest. What falls due "
        "in the same minute was dispatched at about the same time, so the due rows come in "
        f"{RUNS} runs of neighbouring rows; the scattered sweep puts each on a page of its own (worst case). "
        "Loaded by COPY (psycopg), then VACUUM (ANALYZE) and CHECKPOINT. Peak RSS is the sweeping process's "
        "own (VmHWM reset at start). The machine has 2 cores shared with PostgreSQL, Redis and whatever "
        "else runs: see the load.",
        "",
    ]
    rows_ = []
    for p in results["phases"]:
        for key, label in (
            ("due", f"1 % due ({RUNS} runs of neighbours)"),
            ("idle", "nothing changed"),
            ("fixed", f"{FIXED_DUE:,} due ({RUNS} runs)"),
            ("fixed_idle", "nothing changed"),
            ("scattered", "1 % due, scattered (worst case)"),
            ("scattered_idle", "nothing changed"),
        ):
            s = p.get(key)
            if s:
                rows_.append(
                    [
                        f"{p['open_cases']:,}",
                        label,
                        f"{s['yellow']:,}",
                        f"{s['seconds'] * 1000:.1f}",
                        f"{s['seconds'] / s['yellow'] * 1e6:.0f}" if s["yellow"] else "",
                        _cpu_cell(s),
                        f"{s['peak_rss_mb']:g}",
                        f"{s.get('loadavg_1m', '')}",
                    ]
                )
    lines.append(
        table(
            [
                "open cases",
                "sweep",
                "cards written",
                "wall ms",
                "µs per card",
                "CPU ms: sweeper + PostgreSQL",
                "peak RSS MB",
                "load average (1 min) before",
            ],
            rows_,
        )
    )
    first, last = results["phases"][0], results["phases"][-1]
    if first is not last:
        ms = lambda s: s["seconds"] * 1000  # noqa: E731
        lines += [
            "",
            f"Growth {first['open_cases']:,} → {last['open_cases']:,} open cases (10×): the 1 % sweep "
            f"{ms(first['due']):.0f} → {ms(last['due']):.0f} ms for 10× the cards "
            f"(×{ms(last['due']) / ms(first['due']):.1f}); nothing changed {ms(first['idle']):.1f} → "
            f"{ms(last['idle']):.1f} ms; the same {FIXED_DUE:,} cards {ms(first['due']):.0f} ms at "
            f"{first['open_cases']:,} open vs {ms(last['fixed']):.0f} ms at {last['open_cases']:,} — the cost "
            "follows the cases due, not the open ones.",
        ]
    lines += [
        "",
        "Load time (COPY cases + assignments + timers, VACUUM ANALYZE, CHECKPOINT): "
        + ", ".join(f"{p['open_cases']:,}: {p['load_seconds']:g} s" for p in results["phases"]),
        "",
    ]
    lines.append(
        table(
            ["target", "measured", "met"],
            [[t["target"], t["measured"], "yes" if t["met"] else "**no**"] for t in results["targets"]],
        )
    )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    child(sys.argv[1:])
