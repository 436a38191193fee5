"""Benchmark ``dup_check``: the duplicate check (并单) with 2,000,000 cases of the last 30 days on PostgreSQL.

A dedicated database (``hotline_bench_dup``, dropped afterwards unless --keep) is migrated and seeded with the
project's CLI, then filled by COPY (psycopg, rows streamed from a seeded generator, CHUNK rows per COPY) with
cases spread over the last 30 days and every district/street of the demo city, and the duplicate-check keys
of the open ones (``case_dup_keys``, computed with the app's own ``hotline.dispatch.duplicates`` scopes and
``routing.duplicates.band_keys``). Texts are generated from place + problem + detail + request phrases (many
reports share the problem phrases, as real ones do: an adversarial case for any text index); open share by
age: ≤ 2 days 70 %, ≤ 10 days 35 %, older 8 % (the rest closed or merged). The indexes of the two tables are
dropped for the load and rebuilt afterwards, then VACUUM (ANALYZE).

Probes run in one process with the app (as a web worker would, connected and warmed up):
``hotline.dispatch.duplicates.find(content, unit, now)`` — the candidate query (keys + place + window) and
rapidfuzz — timed per call; half the probes are re-reports of an open case (clauses dropped or swapped,
characters replaced: recall is reported), half new texts. Then ``POST /api/v1/routing/duplicates`` through the
Flask test client (gazetteer, auth, JSON included).

    .venv/bin/python -m tests.bench.run --only dup_check --pg postgresql://postgres@127.0.0.1:5432/postgres
    .venv/bin/python -m tests.bench.dup_check --pg URL [--cases N] [--keep]   # stand-alone
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import timedelta

from tests.bench.dup_check_data import NOW, _areas, load, rerport, text_for
from tests.bench.report import table
from tests.bench.server import ROOT, DbTarget, Instance, log

NAME = "dup_check"
TITLE = "Duplicate check (并单) with 2,000,000 cases of the last 30 days on PostgreSQL"
BENCH_DB = "hotline_bench_dup"
CASES = 2_000_000
PROBES = 400
HTTP_PROBES = 200
TARGET_P95_MS = 30.0


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def child(argv: list[str]) -> None:
    """In the instance's environment: time find() and the endpoint; print JSON."""
    import logging

    import sqlalchemy as sa

    from hotline import create_app
    from hotline.dispatch.duplicates import find, scopes_of
    from hotline.extensions import db
    from hotline.models import Case, Department

    logging.disable(logging.WARNING)
    token = argv[0]
    rnd = random.Random(7)
    app = create_app()
    with app.app_context():
        units = {d.id: d for d in db.session.scalars(sa.select(Department))}
        open_rows = db.session.execute(
            sa.select(Case.id, Case.number, Case.content, Case.district_id)
            .where(Case.status.not_in(("closed", "merged")), Case.created_at >= NOW - timedelta(days=29))
            .order_by(sa.func.random())
            .limit(PROBES)
        ).all()
        areas = [u for u in units.values() if u.kind in ("district", "street")]
        with psycopg_conn() as conn:  # the loader's scopes are the app's
            assert {tuple(a[2]) for a in _areas(conn)} == {tuple(scopes_of(u)) for u in areas}
        probes = []
        for i, r in enumerate(open_rows):
            if i % 2 == 0:
                probes.append((rerport(rnd, r.content), units[r.district_id], r.number))
            else:
                unit = rnd.choice(areas)
                probes.append((text_for(rnd, unit.name[:2]) + "急需处理", unit, None))
        for content, unit, _ in probes[:20]:  # warm-up: connected, statements compiled, pages cached
            find(content, unit, NOW)
        times, found_hits, rerports, shown = [], 0, 0, []
        for content, unit, original in probes:
            started = time.perf_counter()
            result = find(content, unit, NOW)
            times.append((time.perf_counter() - started) * 1000)
            shown.append(len(result))
            if original is not None:
                rerports += 1
                found_hits += original in [d["number"] for d in result]
        load1 = os.getloadavg()
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}
        http = []
        for content, unit, _ in probes[:HTTP_PROBES]:
            started = time.perf_counter()
            resp = client.post(
                "/api/v1/routing/duplicates", json={"content": content, "district_code": unit.code}, headers=headers
            )
            http.append((time.perf_counter() - started) * 1000)
            assert resp.status_code == 200, resp.get_json()
        from hotline.dispatch.duplicates import candidates

        plan_sql = []
        sa.event.listen(
            db.engine,
            "before_cursor_execute",
            lambda conn, cursor, statement, params, context, many: plan_sql.append((statement, params)),
        )
        candidates(probes[0][0], probes[0][1], NOW - timedelta(days=30))
        statement, params = plan_sql[-1]
        with db.engine.connect() as conn:
            plan = [r[0] for r in conn.exec_driver_sql("EXPLAIN ANALYZE " + statement, params)]
    print(
        json.dumps(
            {
                "probes": len(times),
                "find_ms": {
                    "p50": round(_pct(times, 0.5), 2),
                    "p95": round(_pct(times, 0.95), 2),
                    "p99": round(_pct(times, 0.99), 2),
                    "max": round(max(times), 2),
                    "mean": round(statistics.mean(times), 2),
                },
                "http_ms": {
                    "p50": round(_pct(http, 0.5), 2),
                    "p95": round(_pct(http, 0.95), 2),
                    "p99": round(_pct(http, 0.99), 2),
                },
                "rereport_recall": round(found_hits / rerports, 4) if rerports else None,
                "rereports": rerports,
                "mean_found": round(statistics.mean(shown), 2),
                "loadavg": [round(x, 2) for x in load1],
                "plan": plan,
            }
        )
    )


