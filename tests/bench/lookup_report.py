"""The ``profile_lookup`` benchmark's targets and its markdown section (bench/report.md)."""

from __future__ import annotations

import re

from tests.bench.report import section_command, table

TARGET_P95_MS = 20.0


def _best(results: dict) -> tuple[str, dict]:
    runs = results.get("runs", {})
    label = min(runs, key=lambda k: runs[k]["paced"]["latency_ms"].get("p95", 1e9))
    return label, runs[label]


def targets(results: dict) -> list[dict]:
    label, run = _best(results)
    rows = []
    # The heavy callers' open loop (every look-up a file of 20–80 cases, at the full rate) is a stress case
    # shown in the table, not a target: heavy callers are 0.5 % of the files.
    for key, what in (
        ("single", "one agent at a time (1 connection), random files"),
        ("single_heavy", "one agent at a time, heavy callers"),
        ("paced", f"{run['paced']['offered_rps']:g} look-ups/s offered, random files"),
    ):
        r = run.get(key)
        if not r:
            continue
        p95 = r["latency_ms"].get("p95", 1e9)
        ok = (
            p95 <= TARGET_P95_MS
            and r["errors"] == 0
            and (r.get("offered_rps") is None or r["rps"] >= 0.95 * r["offered_rps"])
        )
        rows.append(
            {
                "target": f"p95 ≤ {TARGET_P95_MS:g} ms — {what}",
                "server": label,
                "measured": f"p95 {p95:g} ms (p50 {r['latency_ms'].get('p50'):g}, p99 "
                f"{r['latency_ms'].get('p99'):g}), {r['rps']:g}/s, errors {r['errors']}",
                "met": ok,
            }
        )
    small, big = results["load_small"], results["load"]
    growth = big["rss_mb"]["peak"] - small["rss_mb"]["peak"]
    rows.append(
        {
            "target": "loader memory does not grow with the row count",
            "server": "",
            "measured": f"peak RSS {small['rss_mb']['peak']:g} MB at {small['rows']['cases']:,} cases vs "
            f"{big['rss_mb']['peak']:g} MB at {big['rows']['cases']:,} ({growth:+.1f} MB)",
            "met": growth <= 10,
        }
    )
    rows.append(
        {
            "target": "bulk load of 1M cases in ~1–3 min",
            "server": "",
            "measured": f"{big['seconds']['load']:g} s load + {big['seconds']['vacuum_analyze']:g} s VACUUM "
            f"ANALYZE, {big['rows_total']:,} rows",
            "met": big["seconds"]["load"] <= 180,
        }
    )
    return rows


def _lat(r: dict, k: str) -> str:
    v = r.get("latency_ms", {}).get(k)
    return "" if v is None else f"{v:g}"


