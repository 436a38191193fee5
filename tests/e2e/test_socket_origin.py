"""Socket.IO checks the browser's Origin (issue 16): a real web process over real HTTP, a python-socketio client
carrying a staff session cookie — as a page of another site would make the browser send it — is refused when its
``Origin`` is not the app's own; the app's own origin is accepted. ``HOTLINE_SOCKET_ORIGINS`` replaces the default.
Both transports (long-polling, WebSocket) are tried: the check is python-engineio's, on every request."""

from __future__ import annotations

import queue
import re

import pytest
import requests
import socketio

from hotline.config import Settings
from tests import counts
from tests.e2e.conftest import LiveStack
from tests.helpers import free_port

EVIL = "http://evil.example"
PUBLIC = "https://12345.example.gov.cn"


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    live = LiveStack(tmp_path_factory.mktemp("socket-origin"))
    live.env["HOTLINE_CONSOLE_HEARTBEAT_SECONDS"] = "1"  # a heartbeat proves the socket is live and authenticated
    live.flask("db", "upgrade")
    live.flask("seed", "--demo")
    try:
        live.start_web("web", live.port)
        live.env["HOTLINE_SOCKET_ORIGINS"] = f"{PUBLIC}, https://hotline.example.gov.cn/"
        configured = live.start_web("web-configured", free_port())
        yield live, configured
    finally:
        live.stop()


def session_cookie(url: str, username: str = "agent1") -> str:
    """Log in through the login form, as a browser does; returns the session cookie's value."""
    browser = requests.Session()
    html = browser.get(url + "/login", timeout=10).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    resp = browser.post(
        url + "/login",
        data={"csrf_token": token, "username": username, "password": "hotline12345"},
        timeout=10,
        allow_redirects=False,
    )
    assert resp.status_code in (302, 303), resp.text[:500]
    return browser.cookies.get("session")


def connect(url: str, cookie: str | None, origin: str | None, transport: str) -> tuple[bool, str]:
    """(connected and received a heartbeat, error text) for a /console connection with that cookie and Origin."""
    options = {"origin": origin} if origin else {"suppress_origin": True}
    client = socketio.Client(reconnection=False, websocket_extra_options=options)
    beats: queue.Queue = queue.Queue()
    client.on("console.heartbeat", lambda data: beats.put(data), namespace="/console")
    headers = {"Cookie": f"session={cookie}"} if cookie else {}
    if origin and transport == "polling":
        headers["Origin"] = origin
    try:
        client.connect(url, namespaces=["/console"], headers=headers, transports=[transport], wait_timeout=10)
    except socketio.exceptions.ConnectionError as exc:
        return False, str(exc)
    try:
        beat = beats.get(timeout=5)
        return "cursor" in beat, ""
    except queue.Empty:
        return False, "no heartbeat"
    finally:
        client.disconnect()


@pytest.mark.parametrize("transport", ["polling", "websocket"])
def test_a_session_cookie_from_another_origin_is_refused(web, transport):
    live, _ = web
    cookie = session_cookie(live.url)
    refused, error = connect(live.url, cookie, EVIL, transport)
    assert not refused, "a page on evil.example connected with the agent's session cookie"
    assert error != "no heartbeat"  # refused at the connection, not merely quiet
    if transport == "polling":  # python-engineio answers the handshake 400 and logs the origin (once)
        assert "400" in error and f"{EVIL} is not an accepted origin" in live.log("web")
    own, error = connect(live.url, cookie, live.url, transport)
    assert own, f"the app's own origin was refused: {error}"
    counts.report(f"socket origin ({transport}): {EVIL} with a session cookie refused, own origin accepted")


def test_the_cookie_is_what_authenticates_and_non_browser_clients_still_connect(web):
    live, _ = web
    anonymous, error = connect(live.url, None, live.url, "polling")
    assert not anonymous and "namespaces failed to connect" in error  # the handshake passed, the namespace refused
    token = live.token("agent1")  # an API client sends no Origin: not a browser, not subject to the check
    client = socketio.Client(reconnection=False)
    client.connect(live.url, namespaces=["/console"], auth={"token": token}, transports=["polling"], wait_timeout=10)
    assert client.connected
    client.disconnect()


def test_configured_origins_replace_the_default(web):
    _, configured = web
    cookie = session_cookie(configured)
    assert connect(configured, cookie, PUBLIC, "polling")[0]
    assert connect(configured, cookie, "https://hotline.example.gov.cn", "websocket")[0]
    assert not connect(configured, cookie, EVIL, "polling")[0]
    assert not connect(configured, cookie, configured, "polling")[0]  # only what the setting lists


def test_the_setting_is_parsed_into_python_engineio_terms(tmp_path):
    def origins(value: str):
        return Settings.from_env(
            {"HOTLINE_INSTANCE": str(tmp_path), "HOTLINE_SOCKET_ORIGINS": value}
        ).socket_cors_origins

    assert origins("") is None  # python-engineio: the request's own scheme://Host only
    assert origins(f" {PUBLIC}/ ,http://a.example") == [PUBLIC, "http://a.example"]
    assert origins("*") == "*"
