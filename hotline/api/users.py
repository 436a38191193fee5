"""GET /api/v1/users?role=ROLE."""

from __future__ import annotations

import sqlalchemy as sa
from flask import jsonify, request

from hotline.api.blueprint import api_bp
from hotline.auth.permissions import requires
from hotline.errors import ApiError
from hotline.extensions import db
from hotline.models import User
from hotline.models.users import ROLES


@api_bp.get("/users")
@requires("users.view")
def list_users():
    query = sa.select(User).where(User.active.is_(True)).order_by(User.username)
    if role := request.args.get("role"):
        if role not in ROLES:
            raise ApiError(400, "invalid_input", f"未知的角色：{role[:40]}", {"role": "可选：" + "、".join(ROLES)})
        query = query.where(User.role == role)
    return jsonify({"users": [u.to_dict() for u in db.session.scalars(query)]})
