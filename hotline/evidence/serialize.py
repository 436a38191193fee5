"""JSON shapes of attachments and locations (GET /api/v1/cases/N adds them; the attachment list)."""

from __future__ import annotations

from flask import url_for

from hotline.evidence.access import case_files
from hotline.models import Attachment, Case, User
from hotline.models.attachments import ATTACHMENT_KINDS


def attachment_to_dict(att: Attachment) -> dict:
    return {
        "id": att.id,
        "name": att.name,
        "kind": att.kind,
        "kind_label": ATTACHMENT_KINDS.get(att.kind, att.kind),
        "source": att.source,
        "content_type": att.content_type,
        "size": att.size,
        "checksum": att.checksum,
        "checksum_algorithm": "sha256",
        "width": att.width,
        "height": att.height,
        "url": url_for("evidence_api.download", attachment_id=att.id),
        "thumbnail_status": att.thumb_status,
        "thumbnail_url": url_for("evidence_api.thumbnail", attachment_id=att.id)
        if att.thumb_status == "done"
        else None,
        "shared": att.shared,
        "created_at": att.created_at.isoformat() if att.created_at else None,
    }


def location_of(case: Case) -> dict | None:
    if case.lat is None or case.lng is None:
        return None
    return {"lat": case.lat, "long": case.lng, "source": case.location_source}


def case_evidence(case: Case, viewer: User | None) -> dict:
    """The ``location`` and ``attachments`` members of a case's JSON."""
    return {"location": location_of(case), "attachments": [attachment_to_dict(a) for a in case_files(case, viewer)]}
