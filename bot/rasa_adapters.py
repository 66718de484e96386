"""The only place where bot/ meets Rasa: a custom NLU component and a tracker store that forgets.

SafetyIntentOverride runs the rule-based safety screen (bot.safety, patterns in data/safety/) on
every message inside the NLU pipeline, after the intent classifier and before the fallback
classifier. A red flag overrides whatever the classifier said, in any turn, so emergency advice
wins over every FAQ intent; requests for a diagnosis, a dose or a medicine change do the same.
"""
from __future__ import annotations

import logging
import time
from functools import lru_cache
from typing import Any, Dict, List, Optional, Text

import sqlalchemy as sa
from sqlalchemy import event
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.rest import RestInput
from rasa.core.tracker_store import SQLTrackerStore
from sanic.exceptions import InvalidUsage, PayloadTooLarge
from sanic.request import Request
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

log = logging.getLogger(__name__)

# What the safety screen found -> the intent the dialogue answers it with (see data/stories/rules.yml).
FINDING_INTENTS = {
    "emergency": "emergency",
    "diagnosis_request": "request_diagnosis",
    "dose_request": "request_dose",
    "medication_change": "request_medication_change",
}


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class SafetyIntentOverride(GraphComponent):
    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SafetyIntentOverride":
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        from bot.safety import default_screen

        screen = default_screen()
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or not text.strip() or text.startswith("/"):
                continue  # button payloads ("/intent{...}") are already exact intents
            finding = screen.screen(text)
            if finding is None:
                continue
            override = FINDING_INTENTS[finding.kind]
            # Category only, never the patient's words: logs must not hold patient text.
            log.info("safety override: %s (%s)", override, finding.category)
            intent = {INTENT_NAME_KEY: override, PREDICTED_CONFIDENCE_KEY: 1.0}
            ranking = [intent] + [i for i in (message.get("intent_ranking") or []) if i.get(INTENT_NAME_KEY) != override]
            message.set(INTENT, intent, add_to_output=True)
            message.set("intent_ranking", ranking, add_to_output=True)
        return messages


class ValidatedRestInput(RestInput):
    """Rasa's REST channel (same URL, /webhooks/rest/webhook) that answers a malformed request with
    a 4xx saying what is wrong, instead of a 500 and a log line holding the patient's words."""

    MAX_MESSAGE_CHARS = 25_000
    MAX_SENDER_CHARS = 255

    @classmethod
    def name(cls) -> Text:
        return "rest"

    @staticmethod
    def _body(req: Request) -> Dict[Text, Any]:
        try:
            body = req.json
        except Exception:  # Sanic raises on a body that is not JSON
            body = None
        if not isinstance(body, dict):
            raise InvalidUsage('the body must be a JSON object: {"sender": "...", "message": "..."}')
        return body

    async def _extract_sender(self, req: Request) -> Optional[Text]:
        sender = self._body(req).get("sender")
        if not isinstance(sender, str) or not sender.strip() or len(sender) > self.MAX_SENDER_CHARS:
            raise InvalidUsage(f'"sender" must be a non-empty string of at most {self.MAX_SENDER_CHARS} characters')
        return sender

    def _extract_message(self, req: Request) -> Optional[Text]:
        message = self._body(req).get("message")
        if not isinstance(message, str):
            raise InvalidUsage('"message" must be a string')
        if len(message) > self.MAX_MESSAGE_CHARS:
            raise PayloadTooLarge(f"the message is longer than {self.MAX_MESSAGE_CHARS:,} characters; please shorten it")
        return message

    def get_metadata(self, request: Request) -> Optional[Dict[Text, Any]]:
        metadata = self._body(request).get("metadata")
        return metadata if isinstance(metadata, dict) else None


