"""Engine tuning: SQLite gets WAL, a busy timeout, foreign keys, BEGIN IMMEDIATE transactions
(so concurrent writers queue instead of failing on a lock upgrade; a read-only transaction can ask for a
plain BEGIN) and the functions of hotline/db/sqlfuncs.py."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Engine

from hotline.db import sqlfuncs

_configured: set[int] = set()
READ_ONLY = "hotline_sqlite_read_only"  # execution option: ``session.connection(execution_options={READ_ONLY: True})``


def configure_engine(engine: Engine) -> None:
    if engine.dialect.name != "sqlite" or id(engine) in _configured:
        return
    _configured.add(id(engine))

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()
        sqlfuncs.register_sqlite(dbapi_conn)

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # a transaction opened for reads only (READ_ONLY) takes no write lock: with WAL it neither waits for
        # nor blocks the writers; it must not write (SQLite would refuse the lock upgrade while busy)
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")
