"""The public Open311 feed, staff side: a supervisor publishes a case or withdraws it (``case.publish``), and
anyone who may see a case reads whether it is public. Every decision is a timeline event
(hotline/open311/publication.py ``set_public``); the feed itself is /open311/v2 (docs/api.md, "Open311")."""

from __future__ import annotations

from flask import jsonify
from flask_login import current_user

from hotline.api.blueprint import api_bp
from hotline.api.cases import now
from hotline.auth.permissions import access_case, can, requires
from hotline.extensions import db
from hotline.models import Case
from hotline.open311.publication import publication_state, set_public
from hotline.web.validation import Bool, Str, json_body, parse


@api_bp.post("/cases/<number>/publication")
@requires("case.publish")
def set_publication(number: str):
    case = access_case(current_user, number, "case.publish")
    data = parse({"public": Bool("是否公开", required=True), "note": Str("说明", max_len=500)}, json_body())
    state = set_public(case, current_user, data["public"], data["note"] or "", now())
    db.session.commit()
    return jsonify(state)


@api_bp.get("/cases/<number>/publication")
@requires("case.view")
def get_publication(number: str):
    return jsonify(publication_state(access_case(current_user, number, "case.view")))


@api_bp.app_template_global("open311_publication")
def _page_state(case: Case) -> dict | None:
    """For the case page's 公开/取消公开 control: the state, or None when the user may not change it."""
    return publication_state(case) if can(current_user, "case.publish") else None
