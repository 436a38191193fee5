"""The senders' registry, a leaf: ``@register("sms")`` in a sender module, ``senders[channel]`` in the relay.

Sender modules import this module (not the package), so the package can load them without a cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

Sender = Callable[["object", datetime], None]
SENDERS: dict[str, Sender] = {}


def register(channel: str):
    """Decorator: ``@register("sms") def send(message, now): …``."""

    def decorator(func: Sender) -> Sender:
        SENDERS[channel] = func
        return func

    return decorator
