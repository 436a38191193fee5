"""Staff web pages through the browser's path: real login, CSRF-protected forms, redirects, rendered HTML."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from hotline.seed.city import DEMO_PASSWORD

CSRF = re.compile(r'name="(?:[\w-]+-)?csrf_token" type="hidden" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no csrf_token field in the page"
    return match.group(1)


class Browser:
    """A test client that logs in like a person and submits forms with the page's CSRF token."""

    def __init__(self, app, username: str, password: str = DEMO_PASSWORD):
        self.client = app.test_client()
        self.token = csrf_from(self.client.get("/login").get_data(as_text=True))
        self.login = self.client.post(
            "/login", data={"username": username, "password": password, "csrf_token": self.token}
        )

    def get(self, path: str):
        return self.client.get(path)

    def html(self, path: str, status: int = 200) -> str:
        resp = self.client.get(path)
        assert resp.status_code == status, (path, resp.status_code)
        return resp.get_data(as_text=True)

    def post(self, path: str, data: dict, prefix: str = "", follow: bool = False):
        fields = {f"{prefix}-{k}" if prefix else k: v for k, v in data.items()}
        fields[f"{prefix}-csrf_token" if prefix else "csrf_token"] = self.token
        return self.client.post(path, data=fields, follow_redirects=follow)

    def act(self, number: str, action: str, follow: bool = True, **data):
        return self.post(f"/cases/{number}/{action}", data, prefix=action, follow=follow)


@pytest.fixture()
def browser(app):
    return lambda username: Browser(app, username)


def ids(app, model, column, *values) -> list[int]:
    from hotline.extensions import db

    with app.app_context():
        rows = dict(db.session.execute(sa.select(column, model.id).where(column.in_(values))).all())
    return [rows[v] for v in values]


def department_id(app, code: str) -> int:
    from hotline.models import Department

    return ids(app, Department, Department.code, code)[0]


def register(agent: Browser, app, content: str | None = None, **overrides) -> str:
    """Register a case through the console form; returns its number."""
    from hotline.models import Category

    cat1, cat2 = ids(app, Category, Category.path, "环境保护", "环境保护/环境污染")
    data = {
        "phone": "139" + f"{uuid.uuid4().int % 10**8:08d}",
        "citizen_name": "王小明",
        "channel": "phone",
        "kind": "complaint",
        "urgency": "normal",
        "category1": cat1,
        "category2": cat2,
        "district": department_id(app, "D01"),
        "address": "东城区人民路12号",
        "content": content or f"小区楼下餐馆油烟扰民，晚上十点还在营业。{uuid.uuid4().hex[:6]}",
        "confidential": "",
    }
    data.update(overrides)
    if not data["confidential"]:
        del data["confidential"]
    resp = agent.post("/console/cases", data)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    match = re.fullmatch(r"/cases/(GD\d{8}-\d{6})", resp.headers["Location"])
    assert match, resp.headers["Location"]
    return match.group(1)


def rows(html: str) -> str:
    """The table body of a list page (not the search box echoing the query)."""
    return html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]


def case_count(app, content: str) -> int:
    from hotline.extensions import db
    from hotline.models import Case

    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Case).where(Case.content == content))


def test_login_and_wrong_password(app, browser):
    wrong = Browser(app, "agent1", "not-the-password")
    assert wrong.login.status_code == 200
    assert "用户名或密码错误" in wrong.login.get_data(as_text=True)
    assert wrong.get("/console").status_code == 302  # still anonymous: sent to the login page

    agent = browser("agent1")
    assert agent.login.status_code == 302 and agent.login.headers["Location"] == "/console"
    page = agent.html("/console")
    assert "12345 政务服务便民热线" in page and "李晓梅" in page and "话务员" in page
    assert '<meta name="csrf-token"' in page and 'action="/logout"' in page
    assert browser("dispatcher1").login.headers["Location"] == "/dispatch"
    assert browser("handler_zjj").login.headers["Location"] == "/dept/"

    out = agent.post("/logout", {})
    assert out.status_code == 302 and agent.get("/console").status_code == 302


