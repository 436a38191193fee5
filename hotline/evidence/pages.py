"""Staff pages of evidence: the map of open cases (dispatchers, monitors) with its points as JSON, and the template
globals the case page's evidence panel and the 差评 workbench read (hotline/evidence/panels.py)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify, render_template, url_for
from flask_login import current_user

from hotline.auth.permissions import authenticate_page, requires, visible_cases_filter
from hotline.cases.workflow import STATE_LABELS, CaseState
from hotline.evidence import panels
from hotline.extensions import db
from hotline.models import Case

evidence_bp = Blueprint("evidence", __name__)
evidence_bp.before_request(authenticate_page)
OPEN = [s.value for s in CaseState if s.value not in ("closed", "merged")]
MAX_POINTS = 5000


@evidence_bp.app_template_global()
def evidence_panel(case: Case) -> dict:
    return panels.case_panel(case)


@evidence_bp.app_template_global()
def map_settings() -> dict:
    return panels.map_settings()


@evidence_bp.get("/map")
@requires("dispatch.queue")
def open_cases_map():
    return render_template("evidence/map.html", points_url=url_for("evidence.open_case_points"))


@evidence_bp.get("/map/points.json")
@requires("dispatch.queue")
def open_case_points():
    rows = db.session.execute(
        sa.select(Case.number, Case.title, Case.status, Case.urgency, Case.lat, Case.lng, Case.address)
        .where(Case.status.in_(OPEN), Case.lat.is_not(None), Case.lng.is_not(None), visible_cases_filter(current_user))
        .order_by(Case.id.desc())
        .limit(MAX_POINTS)
    )
    points = [
        {
            "lat": r.lat,
            "lng": r.lng,
            "label": f"{r.number} {STATE_LABELS.get(CaseState(r.status), r.status)} {r.title or r.address or ''}"[:80],
            "urgency": r.urgency,
            "url": url_for("cases.detail", number=r.number),
        }
        for r in rows
    ]
    return jsonify({"points": points})
