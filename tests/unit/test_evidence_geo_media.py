"""Pure parts of evidence: WGS-84 ⇄ GCJ-02, lat/long in a body, types by content, names, EXIF GPS."""

from __future__ import annotations

import io
import zipfile

import pytest

from hotline.cases.errors import InvalidInput
from hotline.evidence import geo, media
from hotline.evidence.service import safe_name
from tests.evidence_support import GPS, jpeg_with_gps, mp4, windows_exe


def test_gcj02_offset_and_round_trip():
    lat, lng = geo.wgs84_to_gcj02(39.9087, 116.3975)  # 天安门: the published GCJ-02 shift is ~ +0.0014, +0.0062
    assert lat - 39.9087 == pytest.approx(0.00139, abs=2e-4) and lng - 116.3975 == pytest.approx(0.00624, abs=2e-4)
    back = geo.gcj02_to_wgs84(lat, lng)
    assert back == pytest.approx((39.9087, 116.3975), abs=1e-7)
    assert geo.wgs84_to_gcj02(48.8584, 2.2945) == (48.8584, 2.2945)  # outside China: unchanged


def test_point_from_body():
    assert geo.point_from({}) is None
    assert geo.point_from({"lat": "31.2304", "long": 121.4737}) == (31.2304, 121.4737)
    wgs = geo.point_from({"lat": 31.2284, "long": 121.4781, "coordinate_system": "GCJ02"})
    assert wgs == pytest.approx((31.2304, 121.4737), abs=3e-4)
    for body in ({"lat": 1}, {"long": 1}, {"lat": True, "long": 1}, {"lat": "nan", "long": 1}, {"lat": 1, "long": 181}):
        with pytest.raises(InvalidInput):
            geo.point_from(body)
    with pytest.raises(InvalidInput):
        geo.point_from({"lat": 1, "long": 1, "coordinate_system": "bd09"})


def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("head", "mime"),
    [
        (jpeg_with_gps()[:8192], "image/jpeg"),
        (b"%PDF-1.7\n" + b"0" * 100, "application/pdf"),
        (_docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        (b"#!AMR\n" + b"\x00" * 64, "audio/amr"),
        (mp4()[:8192], "video/mp4"),
    ],
)
def test_types_by_content(head, mime):
    assert media.sniff(head).mime == mime


@pytest.mark.parametrize(
    ("head", "code"),
    [
        (windows_exe(), "executable_refused"),
        (b"\x7fELF\x02\x01\x01" + b"\x00" * 64, "executable_refused"),
        (b"#!/bin/sh\nrm -rf /\n", "executable_refused"),
        (b"<html><script>alert(1)</script></html>", "unsupported_type"),
        (b"PK\x03\x04" + b"\x00" * 64, "unsupported_type"),  # a bare zip is no document
    ],
)
def test_refused_by_content(head, code):
    with pytest.raises(InvalidInput) as refused:
        media.sniff(head)
    assert refused.value.code == code


def test_names_keep_the_stem_and_take_the_true_extension():
    assert safe_name("../../etc/现场照片.png", "jpg") == "现场照片.jpg"
    assert safe_name("C:\\Users\\a\\IMG_1.HEIC", "jpg") == "IMG_1.jpg"
    assert safe_name("", "pdf") == "附件.pdf"
    assert safe_name('a<b>"c".exe', "pdf") == "abc.pdf"


def test_exif_gps_is_read():
    from PIL import Image

    image = Image.open(io.BytesIO(jpeg_with_gps()))
    assert media.exif_gps(image) == pytest.approx(GPS, abs=1e-4)
    plain = io.BytesIO()
    Image.new("RGB", (8, 8)).save(plain, "JPEG")
    assert media.exif_gps(Image.open(plain)) is None
