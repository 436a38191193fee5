import pytest

from hotline.citizens.phones import Phone, PhoneError, mask, normalize, try_normalize

BJ = "+861012345678"
MOBILE = "+8613800138000"

# raw input -> (e164, extension, kind)
VALID = [
    # mobiles
    ("13800138000", MOBILE, None, "mobile"),
    ("138 0013 8000", MOBILE, None, "mobile"),
    ("138-0013-8000", MOBILE, None, "mobile"),
    ("+86 138-0013-8000", MOBILE, None, "mobile"),
    ("+8613800138000", MOBILE, None, "mobile"),
    ("008613800138000", MOBILE, None, "mobile"),
    ("0086 138 0013 8000", MOBILE, None, "mobile"),
    ("86 13800138000", MOBILE, None, "mobile"),
    ("8613800138000", MOBILE, None, "mobile"),
    ("013800138000", MOBILE, None, "mobile"),
    ("１３８００１３８０００", MOBILE, None, "mobile"),
    ("138.0013.8000", MOBILE, None, "mobile"),
    ("138。0013。8000", MOBILE, None, "mobile"),
    ("138　0013　8000", MOBILE, None, "mobile"),
    ("＋８６ １３８－００１３－８０００", MOBILE, None, "mobile"),
    ("  13800138000\n", MOBILE, None, "mobile"),
    ("19912345678", "+8619912345678", None, "mobile"),
    ("17012345678", "+8617012345678", None, "mobile"),
    # landlines
    ("(010)12345678", BJ, None, "landline"),
    ("（010）12345678", BJ, None, "landline"),
    ("010-12345678", BJ, None, "landline"),
    ("01012345678", BJ, None, "landline"),
    ("010 1234 5678", BJ, None, "landline"),
    ("+86 10 1234 5678", BJ, None, "landline"),
    ("+86 (0)10 12345678", BJ, None, "landline"),
    ("0086 10 12345678", BJ, None, "landline"),
    ("0755-12345678", "+8675512345678", None, "landline"),
    ("021-6123 4567", "+862161234567", None, "landline"),
    ("0571-8765432", "+865718765432", None, "landline"),
    ("0941-1234567", "+869411234567", None, "landline"),
    ("010—12345678", BJ, None, "landline"),
    # extensions
    ("010-12345678-123", BJ, "123", "landline"),
    ("010-12345678转123", BJ, "123", "landline"),
    ("010-12345678 转 123", BJ, "123", "landline"),
    ("010-12345678分机123", BJ, "123", "landline"),
    ("010-12345678 ext 123", BJ, "123", "landline"),
    ("010-12345678 EXT. 123", BJ, "123", "landline"),
    ("010-12345678 x123", BJ, "123", "landline"),
    ("010-12345678#123", BJ, "123", "landline"),
    ("010-12345678;ext=123", BJ, "123", "landline"),
    ("+861012345678;ext=123", BJ, "123", "landline"),
    ("01012345678-8", BJ, "8", "landline"),
    ("0571-8765432-1", "+865718765432", "1", "landline"),
    ("400-810-8888转2", "+864008108888", "2", "service"),
    # service numbers
    ("400-810-8888", "+864008108888", None, "service"),
    ("4008108888", "+864008108888", None, "service"),
    ("800-810-8888", "+868008108888", None, "service"),
    ("95588", "+8695588", None, "service"),
    ("95598", "+8695598", None, "service"),
    ("12345", "+8612345", None, "service"),
    ("12315", "+8612315", None, "service"),
    ("96110", "+8696110", None, "service"),
    ("10086", "+8610086", None, "service"),
    ("+86 95588", "+8695588", None, "service"),
    ("９５５８８", "+8695588", None, "service"),
    # foreign numbers
    ("+1 650 253 0000", "+16502530000", None, "other"),
    ("001 650 253 0000", "+16502530000", None, "other"),
    ("+44 20 7946 0958", "+442079460958", None, "other"),
    ("+852 2123 4567", "+85221234567", None, "other"),
]

# raw input -> error code
INVALID = [
    ("", "phone_empty"),
    ("   ", "phone_empty"),
    ("　", "phone_empty"),
    ("abc", "phone_invalid_chars"),
    ("1380013800a", "phone_invalid_chars"),
    ("1-800-FLOWERS", "phone_invalid_chars"),
    ("tel:13800138000", "phone_invalid_chars"),
    ("138+0013+8000", "phone_invalid_chars"),
    ("123", "phone_too_short"),
    ("1234", "phone_too_short"),
    ("1234567890123456789", "phone_too_long"),
    ("1" * 100, "phone_too_long"),
    ("1380013800", "phone_invalid"),
    ("138001380001", "phone_invalid"),
    ("+8614012345678", "phone_invalid"),
    ("12345678", "phone_area_code_required"),
    ("8765432", "phone_area_code_required"),
    ("6123 4567", "phone_area_code_required"),
    ("13800138000转1", "phone_extension_invalid"),
    ("010-12345678转", "phone_extension_invalid"),
    ("010-12345678转1234567", "phone_extension_invalid"),
    ("+999 123456", "phone_invalid_country"),
]


