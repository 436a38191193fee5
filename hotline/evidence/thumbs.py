"""The thumbnail of a stored picture, made by the ``media`` queue's job (workers/jobs/media.py). Safe to run twice:
the row moves from ``pending`` to ``done``/``failed`` with a conditional UPDATE."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa

from hotline.evidence import media
from hotline.evidence.storage import storage
from hotline.extensions import db
from hotline.models import Attachment

log = logging.getLogger(__name__)


def make(attachment_id: int) -> str:
    """Make one thumbnail; returns the row's thumbnail status afterwards."""
    att = db.session.get(Attachment, attachment_id)
    if att is None:
        return "missing"
    if att.thumb_status != "pending":
        return att.thumb_status
    key = att.storage_key + ".thumb.jpg"
    try:
        out = media.thumbnail(_Reader(storage().open(att.storage_key)))
        size = out.seek(0, 2)
        out.seek(0)
        storage().put(key, out, size, "image/jpeg")
        status = "done"
    except FileNotFoundError:
        status, key = "failed", None
    except Exception:
        log.exception("thumbnail of attachment %s failed", attachment_id)
        status, key = "failed", None
    db.session.execute(
        sa.update(Attachment)
        .where(Attachment.id == attachment_id, Attachment.thumb_status == "pending")
        .values(thumb_status=status, thumb_key=key)
    )
    return status


def stale_pending(now: datetime, older_than: timedelta = timedelta(minutes=1), limit: int = 200) -> list[int]:
    """Pictures still waiting for a thumbnail a minute after upload (their enqueue was lost)."""
    return list(
        db.session.scalars(
            sa.select(Attachment.id)
            .where(Attachment.thumb_status == "pending", Attachment.created_at < now - older_than)
            .order_by(Attachment.id)
            .limit(limit)
        )
    )


class _Reader:
    """A file-like ``read()`` over an iterator of chunks."""

    def __init__(self, chunks):
        self.chunks, self.buffer = iter(chunks), b""

    def read(self, n: int = -1) -> bytes:
        while n < 0 or len(self.buffer) < n:
            block = next(self.chunks, None)
            if block is None:
                break
            self.buffer += block
        if n < 0:
            data, self.buffer = self.buffer, b""
        else:
            data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data
