"""Benchmark ``org_import``: a large city's organisation and gazetteer loaded by the documented commands.

A fresh instance (temp folder; SQLite, or PostgreSQL with --pg URL: the bench's own database ``hotline_bench_org``
is dropped and recreated on that server), migrated; then, each as its own ``flask --app wsgi`` process as an
operator runs it:

1. ``org import units.csv``: 10,000 units — 1 city, 20 districts, 400 streets, 4,800 communities, 4,779 departments;
2. ``places import places.csv``: 10,000 places (roads and landmarks of the streets and communities);
3. both again (the same files: an upsert that changes nothing);
4. ``org import`` of an XLSX of the same units (openpyxl's read-only reader).

Prints each command's wall time (start-up included) and its progress lines; target: units + places ≤ 60 s.

    .venv/bin/python -m tests.bench.org_import [--pg postgresql://postgres@127.0.0.1:5432/postgres] [--keep]
"""

from __future__ import annotations

import argparse
import csv
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UNITS, PLACES = 10_000, 10_000
TARGET_S = 60.0


def generate(folder: Path) -> tuple[Path, Path]:
    """units.csv (exactly UNITS rows) and places.csv (PLACES rows), deterministic."""
    units = [("BC", "北辰市", "city", "", "")]
    locals_ = []
    for d in range(1, 21):
        dc = f"BC{d:02d}"
        units.append((dc, f"第{d}区", "district", "BC", f"{d}区"))
        for s in range(1, 21):
            sc = f"{dc}S{s:02d}"
            units.append((sc, f"{d}区{s}号街道", "street", dc, ""))
            locals_.append(sc)
            for c in range(1, 13):
                cc = f"{sc}C{c:02d}"
                units.append((cc, f"{d}区{s}街{c}号社区", "community", sc, f"{d}-{s}-{c}社区"))
                locals_.append(cc)
    n = 0
    while len(units) < UNITS:
        n += 1
        parent = "BC" if n % 3 == 0 else f"BC{n % 20 + 1:02d}"
        units.append((f"BCD{n:05d}", f"第{n}号部门", "department", parent, ""))
    units_path = folder / "units.csv"
    with units_path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["code", "name", "kind", "parent_code", "aliases"])
        writer.writerows(units)
    places_path = folder / "places.csv"
    with places_path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["name", "kind", "unit_code", "aliases"])
        for i in range(PLACES):
            unit = locals_[i % len(locals_)]
            kind = "road" if i % 2 == 0 else "landmark"
            name = f"{unit}号{i}路" if kind == "road" else f"{unit}号{i}塔"
            writer.writerow([name, kind, unit, ""])
    return units_path, places_path


def to_xlsx(source: Path) -> Path:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    with source.open(encoding="utf-8") as fh:
        for row in csv.reader(fh):
            sheet.append(row)
    target = source.with_suffix(".xlsx")
    book.save(target)
    return target


def flask(env: dict, *args: str) -> tuple[float, str]:
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    elapsed = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit(f"flask {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr[-3000:]}")
    return elapsed, (proc.stderr + proc.stdout).strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", help="a PostgreSQL server URL: the bench recreates its own database on it")
    parser.add_argument("--keep", action="store_true", help="keep the temp instance folder")
    args = parser.parse_args()
    import os

    folder = Path(tempfile.mkdtemp(prefix="hotline-bench-org-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOTLINE_", "DATABASE_URL", "REDIS_URL"))}
    env["HOTLINE_INSTANCE"] = str(folder)
    if args.pg:
        from tests.bench.server import recreate_pg_database

        env["DATABASE_URL"] = recreate_pg_database(args.pg, "hotline_bench_org")
    try:
        units_path, places_path = generate(folder)
        xlsx = to_xlsx(units_path)
        setup, _ = flask(env, "db", "upgrade")
        print(f"database: {'PostgreSQL' if args.pg else 'SQLite'}; migrate {setup:.1f} s")
        results = {}
        for label, cmd in [
            ("units", ("org", "import", str(units_path))),
            ("places", ("places", "import", str(places_path))),
            ("units again (no change)", ("org", "import", str(units_path))),
            ("places again (no change)", ("places", "import", str(places_path))),
            ("units from XLSX (no change)", ("org", "import", str(xlsx))),
        ]:
            elapsed, output = flask(env, *cmd)
            results[label] = elapsed
            print(f"\n== {label}: {elapsed:.1f} s\n{output}")
        total = results["units"] + results["places"]
        verdict = "OK" if total <= TARGET_S else "OVER TARGET"
        print(f"\n{UNITS} units + {PLACES} places imported in {total:.1f} s (target ≤ {TARGET_S:.0f} s): {verdict}")
    finally:
        if args.keep:
            print(f"instance kept in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
