"""Telegram end to end: real-shaped updates posted to the bot's webhook on a running Rasa server; the
replies arrive at a local stand-in of the Telegram Bot API (configured as ``api_url``)."""
from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
import urllib.error
import urllib.request

import pytest

from bot import texts as bot_texts
from tests.support.servers import TELEGRAM_PREFIX
from tests.support.telegram_standin import TELEGRAM_TEST_BOT, TELEGRAM_TEST_SECRET, TELEGRAM_TEST_TOKEN

pytestmark = pytest.mark.e2e

_ids = itertools.count(int(time.time()) % 100000 * 1000)


def message_update(chat_id: int, text: str) -> dict:
    """The shape Telegram posts for a private text message."""
    update_id = next(_ids)
    user = {"id": chat_id, "is_bot": False, "first_name": "Pat", "language_code": "en"}
    return {"update_id": update_id, "message": {
        "message_id": update_id % 100000, "from": user, "date": int(time.time()), "text": text,
        "chat": {"id": chat_id, "first_name": "Pat", "type": "private"}}}


def button_update(chat_id: int, data: str) -> dict:
    """The shape Telegram posts when an inline keyboard button is pressed."""
    update_id = next(_ids)
    user = {"id": chat_id, "is_bot": False, "first_name": "Pat"}
    bot = {"id": int(TELEGRAM_TEST_TOKEN.split(":")[0]), "is_bot": True, "first_name": "Clinic", "username": TELEGRAM_TEST_BOT}
    return {"update_id": update_id, "callback_query": {
        "id": str(update_id), "from": user, "chat_instance": "-1", "data": data,
        "message": {"message_id": 1, "from": bot, "date": int(time.time()), "text": "…",
                    "chat": {"id": chat_id, "first_name": "Pat", "type": "private"}}}}


def post(servers, body, secret: str = TELEGRAM_TEST_SECRET, raw: bytes = None):
    data = raw if raw is not None else json.dumps(body).encode()
    request = urllib.request.Request(f"{servers.url}/webhooks/telegram/webhook", data=data, method="POST",
                                     headers={"Content-Type": "application/json",
                                              "X-Telegram-Bot-Api-Secret-Token": secret})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def texts(standin, chat_id):
    return [c.params["text"] for c in standin.sent(chat_id)]


def answer_after(standin, chat_id, count: int, disclaimer: str) -> str:
    """The chat's messages after the first ``count``, once the answer's last paragraph (the
    disclaimer) has arrived: each paragraph of a reply is a message of its own."""
    standin.wait_for(lambda: [t for t in texts(standin, chat_id)[count:] if disclaimer in " ".join(t.split())])
    return "\n".join(texts(standin, chat_id)[count:])


def test_the_webhook_was_set_with_the_secret(channel_servers, telegram_api):
    call = telegram_api.wait_for(lambda: [c for c in telegram_api.calls if c.method == "setWebhook"])[0]
    assert call.params["url"].endswith("/webhooks/telegram/webhook")
    assert call.params["secret_token"] == TELEGRAM_TEST_SECRET


def test_start_then_a_question_gets_a_grounded_disclaimed_answer(channel_servers, telegram_api, disclaimer):
    chat = 7001
    status, _ = post(channel_servers, message_update(chat, "/start"))
    assert status == 200
    greeting = telegram_api.wait_for(lambda: texts(telegram_api, chat))
    assert "not for emergencies" in greeting[0]  # the scope notice opens the conversation

    count = len(texts(telegram_api, chat))
    status, _ = post(channel_servers, message_update(chat, "what causes hip pain"))
    assert status == 200
    answer = answer_after(telegram_api, chat, count, disclaimer)
    assert "rheumatoid arthritis" in answer.lower() and re.search(r"Sources?:", answer)
    assert telegram_api.rejected() == []


def test_buttons_become_an_inline_keyboard_and_a_press_is_answered(channel_servers, telegram_api, disclaimer):
    chat = 7002
    post(channel_servers, message_update(chat, "what can you help me with?"))
    with_keyboard = telegram_api.wait_for(
        lambda: [c for c in telegram_api.sent(chat) if c.params.get("reply_markup")])[0]
    keyboard = with_keyboard.params["reply_markup"]["inline_keyboard"]
    buttons = [button for row in keyboard for button in row]
    assert all(len(row) == 1 for row in keyboard)  # one button per row: readable on a phone
    what_is = [b for b in buttons if b["callback_data"].startswith("/ask_condition_info")]
    assert what_is and what_is[0]["text"].startswith("What is"), buttons

    count = len(texts(telegram_api, chat))
    status, _ = post(channel_servers, button_update(chat, what_is[0]["callback_data"]))
    assert status == 200
    answer = answer_after(telegram_api, chat, count, disclaimer)
    condition = what_is[0]["text"][len("What is "):].rstrip("?").lower()
    assert condition in answer.lower() and re.search(r"Sources?:", answer)
    assert telegram_api.wait_for(lambda: telegram_api.sent(method="answerCallbackQuery"))


