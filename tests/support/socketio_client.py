"""A socket.io client that talks to the Rasa server as the widget does (python-socketio, long polling:
this python-engineio's WebSocket client needs a newer aiohttp than Rasa pins)."""
from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Optional


class WidgetClient:
    """One browser tab: ``session_request``, then ``user_uttered`` messages; ``replies`` collects
    every ``bot_uttered`` payload this socket receives."""

    def __init__(self, url: str) -> None:
        import socketio

        self.url = url
        self.client = socketio.AsyncClient(reconnection=False)
        self.replies: List[Dict[str, Any]] = []
        self.session_id: Optional[str] = None
        self._arrived = asyncio.Event()
        self._confirmed = asyncio.Event()
        self.client.on("session_confirm", self._on_confirm)
        self.client.on("bot_uttered", self._on_reply)

    async def _on_confirm(self, session_id: Any) -> None:
        self.session_id = session_id
        self._confirmed.set()

    async def _on_reply(self, data: Any) -> None:
        self.replies.append(data if isinstance(data, dict) else {"raw": data})
        self._arrived.set()

    async def connect(self, session_id: Optional[str] = None) -> str:
        await self.client.connect(self.url, socketio_path="/socket.io", transports=["polling"], wait_timeout=30)
        await self.client.emit("session_request", {"session_id": session_id})
        await asyncio.wait_for(self._confirmed.wait(), timeout=30)
        assert self.session_id
        return self.session_id

    async def send(self, message: str, session_id: Optional[str] = None, **extra: Any) -> None:
        await self.client.emit("user_uttered", {"message": message, "session_id": session_id or self.session_id, **extra})

    async def say(self, message: str, until: str = "", timeout: float = 90) -> List[Dict[str, Any]]:
        """Send, then wait for replies until one contains ``until`` (any reply when empty)."""
        start = len(self.replies)
        await self.send(message)
        return await self.wait_for(until, start, timeout)

    async def wait_for(self, until: str = "", start: int = 0, timeout: float = 90) -> List[Dict[str, Any]]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not any(until in (r.get("text") or "") for r in self.replies[start:]):
            self._arrived.clear()
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"no reply containing {until!r}; got {self.replies[start:]}")
            try:
                await asyncio.wait_for(self._arrived.wait(), timeout=remaining)
            except asyncio.TimeoutError:
                pass
        return self.replies[start:]

    async def close(self) -> None:
        await close_polling_client(self.client)


async def close_polling_client(client: Any) -> None:
    """``client.disconnect()`` (socket.io DISCONNECT and engine.io CLOSE, posted to the server) without
    waiting out the pending long-poll GET: this python-engineio server answers a closed session's GET
    only at its next ping (``ping_interval``, 25 s), and the client waits for that answer. Once the
    CLOSE is posted (the write loop ends), the client's HTTP session is closed, which ends the GET,
    as a browser tab drops its pending request when it closes."""
    eio = client.eio
    closing = asyncio.ensure_future(client.disconnect())
    writer = eio.write_loop_task
    if writer is not None:
        await asyncio.wait({writer, closing}, return_when=asyncio.FIRST_COMPLETED)
    if not closing.done() and eio.http is not None:
        await eio.http.close()
    await closing
