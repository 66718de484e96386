"""Start the real action server and Rasa server for end-to-end and channel tests, and stop them.

Like scripts/serve.sh, on free ports, with the credentials file of the test's choosing and the
tracker store in the test's own folder (never the developer's conversations).
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Dict, Optional

import pytest
import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = PROJECT_ROOT / ".venv" / "bin"
MODEL = PROJECT_ROOT / "models" / "clinic-assistant.tar.gz"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


def server_env() -> Dict[str, str]:
    env = dict(os.environ)
    env.update(RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1",
               SQLALCHEMY_SILENCE_UBER_WARNING="1")
    return env


class RasaServers:
    """The action server and the Rasa server (``--enable-api``) as child processes.

    ``start()`` waits for the action server's /health and Rasa's /status (model loaded);
    ``restart_rasa()`` stops and starts the Rasa server on the same port (for reconnection tests);
    ``stop()`` ends both process groups. Logs go to ``log_dir``.
    """

    def __init__(self, credentials: Path, log_dir: Path, rasa_port: Optional[int] = None,
                 action_port: Optional[int] = None, startup_timeout: float = 300.0):
        self.credentials = Path(credentials)
        self.log_dir = Path(log_dir)
        self.rasa_port = rasa_port or free_port()
        self.action_port = action_port or free_port()
        self.startup_timeout = startup_timeout
        self.endpoints = self.log_dir / "endpoints.yml"
        self.tracker_db = self.log_dir / "tracker.db"
        self._actions: Optional[subprocess.Popen] = None
        self._rasa: Optional[subprocess.Popen] = None

    @property
    def url(self) -> str:
        return f"http://localhost:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        return f"http://localhost:{self.action_port}"

    def _spawn(self, name: str, args) -> subprocess.Popen:
        log = open(self.log_dir / f"{name}.log", "ab")
        return subprocess.Popen(args, cwd=PROJECT_ROOT, env=server_env(), stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)

    def start(self) -> "RasaServers":
        if not MODEL.exists():
            pytest.fail(f"{MODEL} is missing: run `make train` first")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.endpoints.write_text(
            yaml.safe_dump(
                {
                    "action_endpoint": {"url": f"{self.action_url}/webhook"},
                    "tracker_store": {
                        "type": "bot.rasa.tracker_store.PrivateSQLTrackerStore",
                        "dialect": "sqlite",
                        "db": str(self.tracker_db),
                    },
                }
            )
        )
        self._actions = self._spawn("action-server", [str(VENV_BIN / "python"), "-m", "actions", "--actions", "actions",
                                                     "--port", str(self.action_port)])
        self.start_rasa()
        self._wait(self._actions, f"{self.action_url}/health", "action-server")
        return self

    def start_rasa(self, wait: bool = True) -> None:
        self._rasa = self._spawn("rasa", [str(VENV_BIN / "python"), "-m", "bot.rasa", "run", "--enable-api", "--cors", "*",
                                          "--port", str(self.rasa_port), "--credentials", str(self.credentials),
                                          "--endpoints", str(self.endpoints), "--model", str(MODEL)])
        if wait:
            self.wait_rasa()

    def wait_rasa(self) -> None:
        self._wait(self._rasa, f"{self.url}/status", "rasa")
        # /status answers once the model is loaded; the channels are registered before that.

    def _wait(self, process: subprocess.Popen, url: str, name: str) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                self.stop()
                pytest.fail(f"{name} exited with {process.returncode}:\n{self.log_tail(name)}")
            if http_ok(url):
                return
            time.sleep(0.5)
        self.stop()
        pytest.fail(f"{name} not up at {url} after {self.startup_timeout:.0f}s:\n{self.log_tail(name)}")

    def log_tail(self, name: str = "rasa", lines: int = 40) -> str:
        path = self.log_dir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    @staticmethod
    def _terminate(process: Optional[subprocess.Popen]) -> None:
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)  # its own session: the server and any children
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        except ProcessLookupError:
            pass

    def stop_rasa(self) -> None:
        self._terminate(self._rasa)

    def restart_rasa(self) -> None:
        self.stop_rasa()
        self.start_rasa()

    def stop(self) -> None:
        self._terminate(self._rasa)
        self._terminate(self._actions)

    def alive(self) -> bool:
        return self._rasa is not None and self._rasa.poll() is None and http_ok(f"{self.url}/status")

    def logs(self) -> str:
        return "".join(p.read_text(errors="replace") for p in sorted(self.log_dir.glob("*.log")))

    def say(self, sender: str, message: str) -> list:
        return self.rest(message, sender)

    def rest(self, message: str, sender: str) -> list:
        """One turn through the REST channel: the bot's messages (dicts with text/buttons)."""
        request = urllib.request.Request(f"{self.url}/webhooks/rest/webhook", method="POST",
                                         data=json.dumps({"sender": sender, "message": message}).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())
