"""The routing queue: registration marks the case and wakes one job after the commit; the job routes every
pending case once (suggestions, duplicate keys, auto-dispatch), skips closed ones, survives a failing case,
and two jobs at once route each case exactly once."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from rq import Queue

from hotline.extensions import connect_redis, db
from hotline.models import Case, CaseDupKey, CaseRouting
from tests.helpers import at_once, new_case, run_jobs
from tests.integration.sla_support import SocketCapture


def _phone() -> str:
    return "136" + f"{uuid.uuid4().int % 10**8:08d}"


def _text(topic: str) -> str:
    return f"{topic}，已经好几天了，请有关部门尽快处理{uuid.uuid4().hex[:6]}"


def _row(app, number: str) -> tuple[bool, int, int]:
    """(routing_pending, routing rows, duplicate-check keys) of a case."""
    with app.app_context():
        case = db.session.scalar(sa.select(Case).where(Case.number == number))
        rows = db.session.scalar(
            sa.select(sa.func.count()).select_from(CaseRouting).where(CaseRouting.case_id == case.id)
        )
        keys = db.session.scalar(
            sa.select(sa.func.count()).select_from(CaseDupKey).where(CaseDupKey.case_id == case.id)
        )
        return case.routing_pending, rows, keys


def _route(app) -> dict:
    from hotline.dispatch.routing_queue import route_pending

    with app.app_context():
        return route_pending()


def test_registration_wakes_one_job_which_routes_every_pending_case(app, api):
    run_jobs(app)  # start from an empty queue (earlier tests' wake-ups)
    redis = connect_redis(app.config["HOTLINE"])
    queue = Queue("routing", connection=redis)  # the routing job's queue (hotline/jobs)
    agent = api("agent1")
    created = [new_case(agent, _phone(), content=_text(t)) for t in ("路灯不亮", "井盖缺失", "垃圾没人清运")]
    for case in created:
        assert case["status"] == "registered"
        assert _row(app, case["number"])[:2] == (True, 0)  # waiting for the router, nothing stored yet
        assert agent.get(f"/cases/{case['number']}/routing").get_json()["pending"] is True
    assert queue.count == 1  # three registrations, one wake-up
    capture = SocketCapture(app)
    try:
        assert run_jobs(app) == 1
        updates = [e for e in capture.emits("case.updated") if e["data"]["action"] == "route"]
    finally:
        capture.close()
    for case in created:
        pending, rows, keys = _row(app, case["number"])
        assert (pending, rows) == (False, 1) and keys > 0
        assert agent.get(f"/cases/{case['number']}/routing").get_json()["pending"] is False
        body = agent.get(f"/cases/{case['number']}").get_json()
        assert body["version"] == case["version"]  # the queue mark never bumps the client's version
    routed = {e["data"]["number"] for e in updates if "role:dispatcher" in e["room"]}
    assert routed == {c["number"] for c in created}
    # nothing left: the job run by the scheduler finds nothing and stores nothing twice
    assert _route(app)["routed"] == 0
    assert all(_row(app, c["number"])[1] == 1 for c in created)


def test_a_case_closed_before_routing_is_skipped(app, api):
    agent = api("agent1")
    case = new_case(agent, _phone(), kind="consult", content=_text("咨询公积金提取"))
    assert (
        agent.post(f"/cases/{case['number']}/answer", json={"answer": "可携带身份证到公积金中心办理"}).status_code
        == 200
    )
    assert agent.get(f"/cases/{case['number']}").get_json()["status"] == "closed"
    run_jobs(app)
    assert _row(app, case["number"]) == (False, 0, 0)  # no suggestions, no duplicate-check keys


def test_a_case_dispatched_by_hand_first_keeps_its_unit(app, api):
    from tests.integration.test_dispatch_routing import settings

    agent, dispatcher = api("agent1"), api("dispatcher1")
    case = new_case(agent, _phone(), content=_text("小区电梯坏了"), category="城乡建设")
    done = dispatcher.post(f"/cases/{case['number']}/dispatch", json={"department_code": "ZJJ"}).get_json()
    with settings(app, auto_dispatch=True, auto_dispatch_threshold=0.0):
        run_jobs(app)
    after = agent.get(f"/cases/{case['number']}").get_json()
    assert after["department_code"] == "ZJJ" and after["version"] == done["version"]
    assert [e["action"] for e in after["events"]].count("dispatch") == 1
    assert _row(app, case["number"])[:2] == (False, 1)


def test_a_failing_case_does_not_block_the_others(app, api):
    from hotline.dispatch.duplicates import scopes_of
    from routing.duplicates import band_keys

    agent = api("agent1")
    bad, good = (new_case(agent, _phone(), content=_text(t)) for t in ("噪音扰民", "道路积水"))
    with app.app_context():  # the bad case's keys are already there: storing them again violates the key
        case = db.session.scalar(sa.select(Case).where(Case.number == bad["number"]))
        keys = {k for scope in scopes_of(case.district) for k in band_keys(case.content, scope)}
        db.session.execute(sa.insert(CaseDupKey), [{"key": k, "case_id": case.id} for k in keys])
        db.session.commit()
    counts = _route(app)
    assert counts["failed"] == 1 and counts["routed"] >= 1
    assert _row(app, good["number"])[:2] == (False, 1)
    stored = agent.get(f"/cases/{bad['number']}/routing").get_json()
    assert stored["note"] == "自动分拨出错，请人工派单" and stored["suggestions"] == []
    assert _row(app, bad["number"])[0] is False  # not retried forever


def test_two_jobs_at_once_route_each_case_once(app, api):
    agent = api("agent1")
    created = [new_case(agent, _phone(), content=_text(f"第{i}号楼前停车难")) for i in range(12)]
    from hotline.dispatch.routing_queue import route_pending

    results = at_once(app, lambda: route_pending(batch=3))
    assert sum(r["routed"] for r in results) >= len(created)
    for case in created:
        assert _row(app, case["number"])[:2] == (False, 1)


def test_keys_older_than_the_window_are_pruned(app, api):
    from datetime import UTC, datetime, timedelta

    from workers.jobs.routing import prune_dup_keys

    agent = api("agent1")
    old, recent = (new_case(agent, _phone(), content=_text(t)) for t in ("树枝压断电线", "广场舞噪音"))
    run_jobs(app)
    window = app.config["HOTLINE"].duplicate_window_days
    with app.app_context():  # the first was registered before the window (an open case of long ago)
        db.session.execute(
            sa.update(Case)
            .where(Case.number == old["number"])
            .values(created_at=datetime.now(UTC) - timedelta(days=window + 1))
        )
        db.session.commit()
    assert _row(app, old["number"])[2] > 0 and _row(app, recent["number"])[2] > 0
    with app.app_context():
        assert prune_dup_keys() > 0
        assert prune_dup_keys() == 0  # idempotent
    assert _row(app, old["number"])[2] == 0 and _row(app, recent["number"])[2] > 0


def test_the_place_found_by_routing_keeps_the_agents_version(app, api):
    """Routing fills in the street the text names; the agent's version from the registration stays valid
    (routing is nobody's edit), so the agent's next action is not refused as stale."""
    agent = api("agent1")
    case = new_case(
        agent, _phone(), kind="consult", content=_text("和平街道和平路的路灯不亮"), district_code=None, address=None
    )
    assert case["district_code"] is None
    assert _route(app)["routed"] >= 1
    routed = agent.get(f"/cases/{case['number']}").get_json()
    assert routed["district_code"] == "D01S01" and routed["version"] == case["version"]
    answered = agent.post(
        f"/cases/{case['number']}/answer", json={"answer": "已转告路灯管理所", "version": case["version"]}
    )
    assert answered.status_code == 200, answered.get_json()
    assert answered.get_json()["status"] == "closed"


def test_a_long_backlog_is_handed_to_a_follow_up_job(app, api):
    """A job that has used its time budget stops after a whole batch and queues the next job itself."""
    from hotline.dispatch.routing_queue import route_pending
    from hotline.jobs import ROUTER_WAKE_KEY as WAKE_KEY

    agent = api("agent1")
    run_jobs(app)  # nothing pending from earlier tests: the one batch below takes the first of these cases
    created = [new_case(agent, _phone(), content=_text(f"{i}号井盖缺失")) for i in range(3)]
    with app.app_context():
        redis = connect_redis(app.config["HOTLINE"])
        queue = Queue("routing", connection=redis)  # the routing job's queue (hotline/jobs)
        queue.empty()  # the job the registrations queued: this test runs the queue itself
        redis.delete(WAKE_KEY)
        counts = route_pending(batch=1, max_seconds=0)
        assert (counts["batches"], counts["routed"], counts["failed"], counts["more"]) == (1, 1, 0, True)
        assert queue.count == 1 and redis.exists(WAKE_KEY)
    assert sorted(_row(app, c["number"])[0] for c in created) == [False, True, True]
    run_jobs(app)  # the follow-up job routes the rest
    assert [_row(app, c["number"])[:2] for c in created] == [(False, 1)] * 3


def test_reports_of_one_matter_routed_by_two_jobs_at_once_find_each_other(app, api):
    """PostgreSQL: another job has routed a report (its keys stored, nothing committed) and is committing (its
    turn taken, its batch recorded) when a second job routes a report of the same matter. The second job's
    look-up cannot see the first report; at its own commit it waits for its turn and then lists the first
    report as a duplicate, found among the cases of the batch committed meanwhile."""
    import threading
    import time
    from datetime import UTC, datetime

    from hotline.dispatch.duplicates import remember
    from hotline.dispatch.routing_queue import commit_turn, last_batch

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite's jobs take turns with the write lock")
    agent = api("agent1")
    run_jobs(app)  # nothing pending from earlier tests
    text = "幸福路18号小区门口的自来水管爆裂了，水流满地，请尽快派人抢修"
    first = new_case(agent, _phone(), content=text)
    second = new_case(agent, _phone(), content=text + "，已经流了一个小时")
    with app.app_context():
        other = db.session.scalar(sa.select(Case).where(Case.number == first["number"]))
        db.session.execute(sa.update(Case).where(Case.id == other.id).values(routing_pending=False))
        remember(other)
        commit_turn([other.id], last_batch(), datetime.now(UTC))  # the other job, about to commit
        done: dict = {}
        job = threading.Thread(target=lambda: done.update(counts=_route(app)))
        job.start()
        time.sleep(1.0)  # the job has routed the second report and waits for its turn
        db.session.commit()
        job.join(60)
    assert done["counts"]["routed"] == 1
    found = agent.get(f"/cases/{second['number']}/routing").get_json()["duplicates"]
    assert first["number"] in {d["number"] for d in found}


def test_routing_batches_older_than_a_day_are_pruned(app):
    from datetime import UTC, datetime, timedelta

    from hotline.models import RoutingBatch
    from workers.jobs.routing import prune_dup_keys

    now = datetime.now(UTC)
    with app.app_context():
        old = RoutingBatch(case_ids=[1], created_at=now - timedelta(days=2))
        new = RoutingBatch(case_ids=[2], created_at=now - timedelta(hours=1))
        db.session.add_all([old, new])
        db.session.commit()
        old_id, new_id = old.id, new.id
        prune_dup_keys(now)
        kept = set(db.session.scalars(sa.select(RoutingBatch.id).where(RoutingBatch.id.in_([old_id, new_id]))))
    assert kept == {new_id}


def test_a_burst_routed_by_two_jobs_in_small_batches_links_every_pair(app, api):
    """Six reports of one matter, two jobs at once, two cases per batch: for every pair of reports, one of
    the two lists the other as a likely duplicate, whichever jobs and batches they were routed in."""
    from hotline.dispatch.routing_queue import route_pending

    agent = api("agent1")
    run_jobs(app)
    text = "光明路66号门口的路灯已经坏了一个星期，晚上一片漆黑，行人容易摔倒"
    created = [new_case(agent, _phone(), content=text + "，请尽快修理" + "！" * i) for i in range(6)]
    results = at_once(app, lambda: route_pending(batch=2))
    assert sum(r["routed"] for r in results) == 6
    listed = {
        c["number"]: {d["number"] for d in agent.get(f"/cases/{c['number']}/routing").get_json()["duplicates"]}
        for c in created
    }
    numbers = [c["number"] for c in created]
    unlinked = [
        (a, b) for i, a in enumerate(numbers) for b in numbers[i + 1 :] if a not in listed[b] and b not in listed[a]
    ]
    assert not unlinked
