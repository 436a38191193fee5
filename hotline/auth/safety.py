"""Redirect targets that cannot leave the site."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit, urlunsplit

MAX_TARGET = 2000
DECODE_ROUNDS = 3  # "%2F%2Fevil.com", "%252F%252Fevil.com", … in case a proxy or a later redirect decodes it


def _unsafe_path(text: str) -> bool:
    """Whether the path part of ``text`` could take a browser to another site: "//x", "/\\x", "///x", "/..//x"
    (resolves to "//x"), backslashes (read as "/"), control characters and spaces (dropped by browsers)."""
    path = text.split("?", 1)[0].split("#", 1)[0]
    if not path.startswith("/") or "\\" in path or "//" in path:
        return True
    return not path.isprintable() or any(ch.isspace() for ch in path)


def safe_next(target: str | None) -> str | None:
    """A local path to go back to ("/cases?page=2"), or None for anything that could leave the site.

    The path is checked as given and after each round of percent-decoding; the answer is rebuilt from the path,
    query and fragment only, so no scheme or host can come along ("http:evil.com", "javascript:…" are refused)."""
    if not isinstance(target, str) or not target or len(target) > MAX_TARGET:
        return None
    if not target.isprintable() or any(ch.isspace() for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    text = target
    for _ in range(DECODE_ROUNDS + 1):
        if _unsafe_path(text):
            return None
        decoded = unquote(text)
        if decoded == text:
            break
        text = decoded
    else:
        return None  # still encoded after every round: nobody sends that by accident
    return urlunsplit(("", "", parts.path, parts.query, parts.fragment))
