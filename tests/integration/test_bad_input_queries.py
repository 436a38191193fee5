"""Bad query parameters on GET /api/v1/cases and GET /api/v1/users: 400 JSON errors; the good ones work."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.integration.bad_input_support import SCRIPT, SQLI_CODES, assert_api_error, case_in_state

# --- query parameters ----------------------------------------------------------------------------

BAD_QUERIES = [
    ("page=abc", "invalid_input", "page"),
    ("page=-1", "invalid_input", "page"),
    ("page=0", "invalid_input", "page"),
    ("page=1.5", "invalid_input", "page"),
    ("page=1e3", "invalid_input", "page"),
    ("page=%C2%B2", "invalid_input", "page"),  # "²" — str.isdigit() says yes, int() says no
    ("page=%EF%BC%91", "invalid_input", "page"),  # full-width "１"
    ("page=99999999999999999999", "invalid_input", "page"),
    ("page=1%00", "invalid_input", "page"),
    ("status=bogus", "invalid_input", "status"),
    ("status=registered,bogus", "invalid_input", "status"),
    ("status=" + quote(SQLI_CODES[0]), "invalid_input", "status"),
    ("status=" + quote(SCRIPT), "invalid_input", "status"),
    ("status=" + "x" * 5000, "invalid_input", "status"),
    ("department=XXX", "unknown_department", "department"),
    ("department=" + quote(SQLI_CODES[0]), "unknown_department", "department"),
    ("department=" + quote(SQLI_CODES[1]), "unknown_department", "department"),
    ("department=%00", "unknown_department", "department"),
    ("department=" + "Z" * 5000, "unknown_department", "department"),
    ("due_before=notadate", "invalid_input", "due_before"),
    ("due_before=2026-13-45", "invalid_input", "due_before"),
    ("due_before=2026-02-30", "invalid_input", "due_before"),
    ("due_before=" + quote("2026-11-30'; DROP TABLE cases; --"), "invalid_input", "due_before"),
    ("due_before=" + quote("0001-01-01T00:00:00+01:00"), "invalid_input", "due_before"),
    ("due_before=" + quote("9999-12-31T23:59:59-01:00"), "invalid_input", "due_before"),
]


@pytest.mark.parametrize(("query", "code", "field"), BAD_QUERIES, ids=[q[:40] for q, _, _ in BAD_QUERIES])
@pytest.mark.parametrize("user", ["dispatcher1", "handler_zjj"])
def test_list_cases_bad_query(api, user, query, code, field):
    error = assert_api_error(api(user).get(f"/cases?{query}"), 400, code, field)
    assert len(error["message"]) < 200


GOOD_QUERIES = [
    "",
    "page=1",
    "page=2",
    "page=",
    "status=registered",
    "status=registered,dispatched",
    "status=",
    "department=ZJJ",
    "department=D01",
    "due_before=2030-01-01",
    "due_before=2030-01-01T08:00:00%2B08:00",
    "status=closed&department=C&due_before=2000-01-01&page=3",
    "unknown=1",
]


@pytest.mark.parametrize("query", GOOD_QUERIES)
def test_list_cases_good_query(api, phone, query, make_case):
    case_in_state(make_case, phone, "dispatched")
    resp = api("dispatcher1").get(f"/cases?{query}")
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert set(body) == {"items", "page", "per_page", "total"}


def test_list_cases_filters_by_status_and_department(api, phone, make_case):
    number = case_in_state(make_case, phone, "dispatched")
    items = api("dispatcher1").get("/cases?status=dispatched&department=ZJJ").get_json()["items"]
    assert number in [c["number"] for c in items]
    assert all(c["status"] == "dispatched" and c["department_code"] == "ZJJ" for c in items)
    items = api("dispatcher1").get("/cases?status=dispatched&department=SHJ").get_json()["items"]
    assert number not in [c["number"] for c in items]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("role=bogus", "role"),
        ("role=" + quote(SQLI_CODES[0]), "role"),
        ("role=" + quote(SCRIPT), "role"),
        ("role=" + "a" * 5000, "role"),
    ],
)
def test_users_bad_role(api, query, field):
    error = assert_api_error(api("dispatcher1").get(f"/users?{query}"), 400, "invalid_input", field)
    assert len(error["message"]) < 100


@pytest.mark.parametrize(
    "role", ["agent", "dispatcher", "monitor", "supervisor", "department_handler", "department_admin", "admin"]
)
def test_users_by_role(api, role):
    users = api("agent1").get(f"/users?role={role}").get_json()["users"]
    assert users and all({"username", "department_code"} <= set(u) for u in users)
    assert all(u["role"] == role for u in users)
