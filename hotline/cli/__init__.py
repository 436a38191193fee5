"""Every Flask command, the development server of `make run` and the CTI simulator.

Commands are registered by ``register(app)``, called from ``wsgi.py`` (and the tests' app fixture), never by
``create_app``: the application factory does not depend on its command-line tools.
"""

from __future__ import annotations

from flask import Flask

from hotline.cli import accounts, commands, kb, places
from hotline.cli import org as org_cli
from hotline.cli import stats as stats_cli
from hotline.policy.cli import holidays_cli
from hotline.privacy.cli import privacy_cli


def register(app: Flask) -> None:
    """Attach every command group to ``app.cli``."""
    for command in commands.COMMANDS:
        app.cli.add_command(command)
    app.cli.add_command(kb.kb)
    app.cli.add_command(places.places)
    app.cli.add_command(org_cli.org)
    app.cli.add_command(holidays_cli)  # holidays import/missing (issue 17, hotline/policy)
    app.cli.add_command(privacy_cli)  # privacy retention (issue 17, hotline/privacy)
    app.cli.add_command(stats_cli.stats)  # stats rollup --from --to (issue 19, hotline/stats)
    for command in accounts.COMMANDS:  # setup --city, users (issue 17); token list/revoke join `token`
        app.cli.add_command(command)
