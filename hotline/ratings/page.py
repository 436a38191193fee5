"""The citizen's rating page /r/TOKEN (no login: the signed token is the credential; a staff login is refused,
403, by @citizen_only). A plain form POST with CSRF,
so it works without JavaScript and inside WeChat's browser; the JSON twin is POST /api/v1/ratings."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from flask import Blueprint, render_template, request

from hotline.auth.permissions import authenticate_page, citizen_only
from hotline.cases.errors import DomainError
from hotline.extensions import db, limiter
from hotline.models import Assignment, Case, Rectification
from hotline.models.ratings import SCORE_LABELS
from hotline.ratings import service
from hotline.web.validation import Str

rating_page_bp = Blueprint("rating_page", __name__)
rating_page_bp.before_request(authenticate_page)  # /r/TOKEN is @citizen_only (public): the token is the credential

TITLES = {404: ("invalid", "评价链接无效"), 409: ("used", "您已评价过"), 410: ("expired", "评价链接已过期")}


def _refused(err: DomainError):
    state, title = TITLES.get(err.status, ("invalid", "无法评价"))
    return render_template("portal/rating.html", state=state, title=title, message=err.message), err.status


def _reply_text(invitation, case: Case) -> str:
    if invitation.purpose == "revisit" and invitation.rectification_id:
        return (
            db.session.scalar(
                sa.select(Rectification.rectify_note).where(Rectification.id == invitation.rectification_id)
            )
            or ""
        )
    lead = case.lead_assignment()
    if lead is not None and lead.reply_content:
        return lead.reply_content
    return (
        db.session.scalar(
            sa.select(Assignment.reply_content)
            .where(Assignment.case_id == case.id, Assignment.reply_content.is_not(None))
            .order_by(Assignment.id.desc())
            .limit(1)
        )
        or ""
    )


def _form(token: str, invitation, error: str | None = None, status: int = 200):
    case = db.session.get(Case, invitation.case_id)
    labels = sorted(SCORE_LABELS.items(), reverse=True)
    return render_template(
        "portal/rating.html",
        state="form",
        token=token,
        invitation=invitation,
        case=case,
        reply=_reply_text(invitation, case),
        labels=labels,
        error=error,
        form=request.form if request.method == "POST" else {},
    ), status


@rating_page_bp.get("/r/<token>")
@citizen_only
def show(token: str):
    try:
        invitation = service.invitation_for_token(token, datetime.now(UTC))
    except service.REFUSALS as err:
        return _refused(err)
    return _form(token, invitation)


@rating_page_bp.post("/r/<token>")
@limiter.limit("30 per minute")
@citizen_only
def submit(token: str):
    now = datetime.now(UTC)
    try:
        invitation = service.invitation_for_token(token, now, for_update=True)
    except service.REFUSALS as err:
        return _refused(err)
    raw_score, raw_resolved = request.form.get("score", ""), request.form.get("resolved", "")
    comment = (request.form.get("comment") or "").strip()
    if raw_score not in ("1", "2", "3", "4", "5"):
        return _form(token, invitation, "请选择满意程度（1到5分）", 400)
    if raw_resolved not in ("yes", "no"):
        return _form(token, invitation, "请选择问题是否已解决", 400)
    if comment:
        comment, problem = Str("其他意见", max_len=500).check(comment)
        if problem:
            return _form(token, invitation, problem, 400)
    try:
        rating = service.submit(invitation, int(raw_score), raw_resolved == "yes", comment, "web", now)
    except service.REFUSALS as err:
        db.session.rollback()
        return _refused(err)
    case = db.session.get(Case, rating.case_id)
    html = render_template("portal/rating.html", state="done", case=case, rating=rating)
    db.session.commit()
    return html
