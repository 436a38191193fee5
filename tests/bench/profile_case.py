"""Where the time of one create-case request goes (in-process, no HTTP server, no concurrency).

    python -m tests.bench.profile_case [--pg URL] [-n 300] [--cprofile 25]

Sets up a fresh instance like the benchmark (SQLite, or the bench's own PostgreSQL database), then
sends ``n`` create-case requests (and ``n`` bare inserts for comparison) through the Flask test client,
one after the other. Prints per request: service time and CPU time, SQL statements before and after
the commit, and a breakdown of wall and CPU time over the main steps (step timers wrapped around the
app's functions: cheap, so the numbers are close to the real ones). ``--cprofile N`` adds a cProfile
run (slower, function-level). Service time is the floor of latency: under load, requests also queue
(and on SQLite wait for the write lock, which this sequential run never does).
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import pstats
import re
import time
from collections import Counter

import sqlalchemy as sa

from tests.bench.create_case import BARE_BODY, CREATE_BODY
from tests.bench.server import BENCH_DB, DbTarget, Instance

# (indent, label, module, attribute): timers are wrapped around module.attribute, the name the caller
# looks up at call time. Inner steps are included in their parents.
STEPS = [
    (0, "auth: bearer token → user (SELECT api_tokens + lazy SELECT users)", "hotline.auth.security", "user_for_token"),
    (0, "view api.cases.create_case", "@views", "api.create_case"),
    (1, "validation.parse", "hotline.api.cases", "parse"),
    (1, "phones.normalize (phonenumbers)", "hotline.api.cases", "normalize"),
    (1, "lookups.district (SELECT departments)", "hotline.web.lookups", "district"),
    (1, "lookups.category (SELECT categories, by path then by name)", "hotline.web.lookups", "category"),
    (1, "operations.create_case", "hotline.cases.operations", "create_case"),
    (
        2,
        "profile.get_or_create (SELECT, INSERT citizen + flush, INSERT phone, SELECT)",
        "hotline.cases.operations",
        "get_or_create",
    ),
    (2, "numbers.next_number (case_counters upsert)", "hotline.cases.operations", "next_number"),
    (2, "timeline.record (CaseEvent object)", "hotline.cases.timeline", "record"),
    (2, "realtime.publish (payload check, queue)", "hotline.cases.operations", "publish"),
    (
        2,
        "session.flush, all calls (ORM unit of work: citizen, case, event INSERTs)",
        "hotline.cases.operations.db.session",
        "flush",
    ),
    (
        1,
        "_done → session.commit (flush case + event, COMMIT, after-commit hooks)",
        "hotline.api.cases.db.session",
        "commit",
    ),
    (2, "after-commit: Socket.IO emit through the Redis manager", "hotline.realtime.publish", "_emit"),
    (1, "_done → serializers.case_to_dict (reloads what the commit expired)", "hotline.api.cases", "case_to_dict"),
]


class StepTimers:
    """Wall and CPU (thread) time spent inside wrapped functions, outermost calls only."""

    def __init__(self):
        self.wall: Counter = Counter()
        self.cpu: Counter = Counter()
        self._active: Counter = Counter()
        self._undo = []

    def wrap(self, owner, attr: str, key: str) -> None:
        """Replace ``owner.attr`` (or ``owner[attr]`` for a dict) by a timed wrapper."""
        is_dict = isinstance(owner, dict)
        original = owner[attr] if is_dict else getattr(owner, attr)
        shadowed = not is_dict and not isinstance(owner, type) and attr not in getattr(owner, "__dict__", {attr: 0})

        @functools.wraps(original)
        def timed(*args, **kwargs):
            if self._active[key]:
                return original(*args, **kwargs)
            self._active[key] += 1
            w0, c0 = time.perf_counter(), time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                self.wall[key] += time.perf_counter() - w0
                self.cpu[key] += time.thread_time() - c0
                self._active[key] -= 1

        if is_dict:
            owner[attr] = timed
        else:
            setattr(owner, attr, timed)
        self._undo.append((owner, attr, original, shadowed))

    def restore(self) -> None:
        for owner, attr, original, shadowed in reversed(self._undo):
            if isinstance(owner, dict):
                owner[attr] = original
            elif shadowed:  # we set an instance attribute over a class method: remove it again
                delattr(owner, attr)
            else:
                setattr(owner, attr, original)
        self._undo.clear()


def _resolve(path: str):
    import importlib

    parts = path.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(path)


class SqlCounter:
    def __init__(self, engine):
        self.phase = "off"
        self.kinds: Counter = Counter()
        sa.event.listen(engine, "before_cursor_execute", self._on_execute)

    def _on_execute(self, conn, cursor, statement, parameters, context, executemany):
        if self.phase == "off":
            return
        upper = " ".join(statement.split()).upper()
        verb = upper.split(" ", 1)[0] if upper else "?"
        table = ""
        if match := re.search(r"\b(?:FROM|INTO|UPDATE) (\S+)", upper):
            table = match.group(1).strip('"').lower()
        self.kinds[f"{self.phase}: {verb} {table}".rstrip()] += 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m tests.bench.profile_case",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--pg", metavar="URL", default="", help="PostgreSQL server URL (else SQLite)")
    p.add_argument("--pg-db", default=BENCH_DB)
    p.add_argument("-n", type=int, default=300, help="requests per endpoint (300)")
    p.add_argument(
        "--cprofile",
        type=int,
        default=0,
        metavar="TOP",
        help="also run create-case under cProfile and print the TOP functions (--sort)",
    )
    p.add_argument(
        "--route",
        action="store_true",
        help="then profile the routing job (workers/jobs/routing.py) over the cases just created",
    )
    p.add_argument(
        "--sort",
        choices=("cumulative", "tottime"),
        default="cumulative",
        help="cProfile order: cumulative (default) or tottime (own time: the hot spots)",
    )
    args = p.parse_args(argv)

    db = DbTarget("postgresql", args.pg, args.pg_db) if args.pg else DbTarget("sqlite")
    instance = Instance(db)
    try:
        instance.prepare()
        return _profile(instance, args)
    finally:
        instance.cleanup()


def _profile(instance: Instance, args) -> int:
    from hotline.extensions import db
    from tests.bench.wsgi import create_bench_app

    app = create_bench_app({"instance": instance.folder, "database_url": instance.database_url})
    client = app.test_client()
    headers = {"Authorization": f"Bearer {instance.token}", "Content-Type": "application/json"}
    serial = iter(range(10**7))

    def post(path: str, template: str):
        n = next(serial)
        resp = client.post(
            path, headers=headers, data=template.replace("{phone}", f"1390{n:07d}").replace("{n}", str(n)).encode()
        )
        assert resp.status_code == 201, resp.get_data(as_text=True)[:300]

    with app.app_context():
        counter = SqlCounter(db.engine)
    for _ in range(20):  # warm-up: imports, compiled-statement caches, connection pool
        post("/api/v1/cases", CREATE_BODY)
        post("/bench/bare-insert", BARE_BODY)

    print(f"\n{instance.db.name}: {args.n} sequential requests each, in-process (Flask test client)")
    for name, path, template in (
        ("bare_insert", "/bench/bare-insert", BARE_BODY),
        ("create_case", "/api/v1/cases", CREATE_BODY),
    ):
        timers = StepTimers()
        if name == "create_case":
            for _indent, label, module, attr in STEPS:
                timers.wrap(app.view_functions if module == "@views" else _resolve(module), attr, label)
        session = db.session
        original_commit = session.commit

        def commit(_original=original_commit):
            counter.phase = "commit"
            try:
                return _original()
            finally:
                counter.phase = "after commit"

        session.commit = commit
        wall = cpu = 0.0
        try:
            for _ in range(args.n):
                counter.phase = "before commit"
                w0, c0 = time.perf_counter(), time.thread_time()
                post(path, template)
                wall += time.perf_counter() - w0
                cpu += time.thread_time() - c0
        finally:
            counter.phase = "off"
            session.commit = original_commit
            timers.restore()
            vars(session).pop("commit", None)
        per = 1000 / args.n
        print(
            f"\n=== {name}: {wall * per:.2f} ms per request, of which {cpu * per:.2f} ms CPU in this process "
            f"(the rest waits on the database / Redis)"
        )
        print(f"SQL statements per request: {sum(counter.kinds.values()) / args.n:g}")
        for kind, count in sorted(counter.kinds.items()):
            print(f"   {count / args.n:5.2f}  {kind}")
        counter.kinds.clear()
        if timers.wall:
            print(f"\n{'step':<76}  wall ms  share   CPU ms")
            for indent, label, _module, _attr in STEPS:
                w, c = timers.wall[label] * per, timers.cpu[label] * per
                print(f"{'  ' * indent + label:<76} {w:8.2f} {100 * w / (wall * per):5.1f}% {c:8.2f}")
            print(f"{'whole request (test client → Flask → response)':<76} {wall * per:8.2f} 100.0% {cpu * per:8.2f}")

    if args.cprofile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.n):
            post("/api/v1/cases", CREATE_BODY)
        profiler.disable()
        stats = pstats.Stats(profiler)
        # Python function calls per request: unlike CPU time, not disturbed by other work on the machine
        print(
            f"\ncProfile of create-case: {stats.total_calls / args.n:,.0f} function calls per request; "
            f"top {args.cprofile} by {args.sort}:"
        )
        stats.sort_stats(args.sort).print_stats(args.cprofile)
    if args.route:
        _profile_routing(app, args)
    return 0


def _profile_routing(app, args) -> None:
    """The routing job over every case the run created (the same text each: the duplicate check's worst case)."""
    from hotline.dispatch.routing_queue import pending_count, route_pending
    from hotline.extensions import db

    with app.app_context():
        pending = pending_count()
        profiler = cProfile.Profile() if args.cprofile else None
        w0, c0 = time.perf_counter(), time.thread_time()
        if profiler:
            profiler.enable()
        counts = route_pending()
        if profiler:
            profiler.disable()
        wall, cpu = time.perf_counter() - w0, time.thread_time() - c0
        db.session.remove()
    n = max(counts["routed"], 1)
    print(
        f"\n=== routing job: {pending} pending cases, {counts}: {1000 * wall / n:.2f} ms per case, of which "
        f"{1000 * cpu / n:.2f} ms CPU in this process"
    )
    if profiler:
        stats = pstats.Stats(profiler)
        print(f"cProfile: {stats.total_calls / n:,.0f} function calls per case; top {args.cprofile} by {args.sort}:")
        stats.sort_stats(args.sort).print_stats(args.cprofile)


if __name__ == "__main__":
    raise SystemExit(main())
