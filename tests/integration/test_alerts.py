"""Risk alerts (hotline/alerts): clusters against their baseline, escalating repeat callers, late units; raised once,
with a notice to monitors and supervisors, the socket event alert.raised and GET /api/v1/alerts."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import sqlalchemy as sa

from tests.helpers import run_jobs

CATEGORY = "城乡建设/城市建设和市政管理/燃气供应"
STREET = "D02S02"


def _detect(app, now, **overrides):
    from hotline.extensions import db
    from workers.jobs.alerts import detect_and_raise

    with app.app_context():
        settings = app.config["HOTLINE"]
        app.config["HOTLINE"] = dataclasses.replace(settings, **overrides)
        try:
            counts = detect_and_raise(now)
            db.session.commit()
        finally:
            app.config["HOTLINE"] = settings
    return counts


def _alerts(api, **query):
    resp = api("monitor1").get("/alerts", query_string=query)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()["items"]


def test_a_cluster_in_one_street_raises_one_alert(app, api, make_case, clock):
    now = clock()
    # history: 3 cases of this category in this street over the 28 days before the window
    for days in (4, 11, 20):
        make_case(category=CATEGORY, district=STREET, at=now - timedelta(days=days))
    _detect(app, now + timedelta(minutes=1))
    assert not [a for a in _alerts(api, kind="cluster") if a["category"] == CATEGORY and a["area"] == "金城街道"]
    numbers = [make_case(category=CATEGORY, district=STREET, at=now - timedelta(hours=h)).number for h in range(1, 8)]
    first = _detect(app, now + timedelta(minutes=1))
    mine = [a for a in _alerts(api, kind="cluster") if a["category"] == CATEGORY and a["area"] == "金城街道"]
    assert len(mine) == 1 and first["raised"] >= 1
    alert = mine[0]
    assert alert["case_count"] == 7 and alert["detail"]["count"] == 7 and alert["level"] in ("yellow", "red")
    assert alert["detail"]["expected"] < 0.2  # 3 cases over 28 days
    detail = api("supervisor1").get(f"/alerts/{alert['id']}").get_json()
    assert sorted(detail["cases"]) == sorted(numbers)
    # a re-run (and a run 15 minutes later, same episode) raises nothing new
    _detect(app, now + timedelta(minutes=1))
    _detect(app, now + timedelta(minutes=16))
    again = [a for a in _alerts(api, kind="cluster") if a["category"] == CATEGORY and a["area"] == "金城街道"]
    assert [a["id"] for a in again] == [alert["id"]]
    # told: an in-app notice to monitors and supervisors (the bell) and the socket event, logged for catch-up
    from hotline.extensions import db
    from hotline.models import ConsoleEvent, Notification, User

    run_jobs(app)
    with app.app_context():
        events = db.session.scalars(sa.select(ConsoleEvent).where(ConsoleEvent.kind == "alert.raised")).all()
        assert next(e for e in events if e.payload["id"] == alert["id"]).rooms == ["role:monitor", "role:supervisor"]
        for username in ("monitor1", "supervisor1"):
            uid = db.session.scalar(sa.select(User.id).where(User.username == username))
            texts = db.session.scalars(sa.select(Notification.text).where(Notification.user_id == uid)).all()
            assert sum(alert["title"] in t for t in texts) == 1


def test_the_same_count_as_usual_raises_nothing(app, api, make_case, clock):
    now = clock()
    category, street = "城乡建设/城市建设和市政管理/冬季采暖", "D02S01"
    for day in range(1, 29):  # two cases every day for four weeks, and two today: the usual
        for _ in range(2):
            make_case(category=category, district=street, at=now - timedelta(days=day, hours=1))
    for h in (2, 5):
        make_case(category=category, district=street, at=now - timedelta(hours=h))
    _detect(app, now + timedelta(minutes=1), alert_min_count=2)
    _detect(app, now + timedelta(minutes=1), alert_method="zscore", alert_min_count=2)
    assert not [a for a in _alerts(api, kind="cluster") if a["category"] == category]


def test_a_repeat_caller_escalates(app, api, make_case, clock, phone):
    now = clock()
    for h in (50, 30, 10, 2):
        make_case(phone=phone, at=now - timedelta(hours=h))
    _detect(app, now + timedelta(minutes=1))
    _detect(app, now + timedelta(minutes=2))
    from hotline.extensions import db
    from hotline.models import Alert, Case

    with app.app_context():
        citizen = db.session.scalar(
            sa.select(Case.citizen_id)
            .where(Case.created_at >= now - timedelta(hours=51))
            .where(Case.phone.has(masked=phone[:3] + "****" + phone[-4:]))
        )
        mine = db.session.scalars(sa.select(Alert).where(Alert.citizen_id == citizen)).all()
        assert len(mine) == 1 and mine[0].case_count == 4 and mine[0].level == "yellow"
    make_case(phone=phone, at=now + timedelta(minutes=5))  # a fifth contact: a new, escalated alert
    _detect(app, now + timedelta(minutes=6))
    with app.app_context():
        mine = db.session.scalars(sa.select(Alert).where(Alert.citizen_id == citizen).order_by(Alert.id)).all()
        assert [a.case_count for a in mine] == [4, 5]


def test_a_unit_replying_late_is_flagged(app, api, make_case, clock):
    now = clock()
    late = [make_case("handling", unit="RQJT", at=now - timedelta(days=40)).number for _ in range(3)]
    from hotline.extensions import db
    from hotline.models import Assignment, Case, Department

    with app.app_context():  # their reply limits fell within the last 7 days (the SLA calendar put them earlier)
        unit = db.session.scalar(sa.select(Department.id).where(Department.code == "RQJT"))
        ids = db.session.scalars(sa.select(Case.id).where(Case.number.in_(late))).all()
        db.session.execute(
            sa.update(Assignment)
            .where(Assignment.case_id.in_(ids), Assignment.department_id == unit)
            .values(deadline_reply=now - timedelta(days=2))
        )
        db.session.commit()
    _detect(app, now, alert_on_time_min=3)
    _detect(app, now + timedelta(hours=1), alert_on_time_min=3)
    mine = [a for a in _alerts(api, kind="on_time") if a["department_code"] == "RQJT"]
    assert len(mine) == 1 and mine[0]["detail"]["on_time"] == 0 and mine[0]["level"] == "red"
    detail = api("monitor1").get(f"/alerts/{mine[0]['id']}").get_json()
    assert set(late) <= set(detail["cases"])
    ack = api("monitor1").post(f"/alerts/{mine[0]['id']}/acknowledge")
    assert ack.status_code == 200 and ack.get_json()["status"] == "acknowledged"


def test_alerts_api_and_page_access(api, app):
    assert api("handler_zjj").get("/alerts").status_code == 403
    bad = api("monitor1").get("/alerts", query_string={"kind": "nope"})
    assert bad.status_code == 400 and "预警类型" in bad.get_json()["error"]["message"]
    assert api("monitor1").get("/alerts/999999999").status_code == 404


def test_a_raised_alert_is_queued_for_webhook_subscribers(app, api, make_case, clock):
    """alert.raised reaches the outbound webhooks (issue 21): one delivery per subscription that wants it, written
    in the alert's transaction; a subscription for other events gets none."""
    from hotline.extensions import db
    from hotline.models import OutboxMessage, WebhookSubscription

    with app.app_context():
        wants = WebhookSubscription(url="https://hooks.example.org/a", events=["alert.raised"], secret="s" * 32)
        other = WebhookSubscription(url="https://hooks.example.org/b", events=["rating.created"], secret="t" * 32)
        db.session.add_all([wants, other])
        db.session.commit()
        ids = wants.id, other.id
    now = clock()
    category, street = "城乡建设/城市建设和市政管理/自来水供应", "D01S02"
    for h in range(1, 9):
        make_case(category=category, district=street, at=now - timedelta(hours=h))
    try:
        assert _detect(app, now + timedelta(minutes=1))["raised"] >= 1
        with app.app_context():
            rows = db.session.scalars(
                sa.select(OutboxMessage).where(OutboxMessage.recipient.in_([f"webhook:{i}" for i in ids]))
            ).all()
            assert rows and {r.recipient for r in rows} == {f"webhook:{ids[0]}"}
            assert {r.payload["event"] for r in rows} == {"alert.raised"}
            assert any(r.payload["body"]["data"]["category"] == category for r in rows)
    finally:
        with app.app_context():
            db.session.execute(
                sa.update(WebhookSubscription).where(WebhookSubscription.id.in_(ids)).values(active=False)
            )
            db.session.commit()
