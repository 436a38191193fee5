"""Benchmark ``insight``: figures at scale on PostgreSQL (issue 19).

A dedicated database (``hotline_bench_insight``; dropped afterwards unless --keep) is migrated and seeded, then
filled in SQL (``generate_series``) with ``--insight-cases`` cases spread over 24 months (default 300,000 — fewer
than the issue's 2,000,000 to fit a shared machine; the rollup read cost follows days × keys, not cases), a busy
day of 60,000 cases, and 20,000 cases registered today so far; 60 % of the cases dispatched (a lead assignment,
signed, contacted, replied), a third of those rated. Every past day is rolled up (``roll_day``), then in one
process as the web app runs them (hotline/stats/summaries.py, the code behind /api/v1/stats/*):

- monthly ranking (last full month) and hot topics (category level 2, area level 1) from the rollup: p95 ≤ 300 ms;
- today's live figures (overview of today: channels, kinds, hours, trend): p95 ≤ 300 ms;
- the daily rollup of the 60,000-case day: ≤ 10 s.

    .venv/bin/python -m tests.bench.run --only insight --pg postgresql://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from tests.bench.report import table
from tests.bench.server import ROOT, DbTarget, Instance

NAME = "insight"
TITLE = "Figures: ranking and hot topics from the rollup, today's live figures, the daily rollup"
BENCH_DB = "hotline_bench_insight"
CASES, BUSY_DAY, TODAY_CASES = 300_000, 60_000, 20_000
TARGET_P95_MS, TARGET_ROLLUP_S = 300.0, 10.0
REPEATS = 30

FILL = """
WITH cats AS (SELECT array_agg(id) a FROM categories WHERE level = 3),
     streets AS (SELECT array_agg(id) a FROM departments WHERE kind = 'street'),
     cit AS (SELECT min(id) c FROM citizens), ph AS (SELECT min(id) p FROM citizen_phones)
INSERT INTO cases (number, kind, channel, urgency, status, title, content, address, category_id, district_id,
                   citizen_id, phone_id, confidential, complex, created_at, updated_at, version, routing_pending)
SELECT 'GB' || lpad(g::text, 10, '0'),
       (ARRAY['consult','complaint','help','report','suggestion','praise'])[1 + (g * 7) %% 6],
       (ARRAY['phone','phone','phone','wechat','web','app','sms'])[1 + (g * 13) %% 7],
       'normal', 'closed', '压测工单', '压测工单内容', '',
       cats.a[1 + (g * 31) %% array_length(cats.a, 1)], streets.a[1 + (g * 17) %% array_length(streets.a, 1)],
       cit.c, ph.p, false, false, t, t, 1, false
FROM cats, streets, cit, ph, generate_series(%(first)s, %(last)s) g,
     LATERAL (SELECT %(start)s::timestamp + (%(span)s::float * ((g - %(first)s)::float / GREATEST(%(n)s - 1, 1)))
              * interval '1 second' AS t) tt
"""
ASSIGN = """
INSERT INTO assignments (case_id, department_id, role, status, assigned_at, signed_at, contacted_at, replied_at,
                         deadline_sign, deadline_contact, deadline_reply, extensions_used)
SELECT c.id, COALESCE(cat.department_id, c.district_id), 'lead', 'replied', c.created_at + interval '1 hour',
       c.created_at + interval '3 hours', c.created_at + interval '5 hours', c.created_at + interval '2 days',
       c.created_at + interval '1 day', c.created_at + interval '1 day', c.created_at + interval '3 days', 0
FROM cases c JOIN categories cat ON cat.id = c.category_id
WHERE c.id BETWEEN %(lo)s AND %(hi)s AND c.id %% 5 < 3
"""
RATE = """
INSERT INTO ratings (case_id, citizen_id, department_id, score, resolved, comment, channel, purpose, excluded,
                     created_at)
SELECT a.case_id, c.citizen_id, a.department_id, 1 + (a.case_id * 7) %% 5, (a.case_id %% 4) <> 0, '', 'sms',
       'reply', false, a.replied_at + interval '2 hours'
