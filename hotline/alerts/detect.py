"""The three detections, set-based: each is a few grouped statements over an indexed instant, whatever the volume.

Each returns ``Candidate`` rows; ``raising.raise_alerts`` stores the new ones. ``subject`` names what an alert is
about (one category in one area, one caller, one unit): while an alert on a subject is recent (within its window),
the same subject raises nothing new — except a repeat caller who calls again (escalation)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from hotline.alerts import rules
from hotline.extensions import db
from hotline.models import Assignment, Case, Category, Department
from hotline.stats.queries import units_in_scope

MAX_LINKED = 200  # cases linked to one alert


@dataclass
class Candidate:
    key: str
    subject: str
    kind: str
    level: str
    title: str
    window_start: datetime
    window_end: datetime
    detail: dict = field(default_factory=dict)
    case_ids: list[int] = field(default_factory=list)
    case_count: int = 0
    category_id: int | None = None
    area_id: int | None = None
    department_id: int | None = None
    citizen_id: int | None = None


def _bucket(now: datetime, hours: float) -> int:
    return int(now.timestamp() // (hours * 3600))


def clusters(now: datetime, s) -> list[Candidate]:
    """(category, area) counts over the last ``alert_window_hours`` against the ``alert_baseline_days`` before."""
    window = timedelta(hours=s.alert_window_hours)
    start, base_start = now - window, now - window - timedelta(days=s.alert_baseline_days)
    keys = (Case.category_id, Case.district_id)
    present = sa.and_(Case.category_id.is_not(None), Case.district_id.is_not(None))
    current = {
        (c, a): n
        for c, a, n in db.session.execute(
            sa.select(*keys, sa.func.count())
            .where(Case.created_at >= start, Case.created_at < now, present)
            .group_by(*keys)
        )
    }
    if not current:
        return []
    # baseline: daily counts (days without cases are zeros), scaled to the window's length below
    day = sa.func.date(Case.created_at)
    daily: dict[tuple, list[int]] = defaultdict(list)
    rows = db.session.execute(
        sa.select(*keys, day, sa.func.count())
        .where(Case.created_at >= base_start, Case.created_at < start, present)
        .group_by(*keys, day)
    )
    for c, a, _day, n in rows:
        daily[(c, a)].append(n)
    scale = s.alert_window_hours / 24
    hits = []
    for (c, a), k in current.items():
        mean, sd = rules.mean_sd(daily.get((c, a), []), s.alert_baseline_days)
        verdict = rules.judge(
            k, mean * scale, sd * scale**0.5, s.alert_method, s.alert_p_value, s.alert_z_score, s.alert_min_count
        )
        if verdict.alert:
            hits.append((c, a, k, verdict))
    if not hits:
        return []
    cats = dict(
        db.session.execute(sa.select(Category.id, Category.path).where(Category.id.in_({h[0] for h in hits}))).all()
    )
    areas = dict(
        db.session.execute(
            sa.select(Department.id, Department.name).where(Department.id.in_({h[1] for h in hits}))
        ).all()
    )
    linked: dict[tuple, list[int]] = defaultdict(list)
    for cid, c, a in db.session.execute(
        sa.select(Case.id, *keys)
        .where(Case.created_at >= start, Case.created_at < now, sa.tuple_(*keys).in_([(h[0], h[1]) for h in hits]))
        .order_by(Case.id)
    ):
        if len(linked[(c, a)]) < MAX_LINKED:
            linked[(c, a)].append(cid)
    bucket = _bucket(now, s.alert_window_hours)
    out = []
    for c, a, k, v in hits:
        what = "显著高于" if v.level == "red" else "高于"
        out.append(
            Candidate(
                key=f"cluster:{c}:{a}:{bucket}",
                subject=f"cluster:{c}:{a}",
                kind="cluster",
                level=v.level,
                title=(
                    f"{areas.get(a, '')}「{cats.get(c, '')}」诉求 {s.alert_window_hours} 小时内 {k} 件，"
                    f"{what}常态（约 {v.expected:.1f} 件）"
                ),
                window_start=start,
                window_end=now,
                detail={"count": k, "expected": v.expected, "score": v.score, "method": s.alert_method},
                case_ids=linked[(c, a)],
                case_count=k,
                category_id=c,
                area_id=a,
            )
        )
    return out


def repeat_callers(now: datetime, s) -> list[Candidate]:
    """Callers with ``alert_repeat_contacts`` or more cases within ``alert_repeat_days``; each further case raises
    again (the key holds the latest case), red from twice the threshold."""
    start = now - timedelta(days=s.alert_repeat_days)
    rows = db.session.execute(
        sa.select(Case.citizen_id, sa.func.count(), sa.func.max(Case.id))
        .where(Case.created_at >= start, Case.created_at < now)
        .group_by(Case.citizen_id)
        .having(sa.func.count() >= s.alert_repeat_contacts)
    ).all()
    if not rows:
        return []
    linked: dict[int, list[int]] = defaultdict(list)
    for cid, citizen in db.session.execute(
        sa.select(Case.id, Case.citizen_id)
        .where(Case.created_at >= start, Case.created_at < now, Case.citizen_id.in_([r[0] for r in rows]))
        .order_by(Case.id)
    ):
        linked[citizen].append(cid)
    out = []
    for citizen, n, last in rows:
        level = "red" if n >= 2 * s.alert_repeat_contacts else "yellow"
        out.append(
            Candidate(
                key=f"repeat:{citizen}:{last}",
                subject=f"repeat:{citizen}:{last}",
                kind="repeat_caller",
                level=level,
                title=f"同一来电人 {s.alert_repeat_days} 天内反映 {n} 次，诉求可能升级，请关注",
                window_start=start,
                window_end=now,
                detail={"count": n, "days": s.alert_repeat_days, "threshold": s.alert_repeat_contacts},
                case_ids=linked[citizen][-MAX_LINKED:],
                case_count=n,
                citizen_id=citizen,
            )
        )
    return out


def late_units(now: datetime, s) -> list[Candidate]:
    """Units whose lead tasks due in the last ``alert_on_time_days`` were replied on time less than
    ``alert_on_time_rate`` of the time (at least ``alert_on_time_min`` tasks due)."""
    start = now - timedelta(days=s.alert_on_time_days)
    a = Assignment
    on_time = sa.and_(a.replied_at.is_not(None), a.replied_at <= a.deadline_reply)
    rows = db.session.execute(
        sa.select(a.department_id, sa.func.count(), sa.func.sum(sa.case((on_time, 1), else_=0)))
        .where(a.role == "lead", a.deadline_reply >= start, a.deadline_reply < now, a.status != "cancelled")
        .group_by(a.department_id)
        .having(sa.func.count() >= s.alert_on_time_min)
    ).all()
    low = [(unit, n, int(ok or 0)) for unit, n, ok in rows if int(ok or 0) / n < s.alert_on_time_rate]
    if not low:
        return []
    units = units_in_scope(None)
    late: dict[int, list[int]] = defaultdict(list)
    for case_id, unit in db.session.execute(
        sa.select(a.case_id, a.department_id)
        .where(
            a.role == "lead",
            a.deadline_reply >= start,
            a.deadline_reply < now,
            a.department_id.in_([u for u, _, _ in low]),
            ~on_time,
        )
        .order_by(a.case_id)
    ):
        if len(late[unit]) < MAX_LINKED:
            late[unit].append(case_id)
    bucket = _bucket(now, s.alert_on_time_days * 24)
    out = []
    for unit, n, ok in low:
        rate = ok / n
        name = units[unit].name if unit in units else str(unit)
        out.append(
            Candidate(
                key=f"on_time:{unit}:{bucket}",
                subject=f"on_time:{unit}",
                kind="on_time",
                level="red" if rate < s.alert_on_time_rate - 0.2 else "yellow",
                title=f"{name} 近 {s.alert_on_time_days} 天按时答复率 {rate:.0%}，低于 {s.alert_on_time_rate:.0%}",
                window_start=start,
                window_end=now,
                detail={"due": n, "on_time": ok, "rate": round(rate, 4), "threshold": s.alert_on_time_rate},
                case_ids=sorted(set(late[unit])),
                case_count=n - ok,
                department_id=unit,
            )
        )
    return out
