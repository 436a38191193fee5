"""GET /api/v1/users?role=ROLE: centre staff see every active account; a department user sees the people of its
own unit and sub-units only (its scope), so a unit never learns the centre's or other units' staff list."""

from __future__ import annotations

import sqlalchemy as sa
from flask import jsonify, request
from flask_login import current_user

from hotline.api.blueprint import api_bp
from hotline.auth.permissions import department_scope, requires
from hotline.errors import ApiError
from hotline.extensions import db
from hotline.models import Department, User
from hotline.models.users import ROLES


@api_bp.get("/users")
@requires("users.view")
def list_users():
    query = sa.select(User).where(User.active.is_(True)).order_by(User.username)
    if (scope := department_scope(current_user)) is not None:
        query = query.join(Department, Department.id == User.department_id).where(
            Department.path.startswith(scope.path)
        )
    elif current_user.is_department_user:  # a unit's user without a unit: only themself
        query = query.where(User.id == current_user.id)
    if role := request.args.get("role"):
        if role not in ROLES:
            raise ApiError(400, "invalid_input", f"未知的角色：{role[:40]}", {"role": "可选：" + "、".join(ROLES)})
        query = query.where(User.role == role)
    return jsonify({"users": [u.to_dict() for u in db.session.scalars(query)]})
