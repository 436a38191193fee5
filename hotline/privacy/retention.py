"""The retention limit (HOTLINE_RETENTION_YEARS): a person whose cases all closed longer ago than the limit, with no
open case and no call since, is erased like on request (``erase.py``, reason "retention"). ``report()`` is the dry
run — who would be erased — shown on /admin/privacy, by ``flask --app wsgi privacy retention`` and written to the
audit log by the daily job; ``apply()`` erases, and the daily job does so only once HOTLINE_RETENTION_APPLY is set.
Safe to run twice: an erased file is never a candidate again."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from hotline import audit
from hotline.extensions import db
from hotline.models import Call, Case, Citizen, CitizenErasure, CitizenPhone
from hotline.privacy import erase as eraser
from hotline.privacy.person import files_of

BATCH = 500
SAMPLE = 50


@dataclass
class Report:
    years: float
    cutoff: datetime | None
    people: int = 0
    cases: int = 0
    sample: list[dict] = field(default_factory=list)
    applied: bool = False


def cutoff_of(now: datetime, years: float) -> datetime:
    return now - timedelta(days=round(365.25 * years))


def _candidate_ids(cutoff: datetime, limit: int) -> list[int]:
    recent_or_open = sa.exists().where(
        Case.citizen_id == Citizen.id, sa.or_(Case.closed_at.is_(None), Case.closed_at >= cutoff)
    )
    recent_call = sa.exists().where(Call.citizen_id == Citizen.id, Call.created_at >= cutoff)
    erased = sa.exists().where(CitizenErasure.citizen_id == Citizen.id)
    has_case = sa.exists().where(Case.citizen_id == Citizen.id)
    query = (
        sa.select(Citizen.id)
        .where(Citizen.merged_into_id.is_(None), has_case, ~recent_or_open, ~recent_call, ~erased)
        .order_by(Citizen.id)
        .limit(limit)
    )
    return list(db.session.scalars(query))


def _person(citizen_id: int, cutoff: datetime) -> tuple[list[Citizen], list[Case]] | None:
    """The person's files and cases when every file of theirs is past the limit (a merged file may not be)."""
    files = files_of(db.session.get(Citizen, citizen_id))
    ids = [c.id for c in files]
    cases = list(db.session.scalars(sa.select(Case).where(Case.citizen_id.in_(ids))))
    if any(c.closed_at is None or c.closed_at >= cutoff for c in cases):
        return None
    if db.session.scalar(sa.select(sa.func.count()).where(Call.citizen_id.in_(ids), Call.created_at >= cutoff)):
        return None
    return files, cases


def _walk(now: datetime, years: float, apply: bool, actor=None, max_people: int = 100_000) -> Report:
    report = Report(years=years, cutoff=cutoff_of(now, years) if years > 0 else None)
    if years <= 0:
        return report
    seen: set[int] = set()
    while report.people < max_people:
        ids = [i for i in _candidate_ids(report.cutoff, BATCH + len(seen)) if i not in seen]
        if not ids:
            break
        for citizen_id in ids:
            seen.add(citizen_id)
            found = _person(citizen_id, report.cutoff)
            if found is None:
                continue
            files, cases = found
            report.people += 1
            report.cases += len(cases)
            if len(report.sample) < SAMPLE:
                phones = db.session.scalars(
                    sa.select(CitizenPhone.masked).where(CitizenPhone.citizen_id.in_([f.id for f in files]))
                ).all()
                report.sample.append(
                    {
                        "citizen_id": citizen_id,
                        "phones": list(phones),
                        "cases": len(cases),
                        "last_closed_at": max(c.closed_at for c in cases).isoformat(),
                    }
                )
            if apply:
                eraser.erase(files, actor, reason="retention", now=now)
        if apply:
            db.session.flush()
    report.applied = apply
    return report


def report(now: datetime, years: float) -> Report:
    """Dry run: who the limit would erase now (nothing changes)."""
    return _walk(now, years, apply=False)


def apply(now: datetime, years: float, actor=None) -> Report:
    """Erase everyone past the limit (each audited as ``pipl.retention``); flushes, the caller commits."""
    result = _walk(now, years, apply=True, actor=actor)
    audit.record(
        actor,
        "pipl.retention.apply",
        "retention",
        f"{years:g}y",
        after={"people": result.people, "cases": result.cases},
        detail=f"保存期限 {years:g} 年：删除 {result.people} 人的个人信息，{result.cases} 件工单已匿名",
    )
    return result


def record_dry_run(result: Report, actor=None) -> None:
    audit.record(
        actor,
        "pipl.retention.report",
        "retention",
        f"{result.years:g}y",
        after={"people": result.people, "cases": result.cases, "cutoff": result.cutoff},
        detail=f"保存期限 {result.years:g} 年（试运行）：将删除 {result.people} 人的个人信息，"
        f"涉及 {result.cases} 件工单",
    )
