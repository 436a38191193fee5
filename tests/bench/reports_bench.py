"""Benchmark ``reports``: a 100,000-row XLSX export of cases and the alert job over a busy day.

A fresh instance (SQLite by default, PostgreSQL too with --pg) is migrated and seeded, then a child process loads
cases with Core bulk inserts: 60,000 registered in the last 24 hours (the busy day) and as many a day over the 4
days before (the alerts' baseline; HOTLINE_ALERT_BASELINE_DAYS=4 for the run), so the day is as busy as usual
everywhere but in one (category, street) where 40 cases cluster; 100,000 of them led by the unit
ZJJ (the export's filter ``department=ZJJ``, which the case list takes too). Each measured step runs in a fresh
child process, as an RQ worker would:

- export: ``hotline.exports.service.request_export`` + ``run`` (the job's body) for agent1, XLSX; wall time and
  peak RSS (VmHWM, reset at the start); the parent then opens the file with openpyxl (read-only) and checks its row
  count and its per-status totals against GET /api/v1/cases?department=ZJJ&status=… of the same data.
  Targets: ≤ 60 s, ≤ 250 MB.
- alerts: ``workers.jobs.alerts.detect_and_raise`` at the end of the day (all three detections), then again
  (the idempotent re-run). Target: ≤ 5 s.

    .venv/bin/python -m tests.bench.run --only reports [--pg postgresql://postgres@127.0.0.1:5432/postgres]
    .venv/bin/python -m tests.bench.reports_bench --rows 100000      # SQLite only, standalone
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from tests.bench.report import table
from tests.bench.server import ROOT, DbTarget, Instance, log

NAME = "reports"
TITLE = "Exports (100,000 rows, XLSX) and the alert job over a busy day"
BENCH_DB = "hotline_bench_reports"
EXPORT_ROWS, DAY_CASES, BASELINE_PER_DAY, BASELINE_DAYS = 100_000, 60_000, 60_000, 4
TARGET_EXPORT_S, TARGET_RSS_MB, TARGET_ALERTS_S = 60.0, 250.0, 5.0
CHUNK = 5_000


def _child(instance: Instance, *args: str, env: dict | None = None) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "tests.bench.reports_bench", *args],
        cwd=ROOT,
        env={**instance.env, **(env or {})},
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if out.returncode != 0:
        raise RuntimeError(f"child {args} failed:\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _peak_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass


def load(export_rows: int, day_cases: int, per_day: int, days: int) -> dict:
    """Bulk-insert the cases (Core executemany in chunks: memory flat); one real case gives citizen and phone."""
    import random
    from datetime import UTC, datetime, timedelta

    import sqlalchemy as sa

    from hotline import create_app
    from hotline.cases import operations as ops
    from hotline.citizens.phones import normalize
    from hotline.extensions import db
    from hotline.models import Case, Category, Department, User

    app = create_app()
    started = time.perf_counter()
    with app.app_context():
        now = datetime.now(UTC)
        agent = db.session.scalar(sa.select(User).where(User.username == "agent1"))
        seedcase = ops.create_case(
            ops.NewCase(
                channel="phone",
                kind="help",
                content="基准测试种子工单，请忽略。",
                phone=normalize("13800000000"),
                citizen_name="测试",
            ),
            agent,
            now,
        )
        db.session.commit()
        citizen_id, phone_id = seedcase.citizen_id, seedcase.phone_id
        cats = db.session.scalars(sa.select(Category.id).where(Category.level == 3)).all()
        streets = db.session.scalars(sa.select(Department.id).where(Department.kind == "street")).all()
        target = db.session.scalar(sa.select(Department.id).where(Department.code == "ZJJ"))
        units = db.session.scalars(
            sa.select(Department.id).where(Department.kind == "department", Department.id != target)
        ).all()
        rnd = random.Random(19)
        total = day_cases + per_day * days
        chosen = set(rnd.sample(range(total), export_rows))  # led by ZJJ: the export's filter department=ZJJ
        hot_cat, hot_street = cats[0], streets[0]
        statuses = ("registered", "dispatched", "handling", "replied", "closed")
        rows, n = [], 0
        columns = sa.insert(Case.__table__)

        def flush():
            db.session.execute(columns, rows)
            db.session.commit()
            rows.clear()

        for i in range(total):
            if i < day_cases:
                at = now - timedelta(seconds=rnd.uniform(60, 86_000))
            else:
                day = 1 + (i - day_cases) // per_day
                at = now - timedelta(days=day, seconds=rnd.uniform(0, 86_000))
            cluster = i < 40  # today: 40 cases of one category in one street
            status = rnd.choice(statuses[1:] if i in chosen else statuses)
            lead = target if i in chosen else (None if status == "registered" else rnd.choice(units))
            rows.append(
                {
                    "number": f"BR{i:010d}",
                    "kind": "complaint",
                    "channel": rnd.choice(("phone", "web", "wechat")),
                    "urgency": "normal",
                    "status": status,
                    "title": f"基准工单 {i}",
                    "content": "基准测试诉求内容，占道经营噪音扰民。",
                    "address": "东城区人民路88号",
                    "category_id": hot_cat if cluster else rnd.choice(cats),
                    "district_id": hot_street if cluster else rnd.choice(streets),
                    "citizen_id": citizen_id,
                    "phone_id": phone_id,
                    "confidential": False,
                    "complex": False,
                    "lead_department_id": lead,
                    "created_at": at,
                    "updated_at": at,
                    "version": 1,
                    "routing_pending": False,
                }
            )
            n += 1
            if len(rows) >= CHUNK:
                flush()
        if rows:
            flush()
    return {"cases": n, "seconds": round(time.perf_counter() - started, 1)}


def export_child() -> dict:
    from datetime import UTC, datetime

    import sqlalchemy as sa

    from hotline import create_app
    from hotline.exports import service
    from hotline.extensions import db
    from hotline.models import User

    app = create_app()
    with app.app_context():
        agent = db.session.scalar(sa.select(User).where(User.username == "agent1"))
        _reset_peak()
        started, cpu = time.perf_counter(), time.process_time()
        export = service.request_export(agent, "cases", "xlsx", {"department": "ZJJ"}, datetime.now(UTC))
        db.session.commit()
        result = service.run(export.id)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        export = db.session.get(service.Export, export.id)
        path = str(service.file_path(export))
        out = {
            "seconds": round(elapsed, 2),
            "cpu_s": round(cpu, 2),
            "loadavg_1m": round(os.getloadavg()[0], 2),
            "peak_rss_mb": round(_peak_mb(), 1),
            "rows": result.get("rows"),
            "total": export.total,
            "size_mb": round(export.size / 2**20, 1),
            "path": path,
        }
        # the API's figures for the same filter, per status (the list answers its total)
        from hotline.auth.tokens import create_token

        token = create_token(agent)
        db.session.commit()
        client = app.test_client()
        api = {}
        for status in ("registered", "dispatched", "handling", "replied", "closed"):
            query = {"department": "ZJJ", "status": status}
            resp = client.get("/api/v1/cases", query_string=query, headers={"Authorization": f"Bearer {token}"})
            api[status] = resp.get_json()["total"]
        out["api_totals"] = {k: v for k, v in api.items() if v}
        all_ = client.get(
            "/api/v1/cases", query_string={"department": "ZJJ"}, headers={"Authorization": f"Bearer {token}"}
        )
        out["api_total"] = all_.get_json()["total"]
    return out


def alerts_child() -> dict:
    from datetime import UTC, datetime

    from hotline import create_app
    from hotline.extensions import db
    from workers.jobs.alerts import detect_and_raise

    app = create_app()
    with app.app_context():
        now = datetime.now(UTC)
        started, cpu = time.perf_counter(), time.process_time()
        first = detect_and_raise(now)
        db.session.commit()
        t1, cpu = time.perf_counter() - started, time.process_time() - cpu
        started = time.perf_counter()
        second = detect_and_raise(now)
        db.session.commit()
        t2 = time.perf_counter() - started
    return {
        "seconds": round(t1, 3),
        "cpu_s": round(cpu, 3),
        "rerun_seconds": round(t2, 3),
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "first": first,
        "rerun": second,
    }


def check_file(path: str, expected: dict) -> dict:
    import openpyxl

    from hotline.exports.sources import STATUS_TEXT

    book = openpyxl.load_workbook(path, read_only=True)
    counts: dict[str, int] = {}
    rows = 0
    for i, row in enumerate(book.worksheets[0].iter_rows(values_only=True)):
        if i == 0:
            continue
        rows += 1
        counts[row[5]] = counts.get(row[5], 0) + 1
    by_status = {STATUS_TEXT[k]: v for k, v in expected.items()}
    return {"rows_in_file": rows, "totals_match": counts == by_status}


def run_one(db_target: DbTarget, ctx, sizes) -> dict:
    instance = Instance(
        db_target, redis_url=getattr(ctx, "redis_url", ""), keep=getattr(ctx, "keep", False), prestart_redis=False
    )
    try:
        instance.prepare()
        loaded = _child(instance, "load", *map(str, sizes))
        log(f"{db_target.name}: loaded {loaded['cases']} cases in {loaded['seconds']} s")
        export = _child(instance, "export")
        export.update(check_file(export.pop("path"), export["api_totals"]))
        alerts = _child(instance, "alerts", env={"HOTLINE_ALERT_BASELINE_DAYS": str(sizes[3])})
        return {"loaded": loaded, "export": export, "alerts": alerts}
    finally:
        instance.cleanup()


def markdown(results: dict) -> str:
    lines = [f"## {NAME} — {TITLE}\n"]
    rows = []
    for name, r in results.items():
        if "export" not in r:
            continue
        e, a = r["export"], r["alerts"]
        rows.append(
            [
                name,
                f"{e['rows']:,}",
                f"{e['seconds']} s (≤ {TARGET_EXPORT_S:.0f}; CPU {e.get('cpu_s')} s, load {e.get('loadavg_1m')})",
                f"{e['peak_rss_mb']} MB (≤ {TARGET_RSS_MB:.0f})",
                "yes" if e["rows_in_file"] == e["total"] == e["rows"] == e["api_total"] and e["totals_match"] else "NO",
                f"{a['seconds']} s (≤ {TARGET_ALERTS_S:.0f}; CPU {a.get('cpu_s')} s)",
                f"{a['rerun_seconds']} s",
                str(a["first"]["raised"]),
                str(a["rerun"]["raised"]),
            ]
        )
    lines.append(
        table(
            ["database", "rows", "export", "peak RSS", "file = API", "alert job", "re-run", "raised", "re-raised"], rows
        )
    )
    return "\n".join(lines) + "\n"


def run(ctx) -> tuple[dict, str]:
    results = {}
    sizes = (EXPORT_ROWS, DAY_CASES, BASELINE_PER_DAY, BASELINE_DAYS)
    for target in ctx.databases:
        if target.name == "postgresql":
            target = DbTarget("postgresql", target.url, BENCH_DB)
        results[target.name] = run_one(target, ctx, sizes)
        log(f"{NAME} {target.name}: {json.dumps(results[target.name], ensure_ascii=False)}")
    return results, markdown(results)


def main(argv: list[str]) -> None:
    if argv and argv[0] == "load":
        print(json.dumps(load(*map(int, argv[1:5]))))
    elif argv and argv[0] == "export":
        print(json.dumps(export_child(), ensure_ascii=False))
    elif argv and argv[0] == "alerts":
        print(json.dumps(alerts_child(), ensure_ascii=False, default=str))
    else:  # standalone: SQLite, optional --rows N
        import types

        rows = int(argv[argv.index("--rows") + 1]) if "--rows" in argv else EXPORT_ROWS
        ctx = types.SimpleNamespace(redis_url="", keep=False)
        day = max(DAY_CASES * rows // EXPORT_ROWS, rows // 2)
        sizes = (rows, day, day, BASELINE_DAYS)
        result = run_one(DbTarget("sqlite", "", ""), ctx, sizes)
        print(markdown({"sqlite": result}))
        print(json.dumps(result, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main(sys.argv[1:])
