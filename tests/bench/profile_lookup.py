"""Benchmark ``profile_lookup``: GET /api/v1/citizens/lookup?phone= (一号一档) on a big PostgreSQL database.

Target (issue "Real-time agent console"): p95 ≤ 20 ms through HTTP with 1,000,000 cases and 300,000
citizens loaded.

1. ``bulk_load`` (a subprocess, so its own peak RSS is measured) fills a small database
   (``hotline_bench_lookup_small``: 100k cases, dropped afterwards) and the real one (``hotline_bench_lookup``,
   1M cases, 300k citizens): the loader's memory must not grow with the row count.
2. gunicorn (gthread) on that instance; the load generator asks for random loaded numbers (a sample of
   all files, and separately the heavy callers with ≥ 20 cases):
   - wrk, 1 connection: the latency of one agent's look-up on an otherwise idle server (service time);
   - Python open loop at ``--lookup-rate`` requests/s (latency from the scheduled send time);
   - wrk, ``--connections`` connections: saturation throughput (latency there is mostly queueing).
3. In-process (Flask test client) on the same database: SQL statements and database time per look-up,
   a step breakdown and cProfile's top functions, and EXPLAIN (ANALYZE, BUFFERS) of every statement
   ``file_summary`` issues for a heavy caller.

    python -m tests.bench.run --only profile_lookup [--pg URL] [--lookup-cases 1000000]
        [--lookup-citizens 300000] [--lookup-rate 50]
"""
from __future__ import annotations

import asyncio
import contextlib
import cProfile
import json
import os
import pstats
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import sqlalchemy as sa

from tests.bench.load import CpuMeter, percentile
from tests.bench.load_python import _Conn, _Stats
from tests.bench.report import table
from tests.bench.server import ROOT, DbTarget, Gunicorn, Instance, ServerConfig, log

NAME = "profile_lookup"
TITLE = "一号一档 look-up on 1M cases / 300k citizens (PostgreSQL)"
TARGET_P95_MS = 20.0
LOOKUP_DB = "hotline_bench_lookup"
SMALL_DB = "hotline_bench_lookup_small"
PATH = "/api/v1/citizens/lookup?phone="
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/"


# --- load generation -----------------------------------------------------------------------------------

def wrk_lookup_script(token: str) -> str:
    """wrk Lua: a random number of the phones file (args[1]) per request; counts non-2xx and not-found."""
    return """
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer %s"
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  phones = {}
  for line in io.lines(args[1]) do
    if #line > 0 then phones[#phones + 1] = line end
  end
  math.randomseed(tonumber(args[2]) or 1)
  bad = 0
  notfound = 0
  sample = ""
end

function request()
  return wrk.format(nil, "%s" .. phones[math.random(#phones)])
end

function response(status, headers, body)
  if status < 200 or status >= 300 then
    bad = bad + 1
    if sample == "" then sample = tostring(status) .. " " .. string.sub(body or "", 1, 300) end
  elseif not string.find(body, '"found":true', 1, true) then
    notfound = notfound + 1
  end
end

function done(summary, latency, requests)
  local nbad, nnf = 0, 0
  for _, t in ipairs(threads) do
    nbad = nbad + (t:get("bad") or 0)
    nnf = nnf + (t:get("notfound") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%%d,"duration_us":%%d,"non2xx":%%d,"notfound":%%d,"socket":%%d,' ..
    '"mean_us":%%.1f,"max_us":%%d,"p50":%%d,"p90":%%d,"p95":%%d,"p99":%%d}\\n',
    summary.requests, summary.duration, nbad, nnf, e.connect + e.read + e.write + e.timeout,
    latency.mean, latency.max, latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99)))
end
""" % (token, PATH)  # noqa: UP031 — the Lua has its own braces


def wrk_lookup(wrk: str, base_url: str, token: str, phones: Path, connections: int, duration: float,
               name: str) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(wrk_lookup_script(token))
        script = fh.name
    try:
        threads = min(2, connections)
        cmd = [wrk, "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(duration))}s",
               "--timeout", "10s", "-s", script, base_url + "/", "--", str(phones), str(random.randrange(10**6))]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    finally:
        os.unlink(script)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stdout}\n{proc.stderr}")
    raw = json.loads(line[len("BENCH_JSON "):])
    seconds = raw["duration_us"] / 1e6
    ok = raw["requests"] - raw["non2xx"]
    return {"name": name, "tool": "wrk closed loop", "connections": connections, "requests": raw["requests"],
            "ok": ok, "errors": raw["non2xx"] + raw["socket"], "not_found": raw["notfound"],
            "duration_s": round(seconds, 2), "rps": round(ok / seconds, 1) if seconds else 0.0,
            "latency_ms": {k: round(raw[src] / 1000, 2) for k, src in
                           (("mean", "mean_us"), ("p50", "p50"), ("p90", "p90"), ("p95", "p95"), ("p99", "p99"),
                            ("max", "max_us"))}}


