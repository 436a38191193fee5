"""Routing is planned with reads only (hotline.dispatch.service.plan_routing) and stored afterwards: on SQLite
the job plans in a read transaction that leaves the single write lock to registrations, and a plan made for a
text that has changed since is redone."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from hotline.db.engine import READ_ONLY
from hotline.extensions import db
from hotline.models import Case, CaseRouting
from tests.helpers import new_case, run_jobs


def _write_from_another_connection(engine) -> None:
    """A registration's transaction on its own connection, waiting at most 0.2 s for SQLite's write lock."""
    with engine.connect() as other:
        other.exec_driver_sql("PRAGMA busy_timeout=200")
        other.execute(sa.update(Case).where(Case.id == -1).values(title=""))
        other.commit()


def test_a_read_only_transaction_leaves_the_write_lock_free(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite's single write lock")
        db.session.connection(execution_options={READ_ONLY: True})
        db.session.scalar(sa.select(sa.func.count()).select_from(Case))  # reading, transaction open
        _write_from_another_connection(db.engine)  # not blocked
        db.session.rollback()

        db.session.scalar(sa.select(sa.func.count()).select_from(Case))  # an ordinary transaction: BEGIN IMMEDIATE
        with pytest.raises(sa.exc.OperationalError, match="locked"):
            _write_from_another_connection(db.engine)
        db.session.rollback()


def test_a_plan_for_a_changed_text_is_redone(app, api):
    from hotline.dispatch.service import plan_routing, route_new_case

    agent = api("agent1")
    case = new_case(
        agent,
        "135" + f"{uuid.uuid4().int % 10**8:08d}",
        category=None,
        content=f"小区楼下烧烤店油烟扰民，噪音很大{uuid.uuid4().hex[:6]}",
    )
    run_jobs(app)
    now = datetime.now(UTC)
    with app.app_context():
        row = db.session.scalar(sa.select(Case).where(Case.number == case["number"]))
        plan = plan_routing(row, now)
        assert plan.result.suggestions[0]["category"] == "环境保护"
        row.content = "公司拖欠工资三个月不发，老板电话也不接，请劳动部门帮忙讨薪"  # edited after the plan
        route_new_case(row, now, plan)
        db.session.commit()
        stored = db.session.get(CaseRouting, row.id)
        assert stored.suggestions[0]["category"] == plan_routing(row, now).result.suggestions[0]["category"]
        assert stored.suggestions[0]["category"] != "环境保护"


def test_reports_of_one_matter_in_one_batch_are_duplicates_of_each_other(app, api):
    """A burst of reports routed in one batch: each later one lists the earlier ones, although on SQLite they
    were all planned before any of their duplicate-check keys was stored."""
    from hotline.dispatch.routing_queue import route_pending

    agent = api("agent1")
    run_jobs(app)  # nothing pending from earlier tests: the three below make one batch
    text = "人民路12号门前的井盖丢失了，晚上路过很危险，请尽快补上"
    created = [new_case(agent, "135" + f"{uuid.uuid4().int % 10**8:08d}", content=text + "！" * i) for i in range(3)]
    with app.app_context():
        counts = route_pending()
    assert (counts["batches"], counts["routed"], counts["failed"]) == (1, 3, 0)
    found = [
        {d["number"] for d in agent.get(f"/cases/{c['number']}/routing").get_json()["duplicates"]} for c in created
    ]
    numbers = [c["number"] for c in created]
    assert numbers[0] in found[1] and {numbers[0], numbers[1]} <= found[2]
