"""SMS through a generic HTTP gateway (HOTLINE_SMS_GATEWAY_URL), or logged when no gateway is configured.

The gateway gets a POST of the JSON object HOTLINE_SMS_GATEWAY_TEMPLATE whose string values may use
``{to}`` (E.164 number), ``{text}`` and ``{id}`` (the outbox id, a client reference for the gateway's dedupe),
with ``Authorization: Bearer HOTLINE_SMS_GATEWAY_TOKEN`` when set and ``Idempotency-Key: <outbox id>``. Any 2xx
answer is success. The call is bounded by HOTLINE_SMS_GATEWAY_TIMEOUT and made by the relay with no database
transaction open (workers/jobs/outbox.py); a message resent after a killed relay carries the same key.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from datetime import datetime

from flask import current_app

from hotline.channels.registry import register

log = logging.getLogger(__name__)


class SendError(RuntimeError):
    pass


def _fill(template, values: dict[str, str]):
    if isinstance(template, str):
        out = template
        for key, value in values.items():
            out = out.replace("{" + key + "}", value)
        return out
    if isinstance(template, dict):
        return {k: _fill(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [_fill(v, values) for v in template]
    return template


def gateway_body(template: str, to: str, text: str, ref: str) -> bytes:
    try:
        shape = json.loads(template)
    except ValueError as exc:
        raise SendError(f"HOTLINE_SMS_GATEWAY_TEMPLATE is not JSON: {exc}") from None
    return json.dumps(_fill(shape, {"to": to, "text": text, "id": ref}), ensure_ascii=False).encode()


def post_to_gateway(settings, to: str, text: str, ref: str) -> None:
    body = gateway_body(settings.sms_gateway_template, to, text, ref)
    headers = {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": ref}
    if settings.sms_gateway_token:
        headers["Authorization"] = f"Bearer {settings.sms_gateway_token}"
    if not settings.sms_gateway_url.startswith(("http://", "https://")):
        raise SendError("HOTLINE_SMS_GATEWAY_URL must be an http(s) URL")
    req = urllib.request.Request(  # noqa: S310 — http(s) checked above
        settings.sms_gateway_url,
        data=body,
        headers=headers,
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=settings.sms_gateway_timeout) as resp:  # noqa: S310 — http(s) checked
            status = resp.status
    except urllib.error.HTTPError as exc:
        raise SendError(f"SMS gateway answered HTTP {exc.code}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise SendError(f"SMS gateway unreachable: {exc}") from None
    if not 200 <= status < 300:
        raise SendError(f"SMS gateway answered HTTP {status}")


@register("sms")
def send_sms(message, now: datetime) -> None:
    settings = current_app.config["HOTLINE"]
    to = current_app.extensions["hotline_cipher"].decrypt(message.recipient)
    if not settings.sms_gateway_url:
        log.info(
            "SMS (logging sender, no gateway configured) #%s to %s: %s",
            message.id,
            message.recipient_masked,
            message.text,
        )
        return
    post_to_gateway(settings, to, message.text, str(message.id))
