"""One HTTP attempt of one webhook delivery, the SSRF guard, and the retry schedule.

Headers: ``Content-Type: application/json; charset=utf-8``, ``X-Hotline-Event``, ``X-Hotline-Delivery`` (the
delivery id: the same on every retry and redelivery, receivers dedupe by it), ``X-Hotline-Timestamp`` (Unix
seconds of this attempt), ``X-Hotline-Signature: sha256=HEX(HMAC-SHA256(secret, timestamp + "." + body))``.
A 2xx answer is delivered; anything else (or no answer within HOTLINE_WEBHOOK_TIMEOUT) is retried with
exponential back-off (30 s doubling, at most 1 h between tries) for 24 h from the event, then the delivery
fails and the subscription is flagged.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import requests

from hotline.webhooks.signing import signature

RETRY_FOR = timedelta(hours=24)
BACKOFF_BASE, BACKOFF_MAX = 30.0, 3600.0
_SESSION = requests.Session()  # connection reuse to the same receivers (thread-safe for plain requests)


class UnsafeUrl(ValueError):
    """The URL's host is (or resolves to) an address this server must not call (loopback, private, link-local)."""


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(BACKOFF_BASE * 2 ** max(attempts - 1, 0), BACKOFF_MAX))


def check_url(url: str, allow_private: bool) -> None:
    """Refuse what is not http(s) with a host, and (unless ``allow_private``) hosts that resolve to loopback,
    private, link-local, multicast or reserved addresses — a webhook must not reach into the server's network."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeUrl("地址必须以 http:// 或 https:// 开头并包含主机名")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except (OSError, UnicodeError):
        raise UnsafeUrl(f"无法解析主机名 {parts.hostname}") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global or address.is_multicast:
            raise UnsafeUrl(f"地址 {parts.hostname} 指向内网或保留地址（{address}），不允许作为推送地址")


@dataclass
class Prepared:
    """What one attempt sends: built in the claim transaction, sent with no transaction open."""

    outbox_id: int
    token: str
    subscription_id: int | None
    delivery: str
    event: str
    url: str
    secret: str
    body: bytes


@dataclass
class Outcome:
    status_code: int | None
    error: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def encode(body: dict) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def headers_for(item: Prepared, timestamp: str) -> dict:
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "hotline-webhooks/1",
        "X-Hotline-Event": item.event,
        "X-Hotline-Delivery": item.delivery,
        "X-Hotline-Timestamp": timestamp,
        "X-Hotline-Signature": signature(item.secret, timestamp, item.body),
    }


def attempt(item: Prepared, timeout: float, allow_private: bool) -> Outcome:
    started = time.monotonic()
    try:
        check_url(item.url, allow_private)  # again at sending time: a name may resolve elsewhere now
        timestamp = str(int(time.time()))
        answer = _SESSION.post(
            item.url, data=item.body, headers=headers_for(item, timestamp), timeout=timeout, allow_redirects=False
        )
        code, error = answer.status_code, "" if 200 <= answer.status_code < 300 else f"HTTP {answer.status_code}"
    except UnsafeUrl as exc:
        code, error = None, str(exc)
    except requests.RequestException as exc:
        code, error = None, f"{type(exc).__name__}: {exc}"[:300]
    return Outcome(code, error[:300], int((time.monotonic() - started) * 1000))


def expired(created_at: datetime, now: datetime) -> bool:
    return now - created_at >= RETRY_FOR
