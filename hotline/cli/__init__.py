"""Every Flask command, the development server of `make run` and the CTI simulator.

Commands are registered by ``register(app)``, called from ``wsgi.py`` (and the tests' app fixture), never by
``create_app``: the application factory does not depend on its command-line tools.
"""

from __future__ import annotations

from flask import Flask

from hotline.cli import commands, kb, places
from hotline.cli import org as org_cli


def register(app: Flask) -> None:
    """Attach every command group to ``app.cli``."""
    for command in commands.COMMANDS:
        app.cli.add_command(command)
    app.cli.add_command(kb.kb)
    app.cli.add_command(places.places)
    app.cli.add_command(org_cli.org)
