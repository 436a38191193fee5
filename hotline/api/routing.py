"""POST /api/v1/routing/suggest — category and unit suggestions, emergency and out-of-scope detection."""
from __future__ import annotations

from flask import current_app, jsonify
from flask_login import current_user

from hotline.api import api_bp
from hotline.api.validation import Str, parse
from hotline.auth.permissions import STAFF_ROLES, check_role
from hotline.routing_service import suggest_for


@api_bp.post("/routing/suggest")
def routing_suggest():
    check_role(current_user, *STAFF_ROLES)
    max_len = current_app.config["HOTLINE"].max_content_chars
    data = parse({"content": Str("诉求内容", required=True, max_len=max_len, min_len=2),
                  "address": Str("地址", max_len=300)})
    return jsonify(suggest_for(data["content"], data["address"]))
