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
"""
from __future__ import annotations

from hotline.extensions import socketio
from hotline.transactions import after_commit

NAMESPACE = "/console"

EVENT_FIELDS: dict[str, frozenset[str]] = {
    "case.created": frozenset({"number", "status", "kind", "urgency", "department_code", "created_at",
                               "version", "cursor"}),
    "case.updated": frozenset({"number", "status", "version", "action", "department_code", "cursor"}),
    "notification": frozenset({"id", "text", "case_number", "created_at"}),
    "call.ringing": frozenset({"call_id", "caller", "agent", "at", "citizen"}),
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


def _emit(event: str, payload: dict, rooms: list[str]) -> None:
    socketio.emit(event, payload, to=rooms, namespace=NAMESPACE)
