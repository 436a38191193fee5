"""Insert one new ORM object with a single Core ``INSERT … RETURNING`` and attach it to the session as if it
had just been loaded — no unit-of-work flush.

The intake path (a new case, its caller's file) writes a few rows per request at thousands of requests a
minute; the ORM's unit of work (dependency sorting, history, post-fetch, version bookkeeping) costs several
times the statement itself. ``insert_loaded`` builds the row from the object's column attributes and the
columns' Python defaults, executes it in the session's transaction, and then marks every column as loaded,
so later reads need no SQL and later changes are ordinary ORM updates (``version_id_col`` starts at the
inserted value). Many-to-one relationships are passed as keywords: their foreign keys are taken from them
and they are set as loaded values; collections likewise (``events=[]``: nothing to lazy-load).
"""
from __future__ import annotations

from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from hotline.extensions import db

_NOTHING = object()


def _default(column: sa.Column):
    default = column.default
    if default is None:
        return None
    if default.is_callable:
        return default.arg(None)  # SQLAlchemy wraps zero-argument callables to take the execution context
    if default.is_scalar:
        return default.arg
    raise ValueError(f"{column} has a SQL default; give a value")


def insert_loaded(obj, *, on_conflict: list[str] | None = None, **related):
    """INSERT ``obj`` (a new, transient instance), attach it and return it; with ``on_conflict`` (unique
    columns) the INSERT does nothing on a conflict and ``None`` is returned (``obj`` stays unsaved)."""
    mapper = sa.inspect(type(obj))
    state = obj.__dict__
    related = {name: _unproxied(value) for name, value in related.items()}
    for name, value in related.items():
        prop = mapper.relationships[name]
        if prop.direction.name == "MANYTOONE":
            for local, remote in prop.local_remote_pairs:
                state[mapper.get_property_by_column(local).key] = \
                    None if value is None else getattr(value, mapper_key(value, remote))
    values, pk = {}, None
    for prop in mapper.column_attrs:
        column = prop.columns[0]
        if column.primary_key and state.get(prop.key) is None:
            pk = (prop.key, column)
            continue
        value = state.get(prop.key, _NOTHING)
        values[column.key] = _default(column) if value is _NOTHING else value
    stmt = _statement(mapper.local_table, tuple(on_conflict or ()), pk[1] if pk else None,
                      db.session.get_bind().dialect.name)
    result = db.session.execute(stmt, values)
    if pk is not None:
        new_id = result.scalar()
        if new_id is None:
            return None
        values[pk[1].key] = new_id
    elif result.rowcount == 0:
        return None
    for prop in mapper.column_attrs:
        set_committed_value(obj, prop.key, values[prop.columns[0].key])
    for name, value in related.items():
        set_committed_value(obj, name, value)
    make_transient_to_detached(obj)
    db.session.add(obj)
    return obj


@lru_cache(maxsize=64)
def _statement(table: sa.Table, on_conflict: tuple[str, ...], returning: sa.Column | None, dialect: str):
    """One statement object per table and shape, values as parameters: SQLAlchemy compiles it once."""
    module = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(table).on_conflict_do_nothing(index_elements=list(on_conflict)) if on_conflict \
        else sa.insert(table)
    return stmt.returning(returning) if returning is not None else stmt


def _unproxied(value):
    """The object behind a context-local proxy (``flask_login.current_user``), so the ORM holds the real one."""
    getter = getattr(value, "_get_current_object", None)
    return getter() if getter is not None else value


def mapper_key(obj, column: sa.Column) -> str:
    """The attribute of ``obj`` mapped to ``column`` (a foreign key's remote side)."""
    return sa.inspect(type(obj)).get_property_by_column(column).key
