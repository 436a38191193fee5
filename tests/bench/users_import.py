"""Benchmark ``users_import``: 50,000 staff accounts loaded by the documented command, ``flask --app wsgi users
import FILE``, as its own process on a fresh instance (SQLite; and PostgreSQL when the run has a server: the bench's
own database ``hotline_bench_users`` is dropped and recreated there).

1. ``setup --city`` on the empty database (the city unit + its admin), then ``org import`` of 200 units
   (districts and streets) the users belong to;
2. ``users import users.csv``: 50,000 new users (a one-time password each: 16 random characters, salted SHA-256 —
   hotline/auth/passwords.py explains why a fast hash is safe for them; Argon2id would cost ~50 ms × 50,000);
3. the same file again (an upsert that changes nothing); 4. the same users as XLSX.

Wall time per command (process start-up included) with its progress lines; target: 50,000 users ≤ 60 s.

    .venv/bin/python -m tests.bench.users_import [--pg postgresql://postgres@127.0.0.1:5432/postgres] [--keep]
    python -m tests.bench.run --only users_import
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import tempfile
from pathlib import Path

from tests.bench.org_import import flask, to_xlsx

NAME = "users_import"
TITLE = "flask users import: 50,000 accounts"
USERS = 50_000
TARGET_S = 60.0
ROLES = ("agent", "dispatcher", "monitor", "department_handler", "department_admin")


def generate(folder: Path, users: int = USERS) -> tuple[Path, Path]:
    units = [("JC01", "第1区", "district", "JC", "")]
    units += [(f"JC{d:02d}", f"第{d}区", "district", "JC", "") for d in range(2, 11)]
    units += [
        (f"JC{d:02d}S{s:02d}", f"{d}区{s}号街道", "street", f"JC{d:02d}", "")
        for d in range(1, 11)
        for s in range(1, 20)
    ]
    units_path = folder / "units.csv"
    with units_path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["code", "name", "kind", "parent_code", "aliases"])
        writer.writerows(units)
    users_path = folder / "users.csv"
    with users_path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["username", "name", "role", "unit_code", "phone", "email"])
        for i in range(users):
            role = ROLES[i % len(ROLES)]
            unit = units[i % len(units)][0] if role.startswith("department") or i % 2 else ""
            writer.writerow([f"user{i:06d}", f"职员{i}", role, unit, f"138{i:08d}", f"user{i}@example.cn"])
    return units_path, users_path


def _progress(output: str) -> list[str]:
    return [line for line in output.splitlines() if "写入账号" in line][-3:]


def measure(env: dict, folder: Path, users: int = USERS) -> dict:
    units_path, users_path = generate(folder, users)
    xlsx = to_xlsx(users_path)
    flask(env, "db", "upgrade")
    flask(env, "setup", "--city", "江城市", "--code", "JC")
    flask(env, "org", "import", str(units_path))
    results = {}
    for label, path in (("new", users_path), ("again", users_path), ("xlsx", xlsx)):
        seconds, output = flask(env, "users", "import", str(path))
        summary = next(line for line in output.splitlines() if line.startswith("导入完成"))
        results[label] = {
            "seconds": round(seconds, 2),
            "summary": summary.split("。")[0],
            "progress": _progress(output),
        }
        results[label]["loadavg"] = round(os.getloadavg()[0], 1)  # 2 shared cores: the machine's load matters
        print(
            f"users import ({label}): {seconds:.1f} s (load {results[label]['loadavg']}) — {results[label]['summary']}"
        )
        for line in results[label]["progress"]:
            print("   ", line)
    results["users"] = users
    results["target_s"] = TARGET_S
    results["met"] = results["new"]["seconds"] <= TARGET_S
    return results


def _env(folder: Path, database_url: str = "") -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOTLINE_", "DATABASE_URL", "REDIS_URL"))}
    env["HOTLINE_INSTANCE"] = str(folder)
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def run(ctx) -> tuple[dict, str]:
    from tests.bench.server import recreate_pg_database

    out = {}
    for target in ctx.databases:
        folder = Path(tempfile.mkdtemp(prefix="hotline-bench-users-"))
        try:
            url = recreate_pg_database(target.url, "hotline_bench_users") if target.name == "postgresql" else ""
            out[target.name] = measure(_env(folder, url), folder)
        finally:
            if not ctx.keep:
                shutil.rmtree(folder, ignore_errors=True)
    return out, markdown(out)


def markdown(results: dict) -> str:
    lines = [
        f"## {NAME} — {TITLE}",
        "",
        "| database | run | seconds | load | summary |",
        "| --- | --- | --- | --- | --- |",
    ]
    for db_name, r in results.items():
        for label in ("new", "again", "xlsx"):
            row = r[label]
            lines.append(f"| {db_name} | {label} | {row['seconds']} | {row['loadavg']} | {row['summary']} |")
        lines.append(f"| {db_name} | target | ≤ {r['target_s']} | | {'met' if r['met'] else 'NOT met'} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", help="a PostgreSQL server URL: the bench recreates its own database on it")
    parser.add_argument("--keep", action="store_true", help="keep the temp instance folder")
    parser.add_argument("--users", type=int, default=USERS)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="hotline-bench-users-"))
    url = ""
    if args.pg:
        from tests.bench.server import recreate_pg_database

        url = recreate_pg_database(args.pg, "hotline_bench_users")
    try:
        results = measure(_env(folder, url), folder, args.users)
        print(markdown({"postgresql" if args.pg else "sqlite": results}))
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
