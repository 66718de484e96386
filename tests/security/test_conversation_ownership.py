"""Issue 12, item 2: a conversation belongs to its channel and its client.

Before: every channel used the client's id as it came (a REST client could name a socket.io session
or a Telegram chat), the REST channel took anyone's word, and socket.io's ``user_uttered`` took the
client's word for ``session_id``: any socket could write into, read the answers of, or delete
anyone's conversation."""
from __future__ import annotations

import asyncio
import json
import time
import urllib.request
import uuid

import pytest
import requests

from tests.support.servers import REST_PREFIX, SOCKETIO_PREFIX, TELEGRAM_PREFIX
from tests.support.socketio_client import WidgetClient
from tests.support.telegram_standin import TELEGRAM_TEST_SECRET

pytestmark = pytest.mark.e2e


def user_texts(events) -> list:
    return [e["text"] for e in events if e["event"] == "user"]


def telegram_update(chat_id: int, text: str) -> bytes:
    update_id = int(time.time() * 1000) % 10**9
    user = {"id": chat_id, "is_bot": False, "first_name": "Pat"}
    return json.dumps({"update_id": update_id, "message": {
        "message_id": update_id % 100000, "from": user, "date": int(time.time()), "text": text,
        "chat": {"id": chat_id, "first_name": "Pat", "type": "private"}}}).encode()


def post_telegram(servers, body: bytes) -> int:
    request = urllib.request.Request(f"{servers.url}/webhooks/telegram/webhook", data=body, method="POST",
                                     headers={"Content-Type": "application/json",
                                              "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_TEST_SECRET})
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status


def test_the_rest_channel_needs_its_token(servers):
    url = f"{servers.url}/webhooks/rest/webhook"
    body = {"sender": f"anon-{uuid.uuid4().hex[:8]}", "message": "what causes hip pain?"}
    assert requests.post(url, json=body, timeout=30).status_code == 401
    assert requests.post(url, json=body, headers={"Authorization": "Bearer guess"}, timeout=30).status_code == 401
    assert requests.post(url, json=body, headers={"Authorization": "Bearer é"}, timeout=30).status_code == 401
    assert servers.events(REST_PREFIX + body["sender"]) == [] and servers.events(body["sender"]) == []
    assert servers.rest(body["sender"], body["message"]).status_code == 200


def test_a_rest_client_cannot_reach_a_socketio_conversation(servers):
    async def scenario() -> str:
        victim = WidgetClient(servers.url)
        session_id = await victim.connect()
        await victim.say("does lupus cause bone pain?", until="Source")
        await victim.close()
        return session_id

    session_id = asyncio.run(scenario())
    stored = SOCKETIO_PREFIX + session_id
    before = servers.events(stored)
    assert user_texts(before) == ["does lupus cause bone pain?"]
    for sender in (session_id, stored):  # the id as the widget knows it, and as it is stored
        reply = " ".join(r.get("text", "") for r in servers.say(sender, "how is it treated?")).lower()
        assert "managing systemic lupus" not in reply, "the REST client got the socket.io patient's condition"
        assert servers.slots(REST_PREFIX + sender).get("condition") is None
        assert servers.rest(sender, "delete my conversation").status_code == 200
    assert servers.events(stored) == before


def test_a_rest_client_cannot_reach_a_telegram_chat(servers, telegram_api):
    chat = 8800000 + int(uuid.uuid4().int % 99999)
    assert post_telegram(servers, telegram_update(chat, "does lupus cause nerve pain?")) == 200
    telegram_api.wait_for(lambda: [c for c in telegram_api.sent(chat) if "Source" in c.params.get("text", "")])
    stored = TELEGRAM_PREFIX + str(chat)
    before = servers.events(stored)
    assert user_texts(before) == ["does lupus cause nerve pain?"]
    for sender in (str(chat), stored):
        reply = " ".join(r.get("text", "") for r in servers.say(sender, "how is it treated?")).lower()
        assert "managing systemic lupus" not in reply
        assert servers.slots(REST_PREFIX + sender).get("condition") is None
    assert servers.events(stored) == before


def test_a_socket_cannot_write_into_another_sockets_session(servers):
    """The attacker knows the victim's session id (it is not secret from this test) and names it in
    ``user_uttered``: the message is refused; the victim's conversation is untouched and the victim
    receives nothing. Before, "delete my conversation" from the attacker deleted it."""

    async def scenario():
        victim, attacker = WidgetClient(servers.url), WidgetClient(servers.url)
        victim_id = await victim.connect()
        await victim.say("does lupus cause bone pain?", until="Source")
        attacker_id = await attacker.connect()
        assert attacker_id != victim_id
        seen_by_victim = len(victim.replies)
        await attacker.send("delete my conversation", session_id=victim_id)
        await attacker.send("how is it treated?", session_id=victim_id)
        # The attacker's own session still works (and its reply proves the server read both messages).
        await attacker.say("what causes hip pain?", until="Source")
        extra = victim.replies[seen_by_victim:]
        await victim.close()
        await attacker.close()
        return victim_id, attacker_id, extra, attacker.replies

    victim_id, attacker_id, victim_extra, attacker_replies = asyncio.run(scenario())
    assert victim_extra == []
    assert user_texts(servers.events(SOCKETIO_PREFIX + victim_id)) == ["does lupus cause bone pain?"]
    assert user_texts(servers.events(SOCKETIO_PREFIX + attacker_id)) == ["what causes hip pain?"]
    assert not any("managing systemic lupus" in (r.get("text") or "").lower() for r in attacker_replies)


def test_a_made_up_session_id_gets_a_new_server_issued_one(servers):
    async def scenario():
        client = WidgetClient(servers.url)
        issued = await client.connect(session_id="victim-session")
        await client.close()
        resumed = WidgetClient(servers.url)
        again = await resumed.connect(session_id=issued)  # a tab reloading keeps its session
        await resumed.close()
        return issued, again

    issued, again = asyncio.run(scenario())
    assert issued != "victim-session" and len(issued) == 32 and int(issued, 16) >= 0
    assert again == issued
