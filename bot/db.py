"""Engines and sessions for the condition store, built on first use from ``DATABASE_URL``."""
from __future__ import annotations

import logging
import time
from functools import lru_cache
from typing import Any, Dict, Optional

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot import settings
from bot.models import Base

log = logging.getLogger(__name__)


class DatabaseUnreachable(RuntimeError):
    """A database (the condition store's or the tracker store's) did not answer within the wait."""


@lru_cache(maxsize=8)
def engine_for(url: Optional[str] = None) -> Engine:
    """One engine per URL (default: settings.database_url()); SQLite gets foreign keys switched on.

    A server database (PostgreSQL, ...) must answer within ``DATABASE_CONNECT_TIMEOUT`` seconds
    (default 10), else DatabaseUnreachable says which one, without the password."""
    url = url or settings.database_url()
    kwargs: Dict[str, Any] = {"future": True, "pool_pre_ping": True}
    if url.startswith("postgres"):
        kwargs["connect_args"] = {"connect_timeout": 5}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False}
        if url in ("sqlite://", "sqlite:///:memory:"):
            from sqlalchemy.pool import StaticPool

            kwargs["poolclass"] = StaticPool  # one shared connection, so an in-memory store persists
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_foreign_keys)
    else:
        try:
            wait_until_reachable(engine, settings.database_connect_timeout(), "condition store database",
                                 "Check DATABASE_URL and that the database server is running.")
        except DatabaseUnreachable:
            engine.dispose()
            raise
    return engine


def wait_until_reachable(engine: Engine, timeout: float, what: str, hint: str) -> None:
    """Connect once within ``timeout`` seconds, retrying every second; else raise DatabaseUnreachable
    naming ``what`` (without the password) and ``hint`` (what to check). Used by the condition store
    and by the tracker store (Rasa's own retries an unreachable database every 5 s forever)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with engine.connect():
                return
        except SQLAlchemyError as error:
            if time.monotonic() >= deadline:
                reason = (str(getattr(error, "orig", None) or error).strip().splitlines() or ["?"])[0]
                raise DatabaseUnreachable(
                    f"{what} {engine.url.render_as_string(hide_password=True)} unreachable "
                    f"after {timeout:.0f} s: {reason}. {hint}"
                ) from None
            log.warning("%s not reachable yet; retrying for %.0f s more", what, deadline - time.monotonic())
            time.sleep(1.0)


def _sqlite_foreign_keys(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_schema(engine: Engine) -> None:
    Base.metadata.create_all(engine)


def session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(bind=engine, future=True, expire_on_commit=False, class_=Session)
