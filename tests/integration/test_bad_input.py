"""Bad input on every /api/v1 endpoint: a clear 400/404/409/422 JSON error in Chinese, stored data unchanged.

Each table row differs from a request that succeeds (``GOOD``) only in the bad part, so a refusal can only
come from that part. After every refusal the case is read again and must be exactly as before.
"""
from __future__ import annotations

import json
import re
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from tests.helpers import new_case

CJK = re.compile(r"[\u4e00-\u9fff]")
# what must never reach a client: traces, exception class names, library internals
LEAK = re.compile(r"Traceback|File \"|\b[A-Z]\w*(Error|Exception|Refused|Transition)\b|(?i:sqlalchemy|werkzeug|"
                  r"psycopg|sqlite|NoneType|\bline \d+|internal server error)")
MISSING = object()
BIG = "投诉内容" * 25_600  # 100 KB of characters (102,400)
SQLI_CODES = ("ZJJ' OR '1'='1", "1; DROP TABLE cases")
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"


# --- helpers -------------------------------------------------------------------------------------

def assert_api_error(resp, status: int, code: str | None = None, field: str | None = None) -> dict:
    """The response is the documented JSON error: right status and code, zh-CN message, no internals."""
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True)[:500])
    assert resp.is_json, resp.get_data(as_text=True)[:300]
    body = resp.get_json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "fields"}, error
    assert re.fullmatch(r"[a-z][a-z0-9_]*", error["code"]), error
    if code is not None:
        assert error["code"] == code, error
    assert CJK.search(error["message"]), error
    assert not LEAK.search(error["message"]), error
    assert isinstance(error["fields"], dict), error
    for reason in error["fields"].values():
        assert isinstance(reason, str) and CJK.search(reason) and not LEAK.search(reason), error
    if field is not None:
        assert field in error["fields"], error
    return error


def snapshot(api, number: str) -> dict:
    """Everything the API shows about a case (status, version, events, assignments, content...)."""
    resp = api("dispatcher1").get(f"/cases/{number}")
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def row_counts(app) -> dict:
    from hotline.extensions import db
    from hotline.models import Assignment, Case, CaseEvent, Citizen, CitizenPhone

    with app.app_context():
        return {m.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(m))
                for m in (Case, CaseEvent, Assignment, Citizen, CitizenPhone)}


def ok(resp):
    assert resp.status_code in (200, 201), resp.get_json()
    return resp.get_json()


def case_in_state(api, phone: str, state: str) -> str:
    """A fresh case (dispatched to 住建局 ZJJ where it gets that far) in ``state``; returns its number."""
    agent, dispatcher, handler = api("agent1"), api("dispatcher1"), api("handler_zjj")
    number = new_case(agent, phone)["number"]
    if state == "registered":
        return number
    if state == "closed_direct":
        ok(agent.post(f"/cases/{number}/answer", json={"answer": "已按知识库答复市民。"}))
        return number
    ok(dispatcher.post(f"/cases/{number}/dispatch", json={"department_code": "ZJJ"}))
    if state == "dispatched":
        return number
    if state == "returned":
        ok(handler.post(f"/cases/{number}/return", json={"reason": "不属于本单位职责"}))
        return number
    ok(handler.post(f"/cases/{number}/sign", json={}))
    if state == "handling":
        return number
    if state == "contacted":
        ok(handler.post(f"/cases/{number}/contact", json={"note": "已电话联系市民"}))
        return number
    ok(handler.post(f"/cases/{number}/reply", json={"content": "已处理完毕。", "result": "resolved"}))
    if state == "replied":
        return number
    assert state == "closed", state
    ok(agent.post(f"/cases/{number}/close", json={"note": "回访满意"}))
    return number


