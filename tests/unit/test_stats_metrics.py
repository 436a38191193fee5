"""统一考核 rates from counts (pure)."""

from __future__ import annotations

import pytest

from hotline.stats.metrics import UnitCounts, parse_weights, rank, rates


def test_rates_follow_domain_definitions():
    c = UnitCounts(
        dispatched=10,
        responded=8,
        replied_on_time=9,
        returns=2,
        improper_returns=1,
        extensions=1,
        reopened=1,
        scores={5: 3, 4: 1, 3: 1, 2: 2, 1: 1},
        resolved_yes=6,
        resolved_answered=8,
    )
    r = rates(c)
    assert r["response_rate"] == 0.8 and r["on_time_rate"] == 0.9
    assert r["satisfaction_rate"] == 0.625  # (3 + 1 + 1) / 8
    assert r["resolution_rate"] == 0.75
    assert r["return_rate"] == 0.2 and r["improper_return_rate"] == 0.5
    assert r["extension_rate"] == 0.1 and r["reopen_rate"] == 0.1
    assert r["composite"] == pytest.approx(0.30 * 0.8 + 0.35 * 0.75 + 0.35 * 0.625, abs=1e-4)  # 0.72125


def test_nothing_to_measure_is_none_not_zero_and_composite_reweights():
    r = rates(UnitCounts(dispatched=4, responded=3))
    assert r["satisfaction_rate"] is None and r["resolution_rate"] is None and r["improper_return_rate"] is None
    assert r["composite"] == 0.75  # only the response rate exists
    assert rates(UnitCounts())["composite"] is None


def test_configurable_weights():
    c = UnitCounts(dispatched=1, responded=1, scores={5: 1, 3: 1})
    assert rates(c, {5: 1.0, 4: 1.0, 3: 0.5, 2: 0.0, 1: 0.0})["satisfaction_rate"] == 0.75
    assert rates(c, composite_weights={"response": 1.0, "resolution": 0.0, "satisfaction": 0.0})["composite"] == 1.0


def test_rank_orders_by_composite_with_shared_places_and_none_last():
    rows = [
        {"department_code": code, "composite": comp, "counts": {"dispatched": n}}
        for code, comp, n in (("A", 0.8, 5), ("B", None, 9), ("C", 0.9, 1), ("D", 0.8, 7))
    ]
    ranked = rank(rows)
    assert [(r["department_code"], r["rank"]) for r in ranked] == [("C", 1), ("D", 2), ("A", 2), ("B", None)]


@pytest.mark.parametrize("text", ["6:1", "5:2", "5:x", "response:0.3,speed:0.7"])
def test_bad_weights_are_refused(text):
    with pytest.raises(ValueError):
        if text.startswith("response"):
            parse_weights(text, {"response", "resolution", "satisfaction"})
        else:
            parse_weights(text, {1, 2, 3, 4, 5}, int)


def test_weights_parse():
    assert parse_weights("5:1, 4:0.5", {1, 2, 3, 4, 5}, int) == {5: 1.0, 4: 0.5}
