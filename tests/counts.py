"""Count lines that concurrency and fault tests end with, printed together at the end of the pytest run.

A test calls ``counts.report("assist x50: 1 assignment, 49 refused")``; ``tests/conftest.py`` prints every
reported line under a "counts" heading in the terminal summary, so CI output carries them even with ``-q``.
Lines are also appended to the file named by ``HOTLINE_COUNTS_FILE`` when set (one run's record).
"""

from __future__ import annotations

import os

LINES: list[str] = []


def report(line: str) -> None:
    LINES.append(line)
    path = os.environ.get("HOTLINE_COUNTS_FILE")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(line + "\n")
