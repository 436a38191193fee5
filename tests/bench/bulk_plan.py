"""What the bulk loader writes, as a deterministic plan: every citizen file and its cases (bulk_load.py streams
it into PostgreSQL, bulk_rows.py turns it into table rows).

``--citizens`` citizen files, each with one mobile number (a share with a second, landline number), ``--cases``
cases spread over them Zipf-like (most files have 1–3 cases; 0.5 % are heavy callers with 20–80), every case's
path through the workflow, calls for about 60 % of the files and ratings for a quarter of the closed cases. One
seeded generator describes it all: every pass over ``plan()`` replays the same sequence, nothing is kept in memory.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import NamedTuple

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
PATH_SHARES = (
    ("answer", 0.42),
    ("closed", 0.40),
    ("registered", 0.03),
    ("dispatched", 0.04),
    ("handling", 0.07),
    ("replied", 0.04),
)
TRANSITION = {
    "create": (None, "registered"),
    "answer": ("registered", "closed"),
    "dispatch": ("registered", "dispatched"),
    "sign": ("dispatched", "handling"),
    "reply": ("handling", "replied"),
    "close": ("replied", "closed"),
}
STATUS = {
    "registered": "registered",
    "answer": "closed",
    "dispatched": "dispatched",
    "handling": "handling",
    "replied": "replied",
    "closed": "closed",
}
ASSIGNMENT_STATUS = {"dispatched": "pending", "handling": "signed", "replied": "replied", "closed": "replied"}
# Offsets of each event after the case was created.
EVENT_OFFSET = {
    "create": timedelta(0),
    "answer": timedelta(minutes=6),
    "dispatch": timedelta(minutes=20),
    "sign": timedelta(hours=3),
    "reply": timedelta(days=4),
    "close": timedelta(days=5),
}
MAX_CASES_PER_CITIZEN = 19  # ordinary callers; heavy callers (HEAVY_SHARE of the files) have 20–80
HEAVY_SHARE = 0.005
HEAVY_CASES = (20, 80)


def zipf_cdf(mean: float, kmax: int = MAX_CASES_PER_CITIZEN) -> list[float]:
    """Cumulative P(k cases), k = 1..kmax, P(k) ∝ k^-s, with s chosen (bisection) so the mean is ``mean``."""
    mean = min(max(mean, 1.0), kmax / 2)

    def weights(s: float) -> list[float]:
        w = [k**-s for k in range(1, kmax + 1)]
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
            cases.append(
                CasePlan(
                    case_id + 1,
                    f"GD{day}-{seq:06d}",
                    path,
                    created,
                    KINDS[bisect.bisect_left(kind_cdf, rand())],
                    CHANNELS[int(rand() * len(CHANNELS))],
                    refs.categories[int(rand() * ncat)],
                    refs.districts[int(rand() * ndis)],
                    dept,
                    refs.agents[int(rand() * nag)],
                    CONTENTS[int(rand() * len(CONTENTS))],
                    rating,
                    int(rand() * n_calls) if n_calls and rand() < 0.5 else -1,
                )
            )
            case_id += 1
        name = (
            SURNAMES[int(rand() * len(SURNAMES))]
            + GIVEN[int(rand() * len(GIVEN))]
            + (GIVEN[int(rand() * len(GIVEN))] if rand() < 0.6 else "")
        )
        tags = CARE_TAGS[int(rand() * len(CARE_TAGS))] if rand() < 0.04 else "[]"
        cid = refs.base["citizens"] + i + 1  # numbers derive from ids: unique, also when a load appends
        phone = MOBILE_PREFIXES[cid % 10] + f"{(cid * 7919 + 1234567) % 10**8:08d}"
        second_phone = f"0571-8{((second_id + 1) * 7919 + 7654321) % 10**7:07d}" if second else ""
        yield CitizenPlan(
            cid,
            i,
            start,
            name,
            tags,
            refs.base["citizen_phones"] + i + 1,
            phone,
            second_id + 1 if second else 0,
            second_phone,
            n_calls,
            cases,
        )
        if second:
            second_id += 1


def write_phone_files(
    cfg: Config, refs: Refs, sample_path: Path | None, heavy_path: Path | None, heavy_min: int = 20
) -> dict:
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
