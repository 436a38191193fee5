"""Declarative checks of JSON request bodies with zh-CN messages (400 with per-field reasons).

``parse`` raises the domain error ``InvalidInput`` (domain code validates with it too); a body that is not JSON at
all is an HTTP-level ``ApiError``."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from flask import current_app, request

from hotline.cases.errors import InvalidInput, StaleVersion
from hotline.errors import ApiError

# Active markup: dangerous tags, javascript: URLs, and on…= event handlers inside a tag (so that plain text
# such as "one=1" or "价格<100元" is accepted). The tag scan is bounded to keep the regex linear.
_MARKUP = re.compile(
    r"<\s*/?\s*(script|iframe|object|embed|style|svg|img|a|link|meta)\b|javascript:"
    r"|<[a-z][^>]{0,200}?\bon\w+\s*=",
    re.IGNORECASE,
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")  # valid as a JSON escape ("\ud800"), not storable as UTF-8
# A whole number in a query string: ASCII digits only ("²".isdigit() and "１".isdigit() are true, int("²") fails)
# and at most 19 of them (within PostgreSQL's bigint: 10**40 overflows the SQL parameter).
_WHOLE = re.compile(r"[0-9]{1,19}")


@dataclass
class Str:
    label: str
    required: bool = False
    max_len: int = 200
    min_len: int = 0
    choices: dict[str, str] | tuple[str, ...] | None = None
    default: Any = None

    def check(self, value):
        if not isinstance(value, str):
            return None, f"{self.label}必须是文本"
        value = value.strip()
        if self.required and not value:
            return None, f"{self.label}不能为空"
        if len(value) > self.max_len:
            return None, f"{self.label}不能超过{self.max_len}个字（当前{len(value)}个字）"
        if len(value) < self.min_len:
            return None, f"{self.label}至少需要{self.min_len}个字"
        if _CONTROL.search(value):
            return None, f"{self.label}包含不可见的控制字符"
        if _SURROGATE.search(value):
            return None, f"{self.label}包含无法识别的字符（编码错误），请重新输入"
        if _MARKUP.search(value):
            return None, f"{self.label}包含不允许的网页标记（如 <script>），请删除后重新提交"
        if self.choices is not None and value not in self.choices:
            options = (
                "、".join(f"{k}（{v}）" for k, v in self.choices.items())
                if isinstance(self.choices, dict)
                else "、".join(self.choices)
            )
            return None, f"{self.label}取值无效，可选：{options}"
        return value, None


@dataclass
class Bool:
    label: str
    required: bool = False
    default: Any = None

    def check(self, value):
        if not isinstance(value, bool):
            return None, f"{self.label}必须是 true 或 false"
        return value, None


@dataclass
class Int:
    label: str
    required: bool = False
    min_value: int = 0
    max_value: int = 2**31 - 1
    default: Any = None

    def check(self, value):
        if isinstance(value, bool) or not isinstance(value, int):
            return None, f"{self.label}必须是整数"
        if not self.min_value <= value <= self.max_value:
            return None, f"{self.label}必须在{self.min_value}到{self.max_value}之间"
        return value, None


def whole_number(raw: str | None, min_value: int = 0, max_value: int = 2**63 - 1) -> int | None:
    """``raw`` as an int when it is ASCII digits within [min_value, max_value]; None for anything else."""
    raw = (raw or "").strip()
    if not _WHOLE.fullmatch(raw):
        return None
    value = int(raw)
    return value if min_value <= value <= max_value else None


def query_int(name: str, default: int, min_value: int = 0, max_value: int = 2**63 - 1, hint: str = "") -> int:
    """The query parameter ``name`` as a whole number (``default`` when absent or empty); a zh-CN 400 naming the
    allowed range otherwise — never the 500 of ``int("²")`` or of a number too large for the database."""
    raw = request.args.get(name, "")
    if not raw.strip():
        return default
    value = whole_number(raw, min_value, max_value)
    if value is None:
        problem = f"必须是 {min_value} 到 {max_value} 之间的整数"
        raise ApiError(400, "invalid_input", f"{name} {problem}{hint}", {name: problem})
    return value


def search_text(raw: str | None, max_len: int = 50) -> tuple[str, str | None]:
    """A page's search box: the trimmed text, or ("", a zh-CN problem) for control characters such as NUL
    (PostgreSQL refuses them in a string parameter)."""
    text = (raw or "").strip()[:max_len]
    if _CONTROL.search(text) or _SURROGATE.search(text):
        return "", "搜索内容包含不可见的控制字符，请重新输入"
    return text, None


def webhook_json(raw: bytes) -> dict:
    """A signed webhook's body (CTI, SMS gateway) as a JSON object, whatever its Content-Type; zh-CN 400 else."""
    try:
        body = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError, RecursionError):
        body = None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "请求体必须是 JSON 对象")
    return body


def json_body() -> dict:
    """The request's JSON object; no body at all is ``{}``. Anything else is a zh-CN 400 (never a 500)."""
    data = request.get_data(cache=True)  # over MAX_CONTENT_LENGTH: 413 from here
    if not data:
        return {}
    if not request.is_json:
        raise ApiError(400, "invalid_json", "请求体必须是 JSON 对象，并设置请求头 Content-Type: application/json")
    try:
        body = current_app.json.loads(data)
    except (ValueError, RecursionError):  # syntax, encoding (not UTF-8), absurd nesting or numbers
        raise ApiError(400, "invalid_json", "请求体不是有效的 JSON，请检查格式并使用 UTF-8 编码") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", '请求体必须是 JSON 对象，例如 {"content": "…"}')
    return body


def parse(spec: dict[str, Str | Bool | Int], body: dict | None = None) -> dict:
    """Validate ``body`` (default: the request's JSON) against ``spec``; unknown keys are ignored."""
    body = json_body() if body is None else body
    out, problems = {}, {}
    for name, field in spec.items():
        value = body.get(name)
        if value is None or (isinstance(value, str) and not value.strip() and not field.required):
            if field.required:
                problems[name] = f"缺少必填项：{field.label}"
            else:
                out[name] = field.default
            continue
        value, problem = field.check(value)
        if problem:
            problems[name] = problem
        else:
            out[name] = value
    if problems:
        first = next(iter(problems.values()))
        raise InvalidInput("invalid_input", f"提交的内容有误：{first}", problems)
    return out


def expect_version(case, body: dict) -> None:
    """Optimistic locking: a client that sends ``version`` (or If-Match) must have the current one."""
    raw = body.get("version", request.headers.get("If-Match"))
    if raw is None:
        return
    try:
        version = int(str(raw).strip('"'))
    except ValueError:
        raise InvalidInput("invalid_input", "version 必须是整数", {"version": "必须是整数"}) from None
    if version != case.version:
        raise StaleVersion(case.version)
