"""Message senders behind the outbox, one per channel (sms.py, wechat.py).

The relay (workers/jobs/outbox.py) delivers ``inapp`` itself and hands every other channel to
``sender_for(channel)``: a callable ``send(message: OutboxMessage, now: datetime) -> None`` that raises on
failure (the relay counts the attempt and retries later). Senders run after the change committed, inside
the relay job; they must be safe to run twice for one message (pass ``message.id`` as the client reference).
"""

from __future__ import annotations

from hotline.channels.registry import SENDERS, Sender, register

__all__ = ["Sender", "register", "sender_for"]


def sender_for(channel: str) -> Sender | None:
    # lazy on purpose: the built-in senders pull in wechatpy (a large import: tests/bench/README.md, create_case),
    # which only the relay job needs
    from hotline.channels import sms, wechat  # noqa: F401 — they register "sms" and "wechat"

    return SENDERS.get(channel)
