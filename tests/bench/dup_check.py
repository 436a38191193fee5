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
import itertools
import json
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

from tests.bench.report import table
from tests.bench.server import ROOT, DbTarget, Instance, log

NAME = "dup_check"
TITLE = "Duplicate check (并单) with 2,000,000 cases of the last 30 days on PostgreSQL"
BENCH_DB = "hotline_bench_dup"
CASES = 2_000_000
PROBES = 400
HTTP_PROBES = 200
TARGET_P95_MS = 30.0
CHUNK = 50_000
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)

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
    "district_id",
    "citizen_id",
    "phone_id",
    "confidential",
    "complex",
    "created_at",
    "updated_at",
    "version",
)
PROBLEMS = (
    "门口垃圾堆放多日无人清理，气味很大",
    "楼上装修噪音扰民，晚上十点以后还在施工",
    "停水两天了，一直没有恢复供水",
    "路灯损坏一个多月，晚上出行不安全",
    "餐馆油烟直排，熏得窗户都是油",
    "电梯经常故障，上周还困过人",
    "道路井盖缺失，车辆经过很危险",
    "下水道堵塞，污水漫到人行道上",
    "共享单车乱停乱放，堵住了盲道",
    "小广告贴满了单元门和电线杆",
    "工地夜间施工，渣土车来回跑",
    "流浪狗很多，晚上叫个不停还咬人",
    "暖气不热，室内温度只有十几度",
    "小区停车位被外来车辆占用",
    "菜市场门口占道经营，交通拥堵",
    "公交站台的顶棚破了一直没人修",
    "河道里漂着垃圾，发出臭味",
    "绿化带里的树被人砍了好几棵",
    "燃气表走得特别快，怀疑有问题",
    "物业费涨价没有公示，业主不同意",
    "违章搭建的彩钢房挡住了消防通道",
    "广场舞音响声音太大，影响休息",
    "自来水发黄，有明显的异味",
    "人行道地砖松动，下雨天一踩一脚泥",
)
DETAILS = (
    "已经反映过好几次了",
    "老人孩子出行很不方便",
    "周边居民意见很大",
    "物业说不归他们管",
    "拍了照片可以提供",
    "这种情况持续半个多月了",
    "晚上尤其严重",
    "社区说会处理但一直没动静",
    "",
)
REQUESTS = ("希望尽快处理", "请相关部门来看看", "请督促整改", "要求给个说法", "希望能彻底解决", "")
ESTATES = ("小区", "花园", "家园", "新村", "社区")
ROADS = ("路", "街", "大道")


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def text_for(rnd: random.Random, place: str) -> str:
    estate = f"{rnd.choice('东南西北')}{rnd.choice('苑园城湖岸景')}{rnd.choice(ESTATES)}{rnd.randrange(1, 30)}栋"
    road = f"{place}{rnd.choice(ROADS)}{rnd.randrange(1, 300)}号" if rnd.random() < 0.5 else estate
    parts = [road + rnd.choice(PROBLEMS), rnd.choice(DETAILS), rnd.choice(REQUESTS)]
    return "，".join(p for p in parts if p) + "。"


def rerport(rnd: random.Random, text: str) -> str:
    """A re-report of the same matter: clauses dropped or swapped, a few characters replaced."""
    clauses = [c for c in text.rstrip("。").split("，") if c]
    if len(clauses) > 2 and rnd.random() < 0.5:
        clauses.pop(rnd.randrange(1, len(clauses)))
    if len(clauses) > 1 and rnd.random() < 0.5:
        clauses[0], clauses[-1] = clauses[-1], clauses[0]
    chars = list("，".join(clauses))
    for _ in range(rnd.randrange(0, 3)):
        chars[rnd.randrange(len(chars))] = rnd.choice("的了很还又")
    return "".join(chars)


def _status(rnd: random.Random, age_days: float) -> str:
    share = 0.70 if age_days <= 2 else 0.35 if age_days <= 10 else 0.08
    if rnd.random() < share:
        return rnd.choice(("registered", "dispatched", "handling", "handling", "replied"))
    return "merged" if rnd.random() < 0.03 else "closed"


