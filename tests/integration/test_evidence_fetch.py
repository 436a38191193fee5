"""Open311 media_url fetched by the media worker: from a real local HTTP server (trusted by setting, as a city's
own media host would be), type by content and size limits; private, loopback, link-local and non-http(s) URLs
refused, also behind a redirect; lat/long stored and returned."""

from __future__ import annotations

import io
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa
from PIL import Image

from hotline.extensions import db
from hotline.models import Attachment, Case, Category
from tests.evidence_support import jpeg_with_gps, windows_exe
from tests.helpers import run_jobs


@pytest.fixture()
def media_host(app, monkeypatch):
    files = {"/photo.jpg": jpeg_with_gps(), "/setup.jpg": windows_exe(), "/to-private": None}
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            hits.append(self.path)
            if self.path == "/to-private":
                self.send_response(302)
                self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
                self.end_headers()
                return
            body = files.get(self.path)
            if body is None:
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")  # declared; the app trusts the content only
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host = f"127.0.0.1:{server.server_address[1]}"
    monkeypatch.setattr(app.config["HOTLINE"], "media_fetch_trusted", host)
    monkeypatch.setattr(app.config["HOTLINE"], "open311_rate_limit", "100000 per minute", raising=False)
    yield f"http://{host}", hits
    server.shutdown()
    server.server_close()


def _post(app, tokens, **fields):
    with app.app_context():
        code = str(db.session.scalar(sa.select(Category.id).where(Category.level == 2).order_by(Category.path)))
    data = {
        "api_key": tokens["agent1"],
        "service_code": code,
        "description": "人民路88号门口井盖松动，车辆经过响声很大。",
        "phone": "139" + f"{uuid.uuid4().int % 10**8:08d}",
        **fields,
    }
    resp = app.test_client().post("/open311/v2/requests.json", data=data)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()[0]["service_request_id"]


def _files(app, number):
    with app.app_context():
        case_id = db.session.scalar(sa.select(Case.id).where(Case.number == number))
        return list(db.session.scalars(sa.select(Attachment).where(Attachment.case_id == case_id)))


def test_open311_media_url_is_fetched_and_lat_long_returned(app, api, tokens, media_host):
    base, hits = media_host
    number = _post(app, tokens, media_url=f"{base}/photo.jpg", lat="39.9087", long="116.3975")
    run_jobs(app)
    (kept,) = _files(app, number)
    assert kept.source == "open311" and kept.content_type == "image/jpeg" and hits == ["/photo.jpg"]
    case = api("agent1").get(f"/cases/{number}").get_json()
    assert case["location"] == {"lat": 39.9087, "long": 116.3975, "source": "open311"}
    assert case["attachments"][0]["id"] == kept.id
    [public] = app.test_client().get(f"/open311/v2/requests/{number}.json").get_json()
    # the public feed rounds coordinates (redaction, hotline/open311/redaction.py)
    assert public["lat"] == pytest.approx(39.9087, abs=1e-3) and public["long"] == pytest.approx(116.3975, abs=1e-3)
    # the feed's media_url: the case's public thumbnail (320 px, no metadata), served without login while public
    assert public["media_url"].endswith(f"/public/media/{kept.id}.jpg") and base not in public["media_url"]
    anonymous = app.test_client()
    picture = anonymous.get(public["media_url"].split("127.0.0.1:5000", 1)[-1])
    assert picture.status_code == 200 and picture.mimetype == "image/jpeg"
    assert max(Image.open(io.BytesIO(picture.get_data())).size) <= 320 and b"Exif" not in picture.get_data()
    withdrawn = api("supervisor1").post(f"/cases/{number}/publication", json={"public": False, "note": "含个人信息"})
    assert withdrawn.status_code == 200, withdrawn.get_json()
    assert anonymous.get(f"/public/media/{kept.id}.jpg").status_code == 404


def test_executable_behind_a_jpg_url_is_refused(app, tokens, media_host):
    base, _ = media_host
    number = _post(app, tokens, media_url=f"{base}/setup.jpg", address_string="人民路88号")
    run_jobs(app)
    assert _files(app, number) == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x.jpg",  # loopback (not the trusted host:port)
        "http://localhost/x.jpg",
        "http://10.0.0.8/x.jpg",
        "http://192.168.1.20/x.jpg",
        "http://172.16.5.4/x.jpg",
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        "http://[::1]/x.jpg",
        "http://[::ffff:10.0.0.1]/x.jpg",
        "http://0.0.0.0/x.jpg",
        "ftp://example.org/x.jpg",
        "file:///etc/passwd",
        "http://user:pw@example.org/x.jpg",
    ],
)
def test_private_and_odd_urls_are_refused_before_any_connection(app, url):
    from hotline.evidence.fetch import FetchRefused, check_url

    with app.test_request_context(), pytest.raises(FetchRefused) as refused:
        check_url(url)
    assert refused.value.code == "media_url_refused" and refused.value.message


def test_redirect_to_a_private_address_is_refused(app, tokens, media_host):
    from hotline.evidence.fetch import FetchRefused, open_url

    base, hits = media_host
    with app.test_request_context(), pytest.raises(FetchRefused) as refused:
        open_url(f"{base}/to-private")
    assert "内网" in refused.value.message and hits == ["/to-private"]
    number = _post(app, tokens, media_url=f"{base}/to-private", address_string="人民路88号")
    run_jobs(app)
    assert _files(app, number) == []