# endpoint -> (state that accepts the good body, user, good body); "MASTER" is replaced by another case.
GOOD = {
    "dispatch": ("registered", "dispatcher1", {"department_code": "ZJJ", "role": "lead", "note": "请尽快办理"}),
    "sign": ("dispatched", "handler_zjj", {}),
    "contact": ("handling", "handler_zjj", {"note": "已电话联系市民，约定明天上门"}),
    "reply": ("handling", "handler_zjj", {"content": "已责令整改完毕。", "result": "resolved"}),
    "return": ("dispatched", "handler_zjj", {"reason": "不属于本单位职责，应由人社局办理"}),
    "return/decision": ("returned", "dispatcher1", {"accept": True, "department_code": "RSJ", "note": "同意退回"}),
    "close": ("replied", "agent1", {"note": "回访满意"}),
    "answer": ("registered", "agent1", {"answer": "请携带身份证到区政务服务中心办理。"}),
    "merge": ("registered", "dispatcher1", {"into": "MASTER"}),
}


def prepare(api, phone, endpoint: str, overrides: dict | None = None):
    """(client, path, body, number) for ``endpoint`` on a fresh case, body = GOOD body with ``overrides``."""
    state, user, good = GOOD[endpoint]
    number = case_in_state(api, phone, state)
    body = dict(good)
    if body.get("into") == "MASTER":
        body["into"] = new_case(api("agent1"), phone)["number"]
    for key, value in (overrides or {}).items():
        if value is MISSING:
            body.pop(key, None)
        else:
            body[key] = value
    return api(user), f"/cases/{number}/{endpoint}", body, number


# --- the good requests succeed (the tables below are meaningful) ----------------------------------

@pytest.mark.parametrize("endpoint", list(GOOD))
def test_good_request_succeeds(api, phone, endpoint):
    client, path, body, _ = prepare(api, phone, endpoint)
    assert client.post(path, json=body).status_code == 200


# --- POST /cases ----------------------------------------------------------------------------------

CREATE_BAD = [
    # missing required fields (absent, null, empty, blank)
    ({"channel": MISSING}, "invalid_input", "channel"),
    ({"kind": None}, "invalid_input", "kind"),
    ({"content": MISSING}, "invalid_input", "content"),
    ({"content": ""}, "invalid_input", "content"),
    ({"content": "   \n\t "}, "invalid_input", "content"),
    ({"citizen_phone": MISSING}, "invalid_input", "citizen_phone"),
    ({"citizen_phone": ""}, "invalid_input", "citizen_phone"),
    # wrong JSON types
    ({"content": 12345}, "invalid_input", "content"),
    ({"content": ["油烟扰民"]}, "invalid_input", "content"),
    ({"content": {"text": "油烟扰民"}}, "invalid_input", "content"),
    ({"channel": 1}, "invalid_input", "channel"),
    ({"kind": True}, "invalid_input", "kind"),
    ({"citizen_phone": 13912345678}, "invalid_input", "citizen_phone"),
    ({"citizen_name": 42}, "invalid_input", "citizen_name"),
    ({"address": ["人民路"]}, "invalid_input", "address"),
    ({"urgency": {"level": 1}}, "invalid_input", "urgency"),
    ({"confidential": "true"}, "invalid_input", "confidential"),
    ({"confidential": 1}, "invalid_input", "confidential"),
    ({"call_id": 123456}, "invalid_input", "call_id"),
    # sizes
    ({"content": BIG}, "invalid_input", "content"),
    ({"content": "油" * 5001}, "invalid_input", "content"),
    ({"content": "油"}, "invalid_input", "content"),
    ({"citizen_name": "王" * 51}, "invalid_input", "citizen_name"),
    ({"address": "路" * 301}, "invalid_input", "address"),
    ({"title": "题" * 201}, "invalid_input", "title"),
    ({"call_id": "c" * 65}, "invalid_input", "call_id"),
    ({"district_code": "D" * 33}, "invalid_input", "district_code"),
    ({"category": BIG}, "invalid_input", "category"),
    ({"citizen_phone": "1" * 100}, "invalid_input", "citizen_phone"),
    # unknown codes and choices
    ({"channel": "fax"}, "invalid_input", "channel"),
    ({"kind": "bogus"}, "invalid_input", "kind"),
    ({"urgency": "asap"}, "invalid_input", "urgency"),
    ({"district_code": "D99"}, "unknown_department", "district_code"),
    ({"district_code": "ZJJ"}, "unknown_district", "district_code"),
    ({"district_code": SQLI_CODES[0]}, "unknown_department", "district_code"),
    ({"district_code": SQLI_CODES[1]}, "unknown_department", "district_code"),
    ({"category": "不存在的分类"}, "unknown_category", "category"),
    ({"category": SQLI_CODES[0]}, "unknown_category", "category"),
    ({"category": SQLI_CODES[1]}, "unknown_category", "category"),
    ({"channel": "phone' OR '1'='1"}, "invalid_input", "channel"),
    # phone numbers
    ({"citizen_phone": "abc"}, "phone_invalid_chars", "citizen_phone"),
    ({"citizen_phone": "123"}, "phone_too_short", "citizen_phone"),
    ({"citizen_phone": "1; DROP TABLE cases"}, "phone_invalid_chars", "citizen_phone"),
    # markup and invisible characters
    ({"content": SCRIPT}, "invalid_input", "content"),
    ({"content": f"油烟扰民{IMG}请处理"}, "invalid_input", "content"),
    ({"content": "点击<a href='javascript:alert(1)'>这里</a>"}, "invalid_input", "content"),
    ({"content": "油烟<div onmouseover=alert(1)>扰民"}, "invalid_input", "content"),
    ({"citizen_name": "<svg/onload=alert(1)>"}, "invalid_input", "citizen_name"),
    ({"address": "<iframe src=//evil.example>"}, "invalid_input", "address"),
    ({"title": SCRIPT}, "invalid_input", "title"),
    ({"content": "油烟扰民\x00请处理"}, "invalid_input", "content"),
    ({"content": "油烟扰民\x1b[31m请处理"}, "invalid_input", "content"),
    ({"content": "油烟扰民\ud800请处理"}, "invalid_input", "content"),  # lone surrogate (valid JSON escape)
    ({"citizen_name": "王\udfff"}, "invalid_input", "citizen_name"),
]


