"""GET /api/v1/openapi.json (the document) and GET /api/docs (its reference page, Swagger UI from static/vendor/,
no CDN and no inline script: the page's own code is static/js/apidoc.js).

Both are public (the external contract says "anyone"): the document describes the API, it grants nothing — every
operation in it still needs its token or session and capability. Other systems' integrators read it before they
have an account.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template

from hotline.apidoc.document import document
from hotline.auth.permissions import public

apidoc_bp = Blueprint("apidoc", __name__)


@apidoc_bp.get("/api/v1/openapi.json")
@public
def openapi_json():
    return jsonify(document(current_app))


@apidoc_bp.get("/api/docs")
@public
def reference():
    return render_template("apidoc/reference.html")
