"""Fetching a citizen's media from a URL (Open311 ``media_url``) in the ``media`` worker, SSRF-safe: http(s) only,
every address the name resolves to must be public (no loopback, private, link-local, multicast or reserved
ranges — the cloud metadata address 169.254.169.254 included), redirects followed by hand (at most 3, each hop
checked), a size limit while streaming and the type decided by content (hotline/evidence/media.py)."""

from __future__ import annotations

import ipaddress
import logging
import socket
from datetime import datetime
from urllib.parse import urljoin, urlparse

import requests
from flask import current_app

from hotline.cases.errors import DomainError, InvalidInput
from hotline.evidence.service import add_file
from hotline.extensions import db
from hotline.models import Case

log = logging.getLogger(__name__)
SCHEMES = ("http", "https")
MAX_REDIRECTS = 3


class FetchRefused(InvalidInput):
    code = "media_url_refused"


def _trusted(host: str, port: int) -> bool:
    raw = current_app.config["HOTLINE"].media_fetch_trusted
    return f"{host}:{port}" in {item.strip() for item in raw.split(",") if item.strip()}


def check_url(url: str) -> None:
    """FetchRefused unless ``url`` is http(s) to a host whose every address is public (or explicitly trusted)."""
    parsed = urlparse(url)
    if parsed.scheme not in SCHEMES or not parsed.hostname:
        raise FetchRefused("media_url_refused", "只能获取 http(s) 链接", {"media_url": "协议不允许"})
    if parsed.username or parsed.password:
        raise FetchRefused("media_url_refused", "链接不能包含用户名或密码", {"media_url": "链接不允许"})
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    if _trusted(parsed.hostname, port):
        return
    try:
        infos = socket.getaddrinfo(parsed.hostname, port, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise FetchRefused("media_url_refused", "链接的主机名无法解析", {"media_url": "主机不存在"}) from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if not address.is_global or address.is_multicast:
            raise FetchRefused(
                "media_url_refused", "不允许访问内网、本机或保留地址", {"media_url": f"地址 {address} 不允许"}
            )


class _Body:
    """``read()`` over a streamed response, for media.spool()."""

    def __init__(self, response: requests.Response):
        self.chunks = response.iter_content(64 * 1024)

    def read(self, n: int = -1) -> bytes:
        return next(self.chunks, b"")


def open_url(url: str) -> requests.Response:
    """GET ``url`` after the checks above, following at most 3 redirects, each checked again."""
    timeout = current_app.config["HOTLINE"].media_fetch_timeout
    for _ in range(MAX_REDIRECTS + 1):
        check_url(url)
        response = requests.get(url, stream=True, timeout=timeout, allow_redirects=False)
        if response.is_redirect and response.headers.get("Location"):
            url = urljoin(url, response.headers["Location"])
            response.close()
            continue
        if response.status_code != 200:
            response.close()
            raise FetchRefused("media_url_failed", f"获取失败：HTTP {response.status_code}", {})
        return response
    raise FetchRefused("media_url_refused", "跳转次数过多", {"media_url": "跳转过多"})


def fetch_into_case(case_id: int, url: str, source: str, now: datetime) -> str:
    """The job body: the file at ``url`` as evidence of the case; returns "added", "duplicate" or the refusal code
    (a refused URL is logged, never retried)."""
    case = db.session.get(Case, case_id)
    if case is None:
        return "missing"
    try:
        with open_url(url) as response:
            added = add_file(
                case,
                _Body(response),
                url.rsplit("/", 1)[-1][:100],
                source=source,
                now=now,
                actor_label="市民（Open311）",
            )
    except DomainError as exc:
        log.warning("media of case %s not fetched from %s: %s", case.number, url[:200], exc.message)
        return exc.code
    except requests.RequestException as exc:
        log.warning("media of case %s not fetched from %s: %s", case.number, url[:200], exc)
        return "media_url_failed"
    return "added" if added.created else "duplicate"
