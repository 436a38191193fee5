"""The Open311 blueprint (/open311/v2) and what every one of its answers shares: the error format of the
specification (``[{"code", "description"}]``, in the format the path asked for — XML for ``.xml`` — even for
unknown paths, extensions and methods), ``jurisdiction_id`` (one jurisdiction: absent is fine, another is 404),
garbage in parameters (400, never 500), a rate limit per client address on reads, and 503 + Retry-After when the
database or Redis cannot be reached. Route modules import ``open311_bp`` from here (hotline/open311/views.py
imports them all)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import Blueprint, current_app, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from hotline.auth.permissions import authenticate_api, public
from hotline.citizens.phones import PhoneError
from hotline.errors import (
    DATABASE_DOWN,
    HTTP_MESSAGES,
    REDIS_DOWN,
    RETRY_AFTER,
    UNAVAILABLE_MESSAGES,
    ApiError,
    unavailable_dependency,
)
from hotline.extensions import limiter
from hotline.open311.formats import errors, requested_format

open311_bp = Blueprint("open311", __name__)
open311_bp.before_request(authenticate_api)  # every endpoint is @public (POST checks its api_key itself)
FMT = "<any(json,xml):fmt>"
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
# control characters other than tab/newline/carriage return: a NUL reaches PostgreSQL as an error, the rest is junk
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def jurisdiction() -> str:
    """The jurisdiction_id this endpoint serves: HOTLINE_OPEN311_JURISDICTION, else the host of public_url."""
    settings = current_app.config["HOTLINE"]
    return settings.open311_jurisdiction.strip() or (urlsplit(settings.public_url).hostname or "")


def _rate_limit() -> str:
    return current_app.config["HOTLINE"].open311_rate_limit


# per client address (the limiter's key), on every read: the anonymous side. POST carries an api_key of its own
# (a city app posts for many citizens from one address) and a wrong key is refused before any work.
limiter.limit(_rate_limit, methods=["GET", "HEAD"])(open311_bp)


@open311_bp.before_request
def _check_parameters():
    """Garbage never reaches a query (400 in the spec's format), and another jurisdiction is 404."""
    values = [request.args]
    if request.method == "POST" and request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        values.append(request.form)
    for source in values:
        for key, value in source.items(multi=True):
            if _CONTROL.search(key) or _CONTROL.search(value):
                raise ApiError(400, "invalid", f"参数 {_CONTROL.sub('', key)[:40]} 含有不可见的控制字符")
    wanted = (request.values.get("jurisdiction_id") or "").strip()
    if wanted and wanted != jurisdiction():
        raise ApiError(
            404, "unknown_jurisdiction", f"jurisdiction_id {wanted[:60]} 不存在（本接口为 {jurisdiction()}）"
        )


@open311_bp.errorhandler(ApiError)
def _api_error(err: ApiError):
    return errors(requested_format(), err.status, err.message)


@open311_bp.errorhandler(PhoneError)
def _phone_error(err: PhoneError):
    return errors(requested_format(), 400, f"phone：{err.message}")


@open311_bp.errorhandler(HTTPException)
def _http_error(err: HTTPException):
    status = err.code or 500
    response = errors(requested_format(), status, HTTP_MESSAGES.get(status, ("", f"请求无法处理（HTTP {status}）"))[1])
    if isinstance(err, MethodNotAllowed) and err.valid_methods:
        response.headers["Allow"] = ", ".join(err.valid_methods)
    if status == 429 and getattr(err, "retry_after", None) is not None:
        response.headers["Retry-After"] = str(err.retry_after)
    return response


def _unavailable(err: Exception):
    """The database or Redis cannot be reached (hotline/errors.py decides which): 503 + Retry-After, in
    GeoReport's error format."""
    response = errors(requested_format(), 503, UNAVAILABLE_MESSAGES[unavailable_dependency(err) or "database"])
    response.headers["Retry-After"] = str(RETRY_AFTER)
    return response


for _down in (*DATABASE_DOWN, *REDIS_DOWN):
    open311_bp.register_error_handler(_down, _unavailable)


def _methods_for(path: str) -> list[str]:
    """The methods a real Open311 endpoint answers on ``path`` (not the catch-alls below)."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    allowed = []
    for method in ("GET", "POST"):
        try:
            rule, _ = adapter.match(path, method=method, return_rule=True)
        except HTTPException:
            continue
        if rule.endpoint not in CATCH_ALL:
            allowed.append(method)
    return allowed


@open311_bp.route("/", defaults={"rest": ""}, methods=ALL_METHODS, endpoint="unknown_root")
@open311_bp.route("/<path:rest>", methods=ALL_METHODS, endpoint="unknown")
@public
def unknown(rest: str):
    """Whatever /open311/v2 does not serve: 405 (with Allow) for a known resource with another method, else 404 —
    in the specification's error format, XML when the path ends in .xml."""
    allowed = _methods_for(request.path)
    if allowed:
        raise MethodNotAllowed(valid_methods=allowed)
    raise NotFound()


@public
def outside(rest: str = ""):
    """/open311/… outside the v2 prefix (another version, a typo): 404 in the specification's error format."""
    return errors(requested_format(), 404, "Open311 接口地址不存在：GeoReport v2 位于 /open311/v2（见 discovery.json）")


CATCH_ALL = {"open311.unknown", "open311.unknown_root", "open311.outside", "open311.outside_root"}


@open311_bp.record_once
def _outside_prefix(state) -> None:
    """Routes of the app itself for the rest of /open311, registered with the blueprint; their endpoints are named
    "open311.…" so that Flask treats them as the blueprint's (its hooks and error handlers apply)."""
    state.app.add_url_rule("/open311/", "open311.outside_root", outside, methods=ALL_METHODS)
    state.app.add_url_rule("/open311/<path:rest>", "open311.outside", outside, methods=ALL_METHODS)
