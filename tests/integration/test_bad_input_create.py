"""Bad input on POST /api/v1/cases: a clear 400 JSON error in Chinese naming the field, nothing stored; and
plain text that only looks like markup or SQL is stored literally.

See bad_input_support.py for the helpers.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.helpers import new_case
from tests.integration.bad_input_support import BIG, IMG, MISSING, SCRIPT, SQLI_CODES, assert_api_error, ok, row_counts

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


@pytest.mark.parametrize(
    ("overrides", "code", "field"), CREATE_BAD, ids=[f"{next(iter(o))}-{i}" for i, (o, _, _) in enumerate(CREATE_BAD)]
)
def test_create_case_bad_fields(app, api, phone, overrides, code, field):
    body = {
        "channel": "phone",
        "kind": "complaint",
        "content": "小区楼下餐馆油烟扰民，希望处理。",
        "citizen_phone": phone,
        "citizen_name": "王小明",
        "district_code": "D01",
        "category": "环境保护",
    }
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
    body = {
        "channel": "web",
        "kind": "consult",
        "content": "问" * 5000,
        "citizen_phone": phone,
        "citizen_name": "王" * 50,
        "address": "路" * 300,
        "title": "题" * 200,
        "call_id": "c" * 64,
        "unknown_key": "ignored",
        "status": "closed",
        "number": "GD20000101-000001",
        "version": 99,
    }
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
