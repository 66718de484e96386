"""Rasa's socket.io channel, with session persistence that works on python-socketio 5.x and sessions
that belong to the socket that opened them (credentials.yml: ``bot.rasa.socketio.SocketIOInputWithRooms``)."""
from __future__ import annotations

import inspect
import json
import logging
import re
import uuid
from typing import Any, Awaitable, Callable, Dict, Optional, Set, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput

from bot.rasa.guard import (
    FORGOTTEN_KEY,
    MAX_MESSAGE_CHARS,
    REFUSAL_TEXTS,
    HeldOutput,
    RateLimiter,
    as_user_text,
    deliver,
    namespaced,
    refusal,
)

log = logging.getLogger(__name__)

PREFIX = "sio"
# A session id this server issues: 128 random bits (uuid4), hex. Only such an id can be resumed.
_ISSUED_SESSION_ID = re.compile(r"[0-9a-f]{32}")
# The largest socket.io packet read (engine.io's max_http_buffer_size, default 1 MB): room for a
# message of MAX_MESSAGE_CHARS characters of up to 4 UTF-8 bytes each, and its envelope.
MAX_PACKET_BYTES = MAX_MESSAGE_CHARS * 4 + 4096
# What chat clients send as they open a conversation (rasa-webchat's initPayload, and the like).
OPENING = "/get_started"
_OPENING_PAYLOADS = frozenset({"", OPENING, "/session_start", "/greet"})


def opening_payload(text: str, first: bool) -> str:
    """``text`` as Rasa should get it: an empty message, or the first message on a socket's session
    that is an opening payload ("/get_started", "/session_start", "/greet"), is the domain's
    "/get_started", which the session start's welcome alone answers (data/stories/rules.yml)."""
    stripped = text.strip()
    return OPENING if not stripped or (first and stripped in _OPENING_PAYLOADS) else text


async def _maybe_await(result: Any) -> None:
    if inspect.isawaitable(result):
        await result


class SocketIOInputWithRooms(SocketIOInput):
    """Rasa's socketio channel (same settings in credentials.yml), fixed for ``session_persistence``
    and for who may write to a session.

    * In the pinned python-socketio, ``AsyncServer.enter_room`` is a coroutine; Rasa 3.6.21 calls it
      without ``await``, so the browser never joins its session's room and, with session persistence
      on, never receives a reply. This channel awaits it.
    * Rasa 3.6.21's ``user_uttered`` takes the client's word for ``session_id``: any socket could
      write into (and delete) anyone's conversation. Here a socket is bound to the one session its
      ``session_request`` was confirmed for, and a message naming another session is refused.
    * Session ids are issued by the server (128 random bits); a client may resume one it was given
      (the widget keeps it for the tab's lifetime), any other proposed id gets a new session.
      Conversations are stored as ``sio:<session id>``.
    * The same length cap and per-sender rate as every channel (bot.rasa.guard), replies held until
      the turn is saved, and a deletion confirmed (``"forgotten": true`` on that reply, so the widget
      clears its transcript) only once it succeeded.
    * Whatever a client sends as it opens the chat (nothing, "", "/get_started", "/session_start",
      "/greet") gets the welcome alone, never a fallback (:func:`opening_payload`).
    """

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Any:
        webhook = super().blueprint(on_new_message)
        sio = self.sio
        sio.eio.max_http_buffer_size = MAX_PACKET_BYTES
        bound: Dict[Text, Text] = {}  # socket id -> the sender id of the session it joined
        opening: Set[Text] = set()  # sockets that have sent nothing since their session_request
        limiter = RateLimiter.from_settings()
        server: Dict[Text, Any] = {}

        @webhook.listener("after_server_start")
        async def remember_app(app: Any, _loop: Any) -> None:
            server["app"] = app

        @sio.on("disconnect", namespace=self.namespace)
        async def disconnect(sid: Text) -> None:
            bound.pop(sid, None)
            opening.discard(sid)

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: Text, data: Optional[Dict]) -> None:
            proposed = data.get("session_id") if isinstance(data, dict) else None
            session_id = proposed if isinstance(proposed, str) and _ISSUED_SESSION_ID.fullmatch(proposed) else uuid.uuid4().hex
            sender_id = namespaced(PREFIX, session_id)
            previous = bound.get(sid)
            if previous and previous != sender_id:
                await _maybe_await(sio.leave_room(sid, previous, namespace=self.namespace))
            await _maybe_await(sio.enter_room(sid, sender_id, namespace=self.namespace))
            bound[sid] = sender_id
            opening.add(sid)
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: Text, data: Any) -> None:
            if not isinstance(data, dict) or not isinstance(data.get("message"), str):
                log.info("socket.io message without text: ignored")
                return
            sender_id = bound.get(sid)
            if sender_id is None:
                if self.session_persistence:
                    log.info("socket.io message before session_request: ignored")
                    return
                sender_id = namespaced(PREFIX, sid)
                await _maybe_await(sio.enter_room(sid, sender_id, namespace=self.namespace))
                bound[sid] = sender_id
            claimed = data.get("session_id")
            if self.session_persistence and claimed is not None and namespaced(PREFIX, str(claimed)) != sender_id:
                log.warning("socket.io message for a session this socket did not join: refused")
                return
            output = SocketIOOutput(sio, self.bot_message_evt)
            text = opening_payload(data["message"], sid in opening)
            opening.discard(sid)
            refused = refusal(text, sender_id, limiter)
            if refused:
                await output._send_message(sid, {"text": REFUSAL_TEXTS[refused]})
                return
            app = server.get("app")
            domain = app.ctx.agent.domain if app is not None and getattr(app.ctx, "agent", None) else None
            held = HeldOutput()
            try:
                await on_new_message(UserMessage(as_user_text(text, domain), held, sender_id, input_channel=self.name(),
                                                 metadata=self._metadata(data)))
            except Exception as error:  # the type only: the message is the patient's
                log.error("socket.io message not handled: %s", type(error).__name__)
                return
            for message in held.settled(sender_id):
                if message.get(FORGOTTEN_KEY):
                    await output._send_message(sender_id, {"text": message["text"], FORGOTTEN_KEY: True})
                else:
                    await deliver([message], output, sender_id)

        return webhook

    def _metadata(self, data: Dict[Text, Any]) -> Dict[Text, Any]:
        metadata = data.get(self.metadata_key)
        if isinstance(metadata, str):
            try:
                metadata = json.loads(metadata)
            except ValueError:
                metadata = None
        return metadata if isinstance(metadata, dict) else {}
