"""Open311 GeoReport v2 under /open311/v2: discovery, services (level-2 categories), posting a request with an
api_key, listing and fetching requests (JSON and XML), tokens, and errors as [{code, description}]."""

from __future__ import annotations

import uuid
from xml.etree import ElementTree as ET  # our own answers, not untrusted input

import pytest
import sqlalchemy as sa

from hotline.extensions import db
from hotline.models import Case, Category


def parse_xml(raw: bytes) -> ET.Element:
    return ET.fromstring(raw)  # noqa: S314 — the server's own answer


@pytest.fixture()
def client(app, monkeypatch):
    monkeypatch.setattr(
        app.config["HOTLINE"], "open311_rate_limit", "100000 per minute", raising=False
    )  # the limit: unit tests
    return app.test_client()


def _service(app) -> tuple[str, str]:
    with app.app_context():
        row = db.session.scalar(sa.select(Category).where(Category.level == 2).order_by(Category.path))
        return str(row.id), row.name


def _post(client, tokens, service_code, **fields):
    data = {
        "api_key": tokens["agent1"],
        "service_code": service_code,
        "address_string": "人民路88号",
        "description": "人民路88号门口井盖松动，车辆经过响声很大。",
        "phone": "139" + f"{uuid.uuid4().int % 10**8:08d}",
        "first_name": "小明",
        "last_name": "王",
    }
    data.update(fields)
    return client.post("/open311/v2/requests.json", data={k: v for k, v in data.items() if v is not None})


