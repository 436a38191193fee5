"""Case endpoints: parse, load, authorize, call an operation, commit, answer JSON."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app, jsonify, request
from flask_login import current_user

from hotline.api.blueprint import api_bp
from hotline.api.serializers import case_summary, case_to_dict
from hotline.auth.permissions import access_case, requires, visible_cases_filter
from hotline.cases import operations as ops
from hotline.cases.workflow import STATE_LABELS
from hotline.desks.callers import caller_phone
from hotline.errors import ApiError
from hotline.evidence import geo
from hotline.evidence.service import set_location
from hotline.extensions import db
from hotline.models import Case, Department
from hotline.models.cases import CHANNELS, KINDS, RESULTS, URGENCIES
from hotline.search import query as search
from hotline.web import idempotency, lookups
from hotline.web.validation import Bool, Int, Str, expect_version, json_body, parse


def now() -> datetime:
    return datetime.now(UTC)


def _done(case: Case, status: int = 200, claim: idempotency.Claim | None = None):
    """Serialise from the flushed state, then commit: no reload of what this request just wrote. An idempotency
    key's answer is stored in the same transaction as the case."""
    db.session.flush()
    response = jsonify(case_to_dict(case, current_user))
    response.status_code = status
    if claim is not None:
        claim.store_response(response, case.number)
    db.session.commit()
    return response


def create_spec() -> dict:
    max_len = current_app.config["HOTLINE"].max_content_chars
    return {
        "channel": Str("受理渠道", required=True, choices=CHANNELS),
        "kind": Str("诉求类型", required=True, choices=KINDS),
        "content": Str("诉求内容", required=True, max_len=max_len, min_len=2),
        "citizen_phone": Str("来电号码", required=True, max_len=64),
        "citizen_name": Str("市民姓名", max_len=50),
        "title": Str("标题", max_len=200),
        "address": Str("地址", max_len=300),
        "district_code": Str("区县/街道代码", max_len=32),
        "urgency": Str("紧急程度", choices=URGENCIES, default="normal"),
        "category": Str("分类", max_len=200),
        "call_id": Str("通话编号", max_len=64),
        "confidential": Bool("保密"),
    }


@api_bp.post("/cases")
@requires("case.create")
def create_case():
    claim, earlier = idempotency.from_header(current_user, now())  # docs/api.md, "Idempotency-Key"
    if earlier is not None:
        return earlier
    data = parse(create_spec())
    point = geo.point_from(json_body())  # lat, long (WGS-84; coordinate_system "gcj02" converted)
    new = ops.NewCase(
        channel=data["channel"],
        kind=data["kind"],
        content=data["content"],
        phone=caller_phone(data["citizen_phone"]),  # 12345, 110, … refused
        citizen_name=data["citizen_name"],
        title=data["title"] or "",
        address=data["address"] or "",
        urgency=data["urgency"],
        call_id=data["call_id"],
        district=lookups.district(data["district_code"]) if data["district_code"] else None,
        category=lookups.category(data["category"]) if data["category"] else None,
        confidential=data["confidential"],
    )
    case = ops.create_case(new, current_user, now())
    if point is not None:
        set_location(case, *point, "api")
    return _done(case, 201, claim)


@api_bp.get("/cases/<number>")
@requires("case.view")
def get_case(number: str):
    case = access_case(current_user, number, "case.view")
    return jsonify(case_to_dict(case, current_user))


