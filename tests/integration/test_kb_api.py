"""KB entries through the API: lifecycle and versions, unit ownership, answer-and-close citing, feedback, expiry."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from tests.helpers import new_case, run_jobs


def _body(**over) -> dict:
    body = {
        "kind": "service_item",
        "code": "T-" + uuid.uuid4().hex[:8],
        "title": "就业见习补贴发放查询",
        "department_code": "RSJ",
        "category": "劳动和社会保障/就业培训",
        "tags": ["救助金"],
        "body": "救助金到账后可在App查询。",
        "fields": {"materials": "身份证", "hours": "工作日"},
    }
    body.update(over)
    return body


def test_lifecycle_draft_review_published_retired_with_versions(app, api):
    handler, unit_admin = api("handler_rsj"), api("admin_rsj")
    created = handler.post("/kb/entries", json=_body())
    assert created.status_code == 201, created.get_json()
    entry = created.get_json()
    assert entry["status"] == "draft" and entry["version"] == 1
    # a handler may submit but not publish
    assert handler.post(f"/kb/entries/{entry['id']}/transition", json={"action": "publish"}).status_code == 403
    assert (
        handler.post(f"/kb/entries/{entry['id']}/transition", json={"action": "submit"}).get_json()["status"]
        == "review"
    )
    resp = unit_admin.post(f"/kb/entries/{entry['id']}/transition", json={"action": "approve", "note": "核对无误"})
    assert resp.get_json()["status"] == "published"
    # published: the handler can no longer edit; the unit admin can, and it stays published (new version)
    edit = _body(code=entry["code"], title="就业见习补贴发放进度查询")
    assert handler.put(f"/kb/entries/{entry['id']}", json=edit).status_code == 422
    updated = unit_admin.put(f"/kb/entries/{entry['id']}", json=edit).get_json()
    assert updated["title"] == "就业见习补贴发放进度查询" and updated["status"] == "published"
    stale = unit_admin.put(f"/kb/entries/{entry['id']}", json={**edit, "version": 1})
    assert stale.status_code == 409
    # invalid transition: 422 in Chinese
    bad = unit_admin.post(f"/kb/entries/{entry['id']}/transition", json={"action": "approve"})
    assert bad.status_code == 422 and "已发布" in bad.get_json()["error"]["message"]
    unit_admin.post(f"/kb/entries/{entry['id']}/transition", json={"action": "retire"})
    versions = api("agent1").get(f"/kb/entries/{entry['id']}/versions").get_json()["items"]
    assert [v["status"] for v in versions] == ["draft", "review", "published", "published", "retired"]
    assert versions[0]["snapshot"]["title"] == "就业见习补贴发放查询"
    assert versions[3]["snapshot"]["title"] == "就业见习补贴发放进度查询"


def test_unit_edits_only_its_own_entries(app, api):
    other_unit = api("handler_rsj").post("/kb/entries", json=_body(department_code="ZJJ"))
    assert other_unit.status_code == 403 and other_unit.get_json()["error"]["message"]
    assert api("agent1").post("/kb/entries", json=_body()).status_code == 403
    gjj_entry = api("admin").get("/kb/search?q=公积金租房提取&limit=1").get_json()["results"][0]
    edit = api("handler_rsj").put(f"/kb/entries/{gjj_entry['id']}", json=_body(department_code="RSJ"))
    assert edit.status_code == 403


def test_answer_and_close_cites_entry_and_bumps_usage(app, api, phone):
    agent = api("agent1")
    case = new_case(agent, phone, kind="consult", content="想问一下租房怎么提取公积金，要带什么材料？")
    hit = agent.get("/kb/search?q=租房提取公积金&limit=1").get_json()["results"][0]
    before = agent.get(f"/kb/entries/{hit['id']}").get_json()["usage_count"]
    resp = agent.post(
        f"/cases/{case['number']}/answer", json={"kb_id": hit["id"], "answer": "租房提取可在App全程网办。"}
    )
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["status"] == "closed" and body["answer_kb_id"] == hit["id"]
    event = body["events"][-1]
    assert event["action"] == "answer" and event["data"]["kb_code"] == hit["code"]
    assert event["data"]["kb_title"] == hit["title"] and event["data"]["kb_version"] >= 1
    assert agent.get(f"/kb/entries/{hit['id']}").get_json()["usage_count"] == before + 1


def test_answer_refuses_unpublished_entry(app, api, phone):
    agent = api("agent1")
    draft = api("admin").post("/kb/entries", json=_body()).get_json()
    case = new_case(agent, phone, kind="consult")
    resp = agent.post(f"/cases/{case['number']}/answer", json={"kb_id": draft["id"], "answer": "答复内容"})
    assert resp.status_code == 400 and resp.get_json()["error"]["fields"]["kb_id"]
    assert agent.get(f"/cases/{case['number']}").get_json()["status"] == "registered"


def test_feedback_creates_task_and_notice_for_owning_unit(app, api):
    from hotline.extensions import db
    from hotline.models import Department, OutboxMessage

    agent = api("agent1")
    hit = agent.get("/kb/search?q=失业金申领&limit=1").get_json()["results"][0]
    resp = agent.post("/kb/feedback", json={"kind": "outdated", "entry_id": hit["id"], "note": "失业金标准已调整"})
    assert resp.status_code == 201, resp.get_json()
    fb = resp.get_json()
    assert fb["department_code"] == "RSJ" and fb["status"] == "open"
    missing = agent.post(
        "/kb/feedback", json={"kind": "not_found", "query": "共享单车押金退不了", "department_code": "JTJ"}
    ).get_json()
    assert missing["department_code"] == "JTJ"
    with app.app_context():
        rsj = db.session.scalar(sa.select(Department.id).where(Department.code == "RSJ"))
        notice = db.session.scalar(
            sa.select(OutboxMessage).where(
                OutboxMessage.recipient == f"department:{rsj}", OutboxMessage.text.contains("失业金标准已调整")
            )
        )
        assert notice is not None
    run_jobs(app)
    tasks = api("handler_rsj").get("/kb/feedback").get_json()["items"]
    assert fb["id"] in [t["id"] for t in tasks] and missing["id"] not in [t["id"] for t in tasks]
    done = api("handler_rsj").post(f"/kb/feedback/{fb['id']}/resolve")
    assert done.status_code == 200 and done.get_json()["status"] == "done"
    assert api("handler_zjj").post(f"/kb/feedback/{missing['id']}/resolve").status_code == 403


def test_expiry_warning_once_then_retired(app, api):
    from hotline.extensions import db
    from hotline.models import KbEntry, OutboxMessage
    from workers.jobs.kb import check_expiry

    now = datetime.now(UTC)  # publishing refuses an entry already past its end: the real date
    today = now.date()
    admin = api("admin")
    soon = admin.post("/kb/entries", json=_body(valid_to=(today + timedelta(days=10)).isoformat())).get_json()
    admin.post(f"/kb/entries/{soon['id']}/transition", json={"action": "publish"})
    with app.app_context():
        first = check_expiry(today, now)
        db.session.commit()
        again = check_expiry(today, now)
        db.session.commit()
        assert first["warned"] >= 1 and again["warned"] == 0
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).select_from(OutboxMessage).where(OutboxMessage.text.contains(soon["code"]))
            )
            == 1
        )
        later = check_expiry(today + timedelta(days=11), now + timedelta(days=11))
        db.session.commit()
        assert later["retired"] >= 1
        assert db.session.get(KbEntry, soon["id"]).status == "retired"
