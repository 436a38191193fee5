"""What the staff pages that change a case from a form share: the case page's actions (cases/views.py) and its
time-limit forms (monitor/actions.py). Load the case the user may see; run one action on it — the form's
version checked, committed, its outcome flashed — and go back. A domain refusal (invalid transition, rule,
stale copy) or a concurrent change becomes a flashed message, never a 500, and nothing is stored."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import abort, flash, redirect
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from hotline.auth.permissions import Forbidden, can_view_case
from hotline.cases.errors import NotAllowed, RuleRefused, StaleVersion
from hotline.cases.workflow import InvalidTransition
from hotline.extensions import db
from hotline.models import Case

DOMAIN_ERRORS = (InvalidTransition, RuleRefused, NotAllowed, StaleVersion)


def load_case(number: str) -> Case:
    """The case with this number, 404 when there is none, 403 when the user's unit may not see it."""
    case = db.session.scalar(sa.select(Case).where(Case.number == number)) if len(number) <= 32 else None
    if case is None:
        abort(404)
    if not can_view_case(current_user, case):
        raise Forbidden("您所在单位无权查看该工单")
    return case


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