class PrivateSQLTrackerStore(SQLTrackerStore):
    """Rasa's SQL tracker store, plus forgetting.

    * A conversation in which the user asked to be forgotten (``action_forget_conversation`` ran
      after their latest message) is deleted instead of saved.
    * Conversations whose latest event is older than ``retention_days`` (default: config/clinic.yml)
      are deleted at start-up and then at most once an hour.
    """

    PURGE_INTERVAL_S = 3600.0

    def __init__(self, domain: Optional[Domain] = None, retention_days: Optional[int] = None, **kwargs: Any) -> None:
        # Rasa's SQLTrackerStore retries an unreachable database every 5 s forever; fail fast instead.
        self._wait_for_database(kwargs)
        super().__init__(domain=domain, **kwargs)
        if retention_days is None:
            from bot.clinic import default_clinic_config

            retention_days = default_clinic_config().retention_days
        self.retention_days = int(retention_days)
        self._last_purge = 0.0
        if self.engine.dialect.name == "sqlite":
            # One commit per turn: WAL without an fsync per commit halves the per-turn time (make bench).
            event.listen(self.engine, "connect", _sqlite_wal)
            self.engine.dispose()
        install_cached_action_response_validation()
        self.purge_expired()

    class Unavailable(RuntimeError):
        """The tracker store's database could not be reached within the start-up wait."""

    def _wait_for_database(self, kwargs: Dict[Text, Any]) -> None:
        """Connect once within ``TRACKER_DB_CONNECT_TIMEOUT`` seconds (default 30), retrying every
        second; otherwise log one clear error and raise, so the server stops instead of looping."""
        import os

        from rasa.core.tracker_store import validate_port

        dialect = kwargs.get("dialect") or "sqlite"
        if dialect.startswith("sqlite"):
            return  # a file beside the server: nothing to wait for
        url = sa.engine.make_url(
            self.get_db_url(
                dialect,
                kwargs.get("host"),
                validate_port(kwargs.get("port")),
                kwargs.get("db") or "rasa.db",
                kwargs.get("username"),
                kwargs.get("password"),
                kwargs.get("login_db"),
                kwargs.get("query"),
            )
        )
        timeout = float(os.environ.get("TRACKER_DB_CONNECT_TIMEOUT", "30"))
        connect_args = {"connect_timeout": 5} if url.get_backend_name() == "postgresql" else {}
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool, connect_args=connect_args)
        deadline = time.monotonic() + timeout
        try:
            while True:
                try:
                    with engine.connect():
                        return
                except sa.exc.SQLAlchemyError as error:
                    if time.monotonic() >= deadline:
                        reason = (str(getattr(error, "orig", None) or error).strip().splitlines() or ["?"])[0]
                        message = (
                            f"tracker store database {url.render_as_string(hide_password=True)} unreachable "
                            f"after {timeout:.0f} s: {reason}. Check TRACKER_DB_HOST, TRACKER_DB_PORT, "
                            "TRACKER_DB_NAME, TRACKER_DB_USER, TRACKER_DB_PASSWORD (the tracker_store section "
                            "of the endpoints file) and that the database server is running."
                        )
                        log.error(message)
                        raise PrivateSQLTrackerStore.Unavailable(message) from None
                    log.warning("tracker store database not reachable yet; retrying for %.0f s more", deadline - time.monotonic())
                    time.sleep(1.0)
        finally:
            engine.dispose()

    async def save(self, tracker: DialogueStateTracker) -> None:
        if _asked_to_forget(tracker):
            self.delete_conversation(tracker.sender_id)
            return
        await super().save(tracker)
        if time.time() - self._last_purge > self.PURGE_INTERVAL_S:
            self.purge_expired()

    def delete_conversation(self, sender_id: Text) -> int:
        with self.session_scope() as session:
            deleted = session.query(self.SQLEvent).filter(self.SQLEvent.sender_id == sender_id).delete(synchronize_session=False)
            session.commit()
        log.info("deleted a conversation at the user's request (%d events)", deleted)
        return deleted

    def purge_expired(self, now: Optional[float] = None) -> int:
        """Delete every conversation whose latest event is older than the retention period."""
        now = time.time() if now is None else now
        self._last_purge = now
        cutoff = now - self.retention_days * 86400
        with self.session_scope() as session:
            latest = (
                session.query(self.SQLEvent.sender_id)
                .group_by(self.SQLEvent.sender_id)
                .having(sa.func.max(self.SQLEvent.timestamp) < cutoff)
            )
            expired = [row[0] for row in latest]
            if expired:
                session.query(self.SQLEvent).filter(self.SQLEvent.sender_id.in_(expired)).delete(synchronize_session=False)
            session.commit()
        if expired:
            log.info("retention: deleted %d conversations older than %d days", len(expired), self.retention_days)
        return len(expired)


