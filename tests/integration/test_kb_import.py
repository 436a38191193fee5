"""`flask kb import`: a file with 3 bad rows reports exactly those rows and imports nothing; --partial imports the
good rows and says so; CSV, XLSX and JSON alike; export writes what import reads."""

from __future__ import annotations

import re
import uuid

import pytest
import sqlalchemy as sa

from knowledge_base import catalog


def _rows(prefix: str) -> list[dict]:
    rows = []
    for i in range(10):
        rows.append(
            {
                "kind": "service_item",
                "code": f"{prefix}-{i:02d}",
                "title": f"示范事项{prefix}第{i}项登记",
                "body": "本人携带身份证到窗口办理。",
                "department_code": "SCJ",
                "category": "商贸旅游/市场监管",
                "tags": "登记；示范",
                "materials": "身份证",
                "fees": "不收费",
                "time_limit": "即时办结",
            }
        )
    rows[2]["department_code"] = "NOPE"  # spreadsheet line 4
    rows[5]["title"] = ""  # line 7
    rows[8]["kind"] = "faq"  # line 10
    return rows


def _count(app, prefix: str) -> int:
    from hotline.extensions import db
    from hotline.models import KbEntry

    with app.app_context():
        return db.session.scalar(
            sa.select(sa.func.count()).select_from(KbEntry).where(KbEntry.code.like(f"{prefix}-%"))
        )


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".json"])
def test_three_bad_rows_reported_nothing_imported_then_partial(app, tmp_path, suffix):
    prefix = "IMP" + uuid.uuid4().hex[:6].upper()
    path = tmp_path / f"catalogue{suffix}"
    catalog.write(path, _rows(prefix))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["kb", "import", str(path)])
    assert result.exit_code != 0
    reported = re.findall(r"第 (\d+) 行：(.*)", result.output)
    expected_lines = ["4", "7", "10"] if suffix != ".json" else ["3", "6", "9"]  # JSON: position in the array
    assert [n for n, _ in reported] == expected_lines, result.output
    reasons = dict(reported)
    assert "department_code" in reasons[expected_lines[0]] and "单位代码不存在" in reasons[expected_lines[0]]
    assert "title" in reasons[expected_lines[1]]
    assert "kind" in reasons[expected_lines[2]]
    assert "未导入任何条目" in result.output
    assert _count(app, prefix) == 0

    partial = runner.invoke(args=["kb", "import", str(path), "--partial"])
    assert partial.exit_code == 0, partial.output
    assert "新增 7 条" in partial.output and "跳过有错误的 3 行" in partial.output
    assert _count(app, prefix) == 7

    # fixed file: the 3 others are created; the 7 imported rows are unchanged (no new version); a changed row updates
    fixed = _rows(prefix)
    fixed[2]["department_code"], fixed[5]["title"], fixed[8]["kind"] = "SCJ", "补上的标题", "service_item"
    catalog.write(path, fixed)
    again = runner.invoke(args=["kb", "import", str(path)])
    assert again.exit_code == 0 and "新增 3 条，更新 0 条，7 条内容未变" in again.output, again.output
    assert _count(app, prefix) == 10
    fixed[0]["fees"] = "工本费10元"
    catalog.write(path, fixed)
    third = runner.invoke(args=["kb", "import", str(path)])
    assert "新增 0 条，更新 1 条，9 条内容未变" in third.output, third.output


def test_duplicate_codes_and_unreadable_files(app, tmp_path):
    runner = app.test_cli_runner()
    prefix = "DUP" + uuid.uuid4().hex[:6].upper()
    rows = _rows(prefix)[:3]
    rows[0]["department_code"] = rows[2]["department_code"] = "SCJ"
    rows[1]["code"] = rows[0]["code"]
    catalog.write(tmp_path / "dup.csv", rows)
    result = runner.invoke(args=["kb", "import", str(tmp_path / "dup.csv")])
    assert result.exit_code != 0 and "第 3 行" in result.output and "与第 2 行的事项编码重复" in result.output
    (tmp_path / "bad.csv").write_bytes("kind,code\n".encode("gbk"))
    assert "缺少必需的列" in runner.invoke(args=["kb", "import", str(tmp_path / "bad.csv")]).output
    (tmp_path / "gbk.csv").write_bytes("kind,code,title,body,department_code,category,tags\n社保".encode("gbk"))
    assert "UTF-8" in runner.invoke(args=["kb", "import", str(tmp_path / "gbk.csv")]).output
    (tmp_path / "x.txt").write_text("x")
    assert "不支持的文件类型" in runner.invoke(args=["kb", "import", str(tmp_path / "x.txt")]).output
    (tmp_path / "broken.xlsx").write_bytes(b"not a zip")
    assert "无法打开 Excel" in runner.invoke(args=["kb", "import", str(tmp_path / "broken.xlsx")]).output
    (tmp_path / "b.json").write_text("{oops")
    assert "JSON" in runner.invoke(args=["kb", "import", str(tmp_path / "b.json")]).output


def test_export_roundtrip(app, tmp_path):
    runner = app.test_cli_runner()
    out = runner.invoke(args=["kb", "export", str(tmp_path / "kb.xlsx")])
    assert out.exit_code == 0 and "已导出" in out.output
    rows = catalog.read(tmp_path / "kb.xlsx")
    assert len(rows) >= 200
    first = next(r for r in rows if r.values["code"] == "GJJ-003")
    assert first.values["department_code"] == "GJJ" and "租房" in first.values["title"] and first.values["materials"]
    again = runner.invoke(args=["kb", "import", str(tmp_path / "kb.xlsx")])
    assert again.exit_code == 0 and "新增 0 条，更新 0 条" in again.output, again.output  # no spurious versions
