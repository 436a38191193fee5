"""WTForms classes of the staff pages (zh-CN messages) and the choice lists they need."""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask import current_app
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.meta import DefaultMeta
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from hotline.extensions import db
from hotline.models import Case, Category, Department
from hotline.models.cases import CHANNELS, KINDS, RESULTS, URGENCIES
from hotline.models.departments import KIND_LABELS

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


class ZhForm(FlaskForm):
    """FlaskForm whose built-in messages ("不是有效的选项" …) come from WTForms' zh catalogue."""

    class Meta:
        locales = ("zh",)

        def get_translations(self, form):
            return DefaultMeta.get_translations(self, form)


class PickField(SelectField):
    """A select the browser may leave out of the submission (disabled while empty): missing means ""."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist or [""])


def _no_control_chars(form, field) -> None:
    if field.data and _CONTROL.search(field.data):
        raise ValidationError(f"{field.label.text}包含不可见的控制字符")


def _text(label: str, required: bool, max_len: int, min_len: int = 0) -> list:
    first = DataRequired(f"请填写{label}") if required else Optional()
    checks = [first, Length(max=max_len, message=f"{label}不能超过{max_len}个字"), _no_control_chars]
    if min_len:
        checks.insert(1, Length(min=min_len, message=f"{label}至少需要{min_len}个字"))
    return checks


class CaseForm(ZhForm):
    """工单登记 on the agent console."""

    phone = StringField("来电号码", validators=[Length(max=64, message="来电号码太长")])
    call_id = HiddenField()
    citizen_name = StringField("市民姓名", validators=_text("市民姓名", False, 50))
    channel = SelectField("受理渠道", choices=CHANNELS, default="phone")
    kind = RadioField("诉求类型", choices=KINDS, default="consult")
    urgency = RadioField("紧急程度", choices=URGENCIES, default="normal")
    category1 = PickField("一级分类", choices=[])
    category2 = PickField("二级分类", choices=[])
    category3 = PickField("三级分类", choices=[])
    district = PickField("所属区县/街道", choices=[])
    address = StringField("事发地址", validators=_text("事发地址", False, 300))
    content = TextAreaField(
        "诉求内容",
        validators=[DataRequired("请填写诉求内容"), Length(min=2, message="诉求内容至少需要2个字"), _no_control_chars],
    )
    confidential = BooleanField("为来电人保密（举报件默认保密）")
    public_consent = BooleanField("来电人同意在曝光台公开（个人信息隐去）")  # issue 19

    def validate_phone(self, field) -> None:
        if not (field.data or "").strip() and not self.call_id.data:
            raise ValidationError("请填写来电号码")

    def validate_content(self, field) -> None:
        limit = current_app.config["HOTLINE"].max_content_chars
        if len(field.data or "") > limit:
            raise ValidationError(f"诉求内容不能超过{limit}个字（当前{len(field.data)}个字）")

    def fill_choices(self) -> None:
        """Category selects follow the submitted parents, so a re-rendered form keeps its picks."""
        self.category1.choices = {"": "请选择一级分类", **category_options(None)}
        self.category2.choices = {
            "": "二级分类",
            **(category_options(self.category1.data) if self.category1.data else {}),
        }
        self.category3.choices = {
            "": "三级分类",
            **(category_options(self.category2.data) if self.category2.data else {}),
        }
        self.district.choices = {"": "未指定", **district_groups()}

    def chosen_category(self) -> Category | None:
        for field in (self.category3, self.category2, self.category1):
            if field.data:
                return db.session.get(Category, int(field.data))
        return None

    def chosen_district(self) -> Department | None:
        return db.session.get(Department, int(self.district.data)) if self.district.data else None


class ActionForm(ZhForm):
    """Base of the case-page action forms: optimistic-lock version and where to go back to."""

    version = HiddenField()
    next = HiddenField()


class SignForm(ActionForm):
    pass


class DispatchForm(ActionForm):
    department = SelectField("承办单位", choices=[], validators=[DataRequired("请选择承办单位")])
    role = RadioField("办理方式", choices={"lead": "主办", "assist": "协办"}, default="lead")
    note = TextAreaField("派单意见", validators=_text("派单意见", False, 1000))


class ReturnDecisionForm(ActionForm):
    decision = RadioField(
        "审核结果",
        validators=[DataRequired("请选择审核结果")],
        choices={"accept": "同意退回，改派其他单位", "reject": "驳回退回，原单位继续办理"},
    )
    department = PickField("改派单位", choices=[])
    note = TextAreaField("审核意见", validators=_text("审核意见", True, 1000))

    def validate_department(self, field) -> None:
        if self.decision.data == "accept" and not field.data:
            raise ValidationError("同意退回时请选择改派单位")


class ContactForm(ActionForm):
    note = TextAreaField("联系情况", validators=_text("联系情况", True, 2000))


class ReplyForm(ActionForm):
    content = TextAreaField("答复内容", validators=_text("答复内容", True, 5000, 2))
    result = RadioField("办理结果", choices=RESULTS, validators=[DataRequired("请选择办理结果")])


class ReturnForm(ActionForm):
    reason = TextAreaField("退回理由", validators=_text("退回理由", True, 2000, 2))


class CloseForm(ActionForm):
    note = TextAreaField("办结说明", validators=_text("办结说明", False, 2000))


class AnswerForm(ActionForm):
    answer = TextAreaField("答复内容", validators=_text("答复内容", True, 5000, 2))
    category = SelectField("问题分类", choices=[], validators=[Optional()])  # required unless the case has one


# --- choice lists ------------------------------------------------------------------------------


def category_options(parent_id: str | int | None) -> dict[str, str]:
    """Children of a category (level-1 categories for None); unknown parents have none."""
    query = sa.select(Category.id, Category.name).order_by(Category.id)
    if parent_id in (None, ""):
        query = query.where(Category.level == 1)
    elif str(parent_id).isdigit():
        query = query.where(Category.parent_id == int(parent_id))
    else:
        return {}
    return {str(i): name for i, name in db.session.execute(query)}


def category_groups() -> dict[str, dict[str, str]]:
    """Level-2 and level-3 categories, one optgroup per level-1 name (直接办结's category select)."""
    rows = db.session.execute(sa.select(Category.id, Category.path).where(Category.level > 1).order_by(Category.path))
    groups: dict[str, dict[str, str]] = {}
    for i, path in rows:
        head, _, rest = path.partition("/")
        groups.setdefault(head, {})[str(i)] = rest.replace("/", " / ")
    return groups


def district_groups() -> dict[str, dict[str, str]]:
    """Districts with their streets, one optgroup per district (the district itself first)."""
    rows = db.session.scalars(
        sa.select(Department)
        .where(Department.active.is_(True), Department.kind.in_(("district", "street")))
        .order_by(Department.path)
    ).all()
    names = {d.id: d.name for d in rows if d.kind == "district"}
    groups: dict[str, dict[str, str]] = {d.name: {str(d.id): f"{d.name}（全区）"} for d in rows if d.kind == "district"}
    for d in rows:
        if d.kind == "street" and d.parent_id in names:
            groups[names[d.parent_id]][str(d.id)] = d.name
    return groups


def department_groups(within: Department | None = None) -> dict[str, dict[str, str]]:
    """Every active unit grouped by kind (for dispatch selects); ``within`` limits to a subtree."""
    query = sa.select(Department).where(Department.active.is_(True)).order_by(Department.path)
    if within is not None:
        query = query.where(Department.path.startswith(within.path))
    order = ("department", "utility", "district", "street", "city")
    groups: dict[str, dict[str, str]] = {KIND_LABELS[k]: {} for k in order}
    for d in db.session.scalars(query):
        groups.setdefault(KIND_LABELS.get(d.kind, d.kind), {})[str(d.id)] = d.name
    return {label: options for label, options in groups.items() if options}


def suggested_department(case: Case) -> Department | None:
    """The category's responsible unit; for a 属地 (local) category with a known place, that place."""
    category = case.category
    if category is None:
        return None
    unit = case.district if category.local and case.district is not None else category.department
    return unit if unit is not None and unit.active else None
