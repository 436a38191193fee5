"""A Redis that accepts connections but never answers (SIGSTOP: a stuck or swapping server, a half-dead network
path). Registrations must not wait for it one by one: the first best-effort call after the commit times out
(``REDIS_SOCKET_TIMEOUT``) and trips the per-process breaker, and the following registrations skip Redis until
its cool-down ends. Nothing is lost: the cases keep their ``routing_pending`` mark and are routed once Redis
answers again; login works meanwhile. Ends with a count."""

from __future__ import annotations

import os
import signal
import time
import uuid

import sqlalchemy as sa

from hotline.extensions import REDIS_SOCKET_TIMEOUT, db, redis_breaker
from hotline.jobs import ROUTE_CASES, enqueue
from hotline.models import Case
from tests import counts
from tests.helpers import ApiClient, run_jobs
from tests.integration import portal_support

CASES = 20


def _pid(redis_server) -> int:
    return int((redis_server.workdir / "redis.pid").read_text().strip())


def test_hung_redis_costs_one_timeout_not_one_per_registration(fault_app, redis_server, tokens):
    api = ApiClient(fault_app.test_client(), tokens["agent1"])
    tag = uuid.uuid4().hex[:8]
    pid = _pid(redis_server)
    skipped_before = redis_breaker.skipped  # a count since the process started
    os.kill(pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        numbers, statuses = [], []
        for i in range(CASES):
            body = {
                "channel": "phone",
                "kind": "help",
                "content": f"路灯不亮，晚上出行不便，请尽快维修（{tag}-{i}）",
                "citizen_phone": f"137{uuid.uuid4().int % 10**8:08d}",
            }
            resp = api.post("/cases", json=body)
            statuses.append(resp.status_code)
            if resp.status_code == 201:
                numbers.append(resp.get_json()["number"])
        elapsed = time.monotonic() - started
        client = fault_app.test_client()
        csrf = portal_support.hidden(client.get("/login").get_data(as_text=True), "csrf_token")
        login = client.post(
            "/login",
            data={"username": "agent2", "password": "hotline12345", "csrf_token": csrf},
            environ_base={"REMOTE_ADDR": "10.9.7.2"},  # an address no other test uses
        )
    finally:
        os.kill(pid, signal.SIGCONT)
    skipped = redis_breaker.skipped - skipped_before
    counts.report(
        f"hung redis intake: {CASES} sent, {len(numbers)} stored, {sum(s >= 500 for s in statuses)} × 5xx, "
        f"{elapsed:.1f} s in all (one Redis timeout is {REDIS_SOCKET_TIMEOUT:g} s), {skipped} Redis calls skipped"
    )
    assert statuses == [201] * CASES
    # without the breaker every registration waits for the wake-up and the event publish (≥ 2 timeouts each,
    # 80 s here); with it they skip Redis (the time is in the count line: it depends on the machine's load)
    assert skipped >= CASES
    assert login.status_code == 302, login.get_data(as_text=True)[:300]

    with fault_app.app_context():
        pending = db.session.scalars(sa.select(Case.number).where(Case.number.in_(numbers), Case.routing_pending))
        assert set(pending) == set(numbers)  # stored, waiting for the router: nothing lost
        redis_breaker.reset()
        enqueue(ROUTE_CASES)  # the scheduler's every-minute run, Redis answering again
    run_jobs(fault_app)
    with fault_app.app_context():
        left = db.session.scalar(sa.select(sa.func.count()).where(Case.number.in_(numbers), Case.routing_pending))
    counts.report(f"hung redis, after it answered again: {len(numbers) - left} of {len(numbers)} cases routed")
    assert left == 0
