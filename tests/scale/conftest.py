"""Real servers for the scale-out tests (tests/support/servers.py), started by fixtures and always stopped.

* ``scaled`` (tests/conftest.py, shared with tests/security): the scaled layout exactly as ``make
  scale-up`` starts it: PostgreSQL and Redis with their own data under a temporary folder, two Rasa
  servers, two action servers and nginx, on free loopback ports. Each test gets it whole: what an
  earlier test stopped is started again first.
* ``embedded``: the default layout (scripts/serve.sh with endpoints.yml: SQLite tracker store, SQLite
  condition store), pointed at temporary files.

Nothing is mocked. PostgreSQL, Redis and nginx come from Debian (`make test` installs them through
`test-prereqs`); without them these tests fail.
"""
from __future__ import annotations

import pytest

from tests.support.servers import RasaServers, require


@pytest.fixture
def embedded(tmp_path):
    require()
    servers = RasaServers(tmp_path, env={"DATABASE_URL": f"sqlite:///{tmp_path / 'condition_store.db'}"})
    try:
        yield servers
    finally:
        servers.stop()
