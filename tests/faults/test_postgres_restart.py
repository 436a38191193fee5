"""PostgreSQL restarted under intake: 503 + Retry-After meanwhile (never 500, never a hang), recovery within
seconds after it is back (``pool_pre_ping``), and nothing half-written.

Never the machine's shared cluster: the test starts a PostgreSQL of its own from the Debian binaries
(``/usr/lib/postgresql/*/bin``; as the ``postgres`` OS user when run as root) on a spare port, in a temp folder,
and a real ``gunicorn wsgi:app`` (gthread) on it (``REDIS_URL`` when set). Four client threads register cases
over HTTP, each with its own ``Idempotency-Key``, while the cluster is stopped (``pg_ctl stop -m fast``: open
transactions are cut off), left down 2 s and started again. Afterwards every refused registration is sent again
with its key (a 503 whose case had been committed is answered by replay, not a second case), and the cluster
is restarted once more while idle: the pools then hold only connections the restart closed, and every
registration right after must still succeed (``pool_pre_ping``). Then the database is checked: every 201 case
stored with its ``create`` timeline event, no event without its case, no idempotency key without its answer,
one case per registration.
"""

from __future__ import annotations

import collections
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from tests import counts
from tests.faults.support import Served
from tests.helpers import free_port

CLIENTS, DOWN_SECONDS, IDLE_AFTER = 4, 2.0, 24


