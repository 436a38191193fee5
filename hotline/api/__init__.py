"""REST API under /api/v1 (JSON in, JSON out, errors per API.md)."""
from flask import Blueprint

api_bp = Blueprint("api", __name__)

from hotline.api import cases, citizens, console, cti, notifications, sla, supervision, users  # noqa: E402, F401
