"""``flask keys rotate``: bring every piece of personal data to the current data key and algorithm.

1. Values: every ciphertext not written under the current key and algorithm (``privacy.py``: its tag says which)
   is re-encrypted — phones and WeChat identities, names, the names Open311 clients gave, and the recipients of
   outbox messages. Batched and committed per batch: restartable, and readable all along, since every host reads
   both algorithms under the current and old keys.
2. Blind indexes: when ``HOTLINE_CRYPTO`` names another algorithm than the one the database's indexes are written
   with (``keyset.INDEX_ROW``), every phone row's index is re-computed from its decrypted value (after checking that
   the old index is indeed that value's) and written, with the new record, in ONE transaction: before its commit
   every process finds files with the old indexes, after it with the new ones (``privacy.IndexTracker``, re-read
   every ``refcache_ttl`` s). After ``settle`` seconds a last pass re-writes rows a process still on the old
   algorithm inserted meanwhile; a number such a process registered twice is reported (merge the two files).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import sqlalchemy as sa
from flask import current_app

from hotline.citizens import keyset
from hotline.citizens.identities import WECHAT
from hotline.citizens.privacy import INDEX_NAMES, SM_TAG, DataCipher, index_algorithm_of
from hotline.citizens.profile import cipher
from hotline.extensions import db
from hotline.models import Citizen, CitizenPhone, KeyFingerprint, OutboxMessage
from hotline.models.open311 import Open311Request

# (model, column, strict): strict columns hold only ciphertexts (one under an unknown key stops the rotation);
# the outbox's recipient is a ciphertext for SMS/WeChat and plain ("user:12") for in-app notices
COLUMNS = (
    (CitizenPhone, "phone_enc", True),
    (Citizen, "name_enc", True),
    (Open311Request, "name_enc", True),
    (OutboxMessage, "recipient", False),
)
BATCH = 1000


def rotate(progress: Callable[[str], None] = print, settle: float | None = None) -> int:
    """Re-encrypt what is not under the current key/algorithm, then move the blind indexes to the configured
    algorithm. Returns the number of values and indexes re-written."""
    c = cipher()
    changed = reencrypt(c, progress)
    settings = current_app.config["HOTLINE"]
    return changed + switch_index(c, settings, progress, settle)


def reencrypt(c: DataCipher, progress: Callable[[str], None]) -> int:
    changed = 0
    for model, column, strict in COLUMNS:
        table = model.__table__
        col = table.c[column]
        total = db.session.scalar(sa.select(sa.func.count()).select_from(table).where(col.is_not(None)))
        stmt = sa.update(table).where(table.c.id == sa.bindparam("row_id")).values({column: sa.bindparam("value")})
        last_id, done = 0, 0
        while True:
            rows = db.session.execute(
                sa.select(table.c.id, col)
                .where(table.c.id > last_id, col.is_not(None))
                .order_by(table.c.id)
                .limit(BATCH)
            ).all()
            if not rows:
                break
            todo = [
                {"row_id": row_id, "value": c.encrypt(c.decrypt(value))}
                for row_id, value in rows
                if c.needs_rotation(value) and (strict or c.readable(value))
            ]
            if todo:
                db.session.execute(stmt, todo)
                changed += len(todo)
            last_id, done = rows[-1][0], done + len(rows)
            db.session.commit()
            progress(f"{table.name}.{column}: {done}/{total}")
    return changed


def _index_input(kind: str, plain: str) -> str:
    """What a phone row's blind index is computed over (``profile.phone_hash``, ``identities.wechat_hash``)."""
    return f"{WECHAT}:{plain}" if kind == WECHAT else plain


def _reindex(c: DataCipher, target: str, rows) -> tuple[list[dict], int]:
    """(updates, rows left alone): a row whose index is not its value's (erased, foreign) is left as it is."""
    out, left = [], 0
    for row_id, kind, enc, digest, _citizen_id in rows:
        if index_algorithm_of(digest) == target:
            continue
        try:
            value = _index_input(kind, c.decrypt(enc))
        except ValueError:
            value = None
        if value is None or c.index_with(index_algorithm_of(digest), value) != digest:
            left += 1
            continue
        out.append({"row_id": row_id, "digest": c.index_with(target, value)})
    return out, left


def _phone_batches(where=None):
    t = CitizenPhone.__table__
    last_id = 0
    while True:
        query = sa.select(t.c.id, t.c.kind, t.c.phone_enc, t.c.phone_hash, t.c.citizen_id).where(t.c.id > last_id)
        if where is not None:
            query = query.where(where)
        rows = db.session.execute(query.order_by(t.c.id).limit(BATCH)).all()
        if not rows:
            return
        yield rows
        last_id = rows[-1][0]


