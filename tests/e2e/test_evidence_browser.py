"""Evidence in headless Chromium against the app served over real HTTP (tests/helpers.py http_server): the
portal's photo upload at a phone-sized viewport with progress and resizing on the phone, before/after pictures
on the supervisor's 差评 workbench and the case page, and the map with the case's pin (no tile server: points
only)."""

from __future__ import annotations

import io
import os
import re
import uuid

import pytest
import sqlalchemy as sa
from PIL import Image

from hotline.extensions import db
from hotline.models import Attachment, Case
from hotline.seed.city import DEMO_PASSWORD
from tests.e2e.browser import ARTIFACTS, browser, login  # noqa: F401 — fixture
from tests.evidence_support import jpeg_with_gps, png
from tests.helpers import http_server, run_jobs
from tests.integration.ratings_support import invitation_tokens

PHONE = {"width": 390, "height": 844}
DIGITS = "零一二三四五六七八九十"


@pytest.fixture()
def served(app, monkeypatch):
    settings = app.config["HOTLINE"]
    monkeypatch.setattr(settings, "portal_min_fill_seconds", 0)
    monkeypatch.setattr(settings, "portal_rate_limit_ip", "1000 per minute")
    monkeypatch.setattr(settings, "portal_rate_limit_phone", "1000 per minute")
    with http_server(app) as url:
        yield url


def _noisy_photo(path, size=(3000, 2250)):
    """A phone-sized photo that does not compress away (random pixels): a few MB."""
    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(path, "JPEG", quality=92)
    return path


def test_portal_photos_on_a_phone_with_progress_and_resize(app, browser, served, tmp_path):  # noqa: F811
    context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    page = context.new_page()
    phone = "136" + f"{uuid.uuid4().int % 10**8:08d}"
    photos = [str(_noisy_photo(tmp_path / f"IMG_{i}.jpg")) for i in range(3)]
    assert all(os.path.getsize(p) > 2_000_000 for p in photos)
    page.goto(served + "/portal/submit")
    assert page.get_attribute("#ev-camera", "capture") == "environment"  # the phone's camera opens directly
    page.fill("#phone", phone)
    page.click("label.p-pill:has-text('投诉')")
    page.fill("#content", "人行道上的井盖破损，有行人差点踩空，附现场照片。")
    page.set_input_files("#ev-files", photos)
    page.wait_for_function("() => document.querySelectorAll('#ev-previews img').length === 3")
    a, op, b = re.search(r"(\S) (加|减) (\S) 等于几", page.inner_text("#request-form")).groups()
    page.fill("#answer", str(DIGITS.index(a) + DIGITS.index(b) if op == "加" else DIGITS.index(a) - DIGITS.index(b)))
    page.screenshot(path=str(ARTIFACTS / "evidence-portal-photos.png"), full_page=True)
    page.click("#request-form button[type=submit]")
    page.wait_for_function(
        "() => document.getElementById('ev-upload') === null || "
        "Number(document.getElementById('ev-upload').dataset.progress || 0) > 0",
        timeout=30000,
    )
    page.wait_for_selector("#case-number", timeout=30000)
    number = page.inner_text("#case-number").strip()
    with app.app_context():
        case_id = db.session.scalar(sa.select(Case.id).where(Case.number == number))
        files = db.session.scalars(sa.select(Attachment).where(Attachment.case_id == case_id)).all()
        assert len(files) == 3 and {f.source for f in files} == {"portal"}
        assert all(max(f.width, f.height) <= 1920 for f in files)  # resized on the phone before the upload
        assert all(f.size < 2_000_000 for f in files)


def _poor_case(app, api, make_case, phone) -> str:
    number = make_case("replied", phone=phone).number
    token = invitation_tokens(api, number)[0]
    resp = app.test_client().post("/api/v1/ratings", json={"token": token, "score": 1, "resolved": False})
    assert resp.status_code == 201, resp.get_json()
    return number


def _upload(client, number, data, name, kind):
    resp = client.post(
        f"/cases/{number}/attachments",
        data={"file": (io.BytesIO(data), name), "kind": kind},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 201, resp.get_json()


def test_before_after_on_the_supervisors_workbench_and_the_map_pin(app, api, browser, served, make_case, phone):  # noqa: F811
    number = _poor_case(app, api, make_case, phone)
    _upload(api("agent1"), number, jpeg_with_gps(color=(180, 40, 40)), "整改前.jpg", "evidence")
    _upload(api("handler_zjj"), number, png(size=(200, 150), color=(40, 160, 40, 255)), "整改后.png", "rectification")
    run_jobs(app)  # thumbnails
    with app.app_context():
        db.session.execute(
            sa.update(Case).where(Case.number == number).values(lat=39.9087, lng=116.3975, location_source="api")
        )
        db.session.commit()

    page = login(browser, served, "supervisor1", DEMO_PASSWORD)
    page.goto(served + "/supervision/ratings?stage=verifying")
    row = page.locator(f"tr:has(a:has-text('{number}'))")
    before, after = row.locator("img[alt^='整改前']"), row.locator("img[alt^='整改后']")
    before.wait_for()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.ev-pairs img')].every(i => i.complete && i.naturalWidth > 0)"
    )
    assert before.bounding_box()["x"] < after.bounding_box()["x"]  # side by side
    page.screenshot(path=str(ARTIFACTS / "evidence-workbench-before-after.png"), full_page=True)

    page.goto(served + f"/cases/{number}")
    page.wait_for_selector("#before-after img[alt^='整改后']")
    page.wait_for_function("() => document.getElementById('case-map').dataset.pointsShown === '1'")
    assert page.locator("#case-map .leaflet-interactive").count() == 1  # the pin, drawn without any tiles
    assert "仅显示位置点" in page.inner_text("#case-map-note")
    page.screenshot(path=str(ARTIFACTS / "evidence-case-map.png"), full_page=True)


def test_department_uploads_rectification_proof_on_the_case_page(app, browser, served, make_case):  # noqa: F811
    """The case page's upload (drop zone / file picker): the session and its CSRF token on the API, progress, the
    list refreshed, the thumbnail swapped in once the media job ran."""
    number = make_case("handling", unit="ZJJ").number
    page = login(browser, served, "handler_zjj", DEMO_PASSWORD)
    page.goto(served + f"/cases/{number}")
    page.select_option("#evidence-kind", "rectification")
    photo = png(size=(400, 300), color=(10, 120, 200, 255))
    page.set_input_files("#evidence-file", files=[{"name": "整改后.png", "mimeType": "image/png", "buffer": photo}])
    page.wait_for_function("() => document.getElementById('evidence-panel').dataset.uploaded === '1'")
    assert "已上传" in page.inner_text("#evidence-status")
    page.wait_for_selector("#evidence-list li[data-id]")  # the page reloaded with the file
    assert "整改材料" in page.inner_text("#evidence-list")
    run_jobs(app)
    page.wait_for_function("() => document.querySelector('#evidence-list li[data-id]').dataset.thumb === 'done'")
    page.screenshot(path=str(ARTIFACTS / "evidence-case-upload.png"), full_page=True)
