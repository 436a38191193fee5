"""The holiday table: a year's import from CSV/XLSX (date, kind: holiday|workday, name), and which years the
deadlines cannot know (neither chinese-calendar nor the table covers them).

A year is *missing* when chinese-calendar does not know it and the table has no row in it. From 1 November of
the year before, monitors and admins see a banner (``banner()``) and ``GET /api/v1/sla/holidays`` names it
(``missing_years``): without the State Council's schedule every deadline of that year assumes Monday-Friday.
No schedule is invented here: a year is filled by importing the published one."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from hotline import audit
from hotline.extensions import db
from hotline.models import Holiday
from hotline.org import sheets
from hotline.sla import deadlines

COLUMNS = ("date", "kind", "name")
REQUIRED = ("date", "kind")
HEADER_ALIASES = {"日期": "date", "类型": "kind", "名称": "name", "说明": "name", "day": "date", "note": "name"}
KINDS = {
    "holiday": False,
    "workday": True,
    "放假": False,
    "休": False,
    "假": False,
    "上班": True,
    "调休上班": True,
    "班": True,
}
WARN_FROM = (11, 1)  # month, day of the year before a missing year


def year_rows(year: int) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Holiday)
            .where(Holiday.day >= date(year, 1, 1), Holiday.day <= date(year, 12, 31))
        )
        or 0
    )


def is_missing(year: int) -> bool:
    return not deadlines.library_knows(year) and year_rows(year) == 0


def missing_years(today: date) -> list[int]:
    """This year if missing, and next year if missing once ``today`` is on or after 1 November."""
    years = [today.year]
    if (today.month, today.day) >= WARN_FROM:
        years.append(today.year + 1)
    return [y for y in years if is_missing(y)]


def banner(today: date) -> str:
    years = missing_years(today)
    if not years:
        return ""
    names = "、".join(f"{y} 年" for y in years)
    return (
        f"{names}的节假日安排尚未导入：该年的办理时限将按周一至周五计算。"
        "国务院办公厅公布放假安排后，请在“时限与节假日”页面导入（CSV：date,kind,name）。"
    )


@dataclass
class ImportReport:
    total: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    years: list[int] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    applied: bool = False


def _normalise_header(raw: bytes, filename: str) -> tuple[bytes, str]:
    """Accept the Chinese header (日期,类型,名称) too: rewrite it to the English one before reading."""
    if filename.lower().endswith(".xlsx"):
        return raw, filename
    text = sheets.decode(raw).lstrip("\ufeff")
    first, _, rest = text.partition("\n")
    cells = [HEADER_ALIASES.get(c.strip().lower(), c.strip().lower()) for c in first.strip("\r").split(",")]
    return (",".join(cells) + "\n" + rest).encode(), filename


def parse(raw: bytes, filename: str) -> tuple[list[tuple[int, date, bool, str]], list[tuple[int, str]]]:
    """(line, day, is_workday, name) rows and (line, reason) errors; raises sheets.SheetError for a bad file."""
    raw, filename = _normalise_header(raw, filename)
    rows = sheets.read_rows(raw, filename, COLUMNS, REQUIRED)
    good, errors, seen = [], [], {}
    for row in rows:
        line = row["line"]
        try:
            day = date.fromisoformat(row["date"].replace("/", "-")[:10])
        except ValueError:
            errors.append((line, f"日期「{row['date'][:20]}」无效，应为 2027-01-01"))
            continue
        if not 2000 <= day.year <= 2100:
            errors.append((line, f"日期 {day} 超出范围（2000–2100 年）"))
            continue
        kind = row["kind"].strip().lower()
        if kind not in KINDS:
            errors.append((line, f"类型「{row['kind'][:20]}」无效，应为 holiday（放假）或 workday（调休上班）"))
            continue
        name = row["name"].strip()
        if len(name) > 100:
            errors.append((line, "名称不能超过 100 个字"))
            continue
        if day in seen:
            errors.append((line, f"日期 {day} 与第 {seen[day]} 行重复"))
            continue
        seen[day] = line
        good.append((line, day, KINDS[kind], name))
    return good, errors


def apply(rows: list[tuple[int, date, bool, str]], errors: list, *, partial: bool = False, actor=None) -> ImportReport:
    """Upsert the rows into the holiday table (all or nothing unless ``partial``), audited; flushes, the caller
    commits. Every process sees the new calendar within a second of the commit."""
    report = ImportReport(total=len(rows) + len(errors), errors=list(errors))
    if errors and not partial:
        return report
    existing = {h.day: h for h in db.session.scalars(sa.select(Holiday).where(Holiday.day.in_([r[1] for r in rows])))}
    before, after = [], []
    for _line, day, is_workday, name in rows:
        row = existing.get(day)
        if row is None:
            db.session.add(Holiday(day=day, is_workday=is_workday, note=name))
            report.added += 1
        elif (row.is_workday, row.note) == (is_workday, name):
            report.unchanged += 1
            continue
        else:
            before.append({"day": day.isoformat(), "is_workday": row.is_workday, "note": row.note})
            row.is_workday, row.note = is_workday, name
            report.updated += 1
        after.append({"day": day.isoformat(), "is_workday": is_workday, "note": name})
    db.session.flush()
    report.years = sorted({r[1].year for r in rows})
    report.applied = True
    audit.record(
        actor,
        "sla.holiday.import",
        "holiday",
        ",".join(str(y) for y in report.years),
        before=before or None,
        after=after or None,
        detail=f"导入 {report.total} 行：新增 {report.added}，更新 {report.updated}，未变 {report.unchanged}"
        + (f"，跳过错误 {len(errors)} 行" if errors else ""),
    )
    deadlines.changed()
    return report


def summary(report: ImportReport) -> str:
    return f"共 {report.total} 行：新增 {report.added}，更新 {report.updated}，未变 {report.unchanged}" + (
        f"（{'、'.join(str(y) for y in report.years)} 年）" if report.years else ""
    )


def listing(year: int) -> list[Holiday]:
    return list(
        db.session.scalars(
            sa.select(Holiday)
            .where(Holiday.day >= date(year, 1, 1), Holiday.day <= date(year, 12, 31))
            .order_by(Holiday.day)
        )
    )
