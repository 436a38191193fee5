"""Benchmark ``dup_check``'s data: generated case texts and re-reports, and the COPY load of 2,000,000 cases with
the duplicate-check keys of the open ones (see the module docstring of ``tests.bench.dup_check``)."""

from __future__ import annotations

import itertools
import random
import time
from datetime import UTC, datetime, timedelta

from tests.bench.server import log

CHUNK = 50_000
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)

CASE_COLS = (
    "id",
    "number",
    "kind",
    "channel",
    "urgency",
    "status",
    "title",
    "content",
    "address",
    "district_id",
    "citizen_id",
    "phone_id",
    "confidential",
    "complex",
    "created_at",
    "updated_at",
    "version",
)
PROBLEMS = (
    "门口垃圾堆放多日无人清理，气味很大",
    "楼上装修噪音扰民，晚上十点以后还在施工",
    "停水两天了，一直没有恢复供水",
    "路灯损坏一个多月，晚上出行不安全",
    "餐馆油烟直排，熏得窗户都是油",
    "电梯经常故障，上周还困过人",
    "道路井盖缺失，车辆经过很危险",
    "下水道堵塞，污水漫到人行道上",
    "共享单车乱停乱放，堵住了盲道",
    "小广告贴满了单元门和电线杆",
    "工地夜间施工，渣土车来回跑",
    "流浪狗很多，晚上叫个不停还咬人",
    "暖气不热，室内温度只有十几度",
    "小区停车位被外来车辆占用",
    "菜市场门口占道经营，交通拥堵",
    "公交站台的顶棚破了一直没人修",
    "河道里漂着垃圾，发出臭味",
    "绿化带里的树被人砍了好几棵",
    "燃气表走得特别快，怀疑有问题",
    "物业费涨价没有公示，业主不同意",
    "违章搭建的彩钢房挡住了消防通道",
    "广场舞音响声音太大，影响休息",
    "自来水发黄，有明显的异味",
    "人行道地砖松动，下雨天一踩一脚泥",
)
DETAILS = (
    "已经反映过好几次了",
    "老人孩子出行很不方便",
    "周边居民意见很大",
    "物业说不归他们管",
    "拍了照片可以提供",
    "这种情况持续半个多月了",
    "晚上尤其严重",
    "社区说会处理但一直没动静",
    "",
)
REQUESTS = ("希望尽快处理", "请相关部门来看看", "请督促整改", "要求给个说法", "希望能彻底解决", "")
ESTATES = ("小区", "花园", "家园", "新村", "社区")
ROADS = ("路", "街", "大道")


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def text_for(rnd: random.Random, place: str) -> str:
    estate = f"{rnd.choice('东南西北')}{rnd.choice('苑园城湖岸景')}{rnd.choice(ESTATES)}{rnd.randrange(1, 30)}栋"
    road = f"{place}{rnd.choice(ROADS)}{rnd.randrange(1, 300)}号" if rnd.random() < 0.5 else estate
    parts = [road + rnd.choice(PROBLEMS), rnd.choice(DETAILS), rnd.choice(REQUESTS)]
    return "，".join(p for p in parts if p) + "。"


def rerport(rnd: random.Random, text: str) -> str:
    """A re-report of the same matter: clauses dropped or swapped, a few characters replaced."""
    clauses = [c for c in text.rstrip("。").split("，") if c]
    if len(clauses) > 2 and rnd.random() < 0.5:
        clauses.pop(rnd.randrange(1, len(clauses)))
    if len(clauses) > 1 and rnd.random() < 0.5:
        clauses[0], clauses[-1] = clauses[-1], clauses[0]
    chars = list("，".join(clauses))
    for _ in range(rnd.randrange(0, 3)):
        chars[rnd.randrange(len(chars))] = rnd.choice("的了很还又")
    return "".join(chars)


def _status(rnd: random.Random, age_days: float) -> str:
    share = 0.70 if age_days <= 2 else 0.35 if age_days <= 10 else 0.08
    if rnd.random() < share:
        return rnd.choice(("registered", "dispatched", "handling", "handling", "replied"))
    return "merged" if rnd.random() < 0.03 else "closed"


