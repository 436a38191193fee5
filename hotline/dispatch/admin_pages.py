"""Admin pages for routing: override rules (keyword / regex / category / area → unit, priority, enabled) and
the category → responsible unit mapping. zh-CN, CSRF (Flask-WTF); the edits go through hotline.dispatch.rules_admin."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from wtforms import BooleanField, HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import NumberRange, Optional

from hotline.auth.permissions import authenticate_page, requires
from hotline.cases.forms import PickField, ZhForm, _text, department_groups, district_groups
from hotline.dispatch import lexicon
from hotline.dispatch import rules_admin as ra
from hotline.extensions import db
from hotline.models import Category, Department, RoutingRule

admin_bp = Blueprint("admin", __name__, url_prefix="/admin")
admin_bp.before_request(authenticate_page)


class RuleForm(ZhForm):
    priority = IntegerField(
        "优先级", default=0, validators=[Optional(), NumberRange(-1000, 1000, "优先级应在-1000到1000之间")]
    )
    keyword = StringField("关键词（多个用 | 或逗号分隔）", validators=_text("关键词", False, 200))
    regex = StringField("正则表达式", validators=_text("正则表达式", False, 300))
    category = PickField("一级分类", choices=[])
    area = PickField("区域（区县/街道）", choices=[])
    department = PickField("承办单位", choices=[])
    enabled = BooleanField("启用", default=True)
    note = StringField("说明", validators=_text("说明", False, 200))

    def fill(self) -> None:
        self.category.choices = {"": "不限", **{n: n for n in ra.level1_names()}}
        self.area.choices = {"": "不限", **district_groups()}
        self.department.choices = {"": "请选择承办单位", **department_groups()}


class ToggleForm(ZhForm):
    op = HiddenField()


class MappingForm(ZhForm):
    department = PickField("承办单位", choices=[])
    local = BooleanField("属地管理（派至事发地区县/街道）")


class LexiconForm(ZhForm):
    category = StringField("分类路径")
    words = TextAreaField("词语")
    enabled = BooleanField("启用")


def _unit(value: str | None) -> Department | None:
    return db.session.get(Department, int(value)) if value and value.isdigit() else None


def _render_rules(form: RuleForm, status: int = 200):
    return render_template("admin/routing_rules.html", form=form, rules=ra.rules(), toggle=ToggleForm()), status


@admin_bp.get("/routing/rules")
@requires("routing.admin")
def routing_rules():
    form = RuleForm(formdata=None)
    form.fill()
    return _render_rules(form)


@admin_bp.post("/routing/rules")
@requires("routing.admin")
def create_rule():
    form = RuleForm()
    form.fill()
    if form.validate_on_submit():
        values = {
            "priority": form.priority.data or 0,
            "keyword": (form.keyword.data or "").strip() or None,
            "regex": (form.regex.data or "").strip() or None,
            "category": form.category.data or None,
            "area": _unit(form.area.data),
            "department": _unit(form.department.data),
            "enabled": form.enabled.data,
            "note": (form.note.data or "").strip(),
        }
        try:
            rule = ra.save_rule(None, values)
        except ra.RuleInvalid as err:
            db.session.rollback()
            for name, problem in err.fields.items():
                getattr(form, {"area_code": "area", "department_code": "department"}.get(name, name)).errors.append(
                    problem
                )
        else:
            db.session.commit()
            flash(f"规则 {rule.id} 已保存，立即生效", "success")
            return redirect(url_for("admin.routing_rules"))
    return _render_rules(form, 400)


@admin_bp.post("/routing/rules/<int:rule_id>")
@requires("routing.admin")
def change_rule(rule_id: int):
    rule = db.session.get(RoutingRule, rule_id) or abort(404)
    form = ToggleForm()
    if not form.validate_on_submit() or form.op.data not in ("enable", "disable", "delete"):
        flash("提交无效，请刷新页面后重试", "error")
        return redirect(url_for("admin.routing_rules"))
    if form.op.data == "delete":
        ra.delete_rule(rule)
        message = f"规则 {rule_id} 已删除"
    else:
        ra.save_rule(rule, {"enabled": form.op.data == "enable"})
        message = f"规则 {rule_id} 已{'启用' if rule.enabled else '停用'}"
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("admin.routing_rules"))


@admin_bp.get("/routing/categories")
@requires("routing.admin")
def categories():
    rows = db.session.scalars(sa.select(Category).where(Category.level <= 2).order_by(Category.path)).all()
    return render_template("admin/categories.html", rows=rows, units=department_groups(), form=MappingForm())


@admin_bp.post("/routing/categories/<int:category_id>")
@requires("routing.admin")
def set_category(category_id: int):
    category = db.session.get(Category, category_id) or abort(404)
    form = MappingForm()
    form.department.choices = {"": "（无）", **department_groups()}
    if not form.validate_on_submit():
        flash(next(iter(form.errors.values()))[0] if form.errors else "提交无效", "error")
        return redirect(url_for("admin.categories"))
    ra.set_category_unit(category, _unit(form.department.data), form.local.data)
    db.session.commit()
    unit = category.department.name if category.department else "（无）"
    flash(f"「{category.path}」的承办单位已改为{unit}{'（属地）' if category.local else ''}", "success")
    return redirect(url_for("admin.categories") + f"#cat-{category.id}")


@admin_bp.get("/routing/lexicon")
@requires("routing.admin")
def routing_lexicon():
    paths = db.session.scalars(sa.select(Category.path).where(Category.level >= 2).order_by(Category.path)).all()
    return render_template("admin/routing_lexicon.html", rows=lexicon.rows(), paths=paths, form=LexiconForm())


def _save_lexicon(category: Category | None, form: LexiconForm):
    if category is None:
        flash("分类不存在，请从列表中选择完整路径", "error")
        return redirect(url_for("admin.routing_lexicon"))
    try:
        lexicon.save(category, form.words.data or "", form.enabled.data, current_user.id)
    except lexicon.LexiconInvalid as err:
        db.session.rollback()
        flash(err.message, "error")
        return redirect(url_for("admin.routing_lexicon") + f"#lex-{category.id}")
    db.session.commit()
    flash(f"「{category.path}」的词语已保存，立即生效", "success")
    return redirect(url_for("admin.routing_lexicon") + f"#lex-{category.id}")


@admin_bp.post("/routing/lexicon/<int:category_id>")
@requires("routing.admin")
def save_lexicon(category_id: int):
    form = LexiconForm()
    if not form.validate_on_submit():
        flash("提交无效，请刷新页面后重试", "error")
        return redirect(url_for("admin.routing_lexicon"))
    return _save_lexicon(db.session.get(Category, category_id), form)


@admin_bp.post("/routing/lexicon")
@requires("routing.admin")
def add_lexicon():
    form = LexiconForm()
    if not form.validate_on_submit():
        flash("提交无效，请刷新页面后重试", "error")
        return redirect(url_for("admin.routing_lexicon"))
    path = (form.category.data or "").strip()
    return _save_lexicon(db.session.scalar(sa.select(Category).where(Category.path == path)), form)
