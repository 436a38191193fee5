"""SMS-free anti-abuse for the citizen form: an arithmetic question whose answer stays on the server.

The form carries only an opaque random id (``PortalChallenge.id``, 32 random bytes); the answer, the issue time
and the expiry are in the database, so nothing on the page or in the form can be decoded into the answer — it
has to be read and worked out like a person does, once per form. Single use: the first attempt, right or wrong,
spends the question (a conditional UPDATE), so guessing needs a new form each time (and the form's rate limits).
The id is also the submission's idempotency key (hotline/web/idempotency.py): a double click or a reload after
success replays the same case. No Redis, no external service, no state in the process.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from hotline.extensions import db
from hotline.models import PortalChallenge

MAX_AGE = timedelta(hours=2)  # a form stays valid this long
PRUNE_AFTER = timedelta(hours=1)  # expired questions are deleted this long after expiry (by later issues)
DIGITS = "零一二三四五六七八九十"
_ID = re.compile(r"[A-Za-z0-9_-]{43}")
_WIDE = str.maketrans("０１２３４５６７８９－", "0123456789-")


class ChallengeError(ValueError):
    """The challenge was not passed; ``message`` is for the citizen (zh-CN)."""

    def __init__(self, message: str, robot: bool = False):
        self.message, self.robot = message, robot
        super().__init__(message)


@dataclass
class Challenge:
    token: str  # the opaque id, the form's hidden ``challenge`` field
    question: str  # 「三 加 五 等于几？」: plain text in the field's <label>, read out by screen readers


@dataclass(frozen=True)
class Verified:
    form_id: str
    fresh: bool  # False: the question was already spent — only an earlier successful submission may be replayed


def issue(now: datetime) -> Challenge:
    """A new question, stored (the caller commits)."""
    a, b = 1 + secrets.randbelow(9), 1 + secrets.randbelow(9)
    plus = secrets.randbelow(2) == 0 or a == b
    if not plus and a < b:
        a, b = b, a
    answer = a + b if plus else a - b
    token = secrets.token_urlsafe(32)
    db.session.add(PortalChallenge(id=token, answer=str(answer), issued_at=now, expires_at=now + MAX_AGE))
    if secrets.randbelow(50) == 0:
        prune(now)
    return Challenge(token, f"{DIGITS[a]} {'加' if plus else '减'} {DIGITS[b]} 等于几？")


def prune(now: datetime) -> int:
    """Delete questions expired more than PRUNE_AFTER ago; returns how many."""
    result = db.session.execute(sa.delete(PortalChallenge).where(PortalChallenge.expires_at < now - PRUNE_AFTER))
    return result.rowcount or 0


def verify(token: str, answer: str, now: datetime) -> Verified:
    """Check the answer to the question ``token`` and spend it; raises ChallengeError."""
    token = token if isinstance(token, str) else ""
    row = db.session.get(PortalChallenge, token) if _ID.fullmatch(token) else None
    if row is None:
        raise ChallengeError("页面验证信息无效，请刷新页面后重新填写", robot=True)
    if (now - row.issued_at).total_seconds() < current_app.config["HOTLINE"].portal_min_fill_seconds:
        raise ChallengeError("提交太快了，请确认填写内容后再提交", robot=True)
    if row.expires_at <= now:
        raise ChallengeError("页面已过期，请重新计算下面的题目后提交")
    correct = (answer or "").strip().translate(_WIDE) == row.answer
    spent = db.session.execute(
        sa.update(PortalChallenge)
        .where(PortalChallenge.id == row.id, PortalChallenge.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not correct:
        raise ChallengeError("计算题答案不正确，请重新计算下面的新题目")
    return Verified(row.id, fresh=spent == 1)
