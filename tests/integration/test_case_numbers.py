"""Case numbers: a per-day sequence from the database (``case_counters``), whatever Redis holds or forgets; a
rolled-back registration gives its number back; a day with cases but no counter continues after them; the
migration seeds the counters of an upgraded database."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from hotline.extensions import connect_redis
from tests.helpers import new_case
from tests.integration.test_migrations import flask


def test_numbers_are_sequential_and_ignore_redis(app, api, phone):
    first = new_case(api("agent1"), phone)["number"]
    second = new_case(api("agent1"), phone)["number"]
    head, seq = first.rsplit("-", 1)
    assert second == f"{head}-{int(seq) + 1:06d}"
    assert head == "GD" + datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y%m%d")
    redis = connect_redis(app.config["HOTLINE"])
    redis.set(f"hotline:case_seq:{head}-", 1)  # the counter of earlier versions, far behind: not used any more
    third = new_case(api("agent1"), phone)["number"]
    assert third == f"{head}-{int(seq) + 2:06d}"


def _register(now: datetime, phone: str) -> str:
    from hotline.cases import operations as ops
    from hotline.citizens.phones import normalize

    new = ops.NewCase(channel="phone", kind="help", content="路灯不亮，请尽快维修", phone=normalize(phone))
    return ops.create_case(new, None, now, actor_label="测试").number


def _is_postgres(app) -> bool:
    return app.config["HOTLINE"].database_url.startswith("postgres")


def test_a_rolled_back_registration_never_shares_a_number(app, db_session, phone):
    """SQLite's counter row gives the number back; PostgreSQL's sequence leaves a gap (nothing stays locked
    until the commit): either way the next registration's number is unique and in order."""
    when = datetime(2021, 3, 4, 2, 0, tzinfo=UTC)  # a day of its own: 2021-03-04 in Asia/Shanghai
    first = _register(when, phone)
    db_session.commit()
    taken = _register(when, phone)
    db_session.rollback()
    again = _register(when, phone)
    db_session.commit()
    assert first.startswith("GD20210304-")
    assert taken == first[:-6] + f"{int(first[-6:]) + 1:06d}"
    assert again == (first[:-6] + f"{int(first[-6:]) + 2:06d}" if _is_postgres(app) else taken)


def test_a_day_without_its_counter_continues_after_its_cases(app, db_session, phone):
    from hotline.cases import numbers as case_numbers
    from hotline.models import CaseCounter, CaseNumberBase

    when = datetime(2021, 5, 6, 2, 0, tzinfo=UTC)
    numbers = [_register(when, phone) for _ in range(3)]
    db_session.execute(sa.delete(CaseCounter).where(CaseCounter.day == "20210506"))  # cases stored by hand
    db_session.execute(sa.delete(CaseNumberBase).where(CaseNumberBase.day == "20210506"))
    case_numbers._bases.clear()
    db_session.commit()
    after = _register(when, phone)
    db_session.commit()
    assert after == numbers[-1][:-6] + f"{int(numbers[-1][-6:]) + 1:06d}"


def test_the_migration_seeds_the_counters_from_existing_cases(tmp_path):
    instance = tmp_path / "instance"
    flask(instance, "db", "upgrade", "0630c3215fca")  # the revision before case_counters
    db = sqlite3.connect(instance / "hotline.db")
    db.execute(
        "INSERT INTO citizens (id, name_enc, tags, created_at, updated_at) VALUES "
        "(9001, NULL, '[]', '2026-01-05 08:00:00', '2026-01-05 08:00:00')"
    )
    db.execute(
        "INSERT INTO citizen_phones (id, citizen_id, phone_hash, phone_enc, masked, kind, created_at) VALUES "
        "(9001, 9001, 'h9001', 'x:y', '138****0000', 'mobile', '2026-01-05 08:00:00')"
    )
    for i, number in enumerate(("GD20260105-000041", "GD20260105-000007", "GD20260106-000300", "BN-odd")):
        db.execute(
            "INSERT INTO cases (id, number, kind, channel, urgency, status, title, content, address, citizen_id, "
            "phone_id, confidential, complex, created_at, updated_at, version, routing_pending) VALUES "
            f"({9001 + i}, '{number}', 'consult', 'phone', 'normal', 'closed', '旧工单', '升级前的工单', '', 9001, "
            "9001, 0, 0, '2026-01-05 08:00:00', '2026-01-05 08:00:00', 1, 0)"
        )
    db.commit()
    db.close()
    flask(instance, "db", "upgrade", "5a1c0e2f7b31")
    db = sqlite3.connect(instance / "hotline.db")
    rows = db.execute("SELECT prefix, day, value FROM case_counters ORDER BY day").fetchall()
    db.close()
    assert rows == [("GD", "20260105", 41), ("GD", "20260106", 300)]
    flask(instance, "db", "downgrade", "0630c3215fca")
    db = sqlite3.connect(instance / "hotline.db")
    assert db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'case_counters'").fetchone() == (0,)
    db.close()


def test_registrations_at_once_get_unique_consecutive_numbers(app, phone):
    """20 registrations of one new day at the same moment, each in its own session (PostgreSQL: all waiting on
    the day's first base, then none locked): 20 distinct numbers, 1..20 of that day."""
    import threading

    from hotline.extensions import db
    from tests import counts

    when = datetime(2021, 7, 8, 2, 0, tzinfo=UTC)
    barrier, got, errors = threading.Barrier(20), [], []

    def one():
        with app.app_context():
            try:
                barrier.wait()
                number = _register(when, phone)
                db.session.commit()
                got.append(number)
            except Exception as exc:  # counted below
                errors.append(repr(exc))
                db.session.rollback()

    threads = [threading.Thread(target=one) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    counts.report(f"case numbers x20 at once: {len(set(got))} distinct of {len(got)}, {len(errors)} errors")
    assert not errors and len(set(got)) == 20
    assert sorted(int(n[-6:]) for n in got) == list(range(1, 21))
