"""Exactly one effect for actions on assignments under 50-way concurrency (issue 15).

50 threads, each on its own HTTP connection to the app served by a real threaded server (so each request has
its own app context, database connection and transaction), are released together by a barrier and post the same
action: 协办派单 of one unit, 首次联系, an assisting unit's 签收 and 答复, and the case-level 办结. Exactly one
request wins; the others get one clear zh-CN refusal (422), never a 5xx; the database holds one assignment / one
timeline event. On PostgreSQL (``DATABASE_URL``) the requests really overlap (row locks, the partial unique
index); SQLite runs writing transactions one after the other (``BEGIN IMMEDIATE``), so there the refusals come
from the checks. Each test ends with a count line (tests/counts.py).
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest
import requests
import sqlalchemy as sa

from hotline.extensions import db
from hotline.models import Assignment, Case, CaseEvent, Department, SlaTimer
from tests import counts
from tests.helpers import http_server

N = 50


def race(app, token: str, path: str, body: dict, n: int = N, headers: dict | None = None) -> list[tuple[int, dict]]:
    """POST ``body`` to ``/api/v1{path}`` over real HTTP from ``n`` threads at once, each on its own connection,
    released together by a barrier; (status, JSON) of every answer."""
    barrier, out, lock = threading.Barrier(n), [], threading.Lock()

    def run(base: str):
        try:
            barrier.wait(timeout=30)
            resp = requests.post(
                base + "/api/v1" + path,
                json=body,
                headers={"Authorization": f"Bearer {token}", **(headers or {})},
                timeout=60,
            )
            try:
                answer = (resp.status_code, resp.json())
            except ValueError:
                answer = (resp.status_code, {})
        except Exception as exc:  # counted as a 5xx below
            answer = (599, {"error": {"code": type(exc).__name__, "message": str(exc)}})
        with lock:
            out.append(answer)

    with http_server(app) as base:
        threads = [threading.Thread(target=run, args=(base,)) for _ in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    assert len(out) == n, "a request did not finish in time"
    return out


def tally(answers: list[tuple[int, dict]]) -> tuple[Counter, Counter, set]:
    statuses = Counter(status for status, _ in answers)
    codes = Counter(body["error"]["code"] for status, body in answers if status >= 400)
    messages = {body["error"]["message"] for status, body in answers if 400 <= status < 500}
    return statuses, codes, messages


def dialect(app) -> str:
    with app.app_context():
        return db.engine.dialect.name


def five_xx(statuses: Counter) -> int:
    return sum(n for status, n in statuses.items() if status >= 500)


def events(app, number: str, action: str, unit: str | None = None) -> int:
    with app.app_context():
        query = (
            sa.select(sa.func.count())
            .select_from(CaseEvent)
            .join(Case, Case.id == CaseEvent.case_id)
            .where(Case.number == number, CaseEvent.action == action)
        )
        if unit:
            query = query.join(Department, Department.id == CaseEvent.department_id).where(Department.code == unit)
        return db.session.scalar(query)


def assignments_of(app, number: str, unit: str, role: str) -> list[tuple[str, bool]]:
    """(status, SLA timer live) of each assignment of ``unit`` in ``role`` on the case."""
    with app.app_context():
        rows = db.session.execute(
            sa.select(Assignment.status, SlaTimer.next_card_at.is_not(None))
            .join(Case, Case.id == Assignment.case_id)
            .join(Department, Department.id == Assignment.department_id)
            .outerjoin(SlaTimer, SlaTimer.assignment_id == Assignment.id)
            .where(Case.number == number, Department.code == unit, Assignment.role == role)
        ).all()
        return [(status, bool(live)) for status, live in rows]


@pytest.fixture()
def assisted(app, api, make_case, make_user):
    """A case handled by ZJJ (lead) with 城管局 CGJ dispatched to assist; (number, token of a CGJ handler)."""
    number = make_case("handling", unit="ZJJ").number
    resp = api("dispatcher1").post(f"/cases/{number}/dispatch", json={"department_code": "CGJ", "role": "assist"})
    assert resp.status_code == 200, resp.get_json()
    return number, make_user(role="department_handler", unit="CGJ").username


def test_assist_x50_makes_one_assignment(app, tokens, make_case):
    number = make_case("dispatched", unit="ZJJ").number
    answers = race(
        app, tokens["dispatcher1"], f"/cases/{number}/dispatch", {"department_code": "CGJ", "role": "assist"}
    )
    statuses, codes, messages = tally(answers)
    rows = assignments_of(app, number, "CGJ", "assist")
    made = events(app, number, "assist")
    counts.report(
        f"assist x{N} ({dialect(app)}): {len(rows)} assignment, {statuses[422]} refused, {five_xx(statuses)} × 5xx, "
        f"{made} timeline event, {sum(live for _, live in rows)} live SLA timer"
    )
    assert statuses == Counter({200: 1, 422: N - 1}), statuses
    assert codes == Counter({"already_assigned": N - 1}) and len(messages) == 1
    assert "已在办理该工单" in messages.pop()
    assert rows == [("pending", True)] and made == 1


def test_first_contact_x50_writes_one_event(app, tokens, make_case):
    number = make_case("handling", unit="ZJJ").number
    answers = race(app, tokens["handler_zjj"], f"/cases/{number}/contact", {"note": "已电话联系市民"})
    statuses, codes, messages = tally(answers)
    made = events(app, number, "contact")
    counts.report(
        f"contact x{N} ({dialect(app)}): {made} contact event, {statuses[422]} refused, {five_xx(statuses)} × 5xx"
    )
    assert statuses == Counter({200: 1, 422: N - 1}), statuses
    assert codes == Counter({"already_contacted": N - 1}) and len(messages) == 1
    assert made == 1


def test_assisting_unit_sign_x50_writes_one_event(app, tokens, assisted):
    number, handler = assisted
    answers = race(app, tokens[handler], f"/cases/{number}/sign", {})
    statuses, codes, messages = tally(answers)
    made = events(app, number, "sign", "CGJ")
    counts.report(
        f"assist sign x{N} ({dialect(app)}): {made} sign event, {statuses[422]} refused, {five_xx(statuses)} × 5xx"
    )
    assert statuses == Counter({200: 1, 422: N - 1}), statuses
    assert codes == Counter({"already_signed": N - 1}) and len(messages) == 1
    assert made == 1 and assignments_of(app, number, "CGJ", "assist") == [("signed", True)]


def test_assisting_unit_reply_x50_writes_one_event(app, api, tokens, assisted):
    number, handler = assisted
    assert api(handler).post(f"/cases/{number}/sign", json={}).status_code == 200
    body = {"content": "协办部分已处理完毕。", "result": "resolved"}
    answers = race(app, tokens[handler], f"/cases/{number}/reply", body)
    statuses, codes, _ = tally(answers)
    made = events(app, number, "reply", "CGJ")
    counts.report(
        f"assist reply x{N} ({dialect(app)}): {made} reply event, {statuses[422]} refused, {five_xx(statuses)} × 5xx"
    )
    assert statuses == Counter({200: 1, 422: N - 1}), statuses
    assert codes == Counter({"no_assignment": N - 1})
    assert made == 1 and assignments_of(app, number, "CGJ", "assist") == [("replied", False)]


def test_lead_sign_x50_one_wins(app, tokens, make_case):
    """Case level: the lead's 签收 moves the case (version), the assignment's conditional UPDATE decides first."""
    number = make_case("dispatched", unit="ZJJ").number
    answers = race(app, tokens["handler_zjj"], f"/cases/{number}/sign", {})
    statuses, codes, _ = tally(answers)
    made = events(app, number, "sign")
    counts.report(
        f"lead sign x{N} ({dialect(app)}): {made} sign event, {N - statuses[200]} refused, {five_xx(statuses)} × 5xx"
    )
    assert statuses[200] == 1 and five_xx(statuses) == 0 and made == 1
    assert set(codes) <= {"already_signed", "stale_version"}


def test_close_x50_one_wins(app, tokens, make_case):
    """Case level: 办结 changes only the case row; its optimistic lock (version) lets one of 50 through."""
    number = make_case("replied", unit="ZJJ").number
    answers = race(app, tokens["agent1"], f"/cases/{number}/close", {"note": "回访满意"})
    statuses, codes, _ = tally(answers)
    made = events(app, number, "close")
    counts.report(
        f"close x{N} ({dialect(app)}): {made} close event, {N - statuses[200]} refused "
        f"({', '.join(f'{n} {c}' for c, n in sorted(codes.items()))}), {five_xx(statuses)} × 5xx"
    )
    assert statuses[200] == 1 and five_xx(statuses) == 0 and made == 1
    assert set(codes) <= {"invalid_transition", "stale_version"}


def test_a_returned_assist_may_be_dispatched_again(app, api, assisted):
    """The unique index covers live assignments only: after 退回 the same unit can be asked again."""
    number, handler = assisted
    assert api(handler).post(f"/cases/{number}/return", json={"reason": "不属于本单位职责"}).status_code == 200
    resp = api("dispatcher1").post(f"/cases/{number}/dispatch", json={"department_code": "CGJ", "role": "assist"})
    assert resp.status_code == 200, resp.get_json()
    assert sorted(assignments_of(app, number, "CGJ", "assist")) == [("pending", True), ("returned", False)]
    again = api(handler).post(f"/cases/{number}/return", json={"reason": "仍不属于本单位职责"})
    assert again.status_code == 200
    third = api(handler).post(f"/cases/{number}/return", json={"reason": "再退一次"})
    # with every task of the unit returned, the case is out of its sight (docs/domain.md, "Who sees a case")
    assert third.status_code == 404 and third.get_json()["error"]["code"] == "case_not_found"
