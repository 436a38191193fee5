"""Export pages (/exports): request an export (prefilled from the case list or the figures: ?what=cases&status=…),
the user's recent exports, and one export's progress bar with its download link when done."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from hotline.auth.permissions import authenticate_page, requires
from hotline.cases.errors import DomainError
from hotline.exports import service
from hotline.exports.filters import CASE_KEYS, PERIOD_KEYS
from hotline.extensions import db

exports_bp = Blueprint("exports", __name__)
exports_bp.before_request(authenticate_page)


@exports_bp.get("/exports")
@requires("export.create")
def index():
    what = request.args.get("what", "cases")
    keys = CASE_KEYS if what == "cases" else PERIOD_KEYS
    prefill = {k: request.args.get(k, "") for k in keys if request.args.get(k)}
    return render_template(
        "exports/index.html", what=what, prefill=prefill, choices=service.WHAT, exports=service.recent(current_user)
    )


@exports_bp.post("/exports")
@requires("export.create")
def create():
    form = request.form
    what = form.get("what", "cases")
    keys = CASE_KEYS if what == "cases" else PERIOD_KEYS
    filters = {k: form[k] for k in keys if form.get(k, "").strip()}
    try:
        export = service.request_export(current_user, what, form.get("format", "xlsx"), filters, datetime.now(UTC))
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("exports.index", what=what, **filters))
    db.session.commit()
    return redirect(url_for("exports.progress", export_id=export.id))


@exports_bp.get("/exports/<int:export_id>")
@requires("export.create")
def progress(export_id: int):
    export = service.owned(current_user, export_id)
    if export is None:
        abort(404)
    return render_template("exports/progress.html", export=export, data=service.as_dict(export))
