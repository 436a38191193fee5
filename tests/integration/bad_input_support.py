"""Shared by the tests/integration/test_bad_input_*.py files: the JSON error check, snapshots of a case and
of the row counts, cases in a given state (made by the ``make_case`` fixture), and the good request of every
transition that a bad one differs from.

Each table row of those tests differs from a request that succeeds (``GOOD``) only in the bad part, so a refusal
can only come from that part. After every refusal the case is read again and must be exactly as before.
"""

from __future__ import annotations

import re

import sqlalchemy as sa

CJK = re.compile(r"[\u4e00-\u9fff]")
# what must never reach a client: traces, exception class names, library internals
LEAK = re.compile(
    r"Traceback|File \"|\b[A-Z]\w*(Error|Exception|Refused|Transition)\b|(?i:sqlalchemy|werkzeug|"
    r"psycopg|sqlite|NoneType|\bline \d+|internal server error)"
)
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
        return {
            m.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(m))
            for m in (Case, CaseEvent, Assignment, Citizen, CitizenPhone)
        }


def ok(resp):
    assert resp.status_code in (200, 201), resp.get_json()
    return resp.get_json()


def case_in_state(make_case, phone: str, state: str) -> str:
    """A fresh case (dispatched to 住建局 ZJJ where it gets that far) in ``state``, brought there by the real
    operations (the ``make_case`` fixture); returns its number. Besides make_case's states: "contacted" (handling,
    first contact recorded) and "closed_direct" (answered at once, 直接办结)."""
    if state == "closed_direct":
        return make_case("closed", phone=phone, answer="已按知识库答复市民。").number
    if state == "contacted":
        return make_case("handling", phone=phone, contacted=True).number
    return make_case(state, phone=phone).number


# endpoint -> (state that accepts the good body, user, good body); "MASTER" is replaced by another case.
GOOD = {
    "dispatch": ("registered", "dispatcher1", {"department_code": "ZJJ", "role": "lead", "note": "请尽快办理"}),
    "sign": ("dispatched", "handler_zjj", {}),
    "contact": ("handling", "handler_zjj", {"note": "已电话联系市民，约定明天上门"}),
    "reply": ("handling", "handler_zjj", {"content": "已责令整改完毕。", "result": "resolved"}),
    "return": ("dispatched", "handler_zjj", {"reason": "不属于本单位职责，应由人社局办理"}),
    "return/decision": ("returned", "dispatcher1", {"accept": True, "department_code": "RSJ", "note": "同意退回"}),
    "close": ("replied", "agent1", {"note": "回访满意"}),
    "answer": ("registered", "agent1", {"answer": "请携带身份证到区政务服务中心办理。", "category": "环境保护"}),
    "merge": ("registered", "dispatcher1", {"into": "MASTER"}),
}


def prepare(api, make_case, phone, endpoint: str, overrides: dict | None = None):
    """(client, path, body, number) for ``endpoint`` on a fresh case, body = GOOD body with ``overrides``."""
    state, user, good = GOOD[endpoint]
    number = case_in_state(make_case, phone, state)
    body = dict(good)
    if body.get("into") == "MASTER":
        body["into"] = make_case(phone=phone).number
    for key, value in (overrides or {}).items():
        if value is MISSING:
            body.pop(key, None)
        else:
            body[key] = value
    return api(user), f"/cases/{number}/{endpoint}", body, number
