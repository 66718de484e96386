"""Rasa's SQL tracker store, plus forgetting (endpoints.yml: ``type: bot.rasa.tracker_store.PrivateSQLTrackerStore``)."""
from __future__ import annotations

import logging
import time
from typing import Any, Dict, Optional, Text

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, validate_port
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import event

from bot import settings
from bot.db import DatabaseUnreachable, wait_until_reachable

log = logging.getLogger(__name__)

FORGET_ACTION = "action_forget_conversation"


class PrivateSQLTrackerStore(SQLTrackerStore):
    """Rasa's SQL tracker store, plus forgetting.

    * A conversation in which the user asked to be forgotten (``action_forget_conversation`` ran
      after their latest message) is deleted instead of saved.
    * Conversations whose latest event is older than ``retention_days`` (default: config/clinic.yml)
      are deleted at start-up and then at most once an hour.
    * An unreachable server database stops the server with one clear error after
      ``TRACKER_DB_CONNECT_TIMEOUT`` seconds, instead of Rasa's endless retries.
    """

    PURGE_INTERVAL_S = 3600.0
    Unavailable = DatabaseUnreachable

    def __init__(self, domain: Optional[Domain] = None, retention_days: Optional[int] = None, **kwargs: Any) -> None:
        self._wait_for_database(kwargs)
        super().__init__(domain=domain, **kwargs)
        if retention_days is None:
            from bot.clinic import default_clinic_config

            retention_days = default_clinic_config().retention_days
        self.retention_days = int(retention_days)
        self._last_purge = 0.0
        if self.engine.dialect.name == "sqlite":
            # One commit per turn: WAL without an fsync per commit halves the per-turn time (make bench).
            event.listen(self.engine, "connect", _sqlite_wal)
            self.engine.dispose()
        self.purge_expired()

    def _wait_for_database(self, kwargs: Dict[Text, Any]) -> None:
        dialect = kwargs.get("dialect") or "sqlite"
        if dialect.startswith("sqlite"):
            return  # a file beside the server: nothing to wait for
        url = sa.engine.make_url(
            self.get_db_url(
                dialect,
                kwargs.get("host"),
                validate_port(kwargs.get("port")),
                kwargs.get("db") or "rasa.db",
                kwargs.get("username"),
                kwargs.get("password"),
                kwargs.get("login_db"),
                kwargs.get("query"),
            )
        )
        connect_args = {"connect_timeout": 5} if url.get_backend_name() == "postgresql" else {}
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool, connect_args=connect_args)
        try:
            wait_until_reachable(
                engine, settings.tracker_db_connect_timeout(), "tracker store database",
                "Check TRACKER_DB_HOST, TRACKER_DB_PORT, TRACKER_DB_NAME, TRACKER_DB_USER, TRACKER_DB_PASSWORD "
                "(the tracker_store section of the endpoints file) and that the database server is running.",
            )
        except DatabaseUnreachable as error:
            log.error("%s", error)
            raise
        finally:
            engine.dispose()

    async def save(self, tracker: DialogueStateTracker) -> None:
        if asked_to_forget(tracker):
            self.delete_conversation(tracker.sender_id)
            return
        await super().save(tracker)
        if time.time() - self._last_purge > self.PURGE_INTERVAL_S:
            self.purge_expired()

    def delete_conversation(self, sender_id: Text) -> int:
        with self.session_scope() as session:
            deleted = session.query(self.SQLEvent).filter(self.SQLEvent.sender_id == sender_id).delete(synchronize_session=False)
            session.commit()
        log.info("deleted a conversation at the user's request (%d events)", deleted)
        return deleted

    def purge_expired(self, now: Optional[float] = None) -> int:
        """Delete every conversation whose latest event is older than the retention period."""
        now = time.time() if now is None else now
        self._last_purge = now
        cutoff = now - self.retention_days * 86400
        with self.session_scope() as session:
            latest = (
                session.query(self.SQLEvent.sender_id)
                .group_by(self.SQLEvent.sender_id)
                .having(sa.func.max(self.SQLEvent.timestamp) < cutoff)
            )
            expired = [row[0] for row in latest]
            if expired:
                session.query(self.SQLEvent).filter(self.SQLEvent.sender_id.in_(expired)).delete(synchronize_session=False)
            session.commit()
        if expired:
            log.info("retention: deleted %d conversations older than %d days", len(expired), self.retention_days)
        return len(expired)


def _sqlite_wal(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def asked_to_forget(tracker: DialogueStateTracker) -> bool:
    """True when the forget action ran after the user's latest message."""
    for tracker_event in reversed(tracker.events):
        if isinstance(tracker_event, UserUttered):
            return False
        if isinstance(tracker_event, ActionExecuted) and tracker_event.action_name == FORGET_ACTION:
            return True
    return False
