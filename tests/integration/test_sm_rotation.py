"""``keys rotate`` moves a database between AES-GCM/HMAC-SHA256 and SM4-GCM/HMAC-SM3 (HOTLINE_CRYPTO) and back:
every value and every blind index is re-written, every file (phones, a landline, a WeChat identity, names, an
Open311 name, outbox recipients) stays readable and findable — also half-way, when a rotation was interrupted."""

from __future__ import annotations

import dataclasses
import uuid
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from hotline.citizens.privacy import DataCipher, algorithm_of, index_algorithm_of
from tests import counts
from tests.helpers import new_case

OTHER = {"aes": "sm", "sm": "aes"}


@contextmanager
def crypto(app, algorithm: str):
    """The app as a host set to HOTLINE_CRYPTO=algorithm (same keys)."""
    settings, cipher = app.config["HOTLINE"], app.extensions["hotline_cipher"]
    changed = dataclasses.replace(settings, crypto=algorithm)
    changed.key_sources = settings.key_sources
    old = tuple(k.strip() for k in settings.data_keys_old.split(",") if k.strip())
    app.config["HOTLINE"] = changed
    app.extensions["hotline_cipher"] = DataCipher(settings.data_key, old, settings.index_key, algorithm)
    try:
        yield app.extensions["hotline_cipher"]
    finally:
        app.config["HOTLINE"], app.extensions["hotline_cipher"] = settings, cipher


def _rotate(app, algorithm: str, **kwargs) -> list[str]:
    from hotline.citizens.rotation import rotate

    lines: list[str] = []
    with crypto(app, algorithm), app.app_context():
        rotate(progress=lines.append, settle=0, **kwargs)
    return lines


@pytest.fixture()
def files(app, api, phone):
    """A citizen with a mobile, a landline and a name; a WeChat identity with a name; an Open311 name; SMS and
    WeChat outbox messages."""
    from hotline.citizens import identities
    from hotline.citizens.operations import add_phone
    from hotline.citizens.phones import normalize
    from hotline.citizens.profile import cipher, find_phone
    from hotline.extensions import db
    from hotline.models import Case, OutboxMessage
    from hotline.models.open311 import Open311Request

    case = new_case(api("agent1"), phone, citizen_name="上官婉儿")
    landline = "0571-8" + f"{uuid.uuid4().int % 10**6:06d}"[:6] + "1"
    openid = "o" + uuid.uuid4().hex
    with app.app_context():
        row = find_phone(phone)
        extra = add_phone(row.citizen, normalize(landline), None)
        wechat = identities.get_or_create_wechat(openid)
        wechat.citizen.name_enc = cipher().encrypt("欧阳修文")
        case_id = db.session.scalar(sa.select(Case.id).where(Case.number == case["number"]))
        db.session.add(Open311Request(case_id=case_id, name_enc=cipher().encrypt("赵六")))
        for channel, enc in (("sms", row.phone_enc), ("wechat", wechat.phone_enc)):
            db.session.add(OutboxMessage(channel=channel, recipient=enc, recipient_masked="x", text="t", status="sent"))
        db.session.commit()
        ids = {"citizen": row.citizen_id, "wechat_citizen": wechat.citizen_id, "case": case_id, "extra": extra.id}
    return {"phone": phone, "landline": normalize(landline).key, "openid": openid, **ids}


def _check_readable(app, api, files) -> None:
    """Every encrypted value in the database decrypts; the files are found by number and identity and read."""
    from hotline.citizens import identities
    from hotline.citizens.profile import cipher, citizen_name
    from hotline.extensions import db
    from hotline.models import Citizen, CitizenPhone, OutboxMessage
    from hotline.models.open311 import Open311Request
    from hotline.privacy.erase import ERASED_MASK

    with app.app_context():
        c = cipher()
        # a number erased on request (hotline/privacy/erase.py) keeps an encrypted empty value: it decrypts to ""
        kept = CitizenPhone.masked != ERASED_MASK
        for column, where in (
            (CitizenPhone.phone_enc, kept),
            (Citizen.name_enc, sa.true()),
            (Open311Request.name_enc, sa.true()),
        ):
            for value in db.session.scalars(sa.select(column).where(column.is_not(None), where)):
                assert c.decrypt(value)
        people = OutboxMessage.channel.not_in(("inapp", "webhook"))  # webhook rows name a subscription, not a person
        for value in db.session.scalars(
            sa.select(OutboxMessage.recipient).where(people, OutboxMessage.recipient != "")
        ):
            assert c.decrypt(value)
        row = identities.find_wechat(files["openid"])
        assert row is not None and identities.openid_of(row) == files["openid"]
        assert citizen_name(row.citizen) == "欧阳修文"
        name = db.session.scalar(sa.select(Open311Request.name_enc).where(Open311Request.case_id == files["case"]))
        assert c.decrypt(name) == "赵六"
    found = api("agent1").get(f"/citizens/lookup?phone={files['phone']}").get_json()
    assert found["found"] and found["citizen"]["name"] == "上***"
    assert found["citizen"]["citizen_id"] == files["citizen"]
    by_landline = api("agent1").get(f"/citizens/lookup?phone={files['landline']}").get_json()
    assert by_landline["found"] and by_landline["citizen"]["citizen_id"] == files["citizen"]
    unmasked = api("agent1").post(f"/citizens/{files['citizen']}/unmask", json={}).get_json()
    assert sorted(unmasked["phones"]) == sorted(["+86" + files["phone"], files["landline"]])


