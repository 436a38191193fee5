"""Citizen portal over HTTP: submit (web channel), idempotent re-submit, status look-up without enumeration,
the department's reply, the large-font switch, and bad input on every field (nothing stored)."""

from __future__ import annotations

import re
import uuid

import pytest
import sqlalchemy as sa

from hotline.extensions import db
from hotline.models import Case
from tests.integration.portal_support import csrf_of, fill, submit


@pytest.fixture()
def quick(app, monkeypatch):
    """No minimum fill time and generous limits (the abuse tests set their own)."""
    settings = app.config["HOTLINE"]
    monkeypatch.setattr(settings, "portal_min_fill_seconds", 0)
    monkeypatch.setattr(settings, "portal_rate_limit_ip", "1000 per minute")
    monkeypatch.setattr(settings, "portal_rate_limit_phone", "1000 per minute")
    monkeypatch.setattr(settings, "portal_lookup_rate_limit", "1000 per minute")
    return app.test_client()


def ip() -> str:
    n = uuid.uuid4().int
    return f"10.{n % 250}.{(n >> 8) % 250}.{(n >> 16) % 250 + 1}"


def cases_with(app, marker: str) -> list[Case]:
    with app.app_context():
        rows = db.session.scalars(sa.select(Case).where(Case.content.contains(marker))).all()
        db.session.expunge_all()
        return rows


def number_in(html: str) -> str:
    return re.search(r'id="case-number">(GD\d{8}-\d{6})<', html).group(1)


def test_submit_creates_a_web_case_and_shows_its_number(app, quick, phone):
    marker = uuid.uuid4().hex[:8]
    data = fill(
        quick,
        phone,
        f"人民路与解放路路口井盖缺失，夜间很危险 {marker}",
        kind="complaint",
        name="李大爷",
        district="D01",
        address="人民路与解放路路口",
    )
    resp = submit(quick, data)
    assert resp.status_code == 303 and "/portal/done/" in resp.headers["Location"]
    page = quick.get(resp.headers["Location"])
    html = page.get_data(as_text=True)
    number = number_in(html)
    assert page.status_code == 200 and "提交成功" in html and "工单编号" in html and "查询办理进度" in html
    [case] = cases_with(app, marker)
    assert case.number == number and case.channel == "web" and case.kind == "complaint"
    with app.app_context():
        case = db.session.scalar(sa.select(Case).where(Case.number == number))
        assert case.district.code == "D01" and case.address == "人民路与解放路路口"
        assert case.phone.masked == phone[:3] + "****" + phone[-4:] and phone not in case.phone.phone_enc
        assert [(e.action, e.actor_label) for e in case.events] == [("create", "市民（网站）")]


def test_the_same_form_sent_twice_makes_one_case(app, quick, phone):
    marker = uuid.uuid4().hex[:8]
    data = fill(quick, phone, f"小区电梯经常停运，老人上下楼困难 {marker}")
    first, second = submit(quick, data), submit(quick, data)
    assert first.status_code == second.status_code == 303
    # the done links are signed with their issue time, so compare the case they show
    shown = [number_in(quick.get(r.headers["Location"]).get_data(as_text=True)) for r in (first, second)]
    assert shown[0] == shown[1]
    assert len(cases_with(app, marker)) == 1


def _lookup(client, number: str, phone: str):
    return client.post(
        "/portal/status", data={"csrf_token": csrf_of(client, "/portal/status"), "number": number, "phone": phone}
    )


def test_status_lookup_shows_state_timeline_and_reply_and_does_not_enumerate(app, quick, api, phone):
    marker = uuid.uuid4().hex[:8]
    resp = submit(quick, fill(quick, phone, f"幸福小区门口污水外溢，味道很大 {marker}"))
    number = number_in(quick.get(resp.headers["Location"]).get_data(as_text=True))

    found = _lookup(quick, number, phone)
    html = found.get_data(as_text=True)
    assert found.status_code == 200 and 'id="case-state">已受理<' in html and "您的诉求已登记（网站受理）" in html

    # wrong phone, unknown number and a malformed phone: one and the same answer
    other = "137" + phone[3:]
    answers = [_lookup(quick, number, other), _lookup(quick, "GD20991231-999999", phone), _lookup(quick, number, "12")]
    bodies = {re.sub(r'value="[^"]*"', "", a.get_data(as_text=True)) for a in answers}
    assert [a.status_code for a in answers] == [404, 404, 404]
    assert all("没有找到与该工单编号和手机号码相符的诉求" in a.get_data(as_text=True) for a in answers)
    assert all(number not in a.get_data(as_text=True).split("</form>")[1] for a in answers)
    assert (
        len(
            {
                b.replace(number, "N")
                .replace("GD20991231-999999", "N")
                .replace(other, "P")
                .replace(phone, "P")
                .replace('"12"', '"P"')
                for b in bodies
            }
        )
        <= 2
    )  # only the echoed inputs differ

    api("dispatcher1").post(f"/cases/{number}/dispatch", json={"department_code": "SHJ"})
    api("handler_shj").post(f"/cases/{number}/sign", json={})
    api("supervisor1").post(f"/cases/{number}/supervise", json={"level": "remind", "note": "请尽快处理"})
    api("handler_shj").post(
        f"/cases/{number}/reply", json={"content": "已疏通管道，污水不再外溢。", "result": "resolved"}
    )
    html = _lookup(quick, number.lower(), phone).get_data(as_text=True)
    assert 'id="case-state">已答复<' in html and "已疏通管道，污水不再外溢。" in html
    with app.app_context():
        dept = db.session.scalar(sa.select(Case).where(Case.number == number)).lead_department.name
    assert f"{dept}的答复" in html and f"已转交{dept}办理" in html and f"{dept}已接收，正在办理" in html
    assert "请尽快处理" not in html and "催办" not in html  # internal supervision is not shown


