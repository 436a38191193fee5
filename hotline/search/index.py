"""Keeping ``case_search_terms`` up to date.

New cases are inserted on several paths (the one-statement intake insert, bulk loads, imports), so the terms of
new cases are written by ``catch_up()``: the cases without terms above the highest indexed id (and in a window
below it, for transactions that committed out of order), in batches. The search runs it before each query, so a
case is findable as soon as it is committed. A change of title, content or address through the ORM rewrites the
row in the same flush (``_after_flush``).
"""

from __future__ import annotations

import time

import sqlalchemy as sa
import sqlalchemy.orm as so

from hotline.db.dialect import insert_ignore
from hotline.models import Case, CaseSearchTerms
from hotline.search.terms import terms

WINDOW = 2000  # ids below the highest indexed one checked again for late commits
WINDOW_EVERY = 5.0
BATCH = 5000
FIELDS = ("title", "content", "address")


def case_terms(title: str | None, content: str | None, address: str | None) -> str:
    return terms(title or "", content or "", address or "")


_window_checked = [float("-inf")]  # this process's last look below the top (monotonic seconds)


def catch_up(session: so.Session, batch: int = BATCH) -> int:
    """Write the terms of up to ``batch`` cases that have none; returns how many (== batch: more may remain).

    Two primary-key look-ups when nothing is new; the window below the top is looked at again at most every
    ``WINDOW_EVERY`` seconds per process (a case committed late, after a higher id was indexed)."""
    top = session.scalar(sa.select(sa.func.max(CaseSearchTerms.case_id))) or 0
    newest = session.scalar(sa.select(sa.func.max(Case.id))) or 0
    if newest <= top and time.monotonic() - _window_checked[0] < WINDOW_EVERY:
        return 0
    _window_checked[0] = time.monotonic()
    rows = session.execute(
        sa.select(Case.id, Case.title, Case.content, Case.address)
        .outerjoin(CaseSearchTerms, CaseSearchTerms.case_id == Case.id)
        .where(Case.id > top - WINDOW, CaseSearchTerms.case_id.is_(None))
        .order_by(Case.id)
        .limit(batch)
    ).all()
    if rows:
        session.execute(
            insert_ignore(CaseSearchTerms.__table__, ["case_id"]),  # two searches may catch up at once
            [{"case_id": r.id, "terms": case_terms(r.title, r.content, r.address)} for r in rows],
        )
    return len(rows)


def reindex_all(session: so.Session, batch: int = BATCH) -> int:
    """Terms for every case without them (after a bulk load, or a migration over existing cases)."""
    total = 0
    while True:
        done = catch_up(session, batch)
        total += done
        session.commit()
        if done < batch:
            return total


@sa.event.listens_for(so.Session, "after_flush")
def _after_flush(session: so.Session, _context) -> None:
    changed = []
    for obj in session.dirty:
        if isinstance(obj, Case) and obj.id is not None:
            state = sa.inspect(obj)
            if any(state.attrs[f].history.has_changes() for f in FIELDS):
                changed.append(obj)
    for case in changed:
        value = case_terms(case.title, case.content, case.address)
        table = CaseSearchTerms.__table__
        # a case not indexed yet updates nothing here: catch_up() writes its terms from the new text
        session.execute(sa.update(table).where(table.c.case_id == case.id).values(terms=value))