def _algorithms(app) -> tuple[set[str], set[str]]:
    """(algorithms of the stored values, algorithms of the stored blind indexes) over the whole database."""
    from hotline.extensions import db
    from hotline.models import Citizen, CitizenPhone
    from hotline.models.open311 import Open311Request
    from hotline.privacy.erase import ERASED_PREFIX

    with app.app_context():
        values = set()
        for column in (CitizenPhone.phone_enc, Citizen.name_enc, Open311Request.name_enc):
            values |= {algorithm_of(v) for v in db.session.scalars(sa.select(column).where(column.is_not(None)))}
        live = ~CitizenPhone.phone_hash.startswith(ERASED_PREFIX)  # an erased number has no blind index to rotate
        indexes = {index_algorithm_of(h) for h in db.session.scalars(sa.select(CitizenPhone.phone_hash).where(live))}
    return values, indexes


def test_rotate_to_the_other_algorithm_and_back_keeps_every_file_readable(app, api, files):
    from hotline.citizens import keyset
    from hotline.citizens.privacy import IndexTracker

    start = app.config["HOTLINE"].crypto
    other = OTHER[start]
    _check_readable(app, api, files)
    assert _algorithms(app) == ({start}, {start})
    try:
        lines = _rotate(app, other)
        assert any(line.startswith("citizen_phones.phone_hash → ") for line in lines)
        assert _algorithms(app) == ({other}, {other})
        with crypto(app, other):
            _check_readable(app, api, files)
            with app.app_context():
                assert keyset.database_index_algorithm() == other  # what every other process now reads
                assert IndexTracker(keyset.database_index_algorithm, 0, start).current() == other
                result = app.test_cli_runner().invoke(args=["keys", "check"])
            # (the exit status also judges keys other tests of the session recorded: only the crypto lines here)
            label = {"aes": "hmac-sha256", "sm": "hmac-sm3"}[other]
            line = next(li for li in result.output.splitlines() if li.strip().startswith("HOTLINE_CRYPTO "))
            assert label in line and "一致 ok" in line, result.output
            stored = next(li for li in result.output.splitlines() if li.startswith("库中个人信息"))
            assert ("SM4-GCM" if other == "sm" else "AES-GCM") in stored and f"{label}：" in stored
            assert ("AES-GCM" if other == "sm" else "SM4-GCM") not in stored
        # a host still set to the old algorithm reads the rotated database and finds files with its indexes
        _check_readable(app, api, files)
        with crypto(app, other), app.app_context():
            from hotline.citizens.rotation import rotate

            assert rotate(progress=lambda _: None, settle=0) == 0  # nothing left: restartable
    finally:
        lines = _rotate(app, start)
    assert _algorithms(app) == ({start}, {start})
    _check_readable(app, api, files)
    counts.report(f"sm rotation: {start} → {other} → {start}, every file readable")


def test_an_interrupted_rotation_leaves_a_readable_database_and_resumes(app, api, files, monkeypatch):
    from hotline.citizens import rotation

    start = app.config["HOTLINE"].crypto
    other = OTHER[start]

    def stop_after_two(line: str) -> None:
        if line.startswith("citizen_phones.phone_enc:") and line.split(": ")[1].startswith("2/"):
            raise KeyboardInterrupt

    monkeypatch.setattr(rotation, "BATCH", 1)
    try:
        with pytest.raises(KeyboardInterrupt), crypto(app, other), app.app_context():
            rotation.rotate(progress=stop_after_two, settle=0)
        values, indexes = _algorithms(app)
        assert values == {start, other} and indexes == {start}  # half-rotated values; indexes not switched yet
        _check_readable(app, api, files)
        with crypto(app, other):
            _check_readable(app, api, files)
        monkeypatch.setattr(rotation, "BATCH", 1000)
        _rotate(app, other)
        assert _algorithms(app) == ({other}, {other})
    finally:
        monkeypatch.setattr(rotation, "BATCH", 1000)
        _rotate(app, start)
    _check_readable(app, api, files)


def test_rows_written_by_a_process_that_missed_the_switch_are_re_indexed_or_reported(app, api, files):
    from hotline.citizens.phones import normalize
    from hotline.citizens.profile import cipher, find_phone
    from hotline.extensions import db
    from hotline.models import Citizen, CitizenPhone

    start = app.config["HOTLINE"].crypto
    other = OTHER[start]
    late = "138" + f"{uuid.uuid4().int % 10**8:08d}"
    try:
        _rotate(app, other)
        with crypto(app, other), app.app_context():
            c = cipher()
            # a process still on the old algorithm registers a new number and, again, an existing one
            for number, name in ((late, "新号码"), (files["phone"], "重复建档")):
                key = normalize(number).key
                citizen = Citizen(name_enc=c.encrypt(name), tags=[])
                db.session.add(citizen)
                db.session.flush()
                db.session.add(
                    CitizenPhone(
                        citizen_id=citizen.id,
                        phone_hash=c.index_with(start, key),
                        phone_enc=c.encrypt(key),
                        masked="x",
                        kind="mobile",
                    )
                )
            db.session.commit()
            twice = citizen.id
            assert find_phone(late) is None  # unfindable until re-indexed
        lines = _rotate(app, other)
        assert any("两份档案" in line and str(twice) in line for line in lines), lines
        with crypto(app, other), app.app_context():
            assert find_phone(late) is not None and find_phone(late).citizen_id != twice
            assert find_phone(files["phone"]).citizen_id == files["citizen"]
            stale = db.session.scalar(sa.select(CitizenPhone).where(CitizenPhone.citizen_id == twice))
            assert index_algorithm_of(stale.phone_hash) == start  # left for a person to merge
            db.session.delete(stale)  # merged by hand, so to speak
            db.session.commit()
    finally:
        _rotate(app, start)
    with app.app_context():
        assert find_phone(late) is not None
    _check_readable(app, api, files)