def rows(count: int, areas: list[tuple[int, str, list[str]]], citizen: tuple[int, int]):
    """(case row, dup-key rows) per case; keys only for open cases, as the app keeps them."""
    from routing.duplicates import band_keys

    rnd = random.Random(20261120)
    for i in range(1, count + 1):
        age = rnd.random() * 30
        created = NOW - timedelta(days=age)
        area_id, place, scopes = areas[rnd.randrange(len(areas))]
        content = text_for(rnd, place)
        status = _status(rnd, age)
        keys = {k for scope in scopes for k in band_keys(content, scope)} if status not in ("closed", "merged") else ()
        yield (
            (
                i,
                f"GB{i:012d}",
                "complaint",
                "phone",
                "normal",
                status,
                content[:30],
                content,
                "",
                area_id,
                citizen[0],
                citizen[1],
                False,
                False,
                _naive(created),
                _naive(created),
                1,
            ),
            [(k, i) for k in keys],
        )


def _areas(conn) -> list[tuple[int, str, list[str]]]:
    units = conn.execute(
        "SELECT d.id, d.code, d.kind, d.name, p.code FROM departments d "
        "LEFT JOIN departments p ON p.id = d.parent_id WHERE d.kind IN ('district', 'street') "
        "ORDER BY d.id"
    ).fetchall()
    out = []
    for uid, code, kind, name, parent in units:
        scopes = [f"S:{code}", f"W:{parent}"] if kind == "street" else [f"D:{code}", f"W:{code}"]
        out.append((uid, name[:2], scopes))
    return out


def load(url: str, count: int) -> dict:
    import psycopg

    from hotline.dispatch.duplicates import scopes_of  # noqa: F401 — the scopes above mirror it (checked in child)

    started = time.monotonic()
    with psycopg.connect(url) as conn:
        idx = dict(
            conn.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ('cases', 'case_dup_keys') "
                "AND indexname NOT LIKE 'pk_%' AND indexname NOT LIKE 'uq_%'"
            )
        )
        for name in idx:
            conn.execute(f"DROP INDEX {name}")
        conn.execute("ALTER TABLE case_dup_keys DROP CONSTRAINT pk_case_dup_keys")
        conn.execute("ALTER TABLE case_dup_keys DROP CONSTRAINT fk_case_dup_keys_case_id_cases")
        areas = _areas(conn)
        cit = conn.execute(
            "INSERT INTO citizens (tags, created_at, updated_at) VALUES ('[]', now(), now()) RETURNING id"
        ).fetchone()[0]
        phone = conn.execute(
            "INSERT INTO citizen_phones (citizen_id, phone_hash, phone_enc, masked, kind, "
            "created_at) VALUES (%s, 'bench', 'bench', '139****0000', 'mobile', now()) "
            "RETURNING id",
            (cit,),
        ).fetchone()[0]
        conn.commit()
        gen = rows(count, areas, (cit, phone))
        keys = 0
        with conn.cursor() as cur:
            while chunk := list(itertools.islice(gen, CHUNK)):
                with cur.copy(f"COPY cases ({', '.join(CASE_COLS)}) FROM STDIN") as copy:
                    for row, _ in chunk:
                        copy.write_row(row)
                with cur.copy("COPY case_dup_keys (key, case_id) FROM STDIN") as copy:
                    for _, key_rows in chunk:
                        for k in key_rows:
                            copy.write_row(k)
                        keys += len(key_rows)
                conn.commit()
        copied = time.monotonic() - started
        log(f"dup_check: COPY done in {copied:.0f}s ({keys:,} keys); building indexes")
        conn.execute("SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT max(id) FROM cases))")
        conn.execute("ALTER TABLE case_dup_keys ADD CONSTRAINT pk_case_dup_keys PRIMARY KEY (key, case_id)")
        conn.execute(
            "ALTER TABLE case_dup_keys ADD CONSTRAINT fk_case_dup_keys_case_id_cases "
            "FOREIGN KEY (case_id) REFERENCES cases (id)"
        )
        for definition in idx.values():
            conn.execute(definition)
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM (ANALYZE) cases, case_dup_keys")
        open_ = conn.execute("SELECT count(*) FROM cases WHERE status NOT IN ('closed', 'merged')").fetchone()[0]
        size = conn.execute("SELECT pg_size_pretty(pg_total_relation_size('case_dup_keys'))").fetchone()[0]
    return {
        "cases": count,
        "open_cases": open_,
        "dup_keys": keys,
        "copy_seconds": round(copied, 1),
        "load_seconds": round(time.monotonic() - started, 1),
        "dup_keys_size": size,
    }
