"""`make shell` in a terminal: scripts/shell.sh (what `make shell` runs) driven through a pseudo-terminal
with pexpect, as a member of staff would type."""
from __future__ import annotations

import os
import re
import signal
import socket

import pytest
import yaml

from tests.support.servers import PROJECT_ROOT, free_port, server_env

pytestmark = pytest.mark.e2e

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][A-Za-z0-9]|\r")
SHELL_SCRIPT = PROJECT_ROOT / "scripts" / "shell.sh"


def port_in_use(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_shell_answers_a_question_with_source_and_disclaimer(tmp_path, disclaimer):
    import pexpect

    action_port, rasa_port = free_port(), free_port()
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(yaml.safe_dump({"action_endpoint": {"url": f"http://localhost:{action_port}/webhook"}}))
    env = server_env()
    env.update(ACTION_PORT=str(action_port), RASA_PORT=str(rasa_port), RASA_ENDPOINTS=str(endpoints),
               TERM="xterm", COLUMNS="400", LINES="50")
    (PROJECT_ROOT / "var").mkdir(exist_ok=True)
    log = open(tmp_path / "shell-transcript.txt", "w")
    child = pexpect.spawn(str(SHELL_SCRIPT), cwd=str(PROJECT_ROOT), env=env, encoding="utf-8",
                          dimensions=(50, 400), timeout=300, logfile=log)
    try:
        child.expect(r"Your input ->", timeout=300)  # the model is loaded and the action server is up
        child.sendline("what causes hip pain")
        child.expect(r"not a diagnosis or medical advice\.[^\n]*", timeout=120)
        child.expect(r"Your input ->", timeout=60)
        full = ANSI.sub("", (tmp_path / "shell-transcript.txt").read_text())
        assert "not for emergencies" in full  # the scope notice opens the conversation
        assert "Rheumatoid arthritis" in full and "Source: What autoimmune disease causes hip pain" in full
        assert disclaimer in " ".join(full.split())
        child.sendline("/stop")
        child.expect(pexpect.EOF, timeout=60)
    finally:
        if child.isalive():
            child.sendintr()
            child.expect([pexpect.EOF, pexpect.TIMEOUT], timeout=30)
        child.close(force=True)
        log.close()
        if port_in_use(action_port):  # the script's trap did not run: end its process group (ours)
            try:
                os.killpg(child.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
