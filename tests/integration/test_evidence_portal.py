"""The citizen portal with photos / one video and a pin: a citizen's JPEG with EXIF GPS reaches staff without
EXIF, and its GPS becomes the location only when the citizen agreed; refusals keep the form with a reason."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from PIL import Image

from tests.evidence_support import GPS, jpeg_with_gps, mp4, windows_exe
from tests.integration.portal_support import fill, submit


@pytest.fixture(autouse=True)
def quick(app, monkeypatch):
    """No minimum fill time and generous limits (as tests/integration/test_portal.py)."""
    settings = app.config["HOTLINE"]
    monkeypatch.setattr(settings, "portal_min_fill_seconds", 0)
    monkeypatch.setattr(settings, "portal_rate_limit_ip", "1000 per minute")
    monkeypatch.setattr(settings, "portal_rate_limit_phone", "1000 per minute")


def _number(app, phone_tail: str) -> str:
    from hotline.extensions import db
    from hotline.models import Case

    with app.app_context():
        return db.session.scalar(sa.select(Case.number).order_by(Case.id.desc()).limit(1))


def _files(*items):
    return [(io.BytesIO(data), name) for data, name in items]


@pytest.mark.parametrize("consent", [True, False])
def test_citizen_photo_reaches_staff_without_exif_and_gps_only_with_consent(app, api, phone, consent):
    client = app.test_client()
    data = fill(client, phone, "小区门口路灯坏了一个月，晚上很黑，请尽快维修。", ip="10.9.0.1")
    data["evidence"] = _files((jpeg_with_gps(), "IMG_0001.jpg"), (jpeg_with_gps(color=(1, 1, 250)), "IMG_0002.jpg"))
    if consent:
        data["use_photo_location"] = "1"
    resp = submit(client, data, ip="10.9.0.1", content_type="multipart/form-data")
    assert resp.status_code == 303, resp.get_data(as_text=True)[:500]
    number = _number(app, phone)
    case = api("agent1").get(f"/cases/{number}").get_json()
    assert len(case["attachments"]) == 2 and {a["source"] for a in case["attachments"]} == {"portal"}
    body = api("agent1").client.get(case["attachments"][0]["url"], headers=api("agent1")._headers()).get_data()
    assert b"Exif" not in body and not Image.open(io.BytesIO(body)).getexif()
    if consent:
        assert case["location"]["source"] == "photo"
        assert case["location"]["lat"] == pytest.approx(GPS[0], abs=1e-4)
    else:
        assert case["location"] is None
    assert any(e["action"] == "attachment" and "市民" in e["actor_label"] for e in case["events"])


def test_portal_pin_and_a_video(app, api, phone):
    client = app.test_client()
    data = fill(client, phone, "河道里有人倾倒建筑垃圾，附视频。", ip="10.9.0.2", lat="39.91", long="116.40")
    data["evidence"] = _files((mp4(), "clip.mp4"))
    resp = submit(client, data, ip="10.9.0.2", content_type="multipart/form-data")
    assert resp.status_code == 303
    case = api("agent1").get(f"/cases/{_number(app, phone)}").get_json()
    assert case["location"] == {"lat": 39.91, "long": 116.4, "source": "portal"}
    assert [a["content_type"] for a in case["attachments"]] == ["video/mp4"]


@pytest.mark.parametrize(
    ("files", "reason"),
    [
        ([(windows_exe(), "photo.jpg")], "可执行程序"),
        ([(mp4(), "a.mp4"), (mp4(5000), "b.mp4")], "一段视频"),
        ([(jpeg_with_gps(color=(i, 0, 0)), f"{i}.jpg") for i in range(7)], "最多上传 6 张"),
    ],
)
def test_refused_files_keep_the_form_with_the_reason(app, phone, files, reason):
    from hotline.extensions import db
    from hotline.models import Case

    with app.app_context():
        before = db.session.scalar(sa.select(sa.func.count(Case.id)))
    client = app.test_client()
    data = fill(client, phone, "测试被拒绝的附件不会生成工单。", ip="10.9.0.3")
    data["evidence"] = _files(*files)
    resp = submit(client, data, ip="10.9.0.3", content_type="multipart/form-data")
    assert resp.status_code == 400 and reason in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Case.id))) == before


def test_status_page_shows_before_after_only_where_the_unit_allows(app, api, make_case, phone, monkeypatch):
    import re

    from tests.integration.portal_support import csrf_of

    case = make_case("replied", unit="ZJJ", phone=phone)
    for data, name, kind, who in (
        (jpeg_with_gps(color=(200, 0, 0)), "before.jpg", "evidence", "agent1"),
        (jpeg_with_gps(color=(0, 200, 0)), "after.jpg", "rectification", "handler_zjj"),
    ):
        resp = api(who).post(
            f"/cases/{case.number}/attachments",
            data={"file": (io.BytesIO(data), name), "kind": kind},
            content_type="multipart/form-data",
        )
        assert resp.status_code == 201, resp.get_json()

    def status_page() -> str:
        client = app.test_client()
        form = {"csrf_token": csrf_of(client, "/portal/status"), "number": case.number, "phone": phone}
        resp = client.post("/portal/status", data=form)
        assert resp.status_code == 200
        return resp.get_data(as_text=True)

    monkeypatch.setattr(app.config["HOTLINE"], "status_photos_units", "")
    assert "整改前后对比" not in status_page()
    monkeypatch.setattr(app.config["HOTLINE"], "status_photos_units", "ZJJ")
    html = status_page()
    assert "整改前后对比" in html
    links = re.findall(r'<img src="(/portal/evidence/[^"]+)" alt="整改(前|后)照片"', html)
    assert [side for _, side in links] == ["前", "后"]
    anonymous = app.test_client()
    picture = anonymous.get(links[1][0])
    assert picture.status_code == 200 and picture.mimetype == "image/jpeg" and b"Exif" not in picture.get_data()
    assert anonymous.get(links[1][0][:-3] + "xyz").status_code == 404  # a forged link
