"""gunicorn with the committed gunicorn.conf.py (preload): the master loads the app and the routing model once,
two workers share them copy-on-write and open their own database and Redis connections after the fork."""

from __future__ import annotations

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import psutil
import pytest
import requests

from routing.classifier import train
from routing.model import model_path
from tests.e2e.conftest import ROOT, LiveStack
from tests.unit.test_routing_classifier import LABELS, TEXTS

BAD_LOG = ("Traceback", "SSL error", "connection already closed", "unexpected response", "InterfaceError")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    live = LiveStack(tmp_path_factory.mktemp("preload"))
    live.flask("db", "upgrade")
    live.flask("seed", "--demo")
    train(TEXTS, LABELS).save(model_path(live.instance))
    token = live.token("agent1")
    logfile = live.logs / "gunicorn.log"
    with open(logfile, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{live.port}", "--log-level", "info"],
            cwd=ROOT,  # gunicorn reads ./gunicorn.conf.py: preload_app, wsgi:app, the fork hooks
            env=live.env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    live.procs["gunicorn"] = proc
    try:
        live.wait_http(name="gunicorn", timeout=60)
        deadline = time.monotonic() + 20
        while len(psutil.Process(proc.pid).children()) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        yield live, proc, token
    finally:
        live.stop()


def _round(url: str, token: str, n: int) -> list[int]:
    auth = {"Authorization": f"Bearer {token}"}
    body = {"channel": "phone", "kind": "complaint", "content": f"公司三个月没发工资（{n}）"}
    created = requests.post(url + "/api/v1/cases", json={**body, "citizen_phone": f"1370000{n:04d}"}, headers=auth)
    codes = [created.status_code]
    if created.ok:
        codes.append(requests.get(url + f"/api/v1/cases/{created.json()['number']}", headers=auth).status_code)
    # Redis: /healthz pings it, the suggestion reads the routing version from it
    codes.append(requests.get(url + "/healthz", timeout=10).status_code)
    suggested = requests.post(url + "/api/v1/routing/suggest", json={"content": "公交车太少了"}, headers=auth)
    codes.append(suggested.status_code if suggested.json().get("model_used") else 599)
    return codes


def test_workers_serve_with_their_own_connections(served):
    live, proc, token = served
    workers = psutil.Process(proc.pid).children()
    assert len(workers) == 2
    before = {p.pid: sum(p.cpu_times()[:2]) for p in workers}
    with ThreadPoolExecutor(max_workers=4) as pool:  # 4 at once on 2 sync workers: both serve
        rounds = list(pool.map(lambda n: _round(live.url, token, n), range(24)))
    codes = [c for r in rounds for c in r]
    assert all(c in (200, 201) for c in codes), codes
    assert len(codes) >= 24 * 4
    busy = [p.pid for p in workers if sum(p.cpu_times()[:2]) - before[p.pid] > 0.05]
    assert len(busy) == 2, f"only {busy} of {list(before)} served"
    assert {p.pid for p in psutil.Process(proc.pid).children()} == set(before)  # no worker died and came back
    log = (live.logs / "gunicorn.log").read_text()
    assert not [bad for bad in BAD_LOG if bad in log], log[-3000:]


def test_model_loaded_in_master_and_shared(served):
    live, proc, _token = served
    log = (live.logs / "gunicorn.log").read_text()
    warm = [line for line in log.splitlines() if "pre-fork warm-up" in line]
    assert warm and "routing model " in warm[0] and "none trained" not in warm[0], log[-3000:]
    assert "threads running in the gunicorn master" not in log
    for worker in psutil.Process(proc.pid).children():
        full = worker.memory_full_info()
        # the app, the model and jieba are the master's pages: a worker's own (USS) are a fraction of its RSS
        assert full.uss < full.rss / 2, (worker.pid, full)
