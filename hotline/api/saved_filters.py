"""Saved case filters: GET/POST /api/v1/saved-filters, DELETE /api/v1/saved-filters/ID."""

from __future__ import annotations

from flask import jsonify
from flask_login import current_user

from hotline.api.blueprint import api_bp
from hotline.auth.permissions import requires
from hotline.extensions import db
from hotline.search import saved
from hotline.web.validation import Str, parse


@api_bp.get("/saved-filters")
@requires("case.view")
def list_saved_filters():
    return jsonify({"items": [saved.as_dict(r) for r in saved.listed(current_user)]})


@api_bp.post("/saved-filters")
@requires("case.view")
def save_filter():
    data = parse(
        {"name": Str("名称", required=True, max_len=40), "query": Str("筛选条件", required=True, max_len=1000)}
    )
    row = saved.save(current_user, data["name"], data["query"])
    db.session.commit()
    return jsonify(saved.as_dict(row)), 201


@api_bp.delete("/saved-filters/<int:filter_id>")
@requires("case.view")
def delete_filter(filter_id: int):
    saved.delete(current_user, filter_id)
    db.session.commit()
    return "", 204