def test_agent_registers_case_and_sees_timeline(app, browser):
    agent = browser("agent1")
    content = f"油烟扰民，每天晚上十点后仍在排放。{uuid.uuid4().hex[:8]}"
    number = register(agent, app, content=content)
    page = agent.client.get(f"/cases/{number}").get_data(as_text=True)
    assert f"工单 {number} 已登记" in page  # the flash after the redirect
    assert number in page and "已登记" in page and content in page
    assert "环境保护 › 环境污染" in page and "东城区" in page and "投诉" in page
    assert "王**" in page and "****" in page  # masked name and phone
    timeline = page.split("办理记录", 1)[1]
    assert "登记" in timeline and "李晓梅（话务员）" in timeline and "电话受理" in timeline
    assert 'id="action-answer"' in page  # an agent may answer a registered case directly
    assert 'id="action-dispatch"' not in page
    assert number in agent.html("/console").split("我今天登记的工单", 1)[1]

    # the dispatcher's queue (特急 first) suggests the district: 环境污染 is a 属地 category with a known place
    urgent = register(agent, app, urgency="emergency")
    queue = browser("dispatcher1").html("/dispatch")
    assert queue.index(urgent) < queue.index("</tbody>")
    row = queue.split(urgent, 1)[1].split("</tr>", 1)[0]
    assert "东城区" in row and "按建议派单" in row and "特急" in row


def test_post_without_csrf_is_refused(app, browser):
    agent = browser("agent1")
    content = f"没有安全令牌的提交 {uuid.uuid4().hex[:8]}"
    resp = agent.client.post(
        "/console/cases",
        data={"phone": "13912345678", "kind": "consult", "channel": "phone", "urgency": "normal", "content": content},
    )
    assert resp.status_code == 400
    assert "安全令牌" in resp.get_data(as_text=True)
    assert case_count(app, content) == 0


def test_bad_phone_rerenders_with_chinese_error(app, browser):
    from hotline.citizens.phones import PhoneError, normalize

    bad = "13a-号码"
    with pytest.raises(PhoneError) as err:
        normalize(bad)
    agent = browser("agent1")
    content = f"路灯坏了一个月没人修 {uuid.uuid4().hex[:8]}"
    resp = agent.post(
        "/console/cases",
        {
            "phone": bad,
            "kind": "help",
            "channel": "phone",
            "urgency": "urgent",
            "content": content,
            "address": "西城区光明路",
        },
    )
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert err.value.message in page
    assert content in page and "西城区光明路" in page and f'value="{bad}"' in page
    assert re.search(r'value="urgent" checked', page)  # the chosen urgency is kept
    assert case_count(app, content) == 0

    missing = agent.post(
        "/console/cases", {"phone": "", "kind": "help", "channel": "phone", "urgency": "normal", "content": ""}
    ).get_data(as_text=True)
    assert "请填写来电号码" in missing and "请填写诉求内容" in missing


def test_dispatch_sign_contact_reply_close_through_pages(app, browser):
    agent, dispatcher, handler = browser("agent1"), browser("dispatcher1"), browser("handler_zjj")
    number = register(agent, app)
    page = dispatcher.html(f"/cases/{number}")
    assert 'id="action-dispatch"' in page and "建议：东城区" in page

    page = dispatcher.act(
        number, "dispatch", department=department_id(app, "ZJJ"), role="lead", note="油烟问题请住建局牵头", version=1
    ).get_data(as_text=True)
    assert f"工单 {number} 已派至市住房和城乡建设局" in page
    assert "已派单" in page and "油烟问题请住建局牵头" in page and "答复时限" in page

    inbox = handler.html("/dept/")
    row = inbox.split(number, 1)[1].split("</tr>", 1)[0]
    assert "待签收" in row and "剩余" in row and "签收" in row
    resp = handler.act(number, "sign", follow=False, next="/dept/")
    assert resp.status_code == 302 and resp.headers["Location"] == "/dept/"
    assert f"已签收工单 {number}" in handler.html("/dept/")
    assert "办理中" in handler.html(f"/cases/{number}")

    # a second sign is refused by the rules: a flashed message, not a 500
    again = handler.act(number, "sign")
    assert again.status_code == 200 and "不能重复签收" in again.get_data(as_text=True)

    handler.act(number, "contact", note="已电话联系市民，约定明天上门")
    page = handler.act(number, "reply", content="已责令餐馆安装油烟净化器。", result="resolved").get_data(as_text=True)
    assert "答复已提交" in page and "已答复" in page and "已解决" in page
    assert number in handler.html("/dept/?tab=history")

    page = agent.act(number, "close", note="回访满意").get_data(as_text=True)
    assert f"工单 {number} 已办结" in page
    timeline = page.split("办理记录", 1)[1]
    labels = re.findall(r'<strong class="ev-action">([^<]+)</strong>', timeline)
    assert labels == ["登记", "派单", "签收", "首次联系市民", "答复", "评价邀请", "办结"]
    assert "已答复 → 已办结" in timeline


