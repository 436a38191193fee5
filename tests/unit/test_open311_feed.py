"""The public Open311 feed publishes only what the city chose: requests submitted through Open311 and cases a
supervisor marked public (POST /api/v1/cases/N/publication, a timeline event), redacted, the address cut to its
street; bounded pages, a rate limit per client address, and jurisdiction_id honoured."""

from __future__ import annotations

import re
import uuid

import pytest
import sqlalchemy as sa

from hotline.extensions import db
from hotline.models import Case, CaseEvent, Category

BASE = "/open311/v2"


@pytest.fixture()
def client(app, monkeypatch):
    monkeypatch.setattr(
        app.config["HOTLINE"], "open311_rate_limit", "100000 per minute", raising=False
    )  # the limit: below
    return app.test_client()


def _numbers(client, query: str = "page_size=200") -> set[str]:
    resp = client.get(f"{BASE}/requests.json?{query}")
    assert resp.status_code == 200, resp.data
    return {r["service_request_id"] for r in resp.get_json()}


def _publish(api, number: str, public: bool, user: str = "supervisor1"):
    return api(user).post(f"/cases/{number}/publication", json={"public": public, "note": "市民同意公开"})


def test_cases_from_other_channels_are_not_public_by_default(client, make_case):
    phone_case = make_case("replied", channel="phone", content=f"小区垃圾清运不及时 {uuid.uuid4().hex[:6]}")
    web_case = make_case("registered", channel="web", address="东城区人民路12号")
    assert not {phone_case.number, web_case.number} & _numbers(client)
    assert client.get(f"{BASE}/requests/{phone_case.number}.json").status_code == 404
    assert client.get(f"{BASE}/requests.json?service_request_id={web_case.number}").get_json() == []


def test_a_supervisor_publishes_and_withdraws_a_case_with_timeline_events(app, client, api, make_case):
    case = make_case("replied", channel="phone", content="人民路路灯不亮已经一周了，晚上出行很不方便。")
    answer = _publish(api, case.number, True)
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["public"] is True and answer.get_json()["source"] == "supervisor"
    assert case.number in _numbers(client)
    [req] = client.get(f"{BASE}/requests/{case.number}.json").get_json()
    assert req["status"] == "open" and req["service_notice"]  # the unit's reply, redacted
    assert api("agent1").get(f"/cases/{case.number}/publication").get_json()["public"] is True

    assert _publish(api, case.number, False).get_json()["public"] is False
    assert case.number not in _numbers(client)
    assert client.get(f"{BASE}/requests/{case.number}.json").status_code == 404
    with app.app_context():
        events = db.session.scalars(
            sa.select(CaseEvent).join(Case).where(Case.number == case.number).order_by(CaseEvent.id)
        ).all()
        published = [(e.action, e.actor.username) for e in events if e.action in ("publish", "unpublish")]
        assert published == [("publish", "supervisor1"), ("unpublish", "supervisor1")]
        assert "市民同意公开" in events[-1].note


@pytest.mark.parametrize("user", ["agent1", "dispatcher1", "monitor1", "handler_zjj"])
def test_only_supervisors_and_admins_may_publish(api, make_case, user):
    case = make_case("dispatched", unit="ZJJ")
    assert _publish(api, case.number, True, user).status_code == 403
    assert _publish(api, case.number, True, "admin").status_code == 200


def test_a_confidential_case_is_never_published(api, client, make_case):
    case = make_case("registered", kind="report", content="举报某餐馆使用过期食材。")
    resp = _publish(api, case.number, True)
    assert resp.status_code == 422 and resp.get_json()["error"]["code"] == "confidential_case"
    assert case.number not in _numbers(client)


def test_bad_publication_bodies_are_400(api, make_case):
    case = make_case("registered")
    for body in ({}, {"public": "yes"}, {"public": 1}, {"public": True, "note": "<script>x</script>"}):
        assert api("supervisor1").post(f"/cases/{case.number}/publication", json=body).status_code == 400, body
    assert _publish(api, "GD20990101-999999", True).status_code == 404


def test_an_open311_request_is_public_until_a_supervisor_withdraws_it(app, client, api, tokens):
    with app.app_context():
        code = str(db.session.scalar(sa.select(Category.id).where(Category.level == 2).order_by(Category.id)))
    data = {
        "api_key": tokens["agent1"],
        "service_code": code,
        "address_string": "东城区人民路",
        "description": "井盖缺失",
    }
    number = client.post(f"{BASE}/requests.json", data=data).get_json()[0]["service_request_id"]
    assert number in _numbers(client)
    assert api("supervisor1").get(f"/cases/{number}/publication").get_json()["source"] == "open311"
    _publish(api, number, False)
    assert number not in _numbers(client)
    monkey_off = app.config["HOTLINE"]
    _publish(api, number, True)
    previous, monkey_off.open311_publish_submitted = monkey_off.open311_publish_submitted, False
    try:  # the city may turn the default off: then only what a supervisor chose is public
        number2 = client.post(f"{BASE}/requests.json", data=data).get_json()[0]["service_request_id"]
        assert number in _numbers(client) and number2 not in _numbers(client)
    finally:
        monkey_off.open311_publish_submitted = previous


