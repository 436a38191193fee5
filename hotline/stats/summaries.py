"""The figures as the API answers them and the dashboards show them: overview, hot topics, unit ranking. One
builder each, shared by hotline/api/figures.py, hotline/api/stats.py and hotline/dashboards/."""

from __future__ import annotations

import logging

from hotline.models.cases import CHANNELS, KINDS
from hotline.stats import figures, metrics, queries
from hotline.stats.periods import Period

log = logging.getLogger(__name__)
BY = {"category": "分类", "area": "区域"}


def span(p: Period) -> dict:
    return {"from": p.first.isoformat(), "to": p.last.isoformat()}


def change(now: int, before: int) -> float | None:
    return round((now - before) / before, 4) if before else None


def _labelled(counts, labels: dict) -> list[dict]:
    keys = list(labels) + sorted(k for k in counts if k not in labels)
    return [{"key": k, "label": labels.get(k, k), "count": counts.get(k, 0)} for k in keys]


def overview(period: Period, clock: figures.Clock, units: list[int] | None) -> dict:
    """Counts by channel, kind, day and hour, with the previous period's and last year's totals."""
    counts, days = figures.volumes(period, clock, units, by_day=True)
    previous, last_year = period.previous(), period.last_year()
    totals = {
        name: figures.volumes(p, clock, units, dims=("total",))[0]["total"][""]
        for name, p in (("previous", previous), ("last_year", last_year))
    }
    total = counts["total"][""]
    return {
        **span(period),
        "timezone": clock.zone.key,
        "scope": "unit" if units is not None else "city",
        "total": total,
        "by_channel": _labelled(counts["channel"], CHANNELS),
        "by_kind": _labelled(counts["kind"], KINDS),
        "by_day": [{"day": d.isoformat(), "count": days.get(d, 0)} for d in period.each_day()],
        "by_hour": [{"hour": h, "count": counts["hour"].get(f"{h:02d}", 0)} for h in range(24)],
        "trend": {
            name: {**span(p), "total": totals[name], "change": change(total, totals[name])}
            for name, p in (("previous", previous), ("last_year", last_year))
        },
    }


def hot(period: Period, clock: figures.Clock, units: list[int] | None, by: str, level: int, limit: int) -> dict:
    """The top categories or areas at ``level`` with the previous period's counts."""
    nodes = figures.category_nodes() if by == "category" else figures.area_nodes()
    current = figures.at_level(figures.volumes(period, clock, units, dims=(by,))[0][by], nodes, level)
    before = figures.at_level(figures.volumes(period.previous(), clock, units, dims=(by,))[0][by], nodes, level)
    ranked = sorted(current.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    none_label = "未分类" if by == "category" else "未标注区域"
    items = []
    for key, n in ranked:
        node = nodes.get(int(key)) if key else None
        items.append(
            {
                "id": node.id if node else None,
                "name": node.name if node else none_label,
                "label": node.label if node else none_label,
                "count": n,
                "previous": before.get(key, 0),
                "change": n - before.get(key, 0),
                "change_rate": change(n, before.get(key, 0)),
            }
        )
    return {
        **span(period),
        "previous": span(period.previous()),
        "by": by,
        "level": level,
        "total": sum(current.values()),
        "items": items,
    }


def weights(settings) -> tuple[dict, dict]:
    try:
        scores = metrics.parse_weights(settings.stats_score_weights, {1, 2, 3, 4, 5}, int)
        mix = metrics.parse_weights(settings.stats_composite, set(metrics.DEFAULT_COMPOSITE))
        return scores, mix
    except ValueError:
        log.warning("HOTLINE_STATS_* weights unreadable; using the defaults of docs/domain.md")
        return dict(metrics.DEFAULT_SCORE_WEIGHTS), dict(metrics.DEFAULT_COMPOSITE)


def ranking(period: Period, clock: figures.Clock, scope, settings) -> dict:
    """GET /stats/departments' answer: every unit in scope with its rates and counts, ranked."""
    units = queries.units_in_scope(scope)
    counts = figures.unit_figures(period, clock, list(units) if scope is not None else None)
    scores, mix = weights(settings)
    rows = []
    for unit_id, c in counts.items():
        unit = units.get(unit_id)
        if unit is None:
            continue
        rows.append(
            {
                "department_code": unit.code,
                "department_name": unit.name,
                "kind": unit.kind,
                **metrics.rates(c, scores, mix),
                "counts": {
                    "dispatched": c.dispatched,
                    "responded": c.responded,
                    "replied_on_time": c.replied_on_time,
                    "ratings": c.ratings,
                    "scores": {str(k): v for k, v in sorted(c.scores.items())},
                    "resolved_yes": c.resolved_yes,
                    "resolved_answered": c.resolved_answered,
                    "returns": c.returns,
                    "improper_returns": c.improper_returns,
                    "extensions": c.extensions,
                    "reopened": c.reopened,
                    "yellow_cards": c.yellow_cards,
                    "red_cards": c.red_cards,
                },
            }
        )
    return {
        **span(period),
        "timezone": settings.timezone,
        "weights": {"scores": {str(k): v for k, v in scores.items()}, "composite": mix},
        "departments": metrics.rank(rows),
    }
