"""SQL functions PostgreSQL and SQLite spell differently, compiled per dialect, so set-based statements are written
once. SQLite gets two small Python functions registered on every connection (``register_sqlite``, called by
hotline/db/engine.py): it has no time-zone conversion.

- ``least(a, b, …)``: the smallest non-NULL argument (NULL when all are);
- ``local_minute(utc, zone)``: ``'YYYY-MM-DD HH:MM'`` of a naive-UTC column in the named IANA zone;
- ``utc_iso(utc)``: ``datetime.isoformat()`` of that UTC instant (``…T…+00:00``, microseconds only when not zero);
- ``json_object(key, value, …)``: a JSON object (PostgreSQL: jsonb).
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from hotline.models.types import JSONType, UTCDateTime


class least(FunctionElement):
    """LEAST(a, b, …) ignoring NULLs (NULL when all are): PostgreSQL's LEAST; SQLite's scalar MIN() over
    COALESCEd values (it would return NULL as soon as one argument is NULL)."""

    name = "least"
    type = UTCDateTime()
    inherit_cache = True


@compiles(least)
def _least(element, compiler, **kw):
    return f"LEAST({compiler.process(element.clauses, **kw)})"


@compiles(least, "sqlite")
def _least_sqlite(element, compiler, **kw):
    never = "'9999-12-31 23:59:59.999999'"  # SQLite stores datetimes as sortable text
    args = ", ".join(f"COALESCE({compiler.process(c, **kw)}, {never})" for c in element.clauses)
    return f"NULLIF(MIN({args}), {never})"


class local_minute(FunctionElement):
    name = "local_minute"
    type = sa.String()
    inherit_cache = True


@compiles(local_minute)
def _local_minute(element, compiler, **kw):
    utc, zone = (compiler.process(c, **kw) for c in element.clauses)
    return f"to_char(({utc} AT TIME ZONE 'UTC') AT TIME ZONE {zone}, 'YYYY-MM-DD HH24:MI')"


@compiles(local_minute, "sqlite")
def _local_minute_sqlite(element, compiler, **kw):
    return f"hotline_local_minute({compiler.process(element.clauses, **kw)})"


class utc_iso(FunctionElement):
    name = "utc_iso"
    type = sa.String()
    inherit_cache = True


@compiles(utc_iso)
def _utc_iso(element, compiler, **kw):
    utc = compiler.process(element.clauses, **kw)
    return (
        f"(to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE WHEN to_char({utc}, 'US') = '000000' "
        f"THEN '' ELSE to_char({utc}, '.US') END || '+00:00')"
    )


@compiles(utc_iso, "sqlite")
def _utc_iso_sqlite(element, compiler, **kw):
    return f"hotline_utc_iso({compiler.process(element.clauses, **kw)})"


class json_object(FunctionElement):
    name = "json_object"
    type = JSONType
    inherit_cache = True


@compiles(json_object)
def _json_object(element, compiler, **kw):
    return f"jsonb_build_object({compiler.process(element.clauses, **kw)})"


@compiles(json_object, "sqlite")
def _json_object_sqlite(element, compiler, **kw):
    return f"json_object({compiler.process(element.clauses, **kw)})"


def _stored(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value).replace(tzinfo=UTC)


def _sqlite_local_minute(value: str | None, zone: str) -> str | None:
    moment = _stored(value)
    return None if moment is None else moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def _sqlite_utc_iso(value: str | None) -> str | None:
    moment = _stored(value)
    return None if moment is None else moment.isoformat()


def register_sqlite(dbapi_connection) -> None:
    dbapi_connection.create_function("hotline_local_minute", 2, _sqlite_local_minute, deterministic=True)
    dbapi_connection.create_function("hotline_utc_iso", 1, _sqlite_utc_iso, deterministic=True)
