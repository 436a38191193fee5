"""The feed export (issue 21): the change log's increments as JSON Lines files / POSTed to an endpoint, hourly."""

from __future__ import annotations

from flask import current_app

from hotline.feed.export import export_increment
from workers.context import job


@job
def export_feed() -> dict:
    """Export the changes since the last run (nothing to do when no target is configured)."""
    settings = current_app.config["HOTLINE"]
    if not settings.feed_export_dir and not settings.feed_export_url:
        return {"items": 0, "file": None}
    return export_increment()
