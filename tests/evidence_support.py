"""Test files for evidence tests: real pictures made with Pillow (with EXIF GPS), an executable header, videos."""

from __future__ import annotations

import io

from PIL import Image

GPS = (39.9087, 116.3975)  # 天安门 (WGS-84)


def _dms(value: float) -> tuple[float, float, float]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round(((value - degrees) * 60 - minutes) * 60, 4)
    return (float(degrees), float(minutes), seconds)


def jpeg_with_gps(size=(640, 480), color=(200, 30, 30), gps=GPS) -> bytes:
    image = Image.new("RGB", size, color)
    exif = Image.Exif()
    exif[0x010F] = "TestPhone"  # Make
    exif[0x0131] = "camera-firmware-1.0"  # Software
    gps_ifd = exif.get_ifd(0x8825)
    gps_ifd.update({1: "N", 2: _dms(gps[0]), 3: "E", 4: _dms(gps[1])})
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif, quality=90)
    return buffer.getvalue()


def png(size=(100, 80), color=(0, 128, 0, 255)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def windows_exe() -> bytes:
    """The first bytes of a PE executable (DOS stub), padded."""
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00" + b"\x00" * 512


def mp4(size: int = 4096) -> bytes:
    """An ISO base media file header (ftyp isom) followed by padding: detected as video/mp4 by content."""
    head = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41"
    return head + b"\x00" * (size - len(head))


def heic(size=(64, 48), color=(9, 9, 200)) -> bytes:
    """An HEIC picture as iPhones take them (pillow-heif's encoder)."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "HEIF")
    return buffer.getvalue()
