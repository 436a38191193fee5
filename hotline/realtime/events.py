"""Socket.IO handlers for the /console namespace: authenticate, then join the user's rooms."""

from __future__ import annotations

from flask_login import current_user
from flask_socketio import ConnectionRefusedError, join_room

from hotline.auth.tokens import user_for_token
from hotline.extensions import socketio
from hotline.realtime.publish import NAMESPACE


def rooms_for(user) -> list[str]:
    rooms = [f"user:{user.id}", f"role:{user.role}"]
    if user.department is not None:
        rooms.append(f"department:{user.department.code}")
    return rooms


@socketio.on("connect", namespace=NAMESPACE)
def on_connect(auth=None):
    user = current_user if current_user.is_authenticated else None
    if user is None and isinstance(auth, dict) and isinstance(auth.get("token"), str):
        user = user_for_token(auth["token"])
    if user is None:
        raise ConnectionRefusedError("unauthorized")
    for room in rooms_for(user):
        join_room(room)
    return True
