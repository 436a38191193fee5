"""Bad input to every KB endpoint: a 4xx JSON error in Chinese, never a 500, and nothing stored changes."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

CJK = re.compile(r"[\u4e00-\u9fff]")


def _counts(app) -> tuple:
    from hotline.extensions import db
    from hotline.models import Case, KbEntry, KbFeedback, KbIndexState, KbVersion

    with app.app_context():
        counts = [
            db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in (KbEntry, KbVersion, KbFeedback, Case)
        ]
        return (
            *counts,
            db.session.scalar(sa.select(KbIndexState.seq)),
            db.session.scalar(sa.select(sa.func.sum(KbEntry.usage_count))),
        )


def _check(resp, status=400):
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True)[:300])
    err = resp.get_json()["error"]
    assert err["code"] and CJK.search(err["message"]), err
    return err


SEARCH_BAD = [
    {},
    {"q": ""},
    {"q": "   "},
    {"q": "x" * 201},
    {"q": "社保", "limit": "0"},
    {"q": "社保", "limit": "51"},
    {"q": "社保", "limit": "abc"},
    {"q": "社保", "limit": "²"},
    {"q": "社保", "kind": "faq"},
    {"q": "社保", "department": "NOPE"},
    {"q": "社保", "district": "RSJ"},
    {"q": "社保", "category": "不存在"},
    {"q": "社保\x00"},
    {"q": "<script>alert(1)</script>"},
]


@pytest.mark.parametrize("params", SEARCH_BAD)
def test_search_bad_params(app, api, params):
    before = _counts(app)
    _check(api("agent1").get("/kb/search", query_string=params))
    assert _counts(app) == before


def _entry(**over):
    body = {"kind": "article", "title": "测试条目标题", "department_code": "RSJ", "body": "正文"}
    body.update(over)
    return body


ENTRY_BAD = [
    ("not json", None),
    ([1, 2], None),
    (_entry(kind="faq"), "kind"),
    (_entry(title=""), "title"),
    (_entry(title="x" * 201), "title"),
    (_entry(department_code="NOPE"), "department_code"),
    (_entry(category="没有/这个"), "category"),
    (_entry(tags="社保"), "tags"),
    (_entry(tags=[1, 2]), "tags"),
    (_entry(tags=["x" * 31]), "tags"),
    (_entry(districts=["RSJ"]), "districts"),
    (_entry(fields=[]), "fields"),
    (_entry(fields={"price": "1"}), "fields.price"),
    (_entry(fields={"fees": 12}), "fields.fees"),
    (_entry(valid_to="2026-13-01"), "valid_to"),
    (_entry(valid_from="2026-12-01", valid_to="2026-11-01"), "valid_to"),
    (_entry(code="GJJ-003"), "code"),
    (_entry(body="<script>x</script>"), "body"),
    (_entry(title=None), "title"),
]


@pytest.mark.parametrize(("body", "field"), ENTRY_BAD)
def test_create_and_update_bad_bodies(app, api, body, field):
    admin = api("admin")
    before = _counts(app)
    if body == "not json":
        resp = admin.client.post(
            "/api/v1/kb/entries",
            data="{oops",
            content_type="application/json",
            headers={"Authorization": f"Bearer {admin.token}"},
        )
    else:
        resp = admin.post("/kb/entries", json=body)
    err = _check(resp)
    if field:
        assert field in err["fields"], err
    target = admin.get("/kb/search?q=社保卡补办&limit=1").get_json()["results"][0]["id"]
    original = admin.get(f"/kb/entries/{target}").get_json()
    if body != "not json":
        err = _check(admin.put(f"/kb/entries/{target}", json=body))
    assert admin.get(f"/kb/entries/{target}").get_json() == original
    assert _counts(app) == before


def test_entry_ids_transitions_versions_and_lists(app, api):
    admin = api("admin")
    before = _counts(app)
    _check(admin.get("/kb/entries/999999"), 404)
    _check(admin.put("/kb/entries/999999", json=_entry()), 404)
    _check(admin.get("/kb/entries/999999/versions"), 404)
    _check(admin.post("/kb/entries/1/transition", json={"action": "explode"}))
    _check(admin.post("/kb/entries/1/transition", json={}))
    _check(admin.post("/kb/entries/1/transition", json={"action": "approve"}), 422)  # published already
    _check(admin.post("/kb/entries/999999/transition", json={"action": "retire"}), 404)
    _check(admin.get("/kb/entries?status=lost"))
    _check(admin.get("/kb/entries?page=0"))
    _check(admin.get("/kb/entries?department=NOPE"))
    _check(api("agent1").post("/kb/entries", json=_entry()), 403)
    _check(api("handler_rsj").post("/kb/entries/1/transition", json={"action": "retire"}), 403)
    assert _counts(app) == before


FEEDBACK_BAD = [
    {},
    {"kind": "angry"},
    {"kind": "outdated"},
    {"kind": "not_found"},
    {"kind": "outdated", "entry_id": "1"},
    {"kind": "outdated", "entry_id": 999999},
    {"kind": "outdated", "entry_id": 0},
    {"kind": "not_found", "query": "x" * 201},
    {"kind": "not_found", "query": "社保", "case_number": "GD0"},
    {"kind": "not_found", "query": "社保", "department_code": "NOPE"},
    {"kind": "not_found", "query": "\x01"},
]


@pytest.mark.parametrize("body", FEEDBACK_BAD)
def test_feedback_bad_bodies(app, api, body):
    before = _counts(app)
    _check(api("agent1").post("/kb/feedback", json=body))
    assert _counts(app) == before


def test_feedback_list_and_resolve_bad(app, api):
    before = _counts(app)
    _check(api("admin").get("/kb/feedback?status=maybe"))
    _check(api("admin").post("/kb/feedback/999999/resolve"), 404)
    _check(api("agent1").get("/kb/feedback"), 403)
    assert _counts(app) == before


def test_answer_with_bad_kb_id_changes_nothing(app, api, phone):
    from tests.helpers import new_case

    agent = api("agent1")
    case = new_case(agent, phone, kind="consult")
    before = _counts(app)
    for kb_id in ("1", 0, 999999, True):
        _check(agent.post(f"/cases/{case['number']}/answer", json={"kb_id": kb_id, "answer": "答复内容"}))
    assert _counts(app) == before
    assert agent.get(f"/cases/{case['number']}").get_json()["status"] == "registered"


def test_console_answer_and_close_bad_answer_stores_nothing(app):
    from tests.integration.test_pages import Browser

    agent = Browser(app, "agent1")
    base = {
        "phone": "13912345678",
        "channel": "phone",
        "kind": "consult",
        "urgency": "normal",
        "content": "咨询租房提取公积金需要什么材料",
        "action": "answer",
    }
    before = _counts(app)
    for extra in (
        {"kb_id": "1", "kb_answer": ""},
        {"kb_id": "abc", "kb_answer": "答复"},
        {"kb_id": "999999", "kb_answer": "答复内容"},
        {"kb_id": "1", "kb_answer": "<script>x</script>"},
    ):
        resp = agent.post("/console/cases", {**base, **extra})
        assert resp.status_code == 400
        assert "答复并办结" in resp.get_data(as_text=True)
    assert _counts(app) == before
