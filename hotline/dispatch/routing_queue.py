"""The routing queue: a new case is routed by a worker job a moment after its registration commits.

Registration only inserts the case with ``routing_pending`` set and wakes the job after the commit; the job
(``workers.jobs.routing.route_cases``) takes the pending cases in batches, runs ``route_new_case`` on each
(suggestions, duplicates, place, auto-dispatch), clears the mark and commits per batch. The intake request
therefore never waits for the classifier or the duplicate check, whose cost grows with a burst of similar
reports; the job's cost is spread over as many workers as there are.

Nothing is lost: the mark is durable (the partial index ``ix_cases_routing_pending`` holds the queue), the
wake-up is only a hint, and the scheduler runs the job every minute as well. Two jobs at once are safe: on
PostgreSQL each claims its batch with ``FOR UPDATE SKIP LOCKED``; SQLite serialises the writers (and plans
each case in a read transaction first, so the single write lock is held only to store the result).

Duplicates across parallel jobs (PostgreSQL): a batch's duplicate-check keys become visible to the other jobs
only when it commits, so two reports of the same matter routed at the same moment in two jobs' batches would
not see each other. Each job therefore notes the last committed batch (``routing_batches``) before it looks
up duplicates, and just before its commit takes a transaction-level advisory lock (``COMMIT_LOCK``), checks
its cases in memory against the cases of the batches committed since, and records its own batch: the later
of two such reports lists the earlier (one already auto-dispatched keeps its unit; the dispatcher sees the
pair and can merge). Only that check and the commit are serialised: on PostgreSQL with a backlog of
near-identical reports (the worst case: every case a candidate of every other) 2 jobs still drain it clearly
faster than 1 with this check, a little slower than with no check, while a lock held around the whole
duplicate look-up (the most expensive part of routing) gained nothing (measurements: tests/bench/README.md,
create_case, routing job).

On SQLite every job plans and claims the oldest pending cases: a plan made before another job's commit is
for the cases that job has just routed, so it is dropped and the next batch is planned inside the write
transaction, which sees every commit.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import g
from rq.timeouts import BaseTimeoutException

from hotline.cases.workflow import CaseState
from hotline.db.dialect import is_postgres
from hotline.db.engine import READ_ONLY
from hotline.db.transactions import savepoint
from hotline.dispatch.duplicates import find_among
from hotline.dispatch.service import plan_routing, route_new_case
from hotline.extensions import db
from hotline.jobs import router_woken, wake_router
from hotline.models import Case, CaseRouting, Department, RoutingBatch

log = logging.getLogger(__name__)

BATCH = 50  # cases per transaction (PostgreSQL)
SQLITE_BATCH = 5  # SQLite: planned without the write lock, then stored in a short write transaction
BUDGET = 120.0  # seconds a job routes before it hands the rest to a new job (RQ's default timeout: 180 s)
COMMIT_LOCK = 0x12345D0B  # PostgreSQL advisory lock: routing jobs record their batches and commit in turn


def pending_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Case).where(Case.routing_pending)) or 0


def _claim(limit: int) -> list[int]:
    query = sa.select(Case.id).where(Case.routing_pending).order_by(Case.id).limit(limit)
    if is_postgres():
        query = query.with_for_update(skip_locked=True)
    return list(db.session.scalars(query))


def _load(ids: list[int]) -> list[Case]:
    """The batch's cases with what routing reads (place, category, timeline, assignments, stored routing)
    in a handful of statements instead of several per case."""
    cases = db.session.scalars(
        sa.select(Case)
        .where(Case.id.in_(ids))
        .order_by(Case.id)
        .options(so.selectinload(Case.district).selectinload(Department.parent), so.selectinload(Case.category))
    ).all()
    db.session.scalars(sa.select(CaseRouting).where(CaseRouting.case_id.in_(ids))).all()  # into the identity map
    return [c for c in cases if c.status not in (CaseState.CLOSED, CaseState.MERGED)]


def _route_one(case_id: int, now: datetime) -> str:
    """Route one claimed case in a savepoint: 'routed', 'skipped' (closed or merged meanwhile) or 'failed'
    (the error is logged and noted for the dispatcher; the case is not retried forever)."""
    case = db.session.get(Case, case_id)
    if case is None or case.status in (CaseState.CLOSED, CaseState.MERGED):
        return "skipped"
    try:
        with savepoint():
            route_new_case(case, now)
        return "routed"
    except BaseTimeoutException:  # the job ran out of time: nothing is wrong with the case, it stays pending
        raise
    except Exception:
        log.exception("routing case %s failed", case_id)
        if db.session.get(CaseRouting, case_id) is None:
            db.session.add(
                CaseRouting(
                    case_id=case_id, suggestions=[], duplicates=[], created_at=now, note="自动分拨出错，请人工派单"
                )
            )
        return "failed"


def _plan_unlocked(batch: int, now: datetime) -> dict:
    """SQLite: plan the next cases (suggestions, place, duplicates: the CPU of routing) in a read transaction,
    which takes no write lock, so registrations go on meanwhile; the write transaction after it only stores
    the plans. A case whose planning fails, or that changed in between, is planned again there."""
    if db.session().in_transaction():  # not at a transaction's start: plan inside the write transaction
        return {}
    db.session.connection(execution_options={READ_ONLY: True})
    plans, peers = {}, []
    try:
        ids = _claim(batch)
        cases = db.session.scalars(
            sa.select(Case)
            .where(Case.id.in_(ids))
            .order_by(Case.id)
            .options(
                so.selectinload(Case.district).selectinload(Department.parent),
                so.lazyload(Case.events),
                so.lazyload(Case.assignments),
            )
        ).all()
        for case in cases:
            if case.status in (CaseState.CLOSED, CaseState.MERGED):
                continue
            try:
                plan = plans[case.id] = plan_routing(case, now, tuple(peers))
            except BaseTimeoutException:
                raise
            except Exception:
                log.warning("planning the routing of case %s failed", case.id, exc_info=True)
                continue
            unit = case.district or (db.session.get(Department, plan.place_id) if plan.place_id else None)
            peers.append((case, unit))  # its keys are stored only in the write transaction
    finally:
        db.session.rollback()
    return plans


def _route_batch(ids: list[int], now: datetime, plans: dict | None = None) -> dict:
    """All of the batch in one savepoint; if any case fails, the batch again case by case, each in its own."""
    plans = plans or {}
    try:
        with savepoint():
            cases = _load(ids)
            for case in cases:
                route_new_case(case, now, plans.get(case.id))
        return {"routed": len(cases), "skipped": len(ids) - len(cases), "failed": 0}
    except BaseTimeoutException:
        raise
    except Exception:
        log.warning("routing batch of %d cases failed; routing them one by one", len(ids), exc_info=True)
    counts = {"routed": 0, "skipped": 0, "failed": 0}
    for case_id in ids:
        counts[_route_one(case_id, now)] += 1
    return counts


def last_batch() -> int:
    """Id of the newest committed routing batch (0: none), read before the batch looks up duplicates."""
    return db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(RoutingBatch.id), 0)))


def commit_turn(ids: list[int], seen: int, now: datetime) -> None:
    """PostgreSQL, just before the batch's commit: wait for the lock (held until this commit, so the batches
    recorded before it are committed), list the cases of the batches committed since ``seen`` as duplicates
    where they are, and record this batch."""
    db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(COMMIT_LOCK)))
    others = [
        i for row in db.session.scalars(sa.select(RoutingBatch.case_ids).where(RoutingBatch.id > seen)) for i in row
    ]
    if others:
        _late_duplicates(ids, others)
    db.session.add(RoutingBatch(case_ids=list(ids), created_at=now))
    db.session.flush()


def _late_duplicates(ids: list[int], others: list[int]) -> None:
    """Add the cases ``others`` (routed by another job meanwhile) to the duplicates of the cases ``ids``."""
    cases = {
        c.id: c
        for c in db.session.scalars(
            sa.select(Case).where(Case.id.in_([*ids, *others])).execution_options(populate_existing=True)
        )
    }

    def unit(case: Case) -> Department | None:  # district_id as stored (routing fills it with a Core UPDATE)
        return db.session.get(Department, case.district_id) if case.district_id else None

    peers = tuple((cases[i], unit(cases[i])) for i in others if i in cases)
    for case_id in ids:
        case = cases.get(case_id)
        routing = db.session.get(CaseRouting, case_id)
        if case is None or routing is None or case.status in (CaseState.CLOSED, CaseState.MERGED):
            continue
        late = find_among(case.content, unit(case), peers)
        if late:
            best: dict[str, dict] = {}
            for d in sorted([*routing.duplicates, *late], key=lambda d: -d["score"]):
                best.setdefault(d["number"], d)
            routing.duplicates = list(best.values())[:5]


def prune_batches(cutoff: datetime) -> int:
    """Daily: batches recorded before ``cutoff`` (a job never runs for longer than RQ's timeout)."""
    return db.session.execute(sa.delete(RoutingBatch).where(RoutingBatch.created_at < cutoff)).rowcount or 0


def route_pending(
    now: datetime | None = None, batch: int | None = None, max_batches: int | None = None, max_seconds: float = BUDGET
) -> dict:
    """Route the pending cases, ``batch`` per transaction, until none is left (or ``max_batches``). A backlog
    longer than ``max_seconds`` (a worker was down for hours) is left to a follow-up job queued at the end, so
    no job runs into RQ's timeout. Returns counts (``more``: a follow-up job was queued). ``now`` is injected
    by tests; otherwise each batch uses the current time."""
    router_woken()
    batch = batch or (BATCH if is_postgres() else SQLITE_BATCH)
    counts = {"routed": 0, "skipped": 0, "failed": 0, "batches": 0, "more": False}
    started = time.monotonic()
    while max_batches is None or counts["batches"] < max_batches:
        when = now or datetime.now(UTC)
        g.pop("routing_tables", None)  # each batch sees the admin's latest rules and mapping
        plans = {} if is_postgres() else _plan_unlocked(batch, when)
        ids = _claim(batch)
        if not ids:
            break
        seen = last_batch() if is_postgres() else None
        for key, value in _route_batch(ids, when, plans).items():
            counts[key] += value
        db.session.execute(
            sa.update(Case)
            .where(Case.id.in_(ids))
            .values(routing_pending=False)
            .execution_options(synchronize_session=False)
        )
        if seen is not None:
            commit_turn(ids, seen, when)
        db.session.commit()  # the batch's emits and enqueues run now
        counts["batches"] += 1
        if time.monotonic() - started >= max_seconds:  # at least one batch per job: always progress
            wake_router()
            counts["more"] = True
            break
    db.session.rollback()  # the last, empty claim's transaction (on SQLite it holds the write lock)
    return counts
