"""Benchmark ``sla_sweep``'s data: open cases with signed assignments and their timers, generated and loaded by
COPY, a chosen number due at each sweep instant (see the module docstring of ``tests.bench.sla_sweep``)."""

from __future__ import annotations

import contextlib
import itertools
import random
import time
from datetime import UTC, datetime, timedelta

T0 = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)  # sweep instants: T0 + 3 h per phase (+ 1 h fixed, + 2 h scattered)
RUNS = 10  # due rows come in this many runs of neighbours (see positions)
CHUNK = 20_000  # rows per COPY round: memory stays flat however many are loaded

CASE_COLS = (
    "id",
    "number",
    "kind",
    "channel",
    "urgency",
    "status",
    "title",
    "content",
    "address",
    "citizen_id",
    "phone_id",
    "confidential",
    "complex",
    "lead_department_id",
    "deadline_sign",
    "deadline_contact",
    "deadline_reply",
    "created_at",
    "updated_at",
    "version",
)
ASSIGNMENT_COLS = (
    "id",
    "case_id",
    "department_id",
    "role",
    "status",
    "assigned_at",
    "signed_at",
    "contacted_at",
    "deadline_sign",
    "deadline_contact",
    "deadline_reply",
    "extensions_used",
    "yellow_sign_at",
    "yellow_contact_at",
    "yellow_reply_at",
)
TIMER_COLS = ("assignment_id", "next_card_at")


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)  # the columns hold naive UTC


def positions(rnd: random.Random, count: int, due: dict[datetime, tuple[int, bool]]) -> dict[int, datetime]:
    """Which of ``count`` new rows are due at which instant. ``(n, scattered)``: n rows anywhere (the worst case
    for the database: every row on a page of its own), or in RUNS runs of neighbours — what really falls due in
    the same minute was dispatched at about the same time (same limit), so it sits on neighbouring pages."""
    out: dict[int, datetime] = {}
    for instant, (n, scattered) in due.items():
        if scattered:
            while n:
                i = rnd.randrange(count)
                if i not in out:
                    out[i], n = instant, n - 1
            continue
        size = -(-n // RUNS)
        slots = list(range(0, count - size + 1, size))
        rnd.shuffle(slots)
        for start in slots:
            block = [i for i in range(start, start + min(size, n)) if i not in out]
            if len(block) < min(size, n):
                continue
            out.update(dict.fromkeys(block, instant))
            n -= len(block)
            if not n:
                break
    return out


def rows(
    first_id: int, count: int, due: dict[datetime, tuple[int, bool]], departments: list[int], citizen: tuple[int, int]
):
    """(case, assignment, timer) rows: ``due[instant] = (n, scattered)`` assignments whose reply yellow instant
    is just before ``instant`` (see ``positions``), the rest 1 to 20 days after the last sweep."""
    rnd = random.Random(first_id)
    due_at = positions(rnd, count, due)
    for i in range(count):
        cid = first_id + i
        dept = departments[cid % len(departments)]
        assigned = T0 - timedelta(days=3, minutes=rnd.randrange(600))
        instant = due_at.get(i)
        later = T0 + timedelta(days=1, seconds=rnd.randrange(19 * 86400))
        yellow = instant - timedelta(seconds=30) if instant else later
        reply = yellow + timedelta(days=2)
        sign, contact = assigned + timedelta(hours=8), assigned + timedelta(hours=8)
        yield (
            (
                cid,
                f"GB{cid:012d}",
                "complaint",
                "phone",
                "normal",
                "handling",
                "小区噪音扰民",
                "夜间施工噪音扰民，请处理。",
                "人民路1号",
                citizen[0],
                citizen[1],
                False,
                False,
                dept,
                _naive(sign),
                _naive(contact),
                _naive(reply),
                _naive(assigned),
                _naive(assigned),
                2,
            ),
            (
                cid,
                cid,
                dept,
                "lead",
                "signed",
                _naive(assigned),
                _naive(assigned + timedelta(minutes=20)),
                _naive(assigned + timedelta(hours=1)),
                _naive(sign),
                _naive(contact),
                _naive(reply),
                0,
                _naive(assigned + timedelta(hours=6)),
                _naive(assigned + timedelta(hours=6)),
                _naive(yellow),
            ),
            (cid, _naive(yellow)),
        )


def load(url: str, first_id: int, count: int, due: dict[datetime, tuple[int, bool]]) -> float:
    """COPY ``count`` cases + assignments into the bench database; returns seconds (VACUUM ANALYZE included)."""
    import psycopg

    started = time.monotonic()
    with psycopg.connect(url) as conn:
        departments = [r[0] for r in conn.execute("SELECT id FROM departments WHERE kind <> 'city' ORDER BY id")]
        citizen = conn.execute("SELECT citizen_id, id FROM citizen_phones ORDER BY id LIMIT 1").fetchone()
        if citizen is None:
            cit = conn.execute(
                "INSERT INTO citizens (tags, created_at, updated_at) VALUES ('[]', now(), now()) RETURNING id"
            ).fetchone()[0]
            phone = conn.execute(
                "INSERT INTO citizen_phones (citizen_id, phone_hash, phone_enc, masked, kind, "
                "created_at) VALUES (%s, 'bench', 'bench', '139****0000', 'mobile', now()) "
                "RETURNING id",
                (cit,),
            ).fetchone()[0]
            citizen = (cit, phone)
        pairs = rows(first_id, count, due, departments, citizen)
        with conn.cursor() as cur:
            while chunk := list(itertools.islice(pairs, CHUNK)):  # cases first: assignments reference them
                for i, (table, cols) in enumerate(
                    (("cases", CASE_COLS), ("assignments", ASSIGNMENT_COLS), ("sla_timers", TIMER_COLS))
                ):
                    with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                        for row in chunk:
                            copy.write_row(row[i])
        conn.commit()
        for name in ("cases", "assignments"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name}))")
        conn.commit()
        conn.autocommit = True
        # As a long-running database would be: statistics, visibility map and hint bits set, dirty pages
        # written — otherwise the first sweep pays for the bulk load (setting hint bits dirties every page it reads).
        conn.execute("VACUUM (ANALYZE) cases, assignments, sla_timers")
        with contextlib.suppress(psycopg.errors.InsufficientPrivilege):
            conn.execute("CHECKPOINT")
    return time.monotonic() - started
