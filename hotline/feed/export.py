"""The feed's increments written out at least every hour (workers/jobs/feed.py): JSON Lines files in
HOTLINE_FEED_EXPORT_DIR and/or POSTed to HOTLINE_FEED_EXPORT_URL, so a platform asking for 办件过程信息 within
2 hours gets them without calling the API.

Each run exports the changes after ``feed_cursor.exported`` up to the head: one file ``feed-<first>-<last>.jsonl``
(one item of GET /feed/cases per line, in cursor order) and one POST of the same lines (``Content-Type:
application/x-ndjson``, headers ``X-Hotline-Feed-From`` / ``X-Hotline-Feed-To``: the cursor range, by which a
receiver dedupes). The position moves only after both succeeded, by a conditional UPDATE as the run's last
statement (the counter row is locked only for that commit): a failed run is retried by the next one, and two
schedulers at once write the same file name with the same lines.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import requests
import sqlalchemy as sa
from flask import current_app

from hotline.extensions import db
from hotline.feed.reader import COUNTER, MAX_LIMIT, page

log = logging.getLogger(__name__)
TIMEOUT = 30.0


def _position() -> int:
    return db.session.scalar(sa.select(COUNTER.c.exported).where(COUNTER.c.id == 1)) or 0


def export_increment(max_items: int = 200_000) -> dict:
    """Export what is new since the last run; returns ``{from, to, items, file}`` (``items`` 0: nothing new)."""
    settings = current_app.config["HOTLINE"]
    start = since = _position()
    lines: list[str] = []
    while len(lines) < max_items:
        chunk = page(since, MAX_LIMIT)
        lines += [json.dumps(item, ensure_ascii=False, separators=(",", ":")) for item in chunk["items"]]
        since = chunk["next"]
        if not chunk["more"]:
            break
    result = {"from": start, "to": since, "items": len(lines), "file": None}
    if since == start:
        return result
    body = ("\n".join(lines) + "\n").encode() if lines else b""
    if settings.feed_export_dir:
        folder = Path(settings.feed_export_dir)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"feed-{start + 1:012d}-{since:012d}.jsonl"
        partial = target.with_suffix(".part")
        partial.write_bytes(body)
        partial.replace(target)  # readers never see half a file
        result["file"] = str(target)
    if settings.feed_export_url and lines:
        answer = requests.post(
            settings.feed_export_url,
            data=body,
            headers={
                "Content-Type": "application/x-ndjson; charset=utf-8",
                "X-Hotline-Feed-From": str(start),
                "X-Hotline-Feed-To": str(since),
            },
            timeout=TIMEOUT,
        )
        answer.raise_for_status()
    db.session.execute(sa.update(COUNTER).where(COUNTER.c.id == 1, COUNTER.c.exported == start).values(exported=since))
    return result
