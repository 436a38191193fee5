"""The ONLY emit path: every Socket.IO event is published here, logged in the transaction and emitted after the commit.

Namespace ``/console``. Rooms: ``user:<id>``, ``department:<code>``, ``role:<role>`` (monitors, supervisors,
dispatchers, agents). A department's events also go to the rooms of its superior units (a district sees its
streets). Every event is also a row of the console event log (hotline/realtime/eventlog.py: console_events,
written in the same transaction) and every payload carries ``cursor``, that row's id: it grows in commit order,
and GET /api/v1/console/changes?since=CURSOR returns the events a client missed (docs/api.md, Socket.IO). A
caller leaves ``cursor`` out (or gives any value: it is replaced). Payloads (server → client), checked against
EVENT_FIELDS before queueing:

- ``case.created``: number, status, kind, urgency, department_code (lead unit or null), created_at, version, cursor
- ``case.updated``: number, status, version, action, department_code, cursor
- ``notification``: id, text, case_number (or null), created_at, cursor
- ``call.ringing``: call_id, caller (masked), agent (username or null), at, citizen (the file summary of
  hotline.citizens.file.file_summary, or null for an unknown number), cursor — to the agent's user room
- ``sla.card``: number, level (yellow|red), limit (the milestone: sign|contact|reply), due_at (ISO deadline),
  department_code (the unit carded), cursor — to the unit's rooms and role:monitor.
  The 差评 loop's limits (hotline/ratings/sweep.py) use limit rectify_verify|rectify|rectify_revisit|rectify_explain
  and go to role:supervisor (rectify also to the unit's rooms; red also to role:monitor)
- ``rating.poor``: number, rating_id, rectification_id, score (1..5), resolved (true|false|null), department_code
  (the unit rated), due_at (ISO verification deadline), cursor — to role:supervisor
- ``alert.raised``: id, kind (cluster|repeat_caller|on_time), level (yellow|red), title, case_count, category (path
  or null), area (unit name or null), department_code (the unit concerned or null), created_at, cursor — to
  role:monitor and role:supervisor (hotline/alerts/raise_.py)

Besides these, hotline/realtime/watch.py sends ``console.heartbeat`` and ``console.resync`` (protocol messages,
not logged) straight to the clients of its own process, through :func:`send_local`.
"""

from __future__ import annotations

import logging

import redis
from socketio import RedisManager

from hotline.extensions import redis_breaker, socketio
from hotline.realtime.eventlog import log_events

log = logging.getLogger(__name__)
NAMESPACE = "/console"
PIPELINE = 500

EVENT_FIELDS: dict[str, frozenset[str]] = {
    "case.created": frozenset(
        {"number", "status", "kind", "urgency", "department_code", "created_at", "version", "cursor"}
    ),
    "case.updated": frozenset({"number", "status", "version", "action", "department_code", "cursor"}),
    "notification": frozenset({"id", "text", "case_number", "created_at", "cursor"}),
    "call.ringing": frozenset({"call_id", "caller", "agent", "at", "citizen", "cursor"}),
    "sla.card": frozenset({"number", "level", "limit", "due_at", "department_code", "cursor"}),
    "rating.poor": frozenset(
        {"number", "rating_id", "rectification_id", "score", "resolved", "department_code", "due_at", "cursor"}
    ),
    "alert.raised": frozenset(
        {"id", "kind", "level", "title", "case_count", "category", "area", "department_code", "created_at", "cursor"}
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


def _unsent(event: str, payload: dict) -> dict:
    """The payload as logged: checked against EVENT_FIELDS, without the cursor (assigned at the commit)."""
    check_payload(event, {**payload, "cursor": 0})
    return {k: v for k, v in payload.items() if k != "cursor"}


def publish(event: str, payload: dict, rooms: list[str]) -> None:
    """Log an event for ``rooms`` in the current transaction; it is emitted only if and after it commits."""
    payload = _unsent(event, payload)
    if rooms:
        log_events(event, [(payload, list(dict.fromkeys(rooms)))], _send)


def publish_many(event: str, items: list[tuple[dict, list[str]]]) -> None:
    """Log many ``(payload, rooms)`` of one event with a single after-commit hook (a sweep emits thousands)."""
    items = [(_unsent(event, payload), list(dict.fromkeys(rooms))) for payload, rooms in items]
    items = [(payload, rooms) for payload, rooms in items if rooms]
    if items:
        log_events(event, items, _send)


def _send(event: str, items: list[tuple[dict, list[str]]]) -> None:
    """After the commit: the logged events, each payload with its cursor."""
    if len(items) == 1:
        _emit(event, *items[0])
    else:
        _emit_many(event, items)


def send_local(event: str, data: dict, to: list[str] | None) -> None:
    """A protocol message (``console.heartbeat``, ``console.resync``: hotline/realtime/watch.py) to this process's
    own sockets — rooms or sids, None for all. Not logged and not through Redis: it must work while Redis is not."""
    socketio.emit(event, data, to=to, namespace=NAMESPACE, ignore_queue=True)


def _emit(event: str, payload: dict, rooms: list[str]) -> None:
    # python-socketio's RedisManager logs and drops a publish it cannot send; it never raises to the request
    socketio.emit(event, payload, to=rooms, namespace=NAMESPACE)


def _emit_many(event: str, items: list[tuple[dict, list[str]]]) -> None:
    """Like ``_emit`` per item, but with a Redis message queue the publishes go out pipelined (one round trip
    per PIPELINE messages instead of one each): the same messages python-socketio's RedisManager.emit sends."""
    manager = getattr(socketio.server, "manager", None)
    if not isinstance(manager, RedisManager):
        for payload, rooms in items:
            socketio.emit(event, payload, to=rooms, namespace=NAMESPACE)
        return
    client = None  # None: this process's own clients only (Redis failed a moment ago, or failed meanwhile)
    if redis_breaker.allows():
        client = getattr(manager, "publisher", None)  # ConsoleManager's (hotline/realtime/watch.py): read timeout
        if client is None:
            if not manager.connected:
                manager._redis_connect()
            client = manager.redis
    else:
        log.warning("%d %s events not published, Redis failed a moment ago (clients catch up)", len(items), event)
    for start in range(0, len(items), PIPELINE):
        pipe = client.pipeline(transaction=False) if client is not None else None
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
            if pipe is not None:
                pipe.publish(manager.channel, manager.json.dumps(message))
        if pipe is None:
            continue
        try:
            pipe.execute()
        except redis.RedisError as exc:  # after the commit: never fail the request or job (clients catch up)
            redis_breaker.trip()
            log.warning("%d %s events not published, Redis unavailable (%s)", len(items) - start, event, exc)
            client = None  # the rest go to this process's own clients only
