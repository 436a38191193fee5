"""Citizen pages (/portal): submit a request, look up its status, the large-font switch.

No login. Anti-abuse without SMS: rate limits per client address and per phone number (Redis), an arithmetic
question whose answer stays in the database under an opaque single-use id (hotline/portal/challenge.py) with a
minimum fill time, a honeypot field; the question's id is the form id (idempotent submit, kept in the database:
hotline/web/idempotency.py).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from hotline.auth.permissions import authenticate_page, public
from hotline.auth.safety import safe_next
from hotline.cases import operations as ops
from hotline.citizens.phones import PhoneError, normalize
from hotline.citizens.profile import phone_hash
from hotline.errors import error_response, wants_json
from hotline.evidence import portal as evidence_portal
from hotline.extensions import db, limiter
from hotline.models import Case, CitizenPhone
from hotline.portal import challenge, consent
from hotline.portal.forms import RequestForm, StatusForm
from hotline.portal.status import citizen_status
from hotline.web import idempotency

portal_bp = Blueprint("portal", __name__)
portal_bp.before_request(authenticate_page)  # every page here is @public: citizens do not log in
LARGE_COOKIE = "portal_large"
NOT_FOUND = "没有找到与该工单编号和手机号码相符的诉求，请核对后重试。"


def _settings():
    return current_app.config["HOTLINE"]


def _phone_key() -> str:
    raw = (request.form.get("phone") or "")[:64]
    try:
        return "phone:" + phone_hash(normalize(raw))
    except PhoneError:
        return "phone-raw:" + raw.strip()


def _done_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="portal-done")


@portal_bp.app_template_global()
def portal_large() -> bool:
    return request.cookies.get(LARGE_COOKIE) == "1"


@portal_bp.errorhandler(429)
def _throttled(err):
    current = limiter.current_limit
    wait = max(1, int(current.reset_at - time.time())) if current is not None else 60
    if request.endpoint == "portal.status":
        message = (
            f"您查询得太频繁了，请在 {wait} 秒后再试。为保护市民信息，同一网络在一段时间内只能查询有限次数。"
            "也可以直接拨打 12345 查询。"
        )
    else:
        message = (
            f"您提交得太频繁了，请在 {wait} 秒后再试。为防止恶意提交，同一网络或同一手机号码在一段时间内"
            "只能提交有限次数。如有紧急情况，请直接拨打 12345。"
        )
    if wants_json():
        return error_response(429, "too_many_requests", message)
    kept = (
        (request.form.get("content") or "")[: _settings().max_content_chars]
        if request.endpoint == "portal.submit"
        else ""
    )
    return render_template("portal/error.html", title="操作过于频繁", message=message, kept=kept), 429


@portal_bp.errorhandler(CSRFError)
def _csrf_failed(err):
    message = "页面已过期或缺少安全令牌，请刷新页面后重新填写。"
    if wants_json():
        return error_response(400, "csrf_failed", message)
    return render_template("portal/error.html", title="页面已过期", message=message), 400


@portal_bp.get("/")
@public
def index():
    return render_template("portal/index.html")


def _render_form(form: RequestForm, status: int = 200):
    """The form with a new question (stored, committed here: a refused attempt also keeps its question spent)."""
    issued = challenge.issue(datetime.now(UTC))
    form.challenge.data, form.answer.data, form.website.data = issued.token, "", ""
    html = render_template("portal/submit.html", form=form, question=issued.question)
    db.session.commit()
    return html, status


@portal_bp.route("/submit", methods=["GET", "POST"])
@limiter.limit(lambda: _settings().portal_rate_limit_ip, methods=["POST"])
@limiter.limit(lambda: _settings().portal_rate_limit_phone, key_func=_phone_key, methods=["POST"])
@public
def submit():
    form = RequestForm()
    form.fill_choices()
    if request.method == "GET":
        return _render_form(form)
    now = datetime.now(UTC)
    if form.website.data:  # honeypot filled: a robot; tell nothing useful, store nothing
        return render_template("portal/error.html", title="提交失败", message="提交失败，请刷新页面后重试。"), 400
    if not form.validate():
        return _render_form(form, 400)
    if problem := evidence_portal.check():  # photos / one video and the map pin (hotline/evidence, issue 18)
        form.evidence_errors = [problem]
        return _render_form(form, 400)
    try:
        passed = challenge.verify(form.challenge.data, form.answer.data, now)
    except challenge.ChallengeError as err:
        form.answer.errors = [err.message]
        return _render_form(form, 400)
    try:  # the single-use form id is the idempotency key: a double click or a reload makes one case
        claim = idempotency.begin("portal", passed.form_id, _form_fingerprint(form), now)
    except idempotency.KeyReused as err:
        db.session.rollback()
        message = f"这份表单已经提交过（工单编号 {err.case_number}），内容与之前不同。"
        message += "如需提交新的诉求，请重新打开表单填写。"
        return render_template("portal/error.html", title="表单已提交", message=message), 422
    if isinstance(claim, idempotency.Claim) and not passed.fresh:  # a spent question and no stored submission
        db.session.rollback()
        form.answer.errors = ["这道验证题已经使用过，请计算下面的新题目后提交"]
        return _render_form(form, 400)
    if not isinstance(claim, idempotency.Claim):
        if claim.case_number is None:  # not reachable while answers are stored with their key; kept as a guard
            form.answer.errors = ["您的提交正在处理，请勿重复提交；稍后可用手机号码查询进度"]
            return _render_form(form, 409)
        return redirect(url_for("portal.done", token=_done_serializer().dumps(claim.case_number)), 303)
    try:
        new = ops.NewCase(
            channel="web",
            kind=form.kind.data,
            content=form.content.data.strip(),
            phone=form.phone_obj,
            citizen_name=(form.name.data or "").strip() or None,
            address=(form.address.data or "").strip(),
            district=form.district_row(),
        )
        case = ops.create_case(new, None, now, actor_label="市民（网站）")
        consent.record(case.id, form.public_consent.data, "portal", now)  # 曝光台 (issue 19)
        evidence_portal.attach(case, now)
        number = case.number
        claim.store(303, case_number=number)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return redirect(url_for("portal.done", token=_done_serializer().dumps(number)), 303)


def _form_fingerprint(form: RequestForm) -> str:
    fields = (form.kind, form.content, form.phone, form.name, form.address, form.district)
    return idempotency.fingerprint("portal", *((f.data or "").strip() for f in fields))


@portal_bp.get("/done/<token>")
@public
def done(token: str):
    try:
        number = _done_serializer().loads(token, max_age=24 * 3600)
    except (SignatureExpired, BadSignature):
        return render_template(
            "portal/error.html",
            title="链接已失效",
            message="该页面链接无效或已过期。您可以用工单编号和手机号码查询办理进度。",
        ), 404
    return render_template("portal/done.html", number=number)


@portal_bp.route("/status", methods=["GET", "POST"])
@limiter.limit(lambda: _settings().portal_lookup_rate_limit, methods=["POST"])
@public
def status():
    form = StatusForm()
    if request.method == "GET":
        form.number.data = (request.args.get("number") or "")[:32]
        return render_template("portal/status.html", form=form, result=None)
    if not form.validate():
        return render_template("portal/status.html", form=form, result=None), 400
    case = _find(form.number.data, form.phone.data)
    if case is None:
        return render_template("portal/status.html", form=form, result=None, not_found=NOT_FOUND), 404
    return render_template("portal/status.html", form=form, result=citizen_status(case, _settings().timezone))


def _find(number: str, raw_phone: str) -> Case | None:
    """The case when the phone is the one it was registered with; None for a wrong phone and an unknown
    number alike (and for a malformed phone), so the answer tells nothing about other people's cases."""
    try:
        digest = phone_hash(normalize(raw_phone))
    except PhoneError:
        return None
    return db.session.scalar(
        sa.select(Case)
        .join(CitizenPhone, CitizenPhone.id == Case.phone_id)
        .where(Case.number == number, CitizenPhone.phone_hash == digest)
    )


@portal_bp.get("/a11y")
@public
def toggle_large():
    """Large-font / high-contrast mode on or off, remembered in a cookie (works without JavaScript)."""
    target = safe_next(request.args.get("next")) or url_for("portal.index")
    response = redirect(target, 303)
    turn_on = request.args.get("mode", "toggle") == "on" or (
        request.args.get("mode", "toggle") == "toggle" and not portal_large()
    )
    response.set_cookie(
        LARGE_COOKIE, "1" if turn_on else "0", max_age=365 * 24 * 3600, samesite="Lax", httponly=False
    )  # the page script flips it in place too
    return response
