"""Staff pages: the case page's evidence panel (files, map pin, before/after pairs, recording), the map of open
cases and its points, and call recordings streamed from the call platform (a real local HTTP server) with every
play audited."""

from __future__ import annotations

import io
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa

from hotline.extensions import db
from hotline.models import AuditLog, Call
from tests.evidence_support import jpeg_with_gps, png
from tests.helpers import new_case
from tests.integration.test_pages import Browser

AUDIO = b"ID3\x03\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 64


def _login(app, username: str):
    browser = Browser(app, username)
    assert browser.login.status_code in (302, 303), browser.login.get_data(as_text=True)[:300]
    return browser


def _upload(api_client, number, data, name, kind="evidence"):
    resp = api_client.post(
        f"/cases/{number}/attachments",
        data={"file": (io.BytesIO(data), name), "kind": kind},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


@pytest.fixture()
def platform():
    """The call platform's recording server: serves AUDIO with Range support, counts requests."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            hits.append(self.headers.get("Range", ""))
            body, status = AUDIO, 200
            if rng := self.headers.get("Range"):
                start = int(rng.split("=")[1].split("-")[0])
                body, status = AUDIO[start:], 206
            self.send_response(status)
            self.send_header("Content-Type", "audio/mpeg")
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", str(len(body)))
            if status == 206:
                self.send_header("Content-Range", f"bytes {len(AUDIO) - len(body)}-{len(AUDIO) - 1}/{len(AUDIO)}")
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/rec/", hits
    server.shutdown()
    server.server_close()


def test_case_page_shows_files_pin_before_after_and_recording(app, api, phone, platform):
    base, _hits = platform
    agent = api("agent1")
    call_id = "CALL-" + uuid.uuid4().hex[:12]
    number = new_case(agent, phone, lat=39.9087, long=116.3975, call_id=call_id)["number"]
    before = _upload(agent, number, jpeg_with_gps(), "before.jpg")
    after = _upload(agent, number, png(color=(0, 0, 255, 255)), "after.png", kind="rectification")
    with app.app_context():
        db.session.add(Call(call_id=call_id, status="ended", recording_url=base + "a.mp3", seen_events=[]))
        db.session.commit()

    html = _login(app, "supervisor1").get(f"/cases/{number}").get_data(as_text=True)
    assert 'id="evidence-panel"' in html and 'id="case-map"' in html and "39.908700" in html
    assert f'alt="整改前：{before["name"]}"' in html and f'alt="整改后：{after["name"]}"' in html
    assert f"/api/v1/cases/{number}/recording" in html and base not in html  # the platform's address stays inside

    dept = _login(app, "handler_zjj")
    assert dept.get(f"/cases/{number}").status_code == 404  # not dispatched to them


def test_recording_is_streamed_and_each_play_audited(app, api, phone, platform):
    base, hits = platform
    agent = api("agent1")
    call_id = "CALL-" + uuid.uuid4().hex[:12]
    number = new_case(agent, phone, call_id=call_id)["number"]
    assert agent.client.get(f"/api/v1/cases/{number}/recording", headers=agent._headers()).status_code == 404
    with app.app_context():
        db.session.add(Call(call_id=call_id, status="ended", recording_url=base + "b.mp3", seen_events=[]))
        db.session.commit()
    supervisor = api("supervisor1")
    full = supervisor.client.get(f"/api/v1/cases/{number}/recording", headers=supervisor._headers())
    assert full.status_code == 200 and full.get_data() == AUDIO and full.mimetype == "audio/mpeg"
    part = supervisor.client.get(
        f"/api/v1/cases/{number}/recording", headers={**supervisor._headers(), "Range": "bytes=100-"}
    )
    assert part.status_code == 206 and part.get_data() == AUDIO[100:] and hits == ["", "bytes=100-"]
    with app.app_context():
        plays = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "recording.play")).all()
        mine = [p for p in plays if call_id in p.detail]
        assert len(mine) == 1  # the seek (Range from 100) is the same play
    dept = api("handler_zjj")
    assert dept.client.get(f"/api/v1/cases/{number}/recording", headers=dept._headers()).status_code == 403


def test_open_cases_map_points(app, api, phone):
    agent = api("agent1")
    number = new_case(agent, phone, lat=31.2304, long=121.4737)["number"]
    client = _login(app, "dispatcher1")
    assert 'data-points-url="/map/points.json"' in client.get("/map").get_data(as_text=True)
    points = client.get("/map/points.json").get_json()["points"]
    assert any(p["url"].endswith(number) and p["lat"] == 31.2304 for p in points)
    assert _login(app, "handler_zjj").get("/map").status_code == 403


def test_supervisor_hears_the_recording_beside_the_poor_rating(app, api, make_case, phone, platform):
    from hotline.models import Case
    from tests.integration.ratings_support import invitation_tokens

    base, _hits = platform
    number = make_case("replied", phone=phone).number
    token = invitation_tokens(api, number)[0]
    rated = app.test_client().post("/api/v1/ratings", json={"token": token, "score": 1, "resolved": False})
    assert rated.status_code == 201, rated.get_json()
    call_id = "CALL-" + uuid.uuid4().hex[:12]
    with app.app_context():
        db.session.execute(sa.update(Case).where(Case.number == number).values(call_id=call_id))
        db.session.add(Call(call_id=call_id, status="ended", recording_url=base + "c.mp3", seen_events=[]))
        db.session.commit()
    html = _login(app, "supervisor1").html("/supervision/ratings?stage=verifying")
    row = html[html.index(number) :]
    row = row[: row.index("</tr>")]
    assert f'src="/api/v1/cases/{number}/recording"' in row and base not in html
