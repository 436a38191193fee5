"""好差评: rating invitations, ratings, and the rectification record (整改) a poor rating opens."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from hotline.extensions import db
from hotline.models.types import UTCDateTime, utcnow

SCORE_LABELS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}


def is_poor(score: int, resolved: bool | None) -> bool:
    return score <= 2 or resolved is False


def rating_dict(r) -> dict:
    """A rating as the API shows it; ``r`` is a Rating or any row with its columns as attributes."""
    return {
        "id": r.id,
        "score": r.score,
        "score_label": SCORE_LABELS.get(r.score, str(r.score)),
        "resolved": r.resolved,
        "comment": r.comment,
        "channel": r.channel,
        "purpose": r.purpose,
        "poor": is_poor(r.score, r.resolved),
        "excluded": r.excluded,
        "created_at": r.created_at.isoformat(),
    }


class RatingInvitation(db.Model):
    __tablename__ = "rating_invitations"
    __table_args__ = (sa.Index("ix_rating_invitations_citizen_id_id", "citizen_id", "id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    case_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("cases.id"), index=True)
    citizen_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("citizens.id"), index=True)
    # the number the invitation went to (SMS replies and keypad ratings come from it)
    phone_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("citizen_phones.id"), index=True)
    channel: so.Mapped[str] = so.mapped_column(sa.String(16))
    # reply: after the department's reply; revisit: 整改回访 after a rectification
    purpose: so.Mapped[str] = so.mapped_column(sa.String(16), default="reply", server_default="reply")
    # the rectification a revisit invitation belongs to (no FK: rectifications → ratings → invitations is a cycle)
    rectification_id: so.Mapped[int | None] = so.mapped_column(sa.Integer, index=True)
    # hex SHA-256 of the link token (hotline/ratings/tokens.py): the token itself is never stored
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    expires_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    used_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)


class Rating(db.Model):
    __tablename__ = "ratings"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    case_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("cases.id"), index=True)
    citizen_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("citizens.id"), index=True)
    invitation_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("rating_invitations.id"), unique=True)
    department_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("departments.id"), index=True)
    score: so.Mapped[int] = so.mapped_column(sa.SmallInteger)
    resolved: so.Mapped[bool | None] = so.mapped_column()
    comment: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    channel: so.Mapped[str] = so.mapped_column(sa.String(16), default="web")
    purpose: so.Mapped[str] = so.mapped_column(sa.String(16), default="reply", server_default="reply")
    # 申诉复核 upheld: the rating does not count in the unit's assessment
    excluded: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow, index=True)  # stats

    @property
    def poor(self) -> bool:
        return is_poor(self.score, self.resolved)

    @property
    def score_label(self) -> str:
        return SCORE_LABELS.get(self.score, str(self.score))

    def to_dict(self) -> dict:
        return rating_dict(self)


class Rectification(db.Model):
    """差评整改: verify (核实) → rectify (整改) → revisit (回访) → closed | reopened; or explain (解释) → closed.

    ``stage``: verifying | rectifying | revisiting | explaining | closed | reopened. ``due_at``/``yellow_at`` are
    the current stage's time limit (working days) and its 80 % instant; ``card`` the card already given for it.
    """

    __tablename__ = "rectifications"
    __table_args__ = (sa.Index("ix_rectifications_stage_due", "stage", "due_at"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    case_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("cases.id"), index=True)
    rating_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("ratings.id"), unique=True)
    department_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("departments.id"), index=True)
    citizen_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("citizens.id"))
    stage: so.Mapped[str] = so.mapped_column(sa.String(16), default="verifying")
    outcome: so.Mapped[str | None] = so.mapped_column(sa.String(16))  # reasonable | unreasonable | malicious
    mode: so.Mapped[str | None] = so.mapped_column(sa.String(16))  # immediate (立行立改) | deadline
    due_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    yellow_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    card: so.Mapped[str | None] = so.mapped_column(sa.String(8))  # yellow | red, for the current stage
    verify_note: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    verified_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    verified_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    rectify_note: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    rectified_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    explanation: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    revisited_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    revisit_rating_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("ratings.id"))
    appeal_status: so.Mapped[str | None] = so.mapped_column(sa.String(16))  # pending | upheld | rejected
    appeal_reason: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    appeal_note: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    result: so.Mapped[str | None] = so.mapped_column(sa.String(16))  # closed | reopened
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    closed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    version: so.Mapped[int] = so.mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 — optimistic locking

    case = so.relationship("Case")
    rating: so.Mapped[Rating] = so.relationship(foreign_keys=[rating_id])
    revisit_rating: so.Mapped[Rating | None] = so.relationship(foreign_keys=[revisit_rating_id])
    department = so.relationship("Department")
