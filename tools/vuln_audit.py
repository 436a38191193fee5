"""pip-audit for CI: fails (exit 1) when an installed package has a known vulnerability, and says so plainly when
the vulnerability source could not be asked — pip-audit then skips every package and still prints "No known
vulnerabilities found".

    .venv/bin/python tools/vuln_audit.py           # audits the virtualenv it runs in (runtime + test dependencies)

pip-audit's default source is PyPI's JSON API (``/pypi/NAME/VERSION/json``, whose ``vulnerabilities`` come from the
OSV database). A machine behind a registry mirror that does not serve that API cannot audit: every package comes
back "not found on PyPI". That is printed as ``pip-audit: NOT AUDITED …``; with ``HOTLINE_AUDIT_REQUIRED=1`` it is a
failure too (exit 2), otherwise a warning, so a mirror-only CI is not blocked by what it cannot reach.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path


def summarise(report: dict) -> tuple[int, int, list[str]]:
    """(packages audited, packages skipped, one line per known vulnerability) of pip-audit's JSON report."""
    audited, skipped, vulns = 0, 0, []
    for dep in report.get("dependencies", []):
        if "skip_reason" in dep:
            skipped += 1
            continue
        audited += 1
        for vuln in dep.get("vulns", []):
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fix yet"
            vulns.append(f"{dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixed})")
    return audited, skipped, vulns


def verdict(audited: int, skipped: int, vulns: list[str], required: bool) -> tuple[int, list[str]]:
    """The exit code and the lines to print."""
    if vulns:
        return 1, [f"pip-audit: {len(vulns)} known vulnerabilities", *(f"  {line}" for line in vulns)]
    if audited == 0:
        line = (
            f"pip-audit: NOT AUDITED — the vulnerability source could not be reached ({skipped} of {skipped} "
            "packages skipped: PyPI's JSON API for each version is not served here)"
        )
        return (2 if required else 0), [line]
    note = f", {skipped} skipped (not on PyPI)" if skipped else ""
    return 0, [f"pip-audit: {audited} packages audited, 0 known vulnerabilities{note}"]


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "audit.json"
        cmd = [
            str(Path(sys.executable).parent / "pip-audit"),
            "--progress-spinner",
            "off",
            "-f",
            "json",
            "-o",
            str(out),
        ]
        run = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if not out.exists():
            print("pip-audit failed to run:", (run.stderr or run.stdout).strip()[-2000:])
            return 2
        report = json.loads(out.read_text(encoding="utf-8"))
    code, lines = verdict(*summarise(report), required=os.environ.get("HOTLINE_AUDIT_REQUIRED") == "1")
    print("\n".join(lines))
    return code


if __name__ == "__main__":
    sys.exit(main())
