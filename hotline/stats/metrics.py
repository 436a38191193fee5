"""统一考核: the assessment rates of a unit from its counts (pure: no database, no Flask).

docs/domain.md: 响应率 = cases signed and first-contacted within limits / cases dispatched; 解决率 = cases the
citizen says are resolved / cases with that feedback; 满意率 = weighted ratings / ratings (5, 4, 3 count as
satisfied by default); on-time reply rate = replies within the limit / cases dispatched. Composite =
30 % response + 35 % resolution + 35 % satisfaction by default. A rate with nothing to measure is None (not 0:
a unit without ratings is not a unit with bad ratings); the composite then uses the parts that exist,
re-weighted, and is None when none exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_SCORE_WEIGHTS = {5: 1.0, 4: 1.0, 3: 1.0, 2: 0.0, 1: 0.0}
DEFAULT_COMPOSITE = {"response": 0.30, "resolution": 0.35, "satisfaction": 0.35}


@dataclass
class UnitCounts:
    dispatched: int = 0
    responded: int = 0  # signed and first-contacted, each within its limit
    replied_on_time: int = 0
    returns: int = 0
    improper_returns: int = 0  # returns the dispatcher rejected (驳回退回)
    extensions: int = 0  # approved
    reopened: int = 0
    yellow_cards: int = 0
    red_cards: int = 0
    scores: dict[int, int] = field(default_factory=dict)  # score 1..5 -> ratings (excluded ones left out)
    resolved_yes: int = 0
    resolved_answered: int = 0  # ratings that say resolved yes or no

    @property
    def ratings(self) -> int:
        return sum(self.scores.values())


def parse_weights(text: str, keys, convert=str) -> dict:
    """ "5:1,4:0.5" -> {5: 1.0, 4: 0.5}; raises ValueError on a key not in ``keys`` or a weight outside 0..1."""
    out = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, _, value = item.partition(":")
        key, weight = convert(key.strip()), float(value)
        if key not in keys or not 0 <= weight <= 1:
            raise ValueError(f"bad weight {item!r}")
        out[key] = weight
    return out


def _rate(part: float, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def rates(
    counts: UnitCounts, score_weights: dict[int, float] | None = None, composite_weights: dict[str, float] | None = None
) -> dict:
    """The unit's rates (0..1, 4 decimals) and composite, from its counts."""
    weights = score_weights or DEFAULT_SCORE_WEIGHTS
    mix = composite_weights or DEFAULT_COMPOSITE
    satisfied = sum(weights.get(score, 0.0) * n for score, n in counts.scores.items())
    out = {
        "response_rate": _rate(counts.responded, counts.dispatched),
        "resolution_rate": _rate(counts.resolved_yes, counts.resolved_answered),
        "satisfaction_rate": _rate(satisfied, counts.ratings),
        "on_time_rate": _rate(counts.replied_on_time, counts.dispatched),
        "return_rate": _rate(counts.returns, counts.dispatched),
        "improper_return_rate": _rate(counts.improper_returns, counts.returns),
        "extension_rate": _rate(counts.extensions, counts.dispatched),
        "reopen_rate": _rate(counts.reopened, counts.dispatched),
    }
    parts = {
        "response": out["response_rate"],
        "resolution": out["resolution_rate"],
        "satisfaction": out["satisfaction_rate"],
    }
    present = {k: v for k, v in parts.items() if v is not None and mix.get(k, 0) > 0}
    total = sum(mix[k] for k in present)
    out["composite"] = round(sum(mix[k] * v for k, v in present.items()) / total, 4) if total else None
    return out


def rank(rows: list[dict]) -> list[dict]:
    """Sort by composite (None last), then by dispatched volume; set ``rank`` (ties share a rank)."""
    rows.sort(
        key=lambda r: (r["composite"] is None, -(r["composite"] or 0), -r["counts"]["dispatched"], r["department_code"])
    )
    previous, place = object(), 0
    for i, row in enumerate(rows, 1):
        if row["composite"] != previous:
            place, previous = i, row["composite"]
        row["rank"] = place if row["composite"] is not None else None
    return rows
