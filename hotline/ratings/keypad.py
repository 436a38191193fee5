"""Keypad rating from the call platform (CTI ``event: rating``): rates the caller's latest invited case."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from hotline.db.transactions import savepoint
from hotline.extensions import db
from hotline.models import Call, Case, RatingInvitation
from hotline.ratings import service


def rate_by_keypad(call: Call, score: int, at: datetime) -> dict:
    """``{"rated": true, "case_number", "score", "rating_id"}`` or ``{"rated": false, "code", "message"}``."""
    now = datetime.now(UTC)  # the rating's own time; ``at`` is the platform's clock
    invitation = service.latest_open_invitation(call.citizen_id, call.phone_id, now)
    if invitation is None:
        return {"rated": False, "code": "no_invitation", "message": "该号码没有待评价的工单"}
    invitation = db.session.scalar(
        sa.select(RatingInvitation).where(RatingInvitation.id == invitation.id).with_for_update()
    )
    try:
        with savepoint():  # its emits and enqueues wait for the request's commit
            rating = service.submit(invitation, score, None, "", "phone", now)
    except service.REFUSALS as err:
        return {"rated": False, "code": err.code, "message": err.message}
    number = db.session.scalar(sa.select(Case.number).where(Case.id == rating.case_id))
    return {"rated": True, "case_number": number, "score": score, "rating_id": rating.id}
