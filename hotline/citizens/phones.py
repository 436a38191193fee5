"""Phone number normalisation for 一号一档 (one number, one file).

A caller's number, normalised to E.164 (default region CN), is the key of the citizen file.
Pure module: stdlib + phonenumbers only.

Short service numbers (95xxx, 96xxx, 12xxx, 100xx — five digits, e.g. 95588, 12345) get an
E.164-*like* form "+8695588". They are short codes valid only inside mainland China and are
NOT dialable internationally; the form exists only so that every number has one key format.

Landlines with a 3-digit area code and a 7-digit local number ("0571-8765432") are accepted even
where libphonenumber's metadata says the area has moved to 8 digits: such numbers still appear in
caller-ID data and in records imported from older systems.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, ValidationResult
from phonenumbers import PhoneNumberType as PNT

__all__ = ["Phone", "PhoneError", "mask", "normalize", "try_normalize"]

MAX_RAW_LENGTH = 64
KINDS = ("mobile", "landline", "service", "other")

_SEPARATORS = str.maketrans(dict.fromkeys("。、，,·・", " ") | dict.fromkeys("—–―‐‑−", "-"))
_EXT_MARK = re.compile(r"\s*(?:转|轉|分机|分機|;?\s*ext\.?\s*=?|x|#)\s*(\d*)\s*#?$", re.IGNORECASE)
_DASH_EXT = re.compile(r"(.*\d{7,8})\s*-\s*(\d{1,6})")
_ALLOWED = re.compile(r"\+?[\d\s\-.()]+")
_SHORT_CODE = re.compile(r"(?:95\d|96\d|12\d|100)\d\d")
_BARE_LOCAL = re.compile(r"[1-9]\d{6,7}")  # 7/8 digits, no area code
_AREA_CODE = re.compile(r"0?(10|2\d|[3-9]\d\d)")
# 3-digit area code (without the trunk 0) + 7-digit local number; 400/800 are not area codes.
_LEGACY_LANDLINE = re.compile(r"(?!400|800)[3-9]\d\d[2-9]\d{6}")
_SERVICE_TYPES = {PNT.TOLL_FREE, PNT.SHARED_COST, PNT.PREMIUM_RATE, PNT.UAN}
_PARSE_ERRORS = {
    NumberParseException.TOO_SHORT_NSN: "phone_too_short",
    NumberParseException.TOO_SHORT_AFTER_IDD: "phone_too_short",
    NumberParseException.TOO_LONG: "phone_too_long",
    NumberParseException.INVALID_COUNTRY_CODE: "phone_invalid_country",
}
_LENGTH_ERRORS = {ValidationResult.TOO_SHORT: "phone_too_short", ValidationResult.TOO_LONG: "phone_too_long"}


MESSAGES = {
    "phone_empty": "电话号码为空",
    "phone_invalid_chars": "电话号码格式不正确：只能包含数字、空格、横线、括号和开头的+号",
    "phone_too_short": "电话号码格式不正确：位数不对（太短）",
    "phone_too_long": "电话号码格式不正确：位数不对（太长）",
    "phone_area_code_required": "固定电话请加上区号（例如 010-12345678），手机号码应为11位",
    "phone_invalid_country": "电话号码格式不正确：国家/地区代码不对",
    "phone_extension_invalid": "分机号格式不正确：应为1到6位数字",
    "phone_invalid": "电话号码格式不正确",
}


class PhoneError(ValueError):
    """Invalid phone number. `.code` is a snake_case code, `.message` a zh-CN message for users."""

    def __init__(self, code: str, message: str | None = None):
        self.code = code
        self.message = message or MESSAGES[code]
        super().__init__(self.message)


@dataclass(frozen=True)
class Phone:
    e164: str
    extension: str | None
    kind: str  # one of KINDS

    @property
    def key(self) -> str:
        """Identifies the line in the citizen file: E.164, plus ";ext=NNN" for an extension."""
        return f"{self.e164};ext={self.extension}" if self.extension else self.e164

    @property
    def national(self) -> str:
        """Chinese display form: "13800138000", "010-12345678", "400-810-8888", "95588".

        Numbers outside mainland China are given in international format ("+1 650-253-0000").
        """
        if not self.e164.startswith("+86"):
            return phonenumbers.format_number(phonenumbers.parse(self.e164), PhoneNumberFormat.INTERNATIONAL)
        nsn = self.e164[3:]
        if self.kind == "landline":
            area = _area_length(nsn)
            return f"0{nsn[:area]}-{nsn[area:]}"
        if self.kind == "service" and len(nsn) == 10:
            return f"{nsn[:3]}-{nsn[3:6]}-{nsn[6:]}"
        return nsn


def _area_length(nsn: str) -> int:
    """Length of a CN area code without the trunk 0: 10 and 2x are two digits, all others three."""
    return 2 if nsn[0] in "12" else 3


def _clean(raw: str) -> str:
    return unicodedata.normalize("NFKC", raw).translate(_SEPARATORS).strip()


def _kind(number: phonenumbers.PhoneNumber) -> str:
    if number.country_code != 86:
        return "other"
    ntype = phonenumbers.number_type(number)
    if ntype == PNT.MOBILE:
        return "mobile"
    if ntype in (PNT.FIXED_LINE, PNT.FIXED_LINE_OR_MOBILE):
        return "landline"
    return "service" if ntype in _SERVICE_TYPES else "other"


def _parse(text: str, region: str, default_area_code: str | None) -> tuple[str, str]:
    """Number without extension -> (e164, kind). Raises PhoneError."""
    if not _ALLOWED.fullmatch(text):
        raise PhoneError("phone_invalid_chars")
    digits = re.sub(r"\D", "", text)
    if len(digits) < 5:
        raise PhoneError("phone_too_short")
    if len(digits) > 17:
        raise PhoneError("phone_too_long")
    international = text.startswith("+") or digits.startswith("00")
    national = digits
    if text.startswith("+86"):
        national = digits[2:]
    elif digits.startswith("0086"):
        national = digits[4:]
    domestic = region == "CN" and not international
    if (domestic or national != digits) and _SHORT_CODE.fullmatch(national):
        return f"+86{national}", "service"
    if domestic and _BARE_LOCAL.fullmatch(digits):
        if not default_area_code:
            raise PhoneError("phone_area_code_required")
        text = f"0{default_area_code}{digits}"
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        raise PhoneError(_PARSE_ERRORS.get(exc.error_type, "phone_invalid")) from exc
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    if phonenumbers.is_valid_number(number):
        return e164, _kind(number)
    nsn = phonenumbers.national_significant_number(number)
    if number.country_code == 86 and _LEGACY_LANDLINE.fullmatch(nsn):
        return e164, "landline"
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason in _LENGTH_ERRORS:
        raise PhoneError(_LENGTH_ERRORS[reason])
    if number.country_code == 86:
        if nsn.startswith("1") and not nsn.startswith("10") and len(nsn) != 11:
            raise PhoneError("phone_invalid", "电话号码格式不正确：位数不对（手机号码应为11位）")
        raise PhoneError("phone_invalid", "不是有效的中国大陆号码，请检查区号和号码")
    raise PhoneError("phone_invalid", "不是有效的电话号码，境外号码请以+和国家代码开头")


def normalize(raw: str, region: str = "CN", default_area_code: str | None = None) -> Phone:
    """Parse a real-world phone number ("+86 138-0013-8000", "010-12345678转123", "95588", ...).

    `default_area_code` ("010" or "10") is applied to a bare 7/8-digit local number, which is
    otherwise rejected (code "phone_area_code_required") because it is ambiguous.
    """
    if default_area_code is not None:
        match = _AREA_CODE.fullmatch(default_area_code.strip())
        if not match:
            raise ValueError(f"invalid default_area_code: {default_area_code!r}")
        default_area_code = match.group(1)
    if not isinstance(raw, str):
        raise PhoneError("phone_empty" if raw is None else "phone_invalid")
    if len(raw) > MAX_RAW_LENGTH:
        raise PhoneError("phone_too_long")
    text = _clean(raw)
    if not text:
        raise PhoneError("phone_empty")
    extension = None
    if marked := _EXT_MARK.search(text):
        extension, text = marked.group(1), text[: marked.start()].strip()
        if not 1 <= len(extension) <= 6:
            raise PhoneError("phone_extension_invalid")
    elif dashed := _DASH_EXT.fullmatch(text):
        try:  # "010-12345678-123": trailing group is an extension if the rest is a line on its own
            e164, kind = _parse(dashed.group(1).strip(), region, default_area_code)
            if kind != "mobile":
                return Phone(e164, dashed.group(2), kind)
        except PhoneError:
            pass
    e164, kind = _parse(text, region, default_area_code)
    if extension and kind == "mobile":
        raise PhoneError("phone_extension_invalid", "手机号码不能带分机号")
    return Phone(e164, extension, kind)


def try_normalize(raw: str, region: str = "CN", default_area_code: str | None = None) -> Phone | None:
    """Like normalize() but returns None instead of raising PhoneError."""
    try:
        return normalize(raw, region, default_area_code)
    except PhoneError:
        return None


def mask(phone_or_e164: Phone | str) -> str:
    """Masked display form: "138****8000", "010-****5678"; short/service numbers unmasked.

    Extensions are never shown. A string that cannot be parsed is fully masked ("****").
    """
    phone = phone_or_e164 if isinstance(phone_or_e164, Phone) else try_normalize(phone_or_e164)
    if phone is None:
        return "****"
    if phone.kind == "service":
        return phone.national
    if phone.e164.startswith("+86") and phone.kind in ("mobile", "landline"):
        nsn = phone.e164[3:]
        if phone.kind == "mobile":
            return f"{nsn[:3]}****{nsn[-4:]}"
        area = _area_length(nsn)
        local = nsn[area:]
        return f"0{nsn[:area]}-{'*' * (len(local) - 4)}{local[-4:]}"
    number = phonenumbers.parse(phone.e164)
    nsn = phonenumbers.national_significant_number(number)
    return f"+{number.country_code} {'*' * max(len(nsn) - 4, 2)}{nsn[-4:]}"
