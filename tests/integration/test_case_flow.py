"""The whole slice over HTTP: register → dispatch → sign → contact → reply → close, and the return loop."""

from __future__ import annotations

import sqlalchemy as sa

from tests import counts
from tests.helpers import new_case, run_jobs


def test_full_flow_timeline_and_isolation(app, api, phone):
    agent, dispatcher, handler = api("agent1"), api("dispatcher1"), api("handler_zjj")
    case = new_case(agent, phone)
    number = case["number"]
    assert case["status"] == "registered"
    assert number.startswith("GD") and len(number) == len("GD20261122-000123")
    assert case["citizen"]["phone"] == phone[:3] + "****" + phone[-4:]

    resp = dispatcher.post(f"/cases/{number}/dispatch", json={"department_code": "ZJJ", "role": "lead"})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["status"] == "dispatched" and body["department_code"] == "ZJJ"
    assert body["deadlines"]["sign"] and body["deadlines"]["reply"]
    assert body["assignments"][0]["deadlines"]["reply"] == body["deadlines"]["reply"]

    # a department user may not dispatch; another department cannot see the case
    assert handler.post(f"/cases/{number}/dispatch", json={"department_code": "SHJ"}).status_code == 403
    assert api("handler_shj").get(f"/cases/{number}").status_code == 404  # isolation: not even its existence
    listed = api("handler_shj").get("/cases?status=dispatched").get_json()["items"]
    assert number not in [c["number"] for c in listed]
    assert number in [c["number"] for c in handler.get("/cases?status=dispatched").get_json()["items"]]

    assert handler.post(f"/cases/{number}/sign", json={}).get_json()["status"] == "handling"
    second = handler.post(f"/cases/{number}/sign", json={})
    assert second.status_code == 422
    assert second.get_json()["error"]["code"] == "already_signed"
    assert "签收" in second.get_json()["error"]["message"]

    resp = handler.post(f"/cases/{number}/contact", json={"note": "已电话联系市民，约定明天上门"})
    assert resp.status_code == 200
    resp = handler.post(f"/cases/{number}/reply", json={"content": "已责令餐馆安装油烟净化器。", "result": "resolved"})
    assert resp.get_json()["status"] == "replied"
    resp = agent.post(f"/cases/{number}/close", json={"note": "回访满意"})
    assert resp.status_code == 200
    final = resp.get_json()
    assert final["status"] == "closed" and final["closed_at"]

    steps = [(e["action"], e["from"], e["to"], e["actor"]) for e in final["events"]]
    assert steps == [
        ("create", None, "registered", "agent1"),
        ("dispatch", "registered", "dispatched", "dispatcher1"),
        ("sign", "dispatched", "handling", "handler_zjj"),
        ("contact", "handling", "handling", "handler_zjj"),
        ("reply", "handling", "replied", "handler_zjj"),
        ("rating_invite", "replied", "replied", None),  # 好差评: the reply and a rating link sent to the citizen
        ("close", "replied", "closed", "agent1"),
    ]
    assert all(e["at"] for e in final["events"])


def test_return_accept_and_redispatch(app, api, phone):
    agent, dispatcher = api("agent1"), api("dispatcher1")
    number = new_case(agent, phone, category="劳动和社会保障", content="工资被拖欠三个月，老板不接电话。")["number"]
    dispatcher.post(f"/cases/{number}/dispatch", json={"department_code": "SHJ"})
    reason = "欠薪问题不属于生态环境局职责，应由人社局办理"
    resp = api("handler_shj").post(f"/cases/{number}/return", json={"reason": reason})
    assert resp.get_json()["status"] == "returned"
    # the returned case is back in the dispatcher's list
    returned = dispatcher.get("/cases?status=returned").get_json()["items"]
    assert number in [c["number"] for c in returned]
    resp = dispatcher.post(
        f"/cases/{number}/return/decision",
        json={"accept": True, "department_code": "RSJ", "note": "同意退回，改派人社局"},
    )
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["status"] == "dispatched" and body["department_code"] == "RSJ"
    actions = [(e["action"], e["department_code"]) for e in body["events"]]
    assert actions[-3:] == [("dispatch", "SHJ"), ("return", "SHJ"), ("redispatch", "RSJ")]
    assert body["events"][-2]["note"].startswith("欠薪问题")
    assert api("handler_rsj").post(f"/cases/{number}/sign", json={}).get_json()["status"] == "handling"
    # the unit that returned it no longer reads the case, nor acts on it (docs/domain.md, isolation)
    assert api("handler_shj").post(f"/cases/{number}/sign", json={}).status_code == 404
    assert api("handler_shj").get(f"/cases/{number}").status_code == 404


