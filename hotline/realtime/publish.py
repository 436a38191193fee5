"""The ONLY emit path: every Socket.IO event is published here, after the commit.

Namespace ``/console``. Rooms: ``user:<id>``, ``department:<code>``, ``role:<role>`` (monitors, supervisors,
dispatchers, agents). A department's events also go to the rooms of its superior units (a district sees its
streets). Payloads (server → client), checked against EVENT_FIELDS before queueing:

- ``case.created``: number, status, kind, urgency, department_code (lead unit or null), created_at, version,
  cursor (id of the timeline event; after a reconnect GET /api/v1/console/changes?since=CURSOR)
- ``case.updated``: number, status, version, action, department_code, cursor
- ``notification``: id, text, case_number (or null), created_at
- ``call.ringing``: call_id, caller (masked), agent (username or null), at, citizen (the file summary of
  hotline.citizens.file.file_summary, or null for an unknown number) — to the agent's user room
- ``sla.card``: number, level (yellow|red), limit (the milestone: sign|contact|reply), due_at (ISO deadline),
  department_code (the unit carded), cursor (the card's timeline event) — to the unit's rooms and role:monitor.
  The 差评 loop's limits (hotline/ratings/sweep.py) use limit rectify_verify|rectify|rectify_revisit|rectify_explain
  and go to role:supervisor (rectify also to the unit's rooms; red also to role:monitor)
- ``rating.poor``: number, rating_id, rectification_id, score (1..5), resolved (true|false|null), department_code
  (the unit rated), due_at (ISO verification deadline), cursor (the timeline event) — to role:supervisor
"""

from __future__ import annotations

from socketio import RedisManager

from hotline.db.transactions import after_commit
from hotline.extensions import socketio

NAMESPACE = "/console"
PIPELINE = 500

EVENT_FIELDS: dict[str, frozenset[str]] = {
    "case.created": frozenset(
        {"number", "status", "kind", "urgency", "department_code", "created_at", "version", "cursor"}
    ),
    "case.updated": frozenset({"number", "status", "version", "action", "department_code", "cursor"}),
    "notification": frozenset({"id", "text", "case_number", "created_at"}),
    "call.ringing": frozenset({"call_id", "caller", "agent", "at", "citizen"}),
    "sla.card": frozenset({"number", "level", "limit", "due_at", "department_code", "cursor"}),
    "rating.poor": frozenset(
        {"number", "rating_id", "rectification_id", "score", "resolved", "department_code", "due_at", "cursor"}
    ),
}


class PayloadError(ValueError):
    pass


def check_payload(event: str, payload: dict) -> None:
    expected = EVENT_FIELDS.get(event)
    if expected is None:
        raise PayloadError(f"unknown event {event}")
    if set(payload) != expected:
        raise PayloadError(f"{event}: fields {sorted(payload)} != {sorted(expected)}")


def department_rooms(department) -> list[str]:
    """The unit's room and those of its superior units (materialised path of codes)."""
    return [f"department:{code}" for code in department.path.strip("/").split("/") if code]


def publish(event: str, payload: dict, rooms: list[str]) -> None:
    """Queue an event for ``rooms``; it is emitted only if and after the transaction commits."""
    check_payload(event, payload)
    if rooms:
        after_commit(_emit, event, payload, list(dict.fromkeys(rooms)))


def publish_many(event: str, items: list[tuple[dict, list[str]]]) -> None:
    """Queue many ``(payload, rooms)`` of one event with a single after-commit hook (a sweep emits thousands)."""
    for payload, _rooms in items:
        check_payload(event, payload)
    items = [(payload, list(dict.fromkeys(rooms))) for payload, rooms in items if rooms]
    if items:
        after_commit(_emit_many, event, items)


def _emit(event: str, payload: dict, rooms: list[str]) -> None:
    socketio.emit(event, payload, to=rooms, namespace=NAMESPACE)


def _emit_many(event: str, items: list[tuple[dict, list[str]]]) -> None:
    """Like ``_emit`` per item, but with a Redis message queue the publishes go out pipelined (one round trip
    per PIPELINE messages instead of one each): the same messages python-socketio's RedisManager.emit sends."""
    manager = getattr(socketio.server, "manager", None)
    if not isinstance(manager, RedisManager):
        for payload, rooms in items:
            socketio.emit(event, payload, to=rooms, namespace=NAMESPACE)
        return
    if not manager.connected:
        manager._redis_connect()
    for start in range(0, len(items), PIPELINE):
        pipe = manager.redis.pipeline(transaction=False)
        for payload, rooms in items[start : start + PIPELINE]:
            message = {
                "method": "emit",
                "event": event,
                "data": [payload],
                "binary": False,
                "namespace": NAMESPACE,
                "room": rooms,
                "skip_sid": None,
                "callback": None,
                "host_id": manager.host_id,
            }
            manager._handle_emit(message)  # this process's own clients, as PubSubManager.emit does
            pipe.publish(manager.channel, manager.json.dumps(message))
        pipe.execute()
