"""Broker outage with connected Socket.IO clients: a Redis server of our own (port 6393) behind two web processes;
events are produced on one, clients listen on the other, while the listener's Redis connection is killed
(``CLIENT KILL TYPE pubsub``) and Redis is restarted. A client that follows the documented protocol ends with
every event; one that only listens does not (that is the outage being real)."""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid

import pytest
import redis
import requests

from hotline.seed.city import DEMO_PASSWORD
from tests import counts
from tests.e2e.browser import browser, chromium_path, login  # noqa: F401 — fixture
from tests.e2e.conftest import LiveStack
from tests.e2e.console_protocol import ProtocolClient

pytestmark = pytest.mark.faults  # also a fault test (``pytest -m faults``): it kills its own Redis mid-test
PORT = 6393
PHASE = 50  # cases per phase, 4 phases


class OwnRedis:
    def __init__(self, folder):
        self.folder, self.proc = folder, None
        self.client = redis.Redis(port=PORT, socket_connect_timeout=1)

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server not installed")
        args = [binary, "--port", str(PORT), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.proc = subprocess.Popen([*args, "--dir", str(self.folder)], stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if self.client.ping():
                    return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture(scope="module")
def outage_stack(tmp_path_factory):
    folder = tmp_path_factory.mktemp("outage")
    own = OwnRedis(folder)
    own.start()
    live = LiveStack(folder)
    live.env.update(REDIS_URL=f"redis://127.0.0.1:{PORT}/0", HOTLINE_CONSOLE_HEARTBEAT_SECONDS="1")
    try:
        live.flask("db", "upgrade")
        live.flask("seed", "--demo")
        live.start_web("web", live.port)
        second = live.start_web("web2")
        yield live, second, own
    finally:
        live.stop()
        own.stop()


def _register(url: str, token: str, tag: str) -> str:
    body = {
        "channel": "phone",
        "kind": "help",
        "content": f"路灯不亮，晚上出行不便，请尽快维修（{tag}）",
        "citizen_phone": "137" + f"{uuid.uuid4().int % 10**8:08d}",
        "citizen_name": "孙八",
    }
    resp = requests.post(url + "/api/v1/cases", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert resp.status_code == 201, resp.text
    return resp.json()["number"]


def _wait(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def test_broker_outage_a_client_following_the_protocol_misses_nothing(outage_stack, request):
    live, listen_url, own = outage_stack
    producer = live.token("agent1")
    follower = ProtocolClient(listen_url, live.token("agent2"))
    naive = ProtocolClient(listen_url, live.token("agent3"), follow=False)
    page = _browser_page(request, listen_url)
    made: list[str] = []
    try:
        made += [_register(live.url, producer, f"A{i}") for i in range(PHASE)]  # all well
        own.client.execute_command("CLIENT", "KILL", "TYPE", "pubsub")  # the listeners' connections drop
        made += [_register(live.url, producer, f"B{i}") for i in range(PHASE)]
        own.stop()  # Redis itself goes away and comes back empty (no snapshot)
        time.sleep(0.5)
        own.start()
        made += [_register(live.url, producer, f"C{i}") for i in range(PHASE)]  # the listener is still retrying
        made += [_register(live.url, producer, f"D{i}") for i in range(PHASE)]
        expected = set(made)
        assert len(expected) == 4 * PHASE
        caught = _wait(lambda: expected <= follower.numbers(), timeout=30)
        seen = len(expected & follower.numbers())
        missed_naive = len(expected - naive.numbers())
        counts.report(
            f"broker outage: {len(expected)} events, {seen} seen by a client following the protocol, "
            f"{len(expected) - seen} missed"
        )
        stats = follower.stats
        counts.report(
            f"broker outage: the protocol client got {stats['live']} live and {stats['caught up']} caught up "
            f"({stats['trigger resync']} resync, {stats['trigger heartbeat']} heartbeat, {stats['fetches']} fetches, "
            f"{stats['duplicates']} duplicates dropped); a client only listening missed {missed_naive}"
        )
        assert caught, f"missed: {sorted(expected - follower.numbers())[:10]}"
        assert missed_naive > 0, "the outage lost nothing live: the test did not exercise the catch-up"
        cursors = sorted(c for c, (kind, _d, _h) in follower.events.items() if kind == "case.created")
        assert len(cursors) == len(set(cursors))  # each event applied once
        if page is not None:
            _check_page(page, expected)
    finally:
        follower.close()
        naive.close()


def _browser_page(request, url: str):
    """The real page (static/js/realtime.js) on the console of agent2, recording what it applies; None when
    Chromium is not installed."""
    try:
        chromium_path()
    except pytest.skip.Exception:
        return None
    instance = request.getfixturevalue("browser")
    page = login(instance, url, "agent2", DEMO_PASSWORD)
    page.wait_for_selector("#live-status[data-state=up]", timeout=15000)
    page.evaluate(
        """() => { window.__cases = {}; document.addEventListener("hotline:case", (e) => {
             if (e.detail.event !== "case.created") return;
             window.__cases[e.detail.number] = e.detail.missed ? "caught up" : "live";
           }); }"""
    )
    return page


def _check_page(page, expected: set[str]) -> None:
    def applied():
        return page.evaluate("() => window.__cases")

    _wait(lambda: expected <= set(applied()), timeout=30)
    got = applied()
    missed = len(expected - set(got))
    caught = sum(1 for n in expected if got.get(n) == "caught up")
    counts.report(
        f"broker outage, Chromium console page: {len(expected)} events, {len(expected) - missed} applied "
        f"({caught} caught up), {missed} missed"
    )
    assert missed == 0
