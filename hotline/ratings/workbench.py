"""差评 workbench pages: the supervisors' queue by stage (/supervision/ratings) and the unit's rectification tasks
(/dept/rectifications), with CSRF-protected action forms posting to /rectifications/ID/ACTION."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user

from hotline.auth.permissions import access_rectification, authenticate_page, department_scope, requires
from hotline.cases.errors import NotAllowed, RuleRefused, StaleVersion
from hotline.cases.page_actions import commit_action
from hotline.cases.workflow import InvalidTransition
from hotline.errors import ApiError
from hotline.ratings import queries
from hotline.ratings import rectification as loop
from hotline.ratings import service as ratings_service

workbench_bp = Blueprint("rating_workbench", __name__)
workbench_bp.before_request(authenticate_page)
ERRORS = (InvalidTransition, RuleRefused, NotAllowed, StaleVersion, ApiError, *ratings_service.REFUSALS)
TABS = ("verifying", "rectifying", "revisiting", "explaining", "appeals", "closed", "reopened")


def _text(name: str, label: str, max_len: int = 2000) -> str:
    value = (request.form.get(name) or "").strip()
    if len(value) < 2:
        raise RuleRefused("invalid_input", f"请填写{label}（至少2个字）")
    if len(value) > max_len:
        raise RuleRefused("invalid_input", f"{label}不能超过{max_len}个字")
    return value


def _choice(name: str, choices, message: str) -> str:
    value = request.form.get(name, "")
    if value not in choices:
        raise RuleRefused("invalid_input", message)
    return value


def _int(name: str, lo: int, hi: int, message: str) -> int:
    raw = (request.form.get(name) or "").strip()
    if not raw.isascii() or not raw.isdigit() or not lo <= int(raw) <= hi:
        raise RuleRefused("invalid_input", message)
    return int(raw)


def _verify(rect, now):
    outcome = _choice("outcome", loop.OUTCOMES, "请选择核实结论")
    mode = days = None
    if outcome == "reasonable":
        mode = _choice("mode", loop.MODES, "合理差评须选择整改方式：立行立改或限期整改")
        if mode == "deadline":
            days = _int("days", 1, loop.MAX_RECTIFY_DAYS, f"整改期限必须是1到{loop.MAX_RECTIFY_DAYS}个工作日")
    loop.verify(rect, current_user, outcome, _text("note", "核实情况"), now, mode=mode, days=days)
    return f"已核实：{loop.OUTCOMES[outcome]}"


def _rectify(rect, now):
    loop.rectify(rect, current_user, _text("note", "整改情况", 5000), now)
    return "整改情况已提交，等待回访"


def _revisit(rect, now):
    score = _int("score", 1, 5, "请选择回访评分（1到5分）")
    resolved = _choice("resolved", ("yes", "no"), "请选择问题是否已解决") == "yes"
    ratings_service.revisit_call(rect, current_user, score, resolved, _text("note", "回访记录"), now)
    return "回访已记录"


def _explain(rect, now):
    loop.explain(rect, current_user, _text("note", "解释说明"), now)
    return "解释说明已记录，差评办结"


def _appeal(rect, now):
    loop.appeal(rect, current_user, _text("reason", "申诉理由"), now)
    return "申诉已提交，等待督办员复核"


def _appeal_decision(rect, now):
    uphold = _choice("uphold", ("yes", "no"), "请选择申诉是否成立") == "yes"
    loop.decide_appeal(rect, current_user, uphold, _text("note", "复核意见"), now)
    return "申诉成立" if uphold else "申诉已驳回"


ACTIONS = {  # action -> (capability, run)
    "verify": ("rating.review", _verify),
    "rectify": ("rating.rectify", _rectify),
    "revisit": ("rating.review", _revisit),
    "explain": ("rating.review", _explain),
    "appeal": ("rating.rectify", _appeal),
    "appeal_decision": ("rating.review", _appeal_decision),
}


@workbench_bp.get("/supervision/ratings")
@requires("rating.queue")
def supervisor_queue():
    tab = request.args.get("stage", "verifying")
    if tab not in TABS:
        tab = "verifying"
    rows = queries.queue(None if tab == "appeals" else tab, appeals=tab == "appeals")
    return render_template(
        "ratings/workbench.html",
        tab=tab,
        tabs=TABS,
        rows=rows,
        counts=queries.stage_counts(),
        revisit=queries.revisit_rate(),
        stages=loop.STAGES,
        outcomes=loop.OUTCOMES,
        modes=loop.MODES,
        appeal_labels=loop.APPEAL,
        max_days=loop.MAX_RECTIFY_DAYS,
    )


@workbench_bp.get("/dept/rectifications")
@requires("rating.rectify")
def unit_tasks():
    scope = department_scope(current_user)
    rows = queries.queue("open", scope) if scope is not None else []
    done = queries.queue("closed", scope, limit=50) if scope is not None else []
    return render_template(
        "ratings/unit_tasks.html",
        scope=scope,
        rows=rows,
        done=done,
        stages=loop.STAGES,
        outcomes=loop.OUTCOMES,
        modes=loop.MODES,
        appeal_labels=loop.APPEAL,
    )


@workbench_bp.post("/rectifications/<int:rect_id>/<action>")
@requires("rating.view")  # and the action's own capability, checked by access_rectification
def act(rect_id: int, action: str):
    capability, run = ACTIONS.get(action) or abort(404)
    rect = access_rectification(current_user, rect_id, capability)
    scope = department_scope(current_user)
    back = (
        url_for("rating_workbench.unit_tasks")
        if scope is not None
        else url_for("rating_workbench.supervisor_queue", stage=request.form.get("tab") or rect.stage)
    )
    return commit_action(
        rect,
        request.form.get("version"),
        lambda now: run(rect, now),
        back,
        errors=ERRORS,
        stale="该记录已被他人同时修改，请刷新后重试",
    )
