"""HOTLINE_PROXY_FIX (issue 16): X-Forwarded-For and -Proto are believed only when trusted proxies are configured,
so behind a proxy each client keeps its own limit, and nobody can pick an address without one."""

from __future__ import annotations

import random

import pytest

from tests.unit.accounts_support import csrf_of, login_events, new_staff, other_app


def _addresses(n: int) -> list[str]:
    base = random.randint(1, 250)
    return [f"198.18.{base}.{i + 1}" for i in range(n)]


def _login_posts(app, username: str, forwarded: list[str], limit: str) -> list[int]:
    """One wrong login per forwarded address, all from the proxy's own address 10.0.0.5."""
    settings = app.config["HOTLINE"]
    saved = settings.login_rate_limit
    settings.login_rate_limit = limit
    try:
        client = app.test_client()
        token = csrf_of(client)
        codes = []
        for address in forwarded:
            resp = client.post(
                "/login",
                data={"username": username, "password": "wrong", "csrf_token": token},
                headers={
                    "X-Forwarded-For": address,
                    "X-Forwarded-Proto": "https",
                    "Referer": "https://localhost/login",
                },
                environ_base={"REMOTE_ADDR": "10.0.0.5"},
            )
            codes.append(resp.status_code)
        return codes
    finally:
        settings.login_rate_limit = saved


SEEN: dict = {}


@pytest.fixture(scope="module")
def behind_proxy(app):
    from flask import request

    with other_app(app, proxy_fix=1) as other:

        def scheme():
            SEEN["scheme"], SEEN["remote_addr"] = request.scheme, request.remote_addr
            return "ok"

        scheme._public = True
        other.add_url_rule("/_test/scheme", "test_scheme", scheme)  # before its first request
        yield other


def test_without_proxy_fix_forwarded_for_is_ignored(app):
    assert app.config["HOTLINE"].proxy_fix == 0
    username = new_staff(app)
    forwarded = _addresses(4)
    codes = _login_posts(app, username, forwarded, "3 per minute")
    assert codes == [200, 200, 200, 429]  # one client as far as the limit knows: the proxy's address
    assert {e["ip"] for e in login_events(app, username)} == {"10.0.0.5"}


def test_with_proxy_fix_each_client_has_its_own_address_and_limit(behind_proxy):
    username = new_staff(behind_proxy)
    forwarded = _addresses(4)
    assert _login_posts(behind_proxy, username, forwarded, "2 per minute") == [200] * 4  # four clients
    assert [e["ip"] for e in login_events(behind_proxy, username)] == forwarded
    same = _addresses(1) * 3
    assert _login_posts(behind_proxy, username, same, "2 per minute") == [200, 200, 429]  # one client's limit


def test_proxy_fix_believes_only_the_last_hop(behind_proxy):
    """With one trusted proxy, a client-supplied X-Forwarded-For entry before the proxy's own is not believed."""
    username = new_staff(behind_proxy)
    client = behind_proxy.test_client()
    token = csrf_of(client)
    client.post(
        "/login",
        data={"username": username, "password": "wrong", "csrf_token": token},
        headers={"X-Forwarded-For": "1.2.3.4, 198.51.100.23"},
        environ_base={"REMOTE_ADDR": "10.0.0.5"},
    )
    assert login_events(behind_proxy, username)[-1]["ip"] == "198.51.100.23"


def test_proxy_fix_takes_the_scheme_from_the_proxy(behind_proxy):
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.99"}
    assert behind_proxy.test_client().get("/_test/scheme", headers=headers).status_code == 200
    assert SEEN == {"scheme": "https", "remote_addr": "198.51.100.99"}
