"""What every chat channel (rest, socketio, telegram) does the same way, before and after Rasa.

Before: a message longer than ``MAX_MESSAGE_CHARS`` or a sender over its rate is refused; the sender
id gets the channel's prefix ("rest:", "sio:", "tg:"), so one channel's client can never name
another channel's conversation; a text that starts with "/" but is not a payload the domain knows
loses its slashes (Rasa 3.6 would log an unknown "/command" in full and skip the NLU pipeline).
After: the turn's replies are held until the turn is saved, so "I have deleted this conversation"
is sent only when the tracker store reports that the delete succeeded (README, "Security").
"""
from __future__ import annotations

import json
import re
import threading
import time
from collections import OrderedDict
from typing import Any, Callable, Dict, List, Optional, Tuple

from rasa.core.channels.channel import CollectingOutputChannel, OutputChannel

from bot import settings, texts
from bot.rasa.tracker_store import pop_forget_outcome

#: The longest message any channel accepts, in characters (Python ``len``).
MAX_MESSAGE_CHARS = 25_000
#: The key set on the reply that confirms a deletion (the widget then clears its stored transcript).
FORGOTTEN_KEY = "forgotten"

_PAYLOAD = re.compile(r"/([A-Za-z_][A-Za-z0-9_]{0,63})(\{.{0,2000}\})?", re.DOTALL)


def namespaced(prefix: str, raw_id: str) -> str:
    """The sender id a channel stores: ``prefix:raw_id`` ("rest:abc", "tg:12345", "sio:<session>")."""
    return f"{prefix}:{raw_id}"


def strip_namespace(prefix: str, sender_id: str) -> str:
    """The channel's own id back from a stored sender id (a Telegram chat id to send to)."""
    head = f"{prefix}:"
    return sender_id[len(head):] if sender_id.startswith(head) else sender_id


def as_user_text(text: str, domain: Any) -> str:
    """``text`` as Rasa should get it: a payload the domain knows ("/ask_treatment",
    '/inform{"condition": "lupus"}') as it is, anything else starting with "/" without its slashes."""
    stripped = text.strip()
    if not stripped.startswith("/"):
        return text
    match = _PAYLOAD.fullmatch(stripped)
    if match and domain is not None and match.group(1) in domain.intents:
        if match.group(2) is None:
            return stripped
        try:
            entities = json.loads(match.group(2))
        except ValueError:
            entities = None
        if isinstance(entities, dict) and set(entities) <= set(domain.entities):
            return stripped
    return stripped.lstrip("/").lstrip()


class RateLimiter:
    """A token bucket per sender: ``burst`` messages at once, then ``per_minute`` a minute.

    In memory, per server process (the scaled layout adds nginx's per-address limit in front).
    Idle senders are forgotten once more than ``max_senders`` are tracked.
    """

    def __init__(self, burst: int, per_minute: float, clock: Callable[[], float] = time.monotonic,
                 max_senders: int = 100_000) -> None:
        self.burst = max(1, int(burst))
        self.rate = max(per_minute, 0.001) / 60.0
        self.clock = clock
        self.max_senders = max_senders
        self._buckets: "OrderedDict[str, Tuple[float, float]]" = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls) -> "RateLimiter":
        burst, per_minute = settings.sender_rate_limit()
        return cls(burst, per_minute)

    def allow(self, sender_id: str) -> bool:
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.pop(sender_id, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            allowed = tokens >= 1.0
            self._buckets[sender_id] = (tokens - 1.0 if allowed else tokens, now)
            while len(self._buckets) > self.max_senders:
                self._buckets.popitem(last=False)
        return allowed


def refusal(text: str, sender_id: str, limiter: RateLimiter) -> Optional[str]:
    """Why a message is refused (``"too_long"``, ``"too_fast"``), or None when it may go on."""
    if len(text) > MAX_MESSAGE_CHARS:
        return "too_long"
    if not limiter.allow(sender_id):
        return "too_fast"
    return None


REFUSAL_TEXTS = {"too_long": texts.MESSAGE_TOO_LONG, "too_fast": texts.TOO_MANY_MESSAGES}


class HeldOutput(CollectingOutputChannel):
    """Collects one turn's replies; ``settled()`` gives them once the turn is saved."""

    @classmethod
    def name(cls) -> str:
        return "held"

    def settled(self, sender_id: str, recipient_id: Optional[str] = None) -> List[Dict[str, Any]]:
        """The replies (addressed to ``recipient_id``, default the sender), with the deletion
        confirmed only if the tracker store says it succeeded."""
        messages = [{**m, "recipient_id": recipient_id or sender_id} for m in self.messages]
        return settle_forget(messages, pop_forget_outcome(sender_id))


def settle_forget(messages: List[Dict[str, Any]], deleted: Optional[bool]) -> List[Dict[str, Any]]:
    """``texts.FORGOTTEN`` stays (marked ``forgotten``) only when ``deleted`` is True; otherwise the
    patient is told the conversation could not be deleted."""
    for message in messages:
        if message.get("text") == texts.FORGOTTEN:
            if deleted:
                message[FORGOTTEN_KEY] = True
            else:
                message["text"] = texts.FORGET_FAILED
    return messages


async def deliver(messages: List[Dict[str, Any]], output: OutputChannel, recipient_id: str) -> None:
    """Send held replies through a channel's real output, in order."""
    for message in messages:
        message = {k: v for k, v in message.items() if k not in ("recipient_id", FORGOTTEN_KEY)}
        await output.send_response(recipient_id, message)

