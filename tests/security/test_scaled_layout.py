"""Issue 12, items 1, 4 and 7 in the scaled layout (`make scale-up` under a temporary state folder:
the session's ``scaled`` fixture, shared with tests/scale): generated passwords in private files,
PostgreSQL without `trust`, Redis with a password, private files, nginx passing only the chat
channels and /health with a per-address rate limit, and an action upstream that takes a long
conversation.

Before: PostgreSQL and Redis had the password `clinic` or none, PostgreSQL trusted every local
connection, nginx passed everything (Rasa's API included) to the Rasa servers, and the action
upstream refused bodies over 1 MB (after ~20 long messages every action failed with 413)."""
from __future__ import annotations

import concurrent.futures
import stat
import uuid

import pytest
import requests

from bot.rasa.guard import MAX_MESSAGE_CHARS
from tests.support.servers import HOST, REST_PREFIX, ScaledLayout

pytestmark = pytest.mark.e2e

SECRETS = ("db-password", "postgres-password", "redis-password", "rest-token")


@pytest.fixture
def layout(scaled) -> ScaledLayout:
    """The session's scaled layout (tests/conftest.py, shared with tests/scale), whole."""
    return scaled


def test_passwords_are_generated_into_private_files(layout):
    folder = layout.root / "secrets"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    values = []
    for name in SECRETS:
        path = folder / name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, name
        values.append(path.read_text().strip())
    assert all(len(v) >= 64 for v in values) and len(set(values)) == len(values)
    assert "clinic" not in values


def test_every_file_the_layout_writes_is_private(layout):
    """umask 077: nothing under the state folder is readable by other users (PostgreSQL's and nginx's
    folders are only traversable, so that their own users reach their files)."""
    readable = []
    for path in layout.root.rglob("*"):
        if path.is_symlink() or path.is_socket() or path.name.startswith(".s.PGSQL"):
            continue
        mode = stat.S_IMODE(path.stat().st_mode)
        if path.is_file() and mode & 0o077:
            readable.append(f"{path.relative_to(layout.root)} {oct(mode)}")
    assert readable == []


def test_postgresql_wants_a_password_for_every_connection(layout):
    import psycopg2

    socket_dir = str(layout.root / "pgsock")
    for kwargs in ({"host": socket_dir, "user": "postgres"}, {"host": socket_dir, "user": "clinic"},
                   {"host": HOST, "user": "clinic", "password": "clinic"}, {"host": HOST, "user": "postgres"}):
        with pytest.raises(psycopg2.OperationalError, match="password"):
            psycopg2.connect(port=layout.pg_port, dbname="postgres", connect_timeout=5, **kwargs).close()
    psycopg2.connect(layout.tracker_dsn, connect_timeout=5).close()


def test_redis_wants_its_password(layout):
    import redis

    with pytest.raises(redis.exceptions.AuthenticationError):
        redis.Redis(host=HOST, port=layout.redis_port, socket_timeout=5).ping()
    assert redis.Redis(host=HOST, port=layout.redis_port, password=layout.secret("redis-password"), socket_timeout=5).ping()


def test_nginx_passes_only_the_chat_channels_and_health(layout):
    sender = f"victim-{uuid.uuid4().hex[:8]}"
    assert layout.send(sender, "does lupus cause bone pain?")
    for path in ("/", f"/conversations/{REST_PREFIX}{sender}/tracker", "/status", "/version", "/model/parse", "/webhooks"):
        assert requests.get(layout.lb_url + path, timeout=30).status_code == 404, path
    assert requests.put(f"{layout.lb_url}/model", json={}, timeout=30).status_code == 404
    assert requests.get(f"{layout.lb_url}/health", timeout=30).json() == {"status": "ok"}
    assert requests.get(f"{layout.lb_url}/socket.io/?EIO=4&transport=polling", timeout=30).status_code == 200
    for port in layout.rasa_ports:  # and the Rasa servers themselves have no API
        assert requests.get(f"http://{HOST}:{port}/conversations/{REST_PREFIX}{sender}/tracker", timeout=30).status_code == 404
    assert layout.rest(sender, "hi", token="guess").status_code == 401


def test_one_address_sending_too_fast_is_limited(layout):
    url = f"{layout.lb_url}/webhooks/rest/"
    with concurrent.futures.ThreadPoolExecutor(max_workers=30) as pool:
        statuses = list(pool.map(lambda _: requests.get(url, timeout=30).status_code, range(120)))
    assert 429 in statuses and 200 in statuses, statuses
    # ... another address is not affected (patients behind different addresses).
    other = requests.Session()
    other.mount("http://", _SourceAddressAdapter("127.0.0.77"))
    assert other.get(url, timeout=30).status_code == 200


def test_a_long_conversation_still_reaches_the_action_servers(layout):
    """Rasa sends the whole conversation with every action call: a few messages near the cap make
    calls of over 1 MB (nginx's old limit; each message is in the call twice, with its entities)."""
    sender = f"long-{uuid.uuid4().hex[:8]}"
    message = ("What causes hip pain? " * (MAX_MESSAGE_CHARS // 22))[:MAX_MESSAGE_CHARS]
    action_calls = lambda: [line for line in layout.access_log() if '"POST /webhook"' in line]  # noqa: E731
    patient = requests.Session()  # from an address of its own: other tests' bursts do not count
    patient.mount("http://", _SourceAddressAdapter("127.0.0.78"))
    for turn in range(12):
        response = layout.rest(sender, message, timeout=600, session=patient)
        assert response.status_code == 200, f"turn {turn}: HTTP {response.status_code}"
        replies = [m.get("text") or "" for m in response.json()]
        assert any("Source" in r for r in replies), f"turn {turn}: {replies}"
        if max(int(line.rsplit("len=", 1)[1]) for line in action_calls()) > 1_100_000:
            break
    assert max(int(line.rsplit("len=", 1)[1]) for line in action_calls()) > 1_100_000
    assert [line for line in action_calls() if '" 413 ' in line] == []


class _SourceAddressAdapter(requests.adapters.HTTPAdapter):
    """Connect from another loopback address (Linux routes all of 127/8 to lo)."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)
