"""The @job decorator: run a job inside the app context, commit at its boundary, roll back on error."""

from __future__ import annotations

import functools

from flask import current_app, has_app_context

from hotline import create_app
from hotline.extensions import db

_app = None


def _get_app():
    global _app
    if _app is None:
        _app = create_app()
    return _app


def job(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if has_app_context():
            return _run(func, args, kwargs)
        with _get_app().app_context():
            return _run(func, args, kwargs)

    return wrapper


def _run(func, args, kwargs):
    try:
        result = func(*args, **kwargs)
        db.session.commit()
        return result
    except Exception:
        db.session.rollback()
        current_app.logger.exception("job %s failed", func.__name__)
        raise
    finally:
        db.session.remove()
