"""Targets and markdown of ``make load`` (tests/bench/peak.py)."""

from __future__ import annotations

from tests.bench.report import table

REGISTRATIONS_PER_S = 50
READS_PER_S = 300
P95_MS = 200
SOCKETS = 2000


def targets(results: dict) -> dict:
    mix, sockets = results["mix"], results["sockets"]
    register = mix["actions"].get("register", {})
    worst = max(mix["actions"].items(), key=lambda kv: kv[1]["latency_ms"].get("p95", 0))
    return {
        f"registrations ≥ {REGISTRATIONS_PER_S}/s": [
            register.get("rps", 0),
            register.get("rps", 0) >= REGISTRATIONS_PER_S,
        ],
        f"reads ≥ {READS_PER_S}/s": [mix["reads_per_s"], mix["reads_per_s"] >= READS_PER_S],
        f"sockets connected ≥ {SOCKETS}, 0 dropped": [
            f"{sockets['still_connected']} connected, {sockets['dropped']} dropped",
            sockets["still_connected"] >= SOCKETS and sockets["dropped"] == 0,
        ],
        f"p95 ≤ {P95_MS} ms for every action": [
            f"worst {worst[0]} {worst[1]['latency_ms'].get('p95')} ms",
            worst[1]["latency_ms"].get("p95", 0) <= P95_MS,
        ],
        "0 errors": [mix["errors"], mix["errors"] == 0],
    }


def markdown(results: dict, command: str) -> str:
    mix, sockets, setup = results["mix"], results["sockets"], results["setup"]
    rows = []
    for name, a in mix["actions"].items():
        lat = a["latency_ms"]
        errors = a["errors"] if not a["errors"] else f"{a['errors']} {a['error_kinds']}"
        rows.append(
            [name, a["kind"], a["offered_rps"], a["rps"], lat["p50"], lat["p95"], lat["p99"], lat["max"], errors]
        )
    res = results["resources"]
    resource_rows = [
        [name, r["processes"], r["cpu_pct"], r["rss_mb"], r["uss_mb"]] for name, r in res.items() if name != "machine"
    ]
    target_rows = [[k, v[0], "met" if v[1] else "**not met**"] for k, v in results["targets"].items()]
    samples = [f"- `{n}`: {a['error_sample']}" for n, a in mix["actions"].items() if a["error_sample"]]
    return "\n".join(
        [
            "## Peak hour on one node (`make load`)",
            "",
            f"`{command}` — {setup['web']}; Socket.IO {setup['socketio']}; {setup['worker']}; scheduler; "
            f"{setup['database']}; Redis {setup['redis']}. {setup['prepared_cases']} cases prepared in "
            f"{setup['prepare_s']} s. Every action an open loop at its own rate, latency from the scheduled "
            f"send time; {mix['warmup_s']:g} s warm-up, then {mix['duration_s']:g} s measured.",
            "",
            table(["target", "measured", ""], target_rows),
            "",
            table(
                ["action", "kind", "offered/s", "answered/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors"], rows
            ),
            "",
            f"Totals: {mix['writes_per_s']} writes/s, {mix['reads_per_s']} reads/s, {mix['errors']} errors.",
            "",
            f"Sockets: {sockets['connected']} of {sockets['clients']} connected in {sockets['connect_s']} s "
            f"({sockets['centre']} centre clients, the rest unit users), {sockets['still_connected']} still "
            f"connected at the end, {sockets['dropped']} dropped; {sockets['events_received']} `case.updated` "
            "deliveries recorded during the run.",
            "",
            table(["processes", "count", "CPU % of one core", "peak RSS MB", "peak USS MB"], resource_rows),
            "",
            f"Machine CPU {res['machine']['cpu_pct']} % of {res['machine']['max_pct']} % (load generator and socket "
            f"clients included). Routing backlog right after the run: {results['after'].get('routing_pending')} cases.",
            "",
            *(["Error samples:", "", *samples, ""] if samples else []),
        ]
    )
