"""Benchmark ``connected`` (issue 21): webhook deliveries and the data-sharing feed, in one process on SQLite.

- **webhooks**: a writer commits ``RATE`` events/s (``alert.raised`` through ``enqueue_event``, one transaction
  each: an outbox row per event) for ``SECONDS`` s while the relay (workers/jobs/webhooks.py ``run_round``, its
  thread pool) sends them to a local HTTP receiver; reports sustained deliveries/s and commit → receipt latency
  (p50/p95/max; target: 200/s with p95 ≤ 2 s);
- **feed**: 100,000 changes in ``feed_changes`` (payloads as the change log writes them), paged through with
  GET /api/v1/feed/cases?limit=5000 as an integration token (target ≥ 5,000 changes/s).

    .venv/bin/python -m tests.bench.run --only connected
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from tests.bench.report import table

NAME = "connected"
TITLE = "Webhook deliveries to a local receiver; paging the data-sharing feed"
RATE, SECONDS, WRITERS = 200, 10, 4
FEED_CHANGES, PAGE = 100_000, 5000
TARGET_RATE, TARGET_P95, TARGET_FEED = 200.0, 2.0, 5000.0


RECEIVER = r"""
import json, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
out = open(sys.argv[1], "a", buffering=1)
class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        out.write(f"{json.loads(body)['data']['seq']} {time.time()}\n")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print(server.server_port, flush=True)
server.serve_forever()
"""


class _Receiver:
    """A receiver in its own process (it does not compete for this interpreter): one line per request."""

    def __init__(self, folder: Path):
        self.log = folder / "received.txt"
        self.process = subprocess.Popen([sys.executable, "-c", RECEIVER, str(self.log)], stdout=subprocess.PIPE)
        port = int(self.process.stdout.readline())
        self.url = f"http://127.0.0.1:{port}/hook"

    @property
    def times(self) -> dict[int, float]:
        if not self.log.exists():
            return {}
        lines = [line.split() for line in self.log.read_text().splitlines() if line.count(" ") == 1]
        return {int(seq): float(at) for seq, at in lines}

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def _app(folder: Path):
    from hotline import create_app
    from hotline.extensions import db

    app = create_app({"instance": folder, "database_url": "sqlite:///" + str(folder / "bench.db"), "testing": True})
    app.config["HOTLINE"].webhook_allow_private = True
    with app.app_context():
        db.create_all()
    return app


def _webhooks(app, folder: Path) -> dict:
    from hotline.extensions import db
    from hotline.models import WebhookSubscription
    from hotline.webhooks.fanout import enqueue_event
    from workers.jobs.webhooks import BATCH, THREADS, run_round

    receiver = _Receiver(folder)
    with app.app_context():
        db.session.add(WebhookSubscription(url=receiver.url, events=["alert.raised"], secret="bench-secret-0001"))
        db.session.commit()
    committed: dict[int, float] = {}
    total = RATE * SECONDS
    stop = threading.Event()

    def write(lane: int):  # WRITERS threads, each committing every WRITERS-th event on its own schedule
        with app.app_context():
            start = time.monotonic()
            for seq in range(lane, total, WRITERS):
                wait = start + seq / RATE - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                enqueue_event("alert.raised", {"seq": seq, "kind": "bench"})
                db.session.commit()
                committed[seq] = time.time()

    def relay():
        with app.app_context(), ThreadPoolExecutor(max_workers=THREADS) as pool:
            while not stop.is_set():
                claimed, _sent = run_round(lambda: datetime.now(UTC), BATCH, pool)
                if not claimed:
                    time.sleep(0.02)

    relays = [threading.Thread(target=relay) for _ in range(2)]
    for t in relays:
        t.start()
    began = time.time()
    writers = [threading.Thread(target=write, args=(lane,)) for lane in range(WRITERS)]
    for t in writers:
        t.start()
    for t in writers:
        t.join()
    commit_rate = total / max(max(committed.values()) - began, 1e-9)
    deadline = time.time() + 60
    while len(receiver.times) < total and time.time() < deadline:
        time.sleep(0.1)
    times = receiver.times
    ended = max(times.values()) if times else time.time()
    stop.set()
    for t in relays:
        t.join(30)
    receiver.stop()
    latencies = sorted(times[s] - committed[s] for s in times if s in committed)
    p95 = latencies[int(0.95 * (len(latencies) - 1))] if latencies else None
    return {
        "events": total,
        "delivered": len(times),
        "offered_per_s": RATE,
        "committed_per_s": round(commit_rate, 1),
        "delivered_per_s": round(len(times) / max(ended - began, 1e-9), 1),
        "p50_s": round(statistics.median(latencies), 3) if latencies else None,
        "p95_s": round(p95, 3) if p95 is not None else None,
        "max_s": round(latencies[-1], 3) if latencies else None,
    }


def _feed(app) -> dict:
    import sqlalchemy as sa

    from hotline.auth.tokens import create_token
    from hotline.extensions import db
    from hotline.models import FeedChange, FeedCursor, User

    now = datetime.now(UTC)
    payload = {
        "case": {
            "number": "GD20261208-000001",
            "kind": "complaint",
            "channel": "phone",
            "urgency": "normal",
            "status": "dispatched",
            "title": "小区门口路灯不亮",
            "content": "小区门口路灯不亮已一周，晚上出行不便，请尽快维修。" * 3,
            "address": "福田区福华路88号",
            "category": "城乡建设/市政设施/路灯",
            "department_code": "ZJJ",
            "created_at": now.isoformat(),
            "closed_at": None,
            "version": 2,
            "links": [],
        },
        "change": {
            "action": "dispatch",
            "from_status": "registered",
            "to_status": "dispatched",
            "note": "",
            "actor": "刘洋（派单员）",
            "department_code": "ZJJ",
            "at": now.isoformat(),
        },
    }
    with app.app_context():
        rows = [
            {"id": i, "kind": "case.event", "case_id": None, "payload": payload, "created_at": now}
            for i in range(1, FEED_CHANGES + 1)
        ]
        for start in range(0, len(rows), 10_000):
            db.session.execute(sa.insert(FeedChange.__table__), rows[start : start + 10_000])
        db.session.merge(FeedCursor(id=1, last=FEED_CHANGES, exported=0))
        user = User(username="bench_sharing", name="共享", role="integration", password_hash="!")
        db.session.add(user)
        token = create_token(user)
        db.session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    since, read, pages = 0, 0, 0
    started = time.perf_counter()
    while True:
        page = client.get(f"/api/v1/feed/cases?since={since}&limit={PAGE}", headers=headers).get_json()
        read += len(page["items"])
        pages += 1
        since = page["next"]
        if not page["more"]:
            break
    seconds = time.perf_counter() - started
    return {"changes": read, "pages": pages, "seconds": round(seconds, 2), "per_s": round(read / seconds, 1)}


def run(ctx) -> tuple[dict, str]:
    with tempfile.TemporaryDirectory(prefix="bench-connected-") as folder:
        app = _app(Path(folder))
        hooks = _webhooks(app, Path(folder))
        feed = _feed(app)
    results = {"webhooks": hooks, "feed": feed, "database": "sqlite"}
    ok_rate = hooks["delivered"] == hooks["events"] and hooks["delivered_per_s"] >= TARGET_RATE * 0.95
    ok_p95 = hooks["p95_s"] is not None and hooks["p95_s"] <= TARGET_P95
    markdown = "\n\n".join(
        [
            f"## {TITLE}",
            table(
                ["measure", "value", "target", "met"],
                [
                    ["webhook deliveries/s (offered 200/s, 10 s)", hooks["delivered_per_s"], "≥ 200/s", ok_rate],
                    ["events committed/s (4 writer threads)", hooks["committed_per_s"], "200/s offered", ""],
                    [
                        "delivered / committed",
                        f"{hooks['delivered']} / {hooks['events']}",
                        "all",
                        hooks["delivered"] == hooks["events"],
                    ],
                    [
                        "commit → receipt p50 / p95 / max (s)",
                        f"{hooks['p50_s']} / {hooks['p95_s']} / {hooks['max_s']}",
                        "p95 ≤ 2 s",
                        ok_p95,
                    ],
                    [
                        "feed: changes paged per s (limit 5000, HTTP)",
                        feed["per_s"],
                        "≥ 5,000/s",
                        feed["per_s"] >= TARGET_FEED,
                    ],
                    [
                        "feed: changes / pages / seconds",
                        f"{feed['changes']} / {feed['pages']} / {feed['seconds']}",
                        "100,000",
                        feed["changes"] == FEED_CHANGES,
                    ],
                ],
            ),
            "SQLite; writers and two relays in one process, the receiver in another: 4 writer threads commit "
            "one transaction per event; the delivered rate follows the commit rate the writers reach.",
        ]
    )
    return results, markdown
