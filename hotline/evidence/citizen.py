"""Before/after pictures (整改前后) on the citizen's status page, where the handling unit allows it
(HOTLINE_STATUS_PHOTOS_UNITS). The page is only shown after the number + phone check, so its picture links are
signed (itsdangerous, one hour) instead of needing a login."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, url_for
from itsdangerous import URLSafeTimedSerializer

from hotline.evidence.panels import AFTER_KINDS, BEFORE_KINDS
from hotline.extensions import db
from hotline.models import Attachment, Case

LINK_SECONDS = 3600


def serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="citizen-evidence")


def unit_allows(case: Case) -> bool:
    raw = current_app.config["HOTLINE"].status_photos_units.strip()
    if not raw or case.lead_department is None:
        return False
    codes = {c.strip() for c in raw.split(",") if c.strip()}
    return "*" in codes or case.lead_department.code in codes


def pairs(number: str) -> list[tuple[str | None, str | None]]:
    """(before URL, after URL) pairs of the case ``number`` for its citizen; [] when the unit does not allow it."""
    case = db.session.scalar(sa.select(Case).where(Case.number == number))
    if case is None or case.confidential or not unit_allows(case):
        return []
    rows = db.session.scalars(
        sa.select(Attachment)
        .where(Attachment.case_id == case.id, Attachment.content_type.like("image/%"))
        .order_by(Attachment.id)
    ).all()

    def link(att: Attachment) -> str:
        return url_for("public_media.citizen_picture", token=serializer().dumps(att.id))

    before = [link(a) for a in rows if a.kind in BEFORE_KINDS]
    after = [link(a) for a in rows if a.kind in AFTER_KINDS]
    if not before or not after:
        return []
    return [
        (before[i] if i < len(before) else None, after[i] if i < len(after) else None)
        for i in range(max(len(before), len(after)))
    ]
