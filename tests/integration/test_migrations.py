"""An existing database (first schema, with data) upgrades to the current schema without losing rows."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

from hotline.config import ROOT

FIRST = "1968879a15ba"


def flask(instance, *args):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["HOTLINE_INSTANCE"] = str(instance)
    out = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def test_upgrade_from_first_revision_keeps_data(tmp_path):
    instance = tmp_path / "instance"
    flask(instance, "db", "upgrade", FIRST)
    db = sqlite3.connect(instance / "hotline.db")
    db.execute(
        "INSERT INTO citizens (id, name_enc, tags, created_at, updated_at) VALUES "
        "(9001, NULL, '[]', '2026-01-05 08:00:00', '2026-01-05 08:00:00')"
    )
    db.execute(
        "INSERT INTO citizen_phones (id, citizen_id, phone_hash, phone_enc, masked, kind, created_at) VALUES "
        "(9001, 9001, 'h9001', 'x:y', '138****0000', 'mobile', '2026-01-05 08:00:00')"
    )
    db.execute(
        "INSERT INTO cases (id, number, kind, channel, urgency, status, title, content, address, citizen_id, "
        "phone_id, confidential, complex, created_at, updated_at, version) VALUES (9001, 'GD20260105-000001', "
        "'consult', 'phone', 'normal', 'registered', '旧工单', '升级前的工单', '', 9001, 9001, 0, 0, "
        "'2026-01-05 08:00:00', '2026-01-05 08:00:00', 1)"
    )
    db.execute(
        "INSERT INTO calls (id, call_id, status, callee, created_at) VALUES "
        "(9001, 'old-call', 'ended', '12345', '2026-01-05 08:00:00')"
    )
    db.commit()
    db.close()

    flask(instance, "db", "upgrade")
    assert "(head)" in flask(instance, "db", "current")
    flask(instance, "seed", "--demo")  # the upgraded database takes today's code
    db = sqlite3.connect(instance / "hotline.db")
    assert db.execute("SELECT number, title FROM cases WHERE id = 9001").fetchone() == ("GD20260105-000001", "旧工单")
    assert db.execute("SELECT seen_events FROM calls WHERE call_id = 'old-call'").fetchone() == ("[]",)
    assert db.execute("SELECT count(*) FROM departments").fetchone()[0] > 60
    db.close()
