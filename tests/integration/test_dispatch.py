"""Dispatch after routing: the return queue and improper returns, second-level dispatch by a district, emergency
transfer (also while the routing job writes), and merge (并单) moving the citizens. Routing itself:
test_dispatch_routing.py."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from tests.helpers import new_case, routed


def _phone() -> str:
    return "137" + f"{uuid.uuid4().int % 10**8:08d}"


def test_returned_case_reenters_the_queue_and_improper_returns_are_counted(app, api, phone):
    dispatcher, handler = api("dispatcher1"), api("handler_zjj")
    # 特急 sorts first: the queue shows the 200 most urgent, then oldest, of the whole suite's cases
    case = new_case(api("agent1"), phone, category="城乡建设", content="小区电梯经常坏，物业不修", urgency="emergency")
    number = case["number"]
    waiting = dispatcher.get("/routing/queue").get_json()
    assert number in [r["number"] for r in waiting["waiting"]]
    case = dispatcher.post(f"/cases/{number}/dispatch", json={"department_code": "ZJJ"}).get_json()
    assert number not in [r["number"] for r in dispatcher.get("/routing/queue").get_json()["waiting"]]
    before = {r["department_code"]: r for r in dispatcher.get("/routing/returns").get_json()["units"]}
    zjj_before = before.get("ZJJ", {"returns": 0, "improper_returns": 0})

    case = handler.post(f"/cases/{number}/return", json={"reason": "电梯维修归物业公司负责"}).get_json()
    queue = dispatcher.get("/routing/queue").get_json()
    row = next(r for r in queue["returned"] if r["number"] == number)
    assert row["returned_by"] == "ZJJ" and row["return_reason"] == "电梯维修归物业公司负责"
    # rejected: back to the same unit, counted as an improper return
    case = dispatcher.post(
        f"/cases/{number}/return/decision", json={"accept": False, "note": "属于贵单位监管职责"}
    ).get_json()
    assert case["status"] == "dispatched" and case["department_code"] == "ZJJ"
    after = {r["department_code"]: r for r in dispatcher.get("/routing/returns").get_json()["units"]}
    assert after["ZJJ"]["returns"] == zjj_before["returns"] + 1
    assert after["ZJJ"]["improper_returns"] == zjj_before["improper_returns"] + 1
    assert number not in [r["number"] for r in dispatcher.get("/routing/queue").get_json()["returned"]]


def test_district_redispatches_to_its_street(api, make_case):
    number = make_case("dispatched", unit="D01", category="城乡建设", content="路边垃圾堆积很多天没人清理").number
    district = api("handler_d01")
    assert district.post(f"/cases/{number}/sign").status_code == 200
    wrong = district.post(f"/cases/{number}/subdispatch", json={"department_code": "D02S01"})
    assert wrong.status_code == 422 and "不是" in wrong.get_json()["error"]["message"]
    resp = district.post(f"/cases/{number}/subdispatch", json={"department_code": "D01S01", "note": "请和平街道处理"})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["status"] == "dispatched" and body["department_code"] == "D01S01"
    assert [a["status"] for a in body["assignments"]] == ["delegated", "pending"]
    assert body["events"][-1]["action"] == "subdispatch"
    street = api("handler_d01s01")
    assert street.post(f"/cases/{number}/sign").get_json()["status"] == "handling"
    # the district no longer holds a task on it; the street itself cannot hand it on
    assert district.post(f"/cases/{number}/subdispatch", json={"department_code": "D01S02"}).status_code == 422
    assert street.post(f"/cases/{number}/subdispatch", json={"department_code": "D01S02"}).status_code == 403


def test_emergency_transfer_is_recorded_and_closes_the_case(app, api, phone):
    agent = api("agent1")
    case = routed(app, agent, new_case(agent, phone, content="楼下饭店着火了，浓烟很大，有人被困", category=None))
    stored = agent.get(f"/cases/{case['number']}/routing").get_json()
    assert stored["emergency"] == "119"
    bad = agent.post(f"/cases/{case['number']}/transfer", json={"number": "12345"})
    assert bad.status_code == 400 and "number" in bad.get_json()["error"]["fields"]
    resp = agent.post(f"/cases/{case['number']}/transfer", json={"number": "119", "note": "已三方通话转接"})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["status"] == "closed"
    assert body["events"][-1]["action"] == "transfer" and body["events"][-1]["note"].startswith("转119")
    assert agent.get(f"/cases/{case['number']}/routing").get_json()["transferred_to"] == "119"
    again = agent.post(f"/cases/{case['number']}/transfer", json={"number": "119"})
    assert again.status_code == 422


def test_an_emergency_transfer_while_the_routing_job_writes_the_routing_row(app, api, phone):
    """The routing job creates a case's routing row in its own transaction; an agent who transfers the
    emergency at that moment waits for it (PostgreSQL: the primary key of the uncommitted row; SQLite: the
    write lock) and then succeeds, keeping what the job wrote, instead of failing on the duplicate key."""
    import threading
    import time
    from datetime import UTC, datetime

    from hotline.extensions import db
    from hotline.models import Case, CaseRouting

    agent = api("agent1")
    case = new_case(agent, phone, content="厨房煤气泄漏，闻到很大的味道", category=None)  # not routed yet
    with app.app_context():
        case_id = db.session.scalar(sa.select(Case.id).where(Case.number == case["number"]))
        db.session.rollback()  # SQLite: this session's transaction would hold the write lock
        job = db.engine.connect()
        job_tx = job.begin()
        job.execute(
            sa.insert(CaseRouting.__table__).values(
                case_id=case_id,
                suggestions=[],
                auto=False,
                duplicates=[],
                emergency="119",
                note="路由任务写入",
                created_at=datetime.now(UTC),
            )
        )
        answer: dict = {}
        agent_thread = threading.Thread(
            target=lambda: answer.update(
                resp=agent.post(f"/cases/{case['number']}/transfer", json={"number": "119", "note": "三方通话"})
            )
        )
        agent_thread.start()
        time.sleep(0.5)  # the transfer is now waiting for the job's transaction
        job_tx.commit()
        job.close()
        agent_thread.join(60)
    assert answer["resp"].status_code == 200, answer["resp"].get_json()
    assert answer["resp"].get_json()["status"] == "closed"
    stored = agent.get(f"/cases/{case['number']}/routing").get_json()
    assert stored["transferred_to"] == "119" and stored["emergency"] == "119" and "路由任务写入" in stored["note"]


def test_merge_moves_the_citizens_and_keeps_both_timelines(app, api):
    from hotline.cases.citizens import case_citizens
    from hotline.extensions import db
    from hotline.models import Case

    agent, dispatcher = api("agent1"), api("dispatcher1")
    phones = [_phone(), _phone(), _phone()]
    master = new_case(agent, phones[0], content="光明小区3栋电梯困人后一直停用")
    dup = new_case(agent, phones[1], content="光明小区3栋电梯坏了一周没人修")
    dup2 = new_case(agent, phones[2], content="光明小区三栋电梯停运很久")
    # dup2 first merged into dup, then dup (with its citizen) into the master
    assert dispatcher.post(f"/cases/{dup2['number']}/merge", json={"into": dup["number"]}).status_code == 200
    resp = dispatcher.post(f"/cases/{dup['number']}/merge", json={"into": master["number"]})
    assert resp.status_code == 200, resp.get_json()
    merged = resp.get_json()
    assert merged["status"] == "merged"
    assert [e["action"] for e in merged["events"]][:1] == ["create"]
    assert {"create", "merged_in", "merge"} <= {e["action"] for e in merged["events"]}
    master_now = agent.get(f"/cases/{master['number']}").get_json()
    ins = [e for e in master_now["events"] if e["action"] == "merged_in"]
    assert ins and ins[-1]["note"] == f"{dup['number']} 并入本单" and master_now["events"][0]["action"] == "create"
    with app.app_context():
        row = db.session.scalar(sa.select(Case).where(Case.number == master["number"]))
        refs = case_citizens(row)
        assert [r.phone.masked for r in refs] == [
            agent.get(f"/cases/{n}").get_json()["citizen"]["phone"]
            for n in (master["number"], dup["number"], dup2["number"])
        ]
        assert [r.case_number for r in refs] == [master["number"], dup["number"], dup2["number"]]
    routing = agent.get(f"/cases/{master['number']}/routing").get_json()
    assert routing["merged"] == [dup["number"]] and len(routing["citizens"]) == 3
    follow = agent.get(f"/cases/{dup['number']}/routing").get_json()
    assert follow["merged_into"] == {"number": master["number"], "status": "registered"}
