"""The 差评 loop over JSON: /rectifications (supervisors; department users see their unit's) and its actions."""

from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user

from hotline.api.blueprint import api_bp
from hotline.api.cases import now
from hotline.auth.permissions import access_rectification, department_scope, requires
from hotline.cases.errors import StaleVersion
from hotline.errors import ApiError
from hotline.extensions import db
from hotline.models import Rectification
from hotline.ratings import queries
from hotline.ratings import rectification as loop
from hotline.ratings import service as ratings_service
from hotline.web.validation import Bool, Int, Str, json_body, parse


def _version(rect: Rectification, body: dict) -> None:
    raw = body.get("version")
    if raw is not None and raw != rect.version:
        raise StaleVersion(rect.version)


def _done(rect: Rectification):
    db.session.flush()
    body = queries.to_dict(rect)
    db.session.commit()
    return jsonify(body)


@api_bp.get("/rectifications")
@requires("rating.view")
def list_rectifications():
    stage = request.args.get("stage") or None
    if stage and stage not in (*loop.STAGES, "open"):
        raise ApiError(400, "invalid_input", "未知的阶段", {"stage": "可选：open、" + "、".join(loop.STAGES)})
    rows = queries.queue(stage, department_scope(current_user))
    return jsonify({"items": [queries.to_dict(r) for r in rows], "revisit": queries.revisit_rate()})


@api_bp.get("/rectifications/<int:rect_id>")
@requires("rating.view")
def get_rectification(rect_id: int):
    return jsonify(queries.to_dict(access_rectification(current_user, rect_id, "rating.view")))


@api_bp.post("/rectifications/<int:rect_id>/verify")
@requires("rating.review")
def verify(rect_id: int):
    rect = access_rectification(current_user, rect_id, "rating.review")
    body = json_body()
    data = parse(
        {
            "outcome": Str("核实结论", required=True, choices=loop.OUTCOMES),
            "note": Str("核实情况", required=True, min_len=2, max_len=2000),
            "mode": Str("整改方式", choices=loop.MODES),
            "days": Int("整改期限（工作日）", min_value=1, max_value=loop.MAX_RECTIFY_DAYS),
        },
        body,
    )
    if data["outcome"] == "reasonable" and not data["mode"]:
        raise ApiError(
            400,
            "invalid_input",
            "提交的内容有误：合理差评须选择整改方式",
            {"mode": "可选：immediate（立行立改）、deadline（限期整改）"},
        )
    if data["mode"] == "deadline" and not data["days"]:
        raise ApiError(
            400, "invalid_input", "提交的内容有误：限期整改须填写期限（1到15个工作日）", {"days": "缺少整改期限"}
        )
    _version(rect, body)
    loop.verify(rect, current_user, data["outcome"], data["note"], now(), mode=data["mode"], days=data["days"])
    return _done(rect)


@api_bp.post("/rectifications/<int:rect_id>/rectify")
@requires("rating.rectify")
def rectify(rect_id: int):
    rect = access_rectification(current_user, rect_id, "rating.rectify")
    body = json_body()
    data = parse({"note": Str("整改情况", required=True, min_len=2, max_len=5000)}, body)
    _version(rect, body)
    loop.rectify(rect, current_user, data["note"], now())
    return _done(rect)


@api_bp.post("/rectifications/<int:rect_id>/revisit")
@requires("rating.review")
def revisit(rect_id: int):
    rect = access_rectification(current_user, rect_id, "rating.review")
    body = json_body()
    data = parse(
        {
            "score": Int("回访评分", required=True, min_value=1, max_value=5),
            "resolved": Bool("问题是否解决", required=True),
            "note": Str("回访记录", required=True, min_len=2, max_len=2000),
        },
        body,
    )
    _version(rect, body)
    ratings_service.revisit_call(rect, current_user, data["score"], data["resolved"], data["note"], now())
    return _done(rect)


@api_bp.post("/rectifications/<int:rect_id>/explain")
@requires("rating.review")
def explain(rect_id: int):
    rect = access_rectification(current_user, rect_id, "rating.review")
    body = json_body()
    data = parse({"note": Str("解释说明", required=True, min_len=2, max_len=2000)}, body)
    _version(rect, body)
    loop.explain(rect, current_user, data["note"], now())
    return _done(rect)


@api_bp.post("/rectifications/<int:rect_id>/appeal")
@requires("rating.rectify")
def appeal(rect_id: int):
    rect = access_rectification(current_user, rect_id, "rating.rectify")
    body = json_body()
    data = parse({"reason": Str("申诉理由", required=True, min_len=2, max_len=2000)}, body)
    _version(rect, body)
    loop.appeal(rect, current_user, data["reason"], now())
    return _done(rect)


@api_bp.post("/rectifications/<int:rect_id>/appeal/decision")
@requires("rating.review")
def appeal_decision(rect_id: int):
    rect = access_rectification(current_user, rect_id, "rating.review")
    body = json_body()
    data = parse(
        {
            "uphold": Bool("申诉是否成立", required=True),
            "note": Str("复核意见", required=True, min_len=2, max_len=2000),
        },
        body,
    )
    _version(rect, body)
    loop.decide_appeal(rect, current_user, data["uphold"], data["note"], now())
    return _done(rect)