class Cluster:
    """A throw-away PostgreSQL cluster (trust auth, fsync off) on a spare port, its socket in its own folder."""

    def __init__(self):
        tools = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not tools or not os.path.exists(Path(tools[-1]).parent / "initdb"):
            pytest.skip("PostgreSQL server binaries not installed (/usr/lib/postgresql/*/bin/initdb, pg_ctl)")
        self.bin = Path(tools[-1]).parent
        self.as_root = os.geteuid() == 0
        if self.as_root:  # initdb and postgres refuse to run as root
            if not shutil.which("runuser"):
                pytest.skip("running as root without runuser: cannot start PostgreSQL as the postgres user")
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                pytest.skip("running as root and no 'postgres' OS user to run PostgreSQL as")
        self.dir = Path(tempfile.mkdtemp(prefix="hf-pg-"))
        if self.as_root:
            os.chown(self.dir, owner.pw_uid, owner.pw_gid)
        self.data = self.dir / "data"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self.options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
        )

    def run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [str(self.bin / tool), *args]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=90, cwd=self.dir)
        assert not check or out.returncode == 0, f"{tool} {' '.join(args)}:\n{out.stdout}\n{out.stderr}"
        return out

    def init(self) -> None:
        self.run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8")
        self.start()

    def start(self) -> None:
        log = str(self.dir / "postgres.log")
        self.run("pg_ctl", "-D", str(self.data), "-l", log, "-w", "-t", "60", "-o", self.options, "start")

    def stop(self, mode: str = "fast", check: bool = True) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop", check=check)

    def close(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.stop("immediate", check=False)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture()
def cluster():
    own = Cluster()
    try:
        own.init()
        yield own
    finally:
        own.close()


@pytest.fixture()
def served(cluster):
    live = Served("pgrestart", cluster.url)
    try:
        live.prepare()
        live.start(workers=2, threads=4)
        yield live
    finally:
        live.close()


class Answer:
    __slots__ = ("body", "code", "ended", "error", "i", "key", "number", "replayed", "retry_after", "started", "status")


class Intake:
    """Registrations in threads until ``stop`` is set; one ``Answer`` per request."""

    def __init__(self, served: Served, tag: str):
        self.url, self.tag = served.url + "/api/v1/cases", tag
        self.headers = {"Authorization": f"Bearer {served.token}"}
        self.answers: list[Answer] = []
        self.lock, self.stop, self.next = threading.Lock(), threading.Event(), 0
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(CLIENTS)]

    def new(self) -> Answer:
        """A new registration, with its own key and marker."""
        with self.lock:
            i, self.next = self.next, self.next + 1
        answer = Answer()
        answer.i, answer.key = i, f"{self.tag}-{i}-{uuid.uuid4()}"
        answer.body = {
            "channel": "phone",
            "kind": "help",
            "content": f"小区路灯不亮，晚上出行不便，请尽快维修。标记{self.tag}-{i}-",
            "citizen_phone": f"138{(int(self.tag, 16) + i) % 10**8:08d}",
        }
        return answer

    def _run(self) -> None:
        while not self.stop.is_set():
            answer = self.send(self.new())
            with self.lock:
                self.answers.append(answer)
            if answer.status == 503:
                time.sleep(0.1)  # a client backs off (Retry-After says 5 s; the test needs the moment it is back)

    def send(self, answer: Answer) -> Answer:
        answer.started = time.monotonic()
        answer.status = answer.retry_after = answer.code = answer.number = answer.replayed = answer.error = None
        headers = {**self.headers, "Idempotency-Key": answer.key}
        try:
            resp = requests.post(self.url, json=answer.body, headers=headers, timeout=(5, 15))
        except requests.RequestException as exc:  # a hang (timeout) or the server gone
            answer.error = f"{type(exc).__name__}: {str(exc)[:200]}"
        else:
            answer.status = resp.status_code
            answer.retry_after = resp.headers.get("Retry-After")
            data = resp.json() if resp.headers.get("Content-Type", "").startswith("application/json") else {}
            answer.number = data.get("number")
            answer.code = (data.get("error") or {}).get("code")
            answer.replayed = resp.headers.get("Idempotent-Replayed") == "true"
        answer.ended = time.monotonic()
        return answer

    def taken(self) -> list[Answer]:
        with self.lock:
            return list(self.answers)

    def wait(self, ok, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not ok(self.taken()):
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            time.sleep(0.02)


def _half_written(served: Served, tag: str, numbers: set[str]) -> tuple[int, int, dict]:
    """(half-written rows, cases stored with the marker, stored markers counted) after the run."""
    marker = f"%标记{tag}-%"
    with served.engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT number, content FROM cases WHERE content LIKE :m"), {"m": marker}).all()
        no_create = conn.scalar(
            sa.text(
                "SELECT count(*) FROM cases c WHERE c.content LIKE :m AND NOT EXISTS "
                "(SELECT 1 FROM case_events e WHERE e.case_id = c.id AND e.action = 'create')"
            ),
            {"m": marker},
        )
        orphan_events = conn.scalar(
            sa.text(
                "SELECT count(*) FROM case_events e WHERE NOT EXISTS (SELECT 1 FROM cases c WHERE c.id = e.case_id)"
            )
        )
        keys = conn.execute(
            sa.text("SELECT status_code, case_number FROM idempotency_keys WHERE key LIKE :k"), {"k": f"{tag}-%"}
        ).all()
    stored_numbers = {n for n, _ in stored}
    keys_half = sum(1 for status, number in keys if status is None or number not in stored_numbers)
    missing = len(numbers - stored_numbers)  # answered 201, not stored
    markers = collections.Counter(content.rsplit("标记", 1)[1] for _, content in stored)
    return no_create + orphan_events + keys_half + missing, len(stored), markers


def test_postgres_restart_is_503_then_recovers_and_nothing_is_half_written(cluster, served):
    tag = uuid.uuid4().hex[:8]
    intake = Intake(served, tag)
    for thread in intake.threads:
        thread.start()
    try:
        intake.wait(lambda a: sum(x.status == 201 for x in a) >= 20, 60, "20 registrations before the restart")
        cluster.stop("fast")  # open transactions cut off, then connections refused
        time.sleep(DOWN_SECONDS)
        cluster.start()
        up = time.monotonic()
        intake.wait(
            lambda a: any(x.status == 201 and x.started >= up for x in a), 30, "a registration after the restart"
        )
        first_ok = min(x.ended for x in intake.taken() if x.status == 201 and x.started >= up)
        time.sleep(1.5)  # registrations keep succeeding
    finally:
        intake.stop.set()
        for thread in intake.threads:
            thread.join(timeout=30)
    answers = intake.taken()
    assert not any(t.is_alive() for t in intake.threads), "a client thread hung"
    by_status = collections.Counter(a.status for a in answers)
    hangs = [a.error for a in answers if a.error]
    refused = [a for a in answers if a.status == 503]
    bad_503 = [a for a in refused if a.code != "service_unavailable" or not (a.retry_after or "").isdigit()]
    others = {s: n for s, n in by_status.items() if s not in (201, 503)}
    recovered = first_ok - up
    outage = max(a.ended for a in refused) - min(a.started for a in refused) if refused else 0.0
    late = [a.status for a in answers if a.started > first_ok and a.status != 201]

    # the client's part: every refused registration again with its key, now that the database is back
    for answer in refused:
        intake.send(answer)
    replayed = sum(bool(a.replayed) for a in refused)
    unanswered = [(a.status, a.error) for a in refused if a.status != 201]

    # a restart while idle: the pools hold connections the restart closed; pool_pre_ping replaces them unseen
    cluster.stop("fast")
    cluster.start()
    with ThreadPoolExecutor(CLIENTS) as pool:
        idle = list(pool.map(intake.send, [intake.new() for _ in range(IDLE_AFTER)]))
    idle_status = collections.Counter(a.status or a.error for a in idle)
    registered = answers + idle

    numbers = {a.number for a in registered if a.status == 201}
    half, stored, markers = _half_written(served, tag, numbers)
    counts.report(
        f"postgres restart (fast stop, {DOWN_SECONDS:.0f} s down): {len(answers)} registrations, "
        f"{by_status[201]} × 201, {len(refused)} × 503 + Retry-After (for {outage:.1f} s), "
        f"{by_status.get(500, 0)} × 500, {len(hangs)} hung, recovered {recovered:.2f} s after it was back, "
        f"{half} half-written"
    )
    counts.report(
        f"postgres restarted while idle: the next {len(idle)} registrations "
        + ", ".join(f"{n} × {status}" for status, n in sorted(idle_status.items(), key=str))
    )
    counts.report(
        f"postgres restart, the {len(refused)} refused sent again by key: {replayed} replayed (committed before "
        f"the connection was cut), {stored} cases stored, {stored - len(markers)} duplicates, "
        f"{len(registered) - len(markers)} lost"
    )
    assert hangs == [], hangs[:5]
    assert others == {}, f"answers other than 201/503: {others}\n{served.log()}"
    assert refused, "no registration met the outage: the fault was not exercised"
    assert bad_503 == [], [(a.code, a.retry_after) for a in bad_503[:5]]
    assert recovered < 10, f"registrations failed for {recovered:.1f} s after PostgreSQL was back"
    assert late == [], f"refused after recovery: {late}"
    assert idle_status == {201: IDLE_AFTER}, f"after an idle restart: {idle_status}"
    assert half == 0
    assert unanswered == [], unanswered[:5]
    assert stored == len(markers) == len(registered) == len(numbers)