FROM assignments a JOIN cases c ON c.id = a.case_id
WHERE a.case_id BETWEEN %(lo)s AND %(hi)s AND a.case_id %% 3 = 0
"""


def _fill(conn, start: datetime, seconds: float, n: int, first: int) -> None:
    """``n`` cases from ``start`` evenly over ``seconds`` (numbers from ``first``), with assignments and ratings."""
    args = {"first": first, "last": first + n - 1, "n": n, "span": seconds, "start": start.replace(tzinfo=None)}
    conn.exec_driver_sql(FILL, args)
    lo, hi = conn.exec_driver_sql(
        "SELECT min(id), max(id) FROM cases WHERE number BETWEEN %(a)s AND %(b)s",
        {"a": f"GB{first:010d}", "b": f"GB{first + n - 1:010d}"},
    ).one()
    conn.exec_driver_sql(ASSIGN, {"lo": lo, "hi": hi})
    conn.exec_driver_sql(RATE, {"lo": lo, "hi": hi})


def _load(cases: int, zone: ZoneInfo, now: datetime, today: date, busy: date) -> float:
    """One citizen (through the app), then the cases in SQL; returns seconds."""
    from hotline.citizens.phones import normalize
    from hotline.citizens.profile import get_or_create
    from hotline.extensions import db

    started = time.perf_counter()
    get_or_create(normalize("13900000000"), None, now)
    db.session.commit()
    start = datetime.combine(today - timedelta(days=730), datetime.min.time(), zone).astimezone(UTC)
    midnight = datetime.combine(today, datetime.min.time(), zone).astimezone(UTC)
    busy_start = datetime.combine(busy, datetime.min.time(), zone).astimezone(UTC)
    with db.engine.begin() as conn:
        _fill(conn, start, (midnight - start).total_seconds() - 1, cases, 1)
        _fill(conn, busy_start, 86_399, BUSY_DAY, cases + 1)
        _fill(conn, midnight, max((now - midnight).total_seconds() - 1, 1), TODAY_CASES, cases + BUSY_DAY + 1)
        conn.exec_driver_sql("ANALYZE")
    return round(time.perf_counter() - started, 1)


def child(argv: list[str]) -> None:
    """In the bench instance's environment: load, roll up, then time the figures; prints one JSON line."""
    import logging

    from hotline import create_app
    from hotline.extensions import db
    from hotline.stats import rollup, summaries
    from hotline.stats.figures import Clock
    from hotline.stats.periods import Period

    logging.disable(logging.WARNING)
    cases = int(argv[0])
    app = create_app()
    out: dict = {}
    with app.app_context():
        zone = ZoneInfo(app.config["HOTLINE"].timezone)
        now = datetime.now(UTC)
        today = now.astimezone(zone).date()
        busy = today - timedelta(days=20)
        out["load_seconds"] = _load(cases, zone, now, today, busy)
        started = time.perf_counter()
        days = rollup.days_between(today - timedelta(days=730), today - timedelta(days=1))
        for day in days:
            rollup.roll_day(day, zone)
            db.session.commit()
        out["rollup_all_s"] = round(time.perf_counter() - started, 1)
        out["rollup_days"] = len(days)
        busy_runs = []
        for _ in range(3):  # the busy day again: the job's re-run (idempotent), timed
            started = time.perf_counter()
            cases = rollup.roll_day(busy, zone)
            db.session.commit()
            busy_runs.append(time.perf_counter() - started)
        out["busy_day_cases"], out["busy_day_rollup_s"] = cases, round(max(busy_runs), 3)
        clock = Clock(zone, datetime.now(UTC))
        month_end = today.replace(day=1) - timedelta(days=1)
        month = Period(month_end.replace(day=1), month_end)
        settings = app.config["HOTLINE"]
        runs = {
            "ranking_month": lambda: summaries.ranking(month, clock, None, settings),
            "hot_category_month": lambda: summaries.hot(month, clock, None, "category", 2, 10),
            "hot_area_month": lambda: summaries.hot(month, clock, None, "area", 1, 10),
            "today_live": lambda: summaries.overview(Period(today, today), clock, None),
        }
        for name, fn in runs.items():
            fn()  # warm: compiled statements, connections
            times = []
            for _ in range(REPEATS):
                started = time.perf_counter()
                fn()
                times.append((time.perf_counter() - started) * 1000)
                db.session.remove()
            times.sort()
            out[name] = {
                "p50_ms": round(statistics.median(times), 1),
                "p95_ms": round(times[int(0.95 * (len(times) - 1))], 1),
                "max_ms": round(times[-1], 1),
            }
        out["today_cases"] = summaries.overview(Period(today, today), clock, None)["total"]
    print(json.dumps(out))


def run(ctx) -> tuple[dict, str]:
    pg = next((d for d in ctx.databases if d.name == "postgresql"), None)
    if pg is None:
        results = {"skipped": "no PostgreSQL server given (--pg URL or DATABASE_URL)"}
        return results, f"## {NAME} — {TITLE}\n\nSkipped: {results['skipped']}.\n"
    cases = getattr(ctx, "insight_cases", CASES)
    instance = Instance(DbTarget("postgresql", pg.url, BENCH_DB), redis_url=ctx.redis_url, keep=ctx.keep)
    try:
        instance.prepare()
        proc = subprocess.run(
            [sys.executable, "-m", "tests.bench.insight", str(cases)],
            cwd=ROOT,
            env=instance.env,
            capture_output=True,
            text=True,
            timeout=3600,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"insight child failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
        measured = json.loads(proc.stdout.strip().splitlines()[-1])
    finally:
        instance.cleanup()
        if not ctx.keep:
            from tests.bench.sla_sweep import _drop

            _drop(pg.url, BENCH_DB)
    results = {"cases": cases + BUSY_DAY + TODAY_CASES, **measured}
    results["targets"] = {
        "ranking_hot_p95_ms": max(
            measured[k]["p95_ms"] for k in ("ranking_month", "hot_category_month", "hot_area_month")
        )
        <= TARGET_P95_MS,
        "today_live_p95_ms": measured["today_live"]["p95_ms"] <= TARGET_P95_MS,
        "busy_day_rollup_s": measured["busy_day_rollup_s"] <= TARGET_ROLLUP_S,
    }
    return results, markdown(results)


def markdown(r: dict) -> str:
    rows = [
        [name, r[name]["p50_ms"], r[name]["p95_ms"], r[name]["max_ms"], f"≤ {TARGET_P95_MS:g}"]
        for name in ("ranking_month", "hot_category_month", "hot_area_month", "today_live")
    ]
    return (
        f"## {NAME} — {TITLE}\n\n"
        f"PostgreSQL, {r['cases']:,} cases over 24 months (a busy day of {r['busy_day_cases']:,}; "
        f"{r['today_cases']:,} today), loaded in {r['load_seconds']} s; {r['rollup_days']} days rolled up in "
        f"{r['rollup_all_s']} s. Figures timed in-process ({REPEATS} runs each, the code behind /api/v1/stats/*).\n\n"
        + table(["figure", "p50 ms", "p95 ms", "max ms", "target ms"], rows)
        + f"\n\nDaily rollup of the busy day ({r['busy_day_cases']:,} cases): {r['busy_day_rollup_s']} s "
        f"(target ≤ {TARGET_ROLLUP_S:g} s). Targets met: {r['targets']}.\n"
    )


if __name__ == "__main__":
    child(sys.argv[1:])
