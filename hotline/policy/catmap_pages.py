"""The category map page ``/admin/policy/categories`` (``routing.admin``): the map in force (unit and 属地 of every
category, level-2/3 overrides), one row changed or a CSV/XLSX imported — each publishes the next version — the
versions, and the export (CSV) of the map in force or of any version."""

from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from hotline.auth.permissions import authenticate_page, requires
from hotline.extensions import db
from hotline.org import sheets
from hotline.policy import catmap
from hotline.web.validation import whole_number

catmap_bp = Blueprint("catmap", __name__, url_prefix="/admin/policy")
catmap_bp.before_request(authenticate_page)

UPLOAD_MAX = 5 * 1024 * 1024


def _render(result: dict | None = None, status: int = 200, problem: str = ""):
    q = (request.args.get("q") or "").strip()[:50]
    rows = catmap.current_rows()
    if q:
        rows = [r for r in rows if q in r["path"] or q == (r["unit"] or "")]
    return (
        render_template(
            "policy/categories.html", rows=rows, q=q, versions=catmap.versions(), result=result, problem=problem
        ),
        status,
    )


@catmap_bp.get("/categories")
@requires("routing.admin")
def catmap_page():
    return _render()


@catmap_bp.post("/categories")
@requires("routing.admin")
def catmap_set():
    form = request.form
    row = {
        "line": 0,
        "category": form.get("category", ""),
        "unit_code": form.get("unit_code", ""),
        "local": "1" if form.get("local") else "0",
    }
    changes, errors = catmap.check([row])
    note = (form.get("note") or "").strip()[:500]
    if errors:
        return _render(problem=errors[0][1], status=400)
    report = catmap.publish(changes, note, current_user)
    db.session.commit()
    flash(f"已发布归口表第 {report.version} 版（修改 {report.changed} 个分类），派单一秒内生效", "success")
    return redirect(url_for("catmap.catmap_page", q=row["category"]))


@catmap_bp.post("/categories/import")
@requires("routing.admin")
def catmap_import():
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _render(problem="请选择要导入的 CSV 或 XLSX 文件", status=400)
    raw = upload.read(UPLOAD_MAX + 1)
    if len(raw) > UPLOAD_MAX:
        return _render(problem="文件超过 5 MB", status=400)
    note = (request.form.get("note") or "").strip()[:500] or f"导入 {upload.filename[:100]}"
    try:
        report = catmap.import_file(raw, upload.filename, note, current_user, partial=bool(request.form.get("partial")))
    except sheets.SheetError as err:
        return _render(problem=str(err), status=400)
    if report.version is None:
        db.session.rollback()
        return _render({"applied": False, "summary": f"共 {report.total} 行", "errors": report.errors}, 400)
    db.session.commit()
    summary = f"共 {report.total} 行，修改 {report.changed} 个分类，已发布第 {report.version} 版"
    return _render({"applied": True, "summary": summary, "errors": report.errors})


@catmap_bp.get("/categories.csv")
@requires("routing.admin")
def catmap_export():
    raw = request.args.get("version", "")
    version = whole_number(raw, 1, 10**9) if raw else None
    if raw and (version is None or catmap.version_rows(version) is None):
        return render_template("error.html", status=404, message=f"归口表没有第 {raw[:12]} 版"), 404
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(catmap.COLUMNS)
    writer.writerows(catmap.export_table(version))
    name = f"category-map-v{version}.csv" if version else "category-map.csv"
    return Response(
        out.getvalue(), mimetype="text/csv", headers={"Content-Disposition": f"attachment; filename={name}"}
    )
