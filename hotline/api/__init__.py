"""REST API under /api/v1 (JSON in, JSON out, errors per API.md)."""

from flask import Blueprint

api_bp = Blueprint("api", __name__)

from hotline.api import (  # noqa: E402, F401
    cases,
    citizens,
    console,
    cti,
    dispatch,
    kb,
    notifications,
    ratings,
    rectifications,
    routing,
    routing_admin,
    sla,
    stats,
    supervision,
    users,
)
