"""Benchmark ``kb_search``: KB search quality on the demo KB, and latency/memory/freshness with 50,000 entries.

Per database (SQLite always, PostgreSQL with --pg): a fresh instance (migrate, seed --demo), then in child
processes (the app as a web process runs it):

1. quality: recall@5 of tests/kb/queries.py (callers' questions, typos, abbreviations) on the 202-entry demo KB;
2. load: 50,000 more published entries (variants of the demo entries per district/street, each with a few
   entry-specific terms so the vocabulary grows as a real catalogue's does), bulk-inserted with their term
   vectors; one index change number;
3. in-process: index build time, index memory (tracemalloc: what the build allocated; RSS growth), search
   latency over the query set (index only, and the full service call: change-counter check + snippets);
4. HTTP: gunicorn (sync, 2 workers), GET /api/v1/kb/search one request at a time with keep-alive;
5. (SQLite) the alternative: FTS5 with bm25 over the same jieba tokens, on the demo KB and at 50k;
6. freshness: publish a new entry through the API, then search through HTTP until it is found (both
   workers keep their own index): time from the publish answer to the first result containing it.

    .venv/bin/python -m tests.bench.run --only kb_search [--pg URL]
"""

from __future__ import annotations

import json
import random
import statistics
import subprocess
import sys
import time
import uuid

from tests.bench.report import table
from tests.bench.server import ROOT, Gunicorn, Instance, ServerConfig, log

NAME = "kb_search"
TITLE = "KB search: quality, 50k-entry latency, memory, freshness"
ENTRIES = 50_000
SEARCHES = 1000
TARGETS = {"recall_at_5": 0.9, "inproc_p95_ms": 20.0, "http_p95_ms": 40.0, "index_mb": 200.0, "fresh_max_s": 1.0}


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return round(values[min(len(values) - 1, int(len(values) * q))], 2) if values else 0.0


# --- child-process modes ------------------------------------------------------------------------------
def child_quality() -> dict:
    from hotline import create_app
    from tests.kb.queries import QUERIES

    app = create_app()
    with app.app_context():
        from hotline.kb.service import search

        search("社保")
        hits, lat = 0, []
        for query, expected in QUERIES:
            t = time.perf_counter()
            codes = [r["code"] for r in search(query, 5)]
            lat.append((time.perf_counter() - t) * 1000)
            hits += bool(set(expected) & set(codes))
        return {"queries": len(QUERIES), "recall_at_5": round(hits / len(QUERIES), 3), "p95_ms_200": _pct(lat, 0.95)}


def child_fts5() -> dict:
    """The alternative measured against: SQLite FTS5 (bm25) over the same jieba tokens, the query's tokens ORed.
    No synonyms, no typo correction, no freshness/usage. Built in a copy of the instance's SQLite file."""
    import shutil
    import sqlite3
    import tempfile
    from pathlib import Path

    from hotline import create_app
    from tests.kb.queries import QUERIES

    app = create_app()
    with app.app_context():
        from hotline.kb.index import tokenizer

        tok = tokenizer()
        folder = Path(tempfile.mkdtemp(prefix="kb-fts5-"))
        try:
            shutil.copy(Path(app.config["HOTLINE"].instance) / "hotline.db", folder / "copy.db")
            con = sqlite3.connect(folder / "copy.db")
            con.execute("CREATE VIRTUAL TABLE fts USING fts5(code UNINDEXED, title, body)")
            t = time.perf_counter()
            rows = con.execute("SELECT code, title, terms FROM kb_entries WHERE status = 'published'").fetchall()
            con.executemany(
                "INSERT INTO fts(code, title, body) VALUES (?, ?, ?)",
                [(c, " ".join(tok.tokens(ti)), " ".join(json.loads(te))) for c, ti, te in rows],
            )
            con.commit()
            build_s = time.perf_counter() - t
            hits, lat = 0, []
            for query, expected in QUERIES * 3:
                match = " OR ".join('"' + x.replace('"', "") + '"' for x in tok.tokens(query)) or '""'
                t = time.perf_counter()
                codes = [
                    r[0]
                    for r in con.execute(
                        "SELECT code FROM fts WHERE fts MATCH ? ORDER BY bm25(fts, 0, 3.0, 1.0) LIMIT 5", (match,)
                    )
                ]
                lat.append((time.perf_counter() - t) * 1000)
                hits += bool(set(expected) & set(codes))
            con.close()
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return {
            "rows": len(rows),
            "build_s": round(build_s, 1),
            "recall_at_5": round(hits / len(QUERIES) / 3, 3),
            "p50_ms": _pct(lat, 0.5),
            "p95_ms": _pct(lat, 0.95),
        }


