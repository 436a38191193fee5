"""一号一档 on PostgreSQL: the whole citizen file in one statement (one round trip).

The caller's-file look-up runs while the phone rings, so it must not cost a round trip per part of the
file. This statement returns one row: the citizen's own columns, each list of the file as a JSON array
built by PostgreSQL (already limited to what the file shows, newest first) and the two counts behind the
flags. ``hotline.citizens.file`` turns it into the same dict as its portable path (SQLite), which runs
one plain query per part instead.
"""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import sqlalchemy as sa

from hotline.cases.workflow import OPEN_STATES

OPEN_LIMIT = 20  # open cases shown (newest first)
RECENT = 10  # past cases, calls, ratings and external records shown (newest first)

_OPEN = ", ".join(f"'{s.value}'" for s in sorted(OPEN_STATES))  # our own enum values: safe to inline


def _cases(which: str, limit: int) -> str:
    """The caller's open or past cases (from ``k``) as a JSON array, newest first."""
    return f"""(SELECT json_agg(json_build_object('number', x.number, 'status', x.status, 'kind', x.kind,
        'title', x.title, 'created_at', x.created_at, 'department_code', d.code) ORDER BY x.id DESC)
     FROM (SELECT * FROM k WHERE {which} ORDER BY id DESC LIMIT {limit}) x
     LEFT JOIN departments d ON d.id = x.lead_department_id)"""  # noqa: S608 — this module's constants only


def _statement(citizen_from: str) -> sa.TextClause:
    # ``k`` is read once per look-up (one index range scan of the caller's cases) and used three times:
    # open cases, past cases and the recent-contacts count.
    return sa.text(f"""
WITH c AS ({citizen_from}),
k AS MATERIALIZED (
    SELECT id, number, status, kind, title, created_at, lead_department_id, status IN ({_OPEN}) AS is_open
    FROM cases WHERE citizen_id = (SELECT id FROM c)
)
SELECT c.id, c.name_enc, c.tags, c.merged_into_id,
    (SELECT json_agg(json_build_object('phone', p.masked, 'kind', p.kind) ORDER BY p.id)
     FROM citizen_phones p WHERE p.citizen_id = c.id) AS phones,
    {_cases("is_open", OPEN_LIMIT)} AS open_cases,
    {_cases("NOT is_open", RECENT)} AS past_cases,
    (SELECT json_agg(json_build_object('call_id', x.call_id, 'status', x.status,
                                       'at', coalesce(x.ringing_at, x.created_at),
                                       'duration_seconds', x.duration_seconds) ORDER BY x.id DESC)
     FROM (SELECT id, call_id, status, ringing_at, created_at, duration_seconds FROM calls
           WHERE citizen_id = c.id ORDER BY id DESC LIMIT {RECENT}) x) AS calls,
    (SELECT json_agg(json_build_object('id', x.id, 'score', x.score, 'resolved', x.resolved, 'comment', x.comment,
                                       'channel', x.channel, 'purpose', x.purpose, 'excluded', x.excluded,
                                       'created_at', x.created_at) ORDER BY x.id DESC)
     FROM (SELECT id, score, resolved, comment, channel, purpose, excluded, created_at FROM ratings
           WHERE citizen_id = c.id ORDER BY id DESC LIMIT {RECENT}) x) AS ratings,
    (SELECT json_agg(json_build_object('source', x.source, 'ref', x.ref, 'title', x.title, 'status', x.status,
                                       'occurred_at', x.occurred_at) ORDER BY x.id DESC)
     FROM (SELECT id, source, ref, title, status, occurred_at FROM external_records
           WHERE citizen_id = c.id ORDER BY id DESC LIMIT {RECENT}) x) AS records,
    (SELECT count(*) FROM ratings WHERE citizen_id = c.id AND score <= 2) AS poor,
    (SELECT count(*) FROM k WHERE created_at >= :since)
      + (SELECT count(*) FROM calls WHERE citizen_id = c.id AND created_at >= :since) AS contacts
FROM c""")  # noqa: S608 — only this module's constants are formatted in; values are bound


BY_PHONE_HASH = _statement(
    "SELECT ci.id, ci.name_enc, ci.tags, ci.merged_into_id FROM citizen_phones p "
    "JOIN citizens ci ON ci.id = p.citizen_id WHERE p.phone_hash = :key"
)
BY_CITIZEN_ID = _statement("SELECT id, name_enc, tags, merged_into_id FROM citizens WHERE id = :key")


def utc(value: str | None) -> datetime | None:
    """A timestamp as PostgreSQL writes it in JSON (naive UTC) → the aware datetime the ORM would give."""
    return datetime.fromisoformat(value).replace(tzinfo=UTC) if value else None


def fetch(session, statement: sa.TextClause, key, since: datetime):
    """The file's row, or None. Timestamps inside the JSON arrays are still strings (see ``parts``)."""
    return session.execute(statement, {"key": key, "since": since.astimezone(UTC).replace(tzinfo=None)}).first()


def parts(row) -> dict:
    """The row's lists as the portable path returns them: case/rating rows with attributes, aware datetimes."""

    def cases(items):
        return [{**c, "created_at": utc(c["created_at"])} for c in items or []]

    return {
        "phones": row.phones or [],
        "open_cases": cases(row.open_cases),
        "past_cases": cases(row.past_cases),
        "calls": [{**c, "at": utc(c["at"])} for c in row.calls or []],
        "ratings": [SimpleNamespace(**{**r, "created_at": utc(r["created_at"])}) for r in row.ratings or []],
        "records": [{**r, "occurred_at": utc(r["occurred_at"])} for r in row.records or []],
        "poor": row.poor,
        "contacts": row.contacts,
    }