def _recorded(settings) -> str:
    row = db.session.get(KeyFingerprint, keyset.INDEX_ROW)
    found = keyset.ALGORITHM_OF_INDEX.get(row.fingerprint) if row is not None else None
    return found or keyset.stored_index_algorithm(settings)


def switch_index(c: DataCipher, settings, progress: Callable[[str], None], settle: float | None = None) -> int:
    target = settings.crypto
    changed, twice = 0, []
    if _recorded(settings) != target:
        total = db.session.scalar(sa.select(sa.func.count()).select_from(CitizenPhone))
        done, left = 0, 0
        for rows in _phone_batches():  # one transaction: no commit until every index and the record are written
            written, skipped, doubled = _write(c, target, rows)
            changed, done, left, twice = changed + written, done + len(rows), left + skipped, twice + doubled
            progress(f"citizen_phones.phone_hash → {INDEX_NAMES[target]}: {done}/{total}")
        if keyset.table_ready():
            keyset.record_index_algorithm(target)
        db.session.commit()
        tracker = current_app.extensions.get("hotline_index")
        if tracker is not None:
            tracker.switched(target)
        if left:
            progress(f"{left} 行的盲索引与其号码不符（已擦除或非本系统写入），未改动")
        ttl = tracker.ttl if tracker is not None else 1.0
        time.sleep(ttl * 2 + 0.5 if settle is None else settle)  # processes still on the old index
    # rows still under the other algorithm: written by a process that had not seen the switch yet
    other = CitizenPhone.phone_hash.like("sm3:%") if target == "aes" else CitizenPhone.phone_hash.not_like("sm3:%")
    for rows in _phone_batches(other):
        written, _, doubled = _write(c, target, rows)
        changed, twice = changed + written, twice + doubled
        db.session.commit()
    if twice:
        progress(f"{len(twice)} 个号码有两份档案（切换期间旧进程重复建档），请合并：档案 {', '.join(map(str, twice))}")
    return changed


def _write(c: DataCipher, target: str, rows) -> tuple[int, int, list[int]]:
    """Re-write the indexes of ``rows`` -> (written, left alone, citizens whose number another row already has)."""
    t = CitizenPhone.__table__
    todo, left = _reindex(c, target, rows)
    if not todo:
        return 0, left, []
    taken = set(db.session.scalars(sa.select(t.c.phone_hash).where(t.c.phone_hash.in_([r["digest"] for r in todo]))))
    citizen_of = {row[0]: row[4] for row in rows}
    twice = [citizen_of[r["row_id"]] for r in todo if r["digest"] in taken]
    todo = [r for r in todo if r["digest"] not in taken]
    if todo:
        update = sa.update(t).where(t.c.id == sa.bindparam("row_id")).values(phone_hash=sa.bindparam("digest"))
        db.session.execute(update, todo)
    return len(todo), left, twice


def census() -> dict[str, int]:
    """How many values each (algorithm, key id) wrote and how many blind indexes each algorithm computed, e.g.
    {"AES-GCM 1a2b3c4d": 120, "SM4-GCM 1a2b3c4d": 3, "hmac-sha256": 80} (``keys check``)."""
    out: dict[str, int] = {}
    for model, column, _ in COLUMNS:
        col = model.__table__.c[column]
        head = sa.case((col.like(SM_TAG + "%"), sa.func.substr(col, 1, 12)), else_=sa.func.substr(col, 1, 8))
        for tag, count in db.session.execute(sa.select(head, sa.func.count()).where(col.is_not(None)).group_by(head)):
            kid = tag.removeprefix(SM_TAG)
            if len(kid) != 8 or any(ch not in "0123456789abcdef" for ch in kid):
                continue  # a plain outbox recipient ("department:3")
            label = f"{'SM4-GCM' if tag.startswith(SM_TAG) else 'AES-GCM'} {kid}"
            out[label] = out.get(label, 0) + count
    t = CitizenPhone.__table__
    sm_rows = t.c.phone_hash.like("sm3:%")
    for alg, where in (("aes", sa.not_(sm_rows)), ("sm", sm_rows)):
        count = db.session.scalar(sa.select(sa.func.count()).select_from(t).where(where))
        if count:
            out[INDEX_NAMES[alg]] = count
    return out
