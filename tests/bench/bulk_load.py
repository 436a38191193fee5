"""Streaming bulk loader: a PostgreSQL database with a city's worth of 一号一档 history.

    python -m tests.bench.bulk_load --pg postgresql://postgres@127.0.0.1:5432/ [--citizens 300000]
        [--cases 1000000] [--pg-db hotline_bench_lookup] [--phones-out FILE] [--keep]
    python -m tests.bench.bulk_load --database-url URL --instance DIR ...   # load into a prepared instance

With ``--pg`` the loader drops and recreates its own database on that server (never the one named in
the URL), runs ``flask db upgrade`` and ``flask seed --demo`` on a temp instance folder, then loads.
With ``--database-url``/``--instance`` it loads into an instance someone else prepared (the
``profile_lookup`` benchmark does that, to serve the same instance with gunicorn afterwards).

What it writes, after the demo seed: ``--citizens`` citizen files, each with one mobile number (a share
with a second, landline number), ``--cases`` cases spread over them Zipf-like (most files have 1–3
cases; 0.5 % are heavy callers with 20–80), every case's timeline (1–5 case_events by its path through the
workflow), a lead assignment for every dispatched case, calls for about 60 % of the files and ratings for
a quarter of the closed cases. Phone numbers are normalised, masked, encrypted and blind-indexed exactly as
the app does it (``hotline.citizens.phones`` and ``DataCipher`` with the instance's own keys), so
``GET /api/v1/citizens/lookup`` finds them; names are encrypted too.

Streaming: every table is written with ``COPY … FROM STDIN`` (psycopg ``cursor.copy`` + ``write_row``)
fed by a generator (one seeded generator describes every citizen and its cases), ``--batch`` cases per
COPY statement and transaction. Nothing is collected in memory. As a superuser (the default server URL)
all seven COPYs are open at once on seven connections and fed from one walk over the generator, with FK
triggers off for the load (``session_replication_role = replica``: the rows are consistent by
construction); otherwise (or ``--fk-checks``) one table after the other in FK order, each replaying the
generator. Secondary indexes and unique constraints of the loaded tables are dropped first and built
again from their catalog definitions afterwards (checked identical), then VACUUM (ANALYZE). The loader's
RSS is sampled after every batch; its peak is reported with the row counts (JSON, ``--json``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil

from tests.bench.bulk_plan import Config, Refs, plan, write_phone_files
from tests.bench.bulk_rows import TABLES, Rows

LOOKUP_DB = "hotline_bench_lookup"


def log(msg: str) -> None:
    print(f"[bulk_load {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


# --- loading -------------------------------------------------------------------------------------------


def read_refs(conn) -> Refs:
    def ids(sql: str) -> list[int]:
        return [r[0] for r in conn.execute(sql).fetchall()]

    refs = Refs(
        now=datetime.now(UTC).replace(tzinfo=None, microsecond=0),
        departments=ids("SELECT id FROM departments WHERE kind IN ('department', 'utility', 'district') ORDER BY id"),
        districts=ids("SELECT id FROM departments WHERE kind = 'district' ORDER BY id"),
        categories=ids("SELECT id FROM categories ORDER BY id"),
        agents=ids("SELECT id FROM users WHERE role = 'agent' ORDER BY id"),
    )
    if not (refs.departments and refs.districts and refs.categories and refs.agents):
        raise SystemExit("the database has no demo seed (departments, categories, agents): run `flask seed --demo`")
    for table in ("citizens", "citizen_phones", "cases"):
        refs.base[table] = conn.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0]
    refs.number_seq = conn.execute(
        r"SELECT coalesce(max(substring(number from 12)::int), 0) FROM cases "
        r"WHERE number ~ '^GD\d{8}-\d{6}$'"
    ).fetchone()[0]
    return refs


def secondary_indexes(conn, table: str) -> list[tuple[str, str, str | None]]:
    """(name, CREATE statement, constraint name or None) of every non-primary index of ``table``."""
    rows = conn.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), c.conname, "
        "pg_get_constraintdef(c.oid) FROM pg_index i "
        "LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid "
        "WHERE i.indrelid = %s::regclass AND NOT i.indisprimary ORDER BY 1",
        (table,),
    ).fetchall()
    out = []
    for name, indexdef, conname, condef in rows:
        if conname:
            out.append((name, f'ALTER TABLE {table} ADD CONSTRAINT "{conname}" {condef}', conname))
        else:
            out.append((name, indexdef, None))
    return out


class Loader:
    """COPY the plan's rows into every table, ``batch`` cases per COPY statement and transaction.

    ``single_pass``: one connection per table, all COPYs open at once and fed from one walk over the plan
    (needs FK checks off: a case row may reach the server before its citizen's batch is committed).
    Otherwise one table after the other in FK order, each walking the plan again.
    """

    def __init__(self, url: str, cfg: Config, rows: Rows, refs: Refs, fk_checks: bool):
        self.url, self.cfg, self.rows, self.refs, self.fk_checks = url, cfg, rows, refs, fk_checks
        self.counts = dict.fromkeys(TABLES, 0)
        self.seconds = dict.fromkeys(TABLES, 0.0)
        self.rss_samples: list[float] = []
        self.batches = 0

    def connect(self):
        import psycopg

        conn = psycopg.connect(self.url)
        conn.execute("SET synchronous_commit = off")  # a bulk load: after a crash you reload anyway
        if not self.fk_checks:  # superuser only: FK triggers do not fire (the rows are consistent by construction)
            conn.execute("SET session_replication_role = replica")
        conn.commit()
        return conn

    def _sample(self, done: int, started: float, what: str) -> None:
        self.rss_samples.append(rss_mb())
        self.batches += 1
        if self.batches % 5 == 0:
            log(
                f"  {what}: {done:,} citizens, {sum(self.counts.values()):,} rows, "
                f"{sum(self.counts.values()) / (time.perf_counter() - started):,.0f} rows/s, "
                f"RSS {self.rss_samples[-1]:.1f} MB"
            )

    def run_single_pass(self) -> None:
        conns = {t: self.connect() for t in TABLES}
        builders = {t: getattr(self.rows, t) for t in TABLES}
        started = time.perf_counter()
        citizens = plan(self.cfg, self.refs)
        done = 0
        try:
            while True:
                cases_in_batch = 0
                curs = {t: conns[t].cursor() for t in TABLES}
                copies = {t: curs[t].copy(f"COPY {t} ({', '.join(cols)}) FROM STDIN") for t, cols in TABLES.items()}
                writers = {t: copies[t].__enter__().write_row for t in TABLES}
                exhausted = True
                for c in citizens:
                    done += 1
                    for t, build in builders.items():
                        write = writers[t]
                        rows = build(c)
                        for row in rows:
                            write(row)
                        self.counts[t] += len(rows)
                    cases_in_batch += len(c.cases)
                    if cases_in_batch >= self.cfg.batch:
                        exhausted = False
                        break
                for t in TABLES:  # end each COPY, then commit (order is free: no FK triggers fire)
                    copies[t].__exit__(None, None, None)
                    curs[t].close()
                    conns[t].commit()
                self._sample(done, started, "all tables")
                if exhausted:
                    break
        finally:
            for conn in conns.values():
                conn.close()
        elapsed = time.perf_counter() - started
        self.seconds = dict.fromkeys(TABLES, round(elapsed, 1))

    def run_per_table(self) -> None:
        conn = self.connect()
        try:
            for table, cols in TABLES.items():
                build = getattr(self.rows, table)
                started = time.perf_counter()
                citizens = plan(self.cfg, self.refs)
                done = 0
                while True:
                    cases_in_batch, exhausted = 0, True
                    with conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                        for c in citizens:
                            done += 1
                            rows = build(c)
                            for row in rows:
                                copy.write_row(row)
                            self.counts[table] += len(rows)
                            cases_in_batch += len(c.cases)
                            if cases_in_batch >= self.cfg.batch:
                                exhausted = False
                                break
                    conn.commit()
                    self._sample(done, started, table)
                    if exhausted:
                        break
                self.seconds[table] = round(time.perf_counter() - started, 1)
                log(
                    f"{table}: {self.counts[table]:,} rows in {self.seconds[table]:.1f}s, "
                    f"RSS {self.rss_samples[-1]:.1f} MB"
                )
        finally:
            conn.close()


def load(
    database_url: str,
    instance: Path,
    cfg: Config,
    phones_out: Path | None = None,
    heavy_out: Path | None = None,
    fk_checks: bool | None = None,
    defer_indexes: bool = True,
) -> dict:
    """Fill the (migrated, seeded) database of ``instance``; returns counts, timings and memory.

    ``fk_checks=None``: off when the role may (superuser), which also allows the single pass.
    ``defer_indexes``: drop the loaded tables' secondary indexes and unique constraints first and build them
    again afterwards (the same definitions, read from the catalog): a sort per index instead of a million
    B-tree inserts.
    """
    import psycopg

    from hotline.citizens.privacy import DataCipher
    from hotline.config import Settings

    settings = Settings.from_env({"HOTLINE_INSTANCE": str(instance), "DATABASE_URL": database_url})
    old_keys = tuple(k.strip() for k in settings.data_keys_old.split(",") if k.strip())
    cipher = DataCipher(settings.data_key, old_keys, settings.index_key)
    url = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    rss_start = rss_mb()
    started = time.perf_counter()
    timings: dict[str, float] = {}
    with psycopg.connect(url, autocommit=True) as admin:
        refs = read_refs(admin)
        superuser = admin.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]
        if fk_checks is None:
            fk_checks = not superuser
        dropped: list[tuple[str, str, str, str | None]] = []
        if defer_indexes:
            for table in TABLES:
                for name, create, conname in secondary_indexes(admin, table):
                    admin.execute(
                        f'ALTER TABLE {table} DROP CONSTRAINT "{conname}"' if conname else f'DROP INDEX "{name}"'
                    )
                    dropped.append((table, name, create, conname))
        rows = Rows(refs, cipher)
        loader = Loader(url, cfg, rows, refs, fk_checks)
        t0 = time.perf_counter()
        if fk_checks:
            loader.run_per_table()
        else:
            loader.run_single_pass()
        timings["copy"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        admin.execute("SET maintenance_work_mem = '256MB'")
        for _table, _name, create, _conname in dropped:
            admin.execute(create)
        timings["indexes"] = time.perf_counter() - t0
        for table in ("citizens", "citizen_phones", "cases"):
            admin.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT coalesce(max(id), 1) FROM {table}))"
            )
        timings["load"] = time.perf_counter() - started
        t0 = time.perf_counter()
        for table in TABLES:
            admin.execute(f"VACUUM (ANALYZE) {table}")
        timings["vacuum_analyze"] = time.perf_counter() - t0
        restored = {t: sorted(c for _n, c, _k in secondary_indexes(admin, t)) for t in TABLES}
        expected: dict[str, list[str]] = {}
        for table, _name, create, _conname in dropped:
            expected.setdefault(table, []).append(create)
        for table, creates in expected.items():
            if restored[table] != sorted(creates):
                raise RuntimeError(
                    f"{table}: indexes after the load differ from before:\n{restored[table]}\n{sorted(creates)}"
                )
        sizes = {t: admin.execute("SELECT pg_total_relation_size(%s)", (t,)).fetchone()[0] / 2**20 for t in TABLES}
        distribution = admin.execute(
            "SELECT count(*) FILTER (WHERE n BETWEEN 1 AND 3), count(*) FILTER (WHERE n BETWEEN 4 AND 9), "
            "count(*) FILTER (WHERE n BETWEEN 10 AND 19), count(*) FILTER (WHERE n >= 20), max(n) "
            "FROM (SELECT citizen_id, count(*) AS n FROM cases GROUP BY citizen_id) x"
        ).fetchone()
    files = write_phone_files(cfg, refs, phones_out, heavy_out)
    result = {
        "config": {
            "citizens": cfg.citizens,
            "cases": cfg.cases,
            "batch_cases": cfg.batch,
            "seed": cfg.seed,
            "mode": "per-table passes, FK checks on"
            if fk_checks
            else "single pass, one COPY per table open at once, FK triggers off (session_replication_role)",
            "deferred_indexes": len(dropped),
        },
        "rows": loader.counts,
        "rows_total": sum(loader.counts.values()),
        "table_seconds": loader.seconds if fk_checks else {},
        "seconds": {k: round(v, 1) for k, v in timings.items()},
        "table_mb": {t: round(v, 1) for t, v in sizes.items()},
        "phone_kinds": rows.phone_kinds,
        "cases_per_citizen": {
            "1-3": distribution[0],
            "4-9": distribution[1],
            "10-19": distribution[2],
            "20+": distribution[3],
            "max": distribution[4],
        },
        "rss_mb": {
            "start": round(rss_start, 1),
            "max_sampled": round(max(loader.rss_samples), 1),
            "peak": round(peak_rss_mb(), 1),
            "samples": len(loader.rss_samples),
        },
        "phone_files": files,
    }
    log(
        f"loaded {result['rows_total']:,} rows in {timings['load']:.0f}s (COPY {timings['copy']:.0f}s, indexes "
        f"{timings['indexes']:.0f}s) + VACUUM ANALYZE {timings['vacuum_analyze']:.0f}s; peak RSS "
        f"{result['rss_mb']['peak']} MB (start {rss_start:.1f} MB)"
    )
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m tests.bench.bulk_load",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    env_url = os.environ.get("DATABASE_URL", "")
    p.add_argument(
        "--pg",
        metavar="URL",
        default=env_url if env_url.startswith("postgres") else "postgresql://postgres@127.0.0.1:5432/",
        help="PostgreSQL server (its database is not used)",
    )
    p.add_argument("--pg-db", default=LOOKUP_DB, help=f"database to recreate on that server ({LOOKUP_DB})")
    p.add_argument("--database-url", help="load into this prepared database instead (with --instance)")
    p.add_argument("--instance", type=Path, help="instance folder of --database-url (its data/index keys)")
    p.add_argument("--citizens", type=int, default=Config.citizens)
    p.add_argument("--cases", type=int, default=Config.cases)
    p.add_argument("--batch", type=int, default=Config.batch, help="cases per COPY statement / transaction")
    p.add_argument(
        "--fk-checks",
        action="store_true",
        help="keep FK checks on (one table after the other); default: off when superuser",
    )
    p.add_argument("--keep-indexes", action="store_true", help="do not defer secondary index builds")
    p.add_argument("--seed", type=int, default=Config.seed)
    p.add_argument("--phones-out", type=Path, help="write a random sample of the loaded numbers here")
    p.add_argument("--heavy-out", type=Path, help="write the numbers of heavy callers (≥ 20 cases) here")
    p.add_argument("--keep", action="store_true", help="keep the temp instance folder (with --pg)")
    p.add_argument("--json", action="store_true", help="print the result as JSON on the last line")
    args = p.parse_args(argv)
    cfg = Config(citizens=args.citizens, cases=args.cases, batch=args.batch, seed=args.seed)
    instance = None
    if args.database_url:
        if not args.instance:
            raise SystemExit("--database-url needs --instance (the folder with the app's data_key and index_key)")
        url, folder = args.database_url, args.instance
    else:
        from tests.bench.server import DbTarget, Instance

        instance = Instance(DbTarget("postgresql", args.pg, args.pg_db), keep=True, prestart_redis=False)
        instance.prepare()
        url, folder = instance.database_url, instance.folder
    result = load(
        url,
        folder,
        cfg,
        args.phones_out,
        args.heavy_out,
        fk_checks=True if args.fk_checks else None,
        defer_indexes=not args.keep_indexes,
    )
    result["database_url"], result["instance"] = url, str(folder)
    if instance is not None and not args.keep:
        instance.cleanup()
        result["instance"] = ""
    print(json.dumps(result, ensure_ascii=False) if args.json else json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
