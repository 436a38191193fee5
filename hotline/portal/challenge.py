"""SMS-free anti-abuse for the citizen form: a signed arithmetic question with a signed issue time and a form id.
The form id is the submission's idempotency key (hotline/web/idempotency.py, in the database): a double click or
a reload after success shows the same case instead of making a second one. No external service, no state in the
process.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

MAX_AGE = 2 * 3600  # seconds a form stays valid
DIGITS = "零一二三四五六七八九十"


class ChallengeError(ValueError):
    """The challenge was not passed; ``message`` is for the citizen (zh-CN)."""

    def __init__(self, message: str, robot: bool = False):
        self.message, self.robot = message, robot
        super().__init__(message)


@dataclass
class Challenge:
    token: str
    question: str


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="portal-challenge")


def issue(now: datetime) -> Challenge:
    a, b = 1 + secrets.randbelow(9), 1 + secrets.randbelow(9)
    plus = secrets.randbelow(2) == 0 or a == b
    if not plus and a < b:
        a, b = b, a
    token = _serializer().dumps({"a": a, "b": b, "p": plus, "n": secrets.token_urlsafe(12), "t": int(now.timestamp())})
    return Challenge(token, f"{DIGITS[a]} {'加' if plus else '减'} {DIGITS[b]} 等于几？")


def verify(token: str, answer: str, now: datetime) -> str:
    """The form id of a passed challenge; raises ChallengeError."""
    try:
        data = _serializer().loads(token or "")
        a, b, plus, form_id, issued = int(data["a"]), int(data["b"]), bool(data["p"]), str(data["n"]), int(data["t"])
    except (BadSignature, KeyError, TypeError, ValueError):
        raise ChallengeError("页面验证信息无效，请刷新页面后重新填写", robot=True) from None
    age = now.timestamp() - issued
    if age < current_app.config["HOTLINE"].portal_min_fill_seconds:
        raise ChallengeError("提交太快了，请确认填写内容后再提交", robot=True)
    if age > MAX_AGE:
        raise ChallengeError("页面已过期，请重新计算下面的题目后提交")
    expected = a + b if plus else a - b
    if (answer or "").strip() != str(expected):
        raise ChallengeError("计算题答案不正确，请重新计算")
    return form_id
