"""Message senders behind the outbox, one per channel (sms.py, wechat.py).

The relay (workers/jobs/outbox.py) delivers ``inapp`` itself and hands every other channel to
``sender_for(channel)``: a callable ``send(message: OutboxMessage, now: datetime) -> None`` that raises on
failure (the relay counts the attempt and retries later). Senders run after the change committed, inside
the relay job; they must be safe to run twice for one message (pass ``message.id`` as the client reference).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

Sender = Callable[["object", datetime], None]
_SENDERS: dict[str, Sender] = {}


def register(channel: str):
    """Decorator: ``@register("sms") def send(message, now): …``."""

    def decorator(func: Sender) -> Sender:
        _SENDERS[channel] = func
        return func

    return decorator


def sender_for(channel: str) -> Sender | None:
    _load_builtin()
    return _SENDERS.get(channel)


def _load_builtin() -> None:
    from hotline.channels import sms, wechat  # noqa: F401 — they register "sms" and "wechat"
