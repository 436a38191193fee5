"""Small dialect helpers shared by SQLite and PostgreSQL code paths."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite

from hotline.extensions import db


def insert_ignore(table, conflict_columns: list[str]):
    """``INSERT … ON CONFLICT (cols) DO NOTHING`` for the session's dialect (a Table or an ORM class)."""
    dialect = db.session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table).on_conflict_do_nothing(index_elements=conflict_columns)


def is_postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def read_only(view):
    """View decorator: the request only reads, so on PostgreSQL its statements run outside a transaction
    block (``autocommit_reads``) from the first one on — including the authentication hook's load of the
    token's user, which runs before the view (hotline/auth/permissions.py calls ``autocommit_reads`` then)."""
    view._read_only = True
    return view


def autocommit_reads() -> None:
    """For a read-only request on PostgreSQL: run its statements outside a transaction block.

    Saves two round trips per request (BEGIN before the first statement, ROLLBACK when the session
    closes). Call it before the request's first statement (before ``current_user`` is loaded) and only in
    views that never write: with AUTOCOMMIT each statement commits on its own. A no-op on SQLite (its
    engine hook opens every transaction with BEGIN IMMEDIATE) and once the session's transaction has begun.
    """
    if db.session().in_transaction() or not is_postgres():
        return
    db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