def child_load(count: int) -> dict:
    import sqlalchemy as sa

    from hotline import create_app
    from hotline.extensions import db
    from hotline.kb.index import bump_seq, tokenizer
    from hotline.models import Department, KbEntry
    from hotline.models.types import utcnow

    app = create_app()
    rnd = random.Random(7)
    with app.app_context():
        started = time.monotonic()
        base = db.session.execute(sa.select(KbEntry).where(KbEntry.status == "published")).scalars().all()
        places = [
            (d.code if d.kind == "district" else d.path.strip("/").split("/")[1], d.name)
            for d in db.session.scalars(sa.select(Department).where(Department.kind.in_(("district", "street"))))
        ]
        tok = tokenizer()
        place_terms = {name: tok.tokens(name) for _, name in places}
        pool = [
            rnd.choice("安宁和平幸福光明长青永兴富民建业同心惠民锦华兴隆康乐") + rnd.choice("园苑里坊湾城庄府") + str(n)
            for n in range(30000)
        ]  # entry-specific words (estates, windows): a growing vocabulary
        seq = bump_seq()
        now = utcnow()
        rows = []
        for n in range(count):
            src = base[n % len(base)]
            district, place = places[(n // len(base)) % len(places)]
            extra = rnd.sample(pool, 4)
            terms = dict(src.terms)
            for t in place_terms[place] + extra:
                terms[t] = round(terms.get(t, 0) + 1.2, 3)
            rows.append(
                {
                    "kind": src.kind,
                    "code": f"B{n:06d}",
                    "title": f"{place}{src.title}",
                    "body": f"{src.body}本事项可在{place}便民服务窗口办理，服务点：{'、'.join(extra)}。",
                    "fields": src.fields,
                    "department_id": src.department_id,
                    "category_id": src.category_id,
                    "tags": src.tags,
                    "districts": [district],
                    "status": "published",
                    "usage_count": n % 7,
                    "version": 1,
                    "terms": terms,
                    "index_seq": seq,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            if len(rows) == 5000:
                db.session.execute(sa.insert(KbEntry), rows)
                rows = []
        if rows:
            db.session.execute(sa.insert(KbEntry), rows)
        db.session.commit()
        return {"loaded": count, "seconds": round(time.monotonic() - started, 1)}


def child_inproc() -> dict:
    import tracemalloc

    import psutil

    from hotline import create_app
    from tests.kb.queries import QUERIES

    app = create_app()
    with app.app_context():
        from hotline.kb import index as kb_index
        from hotline.kb.service import search

        kb_index.tokenizer()  # jieba's dictionary is loaded by every process that tokenises: not the index
        kb_index.synonym_groups()
        proc = psutil.Process()
        rss0 = proc.memory_info().rss
        t = time.perf_counter()
        index = kb_index.current_index()  # the first build, as a web process does it
        build_s = time.perf_counter() - t
        rss1 = proc.memory_info().rss
        kb_index._states.clear()  # a second build under tracemalloc: what the index itself holds
        index = None
        tracemalloc.start()
        index = kb_index.current_index()
        traced, _peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        queries = [q for q, _ in QUERIES]
        raw, full = [], []
        for i in range(SEARCHES):
            q = queries[i % len(queries)]
            t = time.perf_counter()
            index.search(q, 10, today=kb_index.today_ordinal())
            raw.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            search(q, 10)
            full.append((time.perf_counter() - t) * 1000)
        return {
            "entries": len(index),
            "build_s": round(build_s, 1),
            "index_mb": round(traced / 2**20, 1),
            "rss_growth_mb": round((rss1 - rss0) / 2**20, 1),
            "rss_mb": round(rss1 / 2**20, 1),
            "index_p50_ms": _pct(raw, 0.5),
            "index_p95_ms": _pct(raw, 0.95),
            "index_p99_ms": _pct(raw, 0.99),
            "service_p50_ms": _pct(full, 0.5),
            "service_p95_ms": _pct(full, 0.95),
            "service_p99_ms": _pct(full, 0.99),
        }


def _child(instance: Instance, *args: str, timeout: float = 1200) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "tests.bench.kb_search", *args],
        cwd=ROOT,
        env=instance.env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if out.returncode != 0:
        raise RuntimeError(f"kb_search {args} failed:\n{out.stdout}\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- HTTP ---------------------------------------------------------------------------------------------
def _http(instance: Instance, admin_token: str) -> dict:
    import requests

    from tests.kb.queries import QUERIES

    queries = [q for q, _ in QUERIES]
    with Gunicorn(instance, ServerConfig("sync", 2)) as server:
        s = requests.Session()
        s.headers["Authorization"] = f"Bearer {instance.token}"
        url = server.url + "/api/v1/kb/search"
        t = time.perf_counter()
        for q in queries[:10]:  # warm-up: each worker builds its index on its first search
            s.get(url, params={"q": q}, timeout=300).raise_for_status()
        warm_s = time.perf_counter() - t
        lat = []
        for i in range(SEARCHES):
            t = time.perf_counter()
            resp = s.get(url, params={"q": queries[i % len(queries)], "limit": 10}, timeout=30)
            lat.append((time.perf_counter() - t) * 1000)
            resp.raise_for_status()
        memory = server.worker_memory()
        fresh = _freshness(server.url, instance.token, admin_token)
    return {
        "http_p50_ms": _pct(lat, 0.5),
        "http_p95_ms": _pct(lat, 0.95),
        "http_p99_ms": _pct(lat, 0.99),
        "warmup_s": round(warm_s, 1),
        "workers": memory,
        **fresh,
    }


def _freshness(base: str, agent_token: str, admin_token: str, rounds: int = 10) -> dict:
    import requests

    admin, agent = requests.Session(), requests.Session()
    admin.headers["Authorization"] = f"Bearer {admin_token}"
    agent.headers["Authorization"] = f"Bearer {agent_token}"
    delays = []
    for _ in range(rounds):
        word = "鲲鹏" + uuid.uuid4().hex[:6]
        entry = admin.post(
            base + "/api/v1/kb/entries",
            timeout=30,
            json={
                "kind": "article",
                "title": f"{word}专项补贴问答",
                "department_code": "RSJ",
                "body": "测试时效用的条目。",
            },
        ).json()
        resp = admin.post(f"{base}/api/v1/kb/entries/{entry['id']}/transition", json={"action": "publish"}, timeout=30)
        resp.raise_for_status()
        published = time.perf_counter()
        while True:
            found = agent.get(base + "/api/v1/kb/search", params={"q": word}, timeout=30).json()["results"]
            if any(r["id"] == entry["id"] for r in found):
                delays.append(time.perf_counter() - published)
                break
            if time.perf_counter() - published > 10:
                delays.append(float("inf"))
                break
    return {"fresh_max_s": round(max(delays), 3), "fresh_mean_s": round(statistics.mean(delays), 3)}


def run(ctx) -> tuple[dict, str]:
    results = {}
    for target in ctx.databases:
        instance = Instance(target, ctx.redis_url, ctx.keep, ctx.prestart_redis).prepare()
        try:
            admin_token = instance.flask("token", "create", "admin").strip().splitlines()[-1].strip()
            res = {"quality": _child(instance, "quality")}
            log(f"{target.name}: quality {res['quality']}")
            if target.name == "sqlite":
                res["fts5_demo"] = _child(instance, "fts5")
            res["load"] = _child(instance, "load", str(ENTRIES))
            log(f"{target.name}: loaded {res['load']}")
            if target.name == "sqlite":
                res["fts5_50k"] = _child(instance, "fts5")
                log(f"{target.name}: FTS5 alternative {res['fts5_demo']} / {res['fts5_50k']}")
            res["inproc"] = _child(instance, "inproc")
            log(f"{target.name}: in-process {res['inproc']}")
            res["http"] = _http(instance, admin_token)
            log(f"{target.name}: http {res['http']}")
            results[target.name] = res
        finally:
            instance.cleanup()
    return {"targets": TARGETS, "results": results}, _markdown(results)


def _markdown(results: dict) -> str:
    rows = []
    for db_name, r in results.items():
        q, i, h = r["quality"], r["inproc"], r["http"]
        rows.append(
            [
                db_name,
                f"{q['recall_at_5']} ({q['queries']} q)",
                i["entries"],
                f"{i['build_s']} s",
                f"{i['index_mb']} MB (RSS +{i['rss_growth_mb']})",
                f"{i['index_p50_ms']} / {i['index_p95_ms']}",
                f"{i['service_p50_ms']} / {i['service_p95_ms']}",
                f"{h['http_p50_ms']} / {h['http_p95_ms']}",
                f"{h['fresh_max_s']} s (mean {h['fresh_mean_s']})",
            ]
        )
    return (
        f"### {TITLE}\n\n"
        + table(
            [
                "db",
                "recall@5",
                "entries",
                "index build",
                "index memory",
                "index p50/p95 ms",
                "service p50/p95 ms",
                "HTTP p50/p95 ms",
                "publish→visible max",
            ],
            rows,
        )
        + f"\n\nTargets: recall@5 ≥ {TARGETS['recall_at_5']}, in-process p95 ≤ {TARGETS['inproc_p95_ms']} ms, "
        f"HTTP p95 ≤ {TARGETS['http_p95_ms']} ms, index ≤ {TARGETS['index_mb']} MB, visible ≤ 1 s. "
        "Service = change-counter check + index + snippets from the database (what the API does). "
        "HTTP: gunicorn sync ×2, one request at a time.\n" + _fts_markdown(results)
    )


def _fts_markdown(results: dict) -> str:
    r = results.get("sqlite", {})
    if "fts5_50k" not in r:
        return ""
    demo, big = r["fts5_demo"], r["fts5_50k"]
    return (
        "\nAlternative measured (SQLite FTS5, bm25, over the same jieba tokens, query tokens ORed; no synonyms or "
        f"typo correction): recall@5 {demo['recall_at_5']} on the demo KB (in-process index: "
        f"{r['quality']['recall_at_5']}); at {big['rows']} entries p50/p95 {big['p50_ms']} / {big['p95_ms']} ms "
        f"(in-process index: {r['inproc']['index_p50_ms']} / {r['inproc']['index_p95_ms']} ms).\n"
    )


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "quality":
        print(json.dumps(child_quality()))
    elif mode == "load":
        print(json.dumps(child_load(int(sys.argv[2]))))
    elif mode == "inproc":
        print(json.dumps(child_inproc()))
    elif mode == "fts5":
        print(json.dumps(child_fts5()))
