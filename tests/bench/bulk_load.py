"""Streaming bulk loader: a PostgreSQL database with a city's worth of 一号一档 history.

    python -m tests.bench.bulk_load --pg postgresql://postgres@127.0.0.1:5432/ [--citizens 300000]
        [--cases 1000000] [--pg-db hotline_bench_lookup] [--phones-out FILE] [--keep]
    python -m tests.bench.bulk_load --database-url URL --instance DIR ...   # load into a prepared instance

With ``--pg`` the loader drops and recreates its own database on that server (never the one named in
the URL), runs ``flask db upgrade`` and ``flask seed --demo`` on a temp instance folder, then loads.
With ``--database-url``/``--instance`` it loads into an instance someone else prepared (the
``profile_lookup`` benchmark does that, to serve the same instance with gunicorn afterwards).

What it writes, after the demo seed: ``--citizens`` citizen files, each with one mobile number (a share
with a second, landline number), ``--cases`` cases spread over them Zipf-like (most files have 1–3
cases; 0.5 % are heavy callers with 20–80), every case's timeline (1–5 case_events by its path through the
workflow), a lead assignment for every dispatched case, calls for about 60 % of the files and ratings for
a quarter of the closed cases. Phone numbers are normalised, masked, encrypted and blind-indexed exactly as
the app does it (``hotline.citizens.phones`` and ``DataCipher`` with the instance's own keys), so
``GET /api/v1/citizens/lookup`` finds them; names are encrypted too.

Streaming: every table is written with ``COPY … FROM STDIN`` (psycopg ``cursor.copy`` + ``write_row``)
fed by a generator (one seeded generator describes every citizen and its cases), ``--batch`` cases per
COPY statement and transaction. Nothing is collected in memory. As a superuser (the default server URL)
all seven COPYs are open at once on seven connections and fed from one walk over the generator, with FK
triggers off for the load (``session_replication_role = replica``: the rows are consistent by
construction); otherwise (or ``--fk-checks``) one table after the other in FK order, each replaying the
generator. Secondary indexes and unique constraints of the loaded tables are dropped first and built
again from their catalog definitions afterwards (checked identical), then VACUUM (ANALYZE). The loader's
RSS is sampled after every batch; its peak is reported with the row counts (JSON, ``--json``).
"""
from __future__ import annotations

import argparse
import bisect
import json
import os
import random
import resource
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import psutil

LOOKUP_DB = "hotline_bench_lookup"
MOBILE_PREFIXES = ("139", "138", "137", "136", "135", "158", "159", "186", "187", "188")
KINDS = ("consult", "help", "complaint", "report", "suggestion", "praise")
KIND_WEIGHTS = (0.35, 0.25, 0.25, 0.05, 0.07, 0.03)
CHANNELS = ("phone",) * 8 + ("web", "wechat")
CARE_TAGS = ('["elderly"]', '["disabled"]', '["special_care"]', '["elderly", "special_care"]')
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国红梅海燕玉兰志强"
CONTENTS = (
    "小区门口垃圾堆放多日无人清理，气味很大，请尽快处理",
    "楼上住户装修噪音扰民，晚上十点以后还在施工",
    "小区停水两天了，物业说是管网维修，什么时候恢复供水",
    "路灯损坏一个多月，晚上出行不安全，希望尽快维修",
    "咨询新生儿医保办理需要哪些材料，在哪里办理",
    "反映公交线路调整后居民出行不便，建议恢复原站点",
    "投诉某餐馆油烟直排，影响周边居民生活",
    "咨询公积金提取条件和办理流程",
    "小区电梯经常故障，物业维修不及时，存在安全隐患",
    "道路井盖缺失，存在安全隐患，请相关部门尽快处理",
    "咨询社保卡补办流程及所需材料",
    "反映农民工工资被拖欠三个月，要求协调解决",
    "建议在学校周边增设交通信号灯和减速带",
    "表扬社区工作人员热心帮助老人办理业务",
)
REPLIES = ("已安排人员现场处理，问题已解决", "已向市民解释相关政策", "已督促责任单位限期整改")
COMMENTS = ("", "", "", "处理及时，满意", "还可以", "没有解决问题", "态度很好")
# A case's path through the workflow (hotline/cases/workflow.py): the events it wrote, in order.
PATHS = {
    "registered": ("create",),
    "answer": ("create", "answer"),
    "dispatched": ("create", "dispatch"),
    "handling": ("create", "dispatch", "sign"),
    "replied": ("create", "dispatch", "sign", "reply"),
    "closed": ("create", "dispatch", "sign", "reply", "close"),
}
PATH_SHARES = (("answer", 0.42), ("closed", 0.40), ("registered", 0.03), ("dispatched", 0.04),
               ("handling", 0.07), ("replied", 0.04))
