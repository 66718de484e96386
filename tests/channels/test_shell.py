"""`make shell` in a terminal: scripts/shell.sh (what `make shell` runs) driven through a pseudo-terminal
with pexpect, as a member of staff would type. With the default endpoints.yml: only ACTION_PORT moves
the action server, and Rasa must follow it there (the answer needs the action server)."""
from __future__ import annotations

import os
import re
import signal
import sqlite3

import pytest

from tests.support.servers import PROJECT_ROOT, free_ports, port_open, server_env

pytestmark = pytest.mark.e2e

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][A-Za-z0-9]|\r")
SHELL_SCRIPT = PROJECT_ROOT / "scripts" / "shell.sh"


def test_shell_answers_a_question_with_source_and_disclaimer(tmp_path, disclaimer):
    import pexpect

    action_port, rasa_port = free_ports(2)
    assert action_port != 5055
    tracker_db = tmp_path / "tracker.db"
    env = server_env()
    env.update(ACTION_PORT=str(action_port), RASA_PORT=str(rasa_port), TRACKER_DB=str(tracker_db),
               ACTION_LOG=str(tmp_path / "action-server.log"), TERM="xterm", COLUMNS="400", LINES="50")
    log = open(tmp_path / "shell-transcript.txt", "w")
    child = pexpect.spawn(str(SHELL_SCRIPT), cwd=str(PROJECT_ROOT), env=env, encoding="utf-8",
                          dimensions=(50, 400), timeout=300, logfile=log)
    try:
        child.expect(r"Your input ->", timeout=300)  # the model is loaded and the action server is up
        child.sendline("what causes hip pain")
        child.expect(r"not a diagnosis or medical advice\.[^\n]*", timeout=120)
        if child.expect([r"Your input ->", r"\(Use arrow keys\)"], timeout=60) == 1:
            # The answer came with buttons (rasa shell asks to pick one): the last choice, reached with
            # one arrow up, is "Type out your own message...".
            child.send("\x1b[A")
            child.send("\r")
            child.expect(r"Your input ->", timeout=60)
        full = ANSI.sub("", (tmp_path / "shell-transcript.txt").read_text())
        assert "not for emergencies" in full  # the scope notice opens the conversation
        assert "Rheumatoid arthritis" in full and "Source: What autoimmune disease causes hip pain" in full
        assert disclaimer in " ".join(full.split())
        child.sendline("/stop")
        child.expect(pexpect.EOF, timeout=60)
        # The default endpoints.yml's tracker store, pointed at TRACKER_DB: the question is in it.
        with sqlite3.connect(tracker_db) as db:
            assert db.execute("SELECT count(*) FROM events WHERE data LIKE '%what causes hip pain%'").fetchone()[0] >= 1
    finally:
        if child.isalive():
            child.sendintr()
            child.expect([pexpect.EOF, pexpect.TIMEOUT], timeout=30)
        child.close(force=True)
        log.close()
        if port_open(action_port):  # the script's trap did not run: end its process group (ours)
            try:
                os.killpg(child.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