async def _paced(base_url: str, token: str, phones: list[str], rate: float, duration: float,
                 max_connections: int = 32, grace: float = 5.0) -> tuple[_Stats, float, int]:
    parts = urlsplit(base_url)
    stats = _Stats()
    idle: list[_Conn] = []
    slots = asyncio.Semaphore(max_connections)
    rng = random.Random(7)
    not_found = 0
    started = time.perf_counter()

    async def one(scheduled: float, phone: str) -> None:
        nonlocal not_found
        raw = (f"GET {PATH}{phone} HTTP/1.1\r\nHost: {parts.netloc}\r\nAuthorization: Bearer {token}\r\n\r\n"
               ).encode()
        async with slots:
            reused = bool(idle)
            conn = idle.pop() if idle else _Conn(parts.hostname, parts.port)
            try:
                await conn.ensure()
                try:
                    status, body = await asyncio.wait_for(conn.roundtrip(raw), 10)
                except (asyncio.IncompleteReadError, ConnectionResetError, BrokenPipeError):
                    if not reused:
                        raise
                    # gunicorn closed this idle keep-alive connection (--keep-alive 2 s): like any HTTP
                    # client, send the GET again on a new one (still timed from the scheduled moment)
                    conn.close()
                    await conn.ensure()
                    status, body = await asyncio.wait_for(conn.roundtrip(raw), 10)
                stats.record(time.perf_counter() - scheduled, status, body)
                if status == 200 and b'"found":true' not in body:
                    not_found += 1
                idle.append(conn)
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
                conn.close()
                stats.record(time.perf_counter() - scheduled, None, error=type(exc).__name__)

    tasks = []
    for n in range(int(duration * rate)):
        scheduled = started + n / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(scheduled, rng.choice(phones))))
    _done, pending = await asyncio.wait(tasks, timeout=grace)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    if pending:
        stats.errors["unserved"] = len(pending)
    for conn in idle:
        conn.close()
    return stats, time.perf_counter() - started, not_found


def paced_lookup(base_url: str, token: str, phones_file: Path, rate: float, duration: float, name: str) -> dict:
    phones = [ln.strip() for ln in phones_file.read_text().splitlines() if ln.strip()]
    stats, elapsed, not_found = asyncio.run(_paced(base_url, token, phones, rate, duration))
    lat = sorted(x * 1000 for x in stats.latencies)
    return {"name": name, "tool": "python open loop", "offered_rps": rate, "requests": len(lat), "ok": stats.ok,
            "errors": sum(stats.errors.values()), "error_kinds": stats.errors, "not_found": not_found,
            "duration_s": round(elapsed, 2), "rps": round(stats.ok / elapsed, 1) if elapsed else 0.0,
            "latency_ms": {"mean": round(sum(lat) / len(lat), 2) if lat else 0.0,
                           **{f"p{q}": round(percentile(lat, q), 2) for q in (50, 90, 95, 99)},
                           "max": round(lat[-1], 2) if lat else 0.0},
            "error_sample": stats.sample[:200]}


# --- bulk load -----------------------------------------------------------------------------------------