@pytest.mark.parametrize(("overrides", "code", "field"), CREATE_BAD,
                         ids=[f"{next(iter(o))}-{i}" for i, (o, _, _) in enumerate(CREATE_BAD)])
def test_create_case_bad_fields(app, api, phone, overrides, code, field):
    body = {"channel": "phone", "kind": "complaint", "content": "小区楼下餐馆油烟扰民，希望处理。",
            "citizen_phone": phone, "citizen_name": "王小明", "district_code": "D01", "category": "环境保护"}
    for key, value in overrides.items():
        if value is MISSING:
            body.pop(key)
        else:
            body[key] = value
    before = row_counts(app)
    assert_api_error(api("agent1").post("/cases", json=body), 400, code, field)
    assert row_counts(app) == before


def test_create_case_message_names_the_limit_and_length(api, phone):
    body = {"channel": "phone", "kind": "complaint", "content": BIG, "citizen_phone": phone}
    error = assert_api_error(api("agent1").post("/cases", json=body), 400, "invalid_input", "content")
    assert "诉求内容" in error["message"] and "5000" in error["message"] and str(len(BIG)) in error["message"]


def test_create_case_reports_every_bad_field(api):
    body = {"channel": "fax", "kind": 1, "content": "", "confidential": "yes"}
    error = assert_api_error(api("agent1").post("/cases", json=body), 400, "invalid_input")
    assert {"channel", "kind", "content", "citizen_phone", "confidential"} <= set(error["fields"])


def test_create_case_ignores_unknown_keys_and_takes_boundary_sizes(app, api, phone):
    body = {"channel": "web", "kind": "consult", "content": "问" * 5000, "citizen_phone": phone,
            "citizen_name": "王" * 50, "address": "路" * 300, "title": "题" * 200, "call_id": "c" * 64,
            "unknown_key": "ignored", "status": "closed", "number": "GD20000101-000001", "version": 99}
    case = ok(api("agent1").post("/cases", json=body))
    assert case["status"] == "registered" and case["version"] == 1 and case["number"] != body["number"]
    assert len(case["content"]) == 5000 and len(case["address"]) == 300 and len(case["title"]) == 200