def test_large_font_switch_is_remembered(app, quick):
    off = quick.get("/portal/status").get_data(as_text=True)
    assert '<html lang="zh-CN" class="">' in off and "大字模式" in off
    resp = quick.get("/portal/a11y?next=/portal/status")
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/portal/status")
    on = quick.get("/portal/status").get_data(as_text=True)
    assert '<html lang="zh-CN" class="large">' in on and "标准字体" in on
    quick.get("/portal/a11y?mode=off")
    assert 'class="large"' not in quick.get("/portal/").get_data(as_text=True)
    away = quick.get("/portal/a11y?next=//evil.example/")
    assert away.headers["Location"].endswith("/portal/")  # no open redirect


BAD_FIELDS = [
    ({"phone": ""}, "请填写手机号码"),
    ({"phone": "12345abc"}, "电话号码格式不正确"),
    ({"phone": "1380013"}, "手机号码应为11位"),
    ({"content": "太吵"}, "至少需要5个字"),
    ({"content": "路灯坏了\x07很多天"}, "控制字符"),
    ({"content": "字" * 5001}, "不能超过5000个字"),
    ({"kind": "spam"}, "不是有效的选择"),
    ({"district": "NOPE"}, "不是有效的选择"),
    ({"name": "名" * 51}, "姓名不能超过50个字"),
    ({"answer": "99"}, "计算题答案不正确"),
    ({"answer": ""}, "请填写验证题的答案"),
    ({"challenge": "forged.token"}, "页面验证信息无效"),
]


@pytest.mark.parametrize(
    "change,message", BAD_FIELDS, ids=[next(iter(c)) + str(i) for i, (c, _) in enumerate(BAD_FIELDS)]
)
def test_bad_submissions_get_a_chinese_form_message_and_store_nothing(app, quick, phone, change, message):
    marker = uuid.uuid4().hex[:8]
    data = fill(quick, phone, f"路灯不亮已经一周了 {marker}")
    data.update(change)
    resp = submit(quick, data)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and message in html, html[-2000:]
    assert "提交未成功" in html or "p-error" in html
    assert 'name="challenge" type="hidden" value="' in html  # a fresh question to try again
    assert cases_with(app, marker) == []


def test_too_fast_honeypot_and_missing_csrf_are_refused(app, quick, phone, monkeypatch):
    marker = uuid.uuid4().hex[:8]
    monkeypatch.setattr(app.config["HOTLINE"], "portal_min_fill_seconds", 60)
    fast = submit(quick, fill(quick, phone, f"公交站牌被撞坏了 {marker}"))
    assert fast.status_code == 400 and "提交太快了" in fast.get_data(as_text=True)
    monkeypatch.setattr(app.config["HOTLINE"], "portal_min_fill_seconds", 0)
    trap = submit(quick, fill(quick, phone, f"公交站牌被撞坏了 {marker}", website="http://spam.example"))
    assert trap.status_code == 400 and "提交失败" in trap.get_data(as_text=True)
    no_csrf = fill(quick, phone, f"公交站牌被撞坏了 {marker}")
    no_csrf.pop("csrf_token")
    refused = submit(quick, no_csrf)
    assert refused.status_code == 400 and "安全令牌" in refused.get_data(as_text=True)
    assert "portal.css" in refused.get_data(as_text=True)  # the citizen's page, not the staff one
    assert cases_with(app, marker) == []


@pytest.mark.parametrize(
    "number,phone,message",
    [
        ("", "13800138000", "请填写工单编号"),
        ("12345", "13800138000", "工单编号格式不正确"),
        ("GD20261122-000001", "", "请填写提交诉求时留下的手机号码"),
        ("GD20261122-000001\x00", "13800138000", "工单编号格式不正确"),
    ],
)
def test_bad_status_lookups_get_a_chinese_form_message(app, quick, number, phone, message):
    resp = quick.post(
        "/portal/status", data={"csrf_token": csrf_of(quick, "/portal/status"), "number": number, "phone": phone}
    )
    assert resp.status_code == 400 and message in resp.get_data(as_text=True)
    no_csrf = quick.post("/portal/status", data={"number": "GD20261122-000001", "phone": "13800138000"})
    assert no_csrf.status_code == 400 and "安全令牌" in no_csrf.get_data(as_text=True)


def test_done_page_with_a_forged_link_is_a_404(app, quick):
    resp = quick.get("/portal/done/GD20261122-000001")
    assert resp.status_code == 404 and "链接无效或已过期" in resp.get_data(as_text=True)