def test_reject_return_sends_back_to_same_unit(app, api, phone):
    agent, dispatcher = api("agent1"), api("dispatcher1")
    number = new_case(agent, phone)["number"]
    dispatcher.post(f"/cases/{number}/dispatch", json={"department_code": "SHJ"})
    api("handler_shj").post(f"/cases/{number}/return", json={"reason": "不归我们管"})
    resp = dispatcher.post(
        f"/cases/{number}/return/decision", json={"accept": False, "note": "油烟扰民属于生态环境局职责"}
    )
    body = resp.get_json()
    assert body["status"] == "dispatched" and body["department_code"] == "SHJ"
    assert body["events"][-1]["action"] == "reject_return"
    assert body["events"][-1]["data"]["improper_return"] is True
    assert api("handler_shj").post(f"/cases/{number}/sign", json={}).get_json()["status"] == "handling"


def test_stale_version_is_409(app, api, phone):
    agent, dispatcher = api("agent1"), api("dispatcher1")
    case = new_case(agent, phone)
    stale = case["version"]
    assert (
        dispatcher.post(
            f"/cases/{case['number']}/dispatch", json={"department_code": "ZJJ", "version": stale}
        ).status_code
        == 200
    )
    resp = api("handler_zjj").post(f"/cases/{case['number']}/sign", json={"version": stale})
    assert resp.status_code == 409
    assert resp.get_json()["error"]["code"] == "stale_version"
    assert api("handler_zjj").get(f"/cases/{case['number']}").get_json()["status"] == "dispatched"


def test_concurrent_updates_one_wins(app, api, phone):
    """Two sessions read the same case, then both write: optimistic locking refuses the second."""
    from datetime import UTC, datetime

    from sqlalchemy.orm import Session
    from sqlalchemy.orm.exc import StaleDataError

    from hotline.extensions import db
    from hotline.models import Case

    number = new_case(api("agent1"), phone)["number"]
    with app.app_context():
        engine = db.engine
    s1, s2 = Session(engine, expire_on_commit=False), Session(engine, expire_on_commit=False)
    try:
        c1 = s1.scalar(sa.select(Case).where(Case.number == number))
        s1.commit()
        c2 = s2.scalar(sa.select(Case).where(Case.number == number))
        s2.commit()
        c1.status = c2.status = "closed"
        c1.closed_at = c2.closed_at = datetime.now(UTC)
        s1.commit()
        try:
            s2.commit()
            raise AssertionError("the stale write was accepted")
        except StaleDataError:
            s2.rollback()
    finally:
        s1.close()
        s2.close()
    counts.report(f"case-level stale write x2 ({engine.dialect.name}): 1 committed, 1 refused (StaleDataError)")


def test_dispatch_notifies_department_after_commit(app, api, phone):
    from hotline.extensions import db
    from hotline.models import Notification, OutboxMessage, User

    number = new_case(api("agent1"), phone)["number"]
    api("dispatcher1").post(f"/cases/{number}/dispatch", json={"department_code": "D01S01"})
    assert run_jobs(app) >= 1
    with app.app_context():
        outbox = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.text.contains(number))).all()
        assert outbox and all(m.status == "sent" for m in outbox)
        users = db.session.scalars(
            sa.select(User.username)
            .join(Notification, Notification.user_id == User.id)
            .where(Notification.text.contains(number))
        ).all()
    # the street's own users and its district's users (superior unit) get the notice
    assert {"handler_d01s01", "admin_d01s01", "handler_d01"} <= set(users)
    assert "handler_zjj" not in users
    # relaying again is harmless
    with app.app_context():
        from workers.jobs.outbox import relay_outbox

        relay_outbox()
        count = db.session.scalar(
            sa.select(sa.func.count()).select_from(Notification).where(Notification.text.contains(number))
        )
    assert count == len(users)


def test_agents_registering_the_same_new_caller_at_once_share_one_file(app, api, phone):
    """docs/architecture.md: two agents registering the same new caller at once must both succeed — one file."""
    import threading

    from hotline.citizens.phones import normalize
    from hotline.citizens.profile import phone_hash
    from hotline.extensions import db
    from hotline.models import Case, Citizen, CitizenPhone

    agents = [api(name) for name in ("agent1", "agent2", "agent3") for _ in range(2)]
    barrier, results = threading.Barrier(len(agents)), []
    with app.app_context():
        before = db.session.scalar(sa.select(sa.func.max(Citizen.id))) or 0

    def register(client):
        barrier.wait()
        resp = client.post(
            "/cases",
            json={
                "channel": "phone",
                "kind": "help",
                "content": "同一位市民几乎同时来电",
                "citizen_phone": phone,
                "citizen_name": "赵六",
            },
        )
        results.append((resp.status_code, resp.get_json()))

    threads = [threading.Thread(target=register, args=(client,)) for client in agents]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert [code for code, _ in results] == [201] * len(agents), results
    with app.app_context():
        digest = phone_hash(normalize(phone))
        rows = db.session.scalars(sa.select(CitizenPhone).where(CitizenPhone.phone_hash == digest)).all()
        assert len(rows) == 1
        numbers = [body["number"] for _, body in results]
        owners = set(db.session.scalars(sa.select(Case.citizen_id).where(Case.number.in_(numbers))))
        assert owners == {rows[0].citizen_id}
        created = db.session.scalars(sa.select(Citizen.id).where(Citizen.id > before)).all()
        assert created == [rows[0].citizen_id]  # the losers' fresh files were removed again