# Plain text that merely contains "<", quotes or SQL words is not markup: accepted and stored literally.
LITERAL_TEXTS = [
    "价格<100元，面积>50平方米，a<b 且 b>c，1 <= 2",
    "O'Brien 先生说：\"楼上漏水\"，邻居说 'it`s fine'",
    "DROP TABLE 是什么意思？网上看到 1; DROP TABLE cases -- 和 ZJJ' OR '1'='1",
    "SELECT * FROM users WHERE name = '' OR 1=1; --",
    "我爱这座城市 <3，数量 one=1，onion = 3 斤，成绩<a级",
    "&lt;script&gt; 是网页转义写法，<b>加粗</b> 也只是文字",
    "反斜杠 \\ 和 %s %(name)s {0} ${x} 以及 emoji 😀",
]


@pytest.mark.parametrize("text", LITERAL_TEXTS)
def test_plain_text_with_special_characters_is_stored_literally(app, api, phone, text):
    agent, dispatcher = api("agent1"), api("dispatcher1")
    before = row_counts(app)
    case = new_case(agent, phone, content=text, address=text[:300], title=text[:200])
    assert case["content"] == text and case["address"] == text[:300] and case["title"] == text[:200]
    again = agent.get(f"/cases/{case['number']}").get_json()
    assert again["content"] == text
    after = row_counts(app)
    assert after["Case"] == before["Case"] + 1  # the cases table is still there, one row more
    body = ok(dispatcher.post(f"/cases/{case['number']}/dispatch", json={"department_code": "ZJJ", "note": text}))
    assert body["events"][-1]["note"] == text
    handler = api("handler_zjj")
    ok(handler.post(f"/cases/{case['number']}/sign", json={}))
    assert ok(handler.post(f"/cases/{case['number']}/contact", json={"note": text}))["events"][-1]["note"] == text
    body = ok(handler.post(f"/cases/{case['number']}/reply", json={"content": text, "result": "explained"}))
    assert body["assignments"][-1]["reply"] == text


def test_citizen_name_with_apostrophe_is_stored_literally(app, api, phone):
    from hotline.citizens.profile import citizen_name
    from hotline.extensions import db
    from hotline.models import Case

    number = new_case(api("agent1"), phone, citizen_name="O'Brien")["number"]
    with app.app_context():
        case = db.session.scalar(sa.select(Case).where(Case.number == number))
        assert citizen_name(case.citizen) == "O'Brien"


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


@pytest.mark.parametrize(("endpoint", "overrides", "code", "field"), TRANSITION_BAD,
                         ids=[f"{e}-{next(iter(o))}-{i}" for i, (e, o, _, _) in enumerate(TRANSITION_BAD)])
def test_transition_bad_fields(app, api, phone, endpoint, overrides, code, field):
    client, path, body, number = prepare(api, phone, endpoint, overrides)
    before, counts = snapshot(api, number), row_counts(app)
    assert_api_error(client.post(path, json=body), 400, code, field)
    assert snapshot(api, number) == before
    assert row_counts(app) == counts


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
def test_body_that_is_not_a_json_object(app, api, phone, endpoint, name, data, content_type):
    if endpoint == "cases":
        client, path, number = api("agent1"), "/cases", None
    else:
        client, path, _, number = prepare(api, phone, endpoint)
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
def test_empty_body(app, api, phone, endpoint):
    """No body at all is an empty object: refused for missing fields, except where {} is valid (sign)."""
    if endpoint == "cases":
        client, path, number = api("agent1"), "/cases", None
    else:
        client, path, _, number = prepare(api, phone, endpoint)
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


# --- unknown case numbers ------------------------------------------------------------------------

