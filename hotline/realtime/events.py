"""Socket.IO handlers for the /console namespace: authenticate, then join the user's rooms."""

from __future__ import annotations

from flask import current_app
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, join_room

from hotline.auth.tokens import user_for_token
from hotline.extensions import socketio
from hotline.realtime import watch
from hotline.realtime.eventlog import rooms_for
from hotline.realtime.publish import NAMESPACE

__all__ = ["on_connect", "rooms_for"]


@socketio.on("connect", namespace=NAMESPACE)
def on_connect(auth=None):
    user = current_user if current_user.is_authenticated else None
    if user is None and isinstance(auth, dict) and isinstance(auth.get("token"), str):
        user = user_for_token(auth["token"])
    if user is None:
        raise ConnectionRefusedError("unauthorized")
    for room in rooms_for(user):
        join_room(room)
    watch.ensure_started(current_app._get_current_object())  # heartbeat, resync: hotline/realtime/watch.py
    return True
