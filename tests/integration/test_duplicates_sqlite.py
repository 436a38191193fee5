"""The SQLite form of the duplicate-check candidate query (hotline/dispatch/duplicates.py) against a real SQLite
database: a city with many districts makes a case with no place probe more keys than SQLite allows terms in
one compound SELECT (500), so the query nests them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from hotline.dispatch.duplicates import _statement
from hotline.models import Case, CaseDupKey


@pytest.mark.parametrize("n_keys", [3, 500, 1200])
def test_candidates_with_many_probe_keys(n_keys):
    engine = sa.create_engine("sqlite://")
    Case.metadata.create_all(engine, tables=[Case.__table__, CaseDupKey.__table__])
    now = datetime.now(UTC)
    with engine.begin() as conn:
        for case_id, status in ((1, "dispatched"), (2, "closed")):
            conn.execute(
                sa.insert(Case.__table__).values(
                    id=case_id,
                    citizen_id=1,
                    phone_id=1,
                    number=f"GD-{case_id}",
                    status=status,
                    kind="complaint",
                    channel="phone",
                    content="路灯不亮",
                    title="路灯不亮",
                    urgency="normal",
                    created_at=now,
                    updated_at=now,
                    version=1,
                )
            )
            conn.execute(sa.insert(CaseDupKey.__table__), [{"key": k, "case_id": case_id} for k in (7, n_keys - 1)])
        params = {f"k{i}": i for i in range(n_keys)} | {
            "since": now - timedelta(days=30),
            "exclude": -1,
            "per_key": 300,
            "top": 50,
            "candidates": 30,
        }
        rows = conn.execute(_statement("sqlite", n_keys, False), params).all()
    assert [r.number for r in rows] == ["GD-1"]  # the open case, found through two keys; not the closed one
