"""A past for the demo city: the plan of ``days`` days of cases (pure: random but seeded, no database).

Rhythms: weekdays busier than weekends, a morning and an afternoon peak, few calls at night, a slow growth over the
period; channels, kinds and categories with plausible weights (a few popular categories take most cases); and a
cluster in the last ten days (物业管理 complaints in one street) so hot topics and alerts have something to show.
Each planned case carries its fate: answered on the spot, or dispatched → (returned) → signed → contacted →
(extension) → replied → rated (some poorly: rectification) → closed, each step at a plausible delay.
hotline/seed/history_run.py plays the plan through the real operations.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

CHANNELS = {"phone": 55, "wechat": 18, "web": 12, "app": 9, "sms": 3, "walk_in": 3}
KINDS = {"consult": 38, "complaint": 26, "help": 15, "report": 7, "suggestion": 9, "praise": 5}
# hours of the day (local) -> relative weight: peaks 9–11 and 14–17
HOURS = [1, 1, 0.5, 0.5, 0.5, 1, 2, 5, 9, 12, 12, 10, 6, 8, 11, 11, 10, 8, 6, 5, 4, 3, 2, 1]
CLUSTER_DAYS = 10
CLUSTER_CONTENT = "小区物业不作为，电梯多次故障无人维修，业主多次反映未果"


@dataclass
class Step:
    at: datetime
    action: str  # answer | dispatch | return | decide | sign | contact | extend | reply | rate | verify | rectify |
    # revisit | explain | close
    data: dict = field(default_factory=dict)


@dataclass
class PlannedCase:
    created_at: datetime
    channel: str
    kind: str
    category: str  # path
    street: str  # unit code of the street (or district)
    content: str
    steps: list[Step]


def _pick(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _moment(rng: random.Random, day: date, zone: ZoneInfo) -> datetime:
    hour = rng.choices(range(24), weights=HOURS)[0]
    return datetime.combine(day, time(hour, rng.randrange(60), rng.randrange(60)), zone)


def plan(
    days: int,
    today: date,
    zone: ZoneInfo,
    categories: list[str],
    streets: list[str],
    per_day: int = 24,
    seed: int = 12345,
) -> list[PlannedCase]:
    """The cases of the ``days`` days before ``today`` and of today, in time order."""
    rng = random.Random(seed)
    popular = rng.sample(categories, min(25, len(categories)))
    weights = {c: (12 if c in popular else 1) for c in categories}
    cluster_category = next((c for c in categories if "物业" in c), categories[0])
    cluster_street = streets[len(streets) // 2]
    unit_speed = {s: rng.uniform(0.6, 1.8) for s in streets}  # how quickly a place's cases get handled
    out: list[PlannedCase] = []
    for back in range(days, -1, -1):  # today too: its cases up to now (later moments are left out)
        day = today - timedelta(days=back)
        growth = 0.8 + 0.4 * (days - back) / max(days, 1)
        base = per_day * (0.55 if day.weekday() >= 5 else 1.0) * growth
        n = max(1, round(rng.gauss(base, base * 0.15)))
        for _ in range(n):
            out.append(_case(rng, day, zone, _pick(rng, weights), rng.choice(streets), unit_speed))
        if back <= CLUSTER_DAYS:  # the cluster: one matter in one street, growing
            for _ in range(rng.randint(1, 2) + (CLUSTER_DAYS - back) // 3):
                case = _case(rng, day, zone, cluster_category, cluster_street, unit_speed, kind="complaint")
                case.content = CLUSTER_CONTENT
                out.append(case)
    out.sort(key=lambda c: c.created_at)
    return out


def _case(rng, day, zone, category, street, unit_speed, kind=None) -> PlannedCase:
    created = _moment(rng, day, zone)
    kind = kind or _pick(rng, KINDS)
    channel = _pick(rng, CHANNELS)
    leaf = category.rsplit("/", 1)[-1]
    content = f"市民反映{leaf}方面的问题，希望有关部门尽快处理。"
    if kind == "consult":
        content = f"市民咨询{leaf}相关政策和办理流程。"
    steps = _fate(rng, created, kind, unit_speed.get(street, 1.0))
    return PlannedCase(created, channel, kind, category, street, content, steps)


def _later(at: datetime, rng: random.Random, low_hours: float, high_hours: float) -> datetime:
    return at + timedelta(hours=rng.uniform(low_hours, high_hours))


def _fate(rng: random.Random, created: datetime, kind: str, speed: float) -> list[Step]:
    if kind in ("consult", "praise") and rng.random() < (0.6 if kind == "consult" else 0.9):
        return [Step(created + timedelta(minutes=rng.uniform(3, 15)), "answer")]
    steps = [Step(_later(created, rng, 0.2, 3), "dispatch")]
    at = steps[-1].at
    if rng.random() < 0.06:  # the unit returns it; the dispatcher agrees (to the district) or rejects (improper)
        steps.append(Step(_later(at, rng, 1, 8), "return"))
        steps.append(Step(_later(steps[-1].at, rng, 0.5, 4), "decide", {"accept": rng.random() < 0.6}))
        at = steps[-1].at
    steps.append(Step(_later(at, rng, 0.3, 6 * speed), "sign"))
    if rng.random() < 0.9:
        steps.append(Step(_later(steps[-1].at, rng, 0.2, 8 * speed), "contact"))
    if rng.random() < 0.06:
        steps.append(Step(_later(steps[-1].at, rng, 12, 48), "extend", {"days": rng.choice((3, 5, 7))}))
    steps.append(Step(_later(steps[-1].at, rng, 6, 24 * 6 * speed), "reply", {"result": _result(rng)}))
    if rng.random() < 0.68:
        score = rng.choices((5, 4, 3, 2, 1), weights=(50, 22, 12, 9, 7))[0]
        resolved = score >= 4 or (score == 3 and rng.random() < 0.5)
        steps.append(Step(_later(steps[-1].at, rng, 1, 48), "rate", {"score": score, "resolved": resolved}))
        if score <= 2:
            reasonable = rng.random() < 0.7
            steps.append(Step(_later(steps[-1].at, rng, 2, 30), "verify", {"reasonable": reasonable}))
            if reasonable:
                steps.append(Step(_later(steps[-1].at, rng, 4, 40), "rectify"))
                good = rng.random() < 0.8
                revisit = {"score": 5 if good else 2, "resolved": good}
                steps.append(Step(_later(steps[-1].at, rng, 2, 30), "revisit", revisit))
            else:
                steps.append(Step(_later(steps[-1].at, rng, 2, 30), "explain"))
    elif rng.random() < 0.6:
        steps.append(Step(_later(steps[-1].at, rng, 24, 72), "close"))
    return steps


def _result(rng: random.Random) -> str:
    return rng.choices(("resolved", "explained", "unresolved"), weights=(70, 22, 8))[0]