def test_discovery_and_services(app, client):
    d = client.get("/open311/v2/discovery.json").get_json()
    assert d["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert d["endpoints"][0]["url"].endswith("/open311/v2") and "text/xml" in d["endpoints"][0]["formats"]
    services = client.get("/open311/v2/services.json").get_json()
    with app.app_context():
        level2 = db.session.scalar(sa.select(sa.func.count()).select_from(Category).where(Category.level == 2))
    assert len(services) == level2 > 0
    first = services[0]
    assert set(first) >= {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
    assert first["metadata"] is False and first["type"] == "realtime"
    xml = parse_xml(client.get("/open311/v2/services.xml").data)
    assert xml.tag == "services" and len(xml.findall("service")) == level2
    assert xml.find("service/service_code").text == first["service_code"]
    definition = client.get(f"/open311/v2/services/{first['service_code']}.json").get_json()
    assert definition == {"service_code": first["service_code"], "attributes": []}
    assert client.get("/open311/v2/services/999999.json").status_code == 404


def test_post_then_get_request_and_token(app, client, tokens, api):
    code, name = _service(app)
    resp = _post(client, tokens, code)
    assert resp.status_code == 201, resp.get_json()
    [answer] = resp.get_json()
    number = answer["service_request_id"]
    with app.app_context():
        case = db.session.scalar(sa.select(Case).where(Case.number == number))
        assert case.channel == "app" and str(case.category_id) == code and case.address == "人民路88号"
    [req] = client.get(f"/open311/v2/requests/{number}.json").get_json()
    assert req["status"] == "open" and req["service_code"] == code and req["service_name"] == name
    assert req["agency_responsible"] is None and req["expected_datetime"] is None
    assert req["requested_datetime"].endswith("Z")

    api("dispatcher1").post(f"/cases/{number}/dispatch", json={"department_code": "ZJJ"})
    [req] = client.get(f"/open311/v2/requests/{number}.json").get_json()
    with app.app_context():
        case = db.session.scalar(sa.select(Case).where(Case.number == number))
        deadline = case.deadline_reply.isoformat(timespec="seconds").replace("+00:00", "Z")
        assert req["agency_responsible"] == case.lead_department.name
    assert req["expected_datetime"] == deadline

    xml = parse_xml(client.get(f"/open311/v2/requests/{number}.xml").data)
    assert xml.tag == "service_requests" and xml.find("request/service_request_id").text == number
    assert xml.find("request/status").text == "open"
    [tok] = client.get(f"/open311/v2/tokens/{number}.json").get_json()
    assert tok == {"service_request_id": number, "token": number}

    listed = client.get("/open311/v2/requests.json", query_string={"service_request_id": f"{number},GD00000000-0"})
    assert [r["service_request_id"] for r in listed.get_json()] == [number]
    by_code = client.get("/open311/v2/requests.json", query_string={"service_code": code, "status": "open"})
    assert number in [r["service_request_id"] for r in by_code.get_json()]
    closed = client.get("/open311/v2/requests.json", query_string={"service_code": code, "status": "closed"})
    assert number not in [r["service_request_id"] for r in closed.get_json()]


def test_lat_long_location_and_phone_masking(app, client, tokens):
    code, _ = _service(app)
    resp = _post(
        client,
        tokens,
        code,
        address_string=None,
        lat="39.9042",
        long="116.4074",
        description="路口信号灯不亮，请联系我13912345678。",
    )
    number = resp.get_json()[0]["service_request_id"]
    [req] = client.get(f"/open311/v2/requests/{number}.json").get_json()
    assert req["address"] is None  # the public feed shows streets, not coordinates written as an address
    assert (req["lat"], req["long"]) == (39.904, 116.407)  # rounded to about 100 m
    assert "13912345678" not in req["description"] and "[电话]" in req["description"]


def test_confidential_cases_are_not_public(app, client, api, phone):
    from tests.helpers import new_case

    number = new_case(api("agent1"), phone, kind="report", content="举报某工地夜间偷排污水。")["number"]
    assert client.get(f"/open311/v2/requests/{number}.json").status_code == 404
    listed = client.get("/open311/v2/requests.json", query_string={"service_request_id": number}).get_json()
    assert listed == []


@pytest.mark.parametrize(
    "fields,status,text",
    [
        ({"api_key": None}, 403, "api_key"),
        ({"api_key": "nope"}, 403, "api_key"),
        ({"service_code": "abc"}, 404, "服务代码"),
        ({"service_code": "999999"}, 404, "服务代码"),
        ({"address_string": None}, 400, "需要位置"),
        ({"address_string": None, "lat": "north", "long": "1"}, 400, "lat 必须是数字"),
        ({"address_string": None, "lat": "91", "long": "1"}, 400, "超出范围"),
        ({"description": "<script>alert(1)</script>"}, 400, "网页标记"),
        ({"phone": "12ab"}, 400, "phone"),
        ({"media_url": "javascript:alert(1)"}, 400, "media_url"),
    ],
)
def test_bad_posts_are_refused_with_open311_errors_and_store_nothing(app, client, tokens, fields, status, text):
    code, _ = _service(app)
    marker = uuid.uuid4().hex[:8]
    fields.setdefault("description", f"人民路井盖松动 {marker}")
    if fields["description"] is not None and "script" not in fields["description"]:
        fields["description"] = f"人民路井盖松动 {marker}"
    fields = {"service_code": code, **fields}
    resp = _post(client, tokens, **fields)
    assert resp.status_code == status, resp.data
    [error] = resp.get_json()
    assert error["code"] == status and text in error["description"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Case).where(Case.content.contains(marker))) == 0


def test_department_users_may_not_post(app, client, tokens):
    code, _ = _service(app)
    resp = _post(client, tokens, code, api_key=tokens["handler_zjj"])
    assert resp.status_code == 403


@pytest.mark.parametrize(
    "path,status",
    [
        ("/open311/v2/requests.json?start_date=yesterday", 400),
        ("/open311/v2/requests.json?start_date=2026-11-02T00:00:00Z&end_date=2026-11-01T00:00:00Z", 400),
        ("/open311/v2/requests.json?status=pending", 400),
        ("/open311/v2/requests.json?service_code=x", 400),
        ("/open311/v2/requests/GD20991231-999999.json", 404),
        ("/open311/v2/tokens/unknown.xml", 404),
    ],
)
def test_bad_queries(client, path, status):
    resp = client.get(path)
    assert resp.status_code == status
    if path.endswith(".xml"):
        xml = parse_xml(resp.data)
        assert xml.tag == "errors" and xml.find("error/code").text == str(status)
    else:
        [error] = resp.get_json()
        assert error["code"] == status and any("\u4e00" <= ch <= "\u9fff" for ch in error["description"])
