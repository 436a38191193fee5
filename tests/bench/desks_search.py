"""Benchmark ``desks_search``: case search (``GET /api/v1/cases?q=``) and the case page (HTML, as a department
handler) over a database with many cases (issue 20).

Per database (SQLite always, PostgreSQL with --pg): a fresh instance (migrate, seed --demo), then in a child
process (the app as a web process runs it):

1. load ``--desks-cases`` cases (default 100,000) over 30 % as many citizen files — phone numbers normalised,
   encrypted and blind-indexed as the app does — with varied Chinese content and addresses; 1 % of them assigned
   to the handler's unit (signed), some merged into another case;
2. build the search terms of every case (``hotline.search.index.reindex_all``; cases/s reported);
3. search through the app (Flask test client, token auth, full request: auth, catch-up check, query, JSON):
   content words, phone numbers (blind index), address fragments, case numbers; p50/p95 per kind;
4. the case page ``/cases/NUMBER`` as ``handler_zjj`` (session login), p50/p95 and pages/s on one core.

    .venv/bin/python -m tests.bench.run --only desks_search [--pg URL] [--desks-cases 100000]

In-process numbers: no HTTP server, one request at a time. The issue's 1,000,000-case / 16-connection gunicorn
figure and the 2,000,000-case PostgreSQL search are larger runs of the same module (--desks-cases).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

from tests.bench.report import table
from tests.bench.server import ROOT, Instance, log

NAME = "desks_search"
TITLE = "Case search and the case page at scale (issue 20)"
TARGETS = {"sqlite_search_p95_ms": 100.0, "pg_search_p95_ms": 200.0, "case_page_p95_ms": 30.0}
PLACES = ["人民路", "解放大道", "幸福街", "建设路", "文化路", "长江路", "黄河路", "中山路", "和平街", "光明路"]
AREAS = ["东城区", "西城区", "南湖区", "北山区", "高新区"]
TOPICS = [
    ("餐馆油烟扰民", "晚上十点还在营业，油烟直排"),
    ("路灯不亮", "整条街晚上一片漆黑，老人出行不便"),
    ("井盖松动", "车辆经过声音很大，担心有人摔倒"),
    ("噪音扰民", "工地夜间施工，影响休息"),
    ("拖欠工资", "公司三个月没有发工资，要求帮助讨薪"),
    ("物业不作为", "小区电梯经常故障，物业不维修"),
    ("占道经营", "早市摊贩占用人行道，堵塞交通"),
    ("垃圾清运不及时", "垃圾桶满了几天没人清理，气味难闻"),
    ("公交线路调整", "希望增加早高峰班次"),
    ("医保报销咨询", "异地就医如何备案和报销"),
]
QUERIES = 200


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return round(values[min(len(values) - 1, int(len(values) * q))], 2) if values else 0.0


def _phone(i: int) -> str:
    return "13" + str(5 + i % 5) + f"{(i * 7919) % 10**8:08d}"


def child_load(total: int) -> dict:
    """Load ``total`` cases (and their citizens) into the instance's database with Core executemany."""
    import sqlalchemy as sa

    from hotline import create_app
    from hotline.citizens.phones import mask, normalize
    from hotline.citizens.profile import cipher, phone_hash
    from hotline.extensions import db
    from hotline.models import Assignment, Case, Citizen, CitizenPhone, Department

    app = create_app()
    rng = random.Random(20)
    started = time.perf_counter()
    with app.app_context():
        unit = db.session.scalar(sa.select(Department.id).where(Department.code == "ZJJ"))
        base = (db.session.scalar(sa.select(sa.func.max(Case.id))) or 0) + 1
        cit_base = (db.session.scalar(sa.select(sa.func.max(Citizen.id))) or 0) + 1
        phone_base = (db.session.scalar(sa.select(sa.func.max(CitizenPhone.id))) or 0) + 1
        citizens = max(1, total * 3 // 10)
        now = datetime.now(UTC)
        for start in range(0, citizens, 5000):
            crow, prow = [], []
            for i in range(start, min(citizens, start + 5000)):
                phone = normalize(_phone(i))
                crow.append({"id": cit_base + i, "name_enc": cipher().encrypt("王小明"), "tags": [], "created_at": now})
                prow.append(
                    {
                        "id": phone_base + i,
                        "citizen_id": cit_base + i,
                        "phone_hash": phone_hash(phone),
                        "phone_enc": cipher().encrypt(phone.e164),
                        "masked": mask(phone),
                        "kind": "mobile",
                        "created_at": now,
                    }
                )
            db.session.execute(sa.insert(Citizen.__table__), [{**r, "updated_at": now} for r in crow])
            db.session.execute(sa.insert(CitizenPhone.__table__), prow)
            db.session.commit()
        for start in range(0, total, 5000):
            rows, assigned = [], []
            for i in range(start, min(total, start + 5000)):
                topic, detail = TOPICS[rng.randrange(len(TOPICS))]
                place = f"{rng.choice(AREAS)}{rng.choice(PLACES)}{rng.randrange(1, 300)}号"
                who = rng.randrange(citizens)
                created = now - timedelta(minutes=total - i)
                rows.append(
                    {
                        "id": base + i,
                        "number": f"BD20260101-{i:07d}",
                        "kind": "complaint",
                        "channel": "phone",
                        "urgency": "normal",
                        "status": "handling" if i % 100 == 0 else "closed",
                        "title": topic,
                        "content": f"{place}{topic}，{detail}。编号{i}",
                        "address": place,
                        "citizen_id": cit_base + who,
                        "phone_id": phone_base + who,
                        "confidential": False,
                        "complex": False,
                        "lead_department_id": unit if i % 100 == 0 else None,
                        "merged_into_id": base + i - 1 if i % 500 == 1 else None,
                        "created_at": created,
                        "updated_at": created,
                        "version": 1,
                        "routing_pending": False,
                    }
                )
                if i % 100 == 0:
                    assigned.append(
                        {
                            "case_id": base + i,
                            "department_id": unit,
                            "role": "lead",
                            "status": "signed",
                            "assigned_at": created,
                            "signed_at": created,
                            "extensions_used": 0,
                        }
                    )
            db.session.execute(sa.insert(Case.__table__), rows)
            if assigned:
                db.session.execute(sa.insert(Assignment.__table__), assigned)
            db.session.commit()
        loaded = time.perf_counter() - started
        from hotline.search.index import reindex_all

        t = time.perf_counter()
        indexed = reindex_all(db.session)
        index_s = time.perf_counter() - t
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text("VACUUM ANALYZE"))
        else:
            db.session.execute(sa.text("ANALYZE"))
            db.session.commit()
    return {
        "cases": total,
        "citizens": citizens,
        "load_s": round(loaded, 1),
        "indexed": indexed,
        "index_s": round(index_s, 1),
        "index_cases_per_s": round(indexed / index_s) if index_s else None,
        "first_case_id": base,
    }


