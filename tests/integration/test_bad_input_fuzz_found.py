"""Bad inputs the fuzzers found (issue 16): each gave a 500 before; now a zh-CN 400 (API) or a page with a message.

``²`` and ``１`` pass ``str.isdigit()`` but fail ``int()``; 10**20 and 10**40 overflow the SQL parameter; NUL is
refused by PostgreSQL inside a string parameter.
"""

from __future__ import annotations

import pytest

from tests.integration.bad_input_support import assert_api_error
from tests.integration.test_pages import Browser

SUPERSCRIPT_TWO = "%C2%B2"  # "²"
FULLWIDTH_ONE = "%EF%BC%91"  # "１"


@pytest.fixture(scope="module")
def dispatcher(app):
    return Browser(app, "dispatcher1")


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        (f"page={SUPERSCRIPT_TWO}", "页码必须是正整数"),
        (f"page={FULLWIDTH_ONE}", "页码必须是正整数"),
        ("page=" + "1" + "0" * 20, "页码必须是正整数"),
        ("page=-3", "页码必须是正整数"),
        ("q=%00", "控制字符"),
        ("q=GD%00x", "控制字符"),
    ],
)
def test_case_list_page_bad_query_shows_a_message(dispatcher, query, problem):
    resp = dispatcher.get(f"/cases?{query}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200, (query, resp.status_code)
    assert problem in html
    assert "Traceback" not in html


@pytest.mark.parametrize("department", [SUPERSCRIPT_TWO, "1" + "0" * 20])
def test_case_list_page_bad_department_is_ignored(dispatcher, department):
    resp = dispatcher.get(f"/cases?department={department}")
    assert resp.status_code == 200


def test_case_list_page_past_the_end_shows_the_last_page(dispatcher, make_case, phone):
    make_case("registered", phone=phone)
    resp = dispatcher.get("/cases?page=99999")
    assert resp.status_code == 200
    assert "页码必须是正整数" not in resp.get_data(as_text=True)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("since=1" + "0" * 40, "since"),
        ("since=" + "9" * 19, "since"),  # over bigint
        (f"since={SUPERSCRIPT_TWO}", "since"),
        (f"since={FULLWIDTH_ONE}", "since"),
        (f"since=1&limit={SUPERSCRIPT_TWO}", "limit"),
        ("since=1&limit=1" + "0" * 30, "limit"),
    ],
)
def test_console_changes_bad_cursor_is_400(api, query, field):
    assert_api_error(api("agent1").get(f"/console/changes?{query}"), 400, "invalid_input", field)


def test_console_changes_largest_cursor_is_answered(api):
    resp = api("agent1").get(f"/console/changes?since={2**63 - 1}")
    assert resp.status_code == 200 and resp.get_json()["items"] == []


@pytest.mark.parametrize("year", [SUPERSCRIPT_TWO, FULLWIDTH_ONE + "2027", "2" + "0" * 30, "%00"])
def test_sla_holidays_bad_year_is_400(api, year):
    assert_api_error(api("dispatcher1").get(f"/sla/holidays?year={year}"), 400, "invalid_input", "year")


def test_sla_holidays_good_year(api):
    resp = api("dispatcher1").get("/sla/holidays?year=2027")
    assert resp.status_code == 200 and resp.get_json()["year"] == 2027


@pytest.mark.parametrize(
    ("method", "path", "user"),
    [
        ("post", "/citizens/11064054866785945518080/tags", "agent1"),
        ("get", "/rectifications/22461919504026711359488", "supervisor1"),
        ("post", "/rectifications/22461919504026711359488/appeal/decision", "supervisor1"),
        ("get", "/kb/entries/" + "9" * 30, "agent1"),
        ("post", "/kb/feedback/" + "9" * 30 + "/resolve", "handler_zjj"),
        ("post", f"/citizens/{2**31}/unmask", "agent1"),
    ],
)
def test_an_id_beyond_the_integer_range_is_404(api, method, path, user):
    """schemathesis: an id over the database's integer range overflowed the SQL parameter (500)."""
    client = api(user)
    resp = getattr(client, method)(path) if method == "get" else client.post(path, json={"tags": []})
    assert_api_error(resp, 404)


def test_delete_of_a_rule_beyond_the_integer_range_is_refused(app, tokens):
    """Werkzeug checks the method before the converter's range: 405 (the other methods of that rule), not a 500."""
    resp = app.test_client().delete(
        "/api/v1/routing/rules/501035299718943670272", headers={"Authorization": f"Bearer {tokens['admin']}"}
    )
    assert_api_error(resp, resp.status_code)
    assert resp.status_code in (404, 405)
