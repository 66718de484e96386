"""The REST channel (/webhooks/rest/webhook) for the clinic's own integrations: a token, checked input,
no patient text in the logs (credentials.yml: ``bot.rasa.rest.ValidatedRestInput``)."""
from __future__ import annotations

import hmac
import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.exceptions import InvalidUsage
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import settings
from bot.rasa.guard import MAX_MESSAGE_CHARS, REFUSAL_TEXTS, HeldOutput, RateLimiter, as_user_text, namespaced, refusal

log = logging.getLogger(__name__)

PREFIX = "rest"


class ValidatedRestInput(RestInput):
    """Rasa's REST channel (same URL and JSON), for the clinic's integrations, not for browsers:

    * every request carries ``Authorization: Bearer <token>`` (``token`` in credentials.yml, else
      ``REST_CHANNEL_TOKEN``, else ``$SECRETS_DIR/rest-token``, which scripts/serve.sh generates);
      without a token configured the server does not start;
    * the integration chooses the sender ids; they are stored as ``rest:<sender>``, so no REST
      client can reach a socket.io or Telegram conversation;
    * a malformed request gets a 4xx saying what is wrong, a message over 25,000 characters a 413,
      a sender over its rate a 429; nothing the patient wrote is logged on any of these paths;
    * the replies are returned once the turn is saved ("deleted" only once the delete succeeded).

    ``GET /webhooks/rest/`` answers 200 only when a model is loaded (a readiness check).
    """

    MAX_MESSAGE_CHARS = MAX_MESSAGE_CHARS
    MAX_SENDER_CHARS = 255

    def __init__(self, token: Optional[Text] = None) -> None:
        token = token or settings.rest_channel_token()
        if not token:
            raise ValueError(
                "The REST channel needs a token: set REST_CHANNEL_TOKEN, or start the server with "
                "scripts/serve.sh (make run), which generates var/secrets/rest-token."
            )
        self._token = token.encode()
        self.limiter = RateLimiter.from_settings()

    @classmethod
    def name(cls) -> Text:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "ValidatedRestInput":
        return cls((credentials or {}).get("token"))

    def authorized(self, request: Request) -> bool:
        scheme, _, given = (request.headers.get("Authorization") or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode("utf-8", "surrogateescape"), self._token)

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
        return message

    def get_metadata(self, request: Request) -> Optional[Dict[Text, Any]]:
        metadata = self._body(request).get("metadata")
        return metadata if isinstance(metadata, dict) else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @webhook.route("/", methods=["GET"])
        async def ready(request: Request) -> HTTPResponse:
            agent = getattr(request.app.ctx, "agent", None)
            if agent is None or not agent.is_ready():
                return response.json({"status": "no model loaded"}, status=503)
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.authorized(request):
                return response.json({"error": "a valid token is required (Authorization: Bearer ...)"}, status=401,
                                     headers={"WWW-Authenticate": "Bearer"})
            sender = await self._extract_sender(request)
            text = self._extract_message(request)
            if sender is None or text is None:  # the extractors raise first; Rasa's signature allows None
                return response.json({"error": "sender and message are required"}, status=400)
            sender_id = namespaced(PREFIX, sender)
            metadata = self.get_metadata(request)
            refused = refusal(text, sender_id, self.limiter)
            if refused:
                status = 413 if refused == "too_long" else 429
                return response.json({"error": REFUSAL_TEXTS[refused]}, status=status)
            agent = request.app.ctx.agent
            held = HeldOutput()
            try:
                await on_new_message(UserMessage(as_user_text(text, agent.domain), held, sender_id,
                                                 input_channel=self.name(), metadata=metadata))
            except Exception as error:  # the type only: the message is the patient's
                log.error("REST message not handled: %s", type(error).__name__)
                return response.json({"error": "the message could not be handled"}, status=500)
            return response.json(held.settled(sender_id, recipient_id=sender))

        return webhook
