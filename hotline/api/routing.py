"""Routing API: suggestions (category, unit, emergency, out-of-scope) and the duplicate check (并单)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app, jsonify

from hotline.api.blueprint import api_bp
from hotline.auth.permissions import requires
from hotline.dispatch.duplicates import find
from hotline.dispatch.service import suggest_for, tables
from hotline.web import lookups
from hotline.web.validation import Str, parse


@api_bp.post("/routing/suggest")
@requires("routing.suggest")
def routing_suggest():
    settings = current_app.config["HOTLINE"]
    max_len = max(settings.max_content_chars, settings.routing_max_chars)
    data = parse(
        {"content": Str("诉求内容", required=True, max_len=max_len, min_len=2), "address": Str("地址", max_len=300)}
    )
    return jsonify(suggest_for(data["content"], data["address"]).to_dict())


@api_bp.post("/routing/duplicates")
@requires("routing.duplicates")
def routing_duplicates():
    """Open cases about the same matter: same place (district_code, else found in the address/content)
    and similar text within the configured window; the console calls it while the agent types."""
    max_len = current_app.config["HOTLINE"].max_content_chars
    data = parse(
        {
            "content": Str("诉求内容", required=True, max_len=max_len, min_len=2),
            "address": Str("地址", max_len=300),
            "district_code": Str("区县/街道代码", max_len=32),
        }
    )
    unit = lookups.district(data["district_code"]) if data["district_code"] else None
    place = None
    if unit is None:
        place = tables().gazetteer.locate(data["address"]) if data["address"] else None
        place = place or tables().gazetteer.locate(data["content"])
        code = (place.street_code or place.district_code) if place else None
        unit = lookups.district(code) if code else None
    found = find(data["content"], unit, datetime.now(UTC))
    return jsonify(
        {
            "duplicates": found,
            "district_code": unit.code if unit else None,
            "window_days": current_app.config["HOTLINE"].duplicate_window_days,
        }
    )
