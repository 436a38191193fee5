"""Glue between the pure SLA math and the stored policy/holiday table.

The calendar and policy are read from the database and cached per process for a short time
(they change rarely; a change is visible everywhere within CACHE_SECONDS).
"""
from __future__ import annotations

import time
from datetime import datetime

import sqlalchemy as sa
from flask import current_app

from hotline.cases import sla
from hotline.extensions import db
from hotline.models import Case, Holiday, SlaPolicy

CACHE_SECONDS = 30.0
_cache: dict[str, tuple[float, object]] = {}


def _cached(key: str, load):
    hit = _cache.get(key)
    if hit and time.monotonic() - hit[0] < CACHE_SECONDS:
        return hit[1]
    value = load()
    _cache[key] = (time.monotonic(), value)
    return value


def clear_cache() -> None:
    _cache.clear()


def calendar() -> sla.WorkCalendar:
    def load():
        rows = db.session.execute(sa.select(Holiday.day, Holiday.is_workday)).all()
        tz = current_app.config["HOTLINE"].timezone
        return sla.WorkCalendar(overrides={d: w for d, w in rows}, tz=tz)

    return _cached("calendar", load)


def parse_policy(rules: dict) -> dict[tuple[str, str], sla.Limit]:
    """{"sign/normal": {"amount": 1, "unit": "work_days"}} -> {("sign", "normal"): Limit(1, "work_days")}."""
    policy = {}
    for key, value in rules.items():
        milestone, _, tier_or_kind = key.partition("/")
        policy[(milestone, tier_or_kind)] = sla.Limit(float(value["amount"]), value["unit"])
    return policy


def policy() -> dict[tuple[str, str], sla.Limit]:
    def load():
        rules = db.session.scalar(
            sa.select(SlaPolicy.rules).where(SlaPolicy.active.is_(True)).order_by(SlaPolicy.version.desc()).limit(1)
        )
        return parse_policy(rules) if rules else {}

    return _cached("policy", load)


def default_rules() -> dict:
    rules = {f"{m}/{t}": {"amount": lim.amount, "unit": lim.unit} for (m, t), lim in sla.DEFAULT_POLICY.items()}
    rules.update({f"reply/{k}": {"amount": lim.amount, "unit": lim.unit}
                  for k, lim in sla.KIND_REPLY_OVERRIDES.items()})
    return rules


def for_case(case: Case, start: datetime) -> dict[str, datetime]:
    return sla.deadlines_for(start, case.urgency, case.kind, calendar(), complex=case.complex, policy=policy())
