"""差评 workbench pages through the browser's path (login, CSRF forms), the rating page's form, and bad input."""

from __future__ import annotations

import re

from tests.integration.ratings_support import invitation_tokens
from tests.integration.test_pages import Browser, csrf_from


def _poor(app, api, make_case, phone):
    number = make_case("replied", phone=phone).number
    token = invitation_tokens(api, number)[0]
    body = app.test_client().post("/api/v1/ratings", json={"token": token, "score": 2, "resolved": False}).get_json()
    return number, body["rectification_id"]


def test_workbench_verify_unit_rectifies_and_revisit_by_form(app, api, phone, make_case):
    number, rect_id = _poor(app, api, make_case, phone)
    sup = Browser(app, "supervisor1")
    html = sup.html("/supervision/ratings?stage=verifying")
    assert "差评督办工作台" in html and number in html and "实名差评回访率" in html
    assert re.search(r'class="revisit-rate">(\d+%|—)<', html)
    # a form without the deadline for 限期整改 is refused with a message, nothing changes
    resp = sup.post(
        f"/rectifications/{rect_id}/verify", {"outcome": "reasonable", "mode": "deadline", "note": "属实"}, follow=True
    )
    assert "整改期限必须是1到15个工作日" in resp.get_data(as_text=True)
    resp = sup.post(
        f"/rectifications/{rect_id}/verify",
        {"outcome": "reasonable", "mode": "deadline", "days": "16", "note": "属实"},
        follow=True,
    )
    assert "整改期限必须是1到15个工作日" in resp.get_data(as_text=True)
    resp = sup.post(
        f"/rectifications/{rect_id}/verify",
        {"outcome": "reasonable", "mode": "deadline", "days": "3", "note": "电话核实属实"},
        follow=True,
    )
    assert "已核实：合理差评" in resp.get_data(as_text=True)

    unit = Browser(app, "handler_zjj")
    html = unit.html("/dept/rectifications")
    assert number in html and "提交整改" in html and "差评整改" in html
    assert number not in Browser(app, "handler_shj").html("/dept/rectifications")
    # a supervisor cannot submit the unit's rectification; another unit cannot see the record
    assert sup.post(f"/rectifications/{rect_id}/rectify", {"note": "代为整改"}).status_code == 403
    assert Browser(app, "handler_shj").post(f"/rectifications/{rect_id}/rectify", {"note": "x整改"}).status_code == 404
    resp = unit.post(f"/rectifications/{rect_id}/rectify", {"note": ""}, follow=True)
    assert "请填写整改情况" in resp.get_data(as_text=True)
    resp = unit.post(f"/rectifications/{rect_id}/rectify", {"note": "已完成整改并复查"}, follow=True)
    assert "整改情况已提交" in resp.get_data(as_text=True)

    html = sup.html("/supervision/ratings?stage=revisiting")
    assert number in html and "记录回访" in html
    resp = sup.post(
        f"/rectifications/{rect_id}/revisit", {"score": "5", "resolved": "yes", "note": "回访满意"}, follow=True
    )
    assert "回访已记录" in resp.get_data(as_text=True)
    assert number in sup.html("/supervision/ratings?stage=closed")
    assert api("agent1").get(f"/cases/{number}").get_json()["status"] == "closed"
    # unknown action, stale version
    assert sup.post(f"/rectifications/{rect_id}/nonsense", {}).status_code == 404
    resp = sup.post(f"/rectifications/{rect_id}/explain", {"note": "解释", "version": "1"}, follow=True)
    assert "已被他人修改" in resp.get_data(as_text=True) or "刷新" in resp.get_data(as_text=True)


def test_pages_require_login_and_role(app):
    client = app.test_client()
    assert client.get("/supervision/ratings").status_code == 302
    assert Browser(app, "agent1").get("/supervision/ratings").status_code == 403
    assert Browser(app, "supervisor1").get("/dept/rectifications").status_code == 403


