"""WSGI entry point: the only module-level app (with the Flask commands attached)."""

from hotline import cli, create_app

app = create_app()
cli.register(app)