def test_form_errors_and_stale_copies_are_reported(app, browser):
    agent, dispatcher = browser("agent1"), browser("dispatcher1")
    number = register(agent, app)
    # missing department: the case page comes back with the Chinese message
    resp = dispatcher.act(number, "dispatch", department="", role="lead", follow=False)
    assert resp.status_code == 400 and "请选择承办单位" in resp.get_data(as_text=True)
    dispatcher.act(number, "dispatch", department=department_id(app, "SHJ"), role="lead", version=1)
    # a page loaded before that dispatch still carries version 1
    page = dispatcher.act(number, "dispatch", department=department_id(app, "JTJ"), role="assist", version=1).get_data(
        as_text=True
    )
    assert "已被他人修改" in page
    # an action the state does not allow
    page = agent.act(number, "close", note="x").get_data(as_text=True)
    assert "不能执行「办结」操作" in page
    # a role that may not act at all
    assert (
        browser("handler_shj").act(number, "dispatch", follow=False, department=department_id(app, "SHJ")).status_code
        == 403
    )
    reply = browser("handler_shj").act(number, "reply", follow=False, content="", result="resolved")
    assert reply.status_code == 400 and "请填写答复内容" in reply.get_data(as_text=True)


def test_back_links_stay_on_the_site(app, browser):
    agent = browser("agent1")
    for target in ("//evil.example/x", "/\\evil.example", "https://evil.example/"):
        number = register(agent, app)
        resp = agent.act(number, "answer", follow=False, answer="已告知办理地点和所需材料。", next=target)
        assert resp.status_code == 302 and resp.headers["Location"] == f"/cases/{number}"
    resp = agent.act(register(agent, app), "answer", follow=False, answer="", next="/console")
    assert resp.headers["Location"] == "/console" and "请填写答复内容" in agent.html("/console")


def test_other_department_is_forbidden_and_sees_nothing(app, browser):
    agent, dispatcher = browser("agent1"), browser("dispatcher1")
    number = register(agent, app)
    dispatcher.act(number, "dispatch", department=department_id(app, "ZJJ"), role="lead")
    outsider = browser("handler_shj")
    resp = outsider.get(f"/cases/{number}")
    assert resp.status_code == 404 and "不存在" in resp.get_data(as_text=True)  # isolation: not even its existence
    assert number not in rows(outsider.html("/cases"))
    assert number not in rows(outsider.html(f"/cases?q={number}"))
    assert number not in outsider.html("/dept/")
    assert number in rows(browser("handler_zjj").html(f"/cases?q={number}"))
    assert outsider.get("/console").status_code == 403


def test_confidential_report_hides_the_reporter_from_the_department(app, browser):
    agent, dispatcher = browser("agent1"), browser("dispatcher1")
    number = register(agent, app, kind="report", confidential="y", citizen_name="欧阳修文")
    assert "欧***" in agent.html(f"/cases/{number}")
    dispatcher.act(number, "dispatch", department=department_id(app, "ZJJ"), role="lead")
    page = browser("handler_zjj").html(f"/cases/{number}")
    citizen = page.split("来电人</h2>", 1)[1].split("</section>", 1)[0]
    assert "保密" in citizen and "欧" not in citizen and "****" not in citizen


def test_return_and_decision_through_pages(app, browser):
    agent, dispatcher = browser("agent1"), browser("dispatcher1")
    number = register(agent, app)
    dispatcher.act(number, "dispatch", department=department_id(app, "SHJ"), role="lead")
    reason = "欠薪问题不属于生态环境局职责，应由人社局办理"
    page = browser("handler_shj").act(number, "return", reason=reason).get_data(as_text=True)
    assert "工单已退回" in page and "已退回" in page

    queue = dispatcher.html("/dispatch").split("退回待审", 1)[1]
    row = queue.split(number, 1)[1].split("</tr>", 1)[0]
    assert reason in row and "市生态环境局" in row
    missing = dispatcher.act(number, "return_decision", follow=False, decision="accept", department="", note="改派")
    assert missing.status_code == 400 and "同意退回时请选择改派单位" in missing.get_data(as_text=True)
    page = dispatcher.act(
        number, "return_decision", decision="accept", department=department_id(app, "RSJ"), note="同意退回，改派人社局"
    ).get_data(as_text=True)
    assert "已同意退回，改派至市人力资源和社会保障局" in page and "改派" in page and "已派单" in page


