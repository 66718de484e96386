"""Real servers for the scale-out tests (tests/support/servers.py), started by fixtures and always stopped.

* ``scaled`` (tests/conftest.py, shared with tests/security): the scaled layout exactly as ``make
  scale-up`` starts it: PostgreSQL and Redis with their own data under a temporary folder, two Rasa
  servers, two action servers and nginx, on free loopback ports. Each test gets it whole: what an
  earlier test stopped is started again first.
* ``chat_servers`` (tests/conftest.py, the session's): the default layout (scripts/serve.sh with
  endpoints.yml: SQLite tracker store, SQLite condition store), as `make run` starts it.

Nothing is mocked. PostgreSQL, Redis and nginx come from Debian (`make test` installs them through
`test-prereqs`); without them these tests fail.
"""
from __future__ import annotations
