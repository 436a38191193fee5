"""RQ workers beside the web server during a create-case run: registration only queues the routing
(hotline/dispatch/routing_queue.py), so an honest throughput figure has the routing job running on the same cores.

``with RoutingWorkers(instance, n) as workers:`` starts ``n`` ``flask worker`` processes of the instance;
afterwards ``workers.report(created_before)`` waits for the routing backlog to drain and returns how many
cases were routed, the backlog when the load stopped, the drain time and the workers' CPU per routed case.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time

import psutil
import sqlalchemy as sa

from tests.bench.server import ROOT, Instance, log


def _engine(instance: Instance):
    from hotline.config import normalise_database_url

    url = instance.database_url or f"sqlite:///{instance.folder / 'hotline.db'}"
    return sa.create_engine(normalise_database_url(url))


def counts(instance: Instance) -> tuple[int, int]:
    """(cases, cases still waiting for the router) in the instance's database."""
    engine = _engine(instance)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                sa.text("SELECT count(*), sum(CASE WHEN routing_pending THEN 1 ELSE 0 END) FROM cases")
            ).one()
        return int(row[0]), int(row[1] or 0)
    finally:
        engine.dispose()


def _clear_queue(instance: Instance) -> None:
    """The earlier web-tier runs' cases were never routed (no worker ran): take them off the queue, so this
    run's workers start empty and route exactly the cases of this run."""
    engine = _engine(instance)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE cases SET routing_pending = false WHERE routing_pending"))
    finally:
        engine.dispose()


class RoutingWorkers:
    def __init__(self, instance: Instance, n: int):
        self.instance, self.n = instance, n
        self.procs: list[subprocess.Popen] = []
        self.logfile = instance.folder / "rq-workers.log"
        self.started_cases = self.started_pending = 0
        self.cpu_at_start = 0.0

    def __enter__(self) -> RoutingWorkers:
        _clear_queue(self.instance)
        self.started_cases, self.started_pending = counts(self.instance)
        with open(self.logfile, "a") as out:
            for _ in range(self.n):
                self.procs.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
                        cwd=ROOT,
                        env=self.instance.env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                )
        time.sleep(2.0)  # imports and the first Redis connection, before the load starts
        self.cpu_at_start = self.cpu_seconds()
        return self

    def cpu_seconds(self) -> float:
        total = 0.0
        for proc in self.procs:
            with contextlib.suppress(psutil.Error):
                times = psutil.Process(proc.pid).cpu_times()
                total += times.user + times.system
        return total

    def report(self, drain_timeout: float = 120.0) -> dict:
        """Called when the load has stopped: wait for the backlog to drain, then sum up."""
        cases, backlog = counts(self.instance)
        started = time.monotonic()
        pending = backlog
        while pending and time.monotonic() - started < drain_timeout:
            time.sleep(0.25)
            pending = counts(self.instance)[1]
        drained = round(time.monotonic() - started, 2)
        created = cases - self.started_cases
        routed = self.started_pending + created - pending
        cpu = self.cpu_seconds() - self.cpu_at_start
        out = {
            "workers": self.n,
            "created": created,
            "pending_before": self.started_pending,
            "routed": routed,
            "backlog_at_stop": backlog,
            "still_pending": pending,
            "drain_s": drained,
            "cpu_ms_per_case": round(1000 * cpu / routed, 2) if routed else None,
        }
        log(
            f"routing workers ({self.n}): {created} cases created, backlog {backlog} when the load stopped, "
            f"drained in {drained}s, {out['cpu_ms_per_case']} ms worker CPU per routed case"
            + (f", {pending} STILL PENDING" if pending else "")
        )
        return out

    def __exit__(self, *exc) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
