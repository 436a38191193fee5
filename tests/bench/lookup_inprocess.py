"""In-process profile of one look-up for the ``profile_lookup`` benchmark (Flask test client, same database):
service time, SQL statements and database time per look-up, a step breakdown, cProfile's top functions, the
suggested fix tried without changing the app, and EXPLAIN (ANALYZE, BUFFERS) of every statement."""
from __future__ import annotations

import cProfile
import pstats
import random
import re
import time
from collections import Counter
from pathlib import Path

import sqlalchemy as sa

from tests.bench.lookup_load import PATH
from tests.bench.server import Instance

STEPS = [
    (0, "auth: bearer token → user", "hotline.security", "user_for_token"),
    (0, "view api.citizen_lookup", "@views", "api.citizen_lookup"),
    (1, "phones.normalize (twice: the view, then find_phone)", "hotline.citizens.profile", "normalize"),
    (1, "profile.find_phone (blind index → SELECT citizen_phones)", "hotline.api.citizens", "find_phone"),
    (1, "file.file_summary (all queries + ORM objects + dicts)", "hotline.api.citizens", "file_summary"),
    (2, "file._case_row ×N (dict per case row)", "hotline.citizens.file", "_case_row"),
    (2, "profile.citizen_name (decrypt name)", "hotline.citizens.file", "citizen_name"),
    (1, "jsonify (JSON encoding of the file)", "hotline.api.citizens", "jsonify"),
]


class SqlTimer:
    """Statements and database wall time (cursor execute → result) per phase; keeps the last statements."""

    def __init__(self, engine):
        self.on = False
        self.count = 0
        self.seconds = 0.0
        self.kinds: Counter = Counter()
        self.captured: list[tuple[str, object]] = []
        self.capture = False
        sa.event.listen(engine, "before_cursor_execute", self._before)
        sa.event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_t0"] = time.perf_counter()
        if self.capture:
            self.captured.append((statement, parameters))

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        if not self.on:
            return
        self.seconds += time.perf_counter() - conn.info.pop("bench_t0", time.perf_counter())
        self.count += 1
        one = " ".join(statement.split())
        table_name = m.group(1) if (m := re.search(r"\bFROM (\w+)", one)) else "?"
        self.kinds[f"{one.split(' ', 1)[0]} {table_name}"] += 1


def _resolve(path: str):
    from tests.bench.profile_case import _resolve as resolve

    return resolve(path)


def profile_in_process(instance: Instance, sample: list[str], heavy: list[str], n: int = 200) -> dict:
    """Service time, SQL per look-up, step breakdown, cProfile top and EXPLAIN ANALYZE (heavy caller)."""
    from hotline import create_app
    from hotline.extensions import db
    from tests.bench.profile_case import StepTimers

    app = create_app({"instance": instance.folder, "database_url": instance.database_url})
    client = app.test_client()
    headers = {"Authorization": f"Bearer {instance.token}"}
    with app.app_context():
        timer = SqlTimer(db.engine)

    def get(phone: str) -> dict:
        resp = client.get(PATH + phone, headers=headers)
        assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
        return resp.get_json()

    for phone in sample[:30]:  # warm-up: imports, statement caches, pool, PostgreSQL buffers
        get(phone)
    out: dict = {}
    rng = random.Random(3)
    for label, phones in (("sample", sample), ("heavy", heavy)):
        if not phones:
            continue
        picks = [rng.choice(phones) for _ in range(n)]
        timers = StepTimers()
        for _indent, step, module, attr in STEPS:
            timers.wrap(app.view_functions if module == "@views" else _resolve(module), attr, step)
        timer.on, timer.count, timer.seconds = True, 0, 0.0
        timer.kinds.clear()
        wall = cpu = 0.0
        sizes = []
        try:
            for phone in picks:
                w0, c0 = time.perf_counter(), time.thread_time()
                body = get(phone)
                wall += time.perf_counter() - w0
                cpu += time.thread_time() - c0
                c = body["citizen"] or {}
                sizes.append(len(c.get("open_cases", [])) + len(c.get("past_cases", [])))
        finally:
            timer.on = False
            timers.restore()
        per = 1000 / n
        out[label] = {
            "requests": n, "ms_per_request": round(wall * per, 2), "cpu_ms_per_request": round(cpu * per, 2),
            "db_ms_per_request": round(timer.seconds * per, 2),
            "statements_per_request": round(timer.count / n, 1),
            "statements": {k: round(v / n, 2) for k, v in sorted(timer.kinds.items())},
            "cases_shown_mean": round(sum(sizes) / len(sizes), 1),
            "steps": [{"indent": indent, "step": step, "ms": round(timers.wall[step] * per, 2),
                       "cpu_ms": round(timers.cpu[step] * per, 2),
                       "share_pct": round(100 * timers.wall[step] / wall, 1) if wall else 0.0}
                      for indent, step, _m, _a in STEPS],
        }
    profiler = cProfile.Profile()
    picks = [rng.choice(heavy or sample) for _ in range(n)]
    profiler.enable()
    for phone in picks:
        get(phone)
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = max(stats.total_tt, 1e-9)
    top = []
    for (filename, line, func), (_cc, ncalls, tottime, cumtime, _callers) in stats.stats.items():
        where = f"{Path(filename).name}:{line}({func})" if line else func
        if "site-packages" in filename:
            where = filename.split("site-packages/")[1].split("/")[0] + ": " + where
        top.append((cumtime, tottime, ncalls, where))
    top.sort(reverse=True)
    out["cprofile_heavy"] = {
        "requests": n, "total_s": round(total, 2),
        "cumulative": [{"function": w, "calls_per_request": round(nc / n, 1), "cum_pct": round(100 * cum / total, 1),
                        "self_pct": round(100 * tt / total, 1)} for cum, tt, nc, w in top[:45]],
        "self": [{"function": w, "calls_per_request": round(nc / n, 1), "self_pct": round(100 * tt / total, 1)}
                 for _cum, tt, nc, w in sorted(top, key=lambda x: -x[1])[:20]],
    }
    out["explain"] = explain_file_summary(app, timer, heavy[0] if heavy else sample[0], client, headers)
    return out


def explain_file_summary(app, timer: SqlTimer, phone: str, client, headers) -> list[dict]:
    """EXPLAIN (ANALYZE, BUFFERS) of every statement one look-up of ``phone`` issues."""
    from hotline.extensions import db

    timer.captured.clear()
    timer.capture = True
    try:
        client.get(PATH + phone, headers=headers)
    finally:
        timer.capture = False
    plans = []
    with app.app_context():
        conn = db.session.connection()
        for statement, params in timer.captured:
            one = " ".join(statement.split())
            if not one.upper().startswith("SELECT"):
                continue
            try:
                rows = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, params).fetchall()
            except Exception as exc:
                db.session.rollback()
                conn = db.session.connection()
                rows = [(f"EXPLAIN failed: {type(exc).__name__}: {exc}",)]
            text = [r[0] for r in rows]
            ms = next((float(m.group(1)) for line in text if (m := re.search(r"Execution Time: ([\d.]+)", line))),
                      None)
            plans.append({"sql": one[:400], "execution_ms": ms, "plan": text})
        db.session.rollback()
    return plans
