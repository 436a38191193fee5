"""Glue between the pure SLA math and the stored policy/holiday table.

The calendar and policy are read from the database and cached per process for a short time
(they change rarely). The cache is keyed on the routing version (``hotline.db.refcache.version()``, read at most
once a second): a change made through ``changed()`` bumps it after the commit, so it reaches every process within
about a second (measured by tests/bench/bench_admin_cache.py), and at once in the process that made it.

Policy rules (``sla_policies.rules``, one row per version, the newest active one applies)::

    {"sign/normal": {"amount": 1, "unit": "work_days"},          # milestone/tier
     "reply/consult": {"amount": 3, "unit": "work_days"},        # milestone/kind (normal tier)
     "reply/category:城乡建设/物业管理": {...},                     # milestone/category path prefix (normal tier)
     "office_hours": {"start": "09:00", "end": "18:00"}}          # working time of a working day
"""

from __future__ import annotations

import time
from datetime import date, datetime
from datetime import time as dtime
from zoneinfo import ZoneInfo

import chinese_calendar
import sqlalchemy as sa
from flask import current_app

from hotline.db import refcache
from hotline.db.transactions import after_commit
from hotline.extensions import db
from hotline.models import Case, Holiday, SlaPolicy
from hotline.sla import clock as sla

CACHE_SECONDS = 30.0
OFFICE_HOURS_KEY = "office_hours"
DEFAULT_OFFICE_HOURS = {"start": "09:00", "end": "18:00"}
_cache: dict[str, tuple[float, object]] = {}


def _cached(key: str, load):
    version = refcache.version()
    hit = _cache.get(key)
    if hit and hit[2] == version and time.monotonic() - hit[0] < CACHE_SECONDS:
        return hit[1]
    value = load()
    _cache[key] = (time.monotonic(), value, version)
    return value


def cached(key: str, load):
    """``load()``'s value, kept like the policy and calendar (until a change or CACHE_SECONDS)."""
    return _cached(key, load)


def clear_cache() -> None:
    _cache.clear()


def changed() -> None:
    """Call before committing a change of the policy or the holiday table: this process forgets its copy now and
    every other process within a second of the commit (the routing version is bumped after it)."""
    refcache.bump_version()
    after_commit(clear_cache)


def active_rules() -> dict:
    def load():
        rules = db.session.scalar(
            sa.select(SlaPolicy.rules).where(SlaPolicy.active.is_(True)).order_by(SlaPolicy.version.desc()).limit(1)
        )
        return rules or {}

    return _cached("rules", load)


def office_hours(rules: dict | None = None) -> tuple[dtime, dtime]:
    hours = (active_rules() if rules is None else rules).get(OFFICE_HOURS_KEY) or DEFAULT_OFFICE_HOURS
    return dtime.fromisoformat(hours["start"]), dtime.fromisoformat(hours["end"])


def calendar() -> sla.WorkCalendar:
    def load():
        rows = db.session.execute(sa.select(Holiday.day, Holiday.is_workday)).all()
        tz = current_app.config["HOTLINE"].timezone
        start, end = office_hours()
        return sla.WorkCalendar(overrides=dict(rows), office_start=start, office_end=end, tz=tz)

    return _cached("calendar", load)


def parse_policy(rules: dict) -> dict[tuple[str, str], sla.Limit]:
    """{"sign/normal": {"amount": 1, "unit": "work_days"}} -> {("sign", "normal"): Limit(1, "work_days")}."""
    policy = {}
    for key, value in rules.items():
        if "/" not in key:  # office_hours and other settings
            continue
        milestone, _, tier_or_kind = key.partition("/")
        policy[(milestone, tier_or_kind)] = sla.Limit(float(value["amount"]), value["unit"])
    return policy


def policy() -> dict[tuple[str, str], sla.Limit]:
    return _cached("policy", lambda: parse_policy(active_rules()))


def default_rules() -> dict:
    rules = {f"{m}/{t}": {"amount": lim.amount, "unit": lim.unit} for (m, t), lim in sla.DEFAULT_POLICY.items()}
    rules.update(
        {f"reply/{k}": {"amount": lim.amount, "unit": lim.unit} for k, lim in sla.KIND_REPLY_OVERRIDES.items()}
    )
    rules[OFFICE_HOURS_KEY] = dict(DEFAULT_OFFICE_HOURS)
    return rules


def case_limits(case: Case) -> dict[str, sla.Limit]:
    """The limits of the three milestones for a case under the active policy."""
    category = case.category.path if case.category else None
    return {m: sla.limit_for(m, case.urgency, case.kind, case.complex, policy(), category) for m in sla.MILESTONES}


def for_case(case: Case, start: datetime) -> dict[str, datetime]:
    cal = calendar()
    return {m: sla.deadline(start, limit, cal) for m, limit in case_limits(case).items()}


def local(moment: datetime, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An instant in the city's time zone, for notices and messages."""
    return moment.astimezone(ZoneInfo(current_app.config["HOTLINE"].timezone)).strftime(fmt)


def library_knows(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def calendar_warnings(today: date) -> list[str]:
    """zh-CN warnings for the years (this one, the next, and any a deadline computation met) that neither
    chinese-calendar nor the holiday table covers: their deadlines assume Monday-Friday."""
    years = {today.year, today.year + 1}
    years.update(int(w[:4]) for w in calendar().warnings if w[:4].isdigit())
    out = []
    for year in sorted(years):
        if library_knows(year):
            continue
        rows = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Holiday)
            .where(Holiday.day >= date(year, 1, 1), Holiday.day <= date(year, 12, 31))
        )
        if not rows:
            out.append(f"{year}年节假日数据缺失，按周一至周五计算，请在节假日表中维护")
    return out
