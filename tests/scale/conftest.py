"""Real servers for the scale-out tests, started by session fixtures and always stopped.

* ``scaled``: the scaled layout exactly as ``make scale-up`` starts it (scripts/scale-up.sh):
  PostgreSQL and Redis with their own data under a temporary directory, two Rasa servers, two action
  servers and nginx, on free loopback ports. Stopped by scripts/scale-down.sh.
* ``Embedded``: the default layout (scripts/serve.sh with endpoints.yml: SQLite tracker store,
  SQLite condition store), pointed at temporary files.

Nothing is mocked. PostgreSQL, Redis and nginx come from Debian (`make test` installs them through
`test-prereqs`); without them these tests fail under CI and are skipped elsewhere.
"""
from __future__ import annotations

import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import pytest
import requests
import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MODEL = PROJECT_ROOT / "models" / "clinic-assistant.tar.gz"
RASA = [str(PROJECT_ROOT / ".venv" / "bin" / "python"), "-m", "bot.rasa"]
PYTHON = PROJECT_ROOT / ".venv" / "bin" / "python"
HOST = "127.0.0.1"
START_TIMEOUT_S = 600


def base_env() -> Dict[str, str]:
    env = dict(os.environ)
    env.update(RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2", SQLALCHEMY_SILENCE_UBER_WARNING="1")
    env.pop("DATABASE_URL", None)
    return env


def require(*, services: bool = True) -> None:
    """Fail under CI, skip elsewhere, when the model or the Debian servers are missing."""
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


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((HOST, port)) == 0


def bot_texts(response: requests.Response) -> List[str]:
    assert response.status_code == 200, f"HTTP {response.status_code}: {response.text[:300]}"
    return [m.get("text") or "" for m in response.json()]


def tail(path: Path, lines: int = 40) -> str:
    """The end of a log, without the Python warnings Rasa prints at every start."""
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return f"({path} not found)"
    kept = [line for line in text if "Warning" not in line and not line.startswith("  ")]
    return "\n".join(kept[-lines:])


@dataclass
class Layout:
    """The scaled layout under one state directory; up() and down() are the documented scripts."""

    root: Path
    lb_port: int
    action_lb_port: int
    rasa_ports: List[int]
    action_ports: List[int]
    pg_port: int
    redis_port: int
    env: Dict[str, str] = field(default_factory=dict)
    startup_s: float = 0.0

    @property
    def lb_url(self) -> str:
        return f"http://{HOST}:{self.lb_port}"

    @property
    def tracker_dsn(self) -> str:
        return f"postgresql://clinic:clinic@{HOST}:{self.pg_port}/clinic_tracker"

    @property
    def condition_store_url(self) -> str:
        return f"postgresql://clinic:clinic@{HOST}:{self.pg_port}/clinic_store"

    def script_env(self) -> Dict[str, str]:
        env = base_env()
        env.update(
            SCALE_DIR=str(self.root),
            LB_PORT=str(self.lb_port),
            ACTION_LB_PORT=str(self.action_lb_port),
            RASA_PORTS=" ".join(map(str, self.rasa_ports)),
            ACTION_PORTS=" ".join(map(str, self.action_ports)),
            TRACKER_DB_PORT=str(self.pg_port),
            LOCK_STORE_PORT=str(self.redis_port),
            DATABASE_URL=self.condition_store_url,
        )
        env.update(self.env)
        return env

    def up(self) -> float:
        started = time.monotonic()
        result = subprocess.run(
            [str(PROJECT_ROOT / "scripts" / "scale-up.sh")],
            cwd=PROJECT_ROOT, env=self.script_env(), capture_output=True, text=True, timeout=START_TIMEOUT_S,
        )
        if result.returncode != 0:
            logs = "\n".join(f"--- {p.name}\n{tail(p)}" for p in sorted((self.root / "logs").glob("*.log")))
            raise AssertionError(f"scale-up failed:\n{result.stdout}\n{result.stderr}\n{logs}")
        return time.monotonic() - started

    def down(self) -> None:
        subprocess.run(
            [str(PROJECT_ROOT / "scripts" / "scale-down.sh")],
            cwd=PROJECT_ROOT, env=self.script_env(), capture_output=True, text=True, timeout=300,
        )

    def pid(self, name: str) -> int:
        return int((self.root / "run" / f"{name}.pid").read_text().strip())

    def send(self, sender: str, text: str, timeout: float = 120) -> List[str]:
        response = requests.post(f"{self.lb_url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=timeout)
        return bot_texts(response)

    def events(self, sender: str) -> List[dict]:
        """The sender's events as stored in PostgreSQL, in the order they were saved."""
        import psycopg2

        with psycopg2.connect(self.tracker_dsn) as conn, conn.cursor() as cur:
            cur.execute("SELECT data FROM events WHERE sender_id = %s ORDER BY id", (sender,))
            rows = [json.loads(data) for (data,) in cur.fetchall()]
        conn.close()
        return rows

    def slots(self, sender: str) -> Dict[str, object]:
        return slots_from_events(self.events(sender))

    def listening(self) -> List[int]:
        """Which of the layout's ports still accept connections."""
        ports = [self.lb_port, self.action_lb_port, *self.rasa_ports, *self.action_ports, self.pg_port, self.redis_port]
        return [p for p in ports if port_open(p)]

    def access_log(self) -> List[str]:
        return (self.root / "nginx" / "logs" / "access.log").read_text().splitlines()


def slots_from_events(events: List[dict]) -> Dict[str, object]:
    slots: Dict[str, object] = {}
    for event in events:
        if event.get("event") == "slot":
            slots[event["name"]] = event.get("value")
    return slots


@pytest.fixture(scope="session")
def scaled():
    require()
    root = Path(tempfile.mkdtemp(prefix="clinic-scale-"))
    root.chmod(0o755)  # PostgreSQL runs as the postgres user and must reach its data directory
    ports = free_ports(8)
    layout = Layout(root, ports[0], ports[1], ports[2:4], ports[4:6], ports[6], ports[7])
    try:
        layout.startup_s = layout.up()
        yield layout
    finally:
        layout.down()
        leftovers = layout.listening()
        shutil.rmtree(root, ignore_errors=True)
        assert not leftovers, f"scale-down left servers listening on {leftovers}"


class Embedded:
    """scripts/serve.sh (one Rasa server + one action server) with endpoints.yml's SQLite tracker store."""

    def __init__(self, root: Path):
        self.root = root
        self.rasa_port, self.action_port = free_ports(2)
        self.process: Optional[subprocess.Popen] = None
        endpoints = yaml.safe_load((PROJECT_ROOT / "endpoints.yml").read_text())
        assert endpoints["tracker_store"]["dialect"] == "sqlite"
        endpoints["tracker_store"]["db"] = str(root / "tracker.db")
        endpoints["action_endpoint"]["url"] = f"http://{HOST}:{self.action_port}/webhook"
        self.endpoints = root / "endpoints.yml"
        self.endpoints.write_text(yaml.safe_dump(endpoints))
        self.env = base_env()
        self.env.update(
            RASA_PORT=str(self.rasa_port),
            ACTION_PORT=str(self.action_port),
            RASA_ENDPOINTS=str(self.endpoints),
            DATABASE_URL=f"sqlite:///{root / 'condition_store.db'}",
            SANIC_HOST=HOST,
        )
        self.log = root / "serve.log"

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.rasa_port}"

    def listening(self) -> List[int]:
        return [p for p in (self.rasa_port, self.action_port) if port_open(p)]

    def build_store(self) -> None:
        subprocess.run([str(PYTHON), "-m", "bot", "build-store"], cwd=PROJECT_ROOT, env=self.env, check=True,
                       capture_output=True, timeout=300)

    def start(self) -> float:
        started = time.monotonic()
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen([str(PROJECT_ROOT / "scripts" / "serve.sh")], cwd=PROJECT_ROOT, env=self.env,
                                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = started + START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"serve.sh exited:\n{tail(self.log)}"
            try:
                if requests.get(f"{self.url}/status", timeout=5).ok and requests.get(f"http://{HOST}:{self.action_port}/health", timeout=5).ok:
                    return time.monotonic() - started
            except requests.RequestException:
                pass
            time.sleep(1)
        raise AssertionError(f"serve.sh did not come up in {START_TIMEOUT_S} s:\n{tail(self.log)}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def send(self, sender: str, text: str) -> List[str]:
        response = requests.post(f"{self.url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=120)
        return bot_texts(response)

    def slots(self, sender: str) -> Dict[str, object]:
        response = requests.get(f"{self.url}/conversations/{sender}/tracker", timeout=30)
        response.raise_for_status()
        return response.json()["slots"]


@pytest.fixture
def embedded():
    require(services=False)
    root = Path(tempfile.mkdtemp(prefix="clinic-embedded-"))
    server = Embedded(root)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def tools():
    """The helpers above, for test modules (conftest.py is not importable under --import-mode=importlib)."""
    from types import SimpleNamespace

    return SimpleNamespace(
        root=PROJECT_ROOT, rasa=RASA, python=PYTHON, base_env=base_env, free_ports=free_ports, require=require, tail=tail
    )
