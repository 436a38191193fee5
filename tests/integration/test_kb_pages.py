"""Department portal KB pages: the unit sees and edits its own entries through CSRF-protected forms."""

from __future__ import annotations

import uuid

from tests.integration.test_pages import Browser


def _form(title: str, code: str, **over) -> dict:
    data = {
        "kind": "service_item",
        "code": code,
        "title": title,
        "department_code": "RSJ",
        "category": "劳动和社会保障/就业培训",
        "tags": "见习，补贴",
        "districts": "",
        "valid_from": "",
        "valid_to": "",
        "body": "见习单位为见习人员发放生活补助。",
        "f_materials": "身份证；见习协议",
        "f_phone": "0000-12333",
    }
    data.update(over)
    return data


def test_unit_creates_submits_and_publishes_through_pages(app):
    handler, unit_admin = Browser(app, "handler_rsj"), Browser(app, "admin_rsj")
    page = handler.html("/dept/kb/")
    assert "知识库维护" in page and "职工参保登记" in page and "住房公积金" not in page  # own unit only
    code = "P-" + uuid.uuid4().hex[:6]
    resp = handler.post("/dept/kb/new", _form("就业见习补贴申领", code))
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    listing = handler.html("/dept/kb/")
    assert code in listing and "草稿" in listing
    import sqlalchemy as sa

    from hotline.extensions import db
    from hotline.models import KbEntry

    with app.app_context():
        entry_id = db.session.scalar(sa.select(KbEntry.id).where(KbEntry.code == code))
    assert handler.post(f"/dept/kb/{entry_id}/submit", {}).status_code == 302
    assert "待审核" in handler.html("/dept/kb/")
    unit_admin.post(f"/dept/kb/{entry_id}/approve", {})
    assert "已发布" in unit_admin.html("/dept/kb/")
    edit = unit_admin.html(f"/dept/kb/{entry_id}/edit")
    assert "就业见习补贴申领" in edit and "身份证；见习协议" in edit
    unit_admin.post(f"/dept/kb/{entry_id}/edit", _form("就业见习补贴申领（2027年）", code))
    with app.app_context():
        entry = db.session.get(KbEntry, entry_id)
        assert entry.title == "就业见习补贴申领（2027年）" and entry.version == 4 and entry.status == "published"


def test_bad_form_rerenders_with_chinese_errors_and_stores_nothing(app):
    handler = Browser(app, "handler_rsj")
    code = "P-" + uuid.uuid4().hex[:6]
    resp = handler.post("/dept/kb/new", _form("", code, department_code="ZJJ", valid_to="明年"))
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert "提交的内容有误" in html and "失效日期必须是日期" in html
    other = handler.post("/dept/kb/new", _form("别的单位的条目", code, department_code="ZJJ"))
    assert other.status_code == 400 and "只能编辑本单位的知识条目" in other.get_data(as_text=True)
    assert code not in handler.html("/dept/kb/")
    no_csrf = handler.client.post("/dept/kb/new", data=_form("无令牌", code))
    assert no_csrf.status_code == 400
    assert Browser(app, "agent1").get("/dept/kb/").status_code == 403
    import sqlalchemy as sa

    from hotline.extensions import db
    from hotline.models import KbEntry

    with app.app_context():
        gjj_entry = db.session.scalar(sa.select(KbEntry.id).where(KbEntry.code == "GJJ-002"))  # another unit's
    assert handler.get(f"/dept/kb/{gjj_entry}/edit").status_code == 403
