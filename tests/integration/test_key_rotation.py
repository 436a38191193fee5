"""Rotating the data key re-encrypts every phone and name; look-ups by blind index keep working."""

from __future__ import annotations

import sqlalchemy as sa

from hotline.citizens.privacy import DataCipher
from tests.helpers import new_case


def _key_ids(app) -> set[str]:
    from hotline.extensions import db
    from hotline.models import Citizen, CitizenPhone

    with app.app_context():
        values = list(db.session.scalars(sa.select(CitizenPhone.phone_enc)))
        values += [v for v in db.session.scalars(sa.select(Citizen.name_enc)) if v]
    return {v.split(":", 1)[0] for v in values}


def test_rotate_and_back(app, api, phone):
    from hotline.citizens.rotation import rotate

    settings = app.config["HOTLINE"]
    new_case(api("agent1"), phone, citizen_name="上官婉儿")
    original = app.extensions["hotline_cipher"]
    old_key, new_key = settings.data_key, "rotated-key-for-test"
    rotated = DataCipher(new_key, (old_key,), settings.index_key)
    assert _key_ids(app) == {original.key_id}
    app.extensions["hotline_cipher"] = rotated
    try:
        lines = []
        with app.app_context():
            assert rotate(progress=lines.append) > 0
            assert rotate(progress=lines.append) == 0  # restartable: nothing left to do
        assert _key_ids(app) == {rotated.key_id}
        assert any(line.startswith("citizen_phones.phone_enc:") for line in lines)
        # the blind index did not change: the file is still found by number, and decrypts
        file = api("agent1").get(f"/citizens/lookup?phone={phone}").get_json()
        assert file["found"] and file["citizen"]["name"] == "上***"
        unmasked = api("agent1").post(f"/citizens/{file['citizen']['citizen_id']}/unmask", json={}).get_json()
        assert unmasked["phones"] == ["+86" + phone]
    finally:
        app.extensions["hotline_cipher"] = DataCipher(old_key, (new_key,), settings.index_key)
        with app.app_context():
            rotate(progress=lambda _: None)
        app.extensions["hotline_cipher"] = original
    assert _key_ids(app) == {original.key_id}
