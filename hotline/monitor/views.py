"""Monitor wall (/monitor): live counters per unit — open, due today, yellow, red — the open red cards with a
link to each case, and the calendar warning. Refreshed in place on every ``sla.card`` / case event."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, render_template

from hotline.auth.permissions import authenticate_page, requires
from hotline.sla import deadlines, queries

monitor_bp = Blueprint("monitor", __name__)
monitor_bp.before_request(authenticate_page)

MILESTONE_LABELS = {"sign": "签收", "contact": "首次联系", "reply": "答复"}


@monitor_bp.get("/monitor")
@requires("monitor.view")
def wall():
    zone = ZoneInfo(current_app.config["HOTLINE"].timezone)
    now = datetime.now(UTC)
    today = now.astimezone(zone).date()
    start = datetime.combine(today, time.min, tzinfo=zone)
    units = queries.unit_counters(start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC))
    totals = {k: sum(u[k] for u in units) for k in ("open", "due_today", "yellow", "red")}
    return render_template(
        "monitor/wall.html",
        units=units,
        totals=totals,
        red_cards=queries.open_red_cards(),
        warnings=deadlines.calendar_warnings(today),
        milestones=MILESTONE_LABELS,
        now=now,
    )
