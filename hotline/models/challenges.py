"""The citizen form's anti-abuse question (hotline/portal/challenge.py): the answer stays on the server."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from hotline.extensions import db
from hotline.models.types import UTCDateTime


class PortalChallenge(db.Model):
    """One question shown on one form. ``id`` is an opaque random string (the form's hidden field and the
    submission's idempotency key); the answer is only here. Single use (``used_at``, set by a conditional UPDATE
    on the first attempt, right or wrong) and expiring; rows are pruned after expiry."""

    __tablename__ = "portal_challenges"

    id: so.Mapped[str] = so.mapped_column(sa.String(43), primary_key=True)
    answer: so.Mapped[str] = so.mapped_column(sa.String(8))
    issued_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    expires_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, index=True)
    used_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
