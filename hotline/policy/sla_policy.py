"""Publishing a version of the SLA policy (the API's POST /sla/policy and the page share it): the newest version
is the one in force, older ones stay for the record. Audited with the rules before and after; every process uses
the new limits for new deadlines within a second of the commit (running deadlines keep theirs)."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from hotline import audit
from hotline.extensions import db
from hotline.models import SlaPolicy
from hotline.sla import clock as sla
from hotline.sla import deadlines

MILESTONE_LABELS = {"sign": "签收", "contact": "首次联系", "reply": "答复"}
TIER_LABELS = {"emergency": "特急", "urgent": "紧急", "normal": "一般", "complex": "复杂"}


def active() -> SlaPolicy | None:
    return db.session.scalar(
        sa.select(SlaPolicy).where(SlaPolicy.active.is_(True)).order_by(SlaPolicy.version.desc()).limit(1)
    )


def history() -> list[SlaPolicy]:
    return list(db.session.scalars(sa.select(SlaPolicy).order_by(SlaPolicy.version.desc())))


def publish(rules: dict, note: str, actor) -> SlaPolicy:
    """Store ``rules`` (already validated) as the next version; flushes, the caller commits (a concurrent publish
    of the same version number fails the commit with IntegrityError)."""
    current = active()
    latest = db.session.scalar(sa.select(sa.func.max(SlaPolicy.version))) or 0
    db.session.execute(sa.update(SlaPolicy).where(SlaPolicy.active.is_(True)).values(active=False))
    row = SlaPolicy(
        version=latest + 1,
        rules=rules,
        active=True,
        note=note,
        created_by_id=getattr(actor, "id", None),
        created_at=datetime.now(UTC),
    )
    db.session.add(row)
    audit.record(
        actor,
        "sla.policy.publish",
        "sla_policy",
        row.version,
        before=current.rules if current is not None else None,
        after=rules,
        detail=note,
    )
    deadlines.changed()
    return row


def selector_label(selector: str, kinds: dict) -> str:
    if selector in TIER_LABELS:
        return f"紧急程度：{TIER_LABELS[selector]}"
    if selector.startswith(sla.CATEGORY_PREFIX):
        return f"分类：{selector[len(sla.CATEGORY_PREFIX) :]}"
    return f"诉求类型：{kinds.get(selector, selector)}"


def rows_of(rules: dict, kinds: dict) -> list[dict]:
    """The limits as table rows: milestone, selector (tier, kind or category), amount, unit."""
    out = []
    for key, value in rules.items():
        if "/" not in key or not isinstance(value, dict):
            continue
        milestone, _, selector = key.partition("/")
        out.append(
            {
                "key": key,
                "milestone": milestone,
                "milestone_label": MILESTONE_LABELS.get(milestone, milestone),
                "selector": selector,
                "selector_label": selector_label(selector, kinds),
                "amount": value.get("amount"),
                "unit": value.get("unit"),
            }
        )
    order = {m: i for i, m in enumerate(MILESTONE_LABELS)}
    return sorted(out, key=lambda r: (order.get(r["milestone"], 9), r["selector"]))
