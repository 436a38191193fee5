"""A fake WeChat API server: a real HTTP server speaking the same HTTP API as api.weixin.qq.com for what the
hotline calls (access token, template message). It records what it received."""

from __future__ import annotations

import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class FakeWeChat:
    def __init__(self, appid: str, secret: str):
        self.appid, self.secret = appid, secret
        self.token = "ACCESS_" + secrets.token_hex(8)
        self.token_requests = 0
        self.templates: list[dict] = []
        self.refuse_next = 0  # answer this many sends with an error (errcode 45009: quota)
        self.sent_keys: dict[tuple, int] = {}  # (touser, client_msg_id) -> msgid: WeChat's dedupe of resends
        self.deduplicated = 0
        self.media: dict[str, tuple[bytes, str]] = {}  # media_id -> (bytes, content type): cgi-bin/media/get
        self.media_requests: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def expire_token(self) -> None:
        self.token = "ACCESS_" + secrets.token_hex(8)

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, body: dict, status: int = 200):
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self):
                url = urlsplit(self.path)
                q = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/cgi-bin/token":
                    fake.token_requests += 1
                    if q.get("appid") != fake.appid or q.get("secret") != fake.secret:
                        return self._answer({"errcode": 40013, "errmsg": "invalid appid"})
                    return self._answer({"access_token": fake.token, "expires_in": 7200})
                if url.path == "/cgi-bin/media/get":  # 获取临时素材: the file itself, or a JSON error
                    if q.get("access_token") != fake.token:
                        return self._answer({"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"})
                    fake.media_requests.append(q.get("media_id", ""))
                    if q.get("media_id") not in fake.media:
                        return self._answer({"errcode": 40007, "errmsg": "invalid media_id"})
                    data, content_type = fake.media[q["media_id"]]
                    self.send_response(200)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Disposition", f'attachment; filename="{q["media_id"]}"')
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return None
                return self._answer({"errcode": 404, "errmsg": "not found"}, 404)

            def do_POST(self):
                url = urlsplit(self.path)
                q = {k: v[0] for k, v in parse_qs(url.query).items()}
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                if url.path == "/cgi-bin/message/template/send":
                    if q.get("access_token") != fake.token:
                        return self._answer({"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"})
                    if fake.refuse_next:
                        fake.refuse_next -= 1
                        return self._answer({"errcode": 45009, "errmsg": "reach max api daily quota limit"})
                    key = (body.get("touser"), body.get("client_msg_id"))
                    if key[1] and key in fake.sent_keys:  # 防重入: one message per openid + client_msg_id
                        fake.deduplicated += 1
                        return self._answer({"errcode": 0, "errmsg": "ok", "msgid": fake.sent_keys[key]})
                    fake.templates.append(body)
                    fake.sent_keys[key] = len(fake.templates)
                    return self._answer({"errcode": 0, "errmsg": "ok", "msgid": len(fake.templates)})
                return self._answer({"errcode": 404, "errmsg": "not found"}, 404)

        return Handler
