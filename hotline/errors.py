"""Errors: JSON for the API ({"error": {code, message, fields}}), friendly pages elsewhere. Never a trace.

The only module that speaks HTTP about errors: domain code raises domain errors (hotline/cases/errors.py), which
carry their status, code, message and fields; views may also raise ``ApiError`` (HTTP-level refusals)."""

from __future__ import annotations

import contextlib
import logging

import redis
from flask import Flask, jsonify, make_response, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from hotline.auth.permissions import Forbidden, Unauthenticated
from hotline.cases.errors import DOMAIN_ERRORS, DomainError
from hotline.cases.workflow import InvalidTransition
from hotline.citizens.phones import PhoneError
from hotline.citizens.privacy import DataKeyError
from hotline.extensions import db

log = logging.getLogger(__name__)

HTTP_MESSAGES = {
    400: ("bad_request", "请求格式不正确"),
    401: ("unauthorized", "请先登录或提供有效的 API 令牌"),
    403: ("forbidden", "您没有权限执行此操作"),
    404: ("not_found", "请求的资源不存在"),
    405: ("method_not_allowed", "不支持该请求方法"),
    409: ("conflict", "数据已被修改，请刷新后重试"),
    413: ("payload_too_large", "提交的内容过大"),
    415: ("unsupported_media_type", "请使用 application/json 提交"),
    422: ("rule_refused", "该操作不符合业务规则"),
    429: ("too_many_requests", "请求过于频繁，请稍后再试"),
    500: ("internal_error", "服务器内部错误，请稍后重试"),
    503: ("service_unavailable", "服务暂时不可用，请稍后重试"),
}

# A dependency that cannot be reached answers 503 + Retry-After, not 500: the database (connection refused or
# lost, a restart, the pool exhausted — never an integrity or data error: those are the request's) and Redis
# (connection refused or timed out; everything on the intake path tolerates it, this is the last resort).
DATABASE_DOWN = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError, sa_exc.TimeoutError)
REDIS_DOWN = (redis.ConnectionError, redis.TimeoutError)
RETRY_AFTER = 5  # seconds: a database or Redis restart takes a few
UNAVAILABLE_MESSAGES = {
    "database": "系统暂时无法访问数据库，请稍后重试",
    "redis": "系统暂时无法访问缓存服务，请稍后重试",
}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, fields: dict | None = None):
        self.status, self.code, self.message, self.fields = status, code, message, fields or {}
        super().__init__(message)


def wants_json() -> bool:
    path = request.path
    return (
        path.startswith(("/api/", "/open311/", "/healthz"))
        or request.is_json
        or (request.accept_mimetypes.best == "application/json")
    )


def error_response(status: int, code: str, message: str, fields: dict | None = None):
    if wants_json():
        body = {"error": {"code": code, "message": message, "fields": fields or {}}}
        return jsonify(body), status
    return render_template("error.html", status=status, message=message), status


def unavailable_dependency(err: BaseException) -> str | None:
    """ "database" or "redis" when ``err`` says that dependency cannot be reached, else None."""
    if isinstance(err, DATABASE_DOWN):
        return "database"
    if isinstance(err, REDIS_DOWN):
        return "redis"
    return None


def unavailable_response(dependency: str):
    """503 with Retry-After: JSON ``service_unavailable`` for the API, a page that needs neither the database
    nor the session (``unavailable.html``) for browsers."""
    message = UNAVAILABLE_MESSAGES.get(dependency, HTTP_MESSAGES[503][1])
    if wants_json():
        response = make_response(error_response(503, HTTP_MESSAGES[503][0], message))
    else:
        response = make_response(render_template("unavailable.html", message=message), 503)
    response.headers["Retry-After"] = str(RETRY_AFTER)
    return response


def init_app(app: Flask) -> None:
    def _unavailable(err: Exception):
        dependency = unavailable_dependency(err) or "database"
        log.warning("%s unavailable on %s %s: %s", dependency, request.method, request.path, str(err)[:300])
        with contextlib.suppress(Exception):  # the connection may be gone: its rollback can fail too
            db.session.rollback()
        return unavailable_response(dependency)

    for down in (*DATABASE_DOWN, *REDIS_DOWN):  # one handler per class, like the domain errors below
        app.register_error_handler(down, _unavailable)

    @app.errorhandler(ApiError)
    def _api_error(err: ApiError):
        return error_response(err.status, err.code, err.message, err.fields)

    @app.errorhandler(PhoneError)
    def _phone_error(err: PhoneError):
        return error_response(400, err.code, err.message, {"citizen_phone": err.message})

    @app.errorhandler(DataKeyError)
    def _data_key(err: DataKeyError):
        """Personal data under a data key this host lacks: a configuration fault (flask keys check), not a trace."""
        log.error(
            "HOTLINE_DATA_KEY 与数据库不符：数据以密钥 %s 加密，本机没有该密钥（运行 flask keys check）", err.key_id
        )
        db.session.rollback()
        message = "个人信息无法解密：本机数据密钥（HOTLINE_DATA_KEY）与数据库不符，请联系管理员"
        return error_response(503, "data_key_mismatch", message)

    def _domain_error(err: DomainError):
        """A domain refusal (hotline/cases/errors.py): its own status, code, message and fields."""
        db.session.rollback()
        return error_response(err.status, err.code, err.message, err.fields)

    for domain_error in (DomainError, *DOMAIN_ERRORS, InvalidTransition):  # one handler per class
        app.register_error_handler(domain_error, _domain_error)

    @app.errorhandler(Forbidden)
    def _forbidden(err):
        db.session.rollback()
        return error_response(403, getattr(err, "code", "forbidden"), err.message)

    @app.errorhandler(Unauthenticated)
    def _unauthenticated(err):
        return error_response(401, "unauthorized", err.message)

    @app.errorhandler(StaleDataError)
    def _stale_data(err):
        db.session.rollback()
        return error_response(409, "stale_version", "工单已被他人同时修改，请刷新后重试")

    @app.errorhandler(CSRFError)
    def _csrf(err):
        if request.path.startswith("/api/") and not current_user.is_authenticated:
            # no session and no bearer token: the caller is not logged in, a CSRF token would not help
            return error_response(401, "unauthorized", HTTP_MESSAGES[401][1])
        return error_response(400, "csrf_failed", "页面已过期或缺少安全令牌，请刷新页面后重试")

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        status = err.code or 500
        # never Werkzeug's English description; unlisted statuses get a generic zh-CN text
        code, message = HTTP_MESSAGES.get(status, ("http_error", f"请求无法处理（HTTP {status}）"))
        if status == 429:
            message = f"请求过于频繁，请稍后再试（限制：{err.description}）"
        response = make_response(error_response(status, code, message))
        if status == 405 and getattr(err, "valid_methods", None):
            response.headers["Allow"] = ", ".join(err.valid_methods)
        return response

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        code, message = HTTP_MESSAGES[500]
        return error_response(500, code, message)
