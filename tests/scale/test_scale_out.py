"""The scaled layout with real servers (the ``scaled`` fixture runs scripts/scale-up.sh): condition
store on PostgreSQL, socket.io and REST through nginx, a bounded load with every turn accounted for in
PostgreSQL, fail-over when a Rasa server dies, and a restart of everything. Any order: each test gets
the layout whole (the ``scaled`` fixture starts again what an earlier test stopped)."""
from __future__ import annotations

import asyncio
import os
import random
import signal
import time
import uuid
from typing import Dict, List

import pytest

pytestmark = pytest.mark.e2e  # real servers

from tests.bot.test_store import EXPECTED_CONDITIONS_FOR_PAIN  # noqa: E402  (the same facts, on PostgreSQL)
from tests.support.servers import REST_PREFIX, SOCKETIO_PREFIX  # noqa: E402
from tests.support.socketio_client import close_polling_client  # noqa: E402

# One sender's conversation under load, repeated until the time is up; follow-ups lean on the slots.
CONVERSATION = [
    "What is rheumatoid arthritis?",
    "Can it cause hip pain?",
    "How is it treated?",
    "Which autoimmune diseases cause muscle pain?",
    "Does stress make lupus worse?",
    "When should I see a doctor?",
    "thanks",
]
# The disclaimer ends every medical answer, whose paragraphs arrive as messages of their own.
END_OF_ANSWER = "not a diagnosis or medical advice"
LOAD_SENDERS = int(os.environ.get("SCALE_LOAD_SENDERS", "50"))
# Turns each sender takes (all 50 at once): the follow-ups that lean on the slots, then a new question.
LOAD_TURNS = int(os.environ.get("SCALE_LOAD_TURNS", "4"))
THINK_S = (1.5, 2.5)  # a pause between a reply and the next message, like a (fast) person; within
# the per-sender limit (bot.rasa.guard: 15 at once, then 30 a minute). Each simulated patient comes
# from its own loopback address, as patients do, so nginx's per-address limit applies to each alone.


