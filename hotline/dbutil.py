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
