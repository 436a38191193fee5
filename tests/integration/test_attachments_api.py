"""Attachments through /api/v1: type by content, EXIF stripped, the photo's GPS as location only with consent,
one copy per case, limits, thumbnails by the media job, department isolation and confidential reporters."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from PIL import Image

from tests.evidence_support import GPS, heic, jpeg_with_gps, mp4, png, windows_exe
from tests.helpers import new_case, run_jobs


def upload(client, number, data: bytes, name="photo.jpg", **form):
    return client.post(
        f"/cases/{number}/attachments",
        data={"file": (io.BytesIO(data), name), **form},
        content_type="multipart/form-data",
    )


def read(client, url: str):
    return client.client.get(url, headers=client._headers())


def test_photo_comes_back_without_exif_and_its_gps_is_the_location_only_with_consent(api, phone):
    agent = api("agent1")
    number = new_case(agent, phone)["number"]
    original = jpeg_with_gps()
    assert b"Exif" in original and Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)

    resp = upload(agent, number, original, "现场.jpg")
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["content_type"] == "image/jpeg" and body["name"] == "现场.jpg"
    assert body["thumbnail_status"] == "pending" and body["thumbnail_url"] is None
    assert agent.get(f"/cases/{number}").get_json()["location"] is None  # no consent: GPS not used

    stored = read(agent, body["url"])
    assert stored.status_code == 200 and stored.mimetype == "image/jpeg"
    data = stored.get_data()
    assert b"Exif" not in data and b"TestPhone" not in data and b"camera-firmware" not in data
    picture = Image.open(io.BytesIO(data))
    assert not picture.getexif() and picture.size == (640, 480)
    import hashlib

    assert hashlib.sha256(data).hexdigest() == body["checksum"] and len(data) == body["size"]

    other = jpeg_with_gps(color=(10, 200, 10))
    resp = upload(agent, number, other, "second.jpg", use_photo_location="1")
    assert resp.status_code == 201
    location = agent.get(f"/cases/{number}").get_json()["location"]
    assert location["source"] == "photo"
    assert location["lat"] == pytest.approx(GPS[0], abs=1e-4) and location["long"] == pytest.approx(GPS[1], abs=1e-4)


def test_renamed_executable_and_unknown_types_are_refused_by_content(api, phone):
    agent = api("agent1")
    number = new_case(agent, phone)["number"]
    resp = upload(agent, number, windows_exe(), "holiday-photo.jpg")
    assert resp.status_code == 400
    assert resp.get_json()["error"]["code"] == "executable_refused"
    assert "可执行程序" in resp.get_json()["error"]["message"]
    resp = upload(agent, number, "就是一段文字，不是图片".encode() * 20, "scan.pdf")
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "unsupported_type"
    resp = agent.post(f"/cases/{number}/attachments", data={"kind": "evidence"}, content_type="multipart/form-data")
    assert resp.status_code == 400 and "缺少文件" in resp.get_json()["error"]["message"]
    resp = upload(agent, number, png(), "a.png", kind="selfie")
    assert resp.status_code == 400 and resp.get_json()["error"]["fields"]["kind"]
    assert agent.get(f"/cases/{number}/attachments").get_json()["items"] == []


def test_heic_from_a_phone_becomes_jpeg(api, phone):
    agent = api("agent1")
    number = new_case(agent, phone)["number"]
    body = upload(agent, number, heic(), "IMG_0042.HEIC").get_json()
    assert body["content_type"] == "image/jpeg" and body["name"] == "IMG_0042.jpg"
    data = read(agent, body["url"]).get_data()
    assert data[:3] == b"\xff\xd8\xff" and Image.open(io.BytesIO(data)).size == (64, 48)


def test_same_file_is_stored_once_per_case(api, phone):
    agent = api("agent1")
    number = new_case(agent, phone)["number"]
    first = upload(agent, number, png(), "a.png")
    again = upload(agent, number, png(), "renamed.png")
    assert first.status_code == 201 and again.status_code == 200
    assert again.get_json()["duplicate"] is True and again.get_json()["id"] == first.get_json()["id"]
    items = agent.get(f"/cases/{number}/attachments").get_json()["items"]
    assert [i["id"] for i in items] == [first.get_json()["id"]]
    assert items[0]["content_type"] == "image/png"  # PNG stays PNG (transparency)


def test_limits_per_file_and_per_case_answer_in_chinese(app, api, phone):
    agent = api("agent1")
    number = new_case(agent, phone)["number"]
    settings = app.config["HOTLINE"]
    saved = (settings.attachment_max_mb, settings.attachment_video_max_mb, settings.attachment_case_max_files)
    try:
        settings.attachment_max_mb, settings.attachment_video_max_mb = 1, 2
        resp = upload(agent, number, mp4(3 * 1024 * 1024), "big.mp4")
        assert resp.status_code == 413 and "MB" in resp.get_json()["error"]["message"]
        resp = upload(agent, number, b"%PDF-1.4\n" + b"0" * (1024 * 1024 + 10), "big.pdf")
        assert resp.status_code == 413 and "文档不能超过 1 MB" in resp.get_json()["error"]["message"]
        assert upload(agent, number, mp4(1536 * 1024), "ok.mp4").status_code == 201  # video: its own limit
        settings.attachment_case_max_files = 1
        resp = upload(agent, number, png(), "one-too-many.png")
        assert resp.status_code == 400 and "最多 1 个附件" in resp.get_json()["error"]["message"]
    finally:
        settings.attachment_max_mb, settings.attachment_video_max_mb, settings.attachment_case_max_files = saved


def test_thumbnail_is_made_by_the_media_job(app, api, phone):
    agent = api("agent1")
    number = new_case(agent, phone)["number"]
    body = upload(agent, number, jpeg_with_gps(size=(1600, 1200))).get_json()
    assert body["thumbnail_status"] == "pending"
    assert read(agent, f"/api/v1/attachments/{body['id']}/thumbnail").status_code == 400
    run_jobs(app)
    item = agent.get(f"/cases/{number}/attachments").get_json()["items"][0]
    assert item["thumbnail_status"] == "done"
    thumb = read(agent, item["thumbnail_url"])
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    assert max(Image.open(io.BytesIO(thumb.get_data())).size) == 320


def test_another_department_gets_404_and_confidential_reporters_files_wait_for_sharing(app, api, make_case):
    from hotline.evidence.service import add_file
    from hotline.extensions import db
    from hotline.models import Case

    case = make_case("handling", unit="ZJJ", confidential=True)
    number = case.number
    staff = upload(api("agent1"), number, png(color=(1, 2, 3, 255)), "staff.png").get_json()
    with app.app_context():
        row = db.session.get(Case, case.id)
        citizen = add_file(row, io.BytesIO(jpeg_with_gps()), "mine.jpg", source="portal", now=datetime.now(UTC))
        db.session.commit()
        citizen_id = citizen.attachment.id

    own, other = api("handler_zjj"), api("handler_shj")
    assert read(own, staff["url"]).status_code == 200
    assert read(other, staff["url"]).status_code == 404
    assert other.get(f"/cases/{number}/attachments").status_code == 404
    assert upload(other, number, png(), "x.png").status_code == 404

    assert read(own, f"/api/v1/attachments/{citizen_id}").status_code == 404  # the reporter is confidential
    assert [i["id"] for i in own.get(f"/cases/{number}/attachments").get_json()["items"]] == [staff["id"]]
    assert [i["id"] for i in own.get(f"/cases/{number}").get_json()["attachments"]] == [staff["id"]]
    assert read(api("agent1"), f"/api/v1/attachments/{citizen_id}").status_code == 200  # the centre sees it

    assert own.post(f"/attachments/{citizen_id}/share").status_code == 403  # departments cannot share
    shared = api("dispatcher1").post(f"/attachments/{citizen_id}/share")
    assert shared.status_code == 200 and shared.get_json()["shared"] is True
    assert read(own, f"/api/v1/attachments/{citizen_id}").status_code == 200
    assert read(other, f"/api/v1/attachments/{citizen_id}").status_code == 404


def test_create_case_with_lat_long_returns_location(api, phone):
    agent = api("agent1")
    created = new_case(agent, phone, lat=31.2304, long=121.4737)
    assert created["location"] == {"lat": 31.2304, "long": 121.4737, "source": "api"}
    assert created["attachments"] == []
    assert agent.get(f"/cases/{created['number']}").get_json()["location"]["lat"] == 31.2304
    gcj = new_case(agent, phone, lat=31.2284, long=121.4781, coordinate_system="gcj02")
    assert gcj["location"]["long"] == pytest.approx(121.4737, abs=2e-4)  # GCJ-02 → WGS-84
    assert new_case(agent, phone)["location"] is None
    for bad in ({"lat": 31.2}, {"lat": 91, "long": 1}, {"lat": "北纬", "long": 1}):
        body = {"channel": "phone", "kind": "consult", "content": "测试坐标", "citizen_phone": phone, **bad}
        resp = agent.post("/cases", json=body)
        assert resp.status_code == 400 and "纬度" in resp.get_json()["error"]["message"]


def test_video_is_served_in_byte_ranges_for_seeking(api, phone):
    agent = api("agent1")
    number = new_case(agent, phone)["number"]
    clip = mp4(200_000)
    body = upload(agent, number, clip, "clip.mp4").get_json()
    whole = read(agent, body["url"])
    assert whole.status_code == 200 and whole.get_data() == clip and whole.headers["Accept-Ranges"] == "bytes"
    part = agent.client.get(body["url"], headers={**agent._headers(), "Range": "bytes=100000-100009"})
    assert part.status_code == 206 and part.get_data() == clip[100000:100010]
    assert part.headers["Content-Range"] == "bytes 100000-100009/200000"
    tail = agent.client.get(body["url"], headers={**agent._headers(), "Range": "bytes=-5"})
    assert tail.status_code == 206 and tail.get_data() == clip[-5:]
    beyond = agent.client.get(body["url"], headers={**agent._headers(), "Range": "bytes=999999-"})
    assert beyond.status_code == 200 and len(beyond.get_data()) == len(clip)  # unsatisfiable: the whole file
