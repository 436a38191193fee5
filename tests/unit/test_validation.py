"""Validators of request bodies (hotline/web/validation.py): zh-CN messages, markup refused, plain text kept."""

from __future__ import annotations

import re

import pytest

from hotline.cases.errors import InvalidInput, StaleVersion
from hotline.errors import ApiError
from hotline.web.validation import Bool, Int, Str, expect_version, json_body, parse

CJK = re.compile(r"[\u4e00-\u9fff]")


def check(field, value):
    result, problem = field.check(value)
    assert (result is None) == (problem is not None)
    if problem:
        assert CJK.search(problem) and field.label in problem
    return result, problem


# --- Str -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "价格<100元",
        "面积>50平方米且<200",
        "O'Brien",
        '他说"楼上漏水"',
        "DROP TABLE 是什么意思",
        "1; DROP TABLE cases",
        "ZJJ' OR '1'='1",
        "SELECT * FROM users; --",
        "one=1",
        "onion = 3 斤",
        "a < b",
        "I <3 this city",
        "<b>加粗</b> 只是文字",
        "&lt;script&gt;",
        "成绩<a级",
        "邮箱 a@b.com，网址 https://x.cn/?a=1&b=2",
        "第一行\n第二行\r\n\t缩进",
        "emoji 😀 和 𠀀（扩展B区汉字）",
        "100%",
        "C:\\Windows",
        "x" * 200,
    ],
)
def test_plain_text_is_accepted_literally(value):
    assert check(Str("内容"), value) == (value.strip(), None)


@pytest.mark.parametrize(
    "value",
    [
        "<script>alert(1)</script>",
        "<SCRIPT>alert(1)</SCRIPT>",
        "< script >",
        "</script>",
        "<img src=x onerror=alert(1)>",
        "<svg/onload=alert(1)>",
        "<iframe src=//evil.example>",
        "<a href='https://evil.example'>点我</a>",
        "<object data=x>",
        "<embed src=x>",
        "<style>body{}</style>",
        "<link rel=stylesheet href=x>",
        "<meta http-equiv=refresh content=0>",
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        '<div onclick="alert(1)">',
        "<body\nonload = alert(1)>",
        "<p title=x onmouseover=alert(1)>",
        "<details open ontoggle=alert(1)>",
        "油烟<img src=x onerror=alert(1)>扰民",
    ],
)
def test_markup_is_refused(value):
    result, problem = check(Str("诉求内容", max_len=5000), value)
    assert result is None
    assert problem == "诉求内容包含不允许的网页标记（如 <script>），请删除后重新提交"


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("a\x00b", "控制字符"),
        ("a\x07b", "控制字符"),
        ("a\x1bb", "控制字符"),
        ("a\x0bb", "控制字符"),
        ("a\ud800b", "无法识别的字符"),
        ("a\udfffb", "无法识别的字符"),
    ],
)
def test_invisible_and_unencodable_characters_are_refused(value, words):
    result, problem = check(Str("备注"), value)
    assert result is None and words in problem


@pytest.mark.parametrize("value", [1, 0, 1.5, True, False, [], ["x"], {}, {"a": 1}])
def test_str_wrong_type(value):
    assert check(Str("地址"), value) == (None, "地址必须是文本")


def test_str_lengths():
    field = Str("退回理由", required=True, max_len=10, min_len=2)
    assert check(field, "  两个字  ") == ("两个字", None)
    assert check(field, "字" * 10) == ("字" * 10, None)
    assert check(field, "字" * 11) == (None, "退回理由不能超过10个字（当前11个字）")
    assert check(field, "字") == (None, "退回理由至少需要2个字")
    assert check(field, "   ") == (None, "退回理由不能为空")
    assert check(field, "") == (None, "退回理由不能为空")


def test_str_length_is_checked_before_the_pattern_scan():
    """A 100 KB value is refused by length whatever it contains (and the regexes never see it)."""
    _, problem = check(Str("诉求内容", max_len=5000), "<script>" * 12_800)
    assert problem == "诉求内容不能超过5000个字（当前102400个字）"


def test_str_choices():
    labelled = Str("办理结果", choices={"resolved": "已解决", "unresolved": "未解决"})
    assert check(labelled, " resolved ") == ("resolved", None)
    assert check(labelled, "maybe") == (None, "办理结果取值无效，可选：resolved（已解决）、unresolved（未解决）")
    assert check(labelled, "RESOLVED")[1] is not None
    plain = Str("渠道", choices=("phone", "web"))
    assert check(plain, "fax") == (None, "渠道取值无效，可选：phone、web")


# --- Bool / Int ----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [True, False])
def test_bool_accepts_booleans(value):
    assert check(Bool("保密"), value) == (value, None)


@pytest.mark.parametrize("value", ["true", "false", "yes", 1, 0, 1.0, [], {}, "是"])
def test_bool_refuses_everything_else(value):
    assert check(Bool("保密"), value) == (None, "保密必须是 true 或 false")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, (1, None)),
        (100, (100, None)),
        (0, (None, "页码必须在1到100之间")),
        (101, (None, "页码必须在1到100之间")),
        (-1, (None, "页码必须在1到100之间")),
        (True, (None, "页码必须是整数")),
        (1.0, (None, "页码必须是整数")),
        ("1", (None, "页码必须是整数")),
        (None, (None, "页码必须是整数")),
        ([1], (None, "页码必须是整数")),
        (float("nan"), (None, "页码必须是整数")),
    ],
)
def test_int(value, expected):
    assert check(Int("页码", min_value=1, max_value=100), value) == expected


