"""Admin pages for people (zh-CN, ``users.admin``): the account list with search, a new account, an account's page
(edit name/role/unit/phone/e-mail, disable/enable, reset the password — the one-time password shown once — and its
API tokens, revocable), the import upload; and /account/tokens, where every staff member lists, creates and
revokes their own API tokens. Changes go through hotline/users/accounts.py and tokens_admin.py (audited)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectField, StringField

from hotline.auth.permissions import authenticate_page, requires
from hotline.cases.errors import DomainError
from hotline.cases.forms import ZhForm, _text
from hotline.extensions import db
from hotline.models import Department, User
from hotline.models.users import ROLES
from hotline.org import sheets
from hotline.users import accounts, importer, tokens_admin
from hotline.web import filters

users_bp = Blueprint("users", __name__)
users_bp.before_request(authenticate_page)
filters.init_blueprint(users_bp)

PAGE_SIZE = 500
UPLOAD_MAX = 20 * 1024 * 1024


class UserForm(ZhForm):
    username = StringField("用户名", validators=_text("用户名", True, 64, 2))
    name = StringField("姓名", validators=_text("姓名", True, 64))
    role = SelectField("角色", choices=[(r, f"{label}（{r}）") for r, label in ROLES.items()])
    unit = StringField("单位代码", validators=_text("单位代码", False, 32))
    phone = StringField("电话", validators=_text("电话", False, 32))
    email = StringField("电子邮箱", validators=_text("电子邮箱", False, 255))


class ActionForm(ZhForm):
    """The CSRF token of the one-button forms (disable, enable, reset, revoke)."""


class ImportForm(ZhForm):
    file = FileField("文件（CSV 或 XLSX）")
    partial = BooleanField("只导入正确的行（--partial）")


class TokenForm(ZhForm):
    label = StringField("用途说明", validators=_text("用途说明", False, tokens_admin.MAX_LABEL))


def _settings():
    return current_app.config["HOTLINE"]


def _values(form: UserForm) -> dict:
    return {k: (getattr(form, k).data or "").strip() for k in ("username", "name", "role", "unit", "phone", "email")}


@users_bp.get("/admin/users")
@requires("users.admin")
def index(form: ImportForm | None = None, result: dict | None = None, status: int = 200):
    q = (request.args.get("q") or "").strip()[:50]
    query = sa.select(User).outerjoin(Department, Department.id == User.department_id).order_by(User.username)
    if q:
        like = f"%{q}%"
        query = query.where(sa.or_(User.username.ilike(like), User.name.ilike(like), Department.name.ilike(like)))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    rows = db.session.scalars(query.limit(PAGE_SIZE)).all()
    return (
        render_template(
            "users/index.html", rows=rows, total=total, q=q, form=form or ImportForm(formdata=None), result=result
        ),
        status,
    )


@users_bp.route("/admin/users/new", methods=["GET", "POST"])
@requires("users.admin")
def new_user():
    form = UserForm(formdata=request.form if request.method == "POST" else None)
    if request.method == "POST" and form.validate_on_submit():
        try:
            user, plain = accounts.create(current_user, _values(form), _settings())
        except DomainError as err:
            db.session.rollback()
            form.form_errors.append(err.message)
        else:
            db.session.commit()
            return render_template("users/one_time.html", user=user, plain=plain, created=True)
    return render_template("users/user.html", user=None, form=form, action=ActionForm(), tokens=[]), (
        400 if request.method == "POST" else 200
    )


@users_bp.route("/admin/users/<username>", methods=["GET", "POST"])
@requires("users.admin")
def user(username: str):
    current = accounts.get(username)
    if request.method == "GET":
        form = UserForm(formdata=None, obj=current)
        form.unit.data = current.department.code if current.department else ""
        status = 200
    else:
        form = UserForm()
        form.username.data = current.username  # the username is the key: not changed here
        status = 400
        if form.validate_on_submit():
            values = _values(form)
            values.pop("username")
            try:
                accounts.update(current_user, current, values)
            except DomainError as err:
                db.session.rollback()
                form.form_errors.append(err.message)
            else:
                db.session.commit()
                flash(f"账号 {current.username} 已保存", "success")
                return redirect(url_for("users.user", username=current.username))
    tokens = tokens_admin.listing(current)
    return render_template("users/user.html", user=current, form=form, action=ActionForm(), tokens=tokens), status


@users_bp.post("/admin/users/<username>/<any(disable, enable, reset, totp):what>")
@requires("users.admin")
def act(username: str, what: str):
    current = accounts.get(username)
    if not ActionForm().validate_on_submit():
        flash("页面已过期，请刷新后重试", "error")
        return redirect(url_for("users.user", username=username))
    try:
        if what == "reset":
            plain = accounts.reset_password(current_user, current, _settings())
        elif what == "totp":
            accounts.reset_totp(current_user, current)
        else:
            accounts.set_active(current_user, current, what == "enable")
    except DomainError as err:
        db.session.rollback()
        flash(err.message, "error")
        return redirect(url_for("users.user", username=username))
    db.session.commit()
    if what == "reset":
        return render_template("users/one_time.html", user=current, plain=plain, created=False)
    done = {"enable": "已启用", "disable": "已停用", "totp": "的两步验证已重置"}[what]
    flash(f"账号 {username} {done}", "success")
    return redirect(url_for("users.user", username=username))


@users_bp.post("/admin/users/<username>/tokens/<int:token_id>/revoke")
@requires("users.admin")
def revoke_user_token(username: str, token_id: int):
    current = accounts.get(username)
    if ActionForm().validate_on_submit():
        tokens_admin.revoke(current_user, token_id, owner=current)
        db.session.commit()
        flash(f"令牌 {token_id} 已吊销", "success")
    return redirect(url_for("users.user", username=username))


@users_bp.post("/admin/users/import")
@requires("users.admin")
def upload():
    form = ImportForm()
    upload = request.files.get("file")
    if not form.validate_on_submit():
        flash("提交无效，请刷新页面后重试", "error")
        return redirect(url_for("users.index"))
    if upload is None or not upload.filename:
        form.file.errors = ["请选择要导入的 CSV 或 XLSX 文件"]
        return index(form, None, 400)
    try:
        rows = sheets.read_rows(upload.read(UPLOAD_MAX + 1), upload.filename, importer.COLUMNS, importer.REQUIRED)
    except sheets.SheetError as err:
        return index(form, {"ok": False, "summary": str(err), "errors": [], "passwords": []}, 400)
    report = importer.apply(rows, _settings(), partial=bool(form.partial.data), actor=current_user)
    if not report.applied:
        db.session.rollback()
        result = {
            "ok": False,
            "summary": f"共 {report.total} 行，{len(report.errors)} 行有错误，未导入任何账号",
            "errors": [(e.line, e.reason) for e in report.errors],
            "passwords": [],
        }
        return index(form, result, 400)
    db.session.commit()
    result = {
        "ok": True,
        "summary": f"共 {report.total} 行：新增 {report.added}，更新 {report.updated}，未变 {report.unchanged}",
        "errors": [(e.line, e.reason) for e in report.errors],
        "passwords": report.passwords,
    }
    return index(form, result, 200)


@users_bp.route("/account/tokens", methods=["GET", "POST"])
@requires("account.tokens")
def my_tokens():
    me = current_user._get_current_object()
    form = TokenForm()
    created = None
    if request.method == "POST" and form.validate_on_submit():
        _row, value = tokens_admin.issue(me, me, form.label.data or "")
        db.session.commit()
        created = value
        form = TokenForm(formdata=None)
    return render_template(
        "users/tokens.html", tokens=tokens_admin.listing(me), form=form, action=ActionForm(), created=created
    )


@users_bp.post("/account/tokens/<int:token_id>/revoke")
@requires("account.tokens")
def revoke_my_token(token_id: int):
    if ActionForm().validate_on_submit():
        try:
            tokens_admin.revoke(current_user, token_id, owner=current_user._get_current_object())
        except DomainError as err:
            db.session.rollback()
            flash(err.message, "error")
            return redirect(url_for("users.my_tokens"))
        db.session.commit()
        flash(f"令牌 {token_id} 已吊销，使用它的程序将无法再访问接口", "success")
    return redirect(url_for("users.my_tokens"))
