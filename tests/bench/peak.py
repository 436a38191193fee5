"""``make load``: the city's busiest hour on one node, written to bench/load.json and bench/load.md.

    python -m tests.bench.peak [--pg URL] [--redis URL] [--duration 60] [--sockets 2000] [--scale 1.0]

Production mode on one machine, as the README's production section runs it: PostgreSQL (its own database
``hotline_bench_peak`` on the server of ``--pg``, recreated), a Redis server of its own (or ``--redis``),
gunicorn for pages and API (``--web gthread:WxT``, the committed gunicorn.conf.py: preloaded), a second
gunicorn for Socket.IO (one process, a thread per connection), one RQ worker on every queue and the
scheduler. Then, together:

- ``--sockets`` Socket.IO clients connected to ``/console`` (tests/bench/fanout_client.py processes): most
  as unit users (department rooms), ``--centre-sockets`` as agents/dispatchers/monitors, who receive every
  ``case.created`` of the city — answering the server's pings and recording what they receive;
- the mix of tests/bench/peak_actions.py, every action an open loop at its own rate (tests/bench/peak_mix.py).

Targets (issue "Never down"): registrations ≥ 50/s and reads ≥ 300/s sustained with the sockets connected,
p95 ≤ 200 ms for every action, 0 errors, 0 sockets dropped. Reported besides: p50/p99/max per action, CPU and
peak RSS/USS per process group, the routing backlog after the run, events delivered to the sockets.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import urllib.request

from tests.bench import report
from tests.bench.fanout_processes import ClientFleet
from tests.bench.peak_actions import Api, actions, prepare
from tests.bench.peak_mix import run_mix
from tests.bench.peak_report import markdown, targets
from tests.bench.peak_stack import (
    TOKEN_USERS,
    PeakInstance,
    RedisServer,
    Sampler,
    flask_process,
    gunicorn,
    postgres_pids,
)
from tests.bench.server import DbTarget, log

PEAK_DB = "hotline_bench_peak"
CENTRE_USERS = ["agent1", "agent2", "agent3", "dispatcher1", "dispatcher2", "monitor1"]
UNIT_USERS = ["handler_zjj", "handler_shj", "handler_rsj", "handler_jtj", "handler_d01", "handler_d01s01"]


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m tests.bench.peak", description=__doc__.split("\n\n")[0])
    env_url = os.environ.get("DATABASE_URL", "")
    p.add_argument(
        "--pg", default=env_url if env_url.startswith("postgres") else "postgresql://postgres@127.0.0.1:5432/"
    )
    p.add_argument("--pg-db", default=PEAK_DB)
    p.add_argument("--redis", default="", help="Redis URL (default: a redis-server of the bench's own)")
    p.add_argument("--duration", type=float, default=60.0, help="measured seconds (60)")
    p.add_argument("--warmup", type=float, default=10.0, help="seconds of load before measuring (10)")
    p.add_argument("--sockets", type=int, default=2000, help="Socket.IO clients connected (2000)")
    p.add_argument("--centre-sockets", type=int, default=50, help="of them agents/dispatchers/monitors (50)")
    p.add_argument("--scale", type=float, default=1.0, help="multiply every rate of the mix (1.0)")
    p.add_argument("--web", default="gthread:3x4", help="gunicorn for pages/API: gthread:WORKERSxTHREADS (3x4)")
    p.add_argument("--prepare", type=int, default=1500, help="cases registered before the run (1500)")
    p.add_argument("--out", default=str(report.BENCH_DIR / "load.json"))
    p.add_argument("--keep", action="store_true", help="keep the instance folder and database")
    return p.parse_args(argv)


def _get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as resp:  # noqa: S310 — 127.0.0.1
        return json.loads(resp.read())


def _backlog(instance: PeakInstance) -> dict:
    """Cases still waiting for the routing job, and RQ queue lengths, right after the run."""
    code = (
        "import json\nfrom hotline import create_app\nfrom hotline.extensions import db\nimport sqlalchemy as sa\n"
        "app = create_app()\nwith app.app_context():\n"
        '    pending = db.session.scalar(sa.text("SELECT count(*) FROM cases WHERE routing_pending"))\n'
        "print(json.dumps({'routing_pending': pending}))\n"
    )
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=report.ROOT, env=instance.env, capture_output=True, text=True
    )
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"routing_pending": None, "error": proc.stderr[-300:]}


def run(args: argparse.Namespace) -> dict:
    workers, _, threads = args.web.partition(":")[2].partition("x")
    with RedisServer() if not args.redis else _Given(args.redis) as redis:
        instance = PeakInstance(DbTarget("postgresql", args.pg, args.pg_db), redis_url=redis.url, keep=args.keep)
        instance.prepare()
        tokens = instance.tokens(TOKEN_USERS)
        web = gunicorn("web", instance, int(workers or 3), int(threads or 4))
        sockets = gunicorn(
            "socketio", instance, 1, args.sockets + 64, ["--worker-connections", str(max(2 * args.sockets, 200))]
        )
        worker = flask_process("worker", instance, "worker")
        scheduler = flask_process("scheduler", instance, "scheduler")
        procs = [web, sockets, worker, scheduler]
        fleet = None
        try:
            for proc in procs:
                proc.start()
            api = Api(web.url, tokens)
            started = time.monotonic()
            run_seconds = args.warmup + args.duration
            prep = prepare(api, args.prepare, replied=int(4 * run_seconds), to_sign=int(4 * run_seconds))
            prep_s = round(time.monotonic() - started, 1)
            services = [s["service_code"] for s in _get_json(web.url + "/open311/v2/services.json")][:20]
            centre = [tokens[u] for u in CENTRE_USERS]
            units = [tokens[u] for u in UNIT_USERS]
            fleet = _Fleets(sockets.url, centre, units, args.sockets, args.centre_sockets)
            connected = fleet.wait_connected()
            log(f"sockets: {connected['ok']} connected, {connected['failed']} failed in {connected['seconds']} s")
            time.sleep(3)
            groups = {"web": web.pids(), "socketio": sockets.pids(), "worker": worker.pids()}
            groups |= {"scheduler": scheduler.pids(), "socket clients": fleet.pids(), "postgresql": postgres_pids()}
            if redis.pid:
                groups["redis"] = [redis.pid]
            before = fleet.received_count()
            sampler = Sampler(groups)
            log(f"mix: {args.warmup:g} s warm-up, {args.duration:g} s measured")
            mix = run_mix(actions(tokens, prep, services, args.scale), web.url, args.warmup, args.duration)
            resources = sampler.stop()
            after = fleet.received_count()
            time.sleep(2)
            backlog = _backlog(instance)
            _received, still, dropped = fleet.stop()
            results = {
                "setup": {
                    "web": f"gunicorn gthread {workers}x{threads} (preload)",
                    "socketio": f"gunicorn gthread 1x{args.sockets + 64}",
                    "worker": "1 RQ worker, queues routing,sla,notify,default",
                    "scheduler": 1,
                    "database": "PostgreSQL (same machine)",
                    "redis": redis.url.split("@")[-1],
                    "prepared_cases": len(prep["numbers"]),
                    "prepare_s": prep_s,
                },
                "mix": mix,
                "sockets": {
                    "clients": args.sockets,
                    "centre": args.centre_sockets,
                    "connected": connected["ok"],
                    "failed": connected["failed"],
                    "connect_s": connected["seconds"],
                    "still_connected": still,
                    "dropped": dropped,
                    "events_received": after - before,
                },
                "resources": resources,
                "after": backlog,
            }
            results["targets"] = targets(results)
            return results
        finally:
            if fleet is not None:
                fleet.close()
            for proc in reversed(procs):
                proc.stop()
            instance.cleanup()


class _Given:
    def __init__(self, url: str):
        self.url, self.pid = url, None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None


class _Fleets:
    """Centre clients (every case.created of the city) and unit clients, as two ClientFleets."""

    def __init__(self, url: str, centre: list[str], units: list[str], total: int, centre_count: int):
        centre_count = min(centre_count, total)
        self.fleets = [ClientFleet(url, units, total - centre_count)] if total > centre_count else []
        if centre_count:
            self.fleets.append(ClientFleet(url, centre, centre_count))

    def wait_connected(self) -> dict:
        parts = [f.wait_connected() for f in self.fleets] or [{"ok": 0, "failed": 0, "seconds": 0.0}]
        return {
            "ok": sum(p["ok"] for p in parts),
            "failed": sum(p["failed"] for p in parts),
            "seconds": max(p["seconds"] for p in parts),
        }

    def pids(self) -> list[int]:
        return [pid for f in self.fleets for pid in f.pids()]

    def received_count(self) -> int:
        return sum(f.received_count() for f in self.fleets)

    def stop(self) -> tuple[list, int, int]:
        received, connected, dropped = [], 0, 0
        for f in self.fleets:
            r, c, d = f.stop()
            received += r
            connected += c
            dropped += d
        return received, connected, dropped

    def close(self) -> None:
        for f in self.fleets:
            f.close()


def main(argv=None) -> None:
    args = parse_args(argv)
    results = run(args)
    text = markdown(results, " ".join(["python -m tests.bench.peak", *(argv or [])]))
    out = report.Path(args.out)
    report.save(out, {"machine": report.machine(), **results}, text)
    print(text)
    log(f"wrote {out} and {out.with_suffix('.md')}")


if __name__ == "__main__":
    main()
