"""Issue 12, item 8: a database that fails under load. Several patients talk to the scaled layout
through nginx while PostgreSQL (then Redis) is stopped and started again, as README, "When a
database fails", describes:

* PostgreSQL away: every message is still answered (HTTP 200, never a 5xx), as the first message of
  a new conversation (the welcome again), a question with "I can't answer that just now" (the
  documents are in the same PostgreSQL); nothing of it is stored; red flags are still caught; "delete
  my conversation" says it could not; once PostgreSQL is back every new turn is answered and stored
  again, after the turns stored before the outage.
* Redis away: every message is answered as usual, in its conversation, and every turn is stored.
* Each Rasa server logs the outage once and its end once, with no patient text.

Before: Rasa's fail-safe tracker store logged every failed call (three per message, with the SQL),
kept each unsaved conversation in a memory store it never reads back; an answer whose action failed
(the condition store away) was sent as nothing at all; and the Redis lock store failed every message
with a 500 until Redis was back.
"""
from __future__ import annotations

import asyncio
import random
import re
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List

import pytest

from bot import texts
from bot.clinic import load_clinic_config
from tests.support.servers import REST_PREFIX, grep_files

pytestmark = pytest.mark.e2e  # real servers

SENDERS = 6
THINK_S = (0.4, 0.9)  # within the per-sender limit (bot.rasa.guard: 15 at once, then 30 a minute)
TURNS_IN_OUTAGE = 2  # per sender, answered while the service is away
TURNS_AFTER = 2  # per sender, sent once it is back
PHASE_TIMEOUT_S = 90
WELCOME = load_clinic_config().scope_notice
EMERGENCY_START = texts.EMERGENCY.split("{")[0]
EMERGENCY_MESSAGE = "I have crushing chest pain and can't breathe"
DELETE_MESSAGE = "delete my conversation"


def conversation(phrase: str) -> List[str]:
    """One patient's messages, repeated; one carries a phrase that must appear in no log."""
    return [
        "What is rheumatoid arthritis?",
        "Can it cause hip pain?",
        f"My neighbour {phrase} has lupus. Does stress make lupus worse?",
        "How is it treated?",
    ]


@dataclass
class Turn:
    index: int
    text: str
    sent_at: float
    replied_at: float = 0.0
    status: int = 0
    replies: List[str] = field(default_factory=list)


@dataclass
class OutageLoad:
    """A load of SENDERS patients through nginx while ``service`` is stopped and started again."""

    service: str
    phrase: str = field(default_factory=lambda: f"zebracorn{uuid.uuid4().hex[:12]}")
    turns: Dict[str, List[Turn]] = field(default_factory=dict)
    errors: List[str] = field(default_factory=list)
    stop_called: float = float("inf")
    stopped: float = float("inf")
    start_called: float = float("inf")
    started: float = float("inf")
    specials: Dict[str, str] = field(default_factory=dict)  # sender -> one message sent during the outage

    def before(self, sender: str) -> List[Turn]:
        return [t for t in self.turns[sender] if t.replied_at < self.stop_called]

    def during(self, sender: str) -> List[Turn]:
        return [t for t in self.turns[sender] if t.sent_at > self.stopped and t.replied_at < self.start_called]

    def after(self, sender: str) -> List[Turn]:
        return [t for t in self.turns[sender] if t.sent_at > self.started]

    def run(self, scaled) -> float:
        """The whole load; returns its seconds."""
        return asyncio.run(self._run(scaled))

    async def _run(self, scaled) -> float:
        import aiohttp

        senders = [f"outage-{self.service[:5]}-{i}-{uuid.uuid4().hex[:8]}" for i in range(SENDERS)]
        self.turns = {s: [] for s in senders}
        url = f"{scaled.lb_url}/webhooks/rest/webhook"
        auth = {"Authorization": f"Bearer {scaled.rest_token}"}
        done = asyncio.Event()

        async def talk(number: int, sender: str) -> None:
            rng = random.Random(sender)
            messages = conversation(self.phrase)
            # Each patient from its own loopback address (nginx limits each address on its own).
            connector = aiohttp.TCPConnector(limit=1, local_addr=(f"127.1.0.{number + 2}", 0))
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120), connector=connector,
                                             headers=auth) as session:
                while not done.is_set():
                    index = len(self.turns[sender])
                    text = messages[index % len(messages)]
                    special = self.specials.get(sender)
                    if special and time.monotonic() > self.stopped and not any(t.text == special for t in self.turns[sender]):
                        text = special
                    turn = Turn(index, text, time.monotonic())
                    try:
                        async with session.post(url, json={"sender": sender, "message": text, "metadata": {"turn": index}}) as response:
                            turn.status = response.status
                            body = await response.json(content_type=None) if response.status == 200 else await response.text()
                    except Exception as error:  # noqa: BLE001 - every failure is counted and reported
                        self.errors.append(f"{sender} turn {index}: {type(error).__name__}: {error}")
                        return
                    turn.replied_at = time.monotonic()
                    if turn.status != 200 or not isinstance(body, list) or not body:
                        self.errors.append(f"{sender} turn {index}: HTTP {turn.status}: {str(body)[:200]}")
                        return
                    turn.replies = [m.get("text") or "" for m in body]
                    self.turns[sender].append(turn)
                    await asyncio.sleep(rng.uniform(*THINK_S))

        async def until(condition, what: str) -> None:
            deadline = time.monotonic() + PHASE_TIMEOUT_S
            while not condition():
                assert not self.errors, self.errors
                assert time.monotonic() < deadline, f"{what}: not after {PHASE_TIMEOUT_S} s"
                await asyncio.sleep(0.1)

        self.specials = {senders[0]: EMERGENCY_MESSAGE}
        if self.service == "postgresql":
            self.specials[senders[1]] = DELETE_MESSAGE
        began = time.monotonic()
        talkers = [asyncio.ensure_future(talk(i, s)) for i, s in enumerate(senders)]
        try:
            await until(lambda: all(self.before(s) for s in senders), "every patient answered before the outage")
            self.stop_called = time.monotonic()
            await asyncio.to_thread(scaled.stop_service, self.service)
            self.stopped = time.monotonic()
            await until(lambda: all(len(self.during(s)) >= TURNS_IN_OUTAGE for s in senders)
                        and all(any(t.text == m for t in self.during(s)) for s, m in self.specials.items()),
                        f"every patient answered while {self.service} was away")
            self.start_called = time.monotonic()
            await asyncio.to_thread(scaled.start_service, self.service)
            self.started = time.monotonic()
            await until(lambda: all(len(self.after(s)) >= TURNS_AFTER for s in senders),
                        f"every patient answered once {self.service} was back")
        finally:
            done.set()
            await asyncio.gather(*talkers)
            if self.started == float("inf"):
                await asyncio.to_thread(scaled.start_service, self.service)  # the next test gets it whole
        return time.monotonic() - began