def markdown(results: dict, name: str, title: str, database: str) -> str:
    s = results["settings"]
    small, big = results["load_small"], results["load"]
    lines = [f"## {name} — {title}", "", f"Command: `{section_command(name)}`", ""]
    lines.append(
        f"Database `{database}` on {s['pg_server']}: demo seed + bulk load (`python -m tests.bench.bulk_load`), "
        f"{big['rows']['citizens']:,} citizens, {big['rows']['citizen_phones']:,} phones, "
        f"{big['rows']['cases']:,} cases, {big['rows']['case_events']:,} case events, "
        f"{big['rows']['assignments']:,} assignments, {big['rows']['calls']:,} calls, {big['rows']['ratings']:,} "
        f"ratings. Cases per file: {big['cases_per_citizen']['1-3']:,} files 1–3, "
        f"{big['cases_per_citizen']['4-9']:,} 4–9, {big['cases_per_citizen']['10-19']:,} 10–19, "
        f"{big['cases_per_citizen']['20+']:,} heavy callers ≥ 20 (max {big['cases_per_citizen']['max']}). "
        f"Load average before: {' '.join(f'{x:g}' for x in results['loadavg_before'])}."
    )
    lines += ["", "Targets:", ""]
    lines.append(
        table(
            ["target", "server", "measured", "verdict"],
            [
                [t["target"], t["server"], t["measured"], "met" if t["met"] else "**MISSED**"]
                for t in results["targets"]
            ],
        )
    )
    lines += [
        "",
        "Look-up over HTTP (`GET /api/v1/citizens/lookup?phone=`, agent1's bearer token, a random loaded "
        "number per request; heavy callers = files with ≥ 20 cases):",
        "",
    ]
    rows = []
    for label, run in results["runs"].items():
        for key in ("single", "single_heavy", "paced", "paced_heavy", "saturation"):
            r = run.get(key)
            if not r:
                continue
            cpu = r.get("cpu") or {}
            rate = f"{r['rps']:g}" + (f" of {r['offered_rps']:g}" if r.get("offered_rps") else "")
            rows.append(
                [
                    label,
                    r["name"],
                    r["tool"],
                    rate,
                    _lat(r, "p50"),
                    _lat(r, "p95"),
                    _lat(r, "p99"),
                    _lat(r, "max"),
                    r["errors"],
                    r.get("not_found", ""),
                    cpu.get("server_ms_per_request", ""),
                    f"{cpu.get('server_pct', 0):g} / {cpu.get('machine_pct', 0):g}",
                ]
            )
    lines.append(
        table(
            [
                "server",
                "run",
                "load",
                "req/s",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "max ms",
                "errors",
                "not found",
                "worker CPU ms/req",
                "CPU % workers / machine",
            ],
            rows,
        )
    )
    for label, run in results["runs"].items():
        rss = ", ".join(f"{w['rss_mb']:g}" for w in run["workers"])
        lines.append(f"\nWorkers of {label} after the runs: RSS {rss} MB.")
    prof = results["profile"]
    lines += [
        "",
        "Where a look-up's time goes (in-process, Flask test client, one request at a time, same "
        "database; DB = wall time from cursor execute to result, i.e. PostgreSQL + round trip):",
        "",
    ]
    rows = []
    for label in ("sample", "heavy"):
        p = prof.get(label)
        if p:
            rows.append(
                [
                    label,
                    p["ms_per_request"],
                    p["cpu_ms_per_request"],
                    p["db_ms_per_request"],
                    p["statements_per_request"],
                    p["cases_shown_mean"],
                    ", ".join(f"{k} ×{v:g}" for k, v in p["statements"].items()),
                ]
            )
    lines.append(
        table(
            ["files", "ms / look-up", "CPU ms", "DB ms", "SQL statements", "cases shown", "statements (per look-up)"],
            rows,
        )
    )
    heavy = prof.get("heavy") or prof.get("sample")
    lines += ["", "Steps (heavy callers; wall ms per look-up, inclusive):", ""]
    lines.append(
        table(
            ["step", "ms", "share", "CPU ms"],
            [
                ["&nbsp;&nbsp;" * st["indent"] + st["step"], st["ms"], f"{st['share_pct']:g}%", st["cpu_ms"]]
                for st in heavy["steps"]
            ],
        )
    )
    cp = prof["cprofile_heavy"]
    lines += [
        "",
        f"cProfile, heavy callers ({cp['requests']} look-ups), top functions by cumulative share (app and ORM frames):",
        "",
    ]
    keep = [
        r
        for r in cp["cumulative"]
        if re.search(r"hotline|orm|loading|sqlalchemy|psycopg|json|cipher|phonenumbers", r["function"], re.I)
    ][:22]
    lines.append(
        table(
            ["function", "calls / look-up", "cumulative %", "self %"],
            [[f"`{r['function']}`", r["calls_per_request"], r["cum_pct"], r["self_pct"]] for r in keep],
        )
    )
    lines += [
        "",
        "EXPLAIN (ANALYZE, BUFFERS) of the statements of one heavy caller's look-up (just looked up), "
        "then of the file statement for a random file nobody looked up (times inside PostgreSQL; in the "
        "app the file statement is prepared after 5 uses per connection, so it is not planned again):",
        "",
    ]
    rows = []
    for p in prof["explain"]:
        scan = next((ln.strip() for ln in p["plan"] if "Scan" in ln), p["plan"][0] if p["plan"] else "")
        rows.append(
            [
                p.get("file", ""),
                f"`{p['sql'][:90]}…`",
                p.get("planning_ms"),
                p["execution_ms"],
                f"{p.get('buffers_hit', '')} / {p.get('buffers_read', '')}",
                f"`{scan[:90]}`",
            ]
        )
    lines.append(
        table(["file", "statement", "planning ms", "execution ms", "buffers hit / read", "first scan node"], rows)
    )
    for p in prof["explain"]:
        if p["sql"].startswith("WITH") or (p["execution_ms"] or 0) > 2:
            lines += ["", f"Plan ({p.get('file', '')}, {p['execution_ms']} ms):", "", "```", *p["plan"], "```"]
    lines += ["", "Bulk loader (`tests/bench/bulk_load.py`, a process of its own: its peak RSS is its own):", ""]
    rows = []
    for label, ld in (("small", small), ("full", big)):
        rows.append(
            [
                label,
                f"{ld['rows']['cases']:,}",
                f"{ld['rows_total']:,}",
                ld["seconds"]["copy"],
                ld["seconds"]["indexes"],
                ld["seconds"]["load"],
                ld["seconds"]["vacuum_analyze"],
                f"{ld['rows_total'] / max(ld['seconds']['load'], 0.1):,.0f}",
                ld["rss_mb"]["start"],
                ld["rss_mb"]["peak"],
            ]
        )
    lines.append(
        table(
            [
                "run",
                "cases",
                "rows (all tables)",
                "COPY s",
                "index build s",
                "load s",
                "VACUUM ANALYZE s",
                "rows/s",
                "RSS at start MB",
                "peak RSS MB",
            ],
            rows,
        )
    )
    lines += [
        "",
        f"Mode: {big['config']['mode']}; {big['config']['deferred_indexes']} secondary indexes/unique "
        f"constraints dropped before and rebuilt after the COPY (definitions checked identical); batches of "
        f"{big['config']['batch_cases']:,} cases per COPY and commit. Table sizes MB: "
        + ", ".join(f"{k} {v:g}" for k, v in big["table_mb"].items())
        + ".",
    ]
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
    summary = steps.get("file.lookup_file", {})
    fetch = steps.get("file_sql.fetch", {})
    auth = steps.get("auth: bearer token → user", {})
    plans = [p for p in prof["explain"] if p.get("file", "heavy").startswith("heavy")]
    pg_ms = sum(p["execution_ms"] or 0 for p in plans)
    wait_share = share(r"psycopg: connection.py:\d+\(wait\)")
    lines = ["Hot spots (heavy callers, in-process numbers above):", ""]
    lines.append(
        f"- `hotline.citizens.file.lookup_file`: {summary.get('share_pct', 0):g}% of a look-up "
        f"({summary.get('ms', 0):g} ms, {summary.get('cpu_ms', 0):g} ms CPU), of which the one statement "
        f"{fetch.get('ms', 0):g} ms; the bearer-token user load {auth.get('share_pct', 0):g}%."
    )
    kinds = ", ".join(f"{k} ×{v:g}" for k, v in heavy["statements"].items())
    lines.append(
        f"- {heavy['statements_per_request']:g} statements per look-up ({kinds}): the token's user, then "
        f"the whole file in one statement (`hotline/citizens/file_sql.py`: the phone's citizen, its cases "
        f"read once, the shown lists as JSON arrays, the counts). Round trips per look-up: the pool's "
        f"pre-ping and these statements; the view runs them in AUTOCOMMIT (`hotline.db.dialect."
        f"autocommit_reads`), so there is no BEGIN before them and no ROLLBACK when the session closes."
    )
    lines.append(
        f"- Inside PostgreSQL the statements take {pg_ms:.2f} ms together (index scans: "
        f"`uq_citizen_phones_phone_hash`, `ix_cases_citizen_id`, `ix_calls_citizen_id`, "
        f'`ix_ratings_citizen_id`, …); the {heavy["db_ms_per_request"]:g} ms of "DB" per look-up is '
        f"round trips (each a wake-up of the worker and of a PostgreSQL backend on a busy 2-core "
        f"machine) plus result conversion: psycopg's `wait` is {wait_share:g}% cumulative."
    )
    return lines


FINDINGS = """How to read it: "1 connection" is what one agent sees (service time, no queueing); the open loop is a
fixed rate of look-ups (latency counted from the scheduled send time, so queueing shows); "16 connections" is
saturation (throughput; its latency is mostly waiting in gunicorn's queue). On this 2-core machine the load
generator, gunicorn, PostgreSQL (and other work, see the load average) share the cores."""
