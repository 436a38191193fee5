"""Internal notes: GET/POST /api/v1/cases/NUMBER/notes (``{"text": "… @张三 @CGJ …"}``)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import jsonify
from flask_login import current_user

from hotline.api.blueprint import api_bp
from hotline.auth.permissions import access_case, requires
from hotline.extensions import db
from hotline.notes import operations as notes
from hotline.web.validation import Str, parse


@api_bp.get("/cases/<number>/notes")
@requires("case.view")
def list_notes(number: str):
    case = access_case(current_user, number, "case.view")
    return jsonify({"items": notes.listed(case)})


@api_bp.post("/cases/<number>/notes")
@requires("case.view")
def add_note(number: str):
    case = access_case(current_user, number, "case.view")
    data = parse({"text": Str("备注内容", required=True, max_len=notes.MAX_TEXT)})
    note = notes.add(case, current_user, data["text"], datetime.now(UTC))
    db.session.commit()
    return jsonify(notes.as_dict(note, current_user.name)), 201