TRANSITION = {"create": (None, "registered"), "answer": ("registered", "closed"),
              "dispatch": ("registered", "dispatched"), "sign": ("dispatched", "handling"),
              "reply": ("handling", "replied"), "close": ("replied", "closed")}
STATUS = {"registered": "registered", "answer": "closed", "dispatched": "dispatched", "handling": "handling",
          "replied": "replied", "closed": "closed"}
ASSIGNMENT_STATUS = {"dispatched": "pending", "handling": "signed", "replied": "replied", "closed": "replied"}
# Offsets of each event after the case was created.
EVENT_OFFSET = {"create": timedelta(0), "answer": timedelta(minutes=6), "dispatch": timedelta(minutes=20),
                "sign": timedelta(hours=3), "reply": timedelta(days=4), "close": timedelta(days=5)}
MAX_CASES_PER_CITIZEN = 19  # ordinary callers; heavy callers (HEAVY_SHARE of the files) have 20–80
HEAVY_SHARE = 0.005
HEAVY_CASES = (20, 80)


def log(msg: str) -> None:
    print(f"[bulk_load {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def zipf_cdf(mean: float, kmax: int = MAX_CASES_PER_CITIZEN) -> list[float]:
    """Cumulative P(k cases), k = 1..kmax, P(k) ∝ k^-s, with s chosen (bisection) so the mean is ``mean``."""
    mean = min(max(mean, 1.0), kmax / 2)

    def weights(s: float) -> list[float]:
        w = [k ** -s for k in range(1, kmax + 1)]
        total = sum(w)
        return [x / total for x in w]

    lo, hi = 0.0, 10.0
    for _ in range(60):
        s = (lo + hi) / 2
        m = sum(k * p for k, p in enumerate(weights(s), 1))
        lo, hi = (s, hi) if m > mean else (lo, s)
    cdf, acc = [], 0.0
    for p in weights((lo + hi) / 2):
        acc += p
        cdf.append(acc)
    cdf[-1] = 1.0
    return cdf


@dataclass
class Config:
    citizens: int = 300_000
    cases: int = 1_000_000
    second_phone_share: float = 0.10
    call_share: float = 0.60
    rating_share: float = 0.25  # of closed cases
    batch: int = 50_000
    seed: int = 12345
    days: int = 730  # history depth
    phones_sample: float = 0.10  # share of primary numbers written to --phones-out


@dataclass
class Refs:
    """What the loader needs from the seeded database: ids to refer to, and where each id range starts."""

    now: datetime
    departments: list[int]  # units cases are dispatched to
    districts: list[int]
    categories: list[int]
    agents: list[int]
    base: dict[str, int] = field(default_factory=dict)  # table -> first id this load uses
    number_seq: int = 0  # per-day case numbers start above this (the highest already stored)


class CasePlan(NamedTuple):
    id: int
    number: str
    path: str
    created_at: datetime
    kind: str
    channel: str
    category_id: int
    district_id: int
    department_id: int | None
    agent_id: int
    content: str
    rating: int  # 0 = no rating, else the score 1..5
    call_ref: int  # call row of this citizen to link, -1 = none


class CitizenPlan(NamedTuple):
    id: int
    index: int
    created_at: datetime
    name: str
    tags: str
    phone_id: int
    phone: str  # raw primary number (mobile)
    second_phone_id: int  # 0 = none
    second_phone: str
    calls: int
    cases: list[CasePlan]


def plan(cfg: Config, refs: Refs) -> Iterator[CitizenPlan]:
    """Every citizen and its cases, deterministically (same seed → same sequence): each pass replays it."""
    rng = random.Random(cfg.seed)
    rand = rng.random
    heavy_mean = sum(HEAVY_CASES) / 2
    cdf = zipf_cdf((cfg.cases / cfg.citizens - HEAVY_SHARE * heavy_mean) / (1 - HEAVY_SHARE))
    kind_cdf = [sum(KIND_WEIGHTS[: i + 1]) for i in range(len(KINDS))]
    path_cdf, acc = [], 0.0
    for _name, share in PATH_SHARES:
        acc += share
        path_cdf.append(acc)
    path_cdf[-1] = 1.0
    paths = [name for name, _ in PATH_SHARES]
    horizon = cfg.days * 86400
    latest = refs.now - timedelta(days=1)  # loaded history ends yesterday: today's case numbers are the app's
    case_id = refs.base["cases"]
    last_case = case_id + cfg.cases
    second_id = refs.base["citizen_phones"] + cfg.citizens
    day_seq: dict[str, int] = {}  # per-day case-number counters (≤ days entries)
    day_str: dict[int, str] = {}
    ndep, ndis, ncat, nag = len(refs.departments), len(refs.districts), len(refs.categories), len(refs.agents)
    for i in range(cfg.citizens):
        if rand() < HEAVY_SHARE:
            k = HEAVY_CASES[0] + int(rand() * (HEAVY_CASES[1] - HEAVY_CASES[0] + 1))
        else:
            k = bisect.bisect_left(cdf, rand()) + 1
        k = max(0, min(k, last_case - case_id))
        start = latest - timedelta(seconds=int(rand() * horizon))
        n_calls = 0
        if rand() < cfg.call_share:
            n_calls = 1 + int(rand() * min(k + 1, 8))
        second = rand() < cfg.second_phone_share
        cases = []
        span = max(1, int((latest - start).total_seconds()))
        for _ in range(k):
            created = start + timedelta(seconds=int(rand() * span))
            path = paths[bisect.bisect_left(path_cdf, rand())]
            ordinal = created.toordinal()
            day = day_str.get(ordinal) or day_str.setdefault(ordinal, created.strftime("%Y%m%d"))
            seq = day_seq[day] = day_seq.get(day, refs.number_seq) + 1
            rating = 0
            if STATUS[path] == "closed" and rand() < cfg.rating_share:
                r = rand()
                rating = 5 if r < 0.6 else 4 if r < 0.8 else 3 if r < 0.9 else 2 if r < 0.95 else 1
            dept = refs.departments[int(rand() * ndep)] if path in ASSIGNMENT_STATUS else None
            cases.append(CasePlan(
                case_id + 1, f"GD{day}-{seq:06d}", path, created, KINDS[bisect.bisect_left(kind_cdf, rand())],
                CHANNELS[int(rand() * len(CHANNELS))], refs.categories[int(rand() * ncat)],
                refs.districts[int(rand() * ndis)], dept, refs.agents[int(rand() * nag)],
                CONTENTS[int(rand() * len(CONTENTS))], rating, int(rand() * n_calls) if n_calls and rand() < 0.5
                else -1))
            case_id += 1
        name = SURNAMES[int(rand() * len(SURNAMES))] + GIVEN[int(rand() * len(GIVEN))] \
            + (GIVEN[int(rand() * len(GIVEN))] if rand() < 0.6 else "")
        tags = CARE_TAGS[int(rand() * len(CARE_TAGS))] if rand() < 0.04 else "[]"
        cid = refs.base["citizens"] + i + 1  # numbers derive from ids: unique, also when a load appends
        phone = MOBILE_PREFIXES[cid % 10] + f"{(cid * 7919 + 1234567) % 10**8:08d}"
        second_phone = f"0571-8{((second_id + 1) * 7919 + 7654321) % 10**7:07d}" if second else ""
        yield CitizenPlan(cid, i, start, name, tags, refs.base["citizen_phones"] + i + 1,
                          phone, second_id + 1 if second else 0, second_phone, n_calls, cases)
        if second:
            second_id += 1


# --- rows per table, per citizen ---------------------------------------------------------------------

def _call_id(citizen: CitizenPlan, n: int) -> str:
    return f"BL{citizen.id:08d}-{n:02d}"


class Rows:
    """Row builders: each takes one CitizenPlan and returns that citizen's rows of one table."""

    def __init__(self, refs: Refs, cipher):
        from hotline.citizens.phones import mask, normalize

        self.refs, self.cipher, self.normalize, self.mask = refs, cipher, normalize, mask
        self.phone_kinds: dict[str, int] = {}

    def citizens(self, c: CitizenPlan) -> list[tuple]:
        return [(c.id, self.cipher.encrypt(c.name), c.tags, c.created_at, c.created_at)]

    def _phone(self, phone_id: int, c: CitizenPlan, raw: str) -> tuple:
        p = self.normalize(raw)  # exactly the app's key, mask, ciphertext and blind index
        self.phone_kinds[p.kind] = self.phone_kinds.get(p.kind, 0) + 1
        return (phone_id, c.id, self.cipher.blind_index(p.key), self.cipher.encrypt(p.key), self.mask(p), p.kind,
                c.created_at)

    def citizen_phones(self, c: CitizenPlan) -> list[tuple]:
        rows = [self._phone(c.phone_id, c, c.phone)]
        if c.second_phone_id:
            rows.append(self._phone(c.second_phone_id, c, c.second_phone))
        return rows

    def calls(self, c: CitizenPlan) -> list[tuple]:
        rows = []
        span = max(1, int((self.refs.now - timedelta(days=1) - c.created_at).total_seconds()))
        agents = self.refs.agents
        for n in range(c.calls):
            ringing = c.created_at + timedelta(seconds=(n * 7919 * 3607 + c.id * 131) % span)
            duration = 30 + (c.id * 31 + n * 17) % 600
            answered = ringing + timedelta(seconds=8)
            rows.append((_call_id(c, n), c.id, c.phone_id, agents[(c.id + n) % len(agents)], "12345", "ended",
                         ringing, answered, answered + timedelta(seconds=duration), duration,
                         '["ringing", "answered", "ended"]', ringing))
        return rows

    def cases(self, c: CitizenPlan) -> list[tuple]:
        rows = []
        for k in c.cases:
            events = PATHS[k.path]
            last = k.created_at + EVENT_OFFSET[events[-1]]
            dispatched = k.created_at + EVENT_OFFSET["dispatch"] if k.department_id else None
            status = STATUS[k.path]
            rows.append((
                k.id, k.number, k.kind, k.channel, "normal", status, k.content[:20], f"{k.content}（{k.id}）",
                "人民路1号", k.category_id, k.district_id, c.id, c.phone_id, False, False, k.department_id,
                _call_id(c, k.call_ref) if k.call_ref >= 0 else None, k.agent_id,
                "已解答：请按政策办理" if k.path == "answer" else None,
                dispatched + DAY if dispatched else None, dispatched + 2 * DAY if dispatched else None,
                dispatched + 15 * DAY if dispatched else None,
                k.created_at, last, last if status == "closed" else None, len(events)))
        return rows

    def case_events(self, c: CitizenPlan) -> list[tuple]:
        rows = []
        for k in c.cases:
            for action in PATHS[k.path]:
                before, after = TRANSITION[action]
                by_unit = action in ("sign", "reply")
                rows.append((k.id, action, before, after, None if by_unit else k.agent_id,
                             "部门经办人" if by_unit else "话务员", k.department_id if action != "create" else None,
                             REPLIES[k.id % len(REPLIES)] if action == "reply" else "", "{}",
                             k.created_at + EVENT_OFFSET[action]))
        return rows

    def assignments(self, c: CitizenPlan) -> list[tuple]:
        rows = []
        for k in c.cases:
            if not k.department_id:
                continue
            at = k.created_at + EVENT_OFFSET["dispatch"]
            status = ASSIGNMENT_STATUS[k.path]
            signed = k.created_at + EVENT_OFFSET["sign"] if status != "pending" else None
            replied = k.created_at + EVENT_OFFSET["reply"] if status == "replied" else None
            rows.append((k.id, k.department_id, "lead", status, k.agent_id, at, signed, signed, replied,
                         at + DAY, at + 2 * DAY, at + 15 * DAY,
                         REPLIES[k.id % len(REPLIES)] if replied else None, "resolved" if replied else None, 0))
        return rows

    def ratings(self, c: CitizenPlan) -> list[tuple]:
        return [(k.id, c.id, k.department_id, k.rating, k.rating >= 3, COMMENTS[k.id % len(COMMENTS)],
                 "sms" if k.id % 3 else "web", k.created_at + EVENT_OFFSET["close"] + 2 * HOUR)
                for k in c.cases if k.rating]


DAY, HOUR = timedelta(days=1), timedelta(hours=1)
# Load order (FK order, for the one-table-at-a-time mode) and the columns each builder fills.
TABLES = {
    "citizens": ("id", "name_enc", "tags", "created_at", "updated_at"),
    "citizen_phones": ("id", "citizen_id", "phone_hash", "phone_enc", "masked", "kind", "created_at"),
    "calls": ("call_id", "citizen_id", "phone_id", "agent_id", "callee", "status", "ringing_at", "answered_at",
              "ended_at", "duration_seconds", "seen_events", "created_at"),
    "cases": ("id", "number", "kind", "channel", "urgency", "status", "title", "content", "address", "category_id",
              "district_id", "citizen_id", "phone_id", "confidential", "complex", "lead_department_id", "call_id",
              "created_by_id", "answer", "deadline_sign", "deadline_contact", "deadline_reply", "created_at",
              "updated_at", "closed_at", "version"),
    "case_events": ("case_id", "action", "from_status", "to_status", "actor_id", "actor_label", "department_id",
                    "note", "data", "created_at"),
    "assignments": ("case_id", "department_id", "role", "status", "assigned_by_id", "assigned_at", "signed_at",
                    "contacted_at", "replied_at", "deadline_sign", "deadline_contact", "deadline_reply",
                    "reply_content", "reply_result", "extensions_used"),
    "ratings": ("case_id", "citizen_id", "department_id", "score", "resolved", "comment", "channel", "created_at"),
}


# --- loading -------------------------------------------------------------------------------------------

def read_refs(conn) -> Refs:
    def ids(sql: str) -> list[int]:
        return [r[0] for r in conn.execute(sql).fetchall()]

    refs = Refs(
        now=datetime.now(UTC).replace(tzinfo=None, microsecond=0),
        departments=ids("SELECT id FROM departments WHERE kind IN ('department', 'utility', 'district') ORDER BY id"),
        districts=ids("SELECT id FROM departments WHERE kind = 'district' ORDER BY id"),
        categories=ids("SELECT id FROM categories ORDER BY id"),
        agents=ids("SELECT id FROM users WHERE role = 'agent' ORDER BY id"),
    )
    if not (refs.departments and refs.districts and refs.categories and refs.agents):
        raise SystemExit("the database has no demo seed (departments, categories, agents): run `flask seed --demo`")
    for table in ("citizens", "citizen_phones", "cases"):
        refs.base[table] = conn.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0]
    refs.number_seq = conn.execute(r"SELECT coalesce(max(substring(number from 12)::int), 0) FROM cases "
                                   r"WHERE number ~ '^GD\d{8}-\d{6}$'").fetchone()[0]
    return refs


