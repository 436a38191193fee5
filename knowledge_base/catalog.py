"""Service-item catalogue files (.csv, .json, .xlsx) → rows, and rows → files (pure; openpyxl for xlsx).

Columns (docs/api.md): kind (service_item|article), code, title, body, department_code, category, tags; optional:
the service-item fields (unit, conditions, materials, fees, time_limit, place, hours, phone, online),
districts, valid_from, valid_to. Tags and districts are separated by ; ， , 、 or |.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

BASE_COLUMNS = ("kind", "code", "title", "body", "department_code", "category", "tags")
EXTRA_COLUMNS = (
    "unit",
    "conditions",
    "materials",
    "fees",
    "time_limit",
    "place",
    "hours",
    "phone",
    "online",
    "districts",
    "valid_from",
    "valid_to",
)
COLUMNS = BASE_COLUMNS + EXTRA_COLUMNS
FORMATS = (".csv", ".json", ".xlsx")
_SPLIT = re.compile(r"[;；,，、|]")


class CatalogError(Exception):
    """The file as a whole cannot be read (format, encoding, header)."""


@dataclass
class Row:
    line: int  # spreadsheet row (header = 1) or position in the JSON array (from 1)
    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)


def split_list(value: str) -> list[str]:
    return [v.strip() for v in _SPLIT.split(value or "") if v.strip()]


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10]
    if isinstance(value, list):
        return "；".join(str(v) for v in value)
    return str(value).strip()


def _check_header(header: list[str]) -> list[str]:
    names = [(h or "").strip().lower() for h in header]
    missing = [c for c in BASE_COLUMNS if c not in names]
    if missing:
        raise CatalogError(f"缺少必需的列：{', '.join(missing)}（第一行应为列名：{', '.join(BASE_COLUMNS)}）")
    unknown = [n for n in names if n and n not in COLUMNS]
    if unknown:
        raise CatalogError(f"无法识别的列：{', '.join(unknown[:5])}；可用的列：{', '.join(COLUMNS)}")
    return names


def read(path: str | Path) -> list[Row]:
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise CatalogError(f"不支持的文件类型 {suffix or '（无扩展名）'}，请使用 .csv、.json 或 .xlsx")
    try:
        data = path.read_bytes()
    except OSError as err:
        raise CatalogError(f"无法读取文件：{err.strerror or err}") from None
    if suffix == ".csv":
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise CatalogError("CSV 文件不是 UTF-8 编码，请另存为“CSV UTF-8”后重试") from None
        table = list(csv.reader(io.StringIO(text)))
        return _from_table(table)
    if suffix == ".xlsx":
        from openpyxl import load_workbook

        try:
            sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
        except Exception as err:  # openpyxl raises many kinds for a broken file
            raise CatalogError(f"无法打开 Excel 文件（{type(err).__name__}），请确认是 .xlsx 格式") from None
        return _from_table([[_cell(c) for c in row] for row in sheet.iter_rows(values_only=True)])
    try:
        items = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        raise CatalogError("JSON 文件格式不正确（须为 UTF-8 编码的对象数组）") from None
    if isinstance(items, dict) and isinstance(items.get("entries"), list):
        items = items["entries"]
    if not isinstance(items, list):
        raise CatalogError('JSON 文件须为对象数组，如 [{"kind": "service_item", ...}]')
    rows = []
    for n, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            rows.append(Row(n, {}, {"row": "每一条必须是对象"}))
            continue
        unknown = [k for k in item if k not in COLUMNS]
        row = Row(n, {k: _cell(item.get(k)) for k in COLUMNS})
        if unknown:
            row.errors["columns"] = f"无法识别的字段：{', '.join(map(str, unknown[:5]))}"
        rows.append(row)
    return rows


def _from_table(table: list[list[str]]) -> list[Row]:
    if not table:
        raise CatalogError("文件是空的")
    names = _check_header(table[0])
    rows = []
    for line, cells in enumerate(table[1:], start=2):
        if not any((c or "").strip() for c in cells):
            continue  # blank line
        values = {name: (cells[i] if i < len(cells) else "").strip() for i, name in enumerate(names) if name}
        rows.append(Row(line, {c: values.get(c, "") for c in COLUMNS}))
    return rows


def write(path: str | Path, records: list[dict]) -> int:
    """Write ``records`` (dicts keyed by COLUMNS; lists joined with "；") as .csv, .json or .xlsx."""
    path = Path(path)
    suffix = path.suffix.lower()
    flat = [{c: _cell(r.get(c)) for c in COLUMNS} for r in records]
    if suffix == ".json":
        path.write_text(json.dumps(flat, ensure_ascii=False, indent=1), encoding="utf-8")
    elif suffix == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(flat)
    elif suffix == ".xlsx":
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        sheet.title = "知识库"
        sheet.append(list(COLUMNS))
        for r in flat:
            sheet.append([r[c] for c in COLUMNS])
        book.save(path)
    else:
        raise CatalogError(f"不支持的文件类型 {suffix or '（无扩展名）'}，请使用 .csv、.json 或 .xlsx")
    return len(flat)
