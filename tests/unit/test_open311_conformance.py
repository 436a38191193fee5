"""Open311 GeoReport v2, point by point against the specification (tests/unit/open311_spec.py), on the real app:
every endpoint in JSON and XML, every error it names, and each deviation issue 16 found — optional phone and
description, exact service codes, service_code lists, 404 for an unknown service on POST, errors in the requested
format for unknown paths/extensions/methods, ``charset=utf-8``, lat/long and media_url kept in their own fields,
the token answer of a confidential report, garbage parameters refused with 400 (never 500)."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from hotline.extensions import db
from hotline.models import Case, Category
from tests import counts
from tests.unit.open311_spec import Answer, Checker, xml

BASE = "/open311/v2"


@pytest.fixture(autouse=True)
def _generous_rate_limit(app, monkeypatch):
    """These tests send hundreds of requests from one address; the limit itself: test_open311_feed.py."""
    monkeypatch.setattr(app.config["HOTLINE"], "open311_rate_limit", "100000 per minute", raising=False)


@pytest.fixture()
def client(app):
    return app.test_client()


def fetch_with(client):
    def fetch(method: str, path: str, data=None) -> Answer:
        resp = client.open(BASE + path, method=method, data=data)
        return Answer(resp.status_code, resp.headers.get("Content-Type", ""), resp.data, dict(resp.headers))

    return fetch


def _codes(app) -> list[str]:
    with app.app_context():
        return [str(i) for i in db.session.scalars(sa.select(Category.id).where(Category.level == 2))]


def post(client, tokens, code, fmt="json", **fields):
    data = {"api_key": tokens["agent1"], "service_code": code, "address_string": "东城区人民路"}
    data.update(fields)
    return client.post(f"{BASE}/requests.{fmt}", data={k: v for k, v in data.items() if v is not None})


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_every_endpoint_and_error_follows_the_specification(app, client, tokens, fmt):
    code = _codes(app)[0]
    created = post(client, tokens, code, description=f"人民路路灯不亮 {uuid.uuid4().hex[:6]}")
    assert created.status_code == 201
    number = created.get_json()[0]["service_request_id"]
    checker = Checker(fetch_with(client))
    checker.get("/discovery", fmt, "discovery")
    checker.check_services(fmt)
    checker.check_requests(fmt, number)
    token = checker.get(f"/tokens/{number}", fmt, "service_requests")
    assert token[0]["service_request_id"] == number
    checker.check_errors(fmt, code, tokens["agent1"])
    counts.report(f"open311 spec checker ({fmt}): {checker.checks} rules verified, 0 violations")


def test_phone_and_description_are_optional_as_the_specification_says(app, client, tokens):
    code = _codes(app)[0]
    resp = post(client, tokens, code)  # only api_key, service_code and a location
    assert resp.status_code == 201, resp.data
    number = resp.get_json()[0]["service_request_id"]
    with app.app_context():
        case = db.session.scalar(sa.select(Case).where(Case.number == number))
        assert case.phone.kind == "open311" and case.content  # an anonymous reporter, a placeholder text


def test_service_codes_are_exact(app, client):
    code = _codes(app)[0]
    assert client.get(f"{BASE}/services/{code}.json").status_code == 200
    for alias in (f"0{code}", f"00{code}", f"{code}.0", f"+{code}", f" {code}"):
        resp = client.get(f"{BASE}/services/{alias}.json")
        assert resp.status_code == 404, alias
        assert resp.get_json()[0]["code"] == 404


def test_unknown_service_code_on_post_is_404(app, client, tokens):
    resp = post(client, tokens, "99999999", description="路灯不亮")
    assert resp.status_code == 404 and resp.get_json()[0]["code"] == 404


def test_service_code_lists_and_repeated_parameters(app, client, tokens):
    first, second = _codes(app)[:2]
    a = post(client, tokens, first, description="甲类问题").get_json()[0]["service_request_id"]
    b = post(client, tokens, second, description="乙类问题").get_json()[0]["service_request_id"]
    for query in (f"service_code={first},{second}", f"service_code={first}&service_code={second}"):
        resp = client.get(f"{BASE}/requests.json?{query}&page_size=200")
        assert resp.status_code == 200, resp.data
        numbers = {r["service_request_id"] for r in resp.get_json()}
        assert {a, b} <= numbers, query
    only = {r["service_request_id"] for r in client.get(f"{BASE}/requests.json?service_code={first}").get_json()}
    assert a in only and b not in only
    both = client.get(f"{BASE}/requests.json?service_request_id={a}&service_request_id={b}").get_json()
    assert {r["service_request_id"] for r in both} == {a, b}


@pytest.mark.parametrize(
    "path,fmt",
    [
        ("/no-such-thing.xml", "xml"),
        ("/requests/GD20991231-999999/notes.xml", "xml"),
        ("/services.csv", "json"),
        ("/services.XML", "xml"),
        ("/no-such-thing.json", "json"),
        ("/", "json"),
    ],
)
def test_unknown_paths_and_extensions_answer_in_the_requested_format(client, path, fmt):
    resp = client.get(BASE + path)
    assert resp.status_code == 404
    if fmt == "xml":
        assert resp.headers["Content-Type"] == "text/xml; charset=utf-8"
        assert xml(resp.data).find("error/code").text == "404"
    else:
        assert resp.headers["Content-Type"] == "application/json; charset=utf-8"
        assert resp.get_json()[0]["code"] == 404


def test_outside_v2_and_wrong_methods_answer_in_the_spec_format(client):
    outside = client.get("/open311/v3/services.xml")
    assert outside.status_code == 404 and xml(outside.data).find("error/code").text == "404"
    for method, path in [("DELETE", "/requests.xml"), ("PUT", "/services.xml"), ("POST", "/services/1.xml")]:
        resp = client.open(BASE + path, method=method)
        assert resp.status_code == 405, (method, path)
        assert resp.headers["Content-Type"] == "text/xml; charset=utf-8"
        assert xml(resp.data).find("error/code").text == "405"
        assert "GET" in resp.headers["Allow"]


@pytest.mark.parametrize("path", ["/services.json", "/discovery.json", "/requests.json", "/services.xml"])
def test_content_type_names_utf8(client, path):
    resp = client.get(BASE + path)
    expected = "text/xml" if path.endswith(".xml") else "application/json"
    assert resp.headers["Content-Type"] == f"{expected}; charset=utf-8"


def test_lat_long_and_media_url_are_stored_and_returned_in_their_own_fields(app, client, tokens):
    code = _codes(app)[0]
    media = f"https://img.example.org/{uuid.uuid4().hex}.jpg"
    resp = post(
        client,
        tokens,
        code,
        address_string=None,
        lat="39.90421",
        long="116.40739",
        media_url=media,
        description="路面塌陷，见照片",
    )
    assert resp.status_code == 201, resp.data
    number = resp.get_json()[0]["service_request_id"]
    from hotline.models import Open311Request

    with app.app_context():
        case = db.session.scalar(sa.select(Case).where(Case.number == number))
        assert (case.lat, case.lng, case.location_source) == (39.90421, 116.40739, "open311")
        assert media not in case.content and case.version == 1
        stored = db.session.scalar(sa.select(Open311Request).where(Open311Request.case_id == case.id))
        assert stored.media_url == media
    [req] = client.get(f"{BASE}/requests/{number}.json").get_json()
    assert req["media_url"] == media and media not in req["description"]
    assert (req["lat"], req["long"]) == (39.904, 116.407)
    one = xml(client.get(f"{BASE}/requests/{number}.xml").data)
    assert one.find("request/media_url").text == media and one.find("request/lat").text == "39.904"


def test_confidential_report_answers_with_a_token_never_an_id(app, client, tokens):
    code = _codes(app)[0]
    marker = uuid.uuid4().hex[:8]
    resp = post(client, tokens, code, description=f"举报某工地夜间偷排污水 {marker}")
    assert resp.status_code == 201
    [answer] = resp.get_json()
    assert "service_request_id" not in answer and answer["token"] and "保密" in answer["service_notice"]
    [looked_up] = client.get(f"{BASE}/tokens/{answer['token']}.json").get_json()
    assert looked_up == {"service_request_id": None, "token": answer["token"]}
    as_xml = xml(client.get(f"{BASE}/tokens/{answer['token']}.xml").data)
    assert as_xml.find("request/token").text == answer["token"] and not as_xml.find("request/service_request_id").text
    with app.app_context():
        case = db.session.scalar(sa.select(Case).where(Case.content.contains(marker)))
        assert case.confidential
        number = case.number
    assert client.get(f"{BASE}/requests/{number}.json").status_code == 404
    listed = client.get(f"{BASE}/requests.json?page_size=200").get_json()
    assert number not in {r["service_request_id"] for r in listed}
    xml_post = post(client, tokens, code, fmt="xml", description=f"举报有人私设赌场 {marker}")
    assert (
        xml(xml_post.data).find("request/token").text and xml(xml_post.data).find("request/service_request_id") is None
    )


GARBAGE = [
    "/requests.json?service_request_id=%00",
    "/requests.json?service_request_id=GD%00",
    "/requests.xml?service_request_id=%E2%80%AE%00",
    "/requests.json?service_code=%00",
    "/requests.json?service_code=%C2%B2",
    "/requests.json?service_code=99999999999999999999999",
    "/requests.json?status=%00",
    "/requests.json?status=pending",
    "/requests.json?start_date=10000000000000000000",
    "/requests.json?start_date=9999-12-31T23:59:59-23:59&end_date=0001-01-01T00:00:00%2B23:59",
    "/requests.json?start_date=2026-01-01T00:00:00Z&end_date=2026-12-01T00:00:00Z",
    "/requests.json?page=%C2%B2",
    "/requests.json?page=100000000000000000000",
    "/requests.json?page_size=0",
    "/requests.json?page_size=1001",
    "/requests.json?jurisdiction_id=%00",
    "/services.json?x%00=1",
]


@pytest.mark.parametrize("path", GARBAGE)
def test_garbage_parameters_are_400_never_500(client, path):
    resp = client.get(BASE + path)
    assert resp.status_code == 400, (path, resp.status_code, resp.data[:200])
    fmt = "xml" if ".xml" in path else "json"
    if fmt == "json":
        assert resp.get_json()[0]["code"] == 400
    else:
        assert xml(resp.data).find("error/code").text == "400"


@pytest.mark.parametrize(
    "fields",
    [
        {"lat": "nan", "long": "1"},
        {"lat": "1", "long": "inf"},
        {"lat": "1e400", "long": "1"},
        {"lat": "39.9"},
        {"description": "路灯\x00不亮"},
        {"phone": "\x00"},
        {"media_url": "ftp://x"},
        {"service_code": "\x00"},
    ],
)
def test_garbage_form_fields_are_400(app, client, tokens, fields):
    resp = post(client, tokens, _codes(app)[0], **{"description": "路灯不亮", **fields})
    assert resp.status_code == 400, (fields, resp.data)
