"""In-process profile of one look-up for the ``profile_lookup`` benchmark (Flask test client, same database):
service time, SQL statements and database time per look-up, a step breakdown, cProfile's top functions and
EXPLAIN (ANALYZE, BUFFERS) of every statement."""

from __future__ import annotations

import cProfile
import pstats
import random
import re
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from tests.bench.lookup_load import PATH
from tests.bench.server import Instance

STEPS = [  # the API's authentication hook runs before the view: read-only mode, then the token's user
    (0, "db.dialect.autocommit_reads (pool checkout + pre-ping)", "hotline.auth.permissions", "autocommit_reads"),
    (0, "auth: bearer token → user", "hotline.auth.security", "user_for_token"),
    (0, "view api.citizen_lookup", "@views", "api.citizen_lookup"),
    (1, "phones.normalize", "hotline.api.citizens", "normalize"),
    (1, "file.lookup_file (statement + dicts)", "hotline.api.citizens", "lookup_file"),
    (2, "file_sql.fetch (the one statement, JSON decoded)", "hotline.citizens.file_sql", "fetch"),
    (2, "file_sql.parts (timestamps parsed)", "hotline.citizens.file_sql", "parts"),
    (2, "file._summary (dicts, name decrypted and masked)", "hotline.citizens.file", "_summary"),
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


def profile_in_process(instance: Instance, sample: list[str], heavy: list[str], warm: list[str], n: int = 200) -> dict:
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

    for phone in warm[:30]:  # warm-up (files not measured): imports, statement caches, pool
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
            "requests": n,
            "ms_per_request": round(wall * per, 2),
            "cpu_ms_per_request": round(cpu * per, 2),
            "db_ms_per_request": round(timer.seconds * per, 2),
            "statements_per_request": round(timer.count / n, 1),
            "statements": {k: round(v / n, 2) for k, v in sorted(timer.kinds.items())},
            "cases_shown_mean": round(sum(sizes) / len(sizes), 1),
            "steps": [
                {
                    "indent": indent,
                    "step": step,
                    "ms": round(timers.wall[step] * per, 2),
                    "cpu_ms": round(timers.cpu[step] * per, 2),
                    "share_pct": round(100 * timers.wall[step] / wall, 1) if wall else 0.0,
                }
                for indent, step, _m, _a in STEPS
            ],
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
        "requests": n,
        "total_s": round(total, 2),
        "cumulative": [
            {
                "function": w,
                "calls_per_request": round(nc / n, 1),
                "cum_pct": round(100 * cum / total, 1),
                "self_pct": round(100 * tt / total, 1),
            }
            for cum, tt, nc, w in top[:45]
        ],
        "self": [
            {"function": w, "calls_per_request": round(nc / n, 1), "self_pct": round(100 * tt / total, 1)}
            for _cum, tt, nc, w in sorted(top, key=lambda x: -x[1])[:20]
        ],
    }
    out["explain"] = explain_file_summary(app, timer, heavy[0] if heavy else sample[0], client, headers)
    return out


def explain_file_summary(app, timer: SqlTimer, phone: str, client, headers) -> list[dict]:
    """EXPLAIN (ANALYZE, BUFFERS) of every statement one look-up of ``phone`` issues (just looked up: warm), then
    of the file statement for a random file nobody looked up (its pages as cold as the run left them)."""
    from hotline.citizens import file_sql
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
            if one.upper().startswith(("SELECT", "WITH")):
                plans.append(_explain(conn, statement, params, "heavy caller, just looked up"))
        if db.engine.dialect.name == "postgresql":
            low, high = conn.exec_driver_sql("SELECT min(id), max(id) FROM citizens").one()
            key = conn.execute(
                sa.text("SELECT phone_hash FROM citizen_phones WHERE citizen_id = :id LIMIT 1"),
                {"id": random.Random().randint(low, high)},
            ).scalar()
            compiled = file_sql.BY_PHONE_HASH.compile(dialect=db.engine.dialect)
            params = {"key": key, "since": datetime.now(UTC).replace(tzinfo=None) - timedelta(days=30)}
            plans.append(_explain(conn, str(compiled), params, "random file, first look-up"))
        db.session.rollback()
    return plans


def _explain(conn, statement: str, params, label: str) -> dict:
    try:
        rows = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, params).fetchall()
    except Exception as exc:
        rows = [(f"EXPLAIN failed: {type(exc).__name__}: {exc}",)]
    text = [r[0] for r in rows]

    def ms(what: str) -> float | None:
        return next((float(m.group(1)) for line in text if (m := re.search(what + r" Time: ([\d.]+)", line))), None)

    top = next((ln for ln in text if ln.strip().startswith("Buffers:")), "")  # the top node's: the statement's
    hits, reads = (int(m.group(1)) if (m := re.search(kind + r"=(\d+)", top)) else 0 for kind in ("hit", "read"))
    return {
        "file": label,
        "sql": " ".join(statement.split())[:400],
        "execution_ms": ms("Execution"),
        "planning_ms": ms("Planning"),
        "buffers_hit": hits,
        "buffers_read": reads,
        "plan": text,
    }