def stored_turns(scaled, sender: str) -> List[int]:
    """The turn numbers (request metadata) of the user messages stored in PostgreSQL, in order."""
    return [(e.get("metadata") or {}).get("turn") for e in scaled.events(REST_PREFIX + sender) if e["event"] == "user"]


class LogMark:
    """What the Rasa servers logged from now on."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.offsets = {p: p.stat().st_size for p in self._files()}

    def _files(self) -> List[Path]:
        return sorted((self.root / "logs").glob("rasa-*.log"))

    def since(self) -> Dict[str, str]:
        new = {}
        for path in self._files():
            with open(path, "rb") as log:
                log.seek(self.offsets.get(path, 0))
                new[path.name] = log.read().decode(errors="replace")
        return new


def count(pattern: str, text: str) -> int:
    return len(re.findall(pattern, text))


def assert_logged_once_per_server(logs: Dict[str, str], service: str) -> None:
    down = {name: count(f"{re.escape(service)} unreachable", text) for name, text in logs.items()}
    back = {name: count(f"{re.escape(service)} reachable again", text) for name, text in logs.items()}
    assert all(n <= 1 for n in down.values()) and sum(down.values()) >= 1, down
    assert back == down, (down, back)  # every outage a server saw, it saw end
    everything = "".join(logs.values())
    assert count("Error happened when trying to", everything) == 0  # Rasa's per-call fail-safe lines
    assert count("REST message not handled", everything) == 0


def assert_no_patient_text_in_logs(scaled, phrase: str) -> None:
    """The phrase is in PostgreSQL's data (stored turns), and in no other file of the layout."""
    hits = [hit for hit in grep_files(scaled.root, [phrase]) if not Path(hit.split(":")[0]).is_relative_to(scaled.root / "postgres")]
    assert hits == []


def summary(load: OutageLoad, seconds: float) -> str:
    turns = [t for ts in load.turns.values() for t in ts]
    during = [t for s in load.turns for t in load.during(s)]
    slowest = max((t.replied_at - t.sent_at for t in turns), default=0.0)
    return (f"\n{load.service} outage: {seconds:.1f} s, {len(turns)} turns, {len(during)} while away "
            f"({load.started - load.stop_called:.1f} s), slowest reply {slowest:.2f} s")


