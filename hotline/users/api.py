"""REST /api/v1 for accounts (issue 17): users CRUD for admins (``users.admin``), password resets, the bulk import,
and API tokens — one's own (any staff member) and anyone's (admins). ``GET /api/v1/users`` (the staff list every
user may read) stays in hotline/api/users.py.

A blueprint of its own, registered under /api/v1 beside the API's (same authentication and JSON errors)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from flask_login import current_user

from hotline.auth.permissions import authenticate_api, requires
from hotline.errors import ApiError
from hotline.extensions import db
from hotline.org import sheets
from hotline.users import accounts, importer, tokens_admin
from hotline.web.validation import Bool, Str, json_body, parse

users_api_bp = Blueprint("users_api", __name__)
users_api_bp.before_request(authenticate_api)

EDIT_SPEC = {
    "name": Str("姓名", max_len=64),
    "role": Str("角色", max_len=32),
    "unit_code": Str("单位代码", max_len=32),
    "phone": Str("电话", max_len=32),
    "email": Str("电子邮箱", max_len=255),
    "active": Bool("是否启用"),
}
CREATE_SPEC = {"username": Str("用户名", required=True, max_len=64), **EDIT_SPEC}
CREATE_SPEC["name"] = Str("姓名", required=True, max_len=64)
CREATE_SPEC["role"] = Str("角色", required=True, max_len=32)
TOKEN_SPEC = {"label": Str("用途说明", max_len=tokens_admin.MAX_LABEL)}
UPLOAD_MAX = 20 * 1024 * 1024


def _settings():
    return current_app.config["HOTLINE"]


def _values(data: dict, body: dict) -> dict:
    values = {k: data.get(k) or "" for k in ("username", "name", "role", "phone", "email") if k in body}
    if "unit_code" in body:
        values["unit"] = data.get("unit_code") or ""
    return values


@users_api_bp.post("/users")
@requires("users.admin")
def create_user():
    body = json_body()
    data = parse(CREATE_SPEC, body)
    user, plain = accounts.create(current_user, _values(data, body), _settings())
    db.session.commit()
    return jsonify({"user": accounts.to_dict(user), "one_time_password": plain}), 201


@users_api_bp.get("/users/<username>")
@requires("users.admin")
def get_user(username: str):
    return jsonify({"user": accounts.to_dict(accounts.get(username))})


@users_api_bp.patch("/users/<username>")
@requires("users.admin")
def update_user(username: str):
    body = json_body()
    data = parse(EDIT_SPEC, body)
    user = accounts.get(username)
    accounts.update(current_user, user, _values(data, body))
    if "active" in body and data.get("active") is not None:
        accounts.set_active(current_user, user, bool(data["active"]))
    db.session.commit()
    return jsonify({"user": accounts.to_dict(user)})


@users_api_bp.post("/users/<username>/password-reset")
@requires("users.admin")
def reset_password(username: str):
    user = accounts.get(username)
    plain = accounts.reset_password(current_user, user, _settings())
    db.session.commit()
    return jsonify({"username": user.username, "one_time_password": plain, "must_change_password": True})


@users_api_bp.post("/users/<username>/totp-reset")
@requires("users.admin")
def reset_totp(username: str):
    user = accounts.reset_totp(current_user, accounts.get(username))
    db.session.commit()
    return jsonify({"user": accounts.to_dict(user)})


@users_api_bp.post("/users/import")
@requires("users.admin")
def import_users():
    """multipart/form-data: file (CSV/XLSX), partial=1 to load the good rows only."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ApiError(400, "invalid_input", "请上传文件（字段 file，CSV 或 XLSX）", {"file": "缺少文件"})
    try:
        rows = sheets.read_rows(upload.read(UPLOAD_MAX + 1), upload.filename, importer.COLUMNS, importer.REQUIRED)
    except sheets.SheetError as err:
        raise ApiError(400, "invalid_file", str(err), {"file": str(err)}) from None
    partial = request.form.get("partial", "") in ("1", "true", "on", "yes")
    report = importer.apply(rows, _settings(), partial=partial, actor=current_user)
    if not report.applied:
        db.session.rollback()
        body = report.to_dict()
        message = f"共 {report.total} 行，其中 {len(report.errors)} 行有错误，未导入任何账号"
        return jsonify({"error": {"code": "import_refused", "message": message, "fields": {}}, **body}), 422
    db.session.commit()
    passwords = [{"username": u, "one_time_password": p} for u, p in report.passwords]
    return jsonify(report.to_dict() | {"one_time_passwords": passwords})


@users_api_bp.get("/account/tokens")
@requires("account.tokens")  # every staff member: their own tokens
def my_tokens():
    rows = tokens_admin.listing(current_user._get_current_object())
    return jsonify({"tokens": [tokens_admin.to_dict(t, name) for t, name in rows]})


@users_api_bp.post("/account/tokens")
@requires("account.tokens")
def create_my_token():
    data = parse(TOKEN_SPEC)
    row, value = tokens_admin.issue(current_user, current_user._get_current_object(), data.get("label") or "")
    db.session.commit()
    return jsonify({"token": tokens_admin.to_dict(row, current_user.username), "value": value}), 201


@users_api_bp.delete("/account/tokens/<int:token_id>")
@requires("account.tokens")
def revoke_my_token(token_id: int):
    row = tokens_admin.revoke(current_user, token_id, owner=current_user._get_current_object())
    db.session.commit()
    return jsonify({"token": tokens_admin.to_dict(row, current_user.username)})


@users_api_bp.get("/users/<username>/tokens")
@requires("users.admin")
def user_tokens(username: str):
    rows = tokens_admin.listing(accounts.get(username))
    return jsonify({"tokens": [tokens_admin.to_dict(t, name) for t, name in rows]})


@users_api_bp.delete("/users/<username>/tokens/<int:token_id>")
@requires("users.admin")
def revoke_user_token(username: str, token_id: int):
    user = accounts.get(username)
    row = tokens_admin.revoke(current_user, token_id, owner=user)
    db.session.commit()
    return jsonify({"token": tokens_admin.to_dict(row, user.username)})
