"""Redirect targets that cannot leave the site."""

from __future__ import annotations

from urllib.parse import urlsplit


def safe_next(target: str | None) -> str | None:
    """A local path to go back to; anything that could leave the site ("//x", "/\\x", a scheme) is refused."""
    if not target or not target.startswith("/") or "\\" in target or not target.isprintable() or " " in target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None
