"""Unknown case numbers (404 case_not_found), wrong methods (405), unknown API paths (404 not_found) and
/healthz: JSON errors for the API, HTML errors for pages.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.helpers import new_case
from tests.integration.bad_input_support import GOOD, IMG, assert_api_error, case_in_state, row_counts, snapshot

# --- unknown case numbers ------------------------------------------------------------------------

UNKNOWN_NUMBERS = [
    "GD20000101-999999",
    "GD' OR '1'='1",
    "1; DROP TABLE cases",
    IMG,
    "x" * 300,
    "工单",
    "%00",
    "\x00",
    "GD20000101-99999\x00",
]  # (no "/": %2F is a path separator, a plain 404 not_found)
CASE_ENDPOINTS = [("get", "", "dispatcher1", None)] + [("post", f"/{e}", GOOD[e][1], GOOD[e][2]) for e in GOOD]


@pytest.mark.parametrize("number", UNKNOWN_NUMBERS)
@pytest.mark.parametrize(("method", "suffix", "user", "body"), CASE_ENDPOINTS, ids=["get", *GOOD])
def test_unknown_case_number_is_404(app, api, phone, method, suffix, user, body, number):
    counts = row_counts(app)
    body = dict(body or {})
    if body.get("into") == "MASTER":
        body["into"] = new_case(api("agent1"), phone)["number"]
        counts = row_counts(app)
    client = api(user)
    path = f"/cases/{quote(number, safe='')}{suffix}"
    resp = client.get(path) if method == "get" else client.post(path, json=body)
    error = assert_api_error(resp, 404, "case_not_found")
    assert "工单" in error["message"] and "不存在" in error["message"]
    assert len(error["message"]) < 80  # the echoed number is cut short
    assert row_counts(app) == counts


# --- methods, paths, health ----------------------------------------------------------------------

WRONG_METHODS = [
    ("get", "/cases/{n}/sign"),
    ("get", "/cases/{n}/dispatch"),
    ("put", "/cases/{n}"),
    ("delete", "/cases/{n}"),
    ("patch", "/cases/{n}/close"),
    ("put", "/cases"),
    ("delete", "/cases"),
    ("put", "/users"),
    ("delete", "/users"),
    ("get", "/cases/{n}/return/decision"),
]


@pytest.mark.parametrize(("method", "path"), WRONG_METHODS)
def test_wrong_method_is_405_json(app, api, phone, tokens, method, path, make_case):
    number = case_in_state(make_case, phone, "registered")
    before = snapshot(api, number)
    resp = getattr(app.test_client(), method)(
        "/api/v1" + path.format(n=number), json={"note": "x"}, headers={"Authorization": f"Bearer {tokens['admin']}"}
    )
    assert_api_error(resp, 405, "method_not_allowed")
    assert resp.headers.get("Allow")  # what would have been accepted
    assert snapshot(api, number) == before


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/nope",
        "/api/v1/",
        "/api/v1",
        "/api/v1/cases/GD1/unknown",
        "/api/v1/cases/GD1/return/unknown",
        "/api/v2/cases",
        "/api/v1/users/1/unknown",
        "/api/v1/%3Cscript%3E",
    ],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_unknown_api_path_is_404_json(app, tokens, path, method):
    resp = getattr(app.test_client(), method)(path, headers={"Authorization": f"Bearer {tokens['admin']}"})
    assert_api_error(resp, 404, "not_found")


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Content-Type": "application/json"}])
def test_healthz(app, headers):
    resp = app.test_client().get("/healthz?page=abc&x=%00", headers=headers)
    assert resp.status_code == 200
    assert resp.get_json() == {
        "status": "ok",
        "database": "ok",
        "redis": "ok",
        "checks": {"database": "ok", "redis": "ok"},
    }


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_healthz_wrong_method_is_405_json(app, method):
    resp = getattr(app.test_client(), method)("/healthz", data=b"garbage")
    assert_api_error(resp, 405, "method_not_allowed")
    assert "GET" in resp.headers["Allow"]


def test_pages_keep_html_errors(app):
    resp = app.test_client().get("/logout", headers={"Accept": "text/html"})  # POST only
    assert resp.status_code == 405 and resp.mimetype == "text/html" and "POST" in resp.headers["Allow"]
