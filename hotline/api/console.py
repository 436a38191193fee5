"""GET /api/v1/console/changes?since=CURSOR — the console events a client missed (every kind, in commit order)."""

from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user

from hotline.api.blueprint import api_bp
from hotline.auth.permissions import requires
from hotline.errors import ApiError
from hotline.realtime import eventlog

LIMIT = eventlog.LIMIT


def _whole(name: str, default: int, hint: str = "") -> int:
    raw = request.args.get(name, str(default))
    if not raw.isdigit():
        raise ApiError(400, "invalid_input", f"{name} 必须是非负整数{hint}", {name: "必须是非负整数"})
    return int(raw)


@api_bp.get("/console/changes")
@requires("case.view")
def console_changes():
    """The events after ``since`` (the last cursor the client saw) that its sockets would have received: the
    rooms of the user (hotline/realtime/eventlog.py). docs/api.md, Socket.IO, describes the protocol."""
    since = _whole("since", 0, "（上次收到的 cursor）")
    limit = _whole("limit", LIMIT)
    if not 1 <= limit <= LIMIT:
        raise ApiError(400, "invalid_input", f"limit 必须在 1 到 {LIMIT} 之间", {"limit": f"1–{LIMIT}"})
    return jsonify(eventlog.changes(eventlog.rooms_for(current_user), since, limit))
