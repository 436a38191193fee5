"""Insert one new ORM object with a single Core ``INSERT … RETURNING`` and attach it to the session as if it
had just been loaded — no unit-of-work flush (and ``attached``: a row read with Core, as a loaded instance).

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


def _prepare(obj, related: dict) -> tuple[sa.Mapper, dict, tuple | None, dict]:
    """(mapper, column values with defaults, (pk attribute, pk column) when the database assigns it, related)."""
    mapper = sa.inspect(type(obj))
    state = obj.__dict__
    related = {name: _unproxied(value) for name, value in related.items()}
    for name, value in related.items():
        prop = mapper.relationships[name]
        if prop.direction.name == "MANYTOONE":
            for local, remote in prop.local_remote_pairs:
                state[mapper.get_property_by_column(local).key] = (
                    None if value is None else getattr(value, mapper_key(value, remote))
                )
    values, pk = {}, None
    for prop in mapper.column_attrs:
        column = prop.columns[0]
        if column.primary_key and state.get(prop.key) is None:
            pk = (prop.key, column)
            continue
        value = state.get(prop.key, _NOTHING)
        # like the ORM's flush: an attribute left as None is omitted, so the column's default applies
        unset = value is _NOTHING or (
            value is None and column.default is not None and not column.type.should_evaluate_none
        )
        values[column.key] = _default(column) if unset else value
    return mapper, values, pk, related


def _attach(obj, mapper, values: dict, related: dict):
    for prop in mapper.column_attrs:
        set_committed_value(obj, prop.key, values[prop.columns[0].key])
    for name, value in related.items():
        set_committed_value(obj, name, value)
    make_transient_to_detached(obj)
    db.session.add(obj)
    return obj


def insert_loaded(obj, *, on_conflict: list[str] | None = None, **related):
    """INSERT ``obj`` (a new, transient instance), attach it and return it; with ``on_conflict`` (unique
    columns) the INSERT does nothing on a conflict and ``None`` is returned (``obj`` stays unsaved)."""
    mapper, values, pk, related = _prepare(obj, related)
    stmt = _statement(
        mapper.local_table, tuple(on_conflict or ()), pk[1] if pk else None, db.session.get_bind().dialect.name
    )
    result = db.session.execute(stmt, values)
    if pk is not None:
        new_id = result.scalar()
        if new_id is None:
            return None
        values[pk[1].key] = new_id
    elif result.rowcount == 0:
        return None
    return _attach(obj, mapper, values, related)


def insert_loaded_pair(
    parent, child, link: str, *, parent_related: dict, child_related: dict, child_on_conflict: list[str] | None = None
):
    """A new row and a new row referring to it (``child``'s many-to-one ``link`` is ``parent``), both attached
    like ``insert_loaded``. PostgreSQL writes both in ONE statement (the parent's INSERT as a CTE); elsewhere
    two. Returns (parent, child) — child None when ``child_on_conflict`` refused it (the parent is written
    anyway: the caller decides what to do with it)."""
    if db.session.get_bind().dialect.name != "postgresql":
        parent = insert_loaded(parent, **parent_related)
        return parent, insert_loaded(child, on_conflict=child_on_conflict, **child_related, **{link: parent})
    p_mapper, p_values, p_pk, parent_related = _prepare(parent, parent_related)
    c_mapper, c_values, c_pk, child_related = _prepare(child, child_related)
    prop = c_mapper.relationships[link]
    ((fk, _remote),) = prop.local_remote_pairs
    c_values.pop(fk.key, None)
    stmt = _pair_statement(
        p_mapper.local_table,
        tuple(p_values),
        c_mapper.local_table,
        tuple(c_values),
        fk.key,
        tuple(child_on_conflict or ()),
    )
    params = {**{f"p_{k}": v for k, v in p_values.items()}, **{f"c_{k}": v for k, v in c_values.items()}}
    parent_id, child_id = db.session.execute(stmt, params).one()
    p_values[p_pk[1].key] = parent_id
    parent = _attach(parent, p_mapper, p_values, parent_related)
    if child_id is None:
        return parent, None
    c_values.update({c_pk[1].key: child_id, fk.key: parent_id})
    return parent, _attach(child, c_mapper, c_values, {**child_related, link: parent})


@lru_cache(maxsize=16)
def _pair_statement(
    parent: sa.Table,
    p_cols: tuple[str, ...],
    child: sa.Table,
    c_cols: tuple[str, ...],
    fk: str,
    on_conflict: tuple[str, ...],
):
    """WITH p AS (INSERT INTO parent … RETURNING id), c AS (INSERT INTO child (fk, …) SELECT p.id, … FROM p
    [ON CONFLICT DO NOTHING] RETURNING id) SELECT (SELECT id FROM p), (SELECT id FROM c)."""
    p_pk, c_pk = parent.primary_key.columns.values()[0], child.primary_key.columns.values()[0]
    p = (
        postgresql.insert(parent)
        .values({k: sa.bindparam(f"p_{k}", type_=parent.c[k].type) for k in p_cols})
        .returning(p_pk)
        .cte("parent_row")
    )
    source = sa.select(
        p.c[p_pk.key], *(sa.cast(sa.bindparam(f"c_{k}", type_=child.c[k].type), child.c[k].type) for k in c_cols)
    )
    c = postgresql.insert(child).from_select([fk, *c_cols], source)
    if on_conflict:
        c = c.on_conflict_do_nothing(index_elements=list(on_conflict))
    c = c.returning(child.c[c_pk.key]).cte("child_row")
    return sa.select(sa.select(p.c[p_pk.key]).scalar_subquery(), sa.select(c.c[c_pk.key]).scalar_subquery())


@lru_cache(maxsize=64)
def _statement(table: sa.Table, on_conflict: tuple[str, ...], returning: sa.Column | None, dialect: str):
    """One statement object per table and shape, values as parameters: SQLAlchemy compiles it once."""
    module = postgresql if dialect == "postgresql" else sqlite
    stmt = (
        module.insert(table).on_conflict_do_nothing(index_elements=list(on_conflict))
        if on_conflict
        else sa.insert(table)
    )
    return stmt.returning(returning) if returning is not None else stmt


def detached(cls, columns: dict):
    """An instance of ``cls`` with these column values loaded, in no session (relationships lazy)."""
    obj = cls()
    for key, value in columns.items():
        set_committed_value(obj, key, value)
    make_transient_to_detached(obj)
    return obj


def labelled(table: sa.Table, prefix: str) -> list:
    """``table``'s columns labelled ``prefix`` + name: several tables' rows in one Core select, split again by
    ``unprefixed``."""
    return [c.label(f"{prefix}{c.key}") for c in table.c]


def unprefixed(row, prefix: str) -> dict:
    """The values of a ``labelled`` row that carry ``prefix``, by column name."""
    return {k[len(prefix) :]: v for k, v in row.items() if k.startswith(prefix)}


def attached(cls, columns: dict, **related):
    """A row read with Core, as a loaded instance of ``cls`` in the session — the ORM's loading machinery is
    several times the cost of the query on the hottest paths. The session's own instance when it holds one."""
    obj = detached(cls, columns)
    for name, value in related.items():
        set_committed_value(obj, name, value)
    existing = db.session.identity_map.get(sa.inspect(obj).key)
    if existing is not None:
        return existing
    db.session.add(obj)
    return obj


def _unproxied(value):
    """The object behind a context-local proxy (``flask_login.current_user``), so the ORM holds the real one."""
    getter = getattr(value, "_get_current_object", None)
    return getter() if getter is not None else value


def mapper_key(obj, column: sa.Column) -> str:
    """The attribute of ``obj`` mapped to ``column`` (a foreign key's remote side)."""
    return sa.inspect(type(obj)).get_property_by_column(column).key
