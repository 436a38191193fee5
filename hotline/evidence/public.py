"""The public picture of a case in the Open311 feed (its URL: hotline/evidence/public_urls.py), served without login
only while the case is in the public feed."""

from __future__ import annotations

from flask import Blueprint
from itsdangerous import BadSignature, SignatureExpired

from hotline.auth.permissions import public
from hotline.cases.errors import NotFound
from hotline.evidence import citizen
from hotline.evidence.api import stream_file
from hotline.extensions import db
from hotline.models import Attachment, Case
from hotline.open311.publication import publication_state

public_media_bp = Blueprint("public_media", __name__)


@public_media_bp.get("/public/media/<int:attachment_id>.jpg")
@public
def thumbnail(attachment_id: int):
    att = db.session.get(Attachment, attachment_id)
    case = db.session.get(Case, att.case_id) if att is not None else None
    if (
        att is None
        or att.kind != "evidence"
        or att.thumb_status != "done"
        or not att.thumb_key
        or case is None
        or not publication_state(case)["public"]
    ):
        raise NotFound("media_not_found", "图片不存在或未公开")
    return stream_file(att.thumb_key, "image/jpeg", f"{case.number}.jpg", None, None)


@public_media_bp.app_template_global()
def citizen_pairs(number: str) -> list:
    return citizen.pairs(number)


@public_media_bp.get("/portal/evidence/<token>")
@public
def citizen_picture(token: str):
    """A before/after picture linked from the citizen's status page (signed, one hour)."""
    try:
        attachment_id = citizen.serializer().loads(token, max_age=citizen.LINK_SECONDS)
    except (BadSignature, SignatureExpired):
        raise NotFound("media_not_found", "图片链接无效或已过期，请重新查询") from None
    att = db.session.get(Attachment, attachment_id)
    if att is None or not att.content_type.startswith("image/"):
        raise NotFound("media_not_found", "图片不存在")
    return stream_file(att.storage_key, att.content_type, att.name, att.size, att.checksum)
