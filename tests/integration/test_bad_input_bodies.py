"""Request bodies that are not a JSON object, empty bodies and bodies over MAX_CONTENT_LENGTH, on POST
/api/v1/cases and every transition: a clear JSON error, nothing stored.
"""

from __future__ import annotations

import json

import pytest

from tests.helpers import new_case
from tests.integration.bad_input_support import GOOD, assert_api_error, prepare, row_counts, snapshot

# --- bodies that are not a JSON object -----------------------------------------------------------

RAW_BODIES = [
    ("list", b"[]", "application/json"),
    ("list-of-object", b'[{"note": "x"}]', "application/json"),
    ("string", b'"note"', "application/json"),
    ("number", b"123", "application/json"),
    ("null", b"null", "application/json"),
    ("bool", b"true", "application/json"),
    ("broken-json", b'{"note": "x",', "application/json"),
    ("single-quotes", b"{'note': 'x'}", "application/json"),
    ("invalid-utf8", b'{"note": "\xff\xfe\xfa"}', "application/json"),
    ("json-as-text", b'{"note": "x"}', "text/plain"),
    ("json-without-content-type", b'{"note": "x"}', None),
    ("form", b"note=x&reason=y", "application/x-www-form-urlencoded"),
    ("binary", b"\x00\x01\x02\xff", "application/octet-stream"),
    ("deeply-nested", b"[" * 100_000, "application/json"),
    ("deeply-nested-object", b'{"note": ' + b'{"a": ' * 50_000 + b"1" + b"}" * 50_001, "application/json"),
    ("huge-integer", b'{"kb_id": ' + b"9" * 5000 + b"}", "application/json"),
]
POST_ENDPOINTS = ["cases", *GOOD]


@pytest.mark.parametrize("endpoint", POST_ENDPOINTS)
@pytest.mark.parametrize(("name", "data", "content_type"), RAW_BODIES, ids=[r[0] for r in RAW_BODIES])
def test_body_that_is_not_a_json_object(app, api, phone, endpoint, name, data, content_type, make_case):
    if endpoint == "cases":
        client, path, number = api("agent1"), "/cases", None
    else:
        client, path, _, number = prepare(api, make_case, phone, endpoint)
    before = snapshot(api, number) if number else None
    counts = row_counts(app)
    headers = {"Content-Type": content_type} if content_type else {}
    resp = client.post(path, data=data, headers=headers)
    error = assert_api_error(resp, 400, "invalid_json")
    if content_type != "application/json":
        assert "application/json" in error["message"]
    if number:
        assert snapshot(api, number) == before
    assert row_counts(app) == counts


@pytest.mark.parametrize("endpoint", POST_ENDPOINTS)
def test_empty_body(app, api, phone, endpoint, make_case):
    """No body at all is an empty object: refused for missing fields, except where {} is valid (sign)."""
    if endpoint == "cases":
        client, path, number = api("agent1"), "/cases", None
    else:
        client, path, _, number = prepare(api, make_case, phone, endpoint)
    before = snapshot(api, number) if number else None
    for headers in ({}, {"Content-Type": "application/json"}):
        resp = client.post(path, data=b"", headers=headers)
        if endpoint in ("sign", "close"):  # nothing required
            assert resp.status_code == 200, resp.get_json()
            return
        error = assert_api_error(resp, 400, "invalid_input")
        assert error["fields"] and all("缺少必填项" in v for v in error["fields"].values())
        if number:
            assert snapshot(api, number) == before


# --- request size --------------------------------------------------------------------------------


def limit(app) -> int:
    value = app.config.get("MAX_CONTENT_LENGTH")
    assert value and value <= 10 * 1024 * 1024, f"MAX_CONTENT_LENGTH should be set (1 MB proposed), is {value}"
    return value


def test_body_just_under_max_content_length_is_refused_by_field_limits(app, api, phone):
    counts = row_counts(app)
    body = {"channel": "phone", "kind": "complaint", "content": "x" * (limit(app) - 1000), "citizen_phone": phone}
    assert_api_error(api("agent1").post("/cases", json=body), 400, "invalid_input", "content")
    assert row_counts(app) == counts


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", None])
def test_body_over_max_content_length_is_413_json(app, api, phone, content_type):
    counts = row_counts(app)
    data = json.dumps(
        {"channel": "phone", "kind": "complaint", "content": "x" * (limit(app) + 1), "citizen_phone": phone}
    ).encode()
    headers = {"Content-Type": content_type} if content_type else {}
    resp = api("agent1").post("/cases", data=data, headers=headers)
    error = assert_api_error(resp, 413, "payload_too_large")
    assert "过大" in error["message"]
    assert row_counts(app) == counts
    # a normal request still passes under the limit
    new_case(api("agent1"), phone)
