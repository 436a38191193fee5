"""WSGI entry point: the only module-level app (with the Flask commands attached)."""

import workers.cli
from hotline import cli, create_app

app = create_app()
cli.register(app)
workers.cli.register(app)  # `flask worker`, `flask scheduler`: the app itself never imports workers
