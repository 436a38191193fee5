"""GET /api/v1/console/changes?since=CURSOR — the console events a client missed (every kind, in commit order)."""

from __future__ import annotations

from flask import jsonify
from flask_login import current_user

from hotline.api.blueprint import api_bp
from hotline.auth.permissions import requires
from hotline.realtime import eventlog
from hotline.web.validation import query_int

LIMIT = eventlog.LIMIT
MAX_CURSOR = 2**63 - 1  # console_events.id is a bigint: a larger ``since`` is no cursor this server handed out


@api_bp.get("/console/changes")
@requires("case.view")
def console_changes():
    """The events after ``since`` (the last cursor the client saw) that its sockets would have received: the
    rooms of the user (hotline/realtime/eventlog.py). docs/api.md, Socket.IO, describes the protocol."""
    since = query_int("since", 0, max_value=MAX_CURSOR, hint="（上次收到的 cursor）")
    limit = query_int("limit", LIMIT, min_value=1, max_value=LIMIT)
    return jsonify(eventlog.changes(eventlog.rooms_for(current_user), since, limit))
