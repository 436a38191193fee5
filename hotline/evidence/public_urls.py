"""URLs of public cases' pictures for the Open311 feed: the thumbnail (320 px, re-encoded, no metadata) of the
case's first evidence picture; served by hotline/evidence/public.py while the case is public."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, url_for

from hotline.extensions import db
from hotline.models import Attachment


def thumbnails(case_ids: list[int]) -> dict[int, str]:
    """case id → absolute URL of its public thumbnail, for the cases that have one ready."""
    if not case_ids:
        return {}
    rows = db.session.execute(
        sa.select(Attachment.case_id, sa.func.min(Attachment.id))
        .where(
            Attachment.case_id.in_(case_ids),
            Attachment.thumb_status == "done",
            Attachment.kind == "evidence",
        )
        .group_by(Attachment.case_id)
    )
    base = current_app.config["HOTLINE"].public_url.rstrip("/")
    return {case_id: base + url_for("public_media.thumbnail", attachment_id=aid) for case_id, aid in rows}
