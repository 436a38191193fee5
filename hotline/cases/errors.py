"""Domain errors raised by case operations; the API turns them into JSON errors."""

from __future__ import annotations


class RuleRefused(Exception):
    """A business rule refused the action (HTTP 422)."""

    def __init__(self, code: str, message: str):
        self.code, self.message = code, message
        super().__init__(message)


class NotAllowed(Exception):
    """The actor may not do this (HTTP 403)."""

    def __init__(self, message: str = "无权执行此操作", code: str = "forbidden"):
        self.code, self.message = code, message
        super().__init__(message)


class StaleVersion(Exception):
    """The client's copy is out of date (HTTP 409)."""

    def __init__(self, current: int):
        self.current = current
        self.message = f"工单已被他人修改（当前版本 {current}），请刷新后重试"
        super().__init__(self.message)