def secondary_indexes(conn, table: str) -> list[tuple[str, str, str | None]]:
    """(name, CREATE statement, constraint name or None) of every non-primary index of ``table``."""
    rows = conn.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), c.conname, "
        "pg_get_constraintdef(c.oid) FROM pg_index i "
        "LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid "
        "WHERE i.indrelid = %s::regclass AND NOT i.indisprimary ORDER BY 1", (table,)).fetchall()
    out = []
    for name, indexdef, conname, condef in rows:
        if conname:
            out.append((name, f'ALTER TABLE {table} ADD CONSTRAINT "{conname}" {condef}', conname))
        else:
            out.append((name, indexdef, None))
    return out


class Loader:
    """COPY the plan's rows into every table, ``batch`` cases per COPY statement and transaction.

    ``single_pass``: one connection per table, all COPYs open at once and fed from one walk over the plan
    (needs FK checks off: a case row may reach the server before its citizen's batch is committed).
    Otherwise one table after the other in FK order, each walking the plan again.
    """

    def __init__(self, url: str, cfg: Config, rows: Rows, refs: Refs, fk_checks: bool):
        self.url, self.cfg, self.rows, self.refs, self.fk_checks = url, cfg, rows, refs, fk_checks
        self.counts = dict.fromkeys(TABLES, 0)
        self.seconds = dict.fromkeys(TABLES, 0.0)
        self.rss_samples: list[float] = []
        self.batches = 0

    def connect(self):
        import psycopg

        conn = psycopg.connect(self.url)
        conn.execute("SET synchronous_commit = off")  # a bulk load: after a crash you reload anyway
        if not self.fk_checks:  # superuser only: FK triggers do not fire (the rows are consistent by construction)
            conn.execute("SET session_replication_role = replica")
        conn.commit()
        return conn

    def _sample(self, done: int, started: float, what: str) -> None:
        self.rss_samples.append(rss_mb())
        self.batches += 1
        if self.batches % 5 == 0:
            log(f"  {what}: {done:,} citizens, {sum(self.counts.values()):,} rows, "
                f"{sum(self.counts.values()) / (time.perf_counter() - started):,.0f} rows/s, "
                f"RSS {self.rss_samples[-1]:.1f} MB")

    def run_single_pass(self) -> None:
        conns = {t: self.connect() for t in TABLES}
        builders = {t: getattr(self.rows, t) for t in TABLES}
        started = time.perf_counter()
        citizens = plan(self.cfg, self.refs)
        done = 0
        try:
            while True:
                cases_in_batch = 0
                curs = {t: conns[t].cursor() for t in TABLES}
                copies = {t: curs[t].copy(f"COPY {t} ({', '.join(cols)}) FROM STDIN") for t, cols in TABLES.items()}
                writers = {t: copies[t].__enter__().write_row for t in TABLES}
                exhausted = True
                for c in citizens:
                    done += 1
                    for t, build in builders.items():
                        write = writers[t]
                        rows = build(c)
                        for row in rows:
                            write(row)
                        self.counts[t] += len(rows)
                    cases_in_batch += len(c.cases)
                    if cases_in_batch >= self.cfg.batch:
                        exhausted = False
                        break
                for t in TABLES:  # end each COPY, then commit (order is free: no FK triggers fire)
                    copies[t].__exit__(None, None, None)
                    curs[t].close()
                    conns[t].commit()
                self._sample(done, started, "all tables")
                if exhausted:
                    break
        finally:
            for conn in conns.values():
                conn.close()
        elapsed = time.perf_counter() - started
        self.seconds = dict.fromkeys(TABLES, round(elapsed, 1))

    def run_per_table(self) -> None:
        conn = self.connect()
        try:
            for table, cols in TABLES.items():
                build = getattr(self.rows, table)
                started = time.perf_counter()
                citizens = plan(self.cfg, self.refs)
                done = 0
                while True:
                    cases_in_batch, exhausted = 0, True
                    with conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                        for c in citizens:
                            done += 1
                            rows = build(c)
                            for row in rows:
                                copy.write_row(row)
                            self.counts[table] += len(rows)
                            cases_in_batch += len(c.cases)
                            if cases_in_batch >= self.cfg.batch:
                                exhausted = False
                                break
                    conn.commit()
                    self._sample(done, started, table)
                    if exhausted:
                        break
                self.seconds[table] = round(time.perf_counter() - started, 1)
                log(f"{table}: {self.counts[table]:,} rows in {self.seconds[table]:.1f}s, "
                    f"RSS {self.rss_samples[-1]:.1f} MB")
        finally:
            conn.close()


