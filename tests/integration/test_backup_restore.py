"""The backup and restore of docs/operations.md, done: a citizen file with an encrypted phone and name is written on
PostgreSQL, `pg_dump -Fc` backs the database up, `pg_restore` loads it into a new database, and an app on a NEW
instance folder with the same keys from the environment finds the file by number (blind index) and decrypts the
name. The same restore with a wrong data key fails clearly: no start in production mode, `keys check` names the
key, and the API answers 503 `data_key_mismatch` — never a 500 with a trace.

Uses its own databases h15_keys_src / h15_keys_dst on postgresql://postgres@127.0.0.1:5432 (dropped at the end),
independent of DATABASE_URL; skipped without the PostgreSQL client tools or server."""

from __future__ import annotations

import secrets
import shutil
import subprocess

import pytest
import sqlalchemy as sa

from tests.helpers import ApiClient

PG = ("-h", "127.0.0.1", "-p", "5432", "-U", "postgres")
SERVER = "postgresql://postgres@127.0.0.1:5432/"
SRC, DST = "h15_keys_src", "h15_keys_dst"
TOOLS = ("pg_dump", "pg_restore", "createdb", "dropdb")
KEYS = ("secret_key", "data_key", "index_key", "cti_secret", "sms_secret")


def _run(*args: str) -> None:
    out = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, f"{' '.join(args)}: {out.stderr[-2000:]}"


@pytest.fixture(scope="module")
def databases():
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"PostgreSQL client tools missing: {', '.join(missing)} (apt-get install postgresql-client)")
    engine = sa.create_engine(
        "postgresql+psycopg://postgres@127.0.0.1:5432/postgres", connect_args={"connect_timeout": 3}
    )
    try:
        with engine.connect():
            pass
    except sa.exc.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable on 127.0.0.1:5432: {exc.orig}")
    finally:
        engine.dispose()
    for name in (SRC, DST):
        _run("dropdb", *PG, "--if-exists", "--force", name)
        _run("createdb", *PG, name)
    yield SERVER + SRC, SERVER + DST
    for name in (SRC, DST):
        _run("dropdb", *PG, "--if-exists", "--force", name)


def start(app, instance, database_url: str, keys: dict[str, str], production: bool = False):
    from hotline import cli, create_app
    from hotline.config import Settings
    from hotline.extensions import redis_url_for

    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url_for(app.config["HOTLINE"]),
        "HOTLINE_INSTANCE": str(instance),
        "HOTLINE_TESTING": "1",
        **{"HOTLINE_" + name.upper(): value for name, value in keys.items()},
    }
    if production:
        env["HOTLINE_ENV"] = "production"
    host = create_app(Settings.from_env(env))
    cli.register(host)
    return host


def seed_citizen(host, phone: str, name: str) -> str:
    """The citizen file through the real operation (get_or_create), and an agent with an API token."""
    from hotline.auth.tokens import create_token
    from hotline.citizens.phones import normalize
    from hotline.citizens.profile import get_or_create
    from hotline.extensions import db
    from hotline.models import User

    with host.app_context():
        get_or_create(normalize(phone), name)
        user = User(username="restore_agent", name="备份测试", role="agent", password_hash="!")
        db.session.add(user)
        token = create_token(user)
        db.session.commit()
    return token


def test_backup_restore_reads_the_encrypted_file(app, databases, tmp_path, phone):
    from flask_migrate import upgrade

    from hotline.citizens import keyset
    from hotline.citizens.profile import citizen_name, find_phone
    from hotline.extensions import db

    src_url, dst_url = databases
    keys = {name: secrets.token_urlsafe(32) for name in KEYS}
    source = start(app, tmp_path / "source", src_url, keys)
    with source.app_context():
        upgrade()
    assert source.test_cli_runner().invoke(args=["keys", "check"]).exit_code == 0  # records the fingerprints
    token = seed_citizen(source, phone, "上官婉儿")
    with source.app_context():
        stored = db.session.execute(sa.text("SELECT name_enc FROM citizens")).scalar_one()
        assert "婉儿" not in stored  # encrypted at rest
        db.engine.dispose()

    # backup: the database (custom format) — the key set is kept apart, here `keys`
    dump = tmp_path / "hotline.dump"
    _run("pg_dump", *PG, "-Fc", "--no-owner", "-f", str(dump), SRC)
    # restore onto a fresh host: a new database, a new instance folder, the keys from the environment
    _run("pg_restore", *PG, "--no-owner", "--exit-on-error", "-d", DST, str(dump))
    restored = start(app, tmp_path / "fresh-host", dst_url, keys, production=True)
    assert set(restored.config["HOTLINE"].key_sources.values()) == {"environment"}
    assert not any((tmp_path / "fresh-host" / name).exists() for name in ("data_key", "index_key"))
    check = restored.test_cli_runner().invoke(args=["keys", "check"])
    assert check.exit_code == 0, check.output

    agent = ApiClient(restored.test_client(), token)
    found = agent.get(f"/citizens/lookup?phone={phone}").get_json()
    assert found["found"] and found["citizen"]["name"] == "上***"  # found by blind index, name decrypted
    unmasked = agent.post(f"/citizens/{found['citizen']['citizen_id']}/unmask", json={}).get_json()
    assert unmasked["phones"] == ["+86" + phone]
    with restored.app_context():
        assert citizen_name(find_phone(phone).citizen) == "上官婉儿"
        db.engine.dispose()

    # the same restore with a wrong data key
    wrong = {**keys, "data_key": secrets.token_urlsafe(32)}
    with pytest.raises(keyset.KeyMismatch, match="HOTLINE_DATA_KEY"):
        start(app, tmp_path / "wrong-prod", dst_url, wrong, production=True)
    misconfigured = start(app, tmp_path / "wrong-dev", dst_url, wrong)
    check = misconfigured.test_cli_runner().invoke(args=["keys", "check"])
    assert check.exit_code == 1
    assert "HOTLINE_DATA_KEY" in check.output.splitlines()[-1]
    assert "HOTLINE_INDEX_KEY" not in check.output.splitlines()[-1]
    resp = ApiClient(misconfigured.test_client(), token).get(f"/citizens/lookup?phone={phone}")
    assert resp.status_code == 503, resp.get_data(as_text=True)
    assert resp.get_json()["error"]["code"] == "data_key_mismatch"
    with misconfigured.app_context():
        db.engine.dispose()
