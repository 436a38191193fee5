"""Bad input on the case transitions (POST /api/v1/cases/NUMBER/ACTION): bad fields (400), invalid
transitions (422, naming the state) and stale versions (409); the case unchanged after every refusal.
"""

from __future__ import annotations

import pytest

from tests.helpers import new_case
from tests.integration.bad_input_support import (
    BIG,
    GOOD,
    IMG,
    MISSING,
    SCRIPT,
    SQLI_CODES,
    assert_api_error,
    case_in_state,
    prepare,
    row_counts,
    snapshot,
)

# --- the good requests succeed (the tables below are meaningful) ----------------------------------


@pytest.mark.parametrize("endpoint", list(GOOD))
def test_good_request_succeeds(api, phone, endpoint, make_case):
    client, path, body, _ = prepare(api, make_case, phone, endpoint)
    assert client.post(path, json=body).status_code == 200


# --- transitions: bad fields ---------------------------------------------------------------------

TRANSITION_BAD = [
    ("dispatch", {"department_code": MISSING}, "invalid_input", "department_code"),
    ("dispatch", {"department_code": ""}, "invalid_input", "department_code"),
    ("dispatch", {"department_code": None}, "invalid_input", "department_code"),
    ("dispatch", {"department_code": 42}, "invalid_input", "department_code"),
    ("dispatch", {"department_code": ["ZJJ"]}, "invalid_input", "department_code"),
    ("dispatch", {"department_code": "XXX"}, "unknown_department", "department_code"),
    ("dispatch", {"department_code": SQLI_CODES[0]}, "unknown_department", "department_code"),
    ("dispatch", {"department_code": SQLI_CODES[1]}, "unknown_department", "department_code"),
    ("dispatch", {"department_code": SCRIPT}, "invalid_input", "department_code"),
    ("dispatch", {"department_code": BIG}, "invalid_input", "department_code"),
    ("dispatch", {"role": "boss"}, "invalid_input", "role"),
    ("dispatch", {"role": ["lead"]}, "invalid_input", "role"),
    ("dispatch", {"note": "意" * 1001}, "invalid_input", "note"),
    ("dispatch", {"note": BIG}, "invalid_input", "note"),
    ("dispatch", {"note": IMG}, "invalid_input", "note"),
    ("dispatch", {"note": 3.14}, "invalid_input", "note"),
    ("dispatch", {"version": "abc"}, "invalid_input", "version"),
    ("sign", {"version": "abc"}, "invalid_input", "version"),
    ("sign", {"version": [1]}, "invalid_input", "version"),
    ("sign", {"version": 1.5}, "invalid_input", "version"),
    ("contact", {"note": MISSING}, "invalid_input", "note"),
    ("contact", {"note": "   "}, "invalid_input", "note"),
    ("contact", {"note": 12345}, "invalid_input", "note"),
    ("contact", {"note": True}, "invalid_input", "note"),
    ("contact", {"note": {"text": "已联系"}}, "invalid_input", "note"),
    ("contact", {"note": "联" * 2001}, "invalid_input", "note"),
    ("contact", {"note": BIG}, "invalid_input", "note"),
    ("contact", {"note": SCRIPT}, "invalid_input", "note"),
    ("contact", {"note": "已联系\x00"}, "invalid_input", "note"),
    ("reply", {"content": MISSING}, "invalid_input", "content"),
    ("reply", {"result": MISSING}, "invalid_input", "result"),
    ("reply", {"result": "maybe"}, "invalid_input", "result"),
    ("reply", {"result": True}, "invalid_input", "result"),
    ("reply", {"result": SQLI_CODES[0]}, "invalid_input", "result"),
    ("reply", {"content": BIG}, "invalid_input", "content"),
    ("reply", {"content": "好"}, "invalid_input", "content"),
    ("reply", {"content": IMG}, "invalid_input", "content"),
    ("reply", {"content": 100}, "invalid_input", "content"),
    ("return", {"reason": MISSING}, "invalid_input", "reason"),
    ("return", {"reason": "退"}, "invalid_input", "reason"),
    ("return", {"reason": BIG}, "invalid_input", "reason"),
    ("return", {"reason": SCRIPT}, "invalid_input", "reason"),
    ("return", {"reason": 3.14}, "invalid_input", "reason"),
    ("return/decision", {"accept": MISSING}, "invalid_input", "accept"),
    ("return/decision", {"accept": None}, "invalid_input", "accept"),
    ("return/decision", {"accept": "true"}, "invalid_input", "accept"),
    ("return/decision", {"accept": 1}, "invalid_input", "accept"),
    ("return/decision", {"note": MISSING}, "invalid_input", "note"),
    ("return/decision", {"note": BIG}, "invalid_input", "note"),
    ("return/decision", {"department_code": MISSING}, "invalid_input", "department_code"),
    ("return/decision", {"department_code": "XXX"}, "unknown_department", "department_code"),
    ("return/decision", {"department_code": SQLI_CODES[0]}, "unknown_department", "department_code"),
    ("return/decision", {"department_code": SQLI_CODES[1]}, "unknown_department", "department_code"),
    ("close", {"note": BIG}, "invalid_input", "note"),
    ("close", {"note": 1}, "invalid_input", "note"),
    ("close", {"note": SCRIPT}, "invalid_input", "note"),
    ("answer", {"answer": MISSING}, "invalid_input", "answer"),
    ("answer", {"answer": BIG}, "invalid_input", "answer"),
    ("answer", {"answer": IMG}, "invalid_input", "answer"),
    ("answer", {"answer": ["a", "b"]}, "invalid_input", "answer"),
    ("answer", {"kb_id": "abc"}, "invalid_input", "kb_id"),
    ("answer", {"kb_id": "1"}, "invalid_input", "kb_id"),
    ("answer", {"kb_id": 0}, "invalid_input", "kb_id"),
    ("answer", {"kb_id": -1}, "invalid_input", "kb_id"),
    ("answer", {"kb_id": 1.5}, "invalid_input", "kb_id"),
    ("answer", {"kb_id": True}, "invalid_input", "kb_id"),
    ("answer", {"kb_id": 2**40}, "invalid_input", "kb_id"),
    ("answer", {"kb_id": 999_999}, "unknown_kb_entry", "kb_id"),
    ("merge", {"into": MISSING}, "invalid_input", "into"),
    ("merge", {"into": 123}, "invalid_input", "into"),
    ("merge", {"into": "GD20000101-999999"}, "unknown_case", "into"),
    ("merge", {"into": SQLI_CODES[0]}, "unknown_case", "into"),
    ("merge", {"into": SQLI_CODES[1]}, "unknown_case", "into"),
    ("merge", {"into": BIG}, "invalid_input", "into"),
]