def test_postgresql_restarted_under_load(scaled):
    logs = LogMark(scaled.root)
    load = OutageLoad("postgresql")
    seconds = load.run(scaled)
    print(summary(load, seconds))
    assert load.errors == []  # every message answered with a 200 and at least one reply

    emergency_sender, delete_sender = list(load.specials)
    for sender, turns in load.turns.items():
        during = load.during(sender)
        # Answered as the first message of a new conversation (the earlier turns could not be read),
        # and not by the welcome alone: by an answer, or by "I can't answer that just now" when the
        # answer needs the documents (the condition store is in the same PostgreSQL).
        assert all(t.replies[0] == WELCOME and len(t.replies) >= 2 for t in during), [t.replies for t in during]
        # Once PostgreSQL is back, the conversation stored before the outage goes on (no new welcome)
        # and is answered from the documents again.
        after = load.after(sender)
        assert all(t.replies[0] != WELCOME and texts.ACTION_FAILED not in t.replies for t in after), [t.replies for t in after]
        # Nothing is ever said to be deleted; the one who asked is told it could not be.
        assert not any(texts.FORGOTTEN in r for t in turns for r in t.replies)
        if sender == delete_sender:
            assert [texts.FORGET_FAILED in t.replies for t in during if t.text == DELETE_MESSAGE] == [True]
        # What is stored: every turn answered before the outage and every turn sent after it, in
        # order; nothing of the turns answered while PostgreSQL was away.
        stored = stored_turns(scaled, sender)
        assert stored == sorted(stored), (sender, stored)
        assert {t.index for t in load.before(sender)} <= set(stored), (sender, stored)
        assert {t.index for t in load.after(sender)} <= set(stored), (sender, stored)
        assert not {t.index for t in during} & set(stored), (sender, stored)
    assert any(texts.ACTION_FAILED in t.replies for s in load.turns for t in load.during(s))
    # Red flags are caught while the database is away (the safety screen needs no database).
    assert [any(r.startswith(EMERGENCY_START) for r in t.replies)
            for t in load.during(emergency_sender) if t.text == EMERGENCY_MESSAGE] == [True]

    assert_logged_once_per_server(logs.since(), "tracker store database")
    assert_no_patient_text_in_logs(scaled, load.phrase)


def test_redis_restarted_under_load(scaled):
    logs = LogMark(scaled.root)
    load = OutageLoad("redis")
    seconds = load.run(scaled)
    print(summary(load, seconds))
    assert load.errors == []  # every message answered with a 200 and at least one reply

    for sender, turns in load.turns.items():
        # Answered in their conversation (only the first turn opens with the welcome) ...
        assert [t.replies[0] == WELCOME for t in turns] == [True] + [False] * (len(turns) - 1), sender
        assert not any(r in (texts.FORGOTTEN, texts.FORGET_FAILED, texts.ACTION_FAILED) for t in turns for r in t.replies)
        # ... and every turn is stored, in order, those answered while Redis was away included.
        assert stored_turns(scaled, sender) == [t.index for t in turns], sender
    emergency_sender = next(iter(load.specials))
    assert [any(r.startswith(EMERGENCY_START) for r in t.replies)
            for t in load.during(emergency_sender) if t.text == EMERGENCY_MESSAGE] == [True]

    assert_logged_once_per_server(logs.since(), "lock store (Redis)")
    assert_no_patient_text_in_logs(scaled, load.phrase)



def test_a_conversation_that_could_not_be_read_is_not_saved_over(scaled):
    """A turn whose read failed (PostgreSQL away) but whose save would succeed (back meanwhile) is
    not saved: Rasa would append the events of the empty conversation it started after the stored
    ones. And Rasa's fail-safe wrapper never gets anything to keep in memory."""
    from rasa.core.tracker_store import FailSafeTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, UserUttered

    from bot.rasa.tracker_store import PrivateSQLTrackerStore

    store = PrivateSQLTrackerStore(domain=Domain.load("domain.yml"), dialect="postgresql", host="127.0.0.1",
                                   port=scaled.pg_port, db="clinic_tracker", username="clinic", password=scaled.db_password)
    wrapped = FailSafeTrackerStore(store)
    sender = f"unread-{uuid.uuid4().hex[:8]}"

    async def turn(text: str) -> None:
        tracker = await wrapped.get_or_create_tracker(sender)
        tracker.update(UserUttered(text))
        tracker.update(ActionExecuted("action_listen"))
        await wrapped.save(tracker)

    async def scenario() -> None:
        await turn("first")
        await asyncio.to_thread(scaled.stop_service, "postgresql")
        try:
            fresh = await wrapped.get_or_create_tracker(sender)  # the read fails: an empty conversation
            assert [e for e in fresh.events if isinstance(e, UserUttered)] == []
        finally:
            await asyncio.to_thread(scaled.start_service, "postgresql")
        for _ in range(2):  # longer than the stored conversation: Rasa would append its tail
            fresh.update(UserUttered("during"))
            fresh.update(ActionExecuted("action_listen"))
        await wrapped.save(fresh)  # PostgreSQL answers again, but this conversation was not read
        await turn("after")  # read again: saved again

    try:
        asyncio.run(scenario())
    finally:
        store.engine.dispose()
    assert [e["text"] for e in scaled.events(sender) if e["event"] == "user"] == ["first", "after"]
    assert wrapped._fallback_tracker_store is None  # nothing was handed to Rasa's in-memory store
