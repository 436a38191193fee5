"""Engine tuning: SQLite gets WAL, a busy timeout, foreign keys, BEGIN IMMEDIATE transactions
(so concurrent writers queue instead of failing on a lock upgrade) and the functions of hotline/sqlfuncs.py."""
from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Engine

from hotline import sqlfuncs

_configured: set[int] = set()


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
        conn.exec_driver_sql("BEGIN IMMEDIATE")
