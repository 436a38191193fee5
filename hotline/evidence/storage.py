"""Where attachment bytes live: the instance folder (default, nothing to install) or an S3-compatible object store.

``HOTLINE_STORAGE_URL``: empty → ``<instance>/files``; ``file:///path`` → that folder; ``s3://BUCKET?endpoint=
http://host:9000&region=cn-north-1`` with ``HOTLINE_STORAGE_ACCESS_KEY`` / ``HOTLINE_STORAGE_SECRET_KEY``. The S3
backend uses the minio client: a fraction of boto3's import time and memory, and no pin on python-dateutil (boto3's
botocore requires dateutil < 3; the app pins 4.0) — measurements in docs/operations.md, "Evidence storage".

Both stream: ``put`` reads a file object in chunks, ``open`` yields chunks; nothing holds a whole file in memory.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import parse_qs, urlparse

from flask import current_app

from hotline.cases.errors import DomainError

CHUNK = 64 * 1024


class StorageUnavailable(DomainError):
    status, code, message = 503, "storage_unavailable", "文件存储暂不可用，请稍后重试"


class Storage(Protocol):
    def put(self, key: str, stream: BinaryIO, size: int, content_type: str) -> None: ...
    def open(self, key: str, start: int = 0, length: int | None = None) -> Iterator[bytes]: ...
    def exists(self, key: str) -> bool: ...
    def delete(self, key: str) -> None: ...


class LocalStorage:
    """Files under one folder; a key is a relative path of safe characters (written by this module only)."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not str(path).startswith(str(self.root.resolve()) + os.sep):
            raise ValueError(f"bad storage key {key!r}")
        return path

    def put(self, key: str, stream: BinaryIO, size: int, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".up-")
        try:
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(stream, out, CHUNK)
            os.replace(tmp, path)  # readers see the whole file or none
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def open(self, key: str, start: int = 0, length: int | None = None) -> Iterator[bytes]:
        path = self._path(key)
        if not path.exists():
            raise FileNotFoundError(key)
        fh = path.open("rb")
        fh.seek(start)

        def chunks():
            left = length
            with fh:
                while left is None or left > 0:
                    block = fh.read(CHUNK if left is None else min(CHUNK, left))
                    if not block:
                        break
                    if left is not None:
                        left -= len(block)
                    yield block

        return chunks()

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


class S3Storage:
    """Any S3-compatible store (MinIO, Ceph RGW, OSS/COS/OBS in S3 mode, AWS) through the minio client."""

    def __init__(self, bucket: str, endpoint: str, access_key: str, secret_key: str, region: str | None = None):
        from minio import Minio  # only installations that use S3 import it

        parsed = urlparse(endpoint if "://" in endpoint else "https://" + endpoint)
        self.bucket = bucket
        self.client = Minio(
            parsed.netloc, access_key=access_key, secret_key=secret_key, secure=parsed.scheme == "https", region=region
        )

    def _call(self, func, *args, **kwargs):
        from minio.error import S3Error

        try:
            return func(*args, **kwargs)
        except S3Error:
            raise
        except Exception as exc:  # urllib3 connection errors: the store is down
            raise StorageUnavailable() from exc

    def ensure_bucket(self) -> None:
        if not self._call(self.client.bucket_exists, self.bucket):
            self._call(self.client.make_bucket, self.bucket)

    def put(self, key: str, stream: BinaryIO, size: int, content_type: str) -> None:
        # part_size: multipart above 16 MB, so at most one part is buffered at a time
        self._call(self.client.put_object, self.bucket, key, stream, size, content_type=content_type)

    def open(self, key: str, start: int = 0, length: int | None = None) -> Iterator[bytes]:
        from minio.error import S3Error

        try:
            response = self._call(self.client.get_object, self.bucket, key, offset=start, length=length or 0)
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchBucket"):
                raise FileNotFoundError(key) from exc
            raise

        def chunks():
            try:
                yield from response.stream(CHUNK)
            finally:
                response.close()
                response.release_conn()

        return chunks()

    def exists(self, key: str) -> bool:
        from minio.error import S3Error

        try:
            self._call(self.client.stat_object, self.bucket, key)
            return True
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchBucket", "NotFound"):
                return False
            raise

    def delete(self, key: str) -> None:
        self._call(self.client.remove_object, self.bucket, key)


def from_settings(settings) -> Storage:
    url = settings.storage_url.strip()
    if not url:
        return LocalStorage(settings.instance / "files")
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return LocalStorage(Path(parsed.path))
    if parsed.scheme == "s3":
        query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        endpoint = query.get("endpoint", "https://s3.amazonaws.com")
        return S3Storage(
            parsed.netloc, endpoint, settings.storage_access_key, settings.storage_secret_key, query.get("region")
        )
    raise ValueError(f"HOTLINE_STORAGE_URL: unknown scheme {parsed.scheme!r} (file:// or s3://)")


def storage() -> Storage:
    """This app's storage backend (one per app, built on first use)."""
    ext = current_app.extensions
    if "hotline_storage" not in ext:
        ext["hotline_storage"] = from_settings(current_app.config["HOTLINE"])
    return ext["hotline_storage"]
