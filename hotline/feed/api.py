"""GET /api/v1/feed/cases — the data-sharing feed for the ``integration`` role (tokens of a 数据对接 account).

A blueprint of its own, registered under /api/v1 beside the API's (same authentication and JSON errors)."""

from __future__ import annotations

from flask import Blueprint, jsonify

from hotline.auth.permissions import authenticate_api, requires
from hotline.feed import changes  # noqa: F401 — the change log's listeners
from hotline.feed.reader import LIMIT, MAX_LIMIT, page
from hotline.web.validation import query_int

feed_api_bp = Blueprint("feed_api", __name__)
feed_api_bp.before_request(authenticate_api)


@feed_api_bp.get("/feed/cases")
@requires("feed.read")
def feed_cases():
    since = query_int("since", 0, hint="（上一页返回的 next）")
    limit = query_int("limit", LIMIT, 1, MAX_LIMIT)
    return jsonify(page(since, limit))