def rows(count: int, areas: list[tuple[int, str, list[str]]], citizen: tuple[int, int]):
    """(case row, dup-key rows) per case; keys only for open cases, as the app keeps them."""
    from routing.duplicates import band_keys

    rnd = random.Random(20261120)
    for i in range(1, count + 1):
        age = rnd.random() * 30
        created = NOW - timedelta(days=age)
        area_id, place, scopes = areas[rnd.randrange(len(areas))]
        content = text_for(rnd, place)
        status = _status(rnd, age)
        keys = {k for scope in scopes for k in band_keys(content, scope)} if status not in ("closed", "merged") else ()
        yield (
            (
                i,
                f"GB{i:012d}",
                "complaint",
                "phone",
                "normal",
                status,
                content[:30],
                content,
                "",
                area_id,
                citizen[0],
                citizen[1],
                False,
                False,
                _naive(created),
                _naive(created),
                1,
            ),
            [(k, i) for k in keys],
        )


def _areas(conn) -> list[tuple[int, str, list[str]]]:
    units = conn.execute(
        "SELECT d.id, d.code, d.kind, d.name, p.code FROM departments d "
        "LEFT JOIN departments p ON p.id = d.parent_id WHERE d.kind IN ('district', 'street') "
        "ORDER BY d.id"
    ).fetchall()
    out = []
    for uid, code, kind, name, parent in units:
        scopes = [f"S:{code}", f"W:{parent}"] if kind == "street" else [f"D:{code}", f"W:{code}"]
        out.append((uid, name[:2], scopes))
    return out


def load(url: str, count: int) -> dict:
    import psycopg

    from hotline.dispatch.duplicates import scopes_of  # noqa: F401 — the scopes above mirror it (checked in child)

    started = time.monotonic()
    with psycopg.connect(url) as conn:
        idx = dict(
            conn.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ('cases', 'case_dup_keys') "
                "AND indexname NOT LIKE 'pk_%' AND indexname NOT LIKE 'uq_%'"
            )
        )
        for name in idx:
            conn.execute(f"DROP INDEX {name}")
        conn.execute("ALTER TABLE case_dup_keys DROP CONSTRAINT pk_case_dup_keys")
        conn.execute("ALTER TABLE case_dup_keys DROP CONSTRAINT fk_case_dup_keys_case_id_cases")
        areas = _areas(conn)
        cit = conn.execute(
            "INSERT INTO citizens (tags, created_at, updated_at) VALUES ('[]', now(), now()) RETURNING id"
        ).fetchone()[0]
        phone = conn.execute(
            "INSERT INTO citizen_phones (citizen_id, phone_hash, phone_enc, masked, kind, "
            "created_at) VALUES (%s, 'bench', 'bench', '139****0000', 'mobile', now()) "
            "RETURNING id",
            (cit,),
        ).fetchone()[0]
        conn.commit()
        gen = rows(count, areas, (cit, phone))
        keys = 0
        with conn.cursor() as cur:
            while chunk := list(itertools.islice(gen, CHUNK)):
                with cur.copy(f"COPY cases ({', '.join(CASE_COLS)}) FROM STDIN") as copy:
                    for row, _ in chunk:
                        copy.write_row(row)
                with cur.copy("COPY case_dup_keys (key, case_id) FROM STDIN") as copy:
                    for _, key_rows in chunk:
                        for k in key_rows:
                            copy.write_row(k)
                        keys += len(key_rows)
                conn.commit()
        copied = time.monotonic() - started
        log(f"dup_check: COPY done in {copied:.0f}s ({keys:,} keys); building indexes")
        conn.execute("SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT max(id) FROM cases))")
        conn.execute("ALTER TABLE case_dup_keys ADD CONSTRAINT pk_case_dup_keys PRIMARY KEY (key, case_id)")
        conn.execute(
            "ALTER TABLE case_dup_keys ADD CONSTRAINT fk_case_dup_keys_case_id_cases "
            "FOREIGN KEY (case_id) REFERENCES cases (id)"
        )
        for definition in idx.values():
            conn.execute(definition)
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM (ANALYZE) cases, case_dup_keys")
        open_ = conn.execute("SELECT count(*) FROM cases WHERE status NOT IN ('closed', 'merged')").fetchone()[0]
        size = conn.execute("SELECT pg_size_pretty(pg_total_relation_size('case_dup_keys'))").fetchone()[0]
    return {
        "cases": count,
        "open_cases": open_,
        "dup_keys": keys,
        "copy_seconds": round(copied, 1),
        "load_seconds": round(time.monotonic() - started, 1),
        "dup_keys_size": size,
    }


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
