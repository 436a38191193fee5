"""The ``flask worker`` and ``flask scheduler`` commands (the RQ side registers its own commands).

``wsgi.py`` and the tests' app fixture call ``register(app)`` after ``hotline.cli.register(app)``: the app
(``hotline``) never imports ``workers``.
"""

from __future__ import annotations

import click
from flask import Flask, current_app

from hotline.jobs import QUEUES
from workers.run import parse_queues, run_scheduler, run_worker


@click.command()
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option(
    "--queues",
    default="",
    metavar="NAMES",
    help=f"Comma-separated queues, by priority (default: all, {','.join(QUEUES)}).",
)
def worker(burst: bool, queues: str):
    """Run an RQ worker on the app's Redis (production: one per queue, see docs/operations.md)."""
    try:
        names = parse_queues(queues)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--queues") from None
    run_worker(current_app._get_current_object(), queues=names, burst=burst)


@click.command()
def scheduler():
    """Run RQ's cron scheduler (periodic jobs) on the app's Redis."""
    run_scheduler(current_app._get_current_object())


def register(app: Flask) -> None:
    """Attach ``worker`` and ``scheduler`` to ``app.cli``."""
    app.cli.add_command(worker)
    app.cli.add_command(scheduler)