# --- parse ---------------------------------------------------------------------------------------

SPEC = {
    "content": Str("诉求内容", required=True, min_len=2, max_len=20),
    "urgency": Str("紧急程度", choices=("normal", "urgent"), default="normal"),
    "confidential": Bool("保密"),
    "kb_id": Int("知识条目编号", min_value=1),
}


def test_parse_good_body_with_defaults_and_unknown_keys(app):
    with app.test_request_context():
        data = parse(SPEC, {"content": " 油烟扰民 ", "urgency": "", "extra": "<script>", "version": 3})
    assert data == {"content": "油烟扰民", "urgency": "normal", "confidential": None, "kb_id": None}


def test_parse_reports_every_problem(app):
    with app.test_request_context(), pytest.raises(InvalidInput) as info:
        parse(SPEC, {"urgency": "asap", "confidential": "true", "kb_id": "7"})
    err = info.value
    assert (err.status, err.code) == (400, "invalid_input")
    assert err.fields == {
        "content": "缺少必填项：诉求内容",
        "urgency": "紧急程度取值无效，可选：normal、urgent",
        "confidential": "保密必须是 true 或 false",
        "kb_id": "知识条目编号必须是整数",
    }
    assert err.message == "提交的内容有误：缺少必填项：诉求内容"


@pytest.mark.parametrize("value", [None, "", "   "])
def test_parse_required_missing(app, value):
    with app.test_request_context(), pytest.raises(InvalidInput) as info:
        parse(SPEC, {"content": value})
    assert info.value.fields["content"] in ("缺少必填项：诉求内容", "诉求内容不能为空")


def test_parse_reads_the_request_body_by_default(app):
    with app.test_request_context(method="POST", json={"content": "楼上漏水"}):
        assert parse(SPEC)["content"] == "楼上漏水"


# --- json_body -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "content_type", "expected"),
    [
        (b"", None, {}),
        (b"", "application/json", {}),
        (b'{"note": "x"}', "application/json", {"note": "x"}),
        (b'{"note": "x"}', "application/json; charset=utf-8", {"note": "x"}),
        ('{"note": "价格<100元"}'.encode(), "application/json", {"note": "价格<100元"}),
        ('{"note": "价格"}'.encode("utf-16"), "application/json", {"note": "价格"}),
    ],
)
def test_json_body_accepts(app, data, content_type, expected):
    with app.test_request_context(method="POST", data=data, content_type=content_type):
        assert json_body() == expected


@pytest.mark.parametrize(
    ("data", "content_type", "words"),
    [
        (b"[]", "application/json", "JSON 对象"),
        (b"null", "application/json", "JSON 对象"),
        (b'"x"', "application/json", "JSON 对象"),
        (b"42", "application/json", "JSON 对象"),
        (b'{"note": ', "application/json", "不是有效的 JSON"),
        (b"{'note': 'x'}", "application/json", "不是有效的 JSON"),
        (b'{"note": "\xff\xfe"}', "application/json", "UTF-8"),
        (b"[" * 100_000, "application/json", "不是有效的 JSON"),
        (b'{"n": ' + b"9" * 5000 + b"}", "application/json", "不是有效的 JSON"),
        (b'{"note": "x"}', "text/plain", "Content-Type: application/json"),
        (b'{"note": "x"}', None, "Content-Type: application/json"),
        (b"note=x", "application/x-www-form-urlencoded", "Content-Type: application/json"),
    ],
)
def test_json_body_refuses(app, data, content_type, words):
    with app.test_request_context(method="POST", data=data, content_type=content_type), pytest.raises(ApiError) as info:
        json_body()
    assert (info.value.status, info.value.code) == (400, "invalid_json")
    assert words in info.value.message and CJK.search(info.value.message)


# --- expect_version ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        ({}, {}),
        ({"version": 3}, {}),
        ({"version": "3"}, {}),
        ({}, {"If-Match": '"3"'}),
        ({}, {"If-Match": "3"}),
        ({"version": None}, {}),
    ],
)
def test_expect_version_passes(app, body, headers):
    with app.test_request_context(headers=headers):
        expect_version(type("C", (), {"version": 3})(), body)


@pytest.mark.parametrize(
    ("body", "headers"),
    [({"version": 2}, {}), ({"version": 10**30}, {}), ({}, {"If-Match": '"4"'}), ({"version": -3}, {})],
)
def test_expect_version_stale(app, body, headers):
    with app.test_request_context(headers=headers), pytest.raises(StaleVersion) as info:
        expect_version(type("C", (), {"version": 3})(), body)
    assert "3" in info.value.message


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        ({"version": "abc"}, {}),
        ({"version": 1.5}, {}),
        ({"version": [3]}, {}),
        ({"version": True}, {}),
        ({}, {"If-Match": 'W/"3"'}),
        ({}, {"If-Match": "*"}),
    ],
)
def test_expect_version_malformed(app, body, headers):
    with app.test_request_context(headers=headers), pytest.raises(InvalidInput) as info:
        expect_version(type("C", (), {"version": 3})(), body)
    assert info.value.status == 400 and "version" in info.value.fields