def test_case_list_filters_and_deadline_colours(app, browser):
    from hotline.extensions import db
    from hotline.models import Assignment, Case

    agent, dispatcher = browser("agent1"), browser("dispatcher1")
    late, fresh = register(agent, app), register(agent, app)
    for number in (late, fresh):
        dispatcher.act(number, "dispatch", department=department_id(app, "ZJJ"), role="lead")
    with app.app_context():
        case = db.session.scalar(sa.select(Case).where(Case.number == late))
        past = datetime.now(UTC) - timedelta(hours=3)
        case.deadline_reply = past
        for a in db.session.scalars(sa.select(Assignment).where(Assignment.case_id == case.id)):
            a.deadline_reply = a.deadline_sign = past
        db.session.commit()

    listing = dispatcher.html("/cases?status=dispatched")
    late_row = listing.split(late, 1)[1].split("</tr>", 1)[0]
    fresh_row = listing.split(fresh, 1)[1].split("</tr>", 1)[0]
    assert "sla-overdue" in late_row and "已超时" in late_row
    assert "sla-overdue" not in fresh_row and "剩余" in fresh_row
    inbox = browser("handler_zjj").html("/dept/")
    assert "sla-overdue" in inbox.split(late, 1)[1].split("</tr>", 1)[0]

    searched = rows(dispatcher.html(f"/cases?q={late}"))
    assert late in searched and fresh not in searched
    assert late not in rows(dispatcher.html(f"/cases?q={late}&status=closed"))
    zjj = department_id(app, "ZJJ")
    assert late in rows(dispatcher.html(f"/cases?department={zjj}&kind=complaint&q={late}"))
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    assert late in rows(dispatcher.html(f"/cases?due_before={today}&q={late}"))
    two_days_ago = (datetime.now(ZoneInfo("Asia/Shanghai")) - timedelta(days=2)).date().isoformat()
    assert fresh not in rows(dispatcher.html(f"/cases?due_before={two_days_ago}&q={fresh}"))
    assert "日期格式不正确" in dispatcher.html("/cases?due_before=tomorrow")


def test_category_endpoint_gives_children(app, browser):
    from hotline.models import Category

    (level1,) = ids(app, Category, Category.path, "环境保护")
    agent = browser("agent1")
    top = agent.get("/console/categories").get_json()["items"]
    assert any(item["name"] == "环境保护" for item in top) and all(item["level"] == 1 for item in top)
    children = agent.get(f"/console/categories?parent={level1}").get_json()["items"]
    assert "环境污染" in [item["name"] for item in children]
    assert all(item["level"] == 2 for item in children)


PAGES = {
    "agent1": {"/console": 200, "/dispatch": 200, "/cases": 200, "/dept/": 403},
    "dispatcher1": {"/console": 200, "/dispatch": 200, "/cases": 200, "/dept/": 403},
    "monitor1": {"/console": 200, "/dispatch": 200, "/cases": 200, "/dept/": 403},
    "supervisor1": {"/console": 200, "/dispatch": 200, "/cases": 200, "/dept/": 403},
    "admin": {"/console": 200, "/dispatch": 200, "/cases": 200, "/dept/": 200},
    "handler_zjj": {"/console": 403, "/dispatch": 403, "/cases": 200, "/dept/": 200, "/dept/?tab=history": 200},
    "admin_d01": {"/console": 403, "/dispatch": 403, "/cases": 200, "/dept/": 200, "/dept/?tab=history": 200},
}


@pytest.mark.parametrize("username", list(PAGES))
def test_every_page_renders_for_each_role(app, browser, username):
    from hotline.models.users import ROLES

    user = browser(username)
    number = register(browser("agent1"), app)
    for path, status in PAGES[username].items():
        resp = user.get(path)
        page = resp.get_data(as_text=True)
        assert resp.status_code == status, (username, path)
        assert "12345 政务服务便民热线" in page
        if status == 200:
            assert any(label in page for label in ROLES.values())
        else:
            assert "您没有权限执行此操作" in page
    case_page = user.get(f"/cases/{number}")
    assert case_page.status_code == (404 if username in ("handler_zjj", "admin_d01") else 200)
    assert user.get("/cases/GD19990101-000001").status_code == 404
    assert user.get("/cases?page=999").status_code == 200
