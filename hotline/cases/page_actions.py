"""What the staff pages that change a case from a form share: the case page's actions (cases/views.py) and its
time-limit forms (sla/pages.py). The case is loaded with auth.permissions.access_case; run one action on it — the form's
version checked, committed, its outcome flashed — and go back. A domain refusal (invalid transition, rule,
stale copy) or a concurrent change becomes a flashed message, never a 500, and nothing is stored."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from flask import flash, redirect
from sqlalchemy.orm.exc import StaleDataError

from hotline.cases.errors import NotAllowed, RuleRefused, StaleVersion
from hotline.cases.workflow import InvalidTransition
from hotline.extensions import db

DOMAIN_ERRORS = (InvalidTransition, RuleRefused, NotAllowed, StaleVersion)


def commit_action(
    row,
    version: str | None,
    run: Callable[[datetime], str],
    back: str,
    *,
    errors: tuple = DOMAIN_ERRORS,
    stale: str = "工单已被他人同时修改，请刷新后重试",
):
    """``run(now)`` on ``row`` (a case, a rectification …: anything with a ``version``) when the form's
    ``version`` (if any) is still the row's, then commit; flash the message it returns, or the refusal
    (``errors`` carry a zh-CN ``message``), and redirect to ``back``. Every staff form action ends here."""
    try:
        if version and version != str(row.version):
            raise StaleVersion(row.version)
        message = run(datetime.now(UTC))
        db.session.commit()
    except errors as err:
        db.session.rollback()
        flash(err.message, "error")
        return redirect(back)
    except StaleDataError:
        db.session.rollback()
        flash(stale, "error")
        return redirect(back)
    flash(message, "success")
    return redirect(back)
