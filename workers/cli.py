"""The ``flask worker`` and ``flask scheduler`` commands (the RQ side registers its own commands).

``wsgi.py`` and the tests' app fixture call ``register(app)`` after ``hotline.cli.register(app)``: the app
(``hotline``) never imports ``workers``.
"""

from __future__ import annotations

import click
from flask import Flask, current_app

from workers.run import run_scheduler, run_worker


@click.command()
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
def worker(burst: bool):
    """Run an RQ worker on the app's Redis."""
    run_worker(current_app._get_current_object(), burst=burst)


@click.command()
def scheduler():
    """Run RQ's cron scheduler (periodic jobs) on the app's Redis."""
    run_scheduler(current_app._get_current_object())


def register(app: Flask) -> None:
    """Attach ``worker`` and ``scheduler`` to ``app.cli``."""
    app.cli.add_command(worker)
    app.cli.add_command(scheduler)
