"""并单: find open cases about the same matter as a new one (same place, similar text, recent).

Candidates come from an index, never a scan of the cases: every open case keeps its MinHash band keys
(``routing.duplicates.band_keys`` scoped by its district) in ``case_dup_keys``; a new text's keys find the
open cases sharing the most bands (texts with similar character bigrams), restricted in SQL to the same
place and the time window, at most CANDIDATES. rapidfuzz (``routing.duplicates``) has the last
word. Keys are written when a case is registered and deleted when it is closed or merged (``forget``).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from functools import lru_cache

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app

from hotline.cases.workflow import CaseState
from hotline.dispatch.tables import tables  # cached per process by the routing version
from hotline.extensions import db
from hotline.models import Case, CaseDupKey, Department
from hotline.models.types import UTCDateTime
from routing.duplicates import band_keys, find_duplicates
from routing.matter import matter_score, topic_keys, topics_of
from routing.text import normalize

CANDIDATES = 30  # rows handed to rapidfuzz at most (the ones sharing the most bands)
# newest postings read per probe key: where recall stops rising (measurements: tests/bench/README.md, dup_check)
PER_KEY = 300
CLOSED = (CaseState.CLOSED.value, CaseState.MERGED.value)
NO_DISTRICT = "-"


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
        return [NO_DISTRICT, *(f"W:{code}" for code in tables().district_codes)]
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
    return list(tables().areas.get(unit.id, (unit.id,)))


_INSERT_KEYS_PG = sa.text("INSERT INTO case_dup_keys (key, case_id) SELECT unnest(CAST(:keys AS BIGINT[])), :case_id")


def topics(content: str) -> tuple[str, ...]:
    return _matter(content)[0]


def _without_place(content: str) -> str:
    """The text with the named place taken out: two short reports naming the same estate are not alike for that."""
    spot = _matter(content)[1]
    return normalize(content).replace(spot, "") if spot else content


@lru_cache(maxsize=2048)
def _matter(content: str) -> tuple[tuple[str, ...], str]:
    """The case's matter as "leaf@place" (routing/matter.py): the fine router's likeliest category leaves for the
    text at the estate, road or landmark it names (a district or street name alone is too broad). Cached: the
    duplicate check scores the same open cases again and again."""
    t = tables()
    if t.fine is None or t.gazetteer is None:
        return (), ""
    spot = t.gazetteer.named_spot(content)
    if spot is None or not _named_spot(spot, t.gazetteer.names.values()):
        return (), ""
    ranked = t.fine.rank(normalize(content).replace(spot, " "), None, None, k=3)  # the matter, not the place's name
    leaves = [c.path for c in ranked if c.score >= 0.25 and c.words][:2]
    return tuple(topics_of(leaves, spot)), spot


def _named_spot(alias: str, unit_names) -> bool:
    """An estate, road or landmark — not a district or street (or a short form of one)."""
    if len(alias) < 3 or alias in unit_names or alias.endswith(("县", "街道", "街办", "镇", "乡", "市")):
        return False
    return not alias.endswith("区") or alias.endswith(("小区", "社区", "园区", "景区", "校区", "厂区"))


def _keys(content: str, scope: str) -> list[int]:
    return [*band_keys(content, scope), *topic_keys(list(topics(content)), scope)]


def remember(case: Case) -> None:
    """Store the keys of a newly registered (open) case."""
    keys = {k for scope in scopes_of(case.district) for k in _keys(case.content, scope)}
    if not keys:
        return
    if db.session.get_bind().dialect.name == "postgresql":  # one short statement (an executemany: one per key)
        db.session.execute(_INSERT_KEYS_PG, {"keys": sorted(keys), "case_id": case.id})
    else:
        db.session.execute(sa.insert(CaseDupKey.__table__), [{"key": k, "case_id": case.id} for k in sorted(keys)])


def forget(case: Case) -> None:
    """A closed or merged case is no longer a candidate."""
    if case.id is not None:
        db.session.execute(sa.delete(CaseDupKey).where(CaseDupKey.case_id == case.id))


def prune_batch(cutoff: datetime, after: int = 0, cases: int = 1000) -> tuple[int, int | None]:
    """Drop the keys of cases registered before ``cutoff`` (the window's start) among the ``cases`` oldest keyed
    case ids above ``after``: they can no longer be candidates, yet a case that stays open for months would keep
    them for ever. Returns (keys deleted, the id to continue after — None once a batch holds no old case: ids
    grow with registration time, so the rest is inside the window)."""
    oldest = (
        sa.select(CaseDupKey.case_id)
        .where(CaseDupKey.case_id > after)
        .distinct()
        .order_by(CaseDupKey.case_id)
        .limit(cases)
        .scalar_subquery()
    )
    rows = db.session.execute(sa.select(Case.id, Case.created_at).where(Case.id.in_(oldest))).all()
    old = [case_id for case_id, created in rows if created < cutoff]
    if not old:
        return 0, None
    deleted = db.session.execute(sa.delete(CaseDupKey).where(CaseDupKey.case_id.in_(old))).rowcount or 0
    return deleted, max(case_id for case_id, _ in rows)


def _probe_keys(content: str, unit: Department | None) -> list[int]:
    return [k for scope in probe_scopes(unit) for k in _keys(content, scope)]


_SELECT = (
    "SELECT c.id, c.number, c.content, c.created_at, c.status, c.title FROM ({top}) t "
    "JOIN cases c ON c.id = t.case_id "
    "WHERE c.status NOT IN ('closed', 'merged') AND c.created_at >= :since AND c.id != :exclude {areas}"
    "ORDER BY t.hits DESC, c.created_at DESC LIMIT :candidates"
)
_TOP = "SELECT case_id, count(*) AS hits FROM ({postings}) p GROUP BY case_id ORDER BY hits DESC LIMIT :top"


SQLITE_COMPOUND = 400  # SQLite refuses a compound SELECT of more than 500 terms (SQLITE_MAX_COMPOUND_SELECT)


def _union_all(selects: list[str]) -> str:
    """``selects`` joined by UNION ALL, nested in chunks when there are more than SQLite allows in one compound
    (a case with no place probes every district: 16 keys × (1 + districts))."""
    if len(selects) <= SQLITE_COMPOUND:
        return " UNION ALL ".join(selects)
    chunks = [selects[i : i + SQLITE_COMPOUND] for i in range(0, len(selects), SQLITE_COMPOUND)]
    return _union_all([f"SELECT case_id FROM ({' UNION ALL '.join(chunk)})" for chunk in chunks])  # noqa: S608 — our own SELECTs


@lru_cache(maxsize=64)
def _statement(dialect: str, n_keys: int, with_areas: bool) -> sa.TextClause:
    """The candidate query, as SQL text built once per process and shape (a SQLAlchemy construct of this
    size costs milliseconds per execution just to find its compiled form in the cache).

    Each key contributes only its PER_KEY newest postings (a backward range scan of the primary key
    (key, case_id)): a burst of identical reports — a water cut, a mass incident — would otherwise make
    every probe count thousands of postings. The newest are the likeliest matches; the window drops the
    rest anyway. PostgreSQL takes the keys as one array (LATERAL per key); SQLite a UNION ALL per key."""
    if dialect == "postgresql":
        postings = (
            "SELECT d.case_id FROM unnest(CAST(:keys AS BIGINT[])) AS q(key) CROSS JOIN LATERAL "
            "(SELECT case_id FROM case_dup_keys WHERE key = q.key ORDER BY case_id DESC LIMIT :per_key) d"
        )
        areas = "AND (c.district_id = ANY(CAST(:areas AS INTEGER[])) OR c.district_id IS NULL) " if with_areas else ""
    else:
        postings = _union_all(
            [
                f"SELECT case_id FROM (SELECT case_id FROM case_dup_keys WHERE key = :k{i} "  # noqa: S608 — names only
                "ORDER BY case_id DESC LIMIT :per_key)"
                for i in range(n_keys)
            ]
        )
        areas = (
            "AND (c.district_id IN (SELECT value FROM json_each(:areas)) OR c.district_id IS NULL) "
            if with_areas
            else ""
        )
    text = sa.text(_SELECT.format(top=_TOP.format(postings=postings), areas=areas))
    return text.columns(
        sa.column("id", sa.Integer),
        sa.column("number", sa.String),
        sa.column("content", sa.Text),
        sa.column("created_at", UTCDateTime),
        sa.column("status", sa.String),
        sa.column("title", sa.String),
    )


def candidates(content: str, unit: Department | None, since: datetime, exclude_id: int | None = None):
    """Open cases sharing the most keys with ``content`` (more shared bands = more similar), same place,
    inside the window; at most CANDIDATES rows whatever the table size."""
    keys = sorted(set(_probe_keys(content, unit)))
    if not keys:
        return []
    areas = area_ids(unit)
    dialect = db.session.get_bind().dialect.name
    params = {
        "since": since,
        "exclude": exclude_id if exclude_id is not None else -1,
        "per_key": PER_KEY,
        "top": CANDIDATES + 20,
        "candidates": CANDIDATES,
    }
    if dialect == "postgresql":
        params["keys"] = keys
        if areas is not None:
            params["areas"] = areas
    else:
        params.update({f"k{i}": key for i, key in enumerate(keys)})
        if areas is not None:
            params["areas"] = json.dumps(areas)
    return db.session.execute(
        _statement(dialect, len(keys) if dialect != "postgresql" else 0, areas is not None), params
    ).all()


def find(
    content: str,
    unit: Department | None,
    now: datetime,
    *,
    exclude_id: int | None = None,
    limit: int = 5,
    peers: tuple = (),
) -> list[dict]:
    """Likely duplicates of ``content`` placed at ``unit``: ``[{number, title, status, score, created_at}]``.
    ``peers``: (case, unit) of cases routed just before in the same batch whose keys are not stored yet."""
    content = (content or "").strip()
    if len(content) < 2:
        return []
    since = now - timedelta(days=current_app.config["HOTLINE"].duplicate_window_days)
    return _scored(content, [*candidates(content, unit, since, exclude_id), *_peer_rows(content, unit, peers)], limit)


def find_among(content: str, unit: Department | None, peers: tuple, limit: int = 5) -> list[dict]:
    """Like ``find``, but only among ``peers`` ((case, unit) pairs, e.g. cases another routing job has just
    committed), with no look-up in the key index."""
    content = (content or "").strip()
    if len(content) < 2:
        return []
    return _scored(content, [case for case in _peer_rows(content, unit, peers) if case.status not in CLOSED], limit)


def _scored(content: str, rows: list, limit: int) -> list[dict]:
    """rapidfuzz's verdict over candidate rows (id, number, title, content, status, created_at)."""
    by_id = {r.id: r for r in rows}
    threshold = current_app.config["HOTLINE"].duplicate_threshold
    scored = find_duplicates(
        (_without_place(content), None),
        [(r.id, _without_place(r.content), None, r.created_at) for r in by_id.values()],
        threshold=0.0,
        limit=len(by_id),
    )
    mine, spot = _matter(content)

    def theirs(text: str) -> tuple[str, ...]:  # only candidates naming the same place can be the same matter there
        return topics(text) if mine and spot in normalize(text) else ()

    found = [
        (i, round(matter_score(x, mine, theirs(by_id[i].content), content, by_id[i].content), 4)) for i, x in scored
    ]
    found = [f for f in found if f[1] >= threshold]
    found.sort(key=lambda f: (-f[1], -by_id[f[0]].created_at.timestamp()))
    found = found[:limit]
    return [
        {
            "number": by_id[i].number,
            "title": by_id[i].title,
            "status": by_id[i].status,
            "score": score,
            "created_at": by_id[i].created_at.isoformat(),
        }
        for i, score in found
    ]


def _peer_rows(content: str, unit: Department | None, peers: tuple) -> list:
    """The peers that the candidate query would return if their keys were stored: a shared key, the same area
    (open and inside the window: they were registered a moment ago)."""
    if not peers:
        return []
    probe = set(_probe_keys(content, unit))
    areas = area_ids(unit)
    return [
        case
        for case, at in peers
        if (areas is None or at is None or at.id in areas)
        and not probe.isdisjoint(_stored_keys(case.content, tuple(scopes_of(at))))
    ]


@lru_cache(maxsize=512)
def _stored_keys(content: str, scopes: tuple[str, ...]) -> frozenset[int]:
    """The keys ``remember`` stores for a text placed in ``scopes``: a routing job compares each of its cases
    with the same peers (up to a batch of another job's cases), so each peer's keys are computed once."""
    return frozenset(k for scope in scopes for k in _keys(content, scope))


def rebuild_keys(batch: int = 2000) -> int:
    """(Re)write the keys of every open case, e.g. after upgrading a database that had cases before the
    duplicate check existed (``flask routing dupkeys``). Returns the number of open cases."""
    done, last = 0, 0
    while True:
        cases = db.session.scalars(
            sa.select(Case)
            .where(Case.status.not_in(CLOSED), Case.id > last)
            .options(
                so.selectinload(Case.district).selectinload(Department.parent),
                so.lazyload(Case.events),
                so.lazyload(Case.assignments),
            )
            .order_by(Case.id)
            .limit(batch)
        ).all()
        if not cases:
            return done
        db.session.execute(sa.delete(CaseDupKey).where(CaseDupKey.case_id.in_([c.id for c in cases])))
        for case in cases:
            remember(case)
        db.session.flush()
        done, last = done + len(cases), cases[-1].id
