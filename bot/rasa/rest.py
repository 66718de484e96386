"""The REST channel (/webhooks/rest/webhook) that answers a malformed request with a 4xx."""
from __future__ import annotations

from typing import Any, Dict, Optional, Text

from rasa.core.channels.rest import RestInput
from sanic.exceptions import InvalidUsage, PayloadTooLarge
from sanic.request import Request

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


