"""Risk alerts (预警, hotline/alerts): every 15 minutes, the cluster, repeat-caller and on-time detections; new
alerts stored once, notified and published. Idempotent (unique keys, quiet time per subject)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app

from hotline.alerts import detect
from hotline.alerts.raising import raise_alerts
from workers.context import job


def detect_and_raise(now: datetime) -> dict:
    settings = current_app.config["HOTLINE"]
    found = detect.clusters(now, settings) + detect.repeat_callers(now, settings) + detect.late_units(now, settings)
    raised = raise_alerts(found, now, settings)
    kinds: dict[str, int] = {}
    for alert in raised:
        kinds[alert.kind] = kinds.get(alert.kind, 0) + 1
    return {"candidates": len(found), "raised": len(raised), **kinds}


@job
def detect_alerts(now: datetime | None = None) -> dict:
    return detect_and_raise(now or datetime.now(UTC))
