"""WSGI entry point: the only module-level app."""
from hotline import create_app

app = create_app()
