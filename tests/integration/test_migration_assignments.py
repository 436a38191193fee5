"""Migration 6b2d1f3a8c42 on a database that already holds duplicate live assignments (left by concurrent 协办派单
before it): the most advanced one of each group is kept, the others are cancelled with their SLA timers stopped
and a timeline event each; afterwards the partial unique index refuses a new duplicate and allows a new task
after a returned one."""

from __future__ import annotations

import sqlite3

import pytest

from tests.integration.test_migrations import flask

BEFORE = "5a1c0e2f7b31"
T = "'2026-12-01 08:00:00'"


def _insert_case(db) -> None:
    for id_, code in ((7001, "MIGA"), (7002, "MIGB")):
        db.execute(
            "INSERT INTO departments (id, code, name, kind, parent_id, path, active) VALUES "
            f"({id_}, '{code}', '迁移测试单位{code}', 'department', NULL, '/{code}', 1)"
        )
    db.execute(f"INSERT INTO citizens (id, name_enc, tags, created_at, updated_at) VALUES (9001, NULL, '[]', {T}, {T})")
    db.execute(
        "INSERT INTO citizen_phones (id, citizen_id, phone_hash, phone_enc, masked, kind, created_at) VALUES "
        f"(9001, 9001, 'h9001', 'x:y', '138****0000', 'mobile', {T})"
    )
    db.execute(
        "INSERT INTO cases (id, number, kind, channel, urgency, status, title, content, address, citizen_id, "
        "phone_id, confidential, complex, created_at, updated_at, version) VALUES (9001, 'GD20261201-000001', "
        f"'consult', 'phone', 'normal', 'handling', '旧工单', '升级前的工单', '', 9001, 9001, 0, 0, {T}, {T}, 3)"
    )


def _assignment(db, id_: int, department: int, role: str, status: str, contacted: bool = False) -> None:
    db.execute(
        "INSERT INTO assignments (id, case_id, department_id, role, status, assigned_at, contacted_at, "
        f"extensions_used) VALUES ({id_}, 9001, {department}, '{role}', '{status}', {T}, "
        f"{T if contacted else 'NULL'}, 0)"
    )
    db.execute(f"INSERT INTO sla_timers (assignment_id, next_card_at) VALUES ({id_}, '2026-12-02 08:00:00')")


def test_duplicate_live_assignments_are_cancelled_and_the_index_holds(tmp_path):
    instance = tmp_path / "instance"
    flask(instance, "db", "upgrade", BEFORE)
    db = sqlite3.connect(instance / "hotline.db")
    _insert_case(db)
    _assignment(db, 9001, 7001, "lead", "signed")  # the lead, alone: untouched
    _assignment(db, 9002, 7002, "assist", "pending")  # four assists of one unit (the race of issue 15) ...
    _assignment(db, 9003, 7002, "assist", "signed", contacted=True)  # ... this one is the most advanced
    _assignment(db, 9004, 7002, "assist", "pending")
    _assignment(db, 9005, 7002, "assist", "returned")  # not live: untouched
    _assignment(db, 9006, 7001, "assist", "pending")  # the lead's unit also assisting: another role, untouched
    db.commit()
    db.close()

    out = flask(instance, "db", "upgrade")
    assert "2 duplicate live assignment(s) cancelled" in out
    db = sqlite3.connect(instance / "hotline.db")
    statuses = dict(db.execute("SELECT id, status FROM assignments WHERE case_id = 9001"))
    assert statuses == {9001: "signed", 9002: "cancelled", 9003: "signed", 9004: "cancelled", 9005: "returned"} | {
        9006: "pending"
    }
    timers = dict(db.execute("SELECT assignment_id, next_card_at IS NOT NULL FROM sla_timers"))
    assert timers == {9001: 1, 9002: 0, 9003: 1, 9004: 0, 9005: 1, 9006: 1}
    logged = db.execute(
        "SELECT action, from_status, to_status, department_id, note FROM case_events WHERE case_id = 9001"
    ).fetchall()
    assert [row[:4] for row in logged] == [("cancel_duplicate", "handling", "handling", 7002)] * 2
    assert all("保留任务 #9003" in row[4] for row in logged)
    with pytest.raises(sqlite3.IntegrityError):
        db.execute(
            "INSERT INTO assignments (case_id, department_id, role, status, assigned_at, extensions_used) "
            f"VALUES (9001, 7002, 'assist', 'pending', {T}, 0)"
        )
    # after the unit's live task is returned, a new one for the same unit and role is allowed
    db.execute("UPDATE assignments SET status = 'returned' WHERE id = 9003")
    db.execute(
        "INSERT INTO assignments (case_id, department_id, role, status, assigned_at, extensions_used) "
        f"VALUES (9001, 7002, 'assist', 'pending', {T}, 0)"
    )
    assert db.execute("SELECT count(*) FROM idempotency_keys").fetchone() == (0,)
    db.close()
    flask(instance, "db", "downgrade", BEFORE)  # and back: index and table dropped
    db = sqlite3.connect(instance / "hotline.db")
    names = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    assert "ux_assignments_live" not in names and "idempotency_keys" not in names
    db.close()
