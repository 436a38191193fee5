"""Agent console and dispatcher pages."""
from __future__ import annotations

from flask import Blueprint, render_template

from hotline.auth.permissions import page_role_guard

console_bp = Blueprint("console", __name__)
console_bp.before_request(page_role_guard("agent", "dispatcher", "monitor", "supervisor"))


@console_bp.get("/console")
def index():
    return render_template("console/index.html")


@console_bp.get("/dispatch")
def dispatch_queue():
    return render_template("console/dispatch.html")
