"""Multi-host keys: `flask keys check` compares this host's key fingerprints with the ones the database was written
with; production mode refuses per-host generated keys and a start with keys the database does not know."""

from __future__ import annotations

import secrets

import pytest

from hotline.citizens import keyset
from hotline.citizens.privacy import DataCipher
from hotline.config import MissingKeys, Settings


def shared_keys() -> dict[str, str]:
    return {
        name: secrets.token_urlsafe(32) for name in ("secret_key", "data_key", "index_key", "cti_secret", "sms_secret")
    }


def host(app, instance, database_url: str, **settings):
    """Another host of the installation: its own instance folder, the given database, the session app's Redis (the
    limiter and Socket.IO are process-wide singletons, see test_places.py)."""
    from hotline import cli, create_app
    from hotline.extensions import redis_url_for

    other = create_app(
        {
            "instance": instance,
            "database_url": database_url,
            "redis_url": redis_url_for(app.config["HOTLINE"]),
            "testing": True,
            **settings,
        }
    )
    cli.register(other)
    return other


def check(app, *args):
    return app.test_cli_runner().invoke(args=["keys", "check", *args])


@pytest.fixture()
def database(tmp_path):
    return "sqlite:///" + str(tmp_path / "shared.db")


@pytest.fixture()
def first_host(app, tmp_path, database):
    from flask_migrate import upgrade

    keys = shared_keys()
    first = host(app, tmp_path / "host1", database, **keys)
    with first.app_context():
        upgrade()
    result = check(first)  # the first check on a new database records this host's fingerprints
    assert result.exit_code == 0, result.output
    return first, keys


def test_hosts_with_the_same_keys_pass(app, tmp_path, database, first_host):
    _, keys = first_host
    second = host(app, tmp_path / "host2", database, **keys)
    result = check(second)
    assert result.exit_code == 0, result.output
    assert "全部密钥与数据库记录一致" in result.output
    for name, value in keys.items():
        line = next(x for x in result.output.splitlines() if x.split() and x.split()[0] == keyset.env_name(name))
        assert keyset.fingerprint(name, value) in line and "环境变量" in line and "一致 ok" in line
        assert value not in result.output and value[:12] not in result.output  # never the key
    assert not (tmp_path / "host2" / "index_key").exists()  # nothing generated: every key came from the environment


def test_a_different_index_key_fails_naming_the_key(app, tmp_path, database, first_host):
    _, keys = first_host
    other = host(app, tmp_path / "host3", database, **{**keys, "index_key": secrets.token_urlsafe(32)})
    result = check(other)
    assert result.exit_code == 1, result.output
    assert "HOTLINE_INDEX_KEY" in result.output and "不一致" in result.output
    error = result.output.splitlines()[-1]
    assert "HOTLINE_INDEX_KEY" in error and "HOTLINE_DATA_KEY" not in error and "HOTLINE_SECRET_KEY" not in error


def test_a_generated_key_is_reported_and_fails_against_the_recorded_one(app, tmp_path, database, first_host):
    _, keys = first_host
    del keys["sms_secret"]  # this host forgot HOTLINE_SMS_SECRET: it generates its own
    other = host(app, tmp_path / "host4", database, **keys)
    assert other.config["HOTLINE"].key_sources["sms_secret"] == "generated"
    result = check(other)
    assert result.exit_code == 1
    line = next(x for x in result.output.splitlines() if "HOTLINE_SMS_SECRET" in x)
    assert "本次自动生成" in line and "MISMATCH" in line


def test_production_refuses_a_start_with_a_mismatching_key(app, tmp_path, database, first_host):
    _, keys = first_host
    with pytest.raises(keyset.KeyMismatch, match="HOTLINE_INDEX_KEY"):
        host(app, tmp_path / "host5", database, deployment="production", **{**keys, "index_key": "x" * 43})
    host(app, tmp_path / "host6", database, deployment="production", **keys)  # the right keys start


def test_production_never_generates_a_shared_key(tmp_path):
    env = {"HOTLINE_ENV": "production", "HOTLINE_INSTANCE": str(tmp_path / "prod"), "HOTLINE_DATA_KEY": "d" * 43}
    with pytest.raises(MissingKeys) as err:
        Settings.from_env(env)
    assert err.value.names == ["secret_key", "index_key", "cti_secret", "sms_secret"]
    assert "HOTLINE_INDEX_KEY" in str(err.value) and "HOTLINE_SMS_SECRET" in str(err.value)
    assert not (tmp_path / "prod" / "index_key").exists()
    # a key placed in the instance folder (a shared folder, a restored key set) is accepted
    development = Settings.from_env({"HOTLINE_INSTANCE": str(tmp_path / "prod")})
    assert development.key_sources["index_key"] == "generated"
    restarted = Settings.from_env(env)
    assert restarted.key_sources == {
        "secret_key": "instance file",
        "data_key": "environment",
        "index_key": "instance file",
        "cti_secret": "instance file",
        "sms_secret": "instance file",
    }


def test_rotation_records_the_new_data_key(app, tmp_path, database, first_host):
    first, keys = first_host
    new_key = secrets.token_urlsafe(32)
    rotating = host(
        app, tmp_path / "host7", database, **{**keys, "data_key": new_key, "data_keys_old": keys["data_key"]}
    )
    result = check(rotating)  # the database is still written with the old key, which this host can read
    assert result.exit_code == 0, result.output
    assert "旧数据密钥" in result.output
    rotated = rotating.test_cli_runner().invoke(args=["keys", "rotate"])
    assert rotated.exit_code == 0, rotated.output
    stale = check(first)  # a host that still has only the old key
    assert stale.exit_code == 1 and "HOTLINE_DATA_KEY" in stale.output.splitlines()[-1]


def test_a_value_under_an_unknown_data_key_answers_503_not_a_trace(app, api, phone):
    from tests.helpers import new_case

    new_case(api("agent1"), phone, citizen_name="上官婉儿")
    settings = app.config["HOTLINE"]
    original = app.extensions["hotline_cipher"]
    app.extensions["hotline_cipher"] = DataCipher("a-wrong-data-key-" + "x" * 30, (), settings.index_key)
    try:
        resp = api("agent1").get(f"/citizens/lookup?phone={phone}")
    finally:
        app.extensions["hotline_cipher"] = original
    assert resp.status_code == 503
    assert resp.get_json()["error"]["code"] == "data_key_mismatch"
    assert "HOTLINE_DATA_KEY" in resp.get_json()["error"]["message"]
