"""What a file is (by its bytes, never its name) and what the app does to it: images re-encoded without metadata
(EXIF, XMP, ICC comments), HEIC turned into JPEG, GPS read for the case's location, thumbnails."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import filetype

from hotline.cases.errors import DomainError, InvalidInput

# Accepted types by content: mime → (stored extension, group). Anything else is refused, executables by name.
ACCEPTED = {
    "image/jpeg": ("jpg", "image"),
    "image/png": ("png", "image"),
    "image/heic": ("heic", "image"),
    "image/webp": ("webp", "image"),
    "video/mp4": ("mp4", "video"),
    "video/quicktime": ("mov", "video"),
    "video/3gpp": ("3gp", "video"),
    "audio/mpeg": ("mp3", "audio"),
    "audio/mp4": ("m4a", "audio"),
    "audio/amr": ("amr", "audio"),  # WeChat voice messages
    "audio/x-wav": ("wav", "audio"),
    "audio/ogg": ("ogg", "audio"),
    "application/pdf": ("pdf", "document"),
    "application/msword": ("doc", "document"),
    "application/vnd.ms-excel": ("xls", "document"),
    "application/vnd.ms-powerpoint": ("ppt", "document"),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ("docx", "document"),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ("xlsx", "document"),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ("pptx", "document"),
    "application/vnd.oasis.opendocument.text": ("odt", "document"),
    "application/vnd.oasis.opendocument.spreadsheet": ("ods", "document"),
}
EXECUTABLES = {"application/x-msdownload", "application/x-executable", "application/x-sh", "application/wasm"}
GROUP_LABELS = {"image": "图片", "video": "视频", "audio": "音频", "document": "文档"}
ACCEPT_HINT = "支持 JPG/PNG/HEIC 图片、MP4 视频、MP3/AMR/M4A 音频、PDF 和 Office 文档"
THUMB_SIZE = (320, 320)
MAX_PIXELS = 60_000_000  # larger pictures are refused (decompression bombs); a 48-MP phone photo fits


class FileTooLarge(DomainError):
    status, code, message = 413, "file_too_large", "文件过大"


@dataclass
class Sniffed:
    mime: str
    ext: str
    group: str


def sniff(head: bytes) -> Sniffed:
    """The type of a file from its first bytes; InvalidInput for executables and anything not accepted."""
    kind = filetype.guess(head)
    mime = kind.mime if kind else None
    script = head[:2] == b"#!" and mime not in ACCEPTED  # "#!AMR" is a voice recording, "#!/bin/sh" a script
    if mime in EXECUTABLES or head[:2] == b"MZ" or head[:4] == b"\x7fELF" or script:
        raise InvalidInput(
            "executable_refused", "不允许上传可执行程序（按文件内容识别，与文件名无关）", {"file": "可执行程序"}
        )
    if mime not in ACCEPTED:
        raise InvalidInput("unsupported_type", f"不支持的文件类型：{ACCEPT_HINT}", {"file": "文件类型不支持"})
    ext, group = ACCEPTED[mime]
    return Sniffed(mime, ext, group)


@dataclass
class Spool:
    """An incoming file copied to a private temporary file, chunk by chunk, with its size and first bytes."""

    path: Path
    size: int
    head: bytes

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


def spool(stream: BinaryIO, folder: Path, limit: int) -> Spool:
    """Copy ``stream`` into ``folder`` without holding it in memory; FileTooLarge past ``limit`` bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(dir=folder, prefix="in-", delete=False)  # noqa: SIM115 — kept on success
    path, size, head = Path(handle.name), 0, b""
    try:
        with handle:
            while block := stream.read(64 * 1024):
                size += len(block)
                if size > limit:
                    raise FileTooLarge(
                        "file_too_large", f"文件超过 {limit // (1024 * 1024)} MB 的上限", {"file": "文件过大"}
                    )
                if len(head) < 8192:
                    head += block[: 8192 - len(head)]
                handle.write(block)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    if size == 0:
        path.unlink(missing_ok=True)
        raise InvalidInput("empty_file", "文件是空的", {"file": "空文件"})
    return Spool(path, size, head)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class Cleaned:
    path: Path
    mime: str
    ext: str
    width: int
    height: int
    gps: tuple[float, float] | None  # (lat, long) WGS-84 from the EXIF, before it was dropped


def _open_image(path: Path):
    from PIL import Image

    if Image.MAX_IMAGE_PIXELS != MAX_PIXELS:
        Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        import pillow_heif

        pillow_heif.register_heif_opener()
    except ImportError:  # pragma: no cover — HEIC then fails as an unreadable picture
        pass
    try:
        image = Image.open(path)
        image.load()
    except Image.DecompressionBombError as exc:
        raise InvalidInput("image_too_large", "图片像素过多，请缩小后再上传", {"file": "图片过大"}) from exc
    except Exception as exc:  # truncated or forged picture
        raise InvalidInput("image_unreadable", "图片已损坏或无法识别", {"file": "图片无法识别"}) from exc
    return image


def _degrees(value, ref) -> float | None:
    try:
        d, m, s = (float(x) for x in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    result = d + m / 60 + s / 3600
    return -result if ref in ("S", "W", b"S", b"W") else result


def exif_gps(image) -> tuple[float, float] | None:
    """(lat, long) from a picture's EXIF GPS block, or None."""
    try:
        gps = image.getexif().get_ifd(0x8825)
    except Exception:
        return None
    if not gps or 2 not in gps or 4 not in gps:
        return None
    lat, lng = _degrees(gps[2], gps.get(1)), _degrees(gps[4], gps.get(3))
    if lat is None or lng is None or not (-90 <= lat <= 90 and -180 <= lng <= 180) or (lat == 0 and lng == 0):
        return None
    return round(lat, 7), round(lng, 7)


def clean_image(source: Path, sniffed: Sniffed, folder: Path) -> Cleaned:
    """Re-encode a picture: the pixels only (turned upright by its EXIF orientation), no metadata; PNG stays PNG
    (transparency), everything else becomes JPEG (HEIC from phones included)."""
    from PIL import ImageOps

    image = _open_image(source)
    gps = exif_gps(image)
    upright = ImageOps.exif_transpose(image)
    out = tempfile.NamedTemporaryFile(dir=folder, prefix="clean-", delete=False)  # noqa: SIM115
    with out:
        if sniffed.mime == "image/png":
            upright.save(out, "PNG", optimize=False)
            mime, ext = "image/png", "png"
        else:
            rgb = upright.convert("RGB") if upright.mode != "RGB" else upright
            rgb.save(out, "JPEG", quality=88, optimize=False)
            mime, ext = "image/jpeg", "jpg"
    width, height = upright.size
    image.close()
    return Cleaned(Path(out.name), mime, ext, width, height, gps)


def thumbnail(stream: BinaryIO) -> tempfile.SpooledTemporaryFile:
    """A JPEG thumbnail (at most 320×320) of a stored, already cleaned picture."""
    from PIL import Image

    buffer = tempfile.SpooledTemporaryFile(max_size=4 * 1024 * 1024)  # noqa: SIM115
    shutil.copyfileobj(stream, buffer)
    buffer.seek(0)
    with Image.open(buffer) as image:
        image.draft("RGB", (THUMB_SIZE[0] * 2, THUMB_SIZE[1] * 2))  # JPEG: decode at a fraction of the size
        image.thumbnail(THUMB_SIZE)
        out = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115
        image.convert("RGB").save(out, "JPEG", quality=80)
    out.seek(0)
    return out
