"""A database that does not answer at start-up gives one clear error and a non-zero exit within a
bounded time: no traceback loop, and no silent fall-back to an in-memory tracker store."""
from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.support.servers import PROJECT_ROOT, RASA, VENV_PYTHON, free_ports, require, server_env

pytestmark = pytest.mark.e2e  # real servers


def test_rasa_stops_with_a_clear_error_when_the_tracker_database_is_unreachable():
    require()
    closed_port, rasa_port = free_ports(2)  # nothing listens on closed_port
    env = server_env()
    env.update(
        TRACKER_DB_HOST="127.0.0.1", TRACKER_DB_PORT=str(closed_port), TRACKER_DB_NAME="clinic_tracker",
        TRACKER_DB_USER="clinic", TRACKER_DB_PASSWORD="s3cret-pw", TRACKER_DB_CONNECT_TIMEOUT="5",
        LOCK_STORE_HOST="127.0.0.1", LOCK_STORE_PORT=str(closed_port), LOCK_STORE_DB="1", LOCK_STORE_PASSWORD="x",
        ACTION_ENDPOINT_URL="http://127.0.0.1:9/webhook", REST_CHANNEL_TOKEN="test-token",
    )
    started = time.monotonic()
    result = subprocess.run(
        [*RASA, "run", "--interface", "127.0.0.1", "--port", str(rasa_port),
         "--endpoints", "deploy/endpoints.scaled.yml", "--model", "models/clinic-assistant.tar.gz"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=180,
    )
    elapsed = time.monotonic() - started
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-2000:]
    assert f"tracker store database postgresql://clinic:***@127.0.0.1:{closed_port}/clinic_tracker unreachable after 5 s" in output
    assert "Connection refused" in output and "TRACKER_DB_HOST" in output
    assert "s3cret-pw" not in output
    assert "InMemoryTrackerStore" not in output and "Rasa server is up and running" not in output
    assert output.count("not reachable yet") <= 10  # bounded: once a second for TRACKER_DB_CONNECT_TIMEOUT
    print(f"\ntracker database unreachable: rasa exited {result.returncode} after {elapsed:.1f} s")


def test_the_condition_store_gives_a_clear_error_when_database_url_is_unreachable():
    (closed_port,) = free_ports(1)
    env = server_env()
    env.update(DATABASE_URL=f"postgresql://clinic:s3cret-pw@127.0.0.1:{closed_port}/clinic_store", DATABASE_CONNECT_TIMEOUT="3")
    started = time.monotonic()
    result = subprocess.run([str(VENV_PYTHON), "-m", "bot", "build-store"], cwd=PROJECT_ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    elapsed = time.monotonic() - started
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert f"condition store database postgresql://clinic:***@127.0.0.1:{closed_port}/clinic_store unreachable after 3 s" in last_line
    assert "Check DATABASE_URL" in last_line and "s3cret-pw" not in result.stderr
    assert "Traceback" not in result.stderr
    assert elapsed < 60


def test_scale_up_refuses_to_start_against_an_unreachable_database():
    require(services=True)
    closed_port, lock_port = free_ports(2)
    with tempfile.TemporaryDirectory(prefix="clinic-scale-") as root:
        env = server_env()
        env.update(SCALE_DIR=root, SCALE_LOCAL_SERVICES="0", TRACKER_DB_PORT=str(closed_port), LOCK_STORE_PORT=str(lock_port),
                   DATABASE_CONNECT_TIMEOUT="3", RASA_PORTS="1", ACTION_PORTS="1")
        result = subprocess.run([str(PROJECT_ROOT / "scripts" / "scale-up.sh")], cwd=PROJECT_ROOT, env=env,
                                capture_output=True, text=True, timeout=180)
        subprocess.run([str(PROJECT_ROOT / "scripts" / "scale-down.sh")], cwd=PROJECT_ROOT, env=env, capture_output=True, timeout=120)
        assert result.returncode != 0
        assert "unreachable" in result.stderr and "DATABASE_URL" in result.stderr, result.stderr
        assert not any(Path(root, "run").glob("*.pid")), "no server was started"