def write_phone_files(cfg: Config, refs: Refs, sample_path: Path | None, heavy_path: Path | None,
                      heavy_min: int = 20) -> dict:
    """Raw numbers for the load generator: a random sample of files, and every heavy caller's number."""
    out = {"sample": 0, "heavy": 0}
    if not sample_path and not heavy_path:
        return out
    rng = random.Random(cfg.seed + 1)
    sample = sample_path.open("w") if sample_path else None
    heavy = heavy_path.open("w") if heavy_path else None
    try:
        for c in plan(cfg, refs):
            if sample and rng.random() < cfg.phones_sample:
                sample.write(c.phone + "\n")
                out["sample"] += 1
            if heavy and len(c.cases) >= heavy_min:
                heavy.write(c.phone + "\n")
                out["heavy"] += 1
    finally:
        for fh in (sample, heavy):
            if fh:
                fh.close()
    return out


def load(database_url: str, instance: Path, cfg: Config, phones_out: Path | None = None,
         heavy_out: Path | None = None, fk_checks: bool | None = None, defer_indexes: bool = True) -> dict:
    """Fill the (migrated, seeded) database of ``instance``; returns counts, timings and memory.

    ``fk_checks=None``: off when the role may (superuser), which also allows the single pass.
    ``defer_indexes``: drop the loaded tables' secondary indexes and unique constraints first and build them
    again afterwards (the same definitions, read from the catalog): a sort per index instead of a million
    B-tree inserts.
    """
    import psycopg

    from hotline.citizens.privacy import DataCipher
    from hotline.config import Settings

    settings = Settings.from_env({"HOTLINE_INSTANCE": str(instance), "DATABASE_URL": database_url})
    old_keys = tuple(k.strip() for k in settings.data_keys_old.split(",") if k.strip())
    cipher = DataCipher(settings.data_key, old_keys, settings.index_key)
    url = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    rss_start = rss_mb()
    started = time.perf_counter()
    timings: dict[str, float] = {}
    with psycopg.connect(url, autocommit=True) as admin:
        refs = read_refs(admin)
        superuser = admin.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]
        if fk_checks is None:
            fk_checks = not superuser
        dropped: list[tuple[str, str, str, str | None]] = []
        if defer_indexes:
            for table in TABLES:
                for name, create, conname in secondary_indexes(admin, table):
                    admin.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{conname}"' if conname
                                  else f'DROP INDEX "{name}"')
                    dropped.append((table, name, create, conname))
        rows = Rows(refs, cipher)
        loader = Loader(url, cfg, rows, refs, fk_checks)
        t0 = time.perf_counter()
        if fk_checks:
            loader.run_per_table()
        else:
            loader.run_single_pass()
        timings["copy"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        admin.execute("SET maintenance_work_mem = '256MB'")
        for _table, _name, create, _conname in dropped:
            admin.execute(create)
        timings["indexes"] = time.perf_counter() - t0
        for table in ("citizens", "citizen_phones", "cases"):
            admin.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                          f"(SELECT coalesce(max(id), 1) FROM {table}))")
        timings["load"] = time.perf_counter() - started
        t0 = time.perf_counter()
        for table in TABLES:
            admin.execute(f"VACUUM (ANALYZE) {table}")
        timings["vacuum_analyze"] = time.perf_counter() - t0
        restored = {t: sorted(c for _n, c, _k in secondary_indexes(admin, t)) for t in TABLES}
        expected: dict[str, list[str]] = {}
        for table, _name, create, _conname in dropped:
            expected.setdefault(table, []).append(create)
        for table, creates in expected.items():
            if restored[table] != sorted(creates):
                raise RuntimeError(f"{table}: indexes after the load differ from before:\n{restored[table]}\n"
                                   f"{sorted(creates)}")
        sizes = {t: admin.execute("SELECT pg_total_relation_size(%s)", (t,)).fetchone()[0] / 2**20 for t in TABLES}
        distribution = admin.execute(
            "SELECT count(*) FILTER (WHERE n BETWEEN 1 AND 3), count(*) FILTER (WHERE n BETWEEN 4 AND 9), "
            "count(*) FILTER (WHERE n BETWEEN 10 AND 19), count(*) FILTER (WHERE n >= 20), max(n) "
            "FROM (SELECT citizen_id, count(*) AS n FROM cases GROUP BY citizen_id) x").fetchone()
    files = write_phone_files(cfg, refs, phones_out, heavy_out)
    result = {
        "config": {"citizens": cfg.citizens, "cases": cfg.cases, "batch_cases": cfg.batch, "seed": cfg.seed,
                   "mode": "per-table passes, FK checks on" if fk_checks else
                   "single pass, one COPY per table open at once, FK triggers off (session_replication_role)",
                   "deferred_indexes": len(dropped)},
        "rows": loader.counts,
        "rows_total": sum(loader.counts.values()),
        "table_seconds": loader.seconds if fk_checks else {},
        "seconds": {k: round(v, 1) for k, v in timings.items()},
        "table_mb": {t: round(v, 1) for t, v in sizes.items()},
        "phone_kinds": rows.phone_kinds,
        "cases_per_citizen": {"1-3": distribution[0], "4-9": distribution[1], "10-19": distribution[2],
                              "20+": distribution[3], "max": distribution[4]},
        "rss_mb": {"start": round(rss_start, 1), "max_sampled": round(max(loader.rss_samples), 1),
                   "peak": round(peak_rss_mb(), 1), "samples": len(loader.rss_samples)},
        "phone_files": files,
    }
    log(f"loaded {result['rows_total']:,} rows in {timings['load']:.0f}s (COPY {timings['copy']:.0f}s, indexes "
        f"{timings['indexes']:.0f}s) + VACUUM ANALYZE {timings['vacuum_analyze']:.0f}s; peak RSS "
        f"{result['rss_mb']['peak']} MB (start {rss_start:.1f} MB)")
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.bench.bulk_load", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    env_url = os.environ.get("DATABASE_URL", "")
    p.add_argument("--pg", metavar="URL", default=env_url if env_url.startswith("postgres") else
                   "postgresql://postgres@127.0.0.1:5432/", help="PostgreSQL server (its database is not used)")
    p.add_argument("--pg-db", default=LOOKUP_DB, help=f"database to recreate on that server ({LOOKUP_DB})")
    p.add_argument("--database-url", help="load into this prepared database instead (with --instance)")
    p.add_argument("--instance", type=Path, help="instance folder of --database-url (its data/index keys)")
    p.add_argument("--citizens", type=int, default=Config.citizens)
    p.add_argument("--cases", type=int, default=Config.cases)
    p.add_argument("--batch", type=int, default=Config.batch, help="cases per COPY statement / transaction")
    p.add_argument("--fk-checks", action="store_true",
                   help="keep FK checks on (one table after the other); default: off when superuser")
    p.add_argument("--keep-indexes", action="store_true", help="do not defer secondary index builds")
    p.add_argument("--seed", type=int, default=Config.seed)
    p.add_argument("--phones-out", type=Path, help="write a random sample of the loaded numbers here")
    p.add_argument("--heavy-out", type=Path, help="write the numbers of heavy callers (≥ 20 cases) here")
    p.add_argument("--keep", action="store_true", help="keep the temp instance folder (with --pg)")
    p.add_argument("--json", action="store_true", help="print the result as JSON on the last line")
    args = p.parse_args(argv)
    cfg = Config(citizens=args.citizens, cases=args.cases, batch=args.batch, seed=args.seed)
    instance = None
    if args.database_url:
        if not args.instance:
            raise SystemExit("--database-url needs --instance (the folder with the app's data_key and index_key)")
        url, folder = args.database_url, args.instance
    else:
        from tests.bench.server import DbTarget, Instance

        instance = Instance(DbTarget("postgresql", args.pg, args.pg_db), keep=True, prestart_redis=False)
        instance.prepare()
        url, folder = instance.database_url, instance.folder
    result = load(url, folder, cfg, args.phones_out, args.heavy_out, fk_checks=True if args.fk_checks else None,
                  defer_indexes=not args.keep_indexes)
    result["database_url"], result["instance"] = url, str(folder)
    if instance is not None and not args.keep:
        instance.cleanup()
        result["instance"] = ""
    print(json.dumps(result, ensure_ascii=False) if args.json else json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
