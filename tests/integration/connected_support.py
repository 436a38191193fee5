"""Helpers of the connected tests (issue 21): a real HTTP receiver on 127.0.0.1 that records what it got and
can be taken down (connection refused) or made to answer 503, and the signature check a receiver does."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    """Records every POST (headers, raw body); ``down()`` closes the port, ``up()`` opens it again (same port);
    ``status`` is the answer's code."""

    def __init__(self):
        self.received: list[dict] = []
        self.status = 200
        self.lock = threading.Lock()
        self.port = 0
        self.server = None
        self.up()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def up(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with owner.lock:
                    code = owner.status
                    owner.received.append(
                        {"headers": dict(self.headers), "body": body, "path": self.path, "status": code}
                    )
                self.send_response(code)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def down(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def accepted(self) -> list[dict]:
        """The requests answered 2xx (delivered)."""
        with self.lock:
            return [r for r in self.received if 200 <= r["status"] < 300]

    def bodies(self) -> list[dict]:
        return [json.loads(r["body"]) for r in self.accepted()]


def signed_ok(secret: str, request: dict) -> bool:
    """What a receiver checks: sha256=HEX(HMAC(secret, timestamp + "." + body))."""
    headers = request["headers"]
    mac = hmac.new(secret.encode(), headers["X-Hotline-Timestamp"].encode() + b"." + request["body"], hashlib.sha256)
    return hmac.compare_digest(headers["X-Hotline-Signature"], "sha256=" + mac.hexdigest())


def admin_user(app, make_user):
    """A new admin of the connected tests, with a second factor enrolled (admins must have one to use the API)."""
    from datetime import UTC, datetime

    from hotline.extensions import db
    from hotline.models import User

    user = make_user(role="admin")
    with app.app_context():
        row = db.session.get(User, user.id)
        if hasattr(row, "totp_enabled_at"):
            row.totp_enabled_at = datetime.now(UTC)
        db.session.commit()
    return user.username
