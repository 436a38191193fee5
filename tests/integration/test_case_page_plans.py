"""Every statement the case page (/cases/NUMBER, HTML) issues is planned without a full scan of a growing table.

The statements are captured from the engine while a department handler, a dispatcher and an agent open a case
page (a plain case and a merged master with a merged case), then each one is EXPLAINed with its own parameters:
SQLite ``EXPLAIN QUERY PLAN`` (a ``SCAN table`` line is a full scan), PostgreSQL ``EXPLAIN`` with
``enable_seqscan = off`` (so a ``Seq Scan`` is left only where no index can serve). Reference tables that stay
small (units, categories, users, …) may be scanned.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from tests.integration.test_pages import Browser

# tables whose size does not grow with the cases: scanning them is fine
SMALL = {
    "departments",
    "categories",
    "users",
    "places",
    "sla_policies",
    "holidays",
    "routing_rules",
    "key_fingerprints",
    "routing_model_files",
    "kb_index_state",
    "category_map_versions",
}


def capture(app, run) -> list[tuple[str, object]]:
    from hotline.extensions import db

    seen: list[tuple[str, object]] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        head = statement.lstrip().split(None, 1)[0].upper()
        if not executemany and head in ("SELECT", "WITH", "UPDATE", "DELETE"):
            seen.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        run()
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)
    return seen


def full_scans(app, statements) -> list[str]:
    from hotline.extensions import db

    problems = []
    with app.app_context():
        raw = db.engine.raw_connection()
        try:
            cur = raw.cursor()
            postgres = db.engine.dialect.name == "postgresql"
            if postgres:
                cur.execute("SET enable_seqscan = off")
            for statement, params in statements:
                cur.execute(("EXPLAIN " if postgres else "EXPLAIN QUERY PLAN ") + statement, params)
                plan = [str(row[0] if postgres else row[3]) for row in cur.fetchall()]
                for line in plan:
                    match = re.search(r"Seq Scan on (\w+)", line) if postgres else re.match(r"\s*SCAN (\w+)\b", line)
                    if match and match.group(1) not in SMALL:
                        problems.append(f"{match.group(1)}: {line.strip()}\n    in {statement[:300]}")
        finally:
            raw.rollback()
            raw.close()
    return problems


@pytest.mark.parametrize("username", ["handler_zjj", "dispatcher1", "agent1"])
def test_case_page_statements_use_indexes(app, make_case, username):
    from hotline.cases import operations as ops
    from hotline.extensions import db
    from hotline.models import Case, User

    master = make_case("handling", unit="ZJJ")
    merged = make_case("registered")
    with app.app_context():
        dispatcher = db.session.scalar(sa.select(User).where(User.username == "dispatcher1"))
        ops.merge(db.session.get(Case, merged.id), db.session.get(Case, master.id), dispatcher, master.created_at)
        db.session.commit()
    page = Browser(app, username)

    def open_pages():
        for number in (master.number, merged.number):
            resp = page.get(f"/cases/{number}")
            assert resp.status_code in (200, 403, 404), resp.status_code

    statements = capture(app, open_pages)
    assert any("FROM cases" in s for s, _ in statements), "the case page issued no statement on cases"
    problems = full_scans(app, statements)
    assert not problems, "full scans on the case page:\n" + "\n".join(problems)
