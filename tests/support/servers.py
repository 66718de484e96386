"""The one harness that starts real servers for the tests, the way the project's scripts start them.

* :class:`RasaServers`: ``scripts/serve.sh`` (what ``make serve`` and ``make run`` run: the action
  server and the Rasa server) on free ports, with the test's own tracker database, secrets folder
  and log, and whatever credentials, endpoints or model the test names.
* :class:`ScaledLayout`: ``scripts/scale-up.sh`` / ``scale-down.sh`` (``make scale-up``): PostgreSQL,
  Redis, two Rasa servers, two action servers and nginx under one state folder, on free ports.

Both wait on conditions (health URLs, open ports, a process that died), never for a fixed time.
"""
from __future__ import annotations

import glob
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence

import pytest
import requests

PROJECT_ROOT = Path(__file__).resolve().parents[2]
VENV_PYTHON = PROJECT_ROOT / ".venv" / "bin" / "python"
RASA = [str(VENV_PYTHON), "-m", "bot.rasa"]
MODEL = PROJECT_ROOT / "models" / "clinic-assistant.tar.gz"
HOST = "127.0.0.1"
START_TIMEOUT_S = 600.0

# How each channel stores its conversations (bot.rasa.guard): a REST sender "x" is "rest:x".
REST_PREFIX, SOCKETIO_PREFIX, TELEGRAM_PREFIX = "rest:", "sio:", "tg:"


