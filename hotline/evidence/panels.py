"""What the staff pages show of a case's evidence (template globals registered by hotline/evidence/pages.py): the
files, the before/after pairs (整改前后对比), the map pin, the call recording."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, url_for
from flask_login import current_user

from hotline.auth.permissions import can
from hotline.evidence.access import case_files
from hotline.evidence.serialize import attachment_to_dict, location_of
from hotline.extensions import db
from hotline.models import Call, Case

BEFORE_KINDS = ("evidence", "other")
AFTER_KINDS = ("rectification", "reply")


def map_settings() -> dict:
    settings = current_app.config["HOTLINE"]
    lat, _, lng = settings.map_center.partition(",")
    return {
        "tile_url": settings.map_tile_url,
        "attribution": settings.map_tile_attribution,
        "center": [float(lat or 0), float(lng or 0)],
    }


def pairs(files: list[dict]) -> list[tuple[dict | None, dict | None]]:
    """Before (citizen's / registration evidence) next to after (rectification / reply) pictures, in order."""
    before = [f for f in files if f["kind"] in BEFORE_KINDS and f["content_type"].startswith("image/")]
    after = [f for f in files if f["kind"] in AFTER_KINDS and f["content_type"].startswith("image/")]
    if not before or not after:
        return []
    count = max(len(before), len(after))
    return [(before[i] if i < len(before) else None, after[i] if i < len(after) else None) for i in range(count)]


def recording_of(case: Case) -> Call | None:
    if not case.call_id:
        return None
    return db.session.scalar(sa.select(Call).where(Call.call_id == case.call_id, Call.recording_url.is_not(None)))


def case_panel(case: Case) -> dict:
    files = [attachment_to_dict(a) for a in case_files(case, current_user)]
    call = recording_of(case) if can(current_user, "citizen.view") else None
    return {
        "files": files,
        "pairs": pairs(files),
        "location": location_of(case),
        "can_upload": can(current_user, "case.attach"),
        "list_url": url_for("evidence_api.listing", number=case.number),
        "upload_url": url_for("evidence_api.upload", number=case.number),
        "recording_url": url_for("evidence_api.recording", number=case.number) if call else None,
        "map": map_settings(),
    }
