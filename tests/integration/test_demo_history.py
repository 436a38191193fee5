"""The demo city's past (`flask seed --demo --history DAYS`): cases played through the real operations on a fresh
database of its own (in subprocesses, so this session's app and Redis are left alone), then the days rolled up —
the rollup's figures equal the live count, closed-on-the-spot cases keep their category, and the life of the cases
is there (dispatches, replies, ratings with poor ones)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys

import psutil
import pytest

from hotline.config import ROOT

DAYS = 6
CHECK = """
import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from hotline import create_app
from hotline.extensions import db
from hotline.models import StatsRollupDay
from hotline.stats import summaries
from hotline.stats.figures import Clock
from hotline.stats.periods import Period

app = create_app()
with app.app_context():
    clock = Clock(ZoneInfo(app.config["HOTLINE"].timezone), datetime.now(UTC))
    days = sorted(db.session.scalars(sa.select(StatsRollupDay.day)))
    period = Period(days[0], days[-1])
    settings = app.config["HOTLINE"]
    rolled = [summaries.overview(period, clock, None), summaries.ranking(period, clock, None, settings)]
    db.session.execute(sa.delete(StatsRollupDay))  # without the rollup: every day counted live
    live = [summaries.overview(period, clock, None), summaries.ranking(period, clock, None, settings)]
    db.session.rollback()
print(json.dumps({"equal": rolled == live, "total": rolled[0]["total"], "units": len(rolled[1]["departments"])}))
"""


def _run(instance, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "HOTLINE_"))}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    env["HOTLINE_INSTANCE"] = str(instance)
    out = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


@pytest.fixture(scope="module")
def past(tmp_path_factory):
    instance = tmp_path_factory.mktemp("history") / "instance"
    try:
        _run(instance, "-m", "flask", "--app", "wsgi", "db", "upgrade")
        output = _run(instance, "-m", "flask", "--app", "wsgi", "seed", "--demo", "--history", str(DAYS))
        check = json.loads(_run(instance, "-c", CHECK).strip().splitlines()[-1])
        yield sqlite3.connect(instance / "hotline.db"), output, check
    finally:
        for proc in psutil.process_iter(["name", "cwd"]):  # the instance's embedded Redis outlives the commands
            if proc.info["name"] == "redis-server" and proc.info["cwd"] == str(instance):
                proc.terminate()


def test_history_is_played_through_the_operations(past):
    db, output, _ = past

    def scalar(sql: str):
        return db.execute(sql).fetchone()[0]

    assert "'history': {'cases':" in output
    cases = scalar("SELECT count(*) FROM cases")
    assert cases >= DAYS * 5  # ~10 a weekday, fewer at weekends
    assert scalar("SELECT count(*) FROM case_events WHERE action = 'create'") == cases
    assert scalar("SELECT count(*) FROM case_events WHERE action = 'dispatch'") > 0
    assert scalar("SELECT count(*) FROM case_events WHERE action = 'reply'") > 0
    assert scalar("SELECT count(*) FROM ratings") > 0
    assert scalar("SELECT count(*) FROM case_events WHERE action = 'answer'") > 0
    uncategorised = "SELECT count(*) FROM cases c JOIN case_events e ON e.case_id = c.id AND e.action = 'answer' "
    assert scalar(uncategorised + "WHERE c.category_id IS NULL") == 0  # 直接办结 keeps a category
    assert scalar("SELECT count(*) FROM cases WHERE routing_pending") == 0  # history needs no routing
    assert scalar("SELECT count(*) FROM outbox WHERE status = 'pending'") == 0  # nor messages
    assert scalar("SELECT count(*) FROM cases WHERE lat IS NOT NULL") > 0  # located, for the map
    assert scalar("SELECT count(*) FROM stats_rollup_days") == DAYS  # past days rolled up, today live


def test_rolled_up_history_equals_the_live_count(past):
    _, _, check = past
    assert check["equal"] and check["total"] > 0 and check["units"] > 0
