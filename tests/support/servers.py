"""Start the real action server and Rasa server for end-to-end tests, and always stop them."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import requests

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
MODEL = ROOT / "models" / "clinic-assistant.tar.gz"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RunningServers:
    rasa_url: str
    action_url: str
    log_dir: Path
    processes: List[subprocess.Popen]

    def say(self, sender: str, message: str, timeout: float = 30) -> List[dict]:
        response = requests.post(f"{self.rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": message}, timeout=timeout)
        response.raise_for_status()
        return response.json()

    def logs(self) -> str:
        return "".join(p.read_text(errors="replace") for p in sorted(self.log_dir.glob("*.log")))


def _wait(url: str, process: subprocess.Popen, deadline: float) -> None:
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before {url} answered")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer in time")


@contextmanager
def rasa_servers(
    log_dir: Path,
    endpoints: Optional[Path] = None,
    credentials: Optional[Path] = None,
    env: Optional[Dict[str, str]] = None,
    startup_timeout: float = 240,
) -> Iterator[RunningServers]:
    """Action server + Rasa server (REST, socketio and whatever ``credentials`` lists) on free ports.

    ``endpoints`` defaults to a copy of endpoints.yml pointing at the chosen action port, with the
    tracker store in ``log_dir`` so tests never touch the developer's conversations.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    rasa_port, action_port = free_port(), free_port()
    if endpoints is None:
        endpoints = log_dir / "endpoints.yml"
        endpoints.write_text(
            "action_endpoint:\n"
            f"  url: http://127.0.0.1:{action_port}/webhook\n"
            "tracker_store:\n"
            "  type: bot.rasa_adapters.PrivateSQLTrackerStore\n"
            "  dialect: sqlite\n"
            f"  db: {log_dir / 'tracker.db'}\n",
            encoding="utf-8",
        )
    full_env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
    processes: List[subprocess.Popen] = []

    def start(name: str, args: List[str]) -> subprocess.Popen:
        log = (log_dir / f"{name}.log").open("w")
        process = subprocess.Popen(args, cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        processes.append(process)
        return process

    try:
        actions = start("actions", [str(VENV_BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(action_port)])
        rasa = start(
            "rasa",
            [
                str(VENV_BIN / "rasa"), "run", "--enable-api", "--port", str(rasa_port), "--model", str(MODEL),
                "--endpoints", str(endpoints), "--credentials", str(credentials or ROOT / "credentials.yml"),
            ],
        )
        deadline = time.time() + startup_timeout
        _wait(f"http://127.0.0.1:{action_port}/health", actions, deadline)
        _wait(f"http://127.0.0.1:{rasa_port}/status", rasa, deadline)
        yield RunningServers(f"http://127.0.0.1:{rasa_port}", f"http://127.0.0.1:{action_port}", log_dir, processes)
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
