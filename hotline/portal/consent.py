"""The citizen's consent to the public 曝光台 (hotline/portal/public.py), captured at intake (portal form, agent
console): one ``case_consents`` row per case, written with the case (same transaction)."""

from __future__ import annotations

from datetime import datetime

from hotline.db.dialect import insert_ignore
from hotline.extensions import db
from hotline.models import CaseConsent

LABEL = "同意在曝光台公开（姓名、电话、门牌号等个人信息将隐去）"


def record(case_id: int, public: bool, source: str, now: datetime) -> None:
    db.session.execute(
        insert_ignore(CaseConsent, ["case_id"]).values(
            case_id=case_id, public=bool(public), source=source, created_at=now
        )
    )