# -- small helpers -----------------------------------------------------------------------------------
def free_ports(count: int) -> List[int]:
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind((HOST, 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def free_port() -> int:
    return free_ports(1)[0]


def port_open(port: int, host: str = HOST) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((host, port)) == 0


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        return requests.get(url, timeout=timeout).ok
    except requests.RequestException:
        return False


def server_env() -> Dict[str, str]:
    """The environment the scripts get: this one, quiet, without a DATABASE_URL of the developer's."""
    env = dict(os.environ)
    env.update(RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1",
               SQLALCHEMY_SILENCE_UBER_WARNING="1")
    for key in ("DATABASE_URL", "RASA_ENDPOINTS", "RASA_CREDENTIALS", "REST_CHANNEL_TOKEN", "RASA_AUTH_TOKEN",
                "RASA_API", "TRACKER_DB", "SECRETS_DIR"):
        env.pop(key, None)
    return env


def require(*, services: bool = False) -> None:
    """Fail when the model (or, with ``services``, PostgreSQL, Redis, nginx) is missing."""
    missing = []
    if not MODEL.is_file():
        missing.append(f"the model ({MODEL.relative_to(PROJECT_ROOT)}: make train)")
    if services:
        if not glob.glob("/usr/lib/postgresql/*/bin/initdb"):
            missing.append("PostgreSQL")
        if not shutil.which("redis-server"):
            missing.append("redis-server")
        if not (shutil.which("nginx") or os.path.exists("/usr/sbin/nginx")):
            missing.append("nginx")
    if missing:
        pytest.fail("missing " + ", ".join(missing) + " (`make test-prereqs` installs the servers)")


def tail(path: Path, lines: int = 40) -> str:
    """The end of a log, without the Python warnings Rasa prints at every start."""
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return f"({path} not found)"
    kept = [line for line in text if "Warning" not in line and not line.startswith("  ")]
    return "\n".join(kept[-lines:])


def wait_until(condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.2,
               gave_up: Optional[Callable[[], Optional[str]]] = None) -> Any:
    """Poll ``condition`` until it returns something true; fail with ``what`` after ``timeout`` s, or
    as soon as ``gave_up`` returns a reason (a server that exited)."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        reason = gave_up() if gave_up else None
        if reason:
            raise AssertionError(f"{what}: {reason}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not after {timeout:.0f} s")
        time.sleep(interval)


def bot_texts(response: requests.Response) -> List[str]:
    assert response.status_code == 200, f"HTTP {response.status_code}: {response.text[:300]}"
    return [m.get("text") or "" for m in response.json()]


def slots_from_events(events: Iterable[dict]) -> Dict[str, object]:
    slots: Dict[str, object] = {}
    for event in events:
        if event.get("event") == "slot":
            slots[event["name"]] = event.get("value")
    return slots


def _children(pid: int) -> List[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _stop_group(process: Optional[subprocess.Popen], timeout: float = 60) -> None:
    """TERM the process group (each server runs in its own session), KILL it if it lingers."""
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    except ProcessLookupError:
        pass


# -- the embedded layout: scripts/serve.sh -------------------------------------------------------------
class RasaServers:
    """``scripts/serve.sh`` in its own session: the action server and the Rasa server.

    The test's folder holds the tracker database (``TRACKER_DB``), the secrets (``SECRETS_DIR``: the
    REST channel's token, the API token) and ``serve.log``. ``api=True`` starts Rasa's HTTP API behind
    its token (``RASA_API=1``), as a developer would for the bench; otherwise the servers are exactly
    what ``make run`` starts. ``start()`` returns once the action server's /health and the REST
    channel's health URL answer (Rasa listens only once the model is loaded).
    """

    def __init__(self, folder: Path, *, credentials: Optional[Path] = None, api: bool = False,
                 env: Optional[Dict[str, str]] = None, model: Optional[Path] = None,
                 startup_timeout: float = START_TIMEOUT_S) -> None:
        self.folder = Path(folder)
        self.credentials = credentials
        self.api = api
        self.extra_env = dict(env or {})
        self.model = Path(model) if model else MODEL
        self.startup_timeout = startup_timeout
        self.rasa_port, self.action_port = free_ports(2)
        self.tracker_db = self.folder / "tracker.db"
        self.secrets_dir = self.folder / "secrets"
        self.log = self.folder / "serve.log"
        self.process: Optional[subprocess.Popen] = None

    # where things are
    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        return f"http://{HOST}:{self.action_port}"

    @property
    def rest_token(self) -> str:
        return (self.secrets_dir / "rest-token").read_text().strip()

    @property
    def api_token(self) -> str:
        return (self.secrets_dir / "rasa-token").read_text().strip()

    def env(self) -> Dict[str, str]:
        env = server_env()
        env.update(RASA_PORT=str(self.rasa_port), ACTION_PORT=str(self.action_port), TRACKER_DB=str(self.tracker_db),
                   SECRETS_DIR=str(self.secrets_dir), RASA_MODEL=str(self.model), RASA_API="1" if self.api else "0")
        if self.credentials:
            env["RASA_CREDENTIALS"] = str(self.credentials)
        env.update(self.extra_env)
        return env

    # starting and stopping
    def start(self) -> float:
        """Start serve.sh and wait until both servers answer; the seconds that took."""
        if not self.model.is_file():
            pytest.fail(f"{self.model} is missing: run `make train` first")
        self.folder.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen([str(PROJECT_ROOT / "scripts" / "serve.sh")], cwd=PROJECT_ROOT, env=self.env(),
                                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True)
        try:
            wait_until(lambda: http_ok(f"{self.action_url}/health") and http_ok(f"{self.url}/webhooks/rest/"),
                       self.startup_timeout, "serve.sh did not come up", interval=0.1, gave_up=self._exited)
        except AssertionError as error:
            self.stop()
            pytest.fail(f"{error}\n{tail(self.log)}")
        return time.monotonic() - started

    def _exited(self) -> Optional[str]:
        if self.process is not None and self.process.poll() is not None:
            return f"serve.sh exited with {self.process.returncode}"
        return None

    def stop(self) -> None:
        _stop_group(self.process)

    def restart(self) -> float:
        self.stop()
        return self.start()

    def alive(self) -> bool:
        return self._exited() is None and http_ok(f"{self.url}/webhooks/rest/")

    def listening(self) -> List[int]:
        return [p for p in (self.rasa_port, self.action_port) if port_open(p)]

    def _child(self, marker: str) -> int:
        assert self.process is not None
        pids = [p for p in _children(self.process.pid) if marker in _cmdline(p)]
        assert pids, f"no {marker!r} process under serve.sh"
        return pids[0]

    @property
    def rasa_pid(self) -> int:
        return self._child("bot.rasa")

    @property
    def action_pid(self) -> int:
        return self._child("-m actions")

    # what they wrote
    def logs(self) -> str:
        return "".join(p.read_text(errors="replace") for p in sorted(self.folder.rglob("*.log")))

    def log_tail(self, lines: int = 40) -> str:
        return tail(self.log, lines)

    def events(self, sender_id: str) -> List[dict]:
        """A conversation's events as stored (``sender_id`` as stored: "rest:x", "sio:...", "tg:...")."""
        if not self.tracker_db.exists():
            return []
        with sqlite3.connect(self.tracker_db) as db:
            rows = db.execute("SELECT data FROM events WHERE sender_id = ? ORDER BY id", (sender_id,)).fetchall()
        return [json.loads(data) for (data,) in rows]

    def slots(self, sender_id: str) -> Dict[str, object]:
        return slots_from_events(self.events(sender_id))

    # talking to them
    def rest(self, sender: str, message: str, *, token: Optional[str] = None, metadata: Optional[dict] = None,
             timeout: float = 120) -> requests.Response:
        """One turn through the REST channel, with the channel's token unless another is given."""
        body: Dict[str, Any] = {"sender": sender, "message": message}
        if metadata is not None:
            body["metadata"] = metadata
        return requests.post(f"{self.url}/webhooks/rest/webhook", json=body, timeout=timeout,
                             headers={"Authorization": f"Bearer {self.rest_token if token is None else token}"})

    def say(self, sender: str, message: str) -> List[dict]:
        """One turn through the REST channel: the bot's messages (dicts with text/buttons)."""
        response = self.rest(sender, message)
        assert response.status_code == 200, f"HTTP {response.status_code}: {response.text[:300]}"
        return response.json()


# -- the scaled layout: scripts/scale-up.sh ------------------------------------------------------------
class ScaledLayout:
    """The scaled layout under one state folder; ``up()`` and ``down()`` are the documented scripts."""

    def __init__(self, root: Path, env: Optional[Dict[str, str]] = None) -> None:
        self.root = Path(root)
        ports = free_ports(8)
        self.lb_port, self.action_lb_port = ports[0], ports[1]
        self.rasa_ports, self.action_ports = ports[2:4], ports[4:6]
        self.pg_port, self.redis_port = ports[6], ports[7]
        self.extra_env = dict(env or {})
        self.startup_s = 0.0

    @property
    def lb_url(self) -> str:
        return f"http://{HOST}:{self.lb_port}"

    def secret(self, name: str) -> str:
        return (self.root / "secrets" / name).read_text().strip()

    @property
    def db_password(self) -> str:
        return self.secret("db-password")

    @property
    def rest_token(self) -> str:
        return self.secret("rest-token")

    @property
    def tracker_dsn(self) -> str:
        return f"postgresql://clinic:{self.db_password}@{HOST}:{self.pg_port}/clinic_tracker"

    @property
    def condition_store_url(self) -> str:
        return f"postgresql://clinic:{self.db_password}@{HOST}:{self.pg_port}/clinic_store"

    def script_env(self) -> Dict[str, str]:
        env = server_env()
        env.update(
            SCALE_DIR=str(self.root),
            LB_PORT=str(self.lb_port),
            ACTION_LB_PORT=str(self.action_lb_port),
            RASA_PORTS=" ".join(map(str, self.rasa_ports)),
            ACTION_PORTS=" ".join(map(str, self.action_ports)),
            TRACKER_DB_PORT=str(self.pg_port),
            LOCK_STORE_PORT=str(self.redis_port),
        )
        env.update(self.extra_env)
        return env

    def run_script(self, name: str, timeout: float = START_TIMEOUT_S, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(PROJECT_ROOT / "scripts" / name)], cwd=PROJECT_ROOT, env={**self.script_env(), **env},
                              capture_output=True, text=True, timeout=timeout)

    def up(self) -> float:
        started = time.monotonic()
        result = self.run_script("scale-up.sh")
        if result.returncode != 0:
            logs = "\n".join(f"--- {p.name}\n{tail(p)}" for p in sorted((self.root / "logs").glob("*.log")))
            raise AssertionError(f"scale-up failed:\n{result.stdout}\n{result.stderr}\n{logs}")
        return time.monotonic() - started

    def down(self) -> None:
        self.run_script("scale-down.sh", timeout=300)

    def stop_service(self, name: str) -> None:
        """Stop PostgreSQL (``"postgresql"``) or Redis (``"redis"``) alone, as ``SCALE_ONLY=<name> make scale-down``."""
        result = self.run_script("scale-down.sh", timeout=120, SCALE_ONLY=name)
        assert result.returncode == 0 and f"stopped {name}" in result.stdout, f"{result.stdout}\n{result.stderr}"

    def start_service(self, name: str) -> None:
        """Start it again, as ``SCALE_ONLY=<name> make scale-up`` (the other servers keep running)."""
        result = self.run_script("scale-up.sh", timeout=120, SCALE_ONLY=name)
        assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"

    def ensure_up(self) -> None:
        """Bring back whatever a test stopped (scale-up.sh restarts only what is not running)."""
        if len(self.listening()) < len(self.ports()):
            self.up()

    def ports(self) -> List[int]:
        return [self.lb_port, self.action_lb_port, *self.rasa_ports, *self.action_ports, self.pg_port, self.redis_port]

    def listening(self) -> List[int]:
        """Which of the layout's ports accept connections."""
        return [p for p in self.ports() if port_open(p)]

    def pid(self, name: str) -> int:
        return int((self.root / "run" / f"{name}.pid").read_text().strip())

    def rest(self, sender: str, message: str, *, token: Optional[str] = None, timeout: float = 120,
             session: Optional[requests.Session] = None) -> requests.Response:
        """One turn through nginx and the REST channel (``session``: e.g. from another client address)."""
        return (session or requests).post(f"{self.lb_url}/webhooks/rest/webhook", json={"sender": sender, "message": message},
                                          headers={"Authorization": f"Bearer {self.rest_token if token is None else token}"},
                                          timeout=timeout)

    def send(self, sender: str, message: str, timeout: float = 120) -> List[str]:
        return bot_texts(self.rest(sender, message, timeout=timeout))

    def events(self, sender_id: str) -> List[dict]:
        """A conversation's events as stored in PostgreSQL (``sender_id`` as stored, e.g. "rest:x")."""
        import psycopg2

        conn = psycopg2.connect(self.tracker_dsn)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT data FROM events WHERE sender_id = %s ORDER BY id", (sender_id,))
                return [json.loads(data) for (data,) in cur.fetchall()]
        finally:
            conn.close()

    def slots(self, sender_id: str) -> Dict[str, object]:
        return slots_from_events(self.events(sender_id))

    def access_log(self) -> List[str]:
        return (self.root / "nginx" / "logs" / "access.log").read_text().splitlines()

    def logs(self) -> str:
        return "".join(p.read_text(errors="replace") for p in sorted(self.root.rglob("*.log")) if p.is_file())


def grep_files(folder: Path, needles: Sequence[str]) -> List[str]:
    """``path: needle`` for every file under ``folder`` (bytes, any name) that holds one of ``needles``."""
    found = []
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        try:
            data = path.read_bytes()
        except OSError:
            continue
        found += [f"{path}: {needle}" for needle in needles if needle.encode() in data]
    return found
