"""Rating links belong to the citizen: the database keeps only the SHA-256 of a link token, staff see that an
invitation went out but never its link (GET /outbox, the case pages), and a staff login — session or bearer
token — cannot rate with it (403, in Chinese). The migration turns the clear nonces of links already sent into
hashes in place, and those links keep working."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys

import sqlalchemy as sa

from hotline.config import ROOT
from tests.integration import portal_support
from tests.integration.ratings_support import sent_messages

BEFORE = "c13e4f5a6b73"  # the revision before migrations/versions/20261207_d24f5a6b7c84_rating_tokens_challenges.py


def _invitation_token(app, number: str) -> str:
    [message] = [m for m in sent_messages(app, number) if m.get("kind") == "rating_invitation"]
    assert message["url"] in message["text"]  # the citizen's SMS carries the link
    return message["url"].rsplit("/r/", 1)[1]


def test_the_invitation_row_holds_only_the_hash_of_the_token(app, make_case):
    from hotline.extensions import db
    from hotline.models import Case, RatingInvitation

    number = make_case("replied").number
    token = _invitation_token(app, number)
    nonce = token.split(".")[0]
    with app.app_context():
        case_id = db.session.scalar(sa.select(Case.id).where(Case.number == number))
        row = db.session.execute(
            sa.select(RatingInvitation.__table__).where(RatingInvitation.__table__.c.case_id == case_id)
        ).one()
    stored = " ".join(str(v) for v in row._mapping.values())
    assert row._mapping["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert nonce not in stored and token not in stored  # nothing that rebuilds the link with the app secret


def test_staff_see_that_an_invitation_was_sent_but_never_the_link(app, api, make_case):
    number = make_case("replied").number
    token = _invitation_token(app, number)
    nonce = token.split(".")[0]
    for username in ("supervisor1", "admin"):
        resp = api(username).get(f"/outbox?case={number}")
        assert resp.status_code == 200
        body = resp.get_data(as_text=True)
        assert nonce not in body and token not in body, username
        [invite] = [m for m in resp.get_json()["items"] if m["kind"] == "rating_invitation"]
        assert invite["link_masked"] is True and "/r/" in invite["text"] and "仅发送给市民" in invite["text"]
        assert invite["status"] in ("pending", "sending", "sent")
    for username in ("supervisor1", "admin", "agent1", "handler_zjj"):  # the case page, its timeline included
        client = api(username)
        page = client.client.get(f"/cases/{number}", headers=client._headers())
        assert page.status_code == 200, username
        assert nonce not in page.get_data(as_text=True), username
        detail = client.get(f"/cases/{number}").get_data(as_text=True)
        assert nonce not in detail, username


def _staff_session(app, username: str, ip: str):
    client = app.test_client()
    csrf = portal_support.hidden(client.get("/login").get_data(as_text=True), "csrf_token")
    login = client.post(
        "/login",
        data={"username": username, "password": "hotline12345", "csrf_token": csrf},
        environ_base={"REMOTE_ADDR": ip},
    )
    assert login.status_code == 302, login.get_data(as_text=True)[:300]
    return client


def test_a_staff_login_cannot_rate_only_the_citizens_link_can(app, api, make_case):
    number = make_case("replied").number
    token = _invitation_token(app, number)
    body = {"token": token, "score": 5, "resolved": True}

    for username in ("supervisor1", "admin", "agent1", "handler_zjj"):  # bearer tokens
        resp = api(username).post("/ratings", json=body)
        assert resp.status_code == 403, (username, resp.get_json())
        error = resp.get_json()["error"]
        assert error["code"] == "staff_cannot_rate" and "工作人员不能代替市民" in error["message"]

    staff = _staff_session(app, "supervisor1", "10.16.0.1")  # a browser logged in as staff
    assert staff.post("/api/v1/ratings", json=body).status_code == 403
    page = staff.get(f"/r/{token}")
    assert page.status_code == 403 and "工作人员不能代替市民" in page.get_data(as_text=True)
    csrf = portal_support.csrf_of(staff, "/portal/status")
    form = staff.post(f"/r/{token}", data={"score": "5", "resolved": "yes", "csrf_token": csrf})
    assert form.status_code == 403

    citizen = app.test_client()  # the citizen's own phone: no login
    resp = citizen.post("/api/v1/ratings", json={**body, "score": 4})
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["rating"]["score"] == 4  # the staff attempts stored nothing


# --- the migration: clear nonces become hashes in place, links already sent keep working -------------------------

SECRET = "migration-test-secret-key"
RESOLVE = """
import sys
from datetime import UTC, datetime
from wsgi import app
from hotline.ratings import service
with app.app_context():
    print("invitation", service.invitation_for_token(sys.argv[1], datetime.now(UTC)).id)
