"""Accounts in a real browser (issue 16): every page works under the Content-Security-Policy with no violation in
headless Chromium, and a copied session cookie stops opening the Socket.IO console once its owner logged out."""

from __future__ import annotations

import re

import requests
import socketio

from tests import counts
from tests.e2e.browser import ARTIFACTS, browser  # noqa: F401 — fixture

PASSWORD = "hotline12345"
# recorded by the page itself (an init script runs before the page's own and is not subject to its CSP)
WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI + " " + (e.sourceFile || "") + ":" + e.lineNumber);
});
"""
STAFF_PAGES = {
    "agent1": ["/console", "/cases", "/account/password", "/api/docs"],  # /api/docs: Swagger UI
    "dispatcher1": ["/dispatch", "/cases"],
    "monitor1": ["/monitor"],
    "supervisor1": ["/supervision/ratings", "/cases"],
    "handler_zjj": ["/dept/", "/dept/kb/", "/dept/rectifications"],
    "admin": ["/admin/routing/rules"],
}
CITIZEN_PAGES = ["/portal/", "/portal/submit", "/portal/status", "/login"]
# Note for page tests: under this CSP Playwright's wait_for_function must get a function ("() => …"); a bare
# expression string is eval'ed by Playwright at each poll, which the page's script-src refuses (not a page fault).


class Watched:
    """A browser context whose pages report CSP violations, console errors and script errors."""

    def __init__(self, browser):  # noqa: F811
        self.context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
        self.context.add_init_script(WATCH)
        self.problems: list[str] = []
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.problems.append(f"pageerror: {exc}"))

    def _console(self, msg):
        text = msg.text
        if "Content Security Policy" in text or "Content-Security-Policy" in text:
            self.problems.append(f"console: {text}")

    def visit(self, url: str) -> None:
        resp = self.page.goto(url)
        assert resp is not None and resp.status < 400, (url, resp and resp.status)
        self.page.wait_for_load_state("networkidle")
        self.problems += [f"{url}: {v}" for v in self.page.evaluate("window.__csp || []")]

    def login(self, base: str, username: str) -> None:
        self.page.goto(base + "/login")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_load_state("networkidle")
        assert "/login" not in self.page.url, f"{username} could not log in"


def test_every_page_runs_under_the_csp_without_violations(stack, browser):  # noqa: F811
    headers = requests.get(stack.url + "/login", timeout=10).headers
    assert "'unsafe-inline'" not in headers["Content-Security-Policy"].split("script-src", 1)[1].split(";")[0]
    visited, problems = 0, []
    for username, paths in STAFF_PAGES.items():
        watched = Watched(browser)
        watched.login(stack.url, username)
        for path in paths:
            watched.visit(stack.url + path)
            visited += 1
        if username == "agent1":  # scripts ran: the socket connected (same-origin ws under connect-src 'self')
            watched.page.goto(stack.url + "/console")
            watched.page.wait_for_selector("#live-status[data-state=up]", timeout=15000)
            watched.page.screenshot(path=str(ARTIFACTS / "csp-console.png"))
        problems += watched.problems
        watched.context.close()
    citizen = Watched(browser)
    for path in CITIZEN_PAGES:
        citizen.visit(stack.url + path)
        visited += 1
    citizen.visit(stack.url + "/portal/submit")
    citizen.page.click("#a11y-toggle")  # the large-font switch: static/js/portal.js flips it in place
    citizen.page.wait_for_function("() => document.documentElement.className.indexOf('large') >= 0", timeout=5000)
    citizen.problems += [f"a11y: {v}" for v in citizen.page.evaluate("window.__csp || []")]
    problems += citizen.problems
    # the watch works and the policy is enforced: an injected inline script is blocked and reported
    citizen.page.evaluate(
        "var s = document.createElement('script'); s.textContent = 'window.__ran = 1';document.body.appendChild(s)"
    )
    citizen.page.wait_for_function("() => window.__csp.length > 0", timeout=5000)
    assert citizen.page.evaluate("window.__ran") is None
    citizen.context.close()
    counts.report(f"csp in chromium: {visited} page loads, {len(problems)} violations or script errors")
    assert not problems, problems


def _session(url: str, username: str) -> tuple[requests.Session, str]:
    client = requests.Session()
    html = client.get(url + "/login", timeout=10).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    resp = client.post(
        url + "/login",
        data={"csrf_token": token, "username": username, "password": PASSWORD},
        timeout=10,
        allow_redirects=False,
    )
    assert resp.status_code == 302, resp.text[:300]
    return client, client.cookies.get("session")


def _socket_connects(url: str, cookie: str) -> bool:
    client = socketio.Client(reconnection=False)
    try:
        client.connect(
            url, namespaces=["/console"], headers={"Cookie": f"session={cookie}", "Origin": url}, wait_timeout=10
        )
    except socketio.exceptions.ConnectionError:
        return False
    connected = client.connected and "/console" in client.namespaces
    client.disconnect()
    return connected


def test_logout_ends_a_copied_cookie_on_the_socket_too(stack):
    owner, cookie = _session(stack.url, "agent3")
    assert _socket_connects(stack.url, cookie)  # the copy works ...
    html = owner.get(stack.url + "/console", timeout=10).text
    token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
    out = owner.post(stack.url + "/logout", data={"csrf_token": token}, timeout=10, allow_redirects=False)
    assert out.status_code == 302
    assert not _socket_connects(stack.url, cookie)  # ... until its owner logs out
    page = requests.get(stack.url + "/console", cookies={"session": cookie}, timeout=10, allow_redirects=False)
    assert page.status_code == 302 and "/login" in page.headers["Location"]


def test_new_supervisor_changes_the_one_time_password_enrols_totp_and_logs_in_with_a_code(stack, browser):  # noqa: F811
    """Issue 17 in Chromium: an account made by an admin (API), its one-time password, the forced change, the forced
    TOTP enrolment from the server-made QR page, the recovery codes, and a later login with the second step."""
    import time

    import pyotp

    admin_token = stack.token("admin")
    username = "e2e_sup_" + str(int(time.time()))
    made = requests.post(
        stack.url + "/api/v1/users",
        json={"username": username, "name": "两步验证测试", "role": "supervisor"},
        headers={"Authorization": f"Bearer {admin_token}"},
        timeout=10,
    )
    assert made.status_code == 201, made.text
    otp, new_password = made.json()["one_time_password"], "Orchid-Lantern-4417"

    watched = Watched(browser)
    page = watched.page
    page.goto(stack.url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", otp)
    page.click("button[type=submit]")
    page.wait_for_url("**/account/password")
    assert page.is_visible("#forced-change")
    page.fill("input[name=current]", otp)
    page.fill("input[name=new]", new_password)
    page.fill("input[name=confirm]", new_password)
    page.click("form[action='/account/password'] button[type=submit]")
    page.wait_for_url("**/account/totp")  # the supervisor's role requires a second factor before anything else
    page.wait_for_function("() => document.getElementById('totp-qr').naturalWidth > 0", timeout=5000)
    page.screenshot(path=str(ARTIFACTS / "totp-enrol.png"))
    secret = page.inner_text("#totp-secret").strip()
    page.fill("input[name=code]", pyotp.TOTP(secret).now())
    page.click("#totp-confirm")
    page.wait_for_selector("#recovery-codes li")
    assert page.locator("#recovery-codes li").count() == 10
    page.click("#totp-done")
    page.wait_for_load_state("networkidle")
    assert "/account/" not in page.url and "/login" not in page.url, page.url
    page.click("button.btn-logout")
    page.wait_for_url("**/login")

    time.sleep(30 - time.time() % 30 + 0.5)  # the enrolment spent this step's code: each code works once
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", new_password)
    page.click("button[type=submit]")
    page.wait_for_url("**/login/totp")
    page.fill("input[name=code]", pyotp.TOTP(secret).now())
    page.click("form[action='/login/totp'] button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "/login" not in page.url and "/account/" not in page.url, page.url
    watched.visit(stack.url + "/supervision/ratings")
    problems = watched.problems
    watched.context.close()
    counts.report(f"totp in chromium: enrolment + code login, {len(problems)} CSP violations or script errors")
    assert not problems, problems
