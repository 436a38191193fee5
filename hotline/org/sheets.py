"""Read an import file: CSV (UTF-8, with or without BOM; GB 18030 as Excel saves it on a Chinese Windows) or
XLSX (the first sheet, openpyxl), with a header row. Shared by ``flask org import``, ``flask places import`` and the
admin page's upload. Pure: no database."""

from __future__ import annotations

import csv
import io
from pathlib import Path

MAX_ROWS = 200_000  # a file larger than any city's organisation is refused, not read into memory


class SheetError(ValueError):
    """A file that cannot be read at all (format, encoding, header)."""


def decode(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SheetError("文件编码无法识别：请另存为 UTF-8 编码的 CSV，或 XLSX")


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a code typed into Excel as a number: 110101, not 110101.0
    return str(value).strip()


def _xlsx(raw: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as err:  # zipfile.BadZipFile, KeyError, InvalidFileException …
        raise SheetError(
            f"无法读取 XLSX 文件（{type(err).__name__}）：请确认是 Excel 2007 及以后的 .xlsx 文件"
        ) from None
    try:
        sheet = book.worksheets[0]
        out = []
        for values in sheet.iter_rows(values_only=True):
            if len(out) > MAX_ROWS:
                raise SheetError(f"文件超过 {MAX_ROWS} 行，请分批导入")
            out.append([_cell(v) for v in values])
        return out
    finally:
        book.close()


def _csv(raw: bytes) -> list[list[str]]:
    text = decode(raw).lstrip("\ufeff")
    rows = [[c.strip() for c in r] for r in csv.reader(io.StringIO(text))]
    if len(rows) > MAX_ROWS + 1:
        raise SheetError(f"文件超过 {MAX_ROWS} 行，请分批导入")
    return rows


def read_rows(raw: bytes, filename: str, columns: tuple[str, ...], required: tuple[str, ...]) -> list[dict]:
    """The data rows of a file as dicts of ``columns`` (absent optional columns are ""), each with its ``line``
    (the spreadsheet row number, header = 1); blank rows are skipped. Raises SheetError for an unreadable file or
    a header without the ``required`` columns."""
    suffix = Path(filename).suffix.lower()
    if suffix == ".xlsx":
        table = _xlsx(raw)
    elif suffix in (".csv", ".txt", ""):
        table = _csv(raw)
    else:
        raise SheetError(f"不支持的文件类型「{suffix}」：请上传 .csv 或 .xlsx 文件")
    if not table:
        raise SheetError("文件是空的：第一行应为表头 " + ",".join(columns))
    header = [h.strip().lower() for h in table[0]]
    missing = [c for c in required if c not in header]
    if missing:
        raise SheetError(f"第 1 行（表头）缺少列：{', '.join(missing)}（表头应为 {','.join(columns)}）")
    index = {c: header.index(c) for c in columns if c in header}
    out = []
    for line, values in enumerate(table[1:], start=2):
        if not any(values):
            continue
        out.append({c: (values[i] if i < len(values) else "") for c, i in index.items()} | {"line": line})
        for c in columns:
            out[-1].setdefault(c, "")
    return out


def read_file(path: str, columns: tuple[str, ...], required: tuple[str, ...]) -> list[dict]:
    p = Path(path)
    return read_rows(p.read_bytes(), p.name, columns, required)


def write_rows(path: str, columns: tuple[str, ...], rows: list[list]) -> None:
    """Write ``rows`` under the header ``columns`` to .csv (UTF-8 with BOM, so Excel opens it) or .xlsx."""
    p = Path(path)
    if p.suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet()
        sheet.append(list(columns))
        for row in rows:
            sheet.append(list(row))
        book.save(p)
        return
    with p.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
