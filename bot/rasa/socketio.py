"""Rasa's socket.io channel with session persistence that works on python-socketio 5.x
(credentials.yml: ``bot.rasa.socketio.SocketIOInputWithRooms``)."""
from __future__ import annotations

import inspect
import uuid
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput

_SESSION_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


class SocketIOInputWithRooms(SocketIOInput):
    """Rasa's socketio channel (same settings in credentials.yml), fixed for ``session_persistence``.

    In the pinned python-socketio, ``AsyncServer.enter_room`` is a coroutine; Rasa 3.6 calls it without
    ``await``, so the browser never joins its session's room and, with session persistence on, never
    receives a reply (Rasa 3.6.21). This handler awaits it and accepts only session ids a widget would make."""

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Any:
        webhook = super().blueprint(on_new_message)
        sio = self.sio

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: Text, data: Optional[Dict]) -> None:
            session_id = data.get("session_id") if isinstance(data, dict) else None
            if not (isinstance(session_id, str) and 0 < len(session_id) <= 64 and set(session_id) <= _SESSION_ID_CHARS):
                session_id = uuid.uuid4().hex
            if self.session_persistence:
                joined = sio.enter_room(sid, session_id, namespace=self.namespace)
                if inspect.isawaitable(joined):
                    await joined
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)

        return webhook