UNKNOWN_NUMBERS = ["GD20000101-999999", "GD' OR '1'='1", "1; DROP TABLE cases", IMG, "x" * 300, "工单", "%00",
                   "\x00", "GD20000101-99999\x00"]  # (no "/": %2F is a path separator, a plain 404 not_found)
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
    ("dispatch", "registered", "dispatcher1", {"department_code": "SHJ", "role": "assist"},
     "invalid_transition", "已登记"),
    ("dispatch", "handling", "dispatcher1", {"department_code": "ZJJ", "role": "assist"},
     "already_assigned", "已在办理"),
    ("sign", "handling", "handler_zjj", {}, "already_signed", "签收"),
    ("sign", "replied", "handler_zjj", {}, "no_assignment", "已答复"),
    ("sign", "returned", "handler_zjj", {}, "no_assignment", "已退回"),
    ("sign", "closed", "handler_zjj", {}, "no_assignment", "已办结"),
    ("contact", "dispatched", "handler_zjj", {"note": "已联系"}, "not_signed", "签收"),
    ("contact", "contacted", "handler_zjj", {"note": "又联系了一次"}, "already_contacted", "联系"),
    ("contact", "replied", "handler_zjj", {"note": "已联系"}, "no_assignment", "已答复"),
    ("reply", "dispatched", "handler_zjj", {"content": "已处理。", "result": "resolved"}, "not_signed", "签收"),
    ("reply", "replied", "handler_zjj", {"content": "已处理。", "result": "resolved"}, "no_assignment", "已答复"),
    ("return", "replied", "handler_zjj", {"reason": "不归我们管"}, "no_assignment", "已答复"),
    ("return/decision", "dispatched", "dispatcher1", {"accept": False, "note": "驳回"}, "invalid_transition",
     "已派单"),
    ("return/decision", "closed", "dispatcher1", {"accept": True, "department_code": "RSJ", "note": "改派"},
     "invalid_transition", "已办结"),
    ("merge", "closed", "dispatcher1", {"into": "MASTER"}, "invalid_transition", "已办结"),
    ("merge", "registered", "dispatcher1", {"into": "SELF"}, "merge_self", "自己"),
    ("merge", "registered", "dispatcher1", {"into": "CLOSED_MASTER"}, "master_closed", "已结束"),
]


@pytest.mark.parametrize(("endpoint", "state", "user", "body", "code", "words"), INVALID_TRANSITIONS,
                         ids=[f"{r[0]}-{r[1]}-{i}" for i, r in enumerate(INVALID_TRANSITIONS)])
def test_invalid_transition_is_422_naming_the_state(app, api, phone, endpoint, state, user, body, code, words):
    number = case_in_state(api, phone, state)
    body = dict(body)
    if body.get("into") == "MASTER":
        body["into"] = new_case(api("agent1"), phone)["number"]
    elif body.get("into") == "SELF":
        body["into"] = number
    elif body.get("into") == "CLOSED_MASTER":
        body["into"] = case_in_state(api, phone, "closed_direct")
    before, counts = snapshot(api, number), row_counts(app)
    error = assert_api_error(api(user).post(f"/cases/{number}/{endpoint}", json=body), 422, code)
    assert words in error["message"], error
    assert snapshot(api, number) == before
    assert row_counts(app) == counts


def test_registered_case_is_invisible_to_departments(api, phone):
    """Signing a case never dispatched to the unit: 403 (data isolation), not a hint that it exists."""
    number = case_in_state(api, phone, "registered")
    before = snapshot(api, number)
    assert_api_error(api("handler_zjj").post(f"/cases/{number}/sign", json={}), 403, "forbidden")
    assert snapshot(api, number) == before


@pytest.mark.parametrize("endpoint", list(GOOD))
@pytest.mark.parametrize("how", ["body", "if-match"])
def test_stale_version_is_409(app, api, phone, endpoint, how):
    client, path, body, number = prepare(api, phone, endpoint)
    before, counts = snapshot(api, number), row_counts(app)
    if how == "body":
        resp = client.post(path, json={**body, "version": before["version"] - 1})
    else:
        resp = client.post(path, json=body, headers={"If-Match": f'"{before["version"] + 5}"'})
    error = assert_api_error(resp, 409, "stale_version")
    assert str(before["version"]) in error["message"]
    assert snapshot(api, number) == before
    assert row_counts(app) == counts


def test_current_version_is_accepted(api, phone):
    client, path, body, number = prepare(api, phone, "dispatch")
    version = snapshot(api, number)["version"]
    assert client.post(path, json={**body, "version": version}).status_code == 200


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


GOOD_QUERIES = ["", "page=1", "page=2", "page=", "status=registered", "status=registered,dispatched",
                "status=", "department=ZJJ", "department=D01", "due_before=2030-01-01",
                "due_before=2030-01-01T08:00:00%2B08:00", "status=closed&department=C&due_before=2000-01-01&page=3",
                "unknown=1"]


@pytest.mark.parametrize("query", GOOD_QUERIES)
def test_list_cases_good_query(api, phone, query):
    case_in_state(api, phone, "dispatched")
    resp = api("dispatcher1").get(f"/cases?{query}")
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert set(body) == {"items", "page", "per_page", "total"}


