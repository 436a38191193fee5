"""Knowledge base API: search (GET /kb/search), entries with their lifecycle and versions, feedback."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from flask import jsonify, request
from flask_login import current_user

from hotline.api.blueprint import api_bp
from hotline.auth.permissions import can, can_view_case, department_scope, requires
from hotline.errors import ApiError
from hotline.extensions import db
from hotline.kb import entries, feedback
from hotline.kb.entries import TRANSITIONS
from hotline.kb.input import parse_entry
from hotline.kb.service import search
from hotline.models import Department, KbEntry, KbFeedback, KbVersion
from hotline.models.knowledge import KB_KINDS, KB_STATUSES, SERVICE_FIELDS
from hotline.web import lookups
from hotline.web.validation import Int, Str, json_body, parse
from knowledge_base.search import Filters

MAX_QUERY = 200


def _int_arg(name: str, label: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name, "")
    if not raw.strip():
        return default
    if not raw.strip().lstrip("+").isascii() or not raw.strip().lstrip("+").isdigit():
        raise ApiError(400, "invalid_input", f"{label}必须是整数", {name: "必须是整数"})
    value = int(raw)
    if not low <= value <= high:
        raise ApiError(400, "invalid_input", f"{label}必须在{low}到{high}之间", {name: f"必须在{low}到{high}之间"})
    return value


def entry_to_dict(e: KbEntry, full: bool = True) -> dict:
    out = {
        "id": e.id,
        "kind": e.kind,
        "code": e.code,
        "title": e.title,
        "status": e.status,
        "status_label": e.status_label,
        "version": e.version,
        "usage_count": e.usage_count,
        "department_code": e.department.code if e.department else None,
        "department_name": e.department.name if e.department else None,
        "category": e.category.path if e.category else None,
        "tags": e.tags or [],
        "districts": e.districts or [],
        "valid_from": e.valid_from.isoformat() if e.valid_from else None,
        "valid_to": e.valid_to.isoformat() if e.valid_to else None,
        "updated_at": e.updated_at.isoformat(),
    }
    if full:
        out["body"] = e.body
        out["fields"] = (
            {k: (e.fields or {}).get(k, "") for k in SERVICE_FIELDS} if e.kind == "service_item" else (e.fields or {})
        )
    return out


def _entry(entry_id: int) -> KbEntry:
    row = db.session.get(KbEntry, entry_id)
    if row is None:
        raise ApiError(404, "kb_entry_not_found", f"知识条目 {entry_id} 不存在")
    return row


@api_bp.get("/kb/search")
@requires("kb.view")
def kb_search():
    args = request.args
    q = parse({"q": Str("搜索内容", required=True, max_len=MAX_QUERY)}, {"q": args.get("q")})["q"]
    limit = _int_arg("limit", "limit", 10, 1, 50)
    kind = args.get("kind", "")
    if kind and kind not in KB_KINDS:
        raise ApiError(400, "invalid_input", "kind 取值无效，可选：service_item、article", {"kind": "取值无效"})
    unit = ""
    if code := args.get("department", ""):
        unit = lookups.department(code, "department").path
    district = args.get("district", "")
    if district:
        lookups.district(district)
    category = args.get("category", "")
    if category:
        lookups.category(category)
    filters = Filters(category=category, unit=unit, district=district, kind=kind)
    return jsonify({"results": search(q, limit, filters)})


@api_bp.get("/kb/entries")
@requires("kb.view")
def kb_entries():
    status = request.args.get("status", "")
    if status and status not in KB_STATUSES:
        raise ApiError(400, "invalid_input", f"status 取值无效，可选：{'、'.join(KB_STATUSES)}", {"status": "取值无效"})
    page = _int_arg("page", "页码", 1, 1, 100000)
    query = sa.select(KbEntry)
    if status:
        query = query.where(KbEntry.status == status)
    elif not can(current_user, "kb.edit"):  # readers see what is published, editors every stage
        query = query.where(KbEntry.status == "published")
    if code := request.args.get("department", ""):
        unit = lookups.department(code, "department")
        query = query.join(Department, Department.id == KbEntry.department_id).where(
            Department.path.startswith(unit.path)
        )
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    rows = db.session.scalars(query.order_by(KbEntry.id).limit(50).offset((page - 1) * 50))
    return jsonify({"items": [entry_to_dict(e, full=False) for e in rows], "page": page, "total": total})


@api_bp.get("/kb/entries/<int:entry_id>")
@requires("kb.view")
def kb_entry(entry_id: int):
    return jsonify(entry_to_dict(_entry(entry_id)))


@api_bp.post("/kb/entries")
@requires("kb.edit")
def kb_create():
    data = parse_entry(json_body())
    entries.check_edit(current_user, None, data.department)
    entry = entries.create(data, current_user, datetime.now(UTC))
    body = entry_to_dict(entry)
    db.session.commit()
    return jsonify(body), 201


@api_bp.put("/kb/entries/<int:entry_id>")
@requires("kb.edit")
def kb_update(entry_id: int):
    entry = _entry(entry_id)
    body = json_body()
    if "version" in body and body["version"] != entry.version:
        raise ApiError(409, "stale_version", f"条目已被他人修改（当前版本 {entry.version}），请刷新后重试")
    data = parse_entry(body, entry)
    entries.check_edit(current_user, entry, None)
    entries.check_edit(current_user, None, data.department)
    entries.update(entry, data, current_user, datetime.now(UTC), note=str(body.get("note") or "")[:200])
    out = entry_to_dict(entry)
    db.session.commit()
    return jsonify(out)


@api_bp.post("/kb/entries/<int:entry_id>/transition")
@requires("kb.edit")
def kb_transition(entry_id: int):
    data = parse(
        {
            "action": Str("操作", required=True, choices={k: v[2] for k, v in TRANSITIONS.items()}),
            "note": Str("说明", max_len=500),
        }
    )
    entry = _entry(entry_id)
    if not entries.owns(current_user, entry):
        raise ApiError(403, "forbidden", "只能处理本单位的知识条目")
    entries.transition(entry, data["action"], current_user, datetime.now(UTC), data["note"] or "")
    out = entry_to_dict(entry)
    db.session.commit()
    return jsonify(out)


@api_bp.get("/kb/entries/<int:entry_id>/versions")
@requires("kb.view")
def kb_versions(entry_id: int):
    _entry(entry_id)
    rows = db.session.scalars(sa.select(KbVersion).where(KbVersion.entry_id == entry_id).order_by(KbVersion.version))
    return jsonify(
        {
            "items": [
                {
                    "version": v.version,
                    "status": v.status,
                    "note": v.note,
                    "snapshot": v.snapshot,
                    "changed_by_id": v.changed_by_id,
                    "at": v.created_at.isoformat(),
                }
                for v in rows
            ]
        }
    )


@api_bp.post("/kb/feedback")
@requires("kb.feedback")
def kb_feedback_create():
    body = json_body()
    data = parse(
        {
            "kind": Str("反馈类型", required=True, choices=feedback.KINDS),
            "entry_id": Int("知识条目编号", min_value=1),
            "query": Str("搜索内容", max_len=MAX_QUERY),
            "note": Str("说明", max_len=1000),
            "case_number": Str("工单编号", max_len=32),
            "department_code": Str("建议负责单位代码", max_len=32),
        },
        body,
    )
    if data["kind"] == "outdated" and data["entry_id"] is None:
        raise ApiError(
            400,
            "invalid_input",
            "提交的内容有误：反馈“内容过时”时必须指明知识条目",
            {"entry_id": "缺少必填项：知识条目编号"},
        )
    if data["kind"] == "not_found" and not data["query"]:
        raise ApiError(
            400, "invalid_input", "提交的内容有误：反馈“没有找到”时请填写搜索内容", {"query": "缺少必填项：搜索内容"}
        )
    entry = None
    if data["entry_id"] is not None:
        entry = db.session.get(KbEntry, data["entry_id"])
        if entry is None:
            raise ApiError(400, "unknown_kb_entry", f"知识库条目 {data['entry_id']} 不存在", {"entry_id": "不存在"})
    case = lookups.case_by_number(data["case_number"], field="case_number") if data["case_number"] else None
    if case is not None and not can_view_case(current_user, case):  # the answer of a missing number: no leak
        raise ApiError(400, "unknown_case", f"工单 {case.number} 不存在", {"case_number": "工单编号不存在"})
    unit = lookups.department(data["department_code"]) if data["department_code"] else None
    fb = feedback.create(
        data["kind"],
        current_user,
        datetime.now(UTC),
        entry=entry,
        department=unit,
        case=case,
        query=data["query"] or "",
        note=data["note"] or "",
    )
    out = feedback.to_dict(fb)
    db.session.commit()
    return jsonify(out), 201


@api_bp.get("/kb/feedback")
@requires("kb.feedback_view")
def kb_feedback_list():
    status = request.args.get("status", "open")
    if status not in ("open", "done"):
        raise ApiError(400, "invalid_input", "status 取值无效，可选：open、done", {"status": "取值无效"})
    query = sa.select(KbFeedback).where(KbFeedback.status == status)
    if current_user.is_department_user:
        query = query.join(Department, Department.id == KbFeedback.department_id).where(
            Department.path.startswith(current_user.department.path)
        )
    rows = db.session.scalars(query.order_by(KbFeedback.id.desc()).limit(200))
    return jsonify({"items": [feedback.to_dict(f) for f in rows]})


@api_bp.post("/kb/feedback/<int:feedback_id>/resolve")
@requires("kb.edit")
def kb_feedback_resolve(feedback_id: int):
    fb = db.session.get(KbFeedback, feedback_id)
    if fb is None:
        raise ApiError(404, "not_found", f"反馈 {feedback_id} 不存在")
    scope = department_scope(current_user)
    if scope is not None and not (fb.department and fb.department.path.startswith(scope.path)):
        raise ApiError(403, "forbidden", "只能处理本单位的反馈")
    json_body()
    feedback.resolve(fb, current_user, datetime.now(UTC))
    out = feedback.to_dict(fb)
    db.session.commit()
    return jsonify(out)