def test_feedback_is_an_inline_keyboard_and_a_thumbs_down_does_not_hold_up_the_next_question(
        channel_servers, telegram_api, disclaimer, stored_feedback):
    """Issue 13: "Was this helpful?" under a medical answer; 👎 is thanked with the optional "what were
    you looking for?", which the patient may skip by asking the next question, or answer."""
    chat = 7006
    post(channel_servers, message_update(chat, "what causes hip pain?"))
    answer = answer_after(telegram_api, chat, 0, disclaimer)
    assert "hip pain" in answer.lower() and re.search(r"Sources?:", answer)
    with_keyboard = telegram_api.wait_for(lambda: [c for c in telegram_api.sent(chat) if c.params.get("reply_markup")])
    assert len(with_keyboard) == 1 and with_keyboard[0] is telegram_api.sent(chat)[-1]  # under the answer's end
    buttons = [b for row in with_keyboard[0].params["reply_markup"]["inline_keyboard"] for b in row]
    assert [b["text"] for b in buttons] == [bot_texts.FEEDBACK_HELPFUL, bot_texts.FEEDBACK_NOT_HELPFUL]
    not_helpful = buttons[1]

    count = len(texts(telegram_api, chat))
    update = button_update(chat, not_helpful["callback_data"])
    status, _ = post(channel_servers, update)
    assert status == 200
    follow_up = telegram_api.wait_for(lambda: texts(telegram_api, chat)[count:])
    assert follow_up == [bot_texts.FEEDBACK_WHAT_WAS_MISSING]
    assert not telegram_api.sent(chat)[-1].params.get("reply_markup")  # nothing to tap: typing is optional
    telegram_api.wait_for(lambda: [c for c in telegram_api.sent(method="answerCallbackQuery")
                                   if c.params.get("callback_query_id") == update["callback_query"]["id"]])

    # The patient skips it: the next question is answered as any question is.
    count = len(texts(telegram_api, chat))
    post(channel_servers, message_update(chat, "what causes back pain?"))
    answer = answer_after(telegram_api, chat, count, disclaimer)
    assert "back pain" in answer.lower() and re.search(r"Sources?:", answer)
    assert bot_texts.FEEDBACK_THANKS not in answer

    # Or they answer it (whatever the bot makes of those words), and the next question works all the same.
    with_keyboard = telegram_api.wait_for(lambda: [c for c in telegram_api.sent(chat)[count:] if c.params.get("reply_markup")])
    count = len(texts(telegram_api, chat))
    post(channel_servers, button_update(chat, with_keyboard[-1].params["reply_markup"]["inline_keyboard"][1][0]["callback_data"]))
    telegram_api.wait_for(lambda: bot_texts.FEEDBACK_WHAT_WAS_MISSING in texts(telegram_api, chat)[count:])
    count = len(texts(telegram_api, chat))
    post(channel_servers, message_update(chat, "how long it lasts"))
    telegram_api.wait_for(lambda: texts(telegram_api, chat)[count:])
    count = len(texts(telegram_api, chat))
    post(channel_servers, message_update(chat, "does lupus cause nerve pain?"))
    answer = answer_after(telegram_api, chat, count, disclaimer)
    assert "nerve pain" in answer.lower() and re.search(r"Sources?:", answer)

    # In the tracker store: a 👎 on each of the first two answers, each with the follow-up it got.
    feedback = stored_feedback(TELEGRAM_PREFIX + str(chat))
    assert [f.helpful for f in feedback] == ["no", "no"], feedback
    assert "hip pain" in feedback[0].rated and "back pain" in feedback[1].rated
    assert {f.reply for f in feedback} == {bot_texts.FEEDBACK_WHAT_WAS_MISSING}
    assert telegram_api.rejected() == []


def test_malformed_updates_get_4xx_and_the_server_stays_up(channel_servers, telegram_api):
    bad = [b"not json", b"[]", b'"text"', b"{}", json.dumps({"update_id": "x"}).encode(),
           json.dumps({"update_id": 1, "message": {"text": "hi"}}).encode(),
           json.dumps({"update_id": 2, "message": "hello"}).encode(),
           json.dumps({"update_id": 3, "callback_query": {"id": "1", "data": "/greet"}}).encode()]
    for raw in bad:
        status, body = post(channel_servers, None, raw=raw)
        assert 400 <= status < 500, (raw, status, body)
    status, _ = post(channel_servers, message_update(7003, "hello"), secret="wrong")
    assert status == 403
    assert channel_servers.alive()
    # ... and still answers a good update.
    post(channel_servers, message_update(7003, "hello"))
    assert telegram_api.wait_for(lambda: texts(telegram_api, 7003))


def test_an_answer_longer_than_telegram_allows_is_split_not_dropped(telegram_api):
    """Through the channel's output, over HTTP to the stand-in (which refuses > 4,096 characters the way
    Telegram does). The clinic's answers are shorter than that today; a longer document must not be lost."""
    from bot.rasa.telegram import TelegramOutputWithServer

    lines = [f"• Passage {i}: “{'inflammation of the joints and the spine ' * 3}”" for i in range(60)]
    text = "\n".join(lines + ["Source: A long document", "This is general information."])
    assert len(text) > 4096 * 2

    async def send():
        channel = TelegramOutputWithServer(TELEGRAM_TEST_TOKEN, telegram_api.url)
        try:
            await channel.send_text_message("7004", text)
            await channel.send_text_with_buttons("7005", text, [{"title": "Talk to a person", "payload": "/request_human"},
                                                                {"title": "Long", "payload": "/x" + "y" * 80}])
        finally:
            await channel.session.close()

    asyncio.run(send())
    pieces = texts(telegram_api, 7004)
    assert len(pieces) == 3 and all(len(p) <= 4096 for p in pieces)
    assert "\n".join(pieces) == text  # split at line breaks, nothing lost
    with_buttons = telegram_api.sent(7005)
    assert "\n".join(c.params["text"] for c in with_buttons) == text
    assert [bool(c.params.get("reply_markup")) for c in with_buttons] == [False, False, True]
    data = [row[0]["callback_data"] for row in with_buttons[-1].params["reply_markup"]["inline_keyboard"]]
    assert data == ["/request_human", "Long"]  # over 64 bytes: the title goes through NLU instead
    assert telegram_api.rejected() == []
