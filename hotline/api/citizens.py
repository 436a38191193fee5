"""一号一档 endpoints: look-up by phone, external records, phones, tags, merge, audited unmasking."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import jsonify, request
from flask_login import current_user

from hotline.api.blueprint import api_bp
from hotline.auth.permissions import requires
from hotline.citizens import operations as cops
from hotline.citizens.file import file_summary, lookup_file, resolve
from hotline.citizens.phones import normalize
from hotline.citizens.profile import find_phone
from hotline.db.dialect import read_only
from hotline.errors import ApiError
from hotline.extensions import db
from hotline.models import Citizen
from hotline.web.validation import Str, json_body, parse


def _citizen(citizen_id: int) -> Citizen:
    citizen = db.session.get(Citizen, citizen_id)
    if citizen is None:
        raise ApiError(404, "citizen_not_found", "市民档案不存在")
    return resolve(citizen)


def _rule(fn, *args):
    try:
        return fn(*args)
    except cops.CitizenRuleError as err:
        raise ApiError(422, err.code, err.message) from None


@api_bp.get("/citizens/lookup")
@requires("citizen.view")
@read_only  # it runs while the phone rings: no BEGIN/ROLLBACK round trips
def citizen_lookup():
    raw = request.args.get("phone", "")
    if not raw.strip():
        raise ApiError(400, "invalid_input", "请提供电话号码：?phone=13800138000", {"phone": "缺少电话号码"})
    phone = normalize(raw)
    summary = lookup_file(phone, datetime.now(UTC))
    if summary is None:
        return jsonify({"found": False, "phone": {"e164_masked": None, "kind": phone.kind}, "citizen": None})
    return jsonify({"found": True, "citizen": summary})


@api_bp.post("/citizens/records")
@requires("citizen.records")
def citizen_record():
    data = parse(
        {
            "phone": Str("电话号码", required=True, max_len=64),
            "source": Str("来源系统", required=True, max_len=64),
            "ref": Str("来源编号", required=True, max_len=128),
            "title": Str("事项名称", required=True, max_len=300),
            "status": Str("状态", max_len=64, default=""),
            "occurred_at": Str("发生时间", max_len=40),
        }
    )
    body = json_body()
    occurred = None
    if data["occurred_at"]:
        try:
            occurred = datetime.fromisoformat(data["occurred_at"])
        except ValueError:
            raise ApiError(400, "invalid_input", "发生时间格式不正确", {"occurred_at": "ISO 8601 时间"}) from None
        occurred = occurred if occurred.tzinfo else occurred.replace(tzinfo=UTC)
    extra = body.get("data") if isinstance(body.get("data"), dict) else {}
    record, created = cops.add_record(
        normalize(data["phone"]), data["source"], data["ref"], data["title"], data["status"], occurred, extra
    )
    db.session.commit()
    return jsonify({"id": record.id, "citizen_id": record.citizen_id, "created": created}), 201 if created else 200


@api_bp.post("/citizens/<int:citizen_id>/phones")
@requires("citizen.edit")
def citizen_add_phone(citizen_id: int):
    citizen = _citizen(citizen_id)
    data = parse({"phone": Str("电话号码", required=True, max_len=64)})
    _rule(cops.add_phone, citizen, normalize(data["phone"]), current_user)
    db.session.commit()
    return jsonify(file_summary(citizen, datetime.now(UTC)))


@api_bp.post("/citizens/<int:citizen_id>/tags")
@requires("citizen.edit")
def citizen_tags(citizen_id: int):
    citizen = _citizen(citizen_id)
    tags = json_body().get("tags")
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ApiError(400, "invalid_input", 'tags 必须是文本数组，如 ["elderly"]', {"tags": "必须是文本数组"})
    _rule(cops.set_tags, citizen, tags, current_user)
    db.session.commit()
    return jsonify(file_summary(citizen, datetime.now(UTC)))


@api_bp.post("/citizens/merge")
@requires("citizen.edit")
def citizen_merge():
    data = parse(
        {
            "source_phone": Str("被合并号码", required=True, max_len=64),
            "target_phone": Str("保留档案号码", required=True, max_len=64),
            "note": Str("说明", max_len=500, default=""),
        }
    )
    rows = [find_phone(data["source_phone"]), find_phone(data["target_phone"])]
    if None in rows:
        raise ApiError(404, "citizen_not_found", "号码没有对应的市民档案")
    target = _rule(cops.merge, rows[0].citizen, rows[1].citizen, current_user, data["note"])
    db.session.commit()
    return jsonify(file_summary(target, datetime.now(UTC)))


@api_bp.post("/citizens/<int:citizen_id>/unmask")
@requires("citizen.unmask")
def citizen_unmask(citizen_id: int):
    """Full phone numbers (e.g. to call back); logged in the audit log."""
    citizen = _citizen(citizen_id)
    numbers = cops.unmask_phones(citizen, current_user, ip=request.remote_addr or "")
    db.session.commit()
    return jsonify({"citizen_id": citizen.id, "phones": numbers})
