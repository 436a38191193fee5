"""直接办结 keeps a category, so cases closed on the spot count in every breakdown (issue 19's second defect):
the API, the agent console and the case page refuse to close on the spot without one, and accept one."""

from __future__ import annotations

from tests.integration.test_pages import Browser, csrf_from

CATEGORY = "城乡建设/安全生产/事故处理"


def _new_case(api, phone, **extra):
    resp = api("agent1").post(
        "/cases",
        json={"citizen_phone": phone, "channel": "phone", "kind": "consult", "content": "咨询办事地点", **extra},
    )
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def test_api_answer_needs_a_category_unless_the_case_has_one(api, phone):
    case = _new_case(api, phone)
    refused = api("agent1").post(f"/cases/{case['number']}/answer", json={"answer": "请到政务服务中心办理。"})
    assert refused.status_code == 422
    err = refused.get_json()["error"]
    assert err["code"] == "category_required" and "分类" in err["message"] and "category" in err["fields"]
    assert api("agent1").get(f"/cases/{case['number']}").get_json()["status"] == "registered"  # nothing stored

    unknown = api("agent1").post(f"/cases/{case['number']}/answer", json={"answer": "答复内容", "category": "无此分类"})
    assert unknown.status_code == 400 and unknown.get_json()["error"]["code"] == "unknown_category"

    done = api("agent1").post(f"/cases/{case['number']}/answer", json={"answer": "答复内容", "category": CATEGORY})
    assert done.status_code == 200, done.get_json()
    closed = api("agent1").get(f"/cases/{case['number']}").get_json()
    assert closed["status"] == "closed" and closed["category_path"] == CATEGORY

    with_one = _new_case(api, phone, category=CATEGORY)
    resp = api("agent1").post(f"/cases/{with_one['number']}/answer", json={"answer": "请到政务服务中心办理。"})
    assert resp.status_code == 200, resp.get_json()


def test_console_answer_and_close_asks_for_a_category(app, phone):
    agent = Browser(app, "agent1")
    base = {
        "phone": phone,
        "channel": "phone",
        "kind": "consult",
        "urgency": "normal",
        "content": "咨询一件没有知识条目的事情怎么办",
        "action": "answer",
        "kb_id": "",
        "kb_answer": "已告知办理地点和所需材料。",
    }
    resp = agent.post("/console/cases", base)
    assert resp.status_code == 400 and "直接办结须选择问题分类" in resp.get_data(as_text=True)

    from hotline.extensions import db
    from hotline.models import Category

    with app.app_context():
        category = db.session.execute(db.select(Category).where(Category.path == CATEGORY)).scalar_one()
        cat1, cat2, cat3 = category.parent.parent_id, category.parent_id, category.id
    resp = agent.post("/console/cases", {**base, "category1": cat1, "category2": cat2, "category3": cat3})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:1500]
    page = agent.html(resp.headers["Location"])
    assert "已关闭" in page or "办结" in page
    assert "事故处理" in page


def test_case_page_answer_form_offers_and_requires_a_category(app, api, phone):
    case = _new_case(api, phone)
    agent = Browser(app, "agent1")
    page = agent.html(f"/cases/{case['number']}")
    form = page.split('id="action-answer"', 1)[1].split("</form>", 1)[0]
    assert 'name="answer-category"' in form and "<optgroup" in form and "事故处理" in form
    refused = agent.act(case["number"], "answer", answer="已告知办理地点。")
    assert "直接办结须选择问题分类" in refused.get_data(as_text=True)
    assert api("agent1").get(f"/cases/{case['number']}").get_json()["status"] == "registered"

    from hotline.extensions import db
    from hotline.models import Category

    with app.app_context():
        category_id = db.session.execute(db.select(Category.id).where(Category.path == CATEGORY)).scalar_one()
    agent.act(case["number"], "answer", answer="已告知办理地点。", category=str(category_id))
    closed = api("agent1").get(f"/cases/{case['number']}").get_json()
    assert closed["status"] == "closed" and closed["category_path"] == CATEGORY
    assert csrf_from(page)
