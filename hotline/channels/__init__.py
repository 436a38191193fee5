"""Senders of messages to citizens, by outbox channel. The outbox relay (workers/jobs/outbox.py) calls
``SENDERS[message.channel](message)``; a sender raises on failure (the relay retries, then marks it failed)."""
from __future__ import annotations

from collections.abc import Callable

from hotline.channels import wechat

SENDERS: dict[str, Callable] = {
    "wechat": wechat.send,
}