@api_bp.get("/cases")
@requires("case.view")
def list_cases():
    args = request.args
    query = sa.select(Case).where(visible_cases_filter(current_user))
    if status := args.get("status"):
        statuses = [s for s in status.split(",") if s]
        unknown = [s for s in statuses if s not in STATE_LABELS]
        if unknown:
            raise ApiError(
                400,
                "invalid_input",
                f"未知的状态：{'、'.join(unknown)[:40]}",
                {"status": "可选：" + "、".join(f"{k.value}（{v}）" for k, v in STATE_LABELS.items())},
            )
        query = query.where(Case.status.in_(statuses))
    if code := args.get("department"):
        dept = lookups.department(code, "department")
        query = query.where(
            Case.lead_department_id.in_(sa.select(Department.id).where(Department.path.startswith(dept.path)))
        )
    if due := args.get("due_before"):
        try:
            moment = datetime.fromisoformat(due)
            moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
        except (ValueError, OverflowError):  # OverflowError: 0001-01-01T00:00+01:00 has no UTC equivalent
            raise ApiError(
                400, "invalid_input", "due_before 必须是日期或时间，如 2026-11-30", {"due_before": "日期格式不正确"}
            ) from None
        query = query.where(Case.deadline_reply.is_not(None), Case.deadline_reply < moment)
    found = search.build({k: args.get(k) for k in search.EXTRA}, current_app.config["HOTLINE"].timezone)
    if found.problems:
        raise ApiError(400, "invalid_input", next(iter(found.problems.values())), found.problems)
    if found.conds:
        indexing = "q" in found.shown and search.prepare()
        query = query.where(*found.conds)
    raw_page = args.get("page")
    if raw_page and re.fullmatch(r"[+-]?[0-9]{1,9}", raw_page.strip()):  # "²".isdigit() but int("²") fails
        raw_page = int(raw_page)
    page = parse({"page": Int("页码", min_value=1, max_value=100000, default=1)}, {"page": raw_page})["page"]
    per_page = current_app.config["HOTLINE"].page_size
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    rows = db.session.scalars(
        query.options(
            so.selectinload(Case.lead_department), so.selectinload(Case.category), so.selectinload(Case.district)
        )
        .order_by(Case.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    body = {"items": [case_summary(c) for c in rows], "page": page, "per_page": per_page, "total": total}
    if found.conds and indexing:
        body["indexing"] = True  # cases are still being indexed for search: results may be incomplete
    return jsonify(body)


@api_bp.post("/cases/<number>/dispatch")
@requires("case.dispatch")
def dispatch(number: str):
    case = access_case(current_user, number, "case.dispatch")
    body = json_body()
    data = parse(
        {
            "department_code": Str("承办单位代码", required=True, max_len=32),
            "role": Str("主办/协办", choices={"lead": "主办", "assist": "协办"}, default="lead"),
            "note": Str("派单意见", max_len=1000),
        },
        body,
    )
    expect_version(case, body)
    department = lookups.department(data["department_code"])
    ops.dispatch(case, department, current_user, now(), role=data["role"], note=data["note"] or "")
    return _done(case)


@api_bp.post("/cases/<number>/sign")
@requires("case.sign")
def sign(number: str):
    case = access_case(current_user, number, "case.sign")
    expect_version(case, json_body())
    ops.sign(case, current_user, now())
    return _done(case)


@api_bp.post("/cases/<number>/contact")
@requires("case.contact")
def contact(number: str):
    case = access_case(current_user, number, "case.contact")
    body = json_body()
    data = parse({"note": Str("联系情况", required=True, max_len=2000)}, body)
    expect_version(case, body)
    ops.contact(case, current_user, data["note"], now())
    return _done(case)


@api_bp.post("/cases/<number>/reply")
@requires("case.reply")
def reply(number: str):
    case = access_case(current_user, number, "case.reply")
    body = json_body()
    data = parse(
        {
            "content": Str("答复内容", required=True, max_len=5000, min_len=2),
            "result": Str("办理结果", required=True, choices=RESULTS),
        },
        body,
    )
    expect_version(case, body)
    ops.reply(case, current_user, data["content"], data["result"], now())
    return _done(case)


@api_bp.post("/cases/<number>/return")
@requires("case.return")
def return_case(number: str):
    case = access_case(current_user, number, "case.return")
    body = json_body()
    data = parse({"reason": Str("退回理由", required=True, max_len=2000, min_len=2)}, body)
    expect_version(case, body)
    ops.return_case(case, current_user, data["reason"], now())
    return _done(case)


@api_bp.post("/cases/<number>/return/decision")
@requires("case.dispatch")
def return_decision(number: str):
    case = access_case(current_user, number, "case.dispatch")
    body = json_body()
    data = parse(
        {
            "accept": Bool("是否同意退回", required=True),
            "department_code": Str("改派单位代码", max_len=32),
            "note": Str("审核意见", required=True, max_len=1000),
        },
        body,
    )
    if data["accept"] and not data["department_code"]:
        raise ApiError(
            400,
            "invalid_input",
            "提交的内容有误：同意退回时必须指定改派单位",
            {"department_code": "同意退回时必须指定改派单位"},
        )
    expect_version(case, body)
    department = lookups.department(data["department_code"]) if data["department_code"] else None
    ops.decide_return(case, current_user, data["accept"], department, data["note"], now())
    return _done(case)


@api_bp.post("/cases/<number>/close")
@requires("case.close")
def close(number: str):
    case = access_case(current_user, number, "case.close")
    body = json_body()
    data = parse({"note": Str("办结说明", max_len=2000)}, body)
    expect_version(case, body)
    ops.close(case, current_user, data["note"] or "", now())
    return _done(case)


@api_bp.post("/cases/<number>/answer")
@requires("case.answer")
def answer(number: str):
    case = access_case(current_user, number, "case.answer")
    body = json_body()
    data = parse(
        {
            "answer": Str("答复内容", required=True, max_len=5000, min_len=2),
            "kb_id": Int("知识条目编号", min_value=1),
            "category": Str("分类", max_len=200),  # required unless the case already has one (直接办结)
        },
        body,
    )
    if data["kb_id"] is not None and lookups.kb_entry(data["kb_id"]).status != "published":
        raise ApiError(400, "kb_entry_not_published", "只能引用已发布的知识条目", {"kb_id": "条目未发布"})
    category = lookups.category(data["category"]) if data["category"] else None
    expect_version(case, body)
    ops.answer(case, current_user, data["answer"], data["kb_id"], now(), category=category)
    return _done(case)


@api_bp.post("/cases/<number>/merge")
@requires("case.merge")
def merge(number: str):
    case = access_case(current_user, number, "case.merge")
    body = json_body()
    data = parse({"into": Str("主工单编号", required=True, max_len=32)}, body)
    expect_version(case, body)
    master = lookups.case_by_number(data["into"], field="into")
    ops.merge(case, master, current_user, now())
    return _done(case)