def test_rating_page_form_validation_and_csrf(app, api, phone, make_case):
    number = make_case("replied", phone=phone).number
    token = invitation_tokens(api, number)[0]
    client = app.test_client()
    html = client.get(f"/r/{token}").get_data(as_text=True)
    csrf = csrf_from(html)
    assert client.post(f"/r/{token}", data={"score": "3", "resolved": "yes"}).status_code == 400  # no CSRF token
    for data, message in (
        ({"resolved": "yes"}, "请选择满意程度"),
        ({"score": "6", "resolved": "yes"}, "请选择满意程度"),
        ({"score": "3"}, "请选择问题是否已解决"),
        ({"score": "3", "resolved": "yes", "comment": "x" * 501}, "不能超过500"),
        ({"score": "3", "resolved": "yes", "comment": "<script>alert(1)</script>"}, "网页标记"),
    ):
        resp = client.post(f"/r/{token}", data={**data, "csrf_token": csrf})
        assert resp.status_code == 400 and message in resp.get_data(as_text=True), data
    resp = client.post(f"/r/{token}", data={"score": "3", "resolved": "yes", "comment": "还行", "csrf_token": csrf})
    assert resp.status_code == 200 and "感谢您的评价" in resp.get_data(as_text=True)
    resp = client.post(f"/r/{token}", data={"score": "3", "resolved": "yes", "csrf_token": csrf})
    assert resp.status_code == 409 and "已评价" in resp.get_data(as_text=True)
    assert client.get("/r/nonsense").status_code == 404


def test_ratings_api_bad_input(app, api, phone, make_case):
    number = make_case("replied", phone=phone).number
    token = invitation_tokens(api, number)[0]
    client = app.test_client()
    cases = [
        ({}, "token"),
        ({"token": token}, "score"),
        ({"token": token, "score": 0, "resolved": True}, "score"),
        ({"token": token, "score": 6, "resolved": True}, "score"),
        ({"token": token, "score": "5", "resolved": True}, "score"),
        ({"token": token, "score": True, "resolved": True}, "score"),
        ({"token": token, "score": 3}, "resolved"),
        ({"token": token, "score": 3, "resolved": "yes"}, "resolved"),
        ({"token": token, "score": 3, "resolved": True, "comment": "x" * 501}, "comment"),
        ({"token": 12345, "score": 3, "resolved": True}, "token"),
    ]
    for body, field in cases:
        resp = client.post("/api/v1/ratings", json=body)
        assert resp.status_code == 400, body
        assert field in resp.get_json()["error"]["fields"], body
    assert client.post("/api/v1/ratings", data="not json", content_type="application/json").status_code == 400
    assert client.post("/api/v1/ratings", data=b"[]", content_type="application/json").status_code == 400
    assert client.get("/api/v1/ratings").status_code == 405
    # nothing stored by the refused attempts: the token still rates once
    assert client.post("/api/v1/ratings", json={"token": token, "score": 5, "resolved": True}).status_code == 201


def test_rectification_api_bad_input(app, api, phone, make_case):
    _, rect_id = _poor(app, api, make_case, phone)
    sup, handler = api("supervisor1"), api("handler_zjj")
    base = f"/rectifications/{rect_id}"
    for body, field in (
        ({}, "outcome"),
        ({"outcome": "maybe", "note": "xx"}, "outcome"),
        ({"outcome": "reasonable", "note": "属实"}, "mode"),
        ({"outcome": "reasonable", "note": "属实", "mode": "deadline"}, "days"),
        ({"outcome": "reasonable", "note": "属实", "mode": "deadline", "days": 16}, "days"),
        ({"outcome": "reasonable", "note": "属实", "mode": "deadline", "days": 0}, "days"),
        ({"outcome": "unreasonable"}, "note"),
    ):
        resp = sup.post(base + "/verify", json=body)
        assert resp.status_code == 400 and field in resp.get_json()["error"]["fields"], body
    assert handler.post(base + "/verify", json={"outcome": "unreasonable", "note": "xx"}).status_code == 403
    assert api("agent1").get(base).status_code == 403
    assert sup.get("/rectifications/999999").status_code == 404
    assert sup.get("/rectifications?stage=bogus").status_code == 400
    resp = handler.post(base + "/rectify", json={"note": "还没核实就整改"})
    assert resp.status_code == 422 and resp.get_json()["error"]["code"] == "invalid_stage"
    resp = sup.post(base + "/revisit", json={"score": 9, "resolved": True, "note": "xx"})
    assert resp.status_code == 400 and "score" in resp.get_json()["error"]["fields"]
    resp = sup.post(base + "/appeal/decision", json={"uphold": True, "note": "无申诉"})
    assert resp.status_code == 422 and resp.get_json()["error"]["code"] == "no_pending_appeal"
    resp = sup.post(base + "/verify", json={"outcome": "unreasonable", "note": "xx", "version": 99})
    assert resp.status_code == 409
    assert sup.get(base).get_json()["stage"] == "verifying"  # nothing changed by the refused requests
