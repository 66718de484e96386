"""Rasa's Telegram channel with a configurable Bot API address (credentials.yml: ``bot.rasa.telegram.TelegramInputWithServer``).

Rasa's Telegram channel always talks to api.telegram.org. These subclasses read ``api_url`` from
credentials.yml (a self-hosted Bot API server, or the test suite's local stand-in), split answers
longer than Telegram's 4,096-character limit instead of losing them, turn buttons into a keyboard
that fits on a phone, answer malformed webhook posts with 400 (the server stays up), and accept an
update only with Telegram's ``secret_token`` header (the channel does not start without one).
"""
from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.telegram import TelegramInput, TelegramOutput

from bot.rasa.guard import REFUSAL_TEXTS, HeldOutput, RateLimiter, as_user_text, deliver, namespaced, refusal, strip_namespace

log = logging.getLogger(__name__)

TELEGRAM_MAX_TEXT = 4096  # characters, counted in UTF-16 code units
TELEGRAM_MAX_CALLBACK_DATA = 64  # bytes
# Telegram's standard commands: every chat begins with /start (the bot then says hello and what it is for).
TELEGRAM_COMMANDS = {"/start": "/get_started", "/help": "/ask_capabilities"}  # /start: the welcome alone
PREFIX = "tg"
# What Telegram accepts as a webhook's secret_token: 1-256 characters A-Z, a-z, 0-9, _ and -.
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_for_telegram(text: str, limit: int = TELEGRAM_MAX_TEXT) -> List[str]:
    """Rasa's paragraphs ("\\n\\n"), each cut into pieces of at most ``limit`` at a line break, else a
    space, else anywhere; nothing is dropped and no piece is empty."""
    pieces: List[str] = []
    for paragraph in (text or "").strip().split("\n\n"):
        rest = paragraph.strip()
        while rest:
            if _utf16_length(rest) <= limit:
                pieces.append(rest)
                break
            cut = limit
            while _utf16_length(rest[:cut]) > limit:  # characters outside the BMP count twice
                cut -= 1
            window = rest[:cut]
            at = max(window.rfind("\n"), 0) or max(window.rfind(" "), 0) or cut
            piece, rest = rest[:at].rstrip(), rest[at:].strip()
            if piece:
                pieces.append(piece)
    return pieces


class TelegramOutputWithServer(TelegramOutput):
    """Rasa's Telegram output over any Bot API server (``api_url``; default api.telegram.org)."""

    def __init__(self, access_token: Optional[Text], api_url: Optional[Text] = None) -> None:
        from aiogram import Bot
        from aiogram.bot.api import TELEGRAM_PRODUCTION, TelegramAPIServer

        server = TelegramAPIServer.from_base(api_url) if api_url else TELEGRAM_PRODUCTION
        Bot.__init__(self, access_token, server=server)

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        # Conversations are stored as "tg:<chat id>"; Telegram wants the chat id.
        await super().send_response(strip_namespace(PREFIX, recipient_id), message)

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        for piece in split_for_telegram(text):
            await self.send_message(recipient_id, piece)

    async def send_text_with_buttons(self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]],
                                     button_type: Optional[Text] = "vertical", **kwargs: Any) -> None:
        """The text (split if need be) with the buttons as a keyboard on its last piece: ``vertical``
        (default: one inline button per row, readable on a phone), ``inline`` (one row) or ``reply``."""
        from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup

        buttons = [b for b in buttons if isinstance(b, dict) and b.get("title")]
        if button_type == "reply":
            markup = ReplyKeyboardMarkup(resize_keyboard=True, one_time_keyboard=True)
            for button in buttons:
                markup.row(KeyboardButton(button["title"]))
        else:
            markup = InlineKeyboardMarkup()
            # Telegram refuses callback data over 64 bytes; the title then goes through NLU instead.
            keys = [InlineKeyboardButton(b["title"], callback_data=self._callback_data(b)) for b in buttons]
            if button_type == "inline":
                markup.row(*keys)
            else:
                for key in keys:
                    markup.row(key)
        pieces = split_for_telegram(text) or [" "]
        for piece in pieces[:-1]:
            await self.send_message(recipient_id, piece)
        await self.send_message(recipient_id, pieces[-1], reply_markup=markup if buttons else None)

    @staticmethod
    def _callback_data(button: Dict[Text, Any]) -> Text:
        payload = str(button.get("payload") or button["title"])
        if len(payload.encode()) <= TELEGRAM_MAX_CALLBACK_DATA:
            return payload
        return button["title"].encode()[:TELEGRAM_MAX_CALLBACK_DATA].decode("utf-8", "ignore")


