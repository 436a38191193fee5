"""A gunicorn worker SIGKILLed mid-request, the client retrying by idempotency key: 0 duplicate cases, 0 lost.

A real ``gunicorn wsgi:app -w 2 -k gthread --threads 4`` on an instance of its own (the suite's ``DATABASE_URL``
server with a database of its own, else a SQLite file; ``REDIS_URL`` when set). Four client threads register N
cases over HTTP, each with its own ``Idempotency-Key``, on a fresh connection per request. The test kills a
worker that has a client connection open (a request in flight) K times; gunicorn's master starts a new one. A
request that fails with a connection error or a 5xx is sent again with the same key and body until it gets its
201 — a replayed answer (``Idempotent-Replayed: true``) when the killed worker had committed the case before it
died. Then the database must hold exactly N cases of the test's marker, one per request.

The client registers in K + 1 phases of N / (K + 1) requests: each kill falls in the middle of a phase, and the
next phase starts once the replacement worker has loaded the app, so every kill hits a serving worker.
"""

from __future__ import annotations

import collections
import os
import signal
import threading
import time
import uuid

import pytest
import requests
import sqlalchemy as sa

from hotline.models import Case
from tests import counts
from tests.faults.support import Served
from tests.helpers import drop_database, own_database

N, KILLS, CLIENTS = 150, 5, 4
MAX_ATTEMPTS, REQUEST_BUDGET = 30, 40.0  # per registration: bounded retries and time


@pytest.fixture()
def served():
    url = os.environ.get("DATABASE_URL", "")
    database = own_database(url, "gunicorn") if url.startswith("postgres") else ""
    live = Served("gunicorn", database)
    try:
        live.prepare()
        live.start(workers=2, threads=4)
        yield live
    finally:
        live.close()
        if database:
            drop_database(database)


class Client:
    """N registrations in threads, released phase by phase (``allow``); retried by key until 201."""

    def __init__(self, served: Served, tag: str):
        self.url = served.url + "/api/v1/cases"
        self.headers = {"Authorization": f"Bearer {served.token}"}
        self.tag = tag
        self.cond = threading.Condition()
        self.allowed = self.issued = 0
        self.tally: collections.Counter[str] = collections.Counter()
        self.statuses: collections.Counter[int] = collections.Counter()
        self.numbers: dict[int, str] = {}
        self.failed: list[tuple[int, str]] = []
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(CLIENTS)]

    def allow(self, upto: int) -> None:
        with self.cond:
            self.allowed = min(upto, N)
            self.cond.notify_all()

    def wait_issued(self, at_least: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.issued < at_least and time.monotonic() < deadline:
            time.sleep(0.005)

    def _run(self) -> None:
        while True:
            with self.cond:
                while self.issued >= self.allowed and self.issued < N:
                    self.cond.wait(1)
                if self.issued >= N:
                    return
                i, self.issued = self.issued, self.issued + 1
            self.register(i)

    def _count(self, what: str) -> None:
        with self.cond:
            self.tally[what] += 1

    def register(self, i: int) -> None:
        key = f"{self.tag}-{i}-{uuid.uuid4()}"
        body = {
            "channel": "phone",
            "kind": "help",
            "content": f"小区路灯不亮，晚上出行不便，请尽快维修。标记{self.tag}-{i}-",
            "citizen_phone": f"137{(int(self.tag, 16) + i) % 10**8:08d}",
        }
        headers = {**self.headers, "Idempotency-Key": key}
        deadline, last = time.monotonic() + REQUEST_BUDGET, "out of time"
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                self._count("retries")
                time.sleep(min(0.05 * 2**attempt, 1.0))
            if time.monotonic() > deadline:
                break
            self._count("requests")
            try:
                resp = requests.post(self.url, json=body, headers=headers, timeout=(5, 20))
            except requests.RequestException as exc:
                self._count("connection errors")
                last = type(exc).__name__
                continue
            with self.cond:
                self.statuses[resp.status_code] += 1
            if resp.status_code == 201:
                with self.cond:
                    self.numbers[i] = resp.json()["number"]
                    self.tally["replayed"] += resp.headers.get("Idempotent-Replayed") == "true"
                return
            last = f"{resp.status_code} {resp.text[:200]}"
            if resp.status_code < 500:
                break  # a refusal: retrying would not change it
        with self.cond:
            self.failed.append((i, last))


def _kill_serving_worker(served: Served) -> tuple[int, bool]:
    """SIGKILL a worker that has a request in flight (the oldest one if none shows one within 3 s)."""
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        for proc in served.booted():
            if served.serving(proc):
                os.kill(proc.pid, signal.SIGKILL)
                return proc.pid, True
        time.sleep(0.002)
    victim = served.booted()[0]
    os.kill(victim.pid, signal.SIGKILL)
    return victim.pid, False


def _wait_replaced(served: Served, victim: int, timeout: float = 45) -> None:
    deadline = time.monotonic() + timeout
    while True:
        booted = [p.pid for p in served.booted()]
        if len(booted) == 2 and victim not in booted:
            return
        assert time.monotonic() < deadline, f"no worker replaced {victim}:\n{served.log()}"
        time.sleep(0.05)


def _stored(served: Served, tag: str) -> list[tuple[str, str]]:
    """(number, content) of every stored case with the test's marker."""
    with served.engine.connect() as conn:
        rows = conn.execute(sa.select(Case.number, Case.content).where(Case.content.like(f"%标记{tag}-%"))).all()
    return [tuple(r) for r in rows]


def test_worker_sigkilled_mid_request_client_retries_by_key_no_duplicate(served):
    tag = uuid.uuid4().hex[:8]
    client = Client(served, tag)
    step = N // (KILLS + 1)
    client.allow(step)
    for thread in client.threads:
        thread.start()
    kills, mid_request = [], 0
    try:
        for k in range(KILLS):
            client.wait_issued(k * step + step // 3, timeout=30)  # a third into the phase: requests in flight
            victim, serving = _kill_serving_worker(served)
            kills.append(victim)
            mid_request += serving
            _wait_replaced(served, victim)
            client.allow((k + 2) * step if k < KILLS - 1 else N)
    finally:
        client.allow(N)
        for thread in client.threads:
            thread.join(timeout=60)
    assert not any(t.is_alive() for t in client.threads), "the client did not finish"

    stored = _stored(served, tag)
    numbers = [n for n, _ in stored]
    markers = collections.Counter(content.rsplit("标记", 1)[1] for _, content in stored)
    duplicates = len(stored) - len(markers)
    lost = N - len(markers)
    t = client.tally
    five_xx = sum(n for status, n in client.statuses.items() if status >= 500)
    counts.report(
        f"gunicorn worker SIGKILL x{len(kills)} ({mid_request} with a request in flight) during {N} registrations: "
        f"{t['requests']} requests, {t['connection errors']} connection errors and {five_xx} × 5xx retried by key "
        f"({t['retries']} retries, {t['replayed']} answered by replay: stored before the kill), "
        f"{len(set(client.numbers.values()))} distinct numbers returned, {len(stored)} cases stored, "
        f"{duplicates} duplicates, {lost} lost"
    )
    assert client.failed == [], f"registrations that never got their 201: {client.failed[:5]}\n{served.log()}"
    assert client.statuses.get(500, 0) == 0, f"500 answers: {client.statuses}\n{served.log()}"
    assert len(kills) == KILLS and len(set(kills)) == KILLS
    assert t["connection errors"] > 0, "no kill hit a request in flight: the fault was not exercised"
    assert duplicates == 0 and lost == 0 and len(stored) == N
    assert len(set(numbers)) == N and set(numbers) == set(client.numbers.values())
