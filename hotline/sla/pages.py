"""Time-limit actions from the case page (POST /cases/NUMBER/sla/ACTION, CSRF-protected forms): pause/resume,
extension request and decision, 催办/督办 and its acknowledgement. The forms are in templates/cases/_sla.html."""

from __future__ import annotations

from flask import Blueprint, abort, request, url_for
from flask_login import current_user

from hotline.auth.permissions import access_case, authenticate_page, requires
from hotline.cases.errors import RuleRefused
from hotline.cases.page_actions import commit_action
from hotline.sla import supervision as sup

sla_actions_bp = Blueprint("sla_actions", __name__)
sla_actions_bp.before_request(authenticate_page)


def _text(name: str, label: str, required: bool = True, max_len: int = 1000) -> str:
    value = (request.form.get(name) or "").strip()
    if required and len(value) < 2:
        raise RuleRefused("invalid_input", f"请填写{label}（至少2个字）")
    if len(value) > max_len:
        raise RuleRefused("invalid_input", f"{label}不能超过{max_len}个字")
    return value


def _days() -> int:
    raw = (request.form.get("days") or "").strip()
    if not raw.isdigit() or not 1 <= int(raw) <= 30:
        raise RuleRefused("invalid_input", "延期天数必须是1到30之间的整数")
    return int(raw)


def _pause(case, now):
    sup.pause(case, current_user, _text("reason", "暂停原因"), now)
    return "已暂停计时"


def _resume(case, now):
    sup.resume(case, current_user, now)
    return "已恢复计时，时限已顺延"


def _extension(case, now):
    sup.request_extension(case, current_user, _days(), _text("reason", "延期理由"), now)
    return "延期申请已提交，等待班长审批"


def _decision(case, now):
    approve = request.form.get("approve") == "yes"
    sup.decide_extension(case, current_user, approve, _text("note", "审批意见", required=False), now)
    return "已同意延期，答复时限已顺延" if approve else "已不同意延期"


def _supervise(case, now):
    level = request.form.get("level", "")
    if level not in sup.SUPERVISION_LEVELS:
        raise RuleRefused("invalid_input", "请选择催办或督办")
    sup.supervise(case, current_user, level, _text("note", "督办意见"), None, now)
    return f"已发出{sup.SUPERVISION_LEVELS[level]}"


def _ack(case, now):
    sup.acknowledge(case, current_user, _text("note", "确认说明", required=False), now)
    return "已确认催办/督办"


ACTIONS = {  # action -> (capability, run)
    "pause": ("case.pause", _pause),
    "resume": ("case.pause", _resume),
    "extension": ("case.extension", _extension),
    "extension_decision": ("case.extension_decide", _decision),
    "supervise": ("case.supervise", _supervise),
    "supervise_ack": ("case.supervise_ack", _ack),
}


@sla_actions_bp.post("/cases/<number>/sla/<action>")
@requires("case.view")  # and the action's own capability, checked by access_case
def act(number: str, action: str):
    capability, run = ACTIONS.get(action) or abort(404)
    case = access_case(current_user, number, capability)
    back = url_for("cases.detail", number=case.number)
    return commit_action(case, request.form.get("version"), lambda now: run(case, now), back)