def psycopg_conn():
    import psycopg

    from hotline.extensions import db

    return psycopg.connect(db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False))


def measure(instance: Instance) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "tests.bench.dup_check", "--child", instance.token],
        cwd=ROOT,
        env=instance.env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    if out.returncode != 0:
        raise RuntimeError(f"dup_check child failed:\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _drop(server_url: str) -> None:
    import psycopg
    import sqlalchemy as sa

    from tests.bench.server import bench_pg_url

    admin = sa.engine.make_url(bench_pg_url(server_url, BENCH_DB)).set(database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')


def run(ctx, cases: int = CASES) -> tuple[dict, str]:
    pg = next((d for d in ctx.databases if d.name == "postgresql"), None)
    if pg is None:
        results = {"skipped": "no PostgreSQL server given (--pg URL or DATABASE_URL)"}
        return results, f"## {NAME} — {TITLE}\n\nSkipped: {results['skipped']}.\n"
    instance = Instance(
        DbTarget("postgresql", pg.url, BENCH_DB),
        redis_url=ctx.redis_url,
        keep=ctx.keep,
        prestart_redis=ctx.prestart_redis,
    )
    try:
        instance.prepare()
        loaded = load(instance.database_url, cases)
        log(f"dup_check: loaded {cases:,} cases ({loaded['open_cases']:,} open) in {loaded['load_seconds']}s")
        measured = measure(instance)
        log(
            f"dup_check: find p95 {measured['find_ms']['p95']} ms, endpoint p95 {measured['http_ms']['p95']} ms, "
            f"recall {measured['rereport_recall']}, load {measured['loadavg']}"
        )
    finally:
        instance.cleanup()
        if not ctx.keep:
            _drop(pg.url)
    results = {**loaded, **measured, "target_p95_ms": TARGET_P95_MS, "met": measured["find_ms"]["p95"] <= TARGET_P95_MS}
    return results, markdown(results)


def markdown(r: dict) -> str:
    f, h = r["find_ms"], r["http_ms"]
    lines = [
        f"## {NAME} — {TITLE}",
        "",
        f"{r['cases']:,} cases over the last 30 days ({r['open_cases']:,} open), every district and street; "
        f"{r['dup_keys']:,} duplicate-check keys ({r['dup_keys_size']} with index). "
        f"Loaded by COPY in {r['copy_seconds']} s "
        f"(indexes rebuilt, VACUUM ANALYZE: {r['load_seconds']} s in all). {r['probes']} probes, half "
        "re-reports of an open case, half new matters, each placed at a district or street.",
        "",
        table(
            ["what", "p50 ms", "p95 ms", "p99 ms"],
            [
                ["hotline.dispatch.duplicates.find (query + rapidfuzz)", f["p50"], f["p95"], f["p99"]],
                ["POST /api/v1/routing/duplicates (test client)", h["p50"], h["p95"], h["p99"]],
            ],
        ),
        "",
        f"Re-reports found: {r['rereport_recall']:.1%} of {r['rereports']}; mean duplicates shown per probe "
        f"{r['mean_found']}. Load average during the probes: {r['loadavg']}.",
        "",
        table(
            ["target", "measured", "met"],
            [[f"duplicate check p95 ≤ {r['target_p95_ms']:g} ms", f"{f['p95']} ms", "yes" if r["met"] else "**no**"]],
        ),
        "",
        "Plan of the candidate query:",
        "",
        "```",
        *r["plan"],
        "```",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        child(argv[1:])
        return 0
    p = argparse.ArgumentParser(prog="python -m tests.bench.dup_check")
    p.add_argument("--pg", required=True)
    p.add_argument("--cases", type=int, default=CASES)
    p.add_argument("--keep", action="store_true")
    args = p.parse_args(argv)
    from types import SimpleNamespace

    ctx = SimpleNamespace(
        databases=[DbTarget("postgresql", args.pg)], redis_url="", keep=args.keep, prestart_redis=True
    )
    results, md = run(ctx, args.cases)
    from tests.bench import report

    report.write(NAME, results, md, command="python -m tests.bench.dup_check " + " ".join(argv))
    print(md)
    print(json.dumps({k: v for k, v in results.items() if k != "plan"}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
