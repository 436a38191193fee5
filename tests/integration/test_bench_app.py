"""The benchmark endpoints live in the bench's own app (tests/bench/wsgi.py), never in the hotline app."""

from __future__ import annotations

import os


def test_the_hotline_app_has_no_bench_endpoint(app):
    assert not [r.rule for r in app.url_map.iter_rules() if r.rule.startswith("/bench")]
    assert app.test_client().get("/bench/ping").status_code == 404


def test_the_bench_app_serves_its_baseline_endpoints_to_machines(app, tmp_path):
    """On a database of its own: the bare insert writes rows no other test expects (fake ciphertexts)."""
    from flask_migrate import upgrade

    from hotline.extensions import redis_url_for
    from tests.bench.wsgi import create_bench_app

    bench = create_bench_app(
        {
            "instance": tmp_path,
            "database_url": f"sqlite:///{tmp_path / 'bench.db'}",
            "redis_url": os.environ.get("REDIS_URL") or redis_url_for(app.config["HOTLINE"]),
            "testing": True,
        }
    )
    with bench.app_context():
        upgrade()
    client = bench.test_client()
    assert client.get("/bench/ping").get_json() == {"ok": True}
    answer = client.post("/bench/bare-insert", json={})  # no session, no token, no CSRF token: a load generator
    assert answer.status_code in (200, 201), answer.get_data(as_text=True)
    # the rest of the app keeps its CSRF check
    assert client.post("/login", data={"username": "x", "password": "y"}).status_code == 400
