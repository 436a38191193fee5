"""The alert list (/alerts, monitors and supervisors): newest first, each with its figures and its linked cases;
a live region refreshed on ``alert.raised``."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, render_template, request

from hotline.auth.permissions import authenticate_page, requires
from hotline.extensions import db
from hotline.models import Alert, AlertCase, Case
from hotline.models.alerts import ALERT_KINDS, ALERT_STATUSES

alerts_bp = Blueprint("alerts", __name__)
alerts_bp.before_request(authenticate_page)
PAGE = 50


@alerts_bp.get("/alerts")
@requires("alert.view")
def index():
    kind = request.args.get("kind") if request.args.get("kind") in ALERT_KINDS else None
    query = sa.select(Alert).order_by(Alert.id.desc()).limit(PAGE)
    if kind:
        query = query.where(Alert.kind == kind)
    alerts = list(db.session.scalars(query))
    cases: dict[int, list[str]] = {}
    if alerts:
        rows = db.session.execute(
            sa.select(AlertCase.alert_id, Case.number)
            .join(Case, Case.id == AlertCase.case_id)
            .where(AlertCase.alert_id.in_([a.id for a in alerts]))
            .order_by(Case.number)
        )
        for alert_id, number in rows:
            cases.setdefault(alert_id, []).append(number)
    return render_template(
        "alerts/index.html", alerts=alerts, cases=cases, kinds=ALERT_KINDS, statuses=ALERT_STATUSES, kind=kind
    )
