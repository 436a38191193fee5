"""The redaction step of the public Open311 feed (hotline/open311/redaction.py): pure functions, no app."""

from __future__ import annotations

import pytest

from hotline.open311.redaction import HOUSE, ID_NUMBER, NAME, PHONE, PLATE, coarse_coordinate, redact, street_level

PHONES = [
    "13812345678",
    "138 1234 5678",
    "138-1234-5678",
    "138 - 1234 - 5678",
    "1381234 5678",
    "+86 138 1234 5678",
    "+86-138-1234-5678",
    "+8613812345678",
    "0086 13812345678",
    "８６１３８１２３４５６７８",  # full-width digits
    "１３８１２３４５６７８",
    "138\u30001234\u30005678",  # ideographic spaces
    "010-12345678",
    "010 1234 5678",
    "(010)12345678",
    "（0755）8888-6666",
    "0755-88886666",
    "021-6123-4567",
    "88886666",
    "8888-6666",
    "400-123-4567",
    "400 123 4567",
    "800-820-8820",
]


@pytest.mark.parametrize("number", PHONES)
def test_phone_numbers_in_any_spacing_are_masked(number):
    out = redact(f"请回电{number}，谢谢")
    assert out == f"请回电{PHONE}，谢谢", out


def test_a_mobile_glued_to_letters_is_masked():
    assert redact("Tel13812345678 / tel:010-12345678") == f"Tel{PHONE} / tel:{PHONE}"


@pytest.mark.parametrize(
    "number", ["11010119900307123X", "110101199003071234", "110101 19900307 123x", "110101-19900307-1234"]
)
def test_id_numbers_are_masked(number):
    assert redact(f"身份证号{number}。") == f"身份证号{ID_NUMBER}。"


@pytest.mark.parametrize(
    "plate", ["京A12345", "京a12345", "粤B·D12345", "粤BD12345", "沪A 1234学", "川A-8G8G8", "苏E12345挂"]
)
def test_vehicle_plates_are_masked(plate):
    assert redact(f"车牌{plate}占道") == f"车牌{PLATE}占道"


@pytest.mark.parametrize(
    "text,expected",
    [
        ("住3号楼2单元501", f"住{HOUSE}"),
        ("住3号楼2单元501室", f"住{HOUSE}"),
        ("人民路88号门口", f"人民路{HOUSE}门口"),
        ("5栋1203室漏水", f"{HOUSE}漏水"),
        ("B座12层", HOUSE),
        ("幸福里123弄", f"幸福里{HOUSE}"),
        ("三单元楼道", f"{HOUSE}楼道"),
        ("12-3号楼", HOUSE),
        ("501室", HOUSE),
    ],
)
def test_house_and_room_numbers_are_masked(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "12月3号下午3点在地铁3号线",
        "2026-12-07 拨打12345热线",
        "价格12,000元，共3辆车",
        "与工单GD20261207-000001合并",
        "投诉95598和110都打不通",
        "温度3.1415926度",
    ],
)
def test_dates_amounts_case_numbers_and_service_numbers_stay(text):
    assert redact(text) == text


def test_names_the_citizen_gave_are_masked():
    text = "我叫王小明，王小明的邻居说小明不在家，王先生和王女士都知道。"
    out = redact(text, ["王小明"])
    assert "王小明" not in out and "小明" not in out
    assert out.count(NAME) == 3 and "某先生" in out and "某女士" in out


def test_self_introductions_are_masked_but_roles_are_not():
    assert redact("联系人：张三，电话见上") == f"联系人：{NAME}，电话见上"
    assert redact("本人李四。") == f"本人{NAME}。"
    assert redact("我是业主，") == "我是业主，"


def test_names_with_spaces_and_empty_names_are_handled():
    assert redact("赵 六投诉，赵六知道", [" 赵 六 ", "", None]) == f"{NAME}投诉，{NAME}知道"
    assert redact("赵六投诉", ["赵 六"]) == f"{NAME}投诉"
    assert redact("", ["王五"]) == "" and redact(None) is None


@pytest.mark.parametrize(
    "address,street",
    [
        ("朝阳区建国路88号阳光小区3号楼2单元501", "朝阳区建国路"),
        ("海淀区中关村街道阳光小区", "海淀区中关村街道"),
        ("人民路88号", "人民路"),
        ("解放大道1号", "解放大道"),
        ("人民路与解放路交叉口100米", "人民路与解放路"),
        ("城东区幸福里社区5栋", "城东区"),
        ("东城区", "东城区"),
        ("坐标 39.904200,116.407400", None),
        ("张三家门口", None),
        ("", None),
        (None, None),
    ],
)
def test_addresses_are_cut_to_the_street(address, street):
    assert street_level(address) == street


def test_coordinates_are_rounded_to_about_100_metres():
    assert coarse_coordinate(39.904211) == 39.904 and coarse_coordinate(None) is None
