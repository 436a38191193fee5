"""Bulk INSERT … [ON CONFLICT DO NOTHING] RETURNING (and bulk UPDATE by key) for thousands of rows in one round trip.

PostgreSQL: the rows travel as ONE json parameter and the server unpacks them —
``INSERT INTO t (cols) SELECT … FROM json_to_recordset(CAST(:rows AS JSON)) AS bulk(col type, …)``. The
statement stays tiny however many rows it carries: SQLAlchemy's multi-VALUES form sends one placeholder per
cell (converting a query with tens of thousands of them costs more than the insert) and array parameters
are escaped element by element. Values common to every row are sent once, as a plain parameter.
SQLite: SQLAlchemy's executemany with RETURNING (insertmanyvalues).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from hotline.extensions import db


def _json_value(value):
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot send {type(value).__name__} in a bulk insert")


def insert_returning(
    table: sa.Table, rows: list[dict], returning: list[str], conflict: list[str] | None = None
) -> list[sa.Row]:
    """Insert ``rows`` (dicts with the same keys; datetimes timezone-aware) and return ``returning`` columns of
    the rows really inserted (with ``conflict``: ON CONFLICT (conflict) DO NOTHING). Order is not guaranteed:
    return a key."""
    if not rows:
        return []
    if db.session.get_bind().dialect.name != "postgresql":
        stmt = sqlite.insert(table)
        if conflict:
            stmt = stmt.on_conflict_do_nothing(index_elements=conflict)
        return db.session.execute(stmt.returning(*[table.c[c] for c in returning]), rows).all()
    cols = list(rows[0])
    same = [name for name in cols if all(row[name] == rows[0][name] for row in rows)]
    varying = [name for name in cols if name not in same] or cols[:1]
    payload = json.dumps(
        [{name: row[name] for name in varying} for row in rows],
        ensure_ascii=False,
        separators=(",", ":"),
        default=_json_value,
    )
    source = (
        sa.func.json_to_recordset(sa.cast(sa.bindparam("bulk_rows", payload), sa.JSON))
        .table_valued(*[sa.column(name, table.c[name].type) for name in varying])
        .render_derived(name="bulk", with_types=True)
    )
    values = [
        source.c[name]
        if name in varying
        else sa.cast(sa.bindparam(f"same_{name}", rows[0][name], type_=table.c[name].type), table.c[name].type)
        for name in cols
    ]
    stmt = postgresql.insert(table).from_select(cols, sa.select(*values))
    if conflict:
        stmt = stmt.on_conflict_do_nothing(index_elements=conflict)
    return db.session.execute(stmt.returning(*[table.c[c] for c in returning])).all()


def update_rows(table: sa.Table, rows: list[dict], key: str = "id") -> None:
    """``UPDATE table SET … WHERE key = …`` for many rows (dicts with the same keys, ``key`` among them) in one
    statement on PostgreSQL (``UPDATE … FROM json_to_recordset(…)``), an executemany on SQLite."""
    if not rows:
        return
    cols = [name for name in rows[0] if name != key]
    if db.session.get_bind().dialect.name != "postgresql":
        stmt = (
            sa.update(table)
            .where(table.c[key] == sa.bindparam(f"b_{key}"))
            .values({name: sa.bindparam(f"b_{name}") for name in cols})
        )
        db.session.execute(stmt, [{f"b_{name}": value for name, value in row.items()} for row in rows])
        return
    payload = json.dumps(rows, ensure_ascii=False, separators=(",", ":"), default=_json_value)
    source = (
        sa.func.json_to_recordset(sa.cast(sa.bindparam("bulk_rows", payload), sa.JSON))
        .table_valued(*[sa.column(name, table.c[name].type) for name in [key, *cols]])
        .render_derived(name="bulk", with_types=True)
    )
    db.session.execute(
        sa.update(table).where(table.c[key] == source.c[key]).values({name: source.c[name] for name in cols})
    )