def run_loader(instance: Instance, citizens: int, cases: int, phones: Path | None = None,
               heavy: Path | None = None) -> dict:
    cmd = [sys.executable, "-m", "tests.bench.bulk_load", "--database-url", instance.database_url, "--instance",
           str(instance.folder), "--citizens", str(citizens), "--cases", str(cases), "--json"]
    if phones:
        cmd += ["--phones-out", str(phones)]
    if heavy:
        cmd += ["--heavy-out", str(heavy)]
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
    sys.stderr.write(proc.stderr)
    if proc.returncode != 0:
        raise RuntimeError(f"bulk_load failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["wall_seconds"] = round(time.monotonic() - started, 1)
    return result


# --- in-process profile --------------------------------------------------------------------------------

STEPS = [
    (0, "auth: bearer token → user", "hotline.security", "user_for_token"),
    (0, "view api.citizen_lookup", "@views", "api.citizen_lookup"),
    (1, "phones.normalize (twice: the view, then find_phone)", "hotline.citizens.profile", "normalize"),
    (1, "profile.find_phone (blind index → SELECT citizen_phones)", "hotline.api.citizens", "find_phone"),
    (1, "file.file_summary (all queries + ORM objects + dicts)", "hotline.api.citizens", "file_summary"),
    (2, "file._case_row ×N (lazy lead_department)", "hotline.citizens.file", "_case_row"),
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
    out["what_if"] = what_if_no_selectin(app, timer, get, [rng.choice(heavy or sample) for _ in range(n)])
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


def what_if_no_selectin(app, timer: SqlTimer, get, picks: list[str]) -> dict:
    """The suggested fix, tried without touching the app: file_summary's case queries without the
    ``lazy="selectin"`` loads of Case.events and Case.assignments (which the summary never reads).

    A ``do_orm_execute`` hook adds ``noload(Case.events), noload(Case.assignments)`` and
    ``joinedload(Case.lead_department)`` (which ``_case_row`` reads; without the assignments' joined
    departments in the identity map each one would be a lazy SELECT) to every top-level SELECT of cases during
    this run only; each look-up is timed with and without it, interleaved.
    """
    import sqlalchemy.orm as so

    from hotline.extensions import db
    from hotline.models import Case

    def hook(state):
        if state.is_select and not state.is_relationship_load and any(
                d.get("entity") is Case for d in state.statement.column_descriptions):
            state.statement = state.statement.options(so.noload(Case.events), so.noload(Case.assignments),
                                                      so.joinedload(Case.lead_department))

    labels = ("as is", "noload(events, assignments) + joinedload(lead_department)")
    totals = {label: {"wall": 0.0, "cpu": 0.0, "db": 0.0, "count": 0} for label in labels}
    for i, phone in enumerate(picks):  # interleaved, alternating which goes first: same caches for both
        for patched in ((False, True) if i % 2 else (True, False)):
            label = labels[patched]
            if patched:
                sa.event.listen(db.session, "do_orm_execute", hook)
            timer.on, timer.count, timer.seconds = True, 0, 0.0
            w0, c0 = time.perf_counter(), time.thread_time()
            try:
                get(phone)
            finally:
                totals[label]["wall"] += time.perf_counter() - w0
                totals[label]["cpu"] += time.thread_time() - c0
                timer.on = False
                totals[label]["db"] += timer.seconds
                totals[label]["count"] += timer.count
                if patched:
                    sa.event.remove(db.session, "do_orm_execute", hook)
    n = len(picks)
    return {label: {"ms_per_request": round(1000 * t["wall"] / n, 2),
                    "cpu_ms_per_request": round(1000 * t["cpu"] / n, 2),
                    "db_ms_per_request": round(1000 * t["db"] / n, 2),
                    "statements_per_request": round(t["count"] / n, 1)} for label, t in totals.items()}


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


# --- the benchmark -------------------------------------------------------------------------------------

def run(ctx) -> tuple[dict, str]:
    pg = getattr(ctx, "pg_url", "") or next((d.url for d in ctx.databases if d.name == "postgresql"), "") or DEFAULT_PG
    citizens = getattr(ctx, "lookup_citizens", 300_000)
    cases = getattr(ctx, "lookup_cases", 1_000_000)
    rate = getattr(ctx, "lookup_rate", 50.0)
    duration = ctx.duration
    servers = [s for s in ctx.servers if s.worker_class == "gthread"] or [ServerConfig("gthread", 4, 4)]
    results: dict = {"settings": {"citizens": citizens, "cases": cases, "rate": rate, "duration_s": duration,
                                  "connections": ctx.connections, "servers": [s.label for s in servers],
                                  "pg_server": pg.rsplit("@", 1)[-1]},
                     "loadavg_before": [round(x, 2) for x in os.getloadavg()]}
    # 1. loader memory at 1/10 of the size, in a database of its own.
    small = Instance(DbTarget("postgresql", pg, SMALL_DB), redis_url=ctx.redis_url, keep=False, prestart_redis=False)
    try:
        small.prepare()
        log(f"bulk load (small): {citizens // 10:,} citizens, {cases // 10:,} cases")
        results["load_small"] = run_loader(small, citizens // 10, cases // 10)
    finally:
        small.cleanup()
        with contextlib.suppress(Exception):
            _drop_database(pg, SMALL_DB)
    # 2. the real one.
    instance = Instance(DbTarget("postgresql", pg, LOOKUP_DB), redis_url=ctx.redis_url, keep=ctx.keep,
                        prestart_redis=ctx.prestart_redis)
    try:
        instance.prepare()
        phones, heavy = instance.folder / "phones.txt", instance.folder / "heavy.txt"
        log(f"bulk load: {citizens:,} citizens, {cases:,} cases")
        results["load"] = run_loader(instance, citizens, cases, phones, heavy)
        results["runs"] = {}
        for config in servers:
            results["runs"][config.label] = run_server(ctx, instance, config, phones, heavy, rate, duration)
        sample = [ln for ln in phones.read_text().splitlines() if ln]
        heavy_list = [ln for ln in heavy.read_text().splitlines() if ln]
        log("in-process profile (Flask test client) and EXPLAIN ANALYZE")
        results["profile"] = profile_in_process(instance, sample, heavy_list)
    finally:
        instance.cleanup()
        if not ctx.keep:  # ~1.4 GB, and useless without the instance folder's keys
            with contextlib.suppress(Exception):
                _drop_database(pg, LOOKUP_DB)
    results["targets"] = targets(results)
    return results, markdown(results)


def _drop_database(server_url: str, name: str) -> None:
    import psycopg

    from tests.bench.server import bench_pg_url

    admin = sa.engine.make_url(bench_pg_url(server_url, name)).set(database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_server(ctx, instance: Instance, config: ServerConfig, phones: Path, heavy: Path, rate: float,
               duration: float) -> dict:
    out: dict = {"server": config.label}
    wrk = ctx.load.wrk
    with Gunicorn(instance, config) as server:
        pids = server.worker_pids()
        if wrk:  # warm-up: PostgreSQL buffers, every worker's pool and statement cache
            wrk_lookup(wrk, server.url, instance.token, phones, ctx.connections, ctx.warmup or 2, "warmup")
        runs = []
        if wrk:
            runs.append(("single", lambda: wrk_lookup(wrk, server.url, instance.token, phones, 1, duration,
                                                      "1 connection, random files")))
            runs.append(("single_heavy", lambda: wrk_lookup(wrk, server.url, instance.token, heavy, 1, duration,
                                                            "1 connection, heavy callers (≥ 20 cases)")))
        runs.append(("paced", lambda: paced_lookup(server.url, instance.token, phones, rate, duration,
                                                   f"open loop {rate:g}/s, random files")))
        runs.append(("paced_heavy", lambda: paced_lookup(server.url, instance.token, heavy, rate, duration,
                                                         f"open loop {rate:g}/s, heavy callers")))
        if wrk:
            runs.append(("saturation", lambda: wrk_lookup(wrk, server.url, instance.token, phones, ctx.connections,
                                                          duration, f"{ctx.connections} connections, random files")))
        for key, fn in runs:
            meter = CpuMeter(pids)
            result = fn()
            result["cpu"] = meter.stop()
            if result["rps"]:
                result["cpu"]["server_ms_per_request"] = round(10 * result["cpu"]["server_pct"] / result["rps"], 2)
            out[key] = result
            lat = result["latency_ms"]
            log(f"lookup {config.label} {result['name']}: {result['rps']}/s p50 {lat.get('p50')} p95 {lat.get('p95')} "
                f"p99 {lat.get('p99')} ms, errors {result['errors']}, not found {result.get('not_found')}")
        out["workers"] = server.worker_memory()
    return out


def _best(results: dict) -> tuple[str, dict]:
    runs = results.get("runs", {})
    label = min(runs, key=lambda k: runs[k]["paced"]["latency_ms"].get("p95", 1e9))
    return label, runs[label]


def targets(results: dict) -> list[dict]:
    label, run = _best(results)
    rows = []
    # The heavy callers' open loop (every look-up a file of 20–80 cases, at the full rate) is a stress case
    # shown in the table, not a target: heavy callers are 0.5 % of the files.
    for key, what in (("single", "one agent at a time (1 connection), random files"),
                      ("single_heavy", "one agent at a time, heavy callers"),
                      ("paced", f"{run['paced']['offered_rps']:g} look-ups/s offered, random files")):
        r = run.get(key)
        if not r:
            continue
        p95 = r["latency_ms"].get("p95", 1e9)
        ok = p95 <= TARGET_P95_MS and r["errors"] == 0 and (r.get("offered_rps") is None
                                                             or r["rps"] >= 0.95 * r["offered_rps"])
        rows.append({"target": f"p95 ≤ {TARGET_P95_MS:g} ms — {what}", "server": label,
                     "measured": f"p95 {p95:g} ms (p50 {r['latency_ms'].get('p50'):g}, p99 "
                                 f"{r['latency_ms'].get('p99'):g}), {r['rps']:g}/s, errors {r['errors']}",
                     "met": ok})
    small, big = results["load_small"], results["load"]
    growth = big["rss_mb"]["peak"] - small["rss_mb"]["peak"]
    rows.append({"target": "loader memory does not grow with the row count", "server": "",
                 "measured": f"peak RSS {small['rss_mb']['peak']:g} MB at {small['rows']['cases']:,} cases vs "
                             f"{big['rss_mb']['peak']:g} MB at {big['rows']['cases']:,} ({growth:+.1f} MB)",
                 "met": growth <= 10})
    rows.append({"target": "bulk load of 1M cases in ~1–3 min", "server": "",
                 "measured": f"{big['seconds']['load']:g} s load + {big['seconds']['vacuum_analyze']:g} s VACUUM "
                             f"ANALYZE, {big['rows_total']:,} rows",
                 "met": big["seconds"]["load"] <= 180})
    return rows


def _lat(r: dict, k: str) -> str:
    v = r.get("latency_ms", {}).get(k)
    return "" if v is None else f"{v:g}"


def markdown(results: dict) -> str:
    s = results["settings"]
    small, big = results["load_small"], results["load"]
    lines = [f"## {NAME} — {TITLE}", "", f"Command: `{command()}`", ""]
    lines.append(
        f"Database `{LOOKUP_DB}` on {s['pg_server']}: demo seed + bulk load (`python -m tests.bench.bulk_load`), "
        f"{big['rows']['citizens']:,} citizens, {big['rows']['citizen_phones']:,} phones, "
        f"{big['rows']['cases']:,} cases, {big['rows']['case_events']:,} case events, "
        f"{big['rows']['assignments']:,} assignments, {big['rows']['calls']:,} calls, {big['rows']['ratings']:,} "
        f"ratings. Cases per file: {big['cases_per_citizen']['1-3']:,} files 1–3, "
        f"{big['cases_per_citizen']['4-9']:,} 4–9, {big['cases_per_citizen']['10-19']:,} 10–19, "
        f"{big['cases_per_citizen']['20+']:,} heavy callers ≥ 20 (max {big['cases_per_citizen']['max']}). "
        f"Load average before: {' '.join(f'{x:g}' for x in results['loadavg_before'])}.")
    lines += ["", "Targets:", ""]
    lines.append(table(["target", "server", "measured", "verdict"],
                       [[t["target"], t["server"], t["measured"], "met" if t["met"] else "**MISSED**"]
                        for t in results["targets"]]))
    lines += ["", "Look-up over HTTP (`GET /api/v1/citizens/lookup?phone=`, agent1's bearer token, a random loaded "
              "number per request; heavy callers = files with ≥ 20 cases):", ""]
    rows = []
    for label, run in results["runs"].items():
        for key in ("single", "single_heavy", "paced", "paced_heavy", "saturation"):
            r = run.get(key)
            if not r:
                continue
            cpu = r.get("cpu") or {}
            rate = f"{r['rps']:g}" + (f" of {r['offered_rps']:g}" if r.get("offered_rps") else "")
            rows.append([label, r["name"], r["tool"], rate, _lat(r, "p50"), _lat(r, "p95"), _lat(r, "p99"),
                         _lat(r, "max"), r["errors"], r.get("not_found", ""), cpu.get("server_ms_per_request", ""),
                         f"{cpu.get('server_pct', 0):g} / {cpu.get('machine_pct', 0):g}"])
    lines.append(table(["server", "run", "load", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors",
                        "not found", "worker CPU ms/req", "CPU % workers / machine"], rows))
    for label, run in results["runs"].items():
        rss = ", ".join(f"{w['rss_mb']:g}" for w in run["workers"])
        lines.append(f"\nWorkers of {label} after the runs: RSS {rss} MB.")
    prof = results["profile"]
    lines += ["", "Where a look-up's time goes (in-process, Flask test client, one request at a time, same "
              "database; DB = wall time from cursor execute to result, i.e. PostgreSQL + round trip):", ""]
    rows = []
    for label in ("sample", "heavy"):
        p = prof.get(label)
        if p:
            rows.append([label, p["ms_per_request"], p["cpu_ms_per_request"], p["db_ms_per_request"],
                         p["statements_per_request"], p["cases_shown_mean"],
                         ", ".join(f"{k} ×{v:g}" for k, v in p["statements"].items())])
    lines.append(table(["files", "ms / look-up", "CPU ms", "DB ms", "SQL statements", "cases shown",
                        "statements (per look-up)"], rows))
    heavy = prof.get("heavy") or prof.get("sample")
    lines += ["", "Steps (heavy callers; wall ms per look-up, inclusive):", ""]
    lines.append(table(["step", "ms", "share", "CPU ms"],
                       [["&nbsp;&nbsp;" * st["indent"] + st["step"], st["ms"], f"{st['share_pct']:g}%", st["cpu_ms"]]
                        for st in heavy["steps"]]))
    wi = prof.get("what_if")
    if wi:
        lines += ["", "Suggested fix, tried in-process without changing the app (heavy callers, same look-ups; "
                  "a `do_orm_execute` hook adds `noload(Case.events), noload(Case.assignments)` — the summary never "
                  "reads them — and `joinedload(Case.lead_department)`, which `_case_row` reads, to file_summary's "
                  "case queries):", ""]
        lines.append(table(["variant", "ms / look-up", "CPU ms", "DB ms", "SQL statements"],
                           [[k, v["ms_per_request"], v["cpu_ms_per_request"], v["db_ms_per_request"],
                             v["statements_per_request"]] for k, v in wi.items()]))
    cp = prof["cprofile_heavy"]
    lines += ["", f"cProfile, heavy callers ({cp['requests']} look-ups), top functions by cumulative share "
              "(app and ORM frames):", ""]
    keep = [r for r in cp["cumulative"] if re.search(r"hotline|orm|loading|sqlalchemy|psycopg|json|cipher|phonenumbers",
                                                     r["function"], re.I)][:22]
    lines.append(table(["function", "calls / look-up", "cumulative %", "self %"],
                       [[f"`{r['function']}`", r["calls_per_request"], r["cum_pct"], r["self_pct"]] for r in keep]))
    lines += ["", "EXPLAIN (ANALYZE, BUFFERS) of the statements of one heavy caller's look-up (execution time "
              "in PostgreSQL):", ""]
    rows = []
    for p in prof["explain"]:
        scan = next((ln.strip() for ln in p["plan"] if "Scan" in ln), p["plan"][0] if p["plan"] else "")
        rows.append([f"`{p['sql'][:110]}…`", p["execution_ms"], f"`{scan[:110]}`"])
    lines.append(table(["statement", "execution ms", "first scan node"], rows))
    slow = [p for p in prof["explain"] if (p["execution_ms"] or 0) > 2]
    for p in slow:
        lines += ["", f"Plan of `{p['sql'][:160]}` ({p['execution_ms']} ms):", "", "```", *p["plan"], "```"]
    lines += ["", "Bulk loader (`tests/bench/bulk_load.py`, a process of its own: its peak RSS is its own):", ""]
    rows = []
    for label, ld in (("small", small), ("full", big)):
        rows.append([label, f"{ld['rows']['cases']:,}", f"{ld['rows_total']:,}", ld["seconds"]["copy"],
                     ld["seconds"]["indexes"], ld["seconds"]["load"], ld["seconds"]["vacuum_analyze"],
                     f"{ld['rows_total'] / max(ld['seconds']['load'], 0.1):,.0f}", ld["rss_mb"]["start"],
                     ld["rss_mb"]["peak"]])
    lines.append(table(["run", "cases", "rows (all tables)", "COPY s", "index build s", "load s", "VACUUM ANALYZE s",
                        "rows/s", "RSS at start MB", "peak RSS MB"], rows))
    lines += ["", f"Mode: {big['config']['mode']}; {big['config']['deferred_indexes']} secondary indexes/unique "
              f"constraints dropped before and rebuilt after the COPY (definitions checked identical); batches of "
              f"{big['config']['batch_cases']:,} cases per COPY and commit. Table sizes MB: "
              + ", ".join(f"{k} {v:g}" for k, v in big["table_mb"].items()) + "."]
    lines += ["", *hot_spots(results), "", FINDINGS, ""]
    return "\n".join(lines)


def hot_spots(results: dict) -> list[str]:
    """The findings, with this run's numbers."""
    prof = results["profile"]
    heavy = prof.get("heavy") or prof["sample"]
    cum = {r["function"]: r["cum_pct"] for r in prof["cprofile_heavy"]["cumulative"]}

    def share(pattern: str) -> float:
        return max((v for k, v in cum.items() if re.search(pattern, k)), default=0.0)

    steps = {st["step"].split(" (")[0]: st for st in heavy["steps"]}
    summary = steps.get("file.file_summary", {})
    auth = steps.get("auth: bearer token → user", {})
    selectin = heavy["statements"].get("SELECT case_events", 0) + heavy["statements"].get("SELECT assignments", 0)
    plans = prof["explain"]
    pg_ms = sum(p["execution_ms"] or 0 for p in plans)
    wait_share = share(r"psycopg: connection.py:\d+\(wait\)")
    selectin_share = share(r"_load_for_path")
    wi = prof.get("what_if") or {}
    before, after = wi.get("as is"), next((v for k, v in wi.items() if k != "as is"), None)
    lines = ["Hot spots (heavy callers, in-process numbers above):", ""]
    lines.append(f"- `hotline.citizens.file.file_summary`: {summary.get('share_pct', 0):g}% of a look-up "
                 f"({summary.get('ms', 0):g} ms, {summary.get('cpu_ms', 0):g} ms CPU); the bearer-token user load "
                 f"{auth.get('share_pct', 0):g}%. JSON, masking, decryption and phone parsing are below 1% each.")
    lines.append(f"- Its case queries load whole `Case` objects, and `Case.events` / `Case.assignments` are "
                 f"`lazy=\"selectin\"` (hotline/models/cases.py): {selectin:g} of the "
                 f"{heavy['statements_per_request']:g} statements per look-up load the timeline and the assignments "
                 f"(with their departments) of up to 30 cases — rows the summary never reads. SQLAlchemy's selectin "
                 f"loader (`strategies.py` `_load_for_path`) is {selectin_share:g}% of the look-up's time "
                 f"under cProfile.")
    lines.append(f"- The database itself is not the problem: all {len(plans)} statements use index scans "
                 f"(`uq_citizen_phones_phone_hash`, `ix_cases_citizen_id`, `ix_case_events_case_id_id`, "
                 f"`ix_assignments_case_id`, `ix_calls_citizen_id`, `ix_ratings_citizen_id`) and execute in "
                 f"{pg_ms:.2f} ms together inside PostgreSQL; the {heavy['db_ms_per_request']:g} ms of \"DB\" per "
                 f"look-up is round trips (one per statement, each a wake-up of the worker and of a PostgreSQL "
                 f"backend on a busy 2-core machine) plus result conversion: psycopg's `wait` is "
                 f"{wait_share:g}% cumulative.")
    if before and after:
        lines.append(f"- Suggested fix (measured above without changing the app): in `file_summary`, query the cases "
                     f"with `.options(so.noload(Case.events), so.noload(Case.assignments), "
                     f"so.joinedload(Case.lead_department))` (or select only the columns `_case_row` needs): "
                     f"{before['statements_per_request']:g} → {after['statements_per_request']:g} statements, "
                     f"{before['ms_per_request']:g} → {after['ms_per_request']:g} ms, CPU "
                     f"{before['cpu_ms_per_request']:g} → {after['cpu_ms_per_request']:g} ms per look-up. Further: "
                     f"one statement for the three counts (scalar subqueries), `joinedload(CitizenPhone.citizen)` "
                     f"in `find_phone` and the phones from the same query, i.e. ~7 round trips instead of 16.")
    return lines


FINDINGS = """How to read it: "1 connection" is what one agent sees (service time, no queueing); the open loop is a
fixed rate of look-ups (latency counted from the scheduled send time, so queueing shows); "16 connections" is
saturation (throughput; its latency is mostly waiting in gunicorn's queue). On this 2-core machine the load
generator, gunicorn, PostgreSQL (and other work, see the load average) share the cores."""


def command() -> str:
    """How this section was produced (the report's own header has it too, in an HTML comment)."""
    args = sys.argv[1:] if sys.argv[0].endswith("run.py") else ["--only", NAME]
    return " ".join([".venv/bin/python -m tests.bench.run", *args])
