"""Citizen forms (zh-CN messages, CSRF by Flask-WTF)."""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask import current_app
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from hotline.cases.forms import ZhForm, _no_control_chars
from hotline.citizens.phones import PhoneError, normalize
from hotline.extensions import db
from hotline.models import Department

NUMBER = re.compile(r"[A-Z]{2}\d{8}-\d{6}")
MIN_CONTENT = 5
KIND_HINTS = {
    "consult": "咨询",
    "help": "求助",
    "complaint": "投诉",
    "report": "举报",
    "suggestion": "建议",
    "praise": "表扬",
}


def _phone(form, field) -> None:
    try:
        form.phone_obj = normalize(field.data or "")
    except PhoneError as err:
        raise ValidationError(err.message) from None


class RequestForm(ZhForm):
    """我要反映: the citizen's request."""

    phone = StringField(
        "手机号码",
        validators=[
            DataRequired("请填写手机号码，用于查询进度和接收办理结果"),
            Length(max=64, message="手机号码太长"),
            _phone,
        ],
    )
    name = StringField(
        "姓名（可不填）", validators=[Optional(), Length(max=50, message="姓名不能超过50个字"), _no_control_chars]
    )
    kind = RadioField("诉求类型", choices=KIND_HINTS, default="help", validators=[DataRequired("请选择诉求类型")])
    district = SelectField("所在区县（可不选）", choices=[], validate_choice=True)
    address = StringField(
        "事发地址（可不填）", validators=[Optional(), Length(max=300, message="地址不能超过300个字"), _no_control_chars]
    )
    content = TextAreaField(
        "诉求内容",
        validators=[
            DataRequired("请填写诉求内容"),
            Length(min=MIN_CONTENT, message=f"诉求内容至少需要{MIN_CONTENT}个字，请写清事项、地点和时间"),
            _no_control_chars,
        ],
    )
    public_consent = BooleanField("同意在曝光台公开（姓名、电话、门牌号等个人信息将隐去）")  # issue 19
    challenge = HiddenField()
    answer = StringField("验证题", validators=[DataRequired("请填写验证题的答案")])
    website = StringField("网址（请勿填写）")  # honeypot: hidden by CSS, only robots fill it

    phone_obj = None

    def validate_content(self, field) -> None:
        limit = current_app.config["HOTLINE"].max_content_chars
        if len(field.data or "") > limit:
            raise ValidationError(f"诉求内容不能超过{limit}个字（当前{len(field.data)}个字）")

    def fill_choices(self) -> None:
        rows = db.session.execute(
            sa.select(Department.code, Department.name)
            .where(Department.active.is_(True), Department.kind == "district")
            .order_by(Department.path)
        ).all()
        self.district.choices = [("", "不清楚 / 不选")] + [(code, name) for code, name in rows]

    def district_row(self) -> Department | None:
        if not self.district.data:
            return None
        return db.session.scalar(sa.select(Department).where(Department.code == self.district.data))


class StatusForm(ZhForm):
    """查询进度: case number + the phone number given with it."""

    number = StringField(
        "工单编号", validators=[DataRequired("请填写工单编号"), Length(max=32, message="工单编号格式不正确")]
    )
    phone = StringField(
        "手机号码", validators=[DataRequired("请填写提交诉求时留下的手机号码"), Length(max=64, message="手机号码太长")]
    )

    def validate_number(self, field) -> None:
        value = (field.data or "").strip().upper()
        if not NUMBER.fullmatch(value):
            raise ValidationError("工单编号格式不正确，应类似 GD20261122-000123")
        field.data = value
