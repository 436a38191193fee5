"""Time-limit supervision endpoints on a case: pause/resume, extension and its decision, 催办/督办 and its
acknowledgement. Same shape as hotline/api/cases.py: parse, load, authorize, operate, commit, answer the case."""

from __future__ import annotations

from flask_login import current_user

from hotline.api.blueprint import api_bp
from hotline.api.cases import _done, now
from hotline.auth.permissions import access_case, requires
from hotline.sla import supervision as sup
from hotline.web import lookups
from hotline.web.validation import Bool, Int, Str, expect_version, json_body, parse

MAX_EXTENSION_DAYS = 30


@api_bp.post("/cases/<number>/pause")
@requires("case.pause")
def pause(number: str):
    case = access_case(current_user, number, "case.pause")
    body = json_body()
    data = parse({"reason": Str("暂停原因", required=True, max_len=1000, min_len=2)}, body)
    expect_version(case, body)
    sup.pause(case, current_user, data["reason"], now())
    return _done(case)


@api_bp.post("/cases/<number>/resume")
@requires("case.pause")
def resume(number: str):
    case = access_case(current_user, number, "case.pause")
    expect_version(case, json_body())
    sup.resume(case, current_user, now())
    return _done(case)


@api_bp.post("/cases/<number>/extension")
@requires("case.extension")
def request_extension(number: str):
    case = access_case(current_user, number, "case.extension")
    body = json_body()
    data = parse(
        {
            "days": Int("延期天数", required=True, min_value=1, max_value=MAX_EXTENSION_DAYS),
            "reason": Str("延期理由", required=True, max_len=1000, min_len=2),
        },
        body,
    )
    expect_version(case, body)
    sup.request_extension(case, current_user, data["days"], data["reason"], now())
    return _done(case)


@api_bp.post("/cases/<number>/extension/decision")
@requires("case.extension_decide")
def decide_extension(number: str):
    case = access_case(current_user, number, "case.extension_decide")
    body = json_body()
    data = parse({"approve": Bool("是否同意延期", required=True), "note": Str("审批意见", max_len=1000)}, body)
    expect_version(case, body)
    sup.decide_extension(case, current_user, data["approve"], data["note"] or "", now())
    return _done(case)


@api_bp.post("/cases/<number>/supervise")
@requires("case.supervise")
def supervise(number: str):
    case = access_case(current_user, number, "case.supervise")
    body = json_body()
    data = parse(
        {
            "level": Str("督办级别", required=True, choices=sup.SUPERVISION_LEVELS),
            "note": Str("督办意见", required=True, max_len=1000, min_len=2),
            "department_code": Str("督办单位代码", max_len=32),
        },
        body,
    )
    expect_version(case, body)
    unit = lookups.department(data["department_code"]) if data["department_code"] else None
    sup.supervise(case, current_user, data["level"], data["note"], unit, now())
    return _done(case)


@api_bp.post("/cases/<number>/supervise/ack")
@requires("case.supervise_ack")
def acknowledge(number: str):
    case = access_case(current_user, number, "case.supervise_ack")
    body = json_body()
    data = parse({"note": Str("确认说明", max_len=1000)}, body)
    expect_version(case, body)
    sup.acknowledge(case, current_user, data["note"] or "", now())
    return _done(case)
