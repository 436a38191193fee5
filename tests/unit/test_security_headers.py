"""Security headers (issue 16): CSP without inline script, HSTS in production, nosniff, Referrer-Policy, framing —
asserted against a production-mode app; and the templates and scripts the CSP relies on."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import pytest

from tests.unit.accounts_support import new_staff, post_login, production_app

ROOT = Path(__file__).resolve().parents[2]
HTTPS = "https://localhost"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
HANDLER_ATTR = re.compile(r"<[^>]*\son[a-z]+\s*=", re.I)
JS_URL = re.compile(r"""(?:href|src|action)\s*=\s*["']?\s*javascript:""", re.I)


@pytest.fixture(scope="module")
def prod(app):
    with production_app(app) as other:
        yield other


def directives(csp: str) -> dict[str, list[str]]:
    out = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


PAGES = ["/login", "/portal/", "/portal/submit", "/portal/status", "/healthz", "/open311/v2/services.json"]


@pytest.mark.parametrize("path", PAGES)
def test_production_headers(prod, path):
    resp = prod.test_client().get(path, base_url=HTTPS)
    assert resp.status_code < 400, (path, resp.status_code)
    csp = directives(resp.headers["Content-Security-Policy"])
    assert csp["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval', no other host
    assert "'unsafe-inline'" not in csp["style-src"] and "'unsafe-eval'" not in str(csp)
    assert csp["default-src"] == ["'self'"] and csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'self'"] and csp["form-action"] == ["'self'"]
    assert "upgrade-insecure-requests" in csp
    hsts = resp.headers["Strict-Transport-Security"]
    assert int(re.search(r"max-age=(\d+)", hsts).group(1)) >= 180 * 86400
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] in ("same-origin", "strict-origin-when-cross-origin", "no-referrer")
    assert resp.headers["X-Frame-Options"] == "SAMEORIGIN"


def test_production_headers_on_staff_pages(prod):
    client = prod.test_client()
    post_login(client, new_staff(prod), base_url=HTTPS)
    for path in ("/console", "/cases"):
        resp = client.get(path, base_url=HTTPS)
        assert resp.status_code == 200
        assert "Strict-Transport-Security" in resp.headers and "Content-Security-Policy" in resp.headers


def test_development_has_csp_but_no_hsts(app):
    """Plain HTTP in the embedded default: HSTS would pin a browser to an HTTPS the host does not serve."""
    resp = app.test_client().get("/login")
    assert "Strict-Transport-Security" not in resp.headers
    assert directives(resp.headers["Content-Security-Policy"])["script-src"] == ["'self'"]
    assert "upgrade-insecure-requests" not in resp.headers["Content-Security-Policy"]


def _templates() -> list[Path]:
    return sorted((ROOT / "templates").rglob("*.html"))


def test_templates_have_no_inline_script_or_handlers():
    found = []
    for path in _templates():
        text = path.read_text(encoding="utf-8")
        for pattern in (INLINE_SCRIPT, HANDLER_ATTR, JS_URL):
            found += [f"{path.relative_to(ROOT)}: {m.group(0)[:60]}" for m in pattern.finditer(text)]
        found += [f"{path.relative_to(ROOT)}: style attribute" for _ in re.finditer(r"\sstyle\s*=", text)]
    assert not found, found


def test_scripts_do_not_need_eval_or_inline_styles():
    found = []
    for path in sorted((ROOT / "static" / "js").glob("*.js")):
        text = path.read_text(encoding="utf-8")
        for pattern in (
            r"\beval\s*\(",
            r"new\s+Function\s*\(",
            r"setTimeout\(\s*['\"]",
            r"setAttribute\(\s*['\"]style",
        ):
            found += [f"{path.name}: {pattern}" for _ in re.finditer(pattern, text)]
        found += [f"{path.name}: on* attribute in HTML" for _ in HANDLER_ATTR.finditer(text)]
    assert not found, found


def test_rendered_pages_have_no_inline_script(app):
    """The pages as each kind of user gets them (macros included), not only the template sources."""
    client = app.test_client()
    post_login(client, new_staff(app, role="monitor"))  # a supervisor would be sent to TOTP enrolment first
    handler = app.test_client()
    post_login(handler, new_staff(app, role="department_handler", unit="ZJJ"))
    pages = [(client, p) for p in ("/console", "/cases", "/monitor", "/dispatch", "/account/password")]
    pages += [(handler, p) for p in ("/dept/", "/dept/kb/")]
    pages += [(app.test_client(), p) for p in ("/login", "/portal/", "/portal/submit", "/portal/status")]
    checked = 0
    for who, path in pages:
        resp = who.get(path)
        if resp.status_code != 200:
            continue
        html = resp.get_data(as_text=True)
        assert not INLINE_SCRIPT.search(html) and not HANDLER_ATTR.search(html), path
        assert not re.search(r"\sstyle\s*=", html), path
        checked += 1
    assert checked >= 9


def test_the_503_page_inline_style_is_allowed_by_its_hash(app):
    from flask import render_template

    with app.test_request_context("/"):
        html = render_template("unavailable.html", message="数据库暂时不可用")
    blocks = re.findall(r"<style>(.*?)</style>", html, re.S)
    assert blocks
    csp = directives(app.test_client().get("/login").headers["Content-Security-Policy"])
    for block in blocks:
        digest = base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp["style-src"]
