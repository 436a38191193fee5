"""The per-process search index, kept current from the database's change counter (kb_index_state.seq).

Before each search the process reads the counter (one primary-key SELECT); when it moved, it loads only the
entries whose ``index_seq`` is newer and upserts/removes them. No process needs another's memory: a
publication committed by any web process or job is visible to every process at its next search.
Usage counts change with every answer; they are refreshed every USAGE_REFRESH seconds instead of bumping
the counter (which would serialise all answers on one row).
"""

from __future__ import annotations

import threading
import time
from datetime import date

import sqlalchemy as sa

from hotline.db import refcache
from hotline.extensions import db
from hotline.models import Category, Department, KbEntry, KbIndexState, KbSynonym
from knowledge_base.search import NO_DATE, Doc, SearchIndex
from knowledge_base.synonyms import DEFAULT_GROUPS
from knowledge_base.text import Tokenizer

USAGE_REFRESH = 60.0

_tokenizer: Tokenizer | None = None
_places_seen: object = None  # the refcache's places tuple whose words the tokenizer has
_states: dict[str, _State] = {}
_guard = threading.Lock()


class _State:
    def __init__(self, index: SearchIndex):
        self.index, self.seq, self.usage_at = index, -1, 0.0
        self.lock = threading.Lock()


def tokenizer() -> Tokenizer:
    """jieba with the city's words: units, the places of the gazetteer (``places`` table), synonym terms."""
    global _tokenizer
    if _tokenizer is None:
        words = list(db.session.scalars(sa.select(Department.name)))
        words += [t for group in DEFAULT_GROUPS for t in group]
        _tokenizer = Tokenizer(words)
    _add_place_words(_tokenizer)
    return _tokenizer


def _add_place_words(tok: Tokenizer) -> None:
    """Add the places added since the last call (the refcache's tuple changes with the routing version). jieba
    only adds words: a retired place stays one token until the process restarts, which changes no result."""
    global _places_seen
    places = refcache.places()
    if places is not _places_seen:
        tok.add_words([w for p in places for w in (p.name, *p.aliases)])
        _places_seen = places


def synonym_groups() -> list[tuple[str, ...]]:
    rows = db.session.execute(sa.select(KbSynonym.group, KbSynonym.term)).all()
    if not rows:
        return list(DEFAULT_GROUPS)
    groups: dict[str, list[str]] = {}
    for group, term in rows:
        groups.setdefault(group, []).append(term)
    return [tuple(g) for g in groups.values()]


def bump_seq() -> int:
    """Next change number (row lock until commit: numbers are handed out in commit order)."""
    return db.session.execute(
        sa.update(KbIndexState).where(KbIndexState.id == 1).values(seq=KbIndexState.seq + 1).returning(KbIndexState.seq)
    ).scalar_one()


_SEQ = sa.select(KbIndexState.__table__.c.seq).where(KbIndexState.__table__.c.id == 1)


def current_seq() -> int:
    return db.session.execute(_SEQ).scalar() or 0


def _day(value) -> int:
    return value.toordinal() if value else 0


def _rows(where):
    q = (
        sa.select(
            KbEntry.id,
            KbEntry.kind,
            KbEntry.code,
            KbEntry.title,
            KbEntry.terms,
            KbEntry.status,
            KbEntry.usage_count,
            KbEntry.updated_at,
            KbEntry.valid_from,
            KbEntry.valid_to,
            KbEntry.districts,
            KbEntry.index_seq,
            Category.path,
            Department.path,
        )
        .outerjoin(Category, Category.id == KbEntry.category_id)
        .outerjoin(Department, Department.id == KbEntry.department_id)
        .where(where)
    )
    return db.session.execute(q.execution_options(yield_per=2000))


def _doc(r) -> Doc:
    return Doc(
        id=r.id,
        kind=r.kind,
        code=r.code or "",
        title=r.title,
        terms=r.terms or {},
        category=r[12] or "",
        unit=r[13] or "",
        districts=tuple(r.districts or ()),
        usage=r.usage_count,
        updated_day=_day(r.updated_at),
        valid_from=_day(r.valid_from),
        valid_to=_day(r.valid_to) or NO_DATE,
    )


def _state() -> _State:
    key = db.engine.url.render_as_string(hide_password=True)
    st = _states.get(key)
    if st is None:
        with _guard:
            st = _states.get(key)
            if st is None:
                st = _states[key] = _State(SearchIndex(tokenizer(), synonym_groups()))
    return st


def current_index() -> SearchIndex:
    """This process's index, brought up to the database's latest committed change."""
    st = _state()
    _add_place_words(st.index.tokenizer)
    seq = current_seq()
    if seq != st.seq or time.monotonic() - st.usage_at > USAGE_REFRESH:
        with st.lock:
            _sync(st, seq)
    return st.index


def _sync(st: _State, seq: int) -> None:
    if seq != st.seq:
        if st.seq < 0:  # first build: every published entry, in one bulk load
            newest = seq
            for batch in _rows(KbEntry.status == "published").partitions():
                newest = max([newest, *(r.index_seq for r in batch)])
                st.index.bulk_load([_doc(r) for r in batch])
            st.seq = newest
            rows = ()
        else:
            rows = _rows(KbEntry.index_seq > st.seq)
            st.index.set_synonyms(synonym_groups())
        newest = max(seq, st.seq)
        for r in rows:
            newest = max(newest, r.index_seq)
            if r.status == "published":
                st.index.upsert(_doc(r))
            else:
                st.index.remove(r.id)
        st.seq = newest
    if time.monotonic() - st.usage_at > USAGE_REFRESH:
        usage = dict(
            db.session.execute(
                sa.select(KbEntry.id, KbEntry.usage_count).where(KbEntry.status == "published", KbEntry.usage_count > 0)
            ).all()
        )
        st.index.set_usage(usage)
        st.usage_at = time.monotonic()


def today_ordinal() -> int:
    return date.today().toordinal()