@pytest.mark.parametrize(
    ("endpoint", "overrides", "code", "field"),
    TRANSITION_BAD,
    ids=[f"{e}-{next(iter(o))}-{i}" for i, (e, o, _, _) in enumerate(TRANSITION_BAD)],
)
def test_transition_bad_fields(app, api, phone, endpoint, overrides, code, field, make_case):
    client, path, body, number = prepare(api, make_case, phone, endpoint, overrides)
    before, counts = snapshot(api, number), row_counts(app)
    assert_api_error(client.post(path, json=body), 400, code, field)
    assert snapshot(api, number) == before
    assert row_counts(app) == counts


# --- invalid transitions (422, naming the state) and stale versions (409) ------------------------

INVALID_TRANSITIONS = [
    ("close", "dispatched", "agent1", {}, "invalid_transition", "已派单"),
    ("close", "handling", "dispatcher1", {"note": "办结"}, "invalid_transition", "办理中"),
    ("close", "returned", "dispatcher1", {}, "invalid_transition", "已退回"),
    ("close", "closed", "agent1", {}, "invalid_transition", "已办结"),
    ("answer", "dispatched", "agent1", {"answer": "请到政务中心办理。"}, "invalid_transition", "已派单"),
    ("answer", "closed_direct", "agent1", {"answer": "请到政务中心办理。"}, "invalid_transition", "已办结"),
    ("dispatch", "dispatched", "dispatcher1", {"department_code": "SHJ"}, "invalid_transition", "已派单"),
    ("dispatch", "handling", "dispatcher1", {"department_code": "SHJ"}, "invalid_transition", "办理中"),
    ("dispatch", "closed", "dispatcher1", {"department_code": "SHJ"}, "invalid_transition", "已办结"),
    (
        "dispatch",
        "registered",
        "dispatcher1",
        {"department_code": "SHJ", "role": "assist"},
        "invalid_transition",
        "已登记",
    ),
    (
        "dispatch",
        "handling",
        "dispatcher1",
        {"department_code": "ZJJ", "role": "assist"},
        "already_assigned",
        "已在办理",
    ),
    ("sign", "handling", "handler_zjj", {}, "already_signed", "签收"),
    ("sign", "replied", "handler_zjj", {}, "no_assignment", "已答复"),
    ("sign", "closed", "handler_zjj", {}, "no_assignment", "已办结"),
    ("contact", "dispatched", "handler_zjj", {"note": "已联系"}, "not_signed", "签收"),
    ("contact", "contacted", "handler_zjj", {"note": "又联系了一次"}, "already_contacted", "联系"),
    ("contact", "replied", "handler_zjj", {"note": "已联系"}, "no_assignment", "已答复"),
    ("reply", "dispatched", "handler_zjj", {"content": "已处理。", "result": "resolved"}, "not_signed", "签收"),
    ("reply", "replied", "handler_zjj", {"content": "已处理。", "result": "resolved"}, "no_assignment", "已答复"),
    ("return", "replied", "handler_zjj", {"reason": "不归我们管"}, "no_assignment", "已答复"),
    ("return/decision", "dispatched", "dispatcher1", {"accept": False, "note": "驳回"}, "invalid_transition", "已派单"),
    (
        "return/decision",
        "closed",
        "dispatcher1",
        {"accept": True, "department_code": "RSJ", "note": "改派"},
        "invalid_transition",
        "已办结",
    ),
    ("merge", "closed", "dispatcher1", {"into": "MASTER"}, "invalid_transition", "已办结"),
    ("merge", "registered", "dispatcher1", {"into": "SELF"}, "merge_self", "自己"),
    ("merge", "registered", "dispatcher1", {"into": "CLOSED_MASTER"}, "master_closed", "已结束"),
]