def new_sender(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def about_ra_and_hip(texts: List[str]) -> bool:
    text = " ".join(texts).lower()
    return "rheumatoid arthritis" in text and "hip" in text


def stored_user_turns(scaled, sender: str, expected: int = 2) -> List[str]:
    """The user turns saved in PostgreSQL (socket.io sends replies before the turn is saved: wait a little)."""
    deadline = time.monotonic() + 15
    while True:
        turns = [e["text"] for e in scaled.events(sender) if e["event"] == "user"]
        if len(turns) >= expected or time.monotonic() > deadline:
            return turns
        time.sleep(0.2)


def test_the_condition_store_on_postgresql_says_what_the_documents_say(scaled):
    from bot.db import engine_for
    from bot.ingest import build_store
    from bot.store import ConditionStore

    engine = engine_for(scaled.condition_store_url)
    try:
        assert engine.dialect.name == "postgresql"
        # scale-up built it (`python -m bot build-store` with DATABASE_URL); building again changes nothing.
        report = build_store(engine=engine)
        assert report.loaded == [] and len(report.unchanged) >= 3, report.as_dict()
        store = ConditionStore(engine)
        for pain, expected in EXPECTED_CONDITIONS_FOR_PAIN.items():
            assert {r.condition.name for r in store.conditions_for_pain(store.resolve_pain_type(pain))} == expected, pain
        assert store.resolve_condition("RA").name == "rheumatoid arthritis"
        assert store.resolve_condition("lupus").name == "systemic lupus erythematosus"
    finally:
        engine.dispose()


def test_both_rasa_servers_answer_rest_through_nginx_and_share_the_conversation(scaled):
    sender = new_sender("rest")
    assert "rheumatoid arthritis" in " ".join(scaled.send(sender, "What is rheumatoid arthritis?")).lower()
    for _ in range(3):
        assert about_ra_and_hip(scaled.send(sender, "Can it cause hip pain?"))
    # least_conn spread the four turns over both servers, and each knew what the other had said.
    log = [line for line in scaled.access_log() if "POST /webhooks/rest/webhook" in line]
    served_by = {line.rsplit("upstream=", 1)[1].split()[0] for line in log[-4:]}
    assert served_by == {f"127.0.0.1:{p}" for p in scaled.rasa_ports}, log[-4:]
    assert scaled.slots(REST_PREFIX + sender)["condition"] == "rheumatoid arthritis"


def test_socketio_polling_through_nginx_keeps_the_session(scaled):
    """python-socketio's client on the long-polling transport: every request of the session must reach
    the same Rasa server (nginx: ip_hash on /socket.io/)."""
    import socketio

    session: Dict[str, str] = {}

    async def converse() -> List[List[str]]:
        client = socketio.AsyncClient(reconnection=False)
        confirmed = asyncio.Event()
        replies: asyncio.Queue = asyncio.Queue()

        @client.on("session_confirm")
        async def _confirmed(session_id):
            session["id"] = session_id
            confirmed.set()

        @client.on("bot_uttered")
        async def _bot_uttered(data):
            await replies.put(data.get("text") or "")

        async def turn(text: str) -> List[str]:
            await client.emit("user_uttered", {"message": text, "session_id": session["id"]})
            got: List[str] = []
            while not any(END_OF_ANSWER in t for t in got):
                got.append(await asyncio.wait_for(replies.get(), timeout=90))
            return got

        # Polling only: this python-engineio's WebSocket client needs a newer aiohttp than Rasa pins;
        # the WebSocket transport is tested below with a plain WebSocket.
        await client.connect(scaled.lb_url, socketio_path="/socket.io", transports=["polling"], wait_timeout=30)
        try:
            await client.emit("session_request", {"session_id": None})  # a new session: the server issues its id
            await asyncio.wait_for(confirmed.wait(), timeout=30)
            return [await turn("What is rheumatoid arthritis?"), await turn("Can it cause hip pain?")]
        finally:
            await close_polling_client(client)

    first, second = asyncio.run(converse())
    assert "rheumatoid arthritis" in " ".join(first).lower()
    assert about_ra_and_hip(second), second
    assert stored_user_turns(scaled, SOCKETIO_PREFIX + session["id"]) == ["What is rheumatoid arthritis?", "Can it cause hip pain?"]


def test_socketio_websocket_through_nginx_keeps_the_session(scaled):
    """socket.io over a WebSocket upgraded through nginx (Engine.IO 4 / Socket.IO 5 frames by hand)."""
    import json

    import aiohttp

    url = f"{scaled.lb_url}/socket.io/?EIO=4&transport=websocket"
    session: Dict[str, str] = {}

    async def converse() -> List[List[str]]:
        async with aiohttp.ClientSession() as http, http.ws_connect(url, timeout=30) as ws:

            async def receive_event() -> list:
                while True:
                    frame = await asyncio.wait_for(ws.receive_str(), timeout=90)
                    if frame == "2":  # engine.io ping
                        await ws.send_str("3")
                    elif frame.startswith("42"):
                        return json.loads(frame[2:])

            assert (await asyncio.wait_for(ws.receive_str(), timeout=30)).startswith("0")  # engine.io open
            await ws.send_str("40")  # socket.io connect to "/"
            assert (await asyncio.wait_for(ws.receive_str(), timeout=30)).startswith("40")
            await ws.send_str("42" + json.dumps(["session_request", {}]))
            name, session["id"] = (await receive_event())[:2]
            assert name == "session_confirm"
            turns = []
            for text in ["What is rheumatoid arthritis?", "Can it cause hip pain?"]:
                await ws.send_str("42" + json.dumps(["user_uttered", {"message": text, "session_id": session["id"]}]))
                got: List[str] = []
                while not any(END_OF_ANSWER in t for t in got):
                    name, data = (await receive_event())[:2]
                    if name == "bot_uttered":
                        got.append(data.get("text") or "")
                turns.append(got)
            return turns

    first, second = asyncio.run(converse())
    assert "rheumatoid arthritis" in " ".join(first).lower()
    assert about_ra_and_hip(second), second
    assert stored_user_turns(scaled, SOCKETIO_PREFIX + session["id"]) == ["What is rheumatoid arthritis?", "Can it cause hip pain?"]


def test_bounded_load_loses_nothing_and_keeps_every_conversation_in_order(scaled):
    import aiohttp

    url = f"{scaled.lb_url}/webhooks/rest/webhook"
    senders = [new_sender(f"load{i:02d}") for i in range(LOAD_SENDERS)]
    replies: Dict[str, List[List[str]]] = {s: [] for s in senders}
    sent: Dict[str, List[str]] = {s: [] for s in senders}
    errors: List[str] = []
    latencies: List[float] = []

    async def converse(index: int, sender: str) -> None:
        connector = aiohttp.TCPConnector(limit=1, local_addr=(f"127.0.{index // 250}.{index % 250 + 2}", 0))
        async with aiohttp.ClientSession(timeout=timeout, connector=connector, headers=auth) as session:
            await talk(session, sender)

    async def talk(session: "aiohttp.ClientSession", sender: str) -> None:
        rng = random.Random(sender)
        await asyncio.sleep(rng.uniform(0, 2))  # not all at the same instant
        turn = 0
        while turn < LOAD_TURNS:
            text = CONVERSATION[turn % len(CONVERSATION)]
            started = time.monotonic()
            try:
                async with session.post(url, json={"sender": sender, "message": text, "metadata": {"turn": turn}}) as response:
                    body = await response.json(content_type=None) if response.status == 200 else await response.text()
                    status = response.status
            except Exception as error:  # noqa: BLE001 - every failure is counted and reported
                errors.append(f"{sender} turn {turn}: {type(error).__name__}: {error}")
                return
            latencies.append(time.monotonic() - started)
            if status != 200 or not isinstance(body, list) or not body:
                errors.append(f"{sender} turn {turn}: HTTP {status}: {str(body)[:200]}")
                return
            sent[sender].append(text)
            replies[sender].append([m.get("text") or "" for m in body])
            turn += 1
            await asyncio.sleep(rng.uniform(*THINK_S))

    timeout = aiohttp.ClientTimeout(total=120)
    auth = {"Authorization": f"Bearer {scaled.rest_token}"}

    async def run() -> float:
        started = time.monotonic()
        await asyncio.gather(*(converse(i, s) for i, s in enumerate(senders)))
        return time.monotonic() - started

    elapsed = asyncio.run(run())
    turns = sum(len(v) for v in sent.values())
    latencies.sort()
    p50 = latencies[len(latencies) // 2] if latencies else float("nan")
    p95 = latencies[int(len(latencies) * 0.95)] if latencies else float("nan")
    print(
        f"\nload: {LOAD_SENDERS} senders, {elapsed:.1f} s, {turns} turns ({turns / elapsed:.1f}/s), "
        f"latency p50 {p50:.2f} s p95 {p95:.2f} s max {latencies[-1] if latencies else 0:.2f} s, errors {len(errors)}"
    )
    assert errors == []
    assert all(len(v) == LOAD_TURNS for v in sent.values()), "every sender had its whole conversation"

    # Every sender's tracker in PostgreSQL: every user turn, in order, each followed by the bot's reply
    # exactly as the sender received it.
    for sender in senders:
        events = scaled.events(REST_PREFIX + sender)
        users = [i for i, e in enumerate(events) if e["event"] == "user"]
        assert [events[i]["text"] for i in users] == sent[sender], sender
        assert [(events[i].get("metadata") or {}).get("turn") for i in users] == list(range(len(sent[sender]))), sender
        bounds = users + [len(events)]
        for n, (start, end) in enumerate(zip(bounds, bounds[1:])):
            stored = [e.get("text") or "" for e in events[start + 1:end] if e["event"] == "bot"]
            if n == 0:  # the session-start greeting is saved before the first user message
                stored = [e.get("text") or "" for e in events[:start] if e["event"] == "bot"] + stored
            assert stored and stored == replies[sender][n], f"{sender} turn {n}"
        assert events[-1]["event"] == "action" and events[-1]["name"] == "action_listen", sender


def test_failover_when_a_rasa_server_dies_mid_conversation(scaled):
    sender = new_sender("failover")
    assert "rheumatoid arthritis" in " ".join(scaled.send(sender, "What is rheumatoid arthritis?")).lower()

    victim_port, survivor_port = scaled.rasa_ports
    os.killpg(scaled.pid("rasa-1"), signal.SIGKILL)  # a crash: no graceful shutdown
    deadline = time.monotonic() + 30
    while victim_port in scaled.listening() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert victim_port not in scaled.listening()

    log_before = len(scaled.access_log())
    killed_at = time.monotonic()
    follow_up = scaled.send(sender, "Can it cause hip pain?")
    gap = time.monotonic() - killed_at
    assert about_ra_and_hip(follow_up), follow_up
    treated = " ".join(scaled.send(sender, "How is it treated?")).lower()
    assert "rheumatoid arthritis" in treated
    for _ in range(4):
        assert about_ra_and_hip(scaled.send(sender, "Can it cause hip pain?"))

    # Every turn after the crash was answered by the other server (nginx may first have tried the dead one).
    answered = [line for line in scaled.access_log()[log_before:] if "POST /webhooks/rest/webhook" in line]
    assert len(answered) == 6
    assert all('" 200 ' in line for line in answered), answered
    assert all(line.split("upstream=")[1].split(" upstream_status=")[0].endswith(f"127.0.0.1:{survivor_port}") for line in answered), answered
    user_turns = [e["text"] for e in scaled.events(REST_PREFIX + sender) if e["event"] == "user"]
    assert user_turns == ["What is rheumatoid arthritis?", "Can it cause hip pain?", "How is it treated?"] + ["Can it cause hip pain?"] * 4
    assert scaled.slots(REST_PREFIX + sender)["condition"] == "rheumatoid arthritis"
    print(f"\nfail-over: first reply after the crash in {gap:.2f} s; nginx log: {answered[0]}")


def test_a_restart_of_every_server_keeps_the_conversation(scaled_layout):
    """``scaled_layout``, not ``scaled``: a Rasa server an earlier test stopped (the fail-over test's)
    is not started just to be stopped again, since ``up()`` below starts every server; the first
    message needs only one of the two."""
    scaled = scaled_layout
    running = scaled.listening()
    if [p for p in scaled.ports() if p not in running and p not in scaled.rasa_ports] or not set(scaled.rasa_ports) & set(running):
        scaled.up()
    sender = new_sender("restart")
    assert "rheumatoid arthritis" in " ".join(scaled.send(sender, "What is rheumatoid arthritis?")).lower()

    scaled.down()  # nginx, both Rasa servers, both action servers, Redis and PostgreSQL
    assert scaled.listening() == []
    restart_s = scaled.up()

    assert scaled.slots(REST_PREFIX + sender)["condition"] == "rheumatoid arthritis"
    assert about_ra_and_hip(scaled.send(sender, "Can it cause hip pain?"))
    print(f"\nrestart: scale-up took {restart_s:.1f} s (first start {scaled.startup_s:.1f} s)")
