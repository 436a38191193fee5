"""并单: find open cases about the same matter as a new one (same place, similar text, recent).

Candidates come from an index, never a scan of the cases: every open case keeps its MinHash band keys
(``routing.duplicates.band_keys`` scoped by its district) in ``case_dup_keys``; a new text's keys find the
open cases sharing the most bands (texts with similar character bigrams), restricted in SQL to the same
place and the time window, at most CANDIDATES. rapidfuzz (``routing.duplicates``) has the last
word. Keys are written when a case is registered and deleted when it is closed or merged (``forget``).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache

import sqlalchemy as sa
from flask import current_app

from hotline.extensions import db
from hotline.models import Case, CaseDupKey, Department
from routing.duplicates import band_keys, find_duplicates

CANDIDATES = 100          # rows handed to rapidfuzz at most
CLOSED = ("closed", "merged")
NO_DISTRICT = "-"


def _districts() -> dict[int, str]:
    """Unit id → the code of its district (itself for a district, the parent for a street)."""
    rows = db.session.execute(sa.select(Department.id, Department.code, Department.kind, Department.parent_id)
                              .where(Department.kind.in_(("district", "street")))).all()
    code = {r.id: r.code for r in rows}
    return {r.id: (code.get(r.parent_id, r.code) if r.kind == "street" else r.code) for r in rows}


def scopes_of(unit: Department | None) -> list[str]:
    """Key namespaces a case placed at ``unit`` is stored under: its own place ("S:D01S01" or "D:D01")
    and its whole district ("W:D01"), so a street probe looks at its street and at district-only cases,
    and a district probe at the whole district."""
    if unit is None or unit.kind not in ("district", "street"):
        return [NO_DISTRICT]
    if unit.kind == "street":
        district = unit.parent.code if unit.parent is not None else unit.code
        return [f"S:{unit.code}", f"W:{district}"]
    return [f"D:{unit.code}", f"W:{unit.code}"]


def probe_scopes(unit: Department | None) -> list[str]:
    if unit is None or unit.kind not in ("district", "street"):
        return [NO_DISTRICT, *(f"W:{code}" for code in sorted(set(_districts().values())))]
    if unit.kind == "street":
        district = unit.parent.code if unit.parent is not None else unit.code
        return [f"S:{unit.code}", f"D:{district}", NO_DISTRICT]
    return [f"W:{unit.code}", NO_DISTRICT]


def area_ids(unit: Department | None) -> list[int] | None:
    """Units whose cases are "the same place": a street and its district (a case placed only in the district
    may be in that street); a district and all its streets. None: no place known (any place)."""
    if unit is None or unit.kind not in ("district", "street"):
        return None
    if unit.kind == "street":
        return [unit.id, *([unit.parent_id] if unit.parent_id else [])]
    return list(db.session.scalars(sa.select(Department.id).where(Department.path.startswith(unit.path))))


def remember(case: Case) -> None:
    """Store the keys of a newly registered (open) case."""
    keys = {k for scope in scopes_of(case.district) for k in band_keys(case.content, scope)}
    if keys:
        db.session.execute(sa.insert(CaseDupKey), [{"key": k, "case_id": case.id} for k in keys])


def forget(case: Case) -> None:
    """A closed or merged case is no longer a candidate."""
    if case.id is not None:
        db.session.execute(sa.delete(CaseDupKey).where(CaseDupKey.case_id == case.id))


def _probe_keys(content: str, unit: Department | None) -> list[int]:
    return [k for scope in probe_scopes(unit) for k in band_keys(content, scope)]


@lru_cache(maxsize=2)
def _statement(with_areas: bool):
    """The candidate query, built once per process: every value is a bind parameter (building it per call
    costs ~5 ms in SQLAlchemy's column proxies of the subquery)."""
    hits = sa.func.count().label("hits")
    top = (sa.select(CaseDupKey.case_id, hits).where(CaseDupKey.key.in_(sa.bindparam("dup_keys", expanding=True)))
           .group_by(CaseDupKey.case_id).order_by(hits.desc()).limit(CANDIDATES + 20).subquery())
    conds = [Case.status.not_in(CLOSED), Case.created_at >= sa.bindparam("since"), Case.id != sa.bindparam("exclude")]
    if with_areas:  # the keys' namespaces already restrict the place; this also drops a key shared by chance
        conds.append(sa.or_(Case.district_id.in_(sa.bindparam("areas", expanding=True)), Case.district_id.is_(None)))
    return (sa.select(Case.id, Case.number, Case.content, Case.created_at, Case.status, Case.title)
            .join(top, top.c.case_id == Case.id).where(*conds)
            .order_by(top.c.hits.desc(), Case.created_at.desc()).limit(CANDIDATES))


def candidates(content: str, unit: Department | None, since: datetime, exclude_id: int | None = None):
    """Open cases sharing the most keys with ``content`` (more shared bands = more similar), same place,
    inside the window; at most CANDIDATES rows whatever the table size."""
    keys = _probe_keys(content, unit)
    if not keys:
        return []
    areas = area_ids(unit)
    params = {"dup_keys": keys, "since": since, "exclude": exclude_id if exclude_id is not None else -1}
    if areas is not None:
        params["areas"] = areas
    return db.session.execute(_statement(areas is not None), params).all()


def find(content: str, unit: Department | None, now: datetime, *, exclude_id: int | None = None,
         limit: int = 5) -> list[dict]:
    """Likely duplicates of ``content`` placed at ``unit``: ``[{number, title, status, score, created_at}]``."""
    settings = current_app.config["HOTLINE"]
    content = (content or "").strip()
    if len(content) < 2:
        return []
    since = now - timedelta(days=settings.duplicate_window_days)
    rows = candidates(content, unit, since, exclude_id)
    by_id = {r.id: r for r in rows}
    found = find_duplicates((content, None), [(r.id, r.content, None, r.created_at) for r in rows],
                            threshold=settings.duplicate_threshold, limit=limit)
    return [{"number": by_id[i].number, "title": by_id[i].title, "status": by_id[i].status, "score": score,
             "created_at": by_id[i].created_at.isoformat()} for i, score in found]


def find_for_case(case: Case, now: datetime) -> list[dict]:
    """Duplicates of a just-registered case (then its own keys are stored)."""
    db.session.flush()
    found = find(case.content, case.district, now, exclude_id=case.id)
    remember(case)
    return found


def rebuild_keys(batch: int = 2000) -> int:
    """(Re)write the keys of every open case, e.g. after upgrading a database that had cases before the
    duplicate check existed (``flask routing dupkeys``). Returns the number of open cases."""
    import sqlalchemy.orm as so

    done, last = 0, 0
    while True:
        cases = db.session.scalars(sa.select(Case).where(Case.status.not_in(CLOSED), Case.id > last)
                                   .options(so.selectinload(Case.district).selectinload(Department.parent),
                                            so.lazyload(Case.events), so.lazyload(Case.assignments))
                                   .order_by(Case.id).limit(batch)).all()
        if not cases:
            return done
        db.session.execute(sa.delete(CaseDupKey).where(CaseDupKey.case_id.in_([c.id for c in cases])))
        for case in cases:
            remember(case)
        db.session.flush()
        done, last = done + len(cases), cases[-1].id
