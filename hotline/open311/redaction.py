"""What the public Open311 feed may show of a case's text and address: pure functions, no Flask, no database.

``redact(text, names)`` replaces personal details with a bracketed label — phone numbers in any spacing (mobile,
+86/0086, landlines with or without area code, 400/800 numbers), 18-digit ID numbers, vehicle plates, the names
the citizen gave (and "我叫…"-style self-introductions), and house/room numbers such as 3号楼2单元501 or 人民路88号.
``street_level(address)`` keeps an address down to its street (路/街/巷/街道…) and drops numbers, estates,
buildings and rooms. Both err on the side of hiding: a date or an amount is kept, anything that reads like a
number someone could dial or a door someone could knock on is not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

PHONE = "[电话]"
ID_NUMBER = "[证件号]"
PLATE = "[车牌]"
NAME = "[姓名]"
HOUSE = "[门牌]"

_SEP = r"[ \t\u3000\-‐‑–—－]"  # what people put between digit groups: spaces and dashes of every width
# 18-digit resident ID (the last may be X), digit groups optionally separated; 15-digit old IDs fall to _NUMBER
_ID = re.compile(rf"(?<!\d)\d{{6}}{_SEP}?\d{{8}}{_SEP}?\d{{3}}[\dXx](?![\dA-Za-z])")
_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼使领"
# 京A12345, 粤B·D12345 (new energy: 6 after the letter), 沪a 1234学 — letters in either case
_PLATE = re.compile(
    rf"[{_PROVINCES}][A-Za-z][ ·•・.\-]?(?=[A-Za-z0-9]{{0,5}}\d)[A-Za-z0-9]{{4,5}}[A-Za-z0-9挂学警港澳领]"
    r"[A-Za-z0-9]?(?![A-Za-z0-9])"
)
# a mobile number, however it is spaced, even glued to letters ("Tel13812345678"); +86 / 0086 in front
_MOBILE = re.compile(rf"(?:(?:\+|＋|00)\s?86{_SEP}*)?(?<!\d)1[3-9]\d(?:{_SEP}{{0,3}}\d){{8}}(?!\d)")
# any other run of digits in groups: counted below, masked from 7 digits on (landlines, 400 numbers, IDs of 15)
_NUMBER = re.compile(rf"(?<![\dA-Za-z.,])(?:(?:\+|＋|00)\s?86{_SEP}*)?[(（]?\d(?:(?:{_SEP}{{1,3}}|[)）]{_SEP}?)?\d)+")
_DATE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|(?:19|20)\d\d\s*[-–—]\s*(?:19|20)\d\d")  # a date, a span of years
# house, building, unit and room numbers: 3号楼2单元501, 5栋1203室, B座12层, 88号, 123弄, 三单元
_NUM = r"(?:[\dA-Za-z]{1,6}(?:[-－][\dA-Za-z]{1,6})?)"
_UNIT_WORDS = r"(?:号楼|号院|号(?![线码段])|栋|幢|座|单元|楼|层|室|弄)"
_UNIT = rf"(?:{_NUM}\s?{_UNIT_WORDS}|[一二三四五六七八九十]{{1,3}}(?:号楼|栋|幢|单元|楼|层))"
_HOUSE = re.compile(rf"(?<![\d月A-Za-z]){_UNIT}(?:\s?{_UNIT})*(?:\s?\d{{2,5}}(?:室|房|户)?(?!\d))?")
# a self-introduction: 我叫王小明 / 本人李四 / 联系人：张三 (2-3 Han characters, then punctuation or the end)
_INTRO = re.compile(r"(我叫|我是|本人|姓名[:：]?\s?|联系人[:：]?\s?)([\u4e00-\u9fff]{2,3})(?=[，,。.；;！!、\s(（]|$)")
_NOT_NAMES = frozenset(
    "业主 居民 市民 租户 租客 商户 司机 家长 学生 老人 患者 村民 员工 工人 店主 房东 住户 游客 乘客".split()  # noqa: SIM905
)
_HONORIFICS = "先生|女士|小姐|师傅|阿姨|大爷|大妈|老师|同志"
_HAN = re.compile(r"[\u4e00-\u9fff]")


def _numbers(match: re.Match) -> str:
    text = match.group(0)
    digits = sum(ch.isdigit() for ch in text)
    if digits < 7 or _DATE.fullmatch(text.strip("(（)）")):
        return text
    return PHONE


def _names(text: str, names: Iterable[str]) -> str:
    variants: set[str] = set()
    surnames: set[str] = set()
    for raw in names:
        name = "".join((raw or "").split())
        if len(name) >= 2:
            variants.add(name)
            if _HAN.match(name):
                surnames.add(name[0])
                if len(name) >= 3:
                    variants.add(name[1:])  # the given name alone: 王小明 -> 小明
    for name in sorted(variants, key=len, reverse=True):  # the full name before its parts; "王 小明" too
        text = re.sub(r"\s*".join(map(re.escape, name)), NAME, text)
    if surnames:
        text = re.sub(rf"[{''.join(sorted(surnames))}](?=(?:{_HONORIFICS}))", "某", text)

    def intro(match: re.Match) -> str:
        said, who = match.group(1), match.group(2)
        return match.group(0) if who in _NOT_NAMES else said + NAME

    return _INTRO.sub(intro, text)


def redact(text: str | None, names: Iterable[str] = ()) -> str | None:
    """``text`` without phone numbers, ID numbers, plates, the given ``names`` and house/room numbers."""
    if not text:
        return text
    text = _ID.sub(ID_NUMBER, text)
    text = _PLATE.sub(PLATE, text)
    text = _MOBILE.sub(PHONE, text)
    text = _NUMBER.sub(_numbers, text)
    text = _HOUSE.sub(HOUSE, text)
    return _names(text, names)


# the last street-level element of an address: a road or street, or failing that the district/town/city
_STREET = re.compile(r"(?:街道|大道|大街|胡同|公路|路|街|巷|道)")
_AREA = re.compile(r"(?:镇|乡|(?<![小社园校景厂营])区|县|市|省)")
# where the part below the street starts: a digit, a house/room token, or an estate/building name
_BELOW = re.compile(rf"\d|{_UNIT}|小区|社区|花园|公寓|大厦|家园|新村|宿舍")


def street_level(address: str | None) -> str | None:
    """``address`` cut to its street: 朝阳区建国路88号3号楼2单元501 -> 朝阳区建国路; None when no street or area
    is named before the first number (e.g. bare coordinates)."""
    if not address:
        return None
    text = " ".join(address.split())
    below = _BELOW.search(text)
    head = text[: below.start()] if below else text
    for pattern in (_STREET, _AREA):
        ends = [m.end() for m in pattern.finditer(head)]
        if ends:
            return head[: max(ends)].strip() or None
    return None


def coarse_coordinate(value: float | None, places: int = 3) -> float | None:
    """A coordinate rounded to ``places`` decimals (3: about 100 m, street level) for the public feed."""
    return None if value is None else round(value, places)
