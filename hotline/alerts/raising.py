"""Store new alerts once and tell people: the alert row and its cases, an in-app notice to monitors and supervisors
(the outbox → the notification bell), the socket event ``alert.raised`` (after the commit, hotline/realtime/publish.py)
and every hook of ``LISTENERS`` (called in the transaction with the stored ``Alert`` — e.g. the webhooks' outbox:
``LISTENERS.append(fn)``; ``alert_payload(alert)`` is the event's body).

Idempotent: ``alerts.key`` is unique and inserted with ON CONFLICT DO NOTHING, and a subject that raised an alert
within its quiet time (the cluster window, the on-time period) raises nothing new, so re-running the job — or two
schedulers at once — never duplicates."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa

from hotline.alerts.detect import Candidate
from hotline.auth.roles import Role
from hotline.channels.notify import notify_many
from hotline.db.dialect import insert_ignore
from hotline.extensions import db
from hotline.models import Alert, AlertCase, Category, Department
from hotline.realtime.publish import publish_many
from hotline.webhooks.fanout import enqueue_event

ROOMS = [f"role:{Role.MONITOR.value}", f"role:{Role.SUPERVISOR.value}"]
LISTENERS: list[Callable[[Alert], None]] = []


def _quiet(kind: str, s) -> timedelta | None:
    if kind == "cluster":
        return timedelta(hours=s.alert_window_hours)
    if kind == "on_time":
        return timedelta(days=s.alert_on_time_days)
    return None  # repeat callers: one alert per new contact (the key holds it)


def alert_payload(alert: Alert) -> dict:
    """The body of ``alert.raised`` (socket event; webhooks send the same fields)."""
    category = db.session.get(Category, alert.category_id) if alert.category_id else None
    area = db.session.get(Department, alert.area_id) if alert.area_id else None
    unit = db.session.get(Department, alert.department_id) if alert.department_id else None
    return {
        "id": alert.id,
        "kind": alert.kind,
        "level": alert.level,
        "title": alert.title,
        "case_count": alert.case_count,
        "category": category.path if category else None,
        "area": area.name if area else None,
        "department_code": unit.code if unit else None,
        "created_at": alert.created_at.isoformat(),
    }


def raise_alerts(candidates: list[Candidate], now: datetime, s) -> list[Alert]:
    """Store the candidates not yet raised; returns the new alerts (the caller commits)."""
    raised, links = [], []
    quiet = {kind: _quiet(kind, s) for kind in {c.kind for c in candidates}}
    longest = max((q for q in quiet.values() if q is not None), default=None)
    recent: set[str] = set()  # subjects with an alert inside their quiet time: one read, not one per candidate
    if longest is not None:
        rows = db.session.execute(
            sa.select(Alert.key, Alert.kind, Alert.created_at).where(Alert.created_at > now - longest)
        )
        recent = {k.rsplit(":", 1)[0] for k, kind, at in rows if quiet.get(kind) and at > now - quiet[kind]}
    for c in candidates:
        if quiet[c.kind] is not None and c.subject in recent:
            continue
        values = {
            "key": c.key,
            "kind": c.kind,
            "level": c.level,
            "title": c.title[:300],
            "detail": c.detail,
            "category_id": c.category_id,
            "area_id": c.area_id,
            "department_id": c.department_id,
            "citizen_id": c.citizen_id,
            "window_start": c.window_start,
            "window_end": c.window_end,
            "case_count": c.case_count,
            "status": "open",
            "created_at": now,
        }
        result = db.session.execute(insert_ignore(Alert, ["key"]).values(**values).returning(Alert.id))
        alert_id = result.scalar()
        if alert_id is None:
            continue  # another run stored it a moment ago
        links += [{"alert_id": alert_id, "case_id": i} for i in c.case_ids]
        raised.append(alert_id)
    if not raised:
        return []
    if links:
        db.session.execute(sa.insert(AlertCase), links)
    alerts = list(db.session.scalars(sa.select(Alert).where(Alert.id.in_(raised)).order_by(Alert.id)))
    notify_many([(room, f"【预警】{a.title}", None) for a in alerts for room in ROOMS])
    publish_many("alert.raised", [(alert_payload(a), ROOMS) for a in alerts])
    for alert in alerts:
        enqueue_event("alert.raised", alert_payload(alert))  # outbound webhooks (issue 21), sent after commit
        for listener in LISTENERS:
            listener(alert)
    return alerts
