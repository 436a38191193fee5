"""XLSX and CSV writing, streamed: rows go to the file as they come (openpyxl write-only mode keeps no cells in
memory; CSV is written line by line), so memory stays flat whatever the number of rows."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
EVERY = 2000  # rows between two progress calls


def _safe(value):
    """A CSV text field that a spreadsheet would run as a formula (CSV injection) gets a leading apostrophe (XLSX cells
    are typed: a string is never a formula there)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def write(
    path: Path, fmt: str, title: str, headers: list[str], rows: Iterable[tuple], progress: Callable[[int], None]
) -> int:
    """Write ``headers`` and ``rows`` to ``path``; call ``progress(n)`` every EVERY rows; return the row count."""
    n = 0
    if fmt == "csv":
        with path.open("w", encoding="utf-8-sig", newline="") as fh:  # the BOM: Excel opens UTF-8 as such
            out = csv.writer(fh)
            out.writerow(headers)
            for row in rows:
                out.writerow(["" if v is None else _safe(v) for v in row])
                n += 1
                if n % EVERY == 0:
                    progress(n)
        return n
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31])
    bold = Font(bold=True)
    head = []
    for text in headers:
        cell = WriteOnlyCell(sheet, value=text)
        cell.font = bold
        head.append(cell)
    sheet.append(head)
    sheet.freeze_panes = "A2"
    for row in rows:
        sheet.append(row)
        n += 1
        if n % EVERY == 0:
            progress(n)
    book.save(path)
    return n
