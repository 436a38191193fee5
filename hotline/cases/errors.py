"""Domain errors: what every domain package (cases, sla, dispatch, ratings, kb, citizens, channels, wechat …)
raises when it refuses. A leaf: it imports nothing, so any package may import it.

Each error carries what the API answers with — ``status``, ``code``, ``message`` (zh-CN), ``fields`` (per-field
reasons) — but no HTTP: only ``hotline/errors.py`` turns them into a JSON error (``{"error": {code, message,
fields}}``) or an error page, one handler per class. Views may catch them to flash ``message`` instead.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of the domain's refusals; subclasses set the HTTP status the API maps them to."""

    status = 400
    code = "invalid_input"
    message = "提交的内容有误"

    def __init__(self, code: str | None = None, message: str | None = None, fields: dict | None = None):
        if code is not None:
            self.code = code
        if message is not None:
            self.message = message
        self.fields = dict(fields or {})
        super().__init__(self.message)


class InvalidInput(DomainError):
    """The submitted data is not acceptable; ``fields`` names each problem (HTTP 400)."""


class NotFound(DomainError):
    """What was named does not exist (HTTP 404)."""

    status, code, message = 404, "not_found", "请求的资源不存在"


class Conflict(DomainError):
    """The thing is not in a state that allows this any more, e.g. already used (HTTP 409)."""

    status, code, message = 409, "conflict", "数据已被修改，请刷新后重试"


class Expired(DomainError):
    """The thing existed but is no longer valid, e.g. a link past its date (HTTP 410)."""

    status, code, message = 410, "expired", "已过期"


class RuleRefused(DomainError):
    """A business rule refused the action (HTTP 422)."""

    status, code, message = 422, "rule_refused", "该操作不符合业务规则"

    def __init__(self, code: str, message: str, fields: dict | None = None):
        super().__init__(code, message, fields)


class NotAllowed(DomainError):
    """The actor may not do this (HTTP 403)."""

    status, code, message = 403, "forbidden", "无权执行此操作"

    def __init__(self, message: str = "无权执行此操作", code: str = "forbidden"):
        super().__init__(code, message)


class StaleVersion(Conflict):
    """The client's copy is out of date (HTTP 409)."""

    code = "stale_version"

    def __init__(self, current: int):
        self.current = current
        super().__init__(message=f"工单已被他人修改（当前版本 {current}），请刷新后重试")


DOMAIN_ERRORS = (InvalidInput, NotFound, Conflict, Expired, RuleRefused, NotAllowed, StaleVersion)