@pytest.mark.parametrize(("raw", "e164", "extension", "kind"), VALID)
def test_normalize_valid(raw, e164, extension, kind):
    assert normalize(raw) == Phone(e164, extension, kind)


@pytest.mark.parametrize(("raw", "code"), INVALID)
def test_normalize_invalid(raw, code):
    with pytest.raises(PhoneError) as info:
        normalize(raw)
    assert info.value.code == code
    assert info.value.message
    assert isinstance(info.value, ValueError)
    assert try_normalize(raw) is None


def test_table_size():
    assert len(VALID) + len(INVALID) >= 40


def test_same_person_same_key():
    forms = [
        "+86 138-0013-8000",
        "13800138000",
        "008613800138000",
        "１３８ ００１３ ８０００",
        "0138-0013-8000",
    ]
    assert {normalize(f).key for f in forms} == {MOBILE}


def test_key_includes_extension():
    assert normalize("010-12345678").key == BJ
    assert normalize("010-12345678转123").key == BJ + ";ext=123"
    assert normalize("010-12345678-123").key == normalize("(010)12345678 ext 123").key
    assert normalize(normalize("010-12345678#123").key) == normalize("010-12345678转123")


def test_national():
    assert normalize("+86 138-0013-8000").national == "13800138000"
    assert normalize("(010)12345678").national == "010-12345678"
    assert normalize("010-12345678转123").national == "010-12345678"
    assert normalize("+86 755 1234 5678").national == "0755-12345678"
    assert normalize("0571-8765432").national == "0571-8765432"
    assert normalize("4008108888").national == "400-810-8888"
    assert normalize("95588").national == "95588"
    assert normalize("+1 650 253 0000").national == "+1 650-253-0000"


def test_default_area_code():
    assert normalize("12345678", default_area_code="010").e164 == BJ
    assert normalize("12345678", default_area_code="10").e164 == BJ
    assert normalize("8765432", default_area_code="0571").e164 == "+865718765432"
    assert normalize("6123-4567转8", default_area_code="021") == Phone("+862161234567", "8", "landline")
    # the default never overrides a number that already has an area code or is a mobile
    assert normalize("0755-12345678", default_area_code="010").e164 == "+8675512345678"
    assert normalize("13800138000", default_area_code="010").e164 == MOBILE
    assert normalize("95588", default_area_code="010").e164 == "+8695588"


def test_bad_default_area_code_is_configuration_error():
    with pytest.raises(ValueError) as info:
        normalize("12345678", default_area_code="abc")
    assert not isinstance(info.value, PhoneError)


def test_error_messages_are_chinese():
    with pytest.raises(PhoneError) as info:
        normalize("1380013800")
    assert "位数不对" in info.value.message
    with pytest.raises(PhoneError) as info:
        normalize("")
    assert info.value.message == "电话号码为空"
    with pytest.raises(PhoneError) as info:
        normalize("12345678")
    assert "区号" in info.value.message


def test_none_and_non_string():
    with pytest.raises(PhoneError) as info:
        normalize(None)
    assert info.value.code == "phone_empty"
    assert try_normalize(13800138000) is None


def test_try_normalize():
    assert try_normalize("+86 138-0013-8000") == Phone(MOBILE, None, "mobile")
    assert try_normalize("not a phone") is None


def test_phone_is_frozen():
    phone = normalize("13800138000")
    with pytest.raises(AttributeError):
        phone.e164 = "+8613900139000"


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("13800138000", "138****8000"),
        (MOBILE, "138****8000"),
        ("+86 138-0013-8000", "138****8000"),
        (BJ, "010-****5678"),
        ("0755-12345678", "0755-****5678"),
        ("0571-8765432", "0571-***5432"),
        (BJ + ";ext=123", "010-****5678"),
        ("010-12345678转123", "010-****5678"),
        ("+8695588", "95588"),
        ("12345", "12345"),
        ("4008108888", "400-810-8888"),
        ("+16502530000", "+1 ******0000"),
        ("garbage", "****"),
        ("", "****"),
    ],
)
def test_mask(value, masked):
    assert mask(value) == masked


def test_mask_accepts_phone_and_hides_extension():
    phone = normalize("010-12345678转123")
    assert mask(phone) == "010-****5678"
    assert "ext" not in mask(phone) and "转" not in mask(phone)
    assert mask(normalize("13800138000")) == "138****8000"
