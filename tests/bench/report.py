"""bench/report.json and bench/report.md, merged per benchmark name.

report.json: ``{"updated_at", "machine", "benchmarks": {NAME: {"updated_at", "command", "results",
"markdown"}}}``. Writing one benchmark replaces only its own entry, so benchmarks added later (or run
alone with ``--only``) keep the others' sections; report.md is rebuilt from every entry's markdown.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tests.bench.server import ROOT

BENCH_DIR = ROOT / "bench"


def machine() -> dict:
    wrk = shutil.which("wrk")
    wrk_version = ""
    if wrk:
        out = subprocess.run([wrk, "-v"], capture_output=True, text=True)
        wrk_version = (out.stdout or out.stderr).splitlines()[0].split(" [")[0] if (out.stdout or out.stderr) else ""
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "wrk": wrk_version,
        "git": git_revision(),
    }


def git_revision() -> str:
    """HEAD's short hash, with "+N changed" when the work tree has uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):
        return ""
    return head + (f" +{len(changed)} changed files" if changed else "")


def load(path: Path | None = None) -> dict:
    path = path or BENCH_DIR / "report.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {"benchmarks": {}}


def write(name: str, results: dict, markdown: str, command: str | None = None, folder: Path | None = None) -> Path:
    """Store one benchmark's results and markdown section; rewrite both report files."""
    folder = folder or BENCH_DIR
    folder.mkdir(parents=True, exist_ok=True)
    report = load(folder / "report.json")
    now = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    report["updated_at"] = now
    report["machine"] = machine()
    report.setdefault("benchmarks", {})[name] = {
        "updated_at": now,
        "command": command or " ".join([Path(sys.executable).name, "-m", "tests.bench.run", *sys.argv[1:]]),
        "git": report["machine"]["git"],
        "results": results,
        "markdown": markdown.strip() + "\n",
    }
    (folder / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    (folder / "report.md").write_text(render(report))
    return folder / "report.md"


def render(report: dict) -> str:
    m = report.get("machine", {})
    head = [
        "# Benchmarks",
        "",
        f"Updated {report.get('updated_at', '')} — {m.get('cpus')} CPUs, Python {m.get('python')}, "
        f"{m.get('platform')}{', ' + m['wrk'] if m.get('wrk') else ''}, code at {m.get('git') or '?'}. "
        "Load generator and server on the same machine.",
        "",
    ]
    sections = []
    for name, entry in report.get("benchmarks", {}).items():
        sections.append(
            f"<!-- {name}: {entry.get('updated_at', '')}, code {entry.get('git', '?')} — "
            f"{entry.get('command', '')} -->\n" + entry.get("markdown", "")
        )
    return "\n".join(head) + "\n".join(sections)


def table(header: list[str], rows: list[list]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def section_command(name: str) -> str:
    """How a benchmark's section was produced (the report's own header has it too, in an HTML comment)."""
    args = sys.argv[1:] if sys.argv[0].endswith("run.py") else ["--only", name]
    return " ".join([".venv/bin/python -m tests.bench.run", *args])


def save(out: Path, results: dict, markdown: str) -> None:
    """One benchmark's results as OUT (JSON) and OUT with .md (the markdown it printed)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    out.with_suffix(".md").write_text(markdown, encoding="utf-8")