"""


def _env(instance) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL") and not k.startswith("FLASK_")}
    env.update(HOTLINE_INSTANCE=str(instance), HOTLINE_SECRET_KEY=SECRET)
    return env


def _run(instance, *args) -> str:
    out = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=_env(instance), capture_output=True, text=True, timeout=180
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def _flask(instance, *args) -> str:
    return _run(instance, "-m", "flask", "--app", "wsgi", *args)


def test_migration_hashes_clear_tokens_in_place_and_old_links_keep_working(tmp_path):
    from hotline.ratings.tokens import mac_for

    instance = tmp_path / "instance"
    _flask(instance, "db", "upgrade", BEFORE)
    t = "'2026-12-01 08:00:00'"
    db = sqlite3.connect(instance / "hotline.db")
    db.execute(f"INSERT INTO citizens (id, name_enc, tags, created_at, updated_at) VALUES (9001, NULL, '[]', {t}, {t})")
    db.execute(
        "INSERT INTO citizen_phones (id, citizen_id, phone_hash, phone_enc, masked, kind, created_at) VALUES "
        f"(9001, 9001, 'h9001', 'x:y', '138****0000', 'mobile', {t})"
    )
    db.execute(
        "INSERT INTO cases (id, number, kind, channel, urgency, status, title, content, address, citizen_id, "
        "phone_id, confidential, complex, created_at, updated_at, version) VALUES (9001, 'GD20261201-000001', "
        f"'consult', 'phone', 'normal', 'replied', '旧工单', '升级前的工单', '', 9001, 9001, 0, 0, {t}, {t}, 3)"
    )
    nonces = ["oldNonceAAAAAAAAAAAAAA", "oldNonceBBBBBBBBBBBBBB"]
    for i, nonce in enumerate(nonces):
        db.execute(
            "INSERT INTO rating_invitations (id, case_id, citizen_id, phone_id, channel, purpose, nonce, expires_at, "
            f"created_at) VALUES ({9001 + i}, 9001, 9001, 9001, 'sms', 'reply', '{nonce}', '2099-01-01 00:00:00', {t})"
        )
    db.commit()
    db.close()

    _flask(instance, "db", "upgrade")
    db = sqlite3.connect(instance / "hotline.db")
    columns = [r[1] for r in db.execute("PRAGMA table_info(rating_invitations)")]
    rows = dict(db.execute("SELECT id, token_hash FROM rating_invitations").fetchall())
    dump = json.dumps(db.execute("SELECT * FROM rating_invitations").fetchall())
    db.close()
    assert "nonce" not in columns and "token_hash" in columns
    tokens = [f"{n}.{mac_for(SECRET, n)}" for n in nonces]
    assert rows == {9001 + i: hashlib.sha256(tok.encode()).hexdigest() for i, tok in enumerate(tokens)}
    assert not any(n in dump for n in nonces)
    # the link sent before the upgrade still finds its invitation
    assert "invitation 9002" in _run(instance, "-c", RESOLVE, tokens[1])

    _flask(instance, "db", "downgrade", BEFORE)  # and back: the schema returns (old links cannot)
    db = sqlite3.connect(instance / "hotline.db")
    assert "nonce" in [r[1] for r in db.execute("PRAGMA table_info(rating_invitations)")]
    db.close()
    _flask(instance, "db", "upgrade")
