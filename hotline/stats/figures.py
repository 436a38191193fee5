"""The figures of a period: past days from the daily rollup, the days it does not hold (today, or a day the job has
not rolled yet) counted live — the same numbers either way (tests/integration/test_stats_figures.py).

A department user's figures (``units`` given) are always counted live over the cases its subtree leads: the rollup
keeps the city's totals only.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from hotline.extensions import db
from hotline.models import Category, Department
from hotline.stats import rollup
from hotline.stats.metrics import UnitCounts
from hotline.stats.periods import Period, day_bounds, runs
from hotline.stats.queries import unit_counts
from hotline.stats.volumes import DIMS, Volumes, add, day_volumes, empty, grouped

AREA_LEVELS = {1: "district", 2: "street", 3: "community"}


@dataclass
class Clock:
    zone: ZoneInfo
    now: datetime

    @property
    def today(self) -> date:
        return self.now.astimezone(self.zone).date()


def _split(period: Period, clock: Clock, units: list[int] | None) -> tuple[list[date], list[date]]:
    """(rolled days read from the rollup, days counted live); days after today count nothing."""
    days = [d for d in period.each_day() if d <= clock.today]
    if not days:
        return [], []
    held = rollup.rolled_days(days[0], days[-1]) if units is None else set()
    held.discard(clock.today)
    return [d for d in days if d in held], [d for d in days if d not in held]


def volumes(
    period: Period, clock: Clock, units: list[int] | None = None, dims: tuple[str, ...] = DIMS, by_day: bool = False
) -> tuple[Volumes, Counter]:
    """Counts per dimension over the period, and (``by_day``) the count of each day."""
    rolled, live = _split(period, clock, units)
    out, days = empty(), Counter()
    for first, last in runs(rolled):
        add(out, rollup.volumes(first, last, dims))
        if by_day:
            days.update(rollup.daily_totals(first, last))
    needs_days = by_day or "hour" in dims
    if needs_days:  # a live day at a time: the hours of day and the day's total need the day's bounds
        for day in live:
            one = day_volumes(day, clock.zone, units, until=clock.now if day == clock.today else None)
            add(out, one)
            days[day] += one["total"][""]
    else:
        for first, last in runs(live):
            start, end = day_bounds(first, clock.zone)[0], day_bounds(last, clock.zone)[1]
            add(out, grouped(start, min(end, clock.now), units))
    return out, days


def unit_figures(period: Period, clock: Clock, units: list[int] | None = None) -> dict[int, UnitCounts]:
    """The assessment counts per unit over the period (rollup + live)."""
    rolled, live = _split(period, clock, None)
    out: dict[int, UnitCounts] = {}
    for first, last in runs(rolled):
        _merge(out, rollup.unit_totals(first, last, units))
    for first, last in runs(live):
        start, end = day_bounds(first, clock.zone)[0], day_bounds(last, clock.zone)[1]
        _merge(out, unit_counts(start, min(end, clock.now), units))
    return out


def _merge(into: dict[int, UnitCounts], more: dict[int, UnitCounts]) -> None:
    for unit_id, c in more.items():
        have = into.get(unit_id)
        if have is None:
            into[unit_id] = c
            continue
        for name in rollup.COUNT_FIELDS:
            setattr(have, name, getattr(have, name) + getattr(c, name))
        for score, n in c.scores.items():
            have.scores[score] = have.scores.get(score, 0) + n


# --- grouping leaf keys to a level ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    id: int
    name: str
    label: str  # the full path shown
    level: int
    parent_id: int | None


def category_nodes() -> dict[int, Node]:
    rows = db.session.execute(sa.select(Category.id, Category.name, Category.path, Category.level, Category.parent_id))
    return {i: Node(i, name, path.replace("/", " / "), level, parent) for i, name, path, level, parent in rows}


def area_nodes() -> dict[int, Node]:
    rows = db.session.execute(sa.select(Department.id, Department.name, Department.kind, Department.parent_id))
    levels = {kind: level for level, kind in AREA_LEVELS.items()}
    nodes = {i: Node(i, name, name, levels.get(kind, 0), parent) for i, name, kind, parent in rows}
    labelled = {}
    for i, node in nodes.items():  # label: "东城区 / 和平街道"
        parent = nodes.get(node.parent_id) if node.parent_id else None
        label = f"{parent.name} / {node.name}" if parent and parent.level >= 1 and node.level > 1 else node.name
        labelled[i] = Node(i, node.name, label, node.level, node.parent_id)
    return labelled


def at_level(counts: Counter, nodes: dict[int, Node], level: int) -> Counter:
    """Leaf-id counts summed to their ancestor at ``level`` (a node above the level stays itself; "" stays "")."""
    out: Counter = Counter()
    for key, n in counts.items():
        node = nodes.get(int(key)) if key.isdigit() else None
        while node is not None and node.level > level and node.parent_id in nodes:
            node = nodes[node.parent_id]
        out[str(node.id) if node is not None else ""] += n
    return out
