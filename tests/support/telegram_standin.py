"""A local stand-in for the Telegram Bot API: answers like api.telegram.org and records every call.

It checks what the real API checks for the calls the bot makes (token, text length in UTF-16 code
units, callback data size, keyboard shape), so a message the real Telegram would reject fails here too.
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional
from urllib.parse import parse_qs

MAX_TEXT = 4096
MAX_CALLBACK_DATA = 64

# A token of the shape Telegram issues (aiogram checks the shape); it is only ever sent to the stand-in.
TELEGRAM_TEST_TOKEN = "123456789:AAFakeTokenForTestsOnly-abcdefghijklm"
TELEGRAM_TEST_BOT = "clinic_test_bot"
TELEGRAM_TEST_SECRET = "test-secret-token"


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass
class Call:
    method: str
    params: Dict[str, Any]
    ok: bool
    description: str = ""


@dataclass
class TelegramStandIn:
    token: str
    username: str
    host: str = "127.0.0.1"
    calls: List[Call] = field(default_factory=list)

    def __post_init__(self):
        self._lock = threading.Lock()
        self._server: Optional[ThreadingHTTPServer] = None
        self._message_id = 0

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self._server.server_address[1]}"

    def start(self) -> "TelegramStandIn":
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8", "replace")
                status, payload = standin._handle(self.path, self.headers.get("Content-Type", ""), body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer((self.host, 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # -- what the bot did ------------------------------------------------------------------------
    def sent(self, chat_id: Optional[int] = None, method: str = "sendMessage") -> List[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method and c.ok
                    and (chat_id is None or str(c.params.get("chat_id")) == str(chat_id))]

    def rejected(self) -> List[Call]:
        with self._lock:
            return [c for c in self.calls if not c.ok]

    def wait_for(self, condition: Callable[[], Any], timeout: float = 60.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = condition()
            if result:
                return result
            time.sleep(0.1)
        raise AssertionError(f"stand-in: condition not met in {timeout}s; calls: {self.calls}")

    # -- the API -----------------------------------------------------------------------------------
    def _handle(self, path: str, content_type: str, body: str):
        parts = path.split("?")[0].strip("/").split("/")
        if len(parts) != 2 or not parts[0].startswith("bot"):
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        token, method = parts[0][3:], parts[1]
        if token != self.token:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        if "json" in content_type:
            params = json.loads(body or "{}")
        else:
            params = {k: v[-1] for k, v in parse_qs(body, keep_blank_values=True).items()}
        if isinstance(params.get("reply_markup"), str):
            params["reply_markup"] = json.loads(params["reply_markup"])
        error, result = self._call(method, params)
        with self._lock:
            self.calls.append(Call(method, params, ok=error is None, description=error or ""))
        if error:
            return 400, {"ok": False, "error_code": 400, "description": f"Bad Request: {error}"}
        return 200, {"ok": True, "result": result}

    def _call(self, method: str, params: Dict[str, Any]):
        method = method.lower()
        if method == "getme":
            return None, {"id": int(self.token.split(":")[0]), "is_bot": True, "first_name": "Clinic",
                          "username": self.username}
        if method in ("setwebhook", "deletewebhook", "answercallbackquery", "sendchataction"):
            return None, True
        if method == "sendmessage":
            text = params.get("text") or ""
            if not params.get("chat_id"):
                return "chat_id is empty", None
            if not text.strip():
                return "message text is empty", None
            if utf16_length(text) > MAX_TEXT:
                return "message is too long", None
            markup = params.get("reply_markup") or {}
            for row in markup.get("inline_keyboard", []):
                for button in row:
                    data = button.get("callback_data")
                    if data is not None and not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA:
                        return "BUTTON_DATA_INVALID", None
            with self._lock:
                self._message_id += 1
                message_id = self._message_id
            chat_id = int(params["chat_id"])
            return None, {"message_id": message_id, "date": int(time.time()), "text": text,
                          "chat": {"id": chat_id, "type": "private", "first_name": "Patient"}}
        return f"method {method} is not known to the stand-in", None


def write_credentials_with_telegram(path: Path, api_url: str, base: Optional[Path] = None) -> Path:
    """credentials.yml (or ``base``) plus the Telegram channel pointed at a stand-in, written to ``path``."""
    import yaml

    from tests.support.servers import PROJECT_ROOT

    credentials = yaml.safe_load(Path(base or PROJECT_ROOT / "credentials.yml").read_text()) or {}
    credentials["bot.rasa.telegram.TelegramInputWithServer"] = {
        "access_token": TELEGRAM_TEST_TOKEN,
        "verify": TELEGRAM_TEST_BOT,
        "webhook_url": "https://clinic.example.org/webhooks/telegram/webhook",
        "api_url": api_url,
        "secret_token": TELEGRAM_TEST_SECRET,
    }
    Path(path).write_text(yaml.safe_dump(credentials, sort_keys=False))
    return Path(path)