def _login(client, username: str) -> None:
    import re

    from hotline.seed.city import DEMO_PASSWORD

    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    resp = client.post("/login", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token})
    assert resp.status_code == 302, resp.status_code


def child_measure(total: int, first_id: int, token: str) -> dict:
    from hotline import create_app

    app = create_app()
    rng = random.Random(7)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    citizens = max(1, total * 3 // 10)
    kinds = {
        "content": lambda: rng.choice(TOPICS)[rng.randrange(2)][: rng.choice((2, 3, 4))],
        "phone": lambda: _phone(rng.randrange(citizens)),
        "address": lambda: rng.choice(PLACES) + str(rng.randrange(1, 300)) + "号",
        "number": lambda: f"BD20260101-{rng.randrange(total):07d}",
        "content_and_filter": lambda: rng.choice(TOPICS)[0][:2] + "&status=handling",
    }
    out: dict = {}
    for kind, make in kinds.items():
        lat, hits = [], 0
        for _ in range(QUERIES):
            q = make()
            t = time.perf_counter()
            resp = client.get(f"/api/v1/cases?q={q}", headers=headers)
            lat.append((time.perf_counter() - t) * 1000)
            assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
            hits += resp.get_json()["total"] > 0
        out[kind] = {"p50_ms": _pct(lat, 0.5), "p95_ms": _pct(lat, 0.95), "found_share": round(hits / QUERIES, 2)}
    page = app.test_client()
    _login(page, "handler_zjj")
    with app.app_context():
        import sqlalchemy as sa

        from hotline.extensions import db
        from hotline.models import Case

        numbers = list(
            db.session.scalars(sa.select(Case.number).where(Case.id >= first_id, Case.status == "handling").limit(500))
        )
    lat = []
    started = time.perf_counter()
    for i in range(max(300, QUERIES)):
        t = time.perf_counter()
        resp = page.get(f"/cases/{numbers[i % len(numbers)]}")
        lat.append((time.perf_counter() - t) * 1000)
        assert resp.status_code == 200, resp.status_code
    elapsed = time.perf_counter() - started
    out["case_page"] = {
        "p50_ms": _pct(lat, 0.5),
        "p95_ms": _pct(lat, 0.95),
        "pages_per_s_one_core": round(len(lat) / elapsed, 1),
    }
    return out


def _child(instance: Instance, *args: str) -> dict:
    proc = subprocess.run(
        [sys.executable, "-m", "tests.bench.desks_search", *args],
        cwd=ROOT,
        env=instance.env,
        capture_output=True,
        text=True,
        timeout=7200,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"desks_search child {args[0]} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run(ctx) -> tuple[dict, str]:
    total = getattr(ctx, "desks_cases", 100_000)
    results: dict = {"targets": TARGETS, "cases": total}
    rows = []
    for target in ctx.databases:
        instance = Instance(target, redis_url=ctx.redis_url, keep=ctx.keep, prestart_redis=False).prepare()
        try:
            load = _child(instance, "load", str(total))
            log(f"{target.name}: loaded {load}")
            measured = _child(instance, "measure", str(total), str(load["first_case_id"]), instance.token)
        finally:
            instance.cleanup()
        results[target.name] = {"load": load, **measured}
        for kind, m in measured.items():
            rows.append(
                [target.name, kind, m["p50_ms"], m["p95_ms"], m.get("found_share", m.get("pages_per_s_one_core"))]
            )
    md = [
        f"## {TITLE}",
        "",
        f"{total:,} cases; in-process (Flask test client, one request at a time, token auth for the API, a session "
        "for the page). Targets: search p95 ≤ 100 ms on SQLite at 100k, ≤ 200 ms on PostgreSQL at 2M; "
        "case page p95 ≤ 30 ms.",
        "",
        table(["database", "what", "p50 ms", "p95 ms", "found share / pages/s"], rows),
        "",
        "Index build: "
        + "; ".join(
            f"{k}: {v['load']['index_cases_per_s']} cases/s"
            for k, v in results.items()
            if isinstance(v, dict) and "load" in v
        ),
    ]
    return results, "\n".join(md)


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "load":
        print(json.dumps(child_load(int(sys.argv[2]))))
    elif mode == "measure":
        print(json.dumps(child_measure(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])))
