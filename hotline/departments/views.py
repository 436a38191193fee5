"""Department portal pages."""
from __future__ import annotations

from flask import Blueprint, render_template

from hotline.auth.permissions import page_role_guard

departments_bp = Blueprint("departments", __name__)
departments_bp.before_request(page_role_guard("department_handler", "department_admin"))


@departments_bp.get("/")
def inbox():
    return render_template("departments/inbox.html")
