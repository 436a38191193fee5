"""Open redirect (issue 16): no ``next`` value sends a browser off the site from /login or /portal/a11y."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from tests import counts
from tests.unit.accounts_support import EVIL, new_staff, post_login

# what attackers send: browsers read every one of these as another host (or a script) when used as a Location
PAYLOADS = [
    f"//{EVIL}",
    f"///{EVIL}",
    f"////{EVIL}",
    f"/////{EVIL}/x",
    f"/\\{EVIL}",
    f"\\\\{EVIL}",
    f"/\\/{EVIL}",
    f"%2F%2F{EVIL}",
    f"/%2F{EVIL}",
    f"/%2F%2F{EVIL}",
    f"%252F%252F{EVIL}",
    f"/%5C{EVIL}",
    f"/%5c%5c{EVIL}",
    f"http:{EVIL}",
    f"http:/{EVIL}",
    f"http://{EVIL}",
    f"https://{EVIL}/console",
    f"HTTPS://{EVIL}",
    f"//{EVIL}@localhost",
    f"/\t/{EVIL}",
    f"/%09/{EVIL}",
    f"/%0a/{EVIL}",
    f" //{EVIL}",
    f"/..//{EVIL}",
    f"/./..//{EVIL}",
    f"/.%2F%2F{EVIL}",
    "javascript:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    f"\u3002//{EVIL}",
    f"/\u3000/{EVIL}",
]
GOOD = ["/cases?page=2", "/console", "/portal/status?x=1#top", "/cases?q=%E5%B0%8F%20x"]


def browser_target(location: str, origin: str = "http://localhost") -> str | None:
    """Where a browser goes for ``location`` (conservatively, after the WHATWG URL parser's clean-up): the host for
    an absolute or scheme-relative URL, None for a path on the same site."""
    text = re.sub(r"[\t\n\r]", "", location).strip("\x00\x20" + "".join(map(chr, range(0x20))))
    text = text.replace("\\", "/")
    if re.match(r"^[A-Za-z][A-Za-z0-9+.\-]*:", text):
        scheme = text.split(":", 1)[0].lower()
        if scheme not in ("http", "https"):
            return scheme + ":"  # javascript:, data: … never ours
        rest = text.split(":", 1)[1].lstrip("/")
        host = urlsplit("//" + rest).hostname
        return None if host == urlsplit(origin).hostname else host
    if text.startswith("//"):
        return urlsplit("//" + text.lstrip("/")).hostname or "?"
    # a relative path: the browser keeps the page's host, but a path with "//" after dot-segments must not follow
    return None


def off_site(location: str | None) -> bool:
    return location is not None and browser_target(location) is not None


def test_the_checker_sees_what_browsers_see():
    assert off_site(f"////{EVIL}") and off_site(f"/\\{EVIL}") and off_site(f"http:{EVIL}") and off_site("javascript:x")
    assert not off_site("/cases?page=2") and not off_site("http://localhost/console")


@pytest.mark.parametrize("target", PAYLOADS)
def test_safe_next_refuses(target):
    from hotline.auth.safety import safe_next

    assert safe_next(target) is None


@pytest.mark.parametrize("target", GOOD)
def test_safe_next_keeps_local_paths(target):
    from hotline.auth.safety import safe_next

    assert safe_next(target) == target


def test_a11y_toggle_never_redirects_off_site(app):
    client = app.test_client()
    bad = []
    for target in PAYLOADS:
        resp = client.get("/portal/a11y", query_string={"next": target})
        assert resp.status_code == 303, (target, resp.status_code)
        if off_site(resp.headers.get("Location")) or EVIL in resp.headers.get("Location", ""):
            bad.append((target, resp.headers["Location"]))
    assert not bad, bad
    assert client.get("/portal/a11y", query_string={"next": "/portal/status"}).headers["Location"] == "/portal/status"
    counts.report(f"open redirect /portal/a11y: {len(PAYLOADS)} payloads, off-site Location = {len(bad)}")


def test_login_never_redirects_off_site(app):
    username = new_staff(app)
    bad = []
    for target in PAYLOADS:
        client = app.test_client()
        resp = post_login(client, username, next_=target)
        assert resp.status_code == 302, (target, resp.status_code)
        location = resp.headers["Location"]
        if off_site(location) or EVIL in location:
            bad.append((target, location))
        else:
            assert location == "/console", (target, location)  # refused: the user's home page
    assert not bad, bad
    resp = post_login(app.test_client(), username, next_="/cases?page=2")
    assert resp.headers["Location"] == "/cases?page=2"
    counts.report(f"open redirect /login: {len(PAYLOADS)} payloads, off-site Location = {len(bad)}")


def test_login_form_keeps_next_escaped(app):
    html = (
        app.test_client().get("/login", query_string={"next": '/x"><script>alert(1)</script>'}).get_data(as_text=True)
    )
    assert "<script>alert(1)" not in html
