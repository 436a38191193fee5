"""The data-sharing feed GET /api/v1/feed/cases (issue 21): every change exactly once across pages, in commit
order, while 50 writers commit at the same time — on SQLite by default, on PostgreSQL with DATABASE_URL."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from hotline.extensions import db
from hotline.models import Case, CaseEvent
from tests.helpers import at_once

WRITERS = 50


@pytest.fixture()
def wide_pool(app):
    """The app's engine with room for 50 writers and a reader at once (the production pool has 30 connections
    per process; here every writer is a thread of this one process)."""
    from hotline.db.engine import configure_engine

    engines = db._app_engines[app]
    old = engines[None]
    if old.dialect.name == "sqlite":
        args = {"poolclass": sa.pool.NullPool, "connect_args": {"timeout": 60, "check_same_thread": False}}
    else:
        args = {"pool_size": WRITERS + 5, "max_overflow": 10, "pool_pre_ping": True}
    new = sa.create_engine(old.url, **args)
    configure_engine(new)
    engines[None] = new
    yield
    engines[None] = old
    new.dispose()


def _read_all(client, since: int, limit: int) -> tuple[list[dict], int]:
    items = []
    while True:
        answer = client.get(f"/feed/cases?since={since}&limit={limit}")
        assert answer.status_code == 200, answer.get_json()
        page = answer.get_json()
        items += page["items"]
        assert page["next"] >= since
        since = page["next"]
        if not page["more"]:
            return items, since


def test_feed_is_for_integration_tokens_only(api):
    assert api("sharing1").get("/feed/cases?limit=1").status_code == 200
    assert api("agent1").get("/feed/cases").status_code == 403
    answer = api("sharing1").get("/feed/cases?since=abc")
    assert answer.status_code == 400 and "since" in answer.get_json()["error"]["message"]
    assert api("sharing1").get("/feed/cases?limit=0").status_code == 400
    assert api("sharing1").get("/api/v1/cases").status_code in (403, 404)


def test_a_case_life_in_the_feed(app, api, make_case):
    reader = api("sharing1")
    start = reader.get("/feed/cases?limit=1").get_json()["head"]
    case = make_case("closed", unit="ZJJ")
    items, _ = _read_all(reader, start, 3)
    mine = [i for i in items if i["number"] == case.number]
    with app.app_context():
        truth = list(
            db.session.scalars(
                sa.select(CaseEvent.action).join(Case).where(Case.number == case.number).order_by(CaseEvent.id)
            )
        )
    assert truth[:4] == ["create", "dispatch", "sign", "reply"] and truth[-1] == "close"
    assert [i["events"][0]["action"] for i in mine] == truth
    assert mine[0]["kind"] == "case.created" and mine[-1]["status"] == "closed"
    assert "citizen" not in mine[0]  # no personal data in the feed
    cursors = [i["cursor"] for i in items]
    assert cursors == sorted(cursors) and len(set(cursors)) == len(cursors)


def test_50_concurrent_writers_every_change_exactly_once(app, api, make_case, wide_pool):
    reader = api("sharing1")
    start = reader.get("/feed/cases?limit=1").get_json()["head"]
    seen: list[dict] = []
    done = threading.Event()
    state = {"since": start, "pages": 0}

    def read_while_writing():  # each request in its own app context (and transaction), as a real client's
        client = api("sharing1")
        while not done.is_set():
            page = client.get(f"/feed/cases?since={state['since']}&limit=7").get_json()
            seen.extend(page["items"])
            state["since"], state["pages"] = page["next"], state["pages"] + 1
            if not page["items"]:
                time.sleep(0.005)

    watcher = threading.Thread(target=read_while_writing)
    watcher.start()
    try:
        numbers = at_once(app, lambda: [make_case("dispatched").number, make_case("registered").number], WRITERS, 300)
    finally:
        done.set()
        watcher.join(60)
    rest, _ = _read_all(reader, state["since"], 7)
    seen += rest
    mine = {n for pair in numbers for n in pair}
    assert len(mine) == 2 * WRITERS

    with app.app_context():
        truth = sorted(
            db.session.execute(
                sa.select(Case.number, CaseEvent.action)
                .join(CaseEvent, CaseEvent.case_id == Case.id)
                .where(Case.number.in_(mine))
            ).all()
        )
    got = [(i["number"], i["events"][0]["action"]) for i in seen if i["number"] in mine]
    assert len(truth) == 3 * WRITERS  # create + dispatch, create
    assert sorted(got) == truth, "every change exactly once: no gap, no repeat"
    cursors = [i["cursor"] for i in seen]
    assert cursors == sorted(cursors) and len(set(cursors)) == len(cursors)
    assert state["pages"] > 1
    # commit order per case: its creation comes before its dispatch
    order = {}
    for i in seen:
        if i["number"] in mine:
            order.setdefault(i["number"], []).append(i["events"][0]["action"])
    assert all(actions in (["create", "dispatch"], ["create"]) for actions in order.values())


def test_hourly_export_writes_each_change_once_as_json_lines(app, make_case, tmp_path):
    from tests.integration.connected_support import Receiver
    from workers.jobs.feed import export_feed

    settings = app.config["HOTLINE"]
    saved = (settings.feed_export_dir, settings.feed_export_url)
    server = Receiver()
    settings.feed_export_dir, settings.feed_export_url = str(tmp_path), server.url
    try:
        with app.app_context():
            export_feed()  # everything before this test
        first = make_case("dispatched")
        with app.app_context():
            one = export_feed()
        second = make_case("registered")
        with app.app_context():
            two = export_feed()
            nothing = export_feed()
    finally:
        settings.feed_export_dir, settings.feed_export_url = saved
        server.down()
    assert one["from"] < one["to"] == two["from"] < two["to"] and nothing["items"] == 0
    lines = [json.loads(x) for x in Path(one["file"]).read_text(encoding="utf-8").splitlines()]
    assert [(x["number"], x["events"][0]["action"]) for x in lines] == [
        (first.number, "create"),
        (first.number, "dispatch"),
    ]
    lines = [json.loads(x) for x in Path(two["file"]).read_text(encoding="utf-8").splitlines()]
    assert [x["number"] for x in lines] == [second.number]
    posted = server.accepted()[-2:]
    assert [r["headers"]["X-Hotline-Feed-To"] for r in posted] == [str(one["to"]), str(two["to"])]
    assert posted[-1]["body"].decode().splitlines()[0] == json.dumps(
        lines[0], ensure_ascii=False, separators=(",", ":")
    )
