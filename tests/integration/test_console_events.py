"""The console event log: every Socket.IO event logged with its cursor in the change's transaction, caught up
by GET /api/v1/console/changes for exactly the rooms the user's sockets join, cursors in commit order."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from hotline.db.engine import READ_ONLY
from hotline.db.transactions import savepoint
from hotline.extensions import db
from hotline.models import ConsoleCursor, ConsoleEvent
from hotline.realtime import eventlog
from hotline.realtime.publish import PayloadError, publish, publish_many
from tests.integration.sla_support import SocketCapture


def _updated(number: str, code: str | None = None, action: str = "sign") -> dict:
    return {"number": number, "status": "handling", "version": 3, "action": action, "department_code": code}


def _head(app) -> int:
    with app.app_context():
        return eventlog.head()


def _rows(app, since: int) -> list[ConsoleEvent]:
    with app.app_context():
        rows = list(
            db.session.scalars(sa.select(ConsoleEvent).where(ConsoleEvent.id > since).order_by(ConsoleEvent.id))
        )
        db.session.expunge_all()
        return rows


def _all_emits(capture: SocketCapture, quiet: float = 0.5) -> list[dict]:
    """Every Socket.IO emit published since the last read, whatever the event (SocketCapture.emits keeps one)."""
    found = []
    while (message := capture.pubsub.get_message(timeout=quiet)) is not None:
        if message["type"] == "message":
            data = json.loads(message["data"])
            if data.get("method") == "emit":
                found.append({"event": data["event"], "data": data["data"][0], "room": data["room"]})
    return found


def _ringing(call_id: str) -> dict:
    return {"call_id": call_id, "caller": "139****0000", "agent": "agent1", "at": "2026-12-07T08:00:00+00:00",
            "citizen": None}  # fmt: skip


def test_publish_logs_in_the_transaction_and_emits_the_row_id_as_cursor(app):
    capture = SocketCapture(app)
    try:
        start = _head(app)
        with app.app_context():
            publish("case.updated", {**_updated("N-LOG-1"), "cursor": 999_999_999}, ["role:agent"])  # replaced
            publish("call.ringing", _ringing("c-log-1"), ["user:1"])
            publish_many("sla.card", [({"number": f"N-LOG-{i}", "level": "yellow", "limit": "sign",
                                        "due_at": "2026-12-08T00:00:00+00:00", "department_code": "ZJJ"},
                                       ["department:ZJJ", "role:monitor"]) for i in (2, 3)])  # fmt: skip
            db.session.commit()
        rows = _rows(app, start)
        assert [(r.id, r.kind) for r in rows] == [
            (start + 1, "case.updated"),
            (start + 2, "call.ringing"),
            (start + 3, "sla.card"),
            (start + 4, "sla.card"),
        ]  # dense, in publish order, one counter bump per transaction
        assert rows[0].rooms == ["role:agent"] and "cursor" not in rows[0].payload
        sent = {m["data"]["cursor"]: m for m in _all_emits(capture)}
        assert sorted(sent) == [r.id for r in rows]
        assert sent[start + 1]["data"] == {**_updated("N-LOG-1"), "cursor": start + 1}
        assert sent[start + 2]["data"] == {**_ringing("c-log-1"), "cursor": start + 2}
        assert _head(app) == start + 4
    finally:
        capture.close()


def test_rollback_and_failed_savepoint_drop_their_events(app):
    capture = SocketCapture(app)
    try:
        start = _head(app)
        with app.app_context():
            publish("case.updated", _updated("N-RB-1"), ["role:agent"])
            db.session.rollback()
            publish("case.updated", _updated("N-RB-2"), ["role:agent"])
            with pytest.raises(RuntimeError), savepoint():
                publish("case.updated", _updated("N-RB-3"), ["role:agent"])
                raise RuntimeError("the item failed")
            db.session.commit()
        assert [r.payload["number"] for r in _rows(app, start)] == ["N-RB-2"]
        assert [m["data"]["number"] for m in capture.emits("case.updated")] == ["N-RB-2"]
        assert _head(app) == start + 1  # the rolled-back bump is undone too: no hole
    finally:
        capture.close()


def test_payloads_are_still_checked(app):
    with app.app_context():
        with pytest.raises(PayloadError):
            publish("case.updated", {"number": "N"}, ["role:agent"])
        with pytest.raises(PayloadError):
            publish("no.such.event", {}, ["role:agent"])
        db.session.rollback()


def _changes(api, username: str, since: int, **params):
    query = "&".join(f"{k}={v}" for k, v in {"since": since, **params}.items())
    resp = api(username).get(f"/console/changes?{query}")
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def test_changes_returns_what_each_user_would_have_received(app, api):
    start = _head(app)
    with app.app_context():
        from tests.factories import department, user

        street = department("D01S01")
        agent1 = user("agent1")
        publish("case.created", {"number": "N-RM-1", "status": "registered", "kind": "help", "urgency": "normal",
                                 "department_code": None, "created_at": "2026-12-07T08:00:00+00:00", "version": 1},
                ["role:agent", "role:dispatcher", "role:monitor"])  # fmt: skip
        publish("case.updated", _updated("N-RM-2", "D01S01"), eventlog_rooms(street))
        publish("case.updated", _updated("N-RM-3", "ZJJ"), ["department:ZJJ"])
        publish("call.ringing", _ringing("c-rm-4"), [f"user:{agent1.id}"])
        publish("notification", {"id": 1, "text": "请处理", "case_number": None, "created_at": "2026-12-07T08:00:00"},
                [f"user:{agent1.id}"])  # fmt: skip
        db.session.commit()

    def seen(username):
        body = _changes(api, username, start)
        return [
            (i["event"], i["data"].get("number") or i["data"].get("call_id") or i["data"]["text"])
            for i in body["items"]
        ]

    assert seen("agent1") == [("case.created", "N-RM-1"), ("call.ringing", "c-rm-4"), ("notification", "请处理")]
    assert seen("agent2") == [("case.created", "N-RM-1")]  # another agent's call and notice are not theirs
    assert seen("handler_d01") == [("case.updated", "N-RM-2")]  # the district sees its street
    assert seen("handler_d01s01") == [("case.updated", "N-RM-2")]
    assert seen("handler_zjj") == [("case.updated", "N-RM-3")]
    assert seen("handler_shj") == []
    assert seen("supervisor1") == []  # none of these went to role:supervisor


def eventlog_rooms(unit) -> list[str]:
    from hotline.realtime.publish import department_rooms

    return department_rooms(unit)


def test_changes_keeps_the_old_fields_and_adds_the_new_ones(app, api, make_case):
    start = _head(app)
    case = make_case("handling", unit="ZJJ")
    body = _changes(api, "agent1", start)
    items = [i for i in body["items"] if i["number"] == case.number]
    assert [i["action"] for i in items] == ["create", "dispatch", "sign"]
    last = items[-1]
    assert {"cursor", "action", "number", "status", "version", "department_code"} <= set(last)  # as before
    assert last["event"] == "case.updated" and last["data"]["cursor"] == last["cursor"]
    assert (last["status"], last["version"], last["department_code"]) == ("handling", case.version, "ZJJ")
    assert body["cursor"] == body["next"] == body["head"] == _head(app)
    assert body["more"] is False and body["reset"] is False
    # nothing new: the client stays where it is
    again = _changes(api, "agent1", body["next"])
    assert (again["items"], again["next"], again["more"]) == ([], body["next"], False)


def test_changes_pages_in_order(app, api):
    start = _head(app)
    with app.app_context():
        for i in range(7):
            publish("case.updated", _updated(f"N-PG-{i}"), ["role:dispatcher"])
        publish("case.updated", _updated("N-PG-other"), ["role:monitor"])  # not the dispatcher's
        db.session.commit()
    got, since, pages = [], start, 0
    while True:
        body = _changes(api, "dispatcher1", since, limit=3)
        got += [i["number"] for i in body["items"]]
        since, pages = body["next"], pages + 1
        if not body["more"]:
            break
    assert got == [f"N-PG-{i}" for i in range(7)] and pages == 3
    assert since == _head(app)  # past the monitor's event too


@pytest.mark.parametrize("query", ["since=-1", "since=abc", "since=1&limit=0", "since=1&limit=501", "limit=x"])
def test_changes_refuses_bad_numbers(api, query):
    resp = api("agent1").get(f"/console/changes?{query}")
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "invalid_input"


def test_changes_needs_a_staff_login(app):
    assert app.test_client().get("/api/v1/console/changes?since=0").status_code == 401


def test_prune_deletes_old_events_and_says_reset(app, api):
    from workers.jobs.console import prune_console_events

    with app.app_context():
        publish("case.updated", _updated("N-OLD"), ["role:agent"])
        db.session.commit()
        old = eventlog.head()
        db.session.execute(
            sa.update(ConsoleEvent)
            .where(ConsoleEvent.id <= old)
            .values(created_at=datetime.now(UTC) - timedelta(days=9))
        )
        db.session.commit()
        publish("case.updated", _updated("N-NEW"), ["role:agent"])
        db.session.commit()
        deleted = prune_console_events()
        assert deleted >= 1
        assert prune_console_events() == 0  # idempotent
        assert db.session.get(ConsoleCursor, 1).pruned == old
        assert db.session.scalar(sa.select(sa.func.min(ConsoleEvent.id))) == old + 1
    behind = _changes(api, "agent1", old - 1)
    assert behind["reset"] is True and [i["number"] for i in behind["items"]] == ["N-NEW"]
    assert _changes(api, "agent1", old)["reset"] is False
    ahead = _changes(api, "agent1", old + 10_000)  # e.g. a database restored from a backup
    assert ahead["reset"] is True and ahead["next"] == old + 1


# -- ordering: cursors follow the commit order --------------------------------------------------------------------


def test_a_later_commit_never_gets_a_smaller_cursor(app):
    """T1 takes its cursor and stalls before COMMIT; T2 publishes meanwhile. A reader sees neither, T2 waits for T1,
    and T1's cursor is below T2's: a client that read up to ``next`` while T1 was in flight misses nothing."""
    start = _head(app)
    paused, release = threading.Event(), threading.Event()
    done: dict[str, int] = {}

    def stall(session):
        if session.info.get("stall"):
            paused.set()
            release.wait(10)

    sa_event.listen(Session, "before_commit", stall)  # after eventlog's listener: the cursor is taken
    try:

        def t1():
            with app.app_context():
                db.session.info["stall"] = True
                publish("case.updated", _updated("N-ORD-1"), ["role:agent"])
                db.session.commit()
                done["t1"] = time.monotonic()

        def t2():
            with app.app_context():
                publish("case.updated", _updated("N-ORD-2"), ["role:agent"])
                db.session.commit()
                done["t2"] = time.monotonic()

        first = threading.Thread(target=t1)
        first.start()
        assert paused.wait(10)
        second = threading.Thread(target=t2)
        second.start()
        time.sleep(0.5)
        assert "t2" not in done  # waits for T1's commit (PostgreSQL: the counter row; SQLite: the write lock)
        with app.app_context():
            db.session.connection(execution_options={READ_ONLY: True})
            read = eventlog.changes(["role:agent"], start)
            db.session.rollback()
        assert read["items"] == [] and read["next"] == start  # T1 in flight: the reader's `next` stays below it
        release.set()
        first.join(10)
        second.join(10)
        assert done["t1"] <= done["t2"]
    finally:
        release.set()
        sa_event.remove(Session, "before_commit", stall)
    rows = _rows(app, start)
    assert [(r.payload["number"], r.id) for r in rows] == [("N-ORD-1", start + 1), ("N-ORD-2", start + 2)]


def test_concurrent_publishers_get_distinct_cursors_in_commit_order(app):
    from tests.helpers import at_once

    start = _head(app)

    def publisher():
        for i in range(20):
            publish("case.updated", _updated(f"N-CC-{threading.get_ident()}-{i}"), ["role:agent"])
            db.session.commit()
        return True

    at_once(app, publisher, n=4)
    rows = _rows(app, start)
    assert [r.id for r in rows] == list(range(start + 1, start + 81))  # 80 events, no gap, no duplicate
