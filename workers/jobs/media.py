"""The ``media`` queue: thumbnails of uploaded pictures, media fetched from outside (Open311 media_url)."""

from __future__ import annotations

from datetime import UTC, datetime

from hotline.evidence import fetch, thumbs, wechat
from workers.context import job


@job
def make_thumbnail(attachment_id: int) -> str:
    return thumbs.make(attachment_id)


@job
def thumbnail_sweep(now: datetime | None = None) -> int:
    """Every minute: thumbnails whose enqueue was lost; each made in its own commit."""
    done = 0
    for attachment_id in thumbs.stale_pending(now or datetime.now(UTC)):
        thumbs.make(attachment_id)
        done += 1
    return done


@job
def fetch_media(case_id: int, url: str, source: str = "open311") -> str:
    return fetch.fetch_into_case(case_id, url, source, datetime.now(UTC))


@job
def fetch_wechat_media(case_id: int, media_id: str, msg_type: str) -> str:
    return wechat.fetch_into_case(case_id, media_id, msg_type, datetime.now(UTC))