def test_the_feed_redacts_text_and_coarsens_the_address(app, client, api, make_case):
    content = (
        "我叫王小明，住朝阳区建国路88号3号楼2单元501，电话138 1234 5678，备用138-1234-5678，"
        "座机010-6512 3456，身份证11010119900307123X，楼下京A12345长期占用消防通道，王先生多次劝阻无效。"
    )
    case = make_case(
        "replied",
        content=content,
        citizen_name="王小明",
        address="朝阳区建国路88号3号楼2单元501",
        reply="已联系王小明（13812345678），车辆京A12345已挪走。",
    )
    _publish(api, case.number, True)
    [req] = client.get(f"{BASE}/requests/{case.number}.json").get_json()
    text = req["description"] + req["service_notice"]
    for secret in ("王小明", "小明", "1381234", "1234 5678", "5678", "6512", "11010119900307123X", "京A12345", "501"):
        assert secret not in text, secret
    assert "[电话]" in text and "[证件号]" in text and "[车牌]" in text and "[门牌]" in text and "[姓名]" in text
    assert "某先生" in req["description"] and "消防通道" in req["description"]
    assert req["address"] == "朝阳区建国路"


def test_page_size_is_bounded(app, client, tokens):
    with app.app_context():
        code = str(db.session.scalar(sa.select(Category.id).where(Category.level == 2).order_by(Category.id)))
    for i in range(3):
        data = {"api_key": tokens["agent1"], "service_code": code, "lat": "39.9", "long": "116.4"}
        assert client.post(f"{BASE}/requests.json", data={**data, "description": f"第{i}件"}).status_code == 201
    settings = app.config["HOTLINE"]
    assert len(client.get(f"{BASE}/requests.json").get_json()) <= settings.open311_page_size
    first = client.get(f"{BASE}/requests.json?page_size=2").get_json()
    second = client.get(f"{BASE}/requests.json?page_size=2&page=2").get_json()
    assert len(first) == 2 and len(second) >= 1
    assert not {r["service_request_id"] for r in first} & {r["service_request_id"] for r in second}
    too_many = client.get(f"{BASE}/requests.json?page_size={settings.open311_max_page_size + 1}")
    assert too_many.status_code == 400
    assert settings.open311_max_page_size <= 1000  # the specification's bound


def test_jurisdiction_id_is_honoured(app, client):
    own = app.config["HOTLINE"].open311_jurisdiction or "127.0.0.1"
    for path in ("/services.json", "/requests.json", "/discovery.json"):
        assert client.get(f"{BASE}{path}?jurisdiction_id={own}").status_code == 200
        other = client.get(f"{BASE}{path}?jurisdiction_id=elsewhere.gov")
        assert other.status_code == 404 and other.get_json()[0]["code"] == 404
    xml_answer = client.get(f"{BASE}/services.xml?jurisdiction_id=elsewhere.gov")
    assert xml_answer.status_code == 404 and b"<errors>" in xml_answer.data


def test_reading_is_rate_limited_per_client_address(app, monkeypatch):
    monkeypatch.setattr(app.config["HOTLINE"], "open311_rate_limit", "5 per minute")
    address = f"10.31.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    client = app.test_client()
    answers = [client.get(f"{BASE}/requests.json", environ_base={"REMOTE_ADDR": address}).status_code for _ in range(8)]
    assert answers[:5] == [200] * 5 and answers[5:] == [429] * 3
    limited = client.get(f"{BASE}/requests.xml", environ_base={"REMOTE_ADDR": address})
    assert limited.status_code == 429 and b"<code>429</code>" in limited.data
    assert int(limited.headers["Retry-After"]) > 0
    other = client.get(f"{BASE}/requests.json", environ_base={"REMOTE_ADDR": "10.32.0.1"})
    assert other.status_code == 200  # another address has its own quota


def test_posting_with_an_api_key_is_not_held_by_the_read_limit(app, tokens, monkeypatch):
    monkeypatch.setattr(app.config["HOTLINE"], "open311_rate_limit", "2 per minute")
    address = f"10.33.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    client = app.test_client()
    with app.app_context():
        code = str(db.session.scalar(sa.select(Category.id).where(Category.level == 2).order_by(Category.id)))
    data = {
        "api_key": tokens["agent1"],
        "service_code": code,
        "address_string": "东城区人民路",
        "description": "路灯不亮",
    }
    posts = [
        client.post(f"{BASE}/requests.json", data=data, environ_base={"REMOTE_ADDR": address}).status_code
        for _ in range(4)
    ]
    assert posts == [201] * 4  # a city app posts for many citizens from one address


def _session(app, username: str):
    from hotline.seed.city import DEMO_PASSWORD

    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/login", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token})
    return client


def test_the_case_page_shows_the_control_to_supervisors_and_it_works(app, client, make_case):
    case = make_case("replied", content="人民路口的路灯不亮，晚上行人看不清路。")
    supervisor = _session(app, "supervisor1")
    html = supervisor.get(f"/cases/{case.number}").get_data(as_text=True)
    assert 'id="action-publication"' in html and "未公开" in html and "js/publication.js" in html
    assert f'action="/api/v1/cases/{case.number}/publication"' in html and 'data-public="true"' in html
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)
    done = supervisor.post(
        f"/api/v1/cases/{case.number}/publication", json={"public": True}, headers={"X-CSRFToken": csrf}
    )
    assert done.status_code == 200 and done.get_json()["public"] is True  # what publication.js sends
    assert case.number in _numbers(client)
    html = supervisor.get(f"/cases/{case.number}").get_data(as_text=True)
    assert "已公开" in html and "取消公开" in html and 'data-public="false"' in html
    agent_html = _session(app, "agent1").get(f"/cases/{case.number}").get_data(as_text=True)
    assert 'id="action-publication"' not in agent_html
