"""What the peak hour does: the preparation (cases in every state the mix needs) and the actions of the mix.

The mix (per second, ``--scale`` multiplies every rate):

| action | who | request | rate |
| --- | --- | --- | --- |
| register | agents | POST /api/v1/cases (a new caller each time, ten kinds of matter) | 50 |
| lookup | agents | GET /api/v1/citizens/lookup?phone= (the caller's file, 一号一档) | 100 |
| case | agents, dispatchers | GET /api/v1/cases/NUMBER (recent cases) | 80 |
| inbox | units | GET /api/v1/cases?status=dispatched,handling (their inbox, first page) | 60 |
| changes | consoles | GET /api/v1/console/changes?since=CURSOR&limit=50 (the catch-up poll) | 40 |
| kb | agents | GET /api/v1/kb/search?q= | 20 |
| cti | call platform | POST /api/v1/cti/events (ringing, then ended, of one call; signed) | 20 |
| sign | units | POST /api/v1/cases/NUMBER/sign (prepared dispatched cases) | 3 |
| citizen | citizens' app | POST /open311/v2/requests.json (form) | 3 |
| rating | citizens | POST /api/v1/sms/inbound "5" (SMS reply to the rating invitation; signed) | 3 |
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import random
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

from tests.bench.peak_mix import Action
from tests.bench.peak_stack import CTI_SECRET, SMS_SECRET
from tests.bench.server import log

MATTERS = [
    ("complaint", "小区门口垃圾堆放多日无人清理，气味很大", "人民路1号"),
    ("complaint", "楼下饭店油烟直排，晚上噪音扰民", "解放路18号"),
    ("help", "路灯不亮已经一周，晚上出行不安全", "建设路与和平街交叉口"),
    ("complaint", "暖气不热，室温只有十四度", "幸福小区3号楼"),
    ("consult", "咨询灵活就业人员社保缴费基数怎么确定", ""),
    ("complaint", "占道经营，早市摊贩堵住消防通道", "东风路菜市场"),
    ("help", "井盖缺失，有行人掉落的危险", "学府路22号门前"),
    ("complaint", "小区内违章停车严重，救护车进不来", "锦绣花园"),
    ("help", "自来水管道漏水，路面结冰", "长江路中段"),
    ("complaint", "物业不作为，电梯坏了一个月没人修", "阳光小区5号楼"),
]
KB_QUERIES = ["社保缴费", "公积金提取", "居住证办理", "供暖费", "垃圾分类", "路灯报修", "户口迁移", "医保报销"]
UNITS = ["ZJJ", "SHJ", "RSJ", "JTJ", "D01"]
TZ = timezone(timedelta(hours=8))


def _json(body: dict) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode()


class Api:
    """Blocking JSON calls for the preparation."""

    def __init__(self, base_url: str, tokens: dict[str, str]):
        self.base, self.tokens = base_url, tokens

    def call(self, user: str, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        req = urllib.request.Request(  # noqa: S310 — 127.0.0.1
            self.base + path,
            data=_json(body) if body is not None else None,
            method=method,
            headers={"Authorization": f"Bearer {self.tokens[user]}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:  # noqa: S310 — 127.0.0.1
                return resp.status, json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"{}")


def prepare(api: Api, cases: int, replied: int, to_sign: int) -> dict:
    """``cases`` registered cases (their numbers and phones feed the reads); of them ``replied`` dispatched,
    signed and replied (their callers hold rating invitations) and ``to_sign`` dispatched to ZJJ, unsigned."""
    phones = [f"1360{i:07d}" for i in range(cases)]

    def register(i: int) -> tuple[str, str] | None:
        kind, text, address = MATTERS[i % len(MATTERS)]
        body = {"channel": "phone", "kind": kind, "content": f"{text}（准备{i}）", "citizen_phone": phones[i]}
        body.update(address=address, district_code="D01")
        status, answer = api.call(f"agent{1 + i % 3}", "POST", "/api/v1/cases", body)
        return (answer["number"], phones[i]) if status == 201 else None

    with ThreadPoolExecutor(8) as pool:
        made = [r for r in pool.map(register, range(cases)) if r]
    log(f"prepared {len(made)} registered cases")

    def to_unit(pair: tuple[str, str]) -> bool:
        status, _ = api.call("dispatcher1", "POST", f"/api/v1/cases/{pair[0]}/dispatch", {"department_code": "ZJJ"})
        return status == 200

    def sign_reply(pair: tuple[str, str]) -> bool:
        number = pair[0]
        if api.call("handler_zjj", "POST", f"/api/v1/cases/{number}/sign", {})[0] != 200:
            return False
        body = {"content": "已安排人员现场处理完毕，并与市民电话确认。", "result": "resolved"}
        return api.call("handler_zjj", "POST", f"/api/v1/cases/{number}/reply", body)[0] == 200

    chosen = made[: replied + to_sign]
    with ThreadPoolExecutor(8) as pool:
        dispatched = [p for p, ok in zip(chosen, pool.map(to_unit, chosen), strict=True) if ok]
        done = [p for p, ok in zip(dispatched[:replied], pool.map(sign_reply, dispatched[:replied]), strict=True) if ok]
    log(f"prepared {len(dispatched)} dispatched to ZJJ, {len(done)} of them replied (rating invitations)")
    return {
        "numbers": [n for n, _ in made],
        "phones": [p for _, p in made],
        "rating_phones": [p for _, p in done],
        "to_sign": [n for n, _ in dispatched[replied:]],
    }


def _signed(secret: str, body: dict) -> tuple[dict[str, str], bytes]:
    raw = _json(body)
    signature = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Hotline-Signature": signature}, raw


def actions(tokens: dict[str, str], prep: dict, services: list[str], scale: float = 1.0) -> list[Action]:
    rnd = random.Random(12345)
    numbers, phones = list(prep["numbers"]), list(prep["phones"])
    cursor = {"since": 0}

    def auth(user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[user]}", "Content-Type": "application/json"}

    agents = itertools.cycle(["agent1", "agent2", "agent3"])
    handlers = itertools.cycle(["handler_zjj", "handler_shj", "handler_rsj", "handler_jtj", "handler_d01"])

    def register(n: int):
        kind, text, address = MATTERS[n % len(MATTERS)]
        body = {"channel": "phone", "kind": kind, "content": f"{text}（{n}）", "citizen_phone": f"1370{n:07d}"}
        body.update(address=address, district_code="D01")
        return "POST", "/api/v1/cases", auth(next(agents)), _json(body)

    def registered(_status: int, answer: bytes) -> None:
        data = json.loads(answer)
        numbers.append(data["number"])

    def lookup(n: int):
        return "GET", f"/api/v1/citizens/lookup?phone={rnd.choice(phones)}", auth(next(agents)), None

    def case(n: int):
        recent = numbers[-2000:]
        user = "dispatcher1" if n % 4 == 0 else next(agents)
        return "GET", f"/api/v1/cases/{rnd.choice(recent)}", auth(user), None

    def inbox(n: int):
        return "GET", "/api/v1/cases?status=dispatched,handling", auth(next(handlers)), None

    def changes(n: int):
        return "GET", f"/api/v1/console/changes?since={cursor['since']}&limit=50", auth("monitor1"), None

    def changed(_status: int, answer: bytes) -> None:
        head = int(json.loads(answer).get("head") or 0)  # a console a few hundred events behind catches up
        cursor["since"] = max(cursor["since"], head - 400)

    def kb(n: int):
        q = urllib.parse.quote(KB_QUERIES[n % len(KB_QUERIES)])
        return "GET", f"/api/v1/kb/search?q={q}&limit=5", auth(next(agents)), None

    def cti(n: int):
        call, phase = n // 2, ("ringing", "ended")[n % 2]
        at = datetime.now(TZ).isoformat(timespec="seconds")
        body = {"event": phase, "call_id": f"peak-{call}", "caller": phones[call % len(phones)], "callee": "12345"}
        body.update(agent=f"agent{1 + call % 3}", at=at)
        headers, raw = _signed(CTI_SECRET, body)
        return "POST", "/api/v1/cti/events", headers, raw

    to_sign = list(prep["to_sign"])

    def sign(n: int):
        number = to_sign[n % len(to_sign)] if to_sign else numbers[0]
        return "POST", f"/api/v1/cases/{number}/sign", auth("handler_zjj"), b"{}"

    def citizen(n: int):
        form = {"api_key": tokens["agent1"], "service_code": services[n % len(services)]}
        form.update(description=f"{MATTERS[n % len(MATTERS)][1]}（市民{n}）", phone=f"1371{n:07d}")
        form["address_string"] = MATTERS[n % len(MATTERS)][2] or "人民路1号"
        data = urllib.parse.urlencode(form).encode()
        return "POST", "/open311/v2/requests.json", {"Content-Type": "application/x-www-form-urlencoded"}, data

    rating_phones = list(prep["rating_phones"])

    def rating(n: int):
        phone = rating_phones[n % len(rating_phones)] if rating_phones else phones[0]
        headers, raw = _signed(SMS_SECRET, {"from": phone, "text": "5", "id": f"peak-sms-{n}"})
        return "POST", "/api/v1/sms/inbound", headers, raw

    def rate(r: float) -> float:
        return max(0.5, r * scale)

    return [
        Action("register", rate(50), "write", register, on_answer=registered, expect=(201,)),
        Action("lookup", rate(100), "read", lookup),
        Action("case", rate(80), "read", case),
        Action("inbox", rate(60), "read", inbox),
        Action("changes", rate(40), "read", changes, on_answer=changed),
        Action("kb", rate(20), "read", kb),
        Action("cti", rate(20), "write", cti),
        Action("sign", min(rate(3), len(to_sign) / 70 or 0.5), "write", sign),
        Action("citizen", rate(3), "write", citizen, expect=(200, 201)),
        Action("rating", min(rate(3), len(rating_phones) / 70 or 0.5), "write", rating),
    ]