def test_list_cases_filters_by_status_and_department(api, phone):
    number = case_in_state(api, phone, "dispatched")
    items = api("dispatcher1").get("/cases?status=dispatched&department=ZJJ").get_json()["items"]
    assert number in [c["number"] for c in items]
    assert all(c["status"] == "dispatched" and c["department_code"] == "ZJJ" for c in items)
    items = api("dispatcher1").get("/cases?status=dispatched&department=SHJ").get_json()["items"]
    assert number not in [c["number"] for c in items]


@pytest.mark.parametrize(("query", "field"), [("role=bogus", "role"), ("role=" + quote(SQLI_CODES[0]), "role"),
                                              ("role=" + quote(SCRIPT), "role"), ("role=" + "a" * 5000, "role")])
def test_users_bad_role(api, query, field):
    error = assert_api_error(api("dispatcher1").get(f"/users?{query}"), 400, "invalid_input", field)
    assert len(error["message"]) < 100


@pytest.mark.parametrize("role", ["agent", "dispatcher", "monitor", "supervisor", "department_handler",
                                  "department_admin", "admin"])
def test_users_by_role(api, role):
    users = api("agent1").get(f"/users?role={role}").get_json()["users"]
    assert users and all({"username", "department_code"} <= set(u) for u in users)
    assert all(u["role"] == role for u in users)


# --- methods, paths, health ----------------------------------------------------------------------

WRONG_METHODS = [("get", "/cases/{n}/sign"), ("get", "/cases/{n}/dispatch"), ("put", "/cases/{n}"),
                 ("delete", "/cases/{n}"), ("patch", "/cases/{n}/close"), ("put", "/cases"), ("delete", "/cases"),
                 ("post", "/users"), ("delete", "/users"), ("get", "/cases/{n}/return/decision")]


@pytest.mark.parametrize(("method", "path"), WRONG_METHODS)
def test_wrong_method_is_405_json(app, api, phone, tokens, method, path):
    number = case_in_state(api, phone, "registered")
    before = snapshot(api, number)
    resp = getattr(app.test_client(), method)("/api/v1" + path.format(n=number), json={"note": "x"},
                                             headers={"Authorization": f"Bearer {tokens['admin']}"})
    assert_api_error(resp, 405, "method_not_allowed")
    assert resp.headers.get("Allow")  # what would have been accepted
    assert snapshot(api, number) == before


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v1/", "/api/v1", "/api/v1/cases/GD1/unknown",
                                  "/api/v1/cases/GD1/return/unknown", "/api/v2/cases", "/api/v1/users/1",
                                  "/api/v1/%3Cscript%3E"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_unknown_api_path_is_404_json(app, tokens, path, method):
    resp = getattr(app.test_client(), method)(path, headers={"Authorization": f"Bearer {tokens['admin']}"})
    assert_api_error(resp, 404, "not_found")


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Content-Type": "application/json"}])
def test_healthz(app, headers):
    resp = app.test_client().get("/healthz?page=abc&x=%00", headers=headers)
    assert resp.status_code == 200
    assert resp.get_json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_healthz_wrong_method_is_405_json(app, method):
    resp = getattr(app.test_client(), method)("/healthz", data=b"garbage")
    assert_api_error(resp, 405, "method_not_allowed")
    assert "GET" in resp.headers["Allow"]


def test_pages_keep_html_errors(app):
    resp = app.test_client().get("/logout", headers={"Accept": "text/html"})  # POST only
    assert resp.status_code == 405 and resp.mimetype == "text/html" and "POST" in resp.headers["Allow"]


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
    data = json.dumps({"channel": "phone", "kind": "complaint", "content": "x" * (limit(app) + 1),
                       "citizen_phone": phone}).encode()
    headers = {"Content-Type": content_type} if content_type else {}
    resp = api("agent1").post("/cases", data=data, headers=headers)
    error = assert_api_error(resp, 413, "payload_too_large")
    assert "过大" in error["message"]
    assert row_counts(app) == counts
    # a normal request still passes under the limit
    new_case(api("agent1"), phone)