def _sqlite_wal(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@lru_cache(maxsize=1)
def _action_response_validator() -> Any:
    import jsonschema

    schema = RemoteAction.action_response_format_spec()
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def _validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
    """Rasa's check of an action server response, with the validator built once.

    Rasa 3.6 calls ``jsonschema.validate`` per response, which re-checks the whole schema against
    its meta-schema every time: half of the Rasa server's time per turn in ``make bench``.
    """
    from jsonschema import ValidationError

    try:
        _action_response_validator().validate(result)
        return True
    except ValidationError as error:
        error.message += ". Failed to validate Action server response from API."
        raise error


def install_cached_action_response_validation() -> None:
    RemoteAction._validate_action_result = _validate_action_result


def _asked_to_forget(tracker: DialogueStateTracker) -> bool:
    for tracker_event in reversed(tracker.events):
        if isinstance(tracker_event, UserUttered):
            return False
        if isinstance(tracker_event, ActionExecuted) and tracker_event.action_name == "action_forget_conversation":
            return True
    return False


# -- Telegram with a configurable Bot API address ------------------------------------------------------
# Rasa's Telegram channel always talks to api.telegram.org. These subclasses read ``api_url`` from
# credentials.yml (a self-hosted Bot API server, or the test suite's local stand-in), split answers
# longer than Telegram's 4,096-character limit instead of losing them, turn buttons into a keyboard
# that fits on a phone, answer malformed webhook posts with 400 (the server stays up) and check
# Telegram's ``secret_token`` header when one is configured.
import asyncio  # noqa: E402
import hmac  # noqa: E402
import json  # noqa: E402
from typing import Awaitable, Callable  # noqa: E402

from rasa.core.channels.channel import UserMessage  # noqa: E402
from rasa.core.channels.telegram import TelegramInput, TelegramOutput  # noqa: E402

TELEGRAM_MAX_TEXT = 4096  # characters, counted in UTF-16 code units
TELEGRAM_MAX_CALLBACK_DATA = 64  # bytes
# Telegram's standard commands: every chat begins with /start (the bot then says hello and what it is for).
TELEGRAM_COMMANDS = {"/start": "/greet", "/help": "/ask_capabilities"}


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

        bot.rasa_adapters.TelegramInputWithServer:
          access_token: "123456789:ABC..."     # from @BotFather
          verify: "your_clinic_bot"            # the bot's username
          webhook_url: "https://bot.example-clinic.org/webhooks/telegram/webhook"
          secret_token: "a-long-random-string" # optional; Telegram sends it back with every update
          api_url: "https://api.telegram.org"  # optional; a self-hosted Bot API server
    """

    @classmethod
    def name(cls) -> Text:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "TelegramInputWithServer":
        if not credentials:
            cls.raise_missing_credentials_exception()
        return cls(credentials.get("access_token"), credentials.get("verify"), credentials.get("webhook_url"),
                   api_url=credentials.get("api_url"), secret_token=credentials.get("secret_token"))

    def __init__(self, access_token: Optional[Text], verify: Optional[Text], webhook_url: Optional[Text],
                 api_url: Optional[Text] = None, secret_token: Optional[Text] = None, debug_mode: bool = False) -> None:
        super().__init__(access_token, verify, webhook_url, debug_mode=debug_mode)
        self.api_url = api_url
        self.secret_token = secret_token
        self._verified = False

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
            except Exception as error:  # the other channels keep working; /set_webhook retries
                log.error("Could not set the Telegram webhook: %s", error)

        @webhook.route("/", methods=["GET"])
        async def health(_: Any) -> Any:
            return response.json({"status": "ok"})

        @webhook.route("/set_webhook", methods=["POST"])
        async def set_webhook_route(_: Any) -> Any:
            await set_webhook()
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def message(request: Any) -> Any:
            if self.secret_token and not hmac.compare_digest(
                request.headers.get("X-Telegram-Bot-Api-Secret-Token", ""), self.secret_token
            ):
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
            try:
                await on_new_message(UserMessage(text, out_channel, chat_id, input_channel=self.name(),
                                                 metadata=self.get_metadata(request)))
            except Exception as error:  # 200 all the same: Telegram would otherwise resend the update
                log.error("Telegram message not handled: %s", error, exc_info=self.debug_mode)
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


# -- socketio with session persistence that works on python-socketio 5.x ------------------------------
from rasa.core.channels.socketio import SocketIOInput  # noqa: E402

_SESSION_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


class SocketIOInputWithRooms(SocketIOInput):
    """Rasa's socketio channel (same settings in credentials.yml), fixed for ``session_persistence``.

    In the pinned python-socketio, ``AsyncServer.enter_room`` is a coroutine; Rasa 3.6 calls it without
    ``await``, so the browser never joins its session's room and, with session persistence on, never
    receives a reply. This handler awaits it and accepts only session ids a widget would make."""

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Any:
        import inspect
        import uuid

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
