"""Open311 over real HTTP against a live web process (`flask run`): the ``georeport`` client from PyPI (0.3.1,
requirements-nodeps.txt) reads services, a service definition, requests and a request in JSON and XML, and the
spec-derived checker (tests/unit/open311_spec.py) walks every endpoint, error and status code through
``requests``. georeport cannot create requests, so they are posted with ``requests`` (form-encoded, api_key)."""

from __future__ import annotations

import uuid

import pytest
import requests

from tests import counts
from tests.e2e.conftest import LiveStack
from tests.unit.open311_spec import Answer, Checker

georeport = pytest.importorskip("georeport", reason="pip install --no-deps -r requirements-nodeps.txt")


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    stack = LiveStack(tmp_path_factory.mktemp("open311-stack"))
    stack.env["HOTLINE_OPEN311_RATE_LIMIT"] = "10000 per minute"  # one client address sends every check
    stack.flask("db", "upgrade")
    stack.flask("seed", "--demo")
    try:
        stack.start_web("web", stack.port)
        stack.agent = stack.token("agent1")
        stack.supervisor = stack.token("supervisor1")
        yield stack
    finally:
        stack.stop()


def _root(live) -> str:
    return f"{live.url}/open311/v2"


def _post(live, **fields) -> requests.Response:
    return requests.post(f"{_root(live)}/requests.json", data={"api_key": live.agent, **fields}, timeout=10)


@pytest.fixture(scope="module")
def published(live):
    """(service code, a request posted through Open311, a phone case a supervisor published)."""
    services = requests.get(f"{_root(live)}/services.json", timeout=10).json()
    code = services[0]["service_code"]
    posted = _post(live, service_code=code, lat="39.90421", long="116.40739", description="人民路井盖缺失")
    assert posted.status_code == 201, posted.text
    number = posted.json()[0]["service_request_id"]
    headers = {"Authorization": f"Bearer {live.agent}"}
    body = {
        "channel": "phone",
        "kind": "complaint",
        "content": f"我叫李建国，电话139 8765 4321，住建国路88号3号楼2单元501，楼下噪音扰民 {uuid.uuid4().hex[:6]}",
        "citizen_phone": "13987654321",
        "citizen_name": "李建国",
        "address": "东城区建国路88号3号楼2单元501",
    }
    case = requests.post(f"{live.url}/api/v1/cases", json=body, headers=headers, timeout=10)
    assert case.status_code == 201, case.text
    phone_case = case.json()["number"]
    assert requests.get(f"{_root(live)}/requests/{phone_case}.json", timeout=10).status_code == 404
    made_public = requests.post(
        f"{live.url}/api/v1/cases/{phone_case}/publication",
        json={"public": True},
        headers={"Authorization": f"Bearer {live.supervisor}"},
        timeout=10,
    )
    assert made_public.status_code == 200, made_public.text
    return code, number, phone_case


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_the_georeport_client_reads_every_get_method(live, published, fmt):
    code, number, phone_case = published
    client = georeport.GeoReport(_root(live), jurisdiction="127.0.0.1", output_format=fmt)

    services = client.get_service_list()
    assert any(s["service_code"] == code for s in services) and len(services) > 10
    assert {s["metadata"] for s in services} == ({False} if fmt == "json" else {"false"})

    definition = client.get_service_definition(code)
    assert definition["service_code"] == code and not definition["attributes"]

    listed = client.get_service_requests(service_request_id=f"{number},{phone_case}")
    listed = listed if isinstance(listed, list) else [listed]  # xmltodict: one element is a dict
    assert {r["service_request_id"] for r in listed} == {number, phone_case}

    by_code = client.get_service_requests(service_code=f"{code},{code}", status="open,closed")
    by_code = by_code if isinstance(by_code, list) else [by_code]
    assert number in {r["service_request_id"] for r in by_code}

    one = client.get_service_request(number)
    assert one["service_request_id"] == number and one["status"] == "open"
    assert float(one["lat"]) == 39.904 and float(one["long"]) == 116.407

    public = client.get_service_request(phone_case)
    assert "李建国" not in public["description"] and "8765" not in public["description"]
    assert "501" not in public["description"] and "[电话]" in public["description"]
    assert public["address"] == "东城区建国路"

    with pytest.raises(requests.HTTPError) as elsewhere:
        georeport.GeoReport(_root(live), jurisdiction="elsewhere.example", output_format=fmt).get_service_list()
    assert elsewhere.value.response.status_code == 404


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_the_spec_checker_over_http(live, published, fmt):
    code, number, _ = published

    def fetch(method: str, path: str, data=None) -> Answer:
        resp = requests.request(method, _root(live) + path, data=data, timeout=10)
        return Answer(resp.status_code, resp.headers.get("Content-Type", ""), resp.content, dict(resp.headers))

    checker = Checker(fetch)
    checker.get("/discovery", fmt, "discovery")
    checker.check_services(fmt, limit=10)
    checker.check_requests(fmt, number)
    checker.check_errors(fmt, code, live.agent)
    counts.report(f"open311 spec checker over HTTP ({fmt}): {checker.checks} rules verified, 0 violations")


def test_a_confidential_report_gets_a_token_over_http(live, published):
    code, _, _ = published
    answer = _post(live, service_code=code, address_string="东城区人民路", description="举报有人夜间偷倒建筑垃圾")
    assert answer.status_code == 201 and answer.headers["Content-Type"] == "application/json; charset=utf-8"
    [body] = answer.json()
    assert "service_request_id" not in body and body["token"]
    [looked_up] = requests.get(f"{_root(live)}/tokens/{body['token']}.json", timeout=10).json()
    assert looked_up == {"service_request_id": None, "token": body["token"]}
