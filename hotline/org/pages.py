"""Admin pages for the organisation (zh-CN, ``org.admin``): the unit tree with search, a unit's page (edit name,
aliases, superior, active; its places), a new unit, and the import upload (units or places, CSV/XLSX) showing
every bad row. The edits go through ``hotline.org.edit`` / ``units`` / ``hotline.dispatch.places``."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired

from hotline import audit
from hotline.auth.permissions import authenticate_page, requires
from hotline.cases.errors import DomainError
from hotline.cases.forms import ZhForm, _text
from hotline.dispatch import places
from hotline.extensions import db
from hotline.models.departments import KIND_LABELS
from hotline.models.places import PLACE_KIND_LABELS
from hotline.org import edit, sheets, units

org_bp = Blueprint("org", __name__, url_prefix="/admin/org")
org_bp.before_request(authenticate_page)

PAGE_SIZE = 500  # rows shown without a search: a large city is searched, not scrolled
UPLOAD_MAX = 20 * 1024 * 1024


class UnitForm(ZhForm):
    code = StringField("单位代码", validators=_text("单位代码", True, 32))
    name = StringField("单位名称", validators=_text("单位名称", True, 100, 2))
    kind = SelectField("单位类型", choices=dict(KIND_LABELS))
    parent_code = StringField("上级单位代码", validators=_text("上级单位代码", False, 32))
    aliases = StringField("别名（多个用分号分隔）", validators=_text("别名", False, 1000))
    active = BooleanField("启用", default=True)


class ImportForm(ZhForm):
    what = HiddenField(validators=[DataRequired()])
    file = FileField("文件（CSV 或 XLSX）")
    partial = BooleanField("只导入正确的行（--partial）")


def _render_index(form: ImportForm | None = None, result: dict | None = None, status: int = 200):
    q = (request.args.get("q") or "").strip()[:50]
    rows = edit.listing(q)
    return (
        render_template(
            "org/units.html",
            rows=rows[:PAGE_SIZE],
            total=len(rows),
            q=q,
            counts=edit.counts(),
            kinds=KIND_LABELS,
            form=form or ImportForm(formdata=None),
            result=result,
            page_size=PAGE_SIZE,
        ),
        status,
    )


@org_bp.get("/units")
@requires("org.admin")
def index():
    return _render_index()


def _values(form: UnitForm) -> dict:
    return {
        "name": form.name.data.strip(),
        "kind": form.kind.data,
        "parent_code": (form.parent_code.data or "").strip(),
        "aliases": units.split_aliases(form.aliases.data or ""),
        "active": form.active.data,
    }


def _render_unit(unit, form: UnitForm, status: int = 200):
    return (
        render_template(
            "org/unit.html",
            unit=unit,
            form=form,
            places=places.of_unit(unit) if unit is not None else [],
            place_kinds=PLACE_KIND_LABELS,
            kinds=KIND_LABELS,
            open_cases=units.open_case_count(unit.id) if unit is not None else 0,
        ),
        status,
    )


@org_bp.route("/units/new", methods=["GET", "POST"])
@requires("org.admin")
def new_unit():
    form = UnitForm(formdata=request.form if request.method == "POST" else None)
    if request.method == "GET":
        form.parent_code.data = request.args.get("parent", "")[:32]
        return _render_unit(None, form)
    if form.validate_on_submit():
        try:
            unit = edit.save(form.code.data.strip(), _values(form), create=True)
        except DomainError as err:
            db.session.rollback()
            form.form_errors.append(err.message)
        else:
            db.session.commit()
            flash(f"单位 {unit.code}（{unit.name}）已新增，派单与定位立即使用", "success")
            return redirect(url_for("org.unit", code=unit.code))
    return _render_unit(None, form, 400)


@org_bp.route("/units/<code>", methods=["GET", "POST"])
@requires("org.admin")
def unit(code: str):
    current = edit.get(code)
    if request.method == "GET":
        form = UnitForm(formdata=None, obj=current)
        form.parent_code.data = current.parent.code if current.parent else ""
        form.aliases.data = ";".join(current.aliases or ())
        return _render_unit(current, form)
    form = UnitForm()
    form.code.data = current.code  # the code is the key: not changed here
    if form.validate_on_submit():
        try:
            saved = edit.save(current.code, _values(form), create=False)
        except DomainError as err:
            db.session.rollback()
            form.form_errors.append(err.message)
        else:
            db.session.commit()
            flash(f"单位 {saved.code}（{saved.name}）已保存{'' if saved.active else '（已停用）'}", "success")
            return redirect(url_for("org.unit", code=saved.code))
    return _render_unit(edit.get(code), form, 400)


def _import(what: str, raw: bytes, filename: str, partial: bool) -> dict:
    """Run an upload: {"ok", "summary", "errors": [(line, reason)], "applied"}."""
    if what == "units":
        try:
            rows = sheets.read_rows(raw, filename, units.COLUMNS, units.REQUIRED)
        except sheets.SheetError as err:
            return {"ok": False, "summary": str(err), "errors": [], "applied": False}
        report = units.apply(rows, partial=partial)
        errors = [(e.line, e.reason) for e in report.errors]
        summary = (
            f"共 {report.total} 行：新增 {report.added}，更新 {report.updated}（其中停用 {report.retired}），"
            f"未变 {report.unchanged}"
        )
        return {"ok": report.applied, "summary": summary, "errors": errors, "applied": report.applied}
    try:
        rows, errors = places.read_file(raw, filename)
        if errors and not partial:
            raise places.PlaceListError(errors)
        report = places.load(rows, partial=partial)
    except places.PlaceListError as err:
        return {"ok": False, "summary": "地名表有错误", "errors": err.errors, "applied": False}
    errors = sorted(errors + report.errors)
    summary = f"新增 {report.added}，更新 {report.updated}，未变 {report.unchanged}"
    return {"ok": True, "summary": summary, "errors": errors, "applied": True}


@org_bp.post("/import")
@requires("org.admin")
def upload():
    form = ImportForm()
    upload = request.files.get("file")
    if not form.validate_on_submit() or form.what.data not in ("units", "places"):
        flash("提交无效，请刷新页面后重试", "error")
        return redirect(url_for("org.index"))
    if upload is None or not upload.filename:
        form.file.errors = ["请选择要导入的 CSV 或 XLSX 文件"]
        return _render_index(form, None, 400)
    raw = upload.read(UPLOAD_MAX + 1)
    if len(raw) > UPLOAD_MAX:
        form.file.errors = [f"文件超过 {UPLOAD_MAX // 1024 // 1024} MB，请分批导入或使用命令行 flask org import"]
        return _render_index(form, None, 400)
    result = _import(form.what.data, raw, upload.filename, bool(form.partial.data))
    result["what"] = "单位" if form.what.data == "units" else "地名"
    if result["applied"]:
        action = "org.import" if form.what.data == "units" else "places.import"
        audit.record(current_user, action, "file", upload.filename[:128], detail=result["summary"][:500])
        db.session.commit()
    else:
        db.session.rollback()
    return _render_index(form, result, 200 if result["applied"] else 400)
