"""A citizen's number as typed by an agent or a client: the hotline's own and the emergency numbers are refused."""

from __future__ import annotations

from hotline.citizens.phones import Phone, PhoneError, normalize

NOT_A_CALLER = {"12345", "110", "119", "120", "122", "12110"}


def caller_phone(raw: str) -> Phone:
    phone = normalize(raw)
    if phone.kind == "service" and phone.national in NOT_A_CALLER:
        raise PhoneError(
            "phone_service_line", f"{phone.national} 是热线/紧急号码，不能作为来电号码，请填写市民本人的电话"
        )
    return phone
