"""The S3 storage backend (minio client) against a real S3-compatible server run by the test: moto in server
mode on a free local port. Also the whole upload → download path of the API with S3 as the app's storage."""

from __future__ import annotations

import hashlib
import io
import os

import pytest

from tests.evidence_support import jpeg_with_gps
from tests.helpers import free_port, new_case

moto_server = pytest.importorskip("moto.server", reason="moto[server] (requirements-nodeps.txt) not installed")


@pytest.fixture(scope="module")
def s3_endpoint():
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    port = free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture()
def s3(app, s3_endpoint):
    from hotline.config import Settings
    from hotline.evidence.storage import S3Storage, from_settings

    settings = Settings(
        instance=app.config["HOTLINE"].instance,
        storage_url=f"s3://hotline-evidence?endpoint={s3_endpoint}&region=us-east-1",
        storage_access_key="testing",
        storage_secret_key="testing",
    )
    store = from_settings(settings)
    assert isinstance(store, S3Storage)
    store.ensure_bucket()
    return store


def test_put_open_exists_delete_streams_a_multipart_object(s3):
    blob = os.urandom(12 * 1024 * 1024 + 123)  # above the 5 MB part size: a multipart upload
    s3.put("cases/1/big.bin", io.BytesIO(blob), len(blob), "application/octet-stream")
    assert s3.exists("cases/1/big.bin") and not s3.exists("cases/1/nothing.bin")
    digest, chunks = hashlib.sha256(), 0
    for chunk in s3.open("cases/1/big.bin"):
        assert len(chunk) <= 64 * 1024
        digest.update(chunk)
        chunks += 1
    assert digest.hexdigest() == hashlib.sha256(blob).hexdigest() and chunks > 100
    assert b"".join(s3.open("cases/1/big.bin", 5_000_000, 70_000)) == blob[5_000_000:5_070_000]  # a byte range
    s3.delete("cases/1/big.bin")
    assert not s3.exists("cases/1/big.bin")
    with pytest.raises(FileNotFoundError):
        s3.open("cases/1/big.bin")


def test_api_upload_and_download_through_s3(app, api, phone, s3):
    agent = api("agent1")
    number = new_case(agent, phone)["number"]
    saved = app.extensions.get("hotline_storage")
    app.extensions["hotline_storage"] = s3
    try:
        resp = agent.post(
            f"/cases/{number}/attachments",
            data={"file": (io.BytesIO(jpeg_with_gps()), "s3.jpg")},
            content_type="multipart/form-data",
        )
        assert resp.status_code == 201, resp.get_json()
        body = resp.get_json()
        stored = b"".join(s3.open(next(iter_keys(app, body["id"]))))
        assert hashlib.sha256(stored).hexdigest() == body["checksum"]
        got = agent.client.get(body["url"], headers=agent._headers())
        assert got.status_code == 200 and got.get_data() == stored
    finally:
        app.extensions["hotline_storage"] = saved


def test_store_down_is_a_503(app):
    from hotline.evidence.storage import S3Storage, StorageUnavailable

    store = S3Storage("hotline-evidence", f"http://127.0.0.1:{free_port()}", "k", "s", "us-east-1")
    with pytest.raises(StorageUnavailable) as caught:
        store.put("x", io.BytesIO(b"abc"), 3, "text/plain")
    assert caught.value.status == 503


def iter_keys(app, attachment_id):
    from hotline.extensions import db
    from hotline.models import Attachment

    with app.app_context():
        yield db.session.get(Attachment, attachment_id).storage_key
