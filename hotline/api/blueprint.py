"""The REST API blueprint (/api/v1). Route modules import ``api_bp`` from here, not from the package: the
package's ``__init__`` imports every route module, so importing it back from them would be a cycle."""

from flask import Blueprint

from hotline.auth.permissions import authenticate_api

api_bp = Blueprint("api", __name__)
api_bp.before_request(authenticate_api)  # a token or the session, except on @public endpoints
