"""Cases sent to us by a linked system: 110/119/120/122 (非警务警情 handed to 12345) and peer hotlines (case
exchange, sender type ``hotline``). Idempotent on (source, reference): the unique ``case_links`` row of direction
``inbound`` — a repeat (or a concurrent twin) answers with the first case. The caller commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from hotline.cases import operations as ops
from hotline.citizens.phones import normalize
from hotline.extensions import db
from hotline.models import Case, CaseLink
from hotline.web import lookups

SENDER_TYPES = {"110": "110", "119": "119", "120": "120", "122": "122", "hotline": "兄弟热线"}
CHANNEL_OF = {"hotline": "hotline"}  # every emergency line's case comes in on channel "110"


@dataclass
class Inbound:
    source: str
    source_type: str
    reference: str
    content: str
    caller: str = ""
    caller_name: str | None = None
    address: str = ""
    category: str = ""
    urgency: str = "normal"
    title: str = ""
    kind: str = "help"


def existing(source: str, reference: str) -> Case | None:
    return db.session.scalar(
        sa.select(Case)
        .join(CaseLink, CaseLink.case_id == Case.id)
        .where(CaseLink.direction == "inbound", CaseLink.source == source, CaseLink.ref == reference)
    )


def receive(data: Inbound, now: datetime) -> Case:
    """Register the sender's case with its reference (flushes; the caller commits — a unique violation at the
    commit means a concurrent twin won: roll back and answer with :func:`existing`)."""
    category = lookups.category(data.category) if data.category else None
    phone = normalize(data.caller or data.source_type)  # no caller given: the line itself (e.g. 110)
    label = SENDER_TYPES.get(data.source_type, data.source_type)
    case = ops.create_case(
        ops.NewCase(
            channel=CHANNEL_OF.get(data.source_type, "110"),
            kind=data.kind,
            content=data.content,
            phone=phone,
            citizen_name=data.caller_name,
            title=data.title,
            address=data.address,
            urgency=data.urgency,
            category=category,
        ),
        None,
        now,
        actor_label=f"{label}联动（{data.source}）",
    )
    db.session.add(
        CaseLink(
            case_id=case.id,
            direction="inbound",
            source_type=data.source_type,
            source=data.source,
            ref=data.reference,
            status="received",
            data={"category_hint": data.category} if data.category else {},
            created_at=now,
            updated_at=now,
        )
    )
    db.session.flush()
    return case