@pytest.mark.parametrize(
    ("endpoint", "state", "user", "body", "code", "words"),
    INVALID_TRANSITIONS,
    ids=[f"{r[0]}-{r[1]}-{i}" for i, r in enumerate(INVALID_TRANSITIONS)],
)
def test_invalid_transition_is_422_naming_the_state(
    app, api, phone, endpoint, state, user, body, code, words, make_case
):
    number = case_in_state(make_case, phone, state)
    body = dict(body)
    if body.get("into") == "MASTER":
        body["into"] = new_case(api("agent1"), phone)["number"]
    elif body.get("into") == "SELF":
        body["into"] = number
    elif body.get("into") == "CLOSED_MASTER":
        body["into"] = case_in_state(make_case, phone, "closed_direct")
    before, counts = snapshot(api, number), row_counts(app)
    error = assert_api_error(api(user).post(f"/cases/{number}/{endpoint}", json=body), 422, code)
    assert words in error["message"], error
    assert snapshot(api, number) == before
    assert row_counts(app) == counts


def test_registered_case_is_invisible_to_departments(api, phone, make_case):
    """Signing a case never dispatched to the unit: 404 (data isolation), not a hint that it exists."""
    number = case_in_state(make_case, phone, "registered")
    before = snapshot(api, number)
    assert_api_error(api("handler_zjj").post(f"/cases/{number}/sign", json={}), 404, "case_not_found")
    assert snapshot(api, number) == before


@pytest.mark.parametrize("endpoint", list(GOOD))
@pytest.mark.parametrize("how", ["body", "if-match"])
def test_stale_version_is_409(app, api, phone, endpoint, how, make_case):
    client, path, body, number = prepare(api, make_case, phone, endpoint)
    before, counts = snapshot(api, number), row_counts(app)
    if how == "body":
        resp = client.post(path, json={**body, "version": before["version"] - 1})
    else:
        resp = client.post(path, json=body, headers={"If-Match": f'"{before["version"] + 5}"'})
    error = assert_api_error(resp, 409, "stale_version")
    assert str(before["version"]) in error["message"]
    assert snapshot(api, number) == before
    assert row_counts(app) == counts


def test_current_version_is_accepted(api, phone, make_case):
    client, path, body, number = prepare(api, make_case, phone, "dispatch")
    version = snapshot(api, number)["version"]
    assert client.post(path, json={**body, "version": version}).status_code == 200
