"""Redis killed during intake: every channel still accepts and stores the case; the numbers stay unique and
continue after Redis comes back empty or from an old snapshot; routing happens once Redis is back; login,
the citizen-file look-up, the portal status look-up and rating work meanwhile. Each test ends with a count."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from hotline.extensions import db
from hotline.jobs import ROUTE_CASES, enqueue
from hotline.models import Case, Category
from tests import counts
from tests.helpers import ApiClient, run_jobs
from tests.integration import portal_support
from tests.integration.ratings_support import invitation_tokens
from tests.integration.wechat_support import WeChatClient, reply_text

NUMBER = re.compile(r"GD\d{8}-\d{6,}")


def _phone() -> str:
    return "137" + f"{uuid.uuid4().int % 10**8:08d}"


class Intake:
    """Registers through the four channels of one app and tallies the answers."""

    def __init__(self, app, tokens, tag: str):
        self.app, self.tag = app, tag
        self.client = app.test_client()
        self.api = ApiClient(self.client, tokens["agent1"])
        self.api_key = tokens["agent1"]
        self.wechat = WeChatClient(app.test_client())
        self.accepted = self.errors_5xx = self.sent = 0
        self.refused: list = []
        with app.app_context():
            self.service = str(db.session.scalar(sa.select(Category.id).where(Category.level == 2).limit(1)))

    def _text(self, channel: str, i: int) -> str:
        return f"{channel}渠道反映：小区门口路灯不亮好几天了，晚上出行不便，请尽快维修。标记{self.tag}-{channel}-{i}"

    def _tally(self, ok: bool, status: int, detail) -> None:
        self.sent += 1
        self.accepted += ok
        self.errors_5xx += status >= 500
        if not ok:
            self.refused.append((status, str(detail)[:300]))

    def rest(self, i: int) -> None:
        body = {"channel": "phone", "kind": "help", "content": self._text("rest", i), "citizen_phone": _phone()}
        resp = self.api.post("/cases", json=body)
        self._tally(resp.status_code == 201, resp.status_code, resp.get_data(as_text=True))

    def portal(self, i: int) -> None:
        client = self.app.test_client()
        data = portal_support.fill(client, _phone(), self._text("portal", i))
        resp = portal_support.submit(client, data)
        ok = resp.status_code == 303 and "/portal/done/" in resp.headers.get("Location", "")
        self._tally(ok, resp.status_code, resp.get_data(as_text=True))

    def wechat_message(self, i: int) -> None:
        status, body = self.wechat.encrypted(
            f"o-{self.tag}-{i}", self._text("wechat", i), int(uuid.uuid4().int % 10**15)
        )
        self._tally(status == 200 and bool(NUMBER.search(reply_text(body))), status, body)

    def open311(self, i: int) -> None:
        data = {
            "api_key": self.api_key,
            "service_code": self.service,
            "address_string": "人民路88号",
            "description": self._text("open311", i),
            "phone": _phone(),
        }
        resp = self.client.post("/open311/v2/requests.json", data=data)
        self._tally(resp.status_code == 201, resp.status_code, resp.get_data(as_text=True))

    def each_channel(self, n: int) -> None:
        for i in range(n):
            self.rest(i)
            self.portal(i)
            self.wechat_message(i)
            self.open311(i)

    def stored(self) -> list[tuple[str, bool]]:
        """(number, routing_pending) of the cases this run stored, by their tag."""
        with self.app.app_context():
            rows = db.session.execute(
                sa.select(Case.number, Case.routing_pending).where(Case.content.like(f"%标记{self.tag}-%"))
            ).all()
            db.session.rollback()
        return [tuple(r) for r in rows]


def _today_head(app) -> str:
    return "GD" + datetime.now(ZoneInfo(app.config["HOTLINE"].timezone)).strftime("%Y%m%d") + "-"


def test_redis_killed_during_intake_every_channel_stores_and_routing_follows(fault_app, redis_server, tokens):
    intake = Intake(fault_app, tokens, uuid.uuid4().hex[:8])
    intake.each_channel(2)  # Redis up: the app's clients are connected
    redis_server.stop()  # killed: every key lost (no persistence)

    down = Intake(fault_app, tokens, intake.tag + "d")
    down.each_channel(15)
    stored = down.stored()
    counts.report(
        f"redis-down intake (REST, portal, WeChat, Open311): {down.sent} sent, {down.accepted} accepted, "
        f"{len(stored)} stored, {down.accepted - len(stored)} lost, {down.errors_5xx} × 5xx"
    )
    assert down.refused == [] and down.errors_5xx == 0
    assert len(stored) == down.accepted == down.sent
    assert all(pending for _number, pending in stored), "not routed while Redis is down: still marked pending"

    health = fault_app.test_client().get("/healthz")
    assert health.status_code == 503 and health.headers["Retry-After"]
    assert health.get_json()["status"] == "degraded"
    assert (health.get_json()["database"], health.get_json()["redis"]) == ("ok", "unavailable")
    assert fault_app.test_client().get("/healthz?required=database").status_code == 200  # still takes cases

    redis_server.start()  # back, empty: no counter, no queued job, no wake-up key
    after = Intake(fault_app, tokens, intake.tag + "a")
    after.each_channel(5)
    numbers = [n for n, _ in intake.stored() + stored + after.stored()]
    counts.report(
        f"redis back empty: {after.sent} sent, {after.accepted} accepted, {after.errors_5xx} × 5xx, "
        f"{len(numbers) - len(set(numbers))} duplicate numbers of {len(numbers)}"
    )
    assert after.refused == [] and after.errors_5xx == 0
    assert len(set(numbers)) == len(numbers)
    outage_max = max(n for n, _ in stored)
    assert min(n for n, _ in after.stored()) > outage_max  # continues after the outage's numbers

    with fault_app.app_context():
        enqueue(ROUTE_CASES)  # what the scheduler's every-minute run of route_cases does
    run_jobs(fault_app)
    pending = [n for n, p in down.stored() + after.stored() if p]
    counts.report(f"routing after redis returned: {len(stored) - len(pending)} of {len(stored)} outage cases routed")
    assert pending == []
    assert fault_app.test_client().get("/healthz").get_json()["status"] == "ok"


def test_redis_restored_from_an_old_snapshot_never_repeats_a_number(fault_app, redis_server, tokens):
    intake = Intake(fault_app, tokens, uuid.uuid4().hex[:8])
    for i in range(5):
        intake.rest(i)
    highest = max(n for n, _ in intake.stored())
    redis_server.stop()
    redis_server.start()
    # what a snapshot taken 300 registrations ago holds (the Redis counter of earlier versions)
    head = _today_head(fault_app)
    redis_server.client().set(f"hotline:case_seq:{head}", max(0, int(highest[len(head) :]) - 300))
    later = Intake(fault_app, tokens, intake.tag + "s")
    for i in range(50):
        later.rest(i)
    numbers = [n for n, _ in later.stored()]
    counts.report(
        f"redis from an old snapshot (counter 300 behind): {later.sent} registrations, {later.accepted} accepted, "
        f"{later.errors_5xx} × 5xx, {len(numbers) - len(set(numbers))} duplicate numbers"
    )
    assert later.errors_5xx == 0 and later.accepted == later.sent == len(numbers)
    assert len(set(numbers)) == len(numbers) and min(numbers) > highest


def test_login_lookup_status_and_rating_work_with_redis_down(fault_app, redis_server, tokens, api, make_case):
    phone = _phone()
    case = make_case("replied", phone=phone)  # through the session app: an invitation in the outbox
    [token] = invitation_tokens(api, case.number)
    redis_server.stop()
    answers: list[tuple[str, int]] = []

    client = fault_app.test_client()
    csrf = portal_support.hidden(client.get("/login").get_data(as_text=True), "csrf_token")
    login = client.post(
        "/login",
        data={"username": "agent1", "password": "hotline12345", "csrf_token": csrf},
        environ_base={"REMOTE_ADDR": "10.9.0.1"},
    )
    answers.append(("login", login.status_code))
    assert login.status_code == 302, login.get_data(as_text=True)[:500]
    assert client.get(login.headers["Location"]).status_code == 200  # the console, as the logged-in agent

    lookup = ApiClient(fault_app.test_client(), tokens["agent1"]).get(f"/citizens/lookup?phone={phone}")
    answers.append(("citizen look-up", lookup.status_code))
    assert lookup.status_code == 200 and lookup.get_json()["found"] is True

    portal = fault_app.test_client()
    csrf = portal_support.csrf_of(portal, "/portal/status")
    status = portal.post("/portal/status", data={"csrf_token": csrf, "number": case.number, "phone": phone})
    answers.append(("portal status", status.status_code))
    assert status.status_code == 200 and case.number in status.get_data(as_text=True)

    page = fault_app.test_client().get(f"/r/{token}")
    answers.append(("rating page", page.status_code))
    assert page.status_code == 200
    rated = fault_app.test_client().post("/api/v1/ratings", json={"token": token, "score": 5, "resolved": True})
    answers.append(("rating", rated.status_code))
    assert rated.status_code == 201, rated.get_json()

    # the limits still hold, per process in memory: login is limited to 5 a minute for one address
    guesser = fault_app.test_client()
    csrf = portal_support.hidden(guesser.get("/login").get_data(as_text=True), "csrf_token")
    wrong = {"username": "agent1", "password": "wrong", "csrf_token": csrf}
    bad = [guesser.post("/login", data=wrong, environ_base={"REMOTE_ADDR": "10.9.0.2"}).status_code for _ in range(6)]
    assert bad[:5] == [200] * 5 and bad[5] == 429
    counts.report(
        "redis down, citizen and staff paths: "
        + ", ".join(f"{name} {code}" for name, code in answers)
        + f"; login limit kept in memory ({bad.count(429)} × 429 after 5)"
    )
