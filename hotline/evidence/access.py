"""Who sees which file: the case's own rule (access_case / can_view_case), and a confidential reporter's files
stay with the centre until it shares them with the departments."""

from __future__ import annotations

import sqlalchemy as sa

from hotline.auth.permissions import authorize, can_view_case
from hotline.cases.errors import NotFound
from hotline.extensions import db
from hotline.models import Attachment, Case, User
from hotline.models.attachments import CITIZEN_SOURCES


def visible(user: User | None, case: Case, att: Attachment) -> bool:
    if user is None or not user.is_department_user:
        return True
    return not (case.confidential and att.source in CITIZEN_SOURCES and not att.shared)


def case_files(case: Case, user: User | None) -> list[Attachment]:
    rows = db.session.scalars(sa.select(Attachment).where(Attachment.case_id == case.id).order_by(Attachment.id))
    return [a for a in rows if visible(user, case, a)]


def access_attachment(user: User, attachment_id: int, capability: str = "case.view") -> tuple[Attachment, Case]:
    """The file for ``user``; 404 (not even its existence) when the case or the file is not theirs to see."""
    authorize(user, capability)
    att = db.session.get(Attachment, attachment_id)
    case = db.session.get(Case, att.case_id) if att is not None else None
    if att is None or case is None or not can_view_case(user, case) or not visible(user, case, att):
        raise NotFound("attachment_not_found", f"附件 {attachment_id} 不存在")
    return att, case
