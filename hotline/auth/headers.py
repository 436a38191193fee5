"""Security headers on every response: CSP, HSTS (production), nosniff, Referrer-Policy, framing.

Our own ``after_request`` rather than flask-talisman: the app needs a fixed header set plus HSTS in production,
and Talisman would add a dependency (last release 2023) whose defaults fight the app (``force_https`` redirects
and ``session_cookie_secure`` outside production, which the embedded default serves over plain HTTP); the cost per
request was measured the same or lower (docs/operations.md, "Security headers").

The policy has no 'unsafe-inline' and no 'unsafe-eval': every script is a file under /static (templates carry no
inline script or on* handler, tests/unit/test_security_headers.py checks). The only inline styles — the standalone
503 page, which must render without any other request — are allowed by their SHA-256, computed from the templates
at start-up.
"""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import urlsplit

from flask import Flask

from hotline.config import ROOT

STYLE_BLOCK = re.compile(r"<style>(.*?)</style>", re.S)
# Socket.IO's websocket is same-origin: CSP Level 3 'self' matches ws:/wss: of the page's own host
BASE_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data: blob:",  # blob: previews of photos chosen for upload (static/js/evidence_upload.js)
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'self'",
}


def inline_style_hashes(folder=ROOT / "templates") -> list[str]:
    """'sha256-…' of every inline <style> block of the templates (they hold no template expressions)."""
    found = set()
    for path in sorted(folder.rglob("*.html")):
        for block in STYLE_BLOCK.findall(path.read_text(encoding="utf-8")):
            digest = base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()
            found.add(f"'sha256-{digest}'")
    return sorted(found)


def content_security_policy(production: bool, tile_origin: str = "") -> str:
    policy = dict(BASE_POLICY)
    if tile_origin:  # map tiles (HOTLINE_MAP_TILE_URL, static/js/map.js) come from the tile server
        policy["img-src"] += " " + tile_origin
    policy["style-src"] = " ".join(["'self'", *inline_style_hashes()])
    text = "; ".join(f"{name} {value}" for name, value in policy.items())
    return text + ("; upgrade-insecure-requests" if production else "")


def _tile_origin(url: str) -> str:
    parts = urlsplit(url.replace("{s}", "*").split("{", 1)[0]) if url else None
    return f"{parts.scheme}://{parts.netloc}" if parts and parts.scheme in ("http", "https") and parts.netloc else ""


def security_headers(settings) -> dict[str, str]:
    headers = {
        "Content-Security-Policy": content_security_policy(settings.production, _tile_origin(settings.map_tile_url)),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "SAMEORIGIN",  # frame-ancestors for browsers without CSP 2
        "Referrer-Policy": "same-origin",  # links in pages carry case numbers: never sent to another site
        "Cross-Origin-Opener-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(self), payment=(), usb=()",
    }
    if settings.production and settings.hsts_seconds > 0:
        headers["Strict-Transport-Security"] = f"max-age={settings.hsts_seconds}; includeSubDomains"
    return headers


def init_app(app: Flask) -> None:
    headers = security_headers(app.config["HOTLINE"])  # computed once: the same for every response

    @app.after_request
    def _security_headers(response):
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response
