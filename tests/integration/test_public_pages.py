"""What the public sees (hotline/portal/public.py): the 曝光台 (published + consent, redacted), public figures, the
published KB searched on the portal and in WeChat."""

from __future__ import annotations

import re
import uuid

import pytest
import sqlalchemy as sa

from tests.integration.portal_support import fill, submit
from tests.integration.wechat_support import APPID, SECRET, TOKEN, WeChatClient


@pytest.fixture()
def quick(app, monkeypatch):
    settings = app.config["HOTLINE"]
    monkeypatch.setattr(settings, "portal_min_fill_seconds", 0)
    monkeypatch.setattr(settings, "portal_rate_limit_ip", "1000 per minute")
    monkeypatch.setattr(settings, "portal_rate_limit_phone", "1000 per minute")


def _portal_case(app, phone, content, consent: bool, address="") -> str:
    from hotline.extensions import db
    from hotline.models import Case, CaseConsent

    client = app.test_client()
    data = fill(client, phone, content, address=address, name="张伟明")
    if consent:
        data["public_consent"] = "y"
    assert submit(client, data).status_code == 303
    with app.app_context():
        case = db.session.scalars(sa.select(Case).where(Case.content == content).order_by(Case.id.desc())).first()
        row = db.session.get(CaseConsent, case.id)
        assert row is not None and row.public is consent and row.source == "portal"
        return case.number


def _handle_and_publish(api, number, publish=True):
    assert api("dispatcher1").post(f"/cases/{number}/dispatch", json={"department_code": "ZJJ"}).status_code == 200
    assert api("handler_zjj").post(f"/cases/{number}/sign").status_code == 200
    resp = api("handler_zjj").post(
        f"/cases/{number}/reply",
        json={"content": "已责令餐馆安装油烟净化设备，经复查已整改到位。", "result": "resolved"},
    )
    assert resp.status_code == 200, resp.get_json()
    if publish:
        assert api("supervisor1").post(f"/cases/{number}/publication", json={"public": True}).status_code == 200


def test_exposure_shows_published_cases_with_consent_redacted(app, api, quick, phone):
    tag = uuid.uuid4().hex[:6]
    content = f"人民路88号3号楼楼下餐馆油烟扰民{tag}，我叫张伟明，电话 13912345678，请尽快处理。"
    shown = _portal_case(app, phone, content, consent=True, address="东城区人民路88号3号楼")
    no_consent = _portal_case(app, phone, f"夜间施工噪音扰民{tag}，影响休息，请处理。", consent=False)
    unpublished = _portal_case(app, phone, f"路灯不亮{tag}，晚上出行不便，请维修。", consent=True)
    _handle_and_publish(api, shown)
    _handle_and_publish(api, no_consent)
    _handle_and_publish(api, unpublished, publish=False)
    page = app.test_client().get("/portal/exposure")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert shown in html and no_consent not in html and unpublished not in html
    block = html[html.index(shown) - 1500 : html.index(shown) + 2000]
    assert f"油烟扰民{tag}" in block and "13912345678" not in block and "张伟明" not in block and "88号" not in block
    assert "[电话]" in block and "市住房和城乡建设局" in block and "已解决" in block and "整改到位" in block
    # a supervisor withdraws it: gone
    assert api("supervisor1").post(f"/cases/{shown}/publication", json={"public": False}).status_code == 200
    assert shown not in app.test_client().get("/portal/exposure").get_data(as_text=True)


def test_public_figures(app, make_case):
    make_case("replied", unit="ZJJ")
    page = app.test_client().get("/portal/figures")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "每月受理量" in html
    assert len(re.findall(r"<tr><td>\d{4}-\d{2}</td><td>\d+</td></tr>", html)) == 12


def _published_entry(app):
    from hotline.extensions import db
    from hotline.models import KbEntry

    with app.app_context():
        entry = db.session.scalars(sa.select(KbEntry).where(KbEntry.status == "published").order_by(KbEntry.id)).first()
        draft = db.session.scalars(sa.select(KbEntry).where(KbEntry.status != "published")).first()
        return entry.id, entry.title, (draft.id if draft else None)


def test_public_guide_search(app):
    entry_id, title, draft_id = _published_entry(app)
    client = app.test_client()
    html = client.get("/portal/guide", query_string={"q": title}).get_data(as_text=True)
    assert f"/portal/guide/{entry_id}" in html and title in html
    page = client.get(f"/portal/guide/{entry_id}")
    assert page.status_code == 200 and title in page.get_data(as_text=True)
    if draft_id is not None:
        assert client.get(f"/portal/guide/{draft_id}").status_code == 404
    assert "没有找到相关内容" in client.get("/portal/guide", query_string={"q": "量子纠缠火星移民"}).get_data(
        as_text=True
    )


def test_wechat_guide(app, monkeypatch):
    settings = app.config["HOTLINE"]
    for name, value in (
        ("wechat_token", TOKEN),
        ("wechat_appid", APPID),
        ("wechat_aes_key", ""),
        ("wechat_secret", SECRET),
        ("wechat_rate_limit", "1000 per minute"),
    ):
        monkeypatch.setattr(settings, name, value)
    _, title, _ = _published_entry(app)
    wechat = WeChatClient(app.test_client())
    status, body = wechat.plain("o" + uuid.uuid4().hex[:27], f"指南 {title}", uuid.uuid4().int % 10**18)
    assert status == 200 and "为您找到以下办事指南" in body and title in body