class TelegramInputWithServer(TelegramInput):
    """Rasa's Telegram channel with ``api_url`` and ``secret_token`` in credentials.yml:

        bot.rasa.telegram.TelegramInputWithServer:
          access_token: "123456789:ABC..."     # from @BotFather
          verify: "your_clinic_bot"            # the bot's username
          webhook_url: "https://bot.example-clinic.org/webhooks/telegram/webhook"
          secret_token: "a-long-random-string" # required; Telegram sends it back with every update
          api_url: "https://api.telegram.org"  # optional; a self-hosted Bot API server

    Conversations are stored as ``tg:<chat id>``. The webhook is registered with Telegram once the
    server has started (nothing on the server can be called to change it). Every update is checked
    against ``secret_token`` in constant time, as bytes (a header that is not ASCII is a 403).
    """

    @classmethod
    def name(cls) -> Text:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "TelegramInputWithServer":
        if not credentials:
            cls.raise_missing_credentials_exception()
        assert credentials is not None  # the call above raises
        return cls(credentials.get("access_token"), credentials.get("verify"), credentials.get("webhook_url"),
                   api_url=credentials.get("api_url"), secret_token=credentials.get("secret_token"))

    def __init__(self, access_token: Optional[Text], verify: Optional[Text], webhook_url: Optional[Text],
                 api_url: Optional[Text] = None, secret_token: Optional[Text] = None, debug_mode: bool = False) -> None:
        if not (isinstance(secret_token, str) and _SECRET_TOKEN.fullmatch(secret_token)):
            raise ValueError(
                "The Telegram channel needs a secret_token in credentials.yml (1-256 characters A-Z, a-z, 0-9, _ "
                "and -; e.g. `openssl rand -hex 32`): without it anyone could post updates as any chat."
            )
        super().__init__(access_token, verify, webhook_url, debug_mode=debug_mode)
        self.api_url = api_url
        self.secret_token = secret_token
        self._secret = secret_token.encode()
        self._verified = False
        self.limiter = RateLimiter.from_settings()

    def get_output_channel(self) -> TelegramOutputWithServer:
        # Unlike Rasa's, this does not set the webhook (it would need an event loop of its own and
        # leave the HTTP session bound to it); the blueprint does that once the server has started.
        return TelegramOutputWithServer(self.access_token, self.api_url)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Any:
        from aiogram.types import Update
        from sanic import Blueprint, response

        webhook = Blueprint("telegram_webhook", __name__)
        out_channel = self.get_output_channel()

        @webhook.listener("after_server_start")
        async def set_webhook(*_: Any) -> None:
            if not self.webhook_url:
                return
            try:
                payload: Dict[Text, Any] = {"url": self.webhook_url}
                if self.secret_token:
                    payload["secret_token"] = self.secret_token
                await out_channel.request("setWebhook", payload)
                log.info("Telegram webhook set")
            except Exception as error:  # the other channels keep working; a restart tries again
                log.error("Could not set the Telegram webhook: %s", type(error).__name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Any) -> Any:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def message(request: Any) -> Any:
            given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
            if not hmac.compare_digest(given.encode("utf-8", "surrogateescape"), self._secret):
                return response.json({"error": "forbidden"}, status=403)
            try:
                body = json.loads(request.body or b"")
                if not isinstance(body, dict) or not isinstance(body.get("update_id"), int):
                    raise ValueError("not a Telegram update")
                update = Update(**body)
                incoming = self._incoming(update)
            except Exception as error:
                log.info("Malformed Telegram update refused: %s", type(error).__name__)
                return response.json({"error": "malformed update"}, status=400)
            if incoming is None:  # a kind of update the bot does not answer (stickers, joins, ...)
                return response.json({"status": "ignored"})
            if not await self._is_our_bot(out_channel):
                return response.json({"error": "bot username does not match 'verify'"}, status=403)
            chat_id, text, callback_id = incoming
            if callback_id:
                asyncio.ensure_future(self._answer_callback(out_channel, callback_id))
            sender_id = namespaced(PREFIX, chat_id)
            refused = refusal(text, sender_id, self.limiter)
            if refused:
                await out_channel.send_text_message(chat_id, REFUSAL_TEXTS[refused])
                return response.json({"status": "refused"})
            held = HeldOutput()
            try:
                await on_new_message(UserMessage(as_user_text(text, request.app.ctx.agent.domain), held, sender_id,
                                                 input_channel=self.name(), metadata=self.get_metadata(request)))
                await deliver(held.settled(sender_id), out_channel, chat_id)
            except Exception as error:  # 200 all the same: Telegram would otherwise resend the update
                log.error("Telegram message not handled: %s", type(error).__name__)
            return response.json({"status": "success"})

        return webhook

    @staticmethod
    def _incoming(update: Any) -> Optional[tuple]:
        """(chat id, text, callback query id) of a message, edited message or button press; None for
        other kinds of update. Raises on an update that claims to be one of those but is broken."""
        if update.callback_query is not None:
            query = update.callback_query
            if query.message is None or query.message.chat is None or query.data is None:
                raise ValueError("callback query without a chat or data")
            return str(query.message.chat.id), query.data, query.id
        msg = update.message or update.edited_message
        if msg is None:
            return None
        if msg.chat is None or msg.chat.id is None:
            raise ValueError("message without a chat")
        if msg.text is not None:
            text = msg.text.replace("/bot", "")
            return str(msg.chat.id), TELEGRAM_COMMANDS.get(text.strip().split("@")[0].lower(), text), None
        if msg.location is not None:
            return str(msg.chat.id), '{{"lng":{0}, "lat":{1}}}'.format(msg.location.longitude, msg.location.latitude), None
        return None

    async def _is_our_bot(self, out_channel: TelegramOutputWithServer) -> bool:
        if self._verified or not self.verify:
            return True
        me = await out_channel.get_me()  # once, not on every update
        self._verified = me.username == self.verify
        return self._verified

    @staticmethod
    async def _answer_callback(out_channel: TelegramOutputWithServer, callback_id: Text) -> None:
        try:
            await out_channel.answer_callback_query(callback_id)
        except Exception as error:
            log.debug("answerCallbackQuery failed: %s", error)


