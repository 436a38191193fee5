"""The console's "answer and close" (直接办结) from the registration form: checked before the case is created,
so a bad answer stores nothing."""

from __future__ import annotations

from hotline.extensions import db
from hotline.models import KbEntry
from hotline.web.validation import Str


class AnswerError(ValueError):
    pass


def parse_answer(form) -> tuple[KbEntry | None, str]:
    """(cited entry or None, answer text) from the form's kb_id / kb_answer fields."""
    text, problem = Str("答复内容", required=True, max_len=5000, min_len=2).check(form.get("kb_answer", ""))
    if problem:
        raise AnswerError(problem)
    raw = (form.get("kb_id") or "").strip()
    if not raw:
        return None, text
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        raise AnswerError("引用的知识条目编号无效")
    entry = db.session.get(KbEntry, int(raw))
    if entry is None or entry.status != "published":
        raise AnswerError("引用的知识条目不存在或已下线，请重新选择")
    return entry, text
