"""一号一档: what the caller's file shows (limits, order, counts) and that PostgreSQL's one-statement path
gives exactly the portable path's file."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.helpers import new_case
from tests.integration.test_cti_citizens import _evt, post_cti
from tests.integration.test_dispatch_routing import settings

OPEN_SHOWN, RECENT = 20, 10


def _is_postgres(app) -> bool:
    return app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")


@pytest.fixture()
def busy_file(app, api, phone):
    """34 cases (12 answered → closed, 3 later ones dispatched to ZJJ, the 3 oldest created 40 days ago), 12 calls (2 of
    them 40 days ago), 12 ratings, 12 external records, a landline, a care tag."""
    from hotline.extensions import db
    from hotline.models import Case, Rating

    agent, dispatcher = api("agent1"), api("dispatcher1")
    numbers = [
        new_case(agent, phone, content=f"小区路灯损坏第{i}次反映，晚上出行不安全，请尽快维修。")["number"]
        for i in range(34)
    ]
    for number in numbers[:12]:
        assert agent.post(f"/cases/{number}/answer", json={"answer": "已向市民解释相关政策。"}).status_code == 200
    for number in numbers[20:23]:
        assert dispatcher.post(f"/cases/{number}/dispatch", json={"department_code": "ZJJ"}).status_code == 200
    now = datetime.now(UTC)
    call_ids = []
    # calls of 40 days ago: the platform's history, posted with the freshness window opened for the set-up
    with settings(app, cti_window_seconds=10**8):
        for i in range(12):
            call_id = "file-" + uuid.uuid4().hex[:10]
            at = now - (timedelta(days=40, minutes=i) if i < 2 else timedelta(minutes=12 - i))
            first = "answered" if i == 5 else "ringing"  # a call whose ringing event never came: shown at its start
            assert post_cti(app, _evt(first, call_id, phone, at)).status_code == 200
            call_ids.append(call_id)
    post_cti(app, _evt("answered", call_ids[-1], phone, now + timedelta(seconds=5)))
    post_cti(app, _evt("ended", call_ids[-1], phone, now + timedelta(seconds=65)))
    refs = []
    for i in range(12):
        ref = f"WS-{phone}-{i}"
        body = {"phone": phone, "source": "网上办事大厅", "ref": ref, "title": f"营业执照申请{i}", "status": "审核中"}
        if i % 2:
            body["occurred_at"] = f"2026-11-{i + 1:02d}T10:00:00+08:00"
        assert agent.post("/citizens/records", json=body).status_code == 201
        refs.append(ref)
    citizen_id = agent.get(f"/citizens/lookup?phone={phone}").get_json()["citizen"]["citizen_id"]
    assert agent.post(f"/citizens/{citizen_id}/tags", json={"tags": ["elderly"]}).status_code == 200
    landline = "010-6" + phone[-7:]
    assert agent.post(f"/citizens/{citizen_id}/phones", json={"phone": landline}).status_code == 200
    with app.app_context():
        cases = db.session.scalars(sa.select(Case).where(Case.number.in_(numbers[:12])).order_by(Case.id)).all()
        scores = [1, 2, 3, 4, 5, 2, 5, 4, 1, 3, 5, 5]  # 4 poor (≤ 2), two of them among the 2 oldest ratings
        resolved = [None, False, True]
        for i, (case, score) in enumerate(zip(cases, scores, strict=True)):
            db.session.add(
                Rating(
                    case_id=case.id,
                    citizen_id=citizen_id,
                    score=score,
                    resolved=resolved[i % 3],
                    comment=f"评价{i}",
                    channel="sms",
                    excluded=i == 5,
                    created_at=now.replace(microsecond=(0, 123456, 500000)[i % 3]) - timedelta(hours=12 - i),
                )
            )
        # test data, not a state change: three cases registered long ago (outside the repeat-caller window)
        db.session.execute(
            sa.update(Case).where(Case.number.in_(numbers[:3])).values(created_at=now - timedelta(days=40))
        )
        db.session.commit()
    return {
        "phone": phone,
        "landline": landline,
        "citizen_id": citizen_id,
        "numbers": numbers,
        "call_ids": call_ids,
        "refs": refs,
        "scores": scores,
    }


def test_file_shows_the_newest_of_each_list_and_counts_everything(app, api, busy_file):
    file = api("agent1").get(f"/citizens/lookup?phone={busy_file['phone']}").get_json()["citizen"]
    numbers = busy_file["numbers"]
    assert [c["number"] for c in file["open_cases"]] == numbers[12:][::-1][:OPEN_SHOWN]
    assert [c["number"] for c in file["past_cases"]] == numbers[:12][::-1][:RECENT]
    assert {c["status"] for c in file["past_cases"]} == {"closed"}
    dispatched = [c for c in file["open_cases"] if c["number"] in numbers[20:23]]
    assert [(c["status"], c["status_label"], c["department_code"]) for c in dispatched] == [
        ("dispatched", "已派单", "ZJJ")
    ] * 3
    assert all(c["department_code"] is None for c in file["open_cases"] if c["number"] not in numbers[20:23])
    assert [c["call_id"] for c in file["calls"]] == busy_file["call_ids"][::-1][:RECENT]
    assert file["calls"][0]["status"] == "ended" and file["calls"][0]["duration_seconds"] == 60
    unrung = file["calls"][busy_file["call_ids"][::-1].index(busy_file["call_ids"][5])]
    assert unrung["status"] == "answered" and unrung["at"] is not None
    assert [r["title"] for r in file["records"]] == [f"营业执照申请{i}" for i in range(11, 1, -1)]
    assert [r["occurred_at"] for r in file["records"][:2]] == ["2026-11-12T02:00:00+00:00", None]
    assert [r["score"] for r in file["ratings"]] == busy_file["scores"][::-1][:RECENT]
    assert [r["poor"] for r in file["ratings"][:3]] == [False, True, False]  # score 5 / resolved False / score 3
    assert [r["excluded"] for r in file["ratings"]].count(True) == 1
    # counts cover the whole file, not only what is shown: 31 cases + 10 calls in the last 30 days, 4 poor ratings
    assert file["flags"] == {"repeat_caller": True, "contacts_recent": 31 + 10, "poor_ratings": 4, "special_care": True}
    assert file["phones"] == [
        {"phone": busy_file["phone"][:3] + "****" + busy_file["phone"][-4:], "kind": "mobile"},
        {"phone": file["phones"][1]["phone"], "kind": "landline"},
    ]
    assert file["tags"] == ["elderly"] and file["care"] == ["老年人"] and file["name"] == "王**"
    by_landline = api("agent1").get(f"/citizens/lookup?phone={busy_file['landline']}").get_json()["citizen"]
    assert by_landline == file


def test_postgresql_statement_gives_the_portable_file(app, busy_file):
    if not _is_postgres(app):
        pytest.skip("the one-statement path is PostgreSQL's")
    from hotline.citizens import file as citizen_file
    from hotline.citizens.phones import normalize
    from hotline.extensions import db
    from hotline.models import Citizen

    now = datetime.now(UTC)
    with app.test_request_context():
        for citizen_id in (busy_file["citizen_id"], _small_file(app)):
            citizen = db.session.get(Citizen, citizen_id)
            since = now - timedelta(days=app.config["HOTLINE"].repeat_caller_days)
            portable = citizen_file._summary(
                citizen.id, citizen.name_enc, citizen.tags, citizen_file._parts(citizen.id, since)
            )
            assert citizen_file.file_summary(citizen, now) == portable
        assert citizen_file.lookup_file(normalize(busy_file["phone"]), now) == citizen_file.file_summary(
            db.session.get(Citizen, busy_file["citizen_id"]), now
        )
        assert citizen_file.lookup_file(normalize("13011112222"), now) is None


def _small_file(app) -> int:
    """A citizen with one phone and nothing else (every list empty, no name)."""
    from hotline.citizens.phones import normalize
    from hotline.citizens.profile import get_or_create
    from hotline.extensions import db

    row = get_or_create(normalize("139" + f"{uuid.uuid4().int % 10**8:08d}"))
    db.session.commit()
    return row.citizen_id


def test_number_left_on_a_merged_file_finds_the_surviving_file(app, api, phone):
    """A merge moves the phones; a number still pointing at the merged file (older data) is followed too."""
    from hotline.extensions import db
    from hotline.models import Citizen

    agent = api("agent1")
    other = "137" + phone[3:]
    new_case(agent, phone)
    kept = new_case(agent, other)["number"]
    source = agent.get(f"/citizens/lookup?phone={phone}").get_json()["citizen"]["citizen_id"]
    target = agent.get(f"/citizens/lookup?phone={other}").get_json()["citizen"]["citizen_id"]
    with app.app_context():
        db.session.get(Citizen, source).merged_into_id = target
        db.session.commit()
    file = agent.get(f"/citizens/lookup?phone={phone}").get_json()["citizen"]
    assert file["citizen_id"] == target and [c["number"] for c in file["open_cases"]] == [kept]


def test_lookup_runs_without_a_transaction_and_hands_back_a_normal_connection(app, api, phone):
    if not _is_postgres(app):
        pytest.skip("AUTOCOMMIT reads are PostgreSQL only (SQLite opens every transaction itself)")
    from hotline.extensions import db

    new_case(api("agent1"), phone)
    seen: list[tuple[str, bool]] = []

    def executed(conn, _cursor, _statement, _params, _context, _many):
        seen.append(("execute", conn.connection.dbapi_connection.autocommit))

    def checked_in(dbapi_connection, _record):
        seen.append(("checkin", dbapi_connection.autocommit))

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", executed)
    sa.event.listen(engine.pool, "checkin", checked_in)
    try:
        assert api("agent1").get(f"/citizens/lookup?phone={phone}").get_json()["found"] is True
        executes_in_lookup = len(seen)
        new_case(api("agent1"), phone)  # a write request afterwards: in a transaction again
    finally:
        sa.event.remove(engine, "before_cursor_execute", executed)
        sa.event.remove(engine.pool, "checkin", checked_in)
    lookup, create = seen[:executes_in_lookup], seen[executes_in_lookup:]
    assert lookup == [("execute", True), ("execute", True), ("checkin", False)]  # token's user, the file
    assert create[0] == ("execute", False) and create[-1] == ("checkin", False)


def test_file_includes_changes_not_yet_committed(app, api, phone):
    """call.ringing builds the file inside the webhook's transaction: what it changed so far is shown."""
    from hotline.citizens.file import file_summary
    from hotline.citizens.profile import find_phone
    from hotline.extensions import db

    new_case(api("agent1"), phone)
    with app.test_request_context():
        row = find_phone(phone)
        row.citizen.tags = ["disabled"]
        file = file_summary(row.citizen, datetime.now(UTC))
        db.session.rollback()
    assert file["tags"] == ["disabled"] and file["care"] == ["残疾人"] and len(file["open_cases"]) == 1
