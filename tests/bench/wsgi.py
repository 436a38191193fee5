"""The bench's own app: the hotline app plus the baseline endpoints of ``tests/bench/views.py``.

Served as ``gunicorn tests.bench.wsgi:app`` (and ``create_bench_app`` in process); the hotline app itself has
no benchmark endpoint, setting or CSRF exemption.
"""

from __future__ import annotations

from flask import Flask

from hotline import cli, create_app
from hotline.auth.security import CSRF_EXEMPT_BLUEPRINTS
from tests.bench.views import bench_bp


def create_bench_app(config: dict | None = None) -> Flask:
    """``create_app(config)`` with the commands and the /bench endpoints (machine calls: no CSRF)."""
    app = create_app(config)
    cli.register(app)
    app.register_blueprint(bench_bp)
    app.extensions[CSRF_EXEMPT_BLUEPRINTS].add(bench_bp.name)
    return app


app = create_bench_app()
