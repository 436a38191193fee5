"""分中心 (sub-centres) admin (``org.admin``): which districts run their own hotline staff. The page
``/admin/org/subcentres`` and ``GET/PUT /api/v1/subcentres[/CODE]``; each change is audited and reaches every
process at its next request (the flag is read with the user's unit). What a sub-centre's staff see:
hotline/auth/subcentres.py."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for

from hotline import audit
from hotline.auth.permissions import authenticate_api, authenticate_page, requires
from hotline.auth.roles import CENTRE
from hotline.cases.errors import InvalidInput, NotFound
from hotline.extensions import db
from hotline.models import Department, User
from hotline.web.validation import Bool, json_body, parse

subcentres_bp = Blueprint("subcentres", __name__, url_prefix="/admin/org")
subcentres_bp.before_request(authenticate_page)
subcentres_api_bp = Blueprint("subcentres_api", __name__)
subcentres_api_bp.before_request(authenticate_api)


def listing() -> list[dict]:
    districts = db.session.scalars(
        sa.select(Department)
        .where(Department.kind == "district", Department.active.is_(True))
        .order_by(Department.path)
    ).all()
    staff = dict(
        db.session.execute(
            sa.select(Department.path, sa.func.count(User.id))
            .join(User, User.department_id == Department.id)
            .where(User.role.in_([str(r) for r in CENTRE]), User.active.is_(True))
            .group_by(Department.path)
        ).all()
    )
    return [
        {
            "code": d.code,
            "name": d.name,
            "subcentre": d.subcentre,
            "staff": sum(n for path, n in staff.items() if path.startswith(d.path)),
        }
        for d in districts
    ]


def set_flag(code: str, value: bool) -> Department:
    unit = db.session.scalar(sa.select(Department).where(Department.code == code))
    if unit is None:
        raise NotFound("unit_not_found", f"单位 {code[:40]} 不存在")
    if unit.kind != "district":
        raise InvalidInput("not_a_district", f"{unit.name}不是区县：分中心只能设在区县", {"code": "应为区县"})
    if unit.subcentre != value:
        audit.record(
            audit.current_actor(),
            "subcentre.set",
            "unit",
            code,
            before={"subcentre": unit.subcentre},
            after={"subcentre": value},
        )
        unit.subcentre = value
        db.session.flush()
    return unit


@subcentres_bp.get("/subcentres")
@requires("org.admin")
def page():
    return render_template("org/subcentres.html", rows=listing())


@subcentres_bp.post("/subcentres/<code>")
@requires("org.admin")
def toggle(code: str):
    unit = set_flag(code, request.form.get("subcentre") == "y")
    db.session.commit()
    flash(f"{unit.name}{'已设为分中心：其话务、派单、统计只看本区' if unit.subcentre else '已取消分中心'}", "success")
    return redirect(url_for("subcentres.page"))


@subcentres_api_bp.get("/subcentres")
@requires("org.admin")
def list_subcentres():
    return jsonify({"districts": listing()})


@subcentres_api_bp.put("/subcentres/<code>")
@requires("org.admin")
def api_set(code: str):
    data = parse({"subcentre": Bool("是否分中心", required=True)}, json_body())
    unit = set_flag(code, data["subcentre"])
    db.session.commit()
    return jsonify({"code": unit.code, "name": unit.name, "subcentre": unit.subcentre})
