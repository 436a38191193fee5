"""Emergency and out-of-scope detection (pure; precision first).

``detect(text)`` flags a danger happening *now*: fire / gas leak → 119, person hurt or collapsed → 120,
crime in progress → 110, traffic accident → 122. A trigger does not count when, in its clause, it is
negated (没有着火), hypothetical or preventive (万一着火, 火灾隐患), in the past (昨天发生的车祸), or
part of an ordinary matter (消防通道被占用, 交通事故理赔, 工伤认定). Weak triggers (受伤, 打架,
冒烟) need a sign of urgency (正在, 现在, 快, 救命 …).

``out_of_scope(text)`` recognises matters the hotline answers with guidance and does not dispatch:
lawsuits, arbitration, discipline inspection, administrative review, information-disclosure
requests, petitions already in 信访.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from routing.text import normalize

# priority when several dangers are present: fire/gas first, then life, crime, traffic
_ORDER = ("119", "120", "110", "122")


def _alt(*groups: str) -> str:
    """Regex alternation of the whitespace-separated words of the groups."""
    return "|".join(w for g in groups for w in g.split())


# (number, strong?, pattern)
_TRIGGERS: list[tuple[str, bool, str]] = [
    ("119", True, _alt("着火了? 起火了? 失火了? 发生火灾 火灾现场 火烧起来 烧起来了 火势很?大 大火")),
    (
        "119",
        True,
        _alt("(?:燃气|煤气|天然气|液化气)(?:管道?)?(?:泄漏|泄露|漏气|漏了)", "闻到(?:很?浓的?)?(?:燃气|煤气|天然气)味"),
    ),
    ("119", True, _alt("(?:人|孩子|老人)被困(?:在)?(?:电梯|火|屋|楼|车) 困在电梯 电梯(?:里)?困人")),
    ("119", False, _alt("冒烟 冒火 火灾 浓烟滚滚 爆炸")),
    (
        "120",
        True,
        _alt("昏迷 晕倒 倒地不起 不省人事 休克 心脏骤停 呼吸困难 抽搐 大出血 流血不止 血流不止", "没有?呼吸 快不行了"),
    ),
    ("120", True, _alt("叫救护车 需要救护车 急需救护车 中毒了 触电了 溺水 掉进(?:河|水|井)")),
    ("120", False, _alt("受伤 受了伤 摔伤 烫伤 砸伤 流血 晕过去")),
    (
        "110",
        True,
        _alt("抢劫 打劫 持刀 拿刀 砍人 杀人 行凶 绑架 劫持 入室盗窃 有人撬门 正在偷 强奸 非法拘禁", "软禁 拐卖"),
    ),
    ("110", True, _alt("要跳楼 想跳楼 准备跳楼 要自杀 想自杀 轻生 跳河 我要报警 帮我报警 帮忙报警")),
    ("110", False, _alt(r"打架 斗殴 打人 群殴 家暴 殴打 小偷 偷东西 持械 闹事 撬\S{0,3}门 撬锁 撬窗")),
    ("122", True, _alt("车祸 撞车了? 追尾了? 翻车了? 被车撞 撞倒了?人 交通事故")),
]
_COMPILED = [(num, strong, re.compile(p)) for num, strong, p in _TRIGGERS]

_CLAUSE = re.compile(r"[。！？!?；;，,\n]")
# negated, hypothetical or preventive: the words right before the trigger
_NEGATION = re.compile(
    "(?:"
    + _alt(
        "没有 没 未 无 不是 并非 不会 防止 预防 避免 以防 防范 杜绝 谨防 以免",
        "担心 害怕 怕 万一 如果 假如 若 一旦 容易 可能 会不会 是否 引发 造成 导致",
        "差点 差一点 险些 几乎",
    )
    + r")\S{0,3}$"
)
# not now: past or habitual
_PAST = re.compile(
    _alt(
        r"昨天 昨晚 前天 上周 上个?月 去年 前年 之前 以前 曾经 当时 几天前 天前 个月前 年前",
        r"月份 \d+月\d+日 \d+号那天 \d{4}年 那次 后来 经常 常常 时常 常有 常发生 频发 频繁",
        r"多次 屡次 隔三差五 每当 每次 每天 总是 事件 不少 很多 许多 好几",
    )
)
# words right after the trigger that make it a matter of prevention, insurance, liability …
_BLOCK_AFTER = re.compile(
    r"^(?:\S{0,2})(?:"
    + _alt(
        "隐患 风险 险情排查 通道 演练 培训 宣传 知识 预案 认定",
        "鉴定 责任 理赔 赔偿 赔付 处理 保险 纠纷 案件 调解 官司",
        "诉讼 报告 事件的?处理 后",
    )
    + ")"
)
# ordinary matters that merely mention an emergency word
_ORDINARY = re.compile(
    _alt(
        r"消防通道 消防栓 消防设施 消防车道 消防检查 防火门 火车 火锅 烟火 抽烟 吸烟 油烟",
        r"烟囱 工伤 伤残 认定书 理赔 保险公司 赔偿 医药费 医疗费 报销 打架子鼓 打人工",
        r"信用卡 盗版 偷税 偷排 偷倒 偷拍 趁火打劫 心\S{0,3}流血 污染 排放 作坊 医院 手术",
        r"治疗",
    )
)
# complaint / letter language: a strong trigger there still needs a sign of urgency in its clause
_COMPLAINT = re.compile(
    _alt("投诉 举报 推责 推诿 整改 查处 监管 取缔 尊敬的 领导 局长 厅长 书记 市长 建议", "为什么 何时")
)
_CALM_LENGTH = 120
_URGENT = re.compile(
    _alt(
        "正在 现在 刚刚 刚才 此刻 马上 赶紧 快来 快点 救命 紧急 急救 求救 情况危急 很危险",
        "还在 一直在 快派 请速 速来 了!",
    )
)


@dataclass(frozen=True)
class Emergency:
    number: str  # 119 | 110 | 120 | 122
    phrase: str  # the words that triggered it
    numbers: tuple[str, ...]  # every number that applies, most urgent first


@dataclass(frozen=True)
class OutOfScope:
    reason: str  # 诉讼 | 仲裁 | 纪检监察 | 行政复议 | 信息公开 | 信访
    answer: str  # guidance for the citizen (zh-CN)
    phrase: str


def _clause_around(text: str, start: int, end: int) -> tuple[str, str, str]:
    """(clause before the match, the match, clause after the match)."""
    left = max((m.end() for m in _CLAUSE.finditer(text, 0, start)), default=0)
    nxt = _CLAUSE.search(text, end)
    right = nxt.start() if nxt else len(text)
    return text[left:start], text[start:end], text[end:right]


def _counts(before: str, after: str, clause: str, strong: bool, calm: bool) -> bool:
    if _NEGATION.search(before) or _BLOCK_AFTER.match(after):
        return False
    if _PAST.search(clause) or _ORDINARY.search(clause):
        return False
    return bool(_URGENT.search(clause)) or (strong and not calm)


def detect(text: str | None) -> Emergency | None:
    """The emergency happening now described by text, or None."""
    norm = normalize(text or "")
    if not norm:
        return None
    calm = len(norm) > _CALM_LENGTH or bool(_COMPLAINT.search(norm))
    found: dict[str, str] = {}
    for number, strong, pattern in _COMPILED:
        if number in found:
            continue
        for m in pattern.finditer(norm):
            before, phrase, after = _clause_around(norm, m.start(), m.end())
            if _counts(before, after, before + phrase + after, strong, calm):
                found[number] = phrase
                break
    if not found:
        return None
    numbers = tuple(n for n in _ORDER if n in found)
    return Emergency(numbers[0], found[numbers[0]], numbers)


# --- out of scope ----------------------------------------------------------------------------

_SCOPE: list[tuple[str, str, str]] = [
    (
        "信访",
        _alt(
            "已经?(?:进入|走了?|在走)信访 信访(?:局|办|部门|程序|事项|答复|复查|复核) 已经?上访",
            "(?:多次|一直|去|到)上访",
        ),
        "该事项已进入信访程序，请向受理的信访部门查询办理进度或申请复查、复核；12345 不重复受理。",
    ),
    (
        "诉讼",
        _alt(
            "起诉 诉讼 打官司 上诉 法院(?:已经?)?(?:判决|立案|裁定|受理) 判决书",
            "申请(?:法院)?(?:强制)?执行 (?:法院|判决)(?:不|没有?)执行",
        ),
        "该事项属于司法诉讼范围，请向有管辖权的人民法院起诉、上诉或申请执行；如需法律帮助可拨打 12348 法律援助热线。",
    ),
    (
        "仲裁",
        _alt("劳动仲裁 人事仲裁 申请仲裁 仲裁委 仲裁(?:裁决|申请|结果|庭) 去仲裁 提起仲裁"),
        "劳动、人事争议请向劳动人事争议仲裁委员会申请仲裁（自知道权利被侵害之日起一年内）；"
        "合同纠纷请按约定向仲裁委员会申请。",
    ),
    (
        "纪检监察",
        _alt("纪委 纪检 监委 违纪 贪污 受贿 行贿 索贿 挪用公款 公款吃喝 以权谋私 违反八项规定", "中央八项规定"),
        "反映党员干部违纪或公职人员职务违法犯罪的问题，请向纪委监委（信访举报电话 12388 或网站）实名或匿名举报。",
    ),
    (
        "行政复议",
        _alt("行政复议 申请复议 复议申请 复议机关 不服.{0,10}(?:处罚|决定).{0,6}复议"),
        "对行政行为不服的，请自知道该行政行为之日起 60 日内向复议机关申请行政复议，或依法提起行政诉讼。",
    ),
    (
        "信息公开",
        _alt("信息公开申请 申请(?:政府)?信息公开 依申请公开 申请公开 政府信息公开"),
        "申请公开政府信息，请通过该机关的政府信息公开申请渠道（网上、信函或当面提交，依申请公开）提出；"
        "12345 不代为受理。",
    ),
]
_SCOPE_COMPILED = [(reason, re.compile(p), answer) for reason, p, answer in _SCOPE]
_SCOPE_NEGATION = re.compile("(?:" + _alt("不想 不愿 不用 不必 无需 不需要 没有 没 未 不是 不涉及 除了") + r")\S{0,2}$")


def out_of_scope(text: str | None) -> OutOfScope | None:
    """Guidance for a matter the hotline does not dispatch, or None."""
    norm = normalize(text or "")
    for reason, pattern, answer in _SCOPE_COMPILED:
        for m in pattern.finditer(norm):
            before = norm[max(0, m.start() - 6) : m.start()]
            if _SCOPE_NEGATION.search(before):
                continue
            return OutOfScope(reason, answer, m.group(0))
    return None
