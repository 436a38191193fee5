"""并单: find open cases about the same matter as a new one (same place, similar text, recent).

Candidates come from the database through an index, never a scan of every case:
- PostgreSQL: the trigram index ``ix_cases_dup_trgm`` (pg_trgm, GIN, on the first DUP_PREFIX characters of
  the content of open cases) with a low similarity cut, restricted to the place and the time window, at most
  CANDIDATES rows;
- elsewhere (SQLite, or PostgreSQL without pg_trgm): the newest CANDIDATES open cases of the place and window
  (``ix_cases_district_created``); without a place, the newest open cases of the window.
The bounded candidate set is then scored with rapidfuzz (``routing.duplicates``), which has the last word.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from hotline.extensions import db
from hotline.models import Case, Department
from routing.duplicates import find_duplicates

DUP_PREFIX = 120          # characters of the content the trigram index covers (same as the migration)
CANDIDATES = 60           # rows fetched for rapidfuzz at most
TRIGRAM_CUT = 0.12        # pg_trgm similarity below which a case is not even a candidate
CLOSED = ("closed", "merged")

_trgm_ok: dict[str, bool] = {}


def _has_trigram_index() -> bool:
    url = current_app.config["HOTLINE"].database_url
    if url not in _trgm_ok:
        found = False
        if db.engine.dialect.name == "postgresql":
            found = db.session.scalar(sa.text("SELECT 1 FROM pg_indexes WHERE indexname = 'ix_cases_dup_trgm'")) \
                is not None
        _trgm_ok[url] = found
    return _trgm_ok[url]


def area_ids(unit: Department | None) -> list[int] | None:
    """The units whose cases are "the same place": a street and its district (a case placed only in the
    district may be in that street); a district and all its streets. None: no place known."""
    if unit is None:
        return None
    if unit.kind == "street":
        return [unit.id, *([unit.parent_id] if unit.parent_id else [])]
    ids = db.session.scalars(sa.select(Department.id).where(Department.path.startswith(unit.path))).all()
    return list(ids)


def candidates(content: str, areas: list[int] | None, since: datetime, exclude_id: int | None = None):
    cols = (Case.id, Case.number, Case.content, Case.created_at, Case.status, Case.title)
    conds = [Case.status.not_in(CLOSED), Case.created_at >= since]
    if areas is not None:
        conds.append(Case.district_id.in_(areas))
    if exclude_id is not None:
        conds.append(Case.id != exclude_id)
    if _has_trigram_index():
        prefix = sa.func.left(Case.content, DUP_PREFIX)
        probe = content[:DUP_PREFIX]
        db.session.execute(sa.text("SELECT set_config('pg_trgm.similarity_threshold', :cut, true)"),
                           {"cut": str(TRIGRAM_CUT)})
        query = (sa.select(*cols).where(*conds, prefix.op("%")(probe))
                 .order_by(sa.func.similarity(prefix, probe).desc()).limit(CANDIDATES))
    else:
        query = sa.select(*cols).where(*conds).order_by(Case.created_at.desc()).limit(CANDIDATES)
    return db.session.execute(query).all()


def find(content: str, unit: Department | None, now: datetime, *, exclude_id: int | None = None,
         limit: int = 5) -> list[dict]:
    """Likely duplicates of ``content`` placed at ``unit``: ``[{number, title, status, score, created_at}]``."""
    settings = current_app.config["HOTLINE"]
    content = (content or "").strip()
    if len(content) < 2:
        return []
    since = now - timedelta(days=settings.duplicate_window_days)
    rows = candidates(content, area_ids(unit), since, exclude_id)
    by_id = {r.id: r for r in rows}
    found = find_duplicates((content, None), [(r.id, r.content, None, r.created_at) for r in rows],
                            threshold=settings.duplicate_threshold, limit=limit)
    return [{"number": by_id[i].number, "title": by_id[i].title, "status": by_id[i].status, "score": score,
             "created_at": by_id[i].created_at.isoformat()} for i, score in found]


def find_for_case(case: Case, now: datetime) -> list[dict]:
    db.session.flush()
    return find(case.content, case.district, now, exclude_id=case.id)
