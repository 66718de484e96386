"""Rasa's SQL tracker store, plus forgetting (endpoints.yml: ``type: bot.rasa.tracker_store.PrivateSQLTrackerStore``)."""
from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Text

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs, validate_port
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import event

from bot import settings
from bot.db import DatabaseUnreachable, wait_until_reachable
from bot.rasa.outage import Outage

log = logging.getLogger(__name__)

FORGET_ACTION = "action_forget_conversation"
FORGET_SLOT = "delete_conversation"  # set by FORGET_ACTION when the conversation is to be deleted

# What a database that stopped answering raises (refused, closed, shutting down, timed out); any
# other error is a bug and goes on to Rasa's fail-safe wrapper as before.
DATABASE_DOWN = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.DisconnectionError, sa.exc.TimeoutError)

# Whether the latest "delete my conversation" of a sender succeeded, until its channel asks
# (bot.rasa.guard confirms the deletion only on True). Bounded: outcomes nobody asked for age out.
_FORGET_OUTCOMES: "OrderedDict[str, bool]" = OrderedDict()
_FORGET_OUTCOMES_KEPT = 10_000
_UNREAD_KEPT = 10_000  # senders whose conversation could not be read, until their next turn


def _record_forget_outcome(sender_id: Text, deleted: bool) -> None:
    _FORGET_OUTCOMES.pop(sender_id, None)
    _FORGET_OUTCOMES[sender_id] = deleted
    while len(_FORGET_OUTCOMES) > _FORGET_OUTCOMES_KEPT:
        _FORGET_OUTCOMES.popitem(last=False)


def pop_forget_outcome(sender_id: Text) -> Optional[bool]:
    """True if this sender's conversation was just deleted at their request, False if that failed,
    None if they did not ask (in this process, since the last call)."""
    return _FORGET_OUTCOMES.pop(sender_id, None)


class PrivateSQLTrackerStore(SQLTrackerStore):
    """Rasa's SQL tracker store, plus forgetting.

    * A conversation in which the user asked to be forgotten (``action_forget_conversation`` ran
      after their latest message) is deleted instead of saved, and the outcome is recorded for the
      channel (:func:`pop_forget_outcome`): Rasa's fail-safe wrapper would swallow a failure.
    * SQLite: deleted rows are overwritten (``secure_delete``) and the write-ahead log is
      checkpointed and truncated, so a deleted conversation's words are not left in the files.
    * Conversations whose latest event is older than ``retention_days`` (default: config/clinic.yml)
      are deleted at start-up and then every ``RETENTION_PURGE_INTERVAL`` seconds (default: one
      hour) on a timer, ``PURGE_BATCH`` conversations per transaction.
    * Database errors never carry the statement's parameters (patients' words) into the logs.
    * An unreachable server database stops the server with one clear error after
      ``TRACKER_DB_CONNECT_TIMEOUT`` seconds, instead of Rasa's endless retries.
    * A database that stops answering while the server runs (README, "When a database fails"):
      Rasa 3.6.21's fail-safe wrapper would log every failed call with its SQL, answer from an empty
      conversation, and keep each unsaved conversation in a memory store it never reads back (nor
      deletes on request). Here the outage is logged once, and when it is over (:class:`Outage`);
      the turn is answered from an empty conversation as before, but nothing of it is kept anywhere,
      and a conversation that could not be read is not saved (a fresh tracker's events would be
      appended to the stored ones out of place). Pooled connections are checked before use, so the
      first turns after a restart of the database are saved like any other.
    """

    PURGE_BATCH = 500
    Unavailable = DatabaseUnreachable
    engine: sa.engine.Engine

    def __init__(self, domain: Optional[Domain] = None, retention_days: Optional[int] = None, **kwargs: Any) -> None:
        self._wait_for_database(kwargs)
        super().__init__(domain=domain, **kwargs)
        self._reconnecting_engine()
        self.outage = Outage("tracker store database", "turns are answered but not saved until it is back")
        self._unread: "OrderedDict[str, None]" = OrderedDict()  # senders whose latest read failed
        if retention_days is None:
            from bot.clinic import default_clinic_config

            retention_days = default_clinic_config().retention_days
        self.retention_days = int(retention_days)
        self.purge_interval = settings.retention_purge_interval()
        self._last_purge = 0.0
        self._purge_timer: Optional[asyncio.TimerHandle] = None
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
            self.engine.dispose()
        self.purge_expired()
        self._schedule_purge()

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

    def _reconnecting_engine(self) -> None:
        """Rasa's engine, with every pooled connection checked before use (``pool_pre_ping``), no
        statement parameters (patients' words) in errors, and PostgreSQL connection attempts given up
        after 5 s (not the system's TCP timeout, while the server's event loop waits)."""
        url = self.engine.url
        engine_kwargs = create_engine_kwargs(url)
        if url.get_backend_name() == "postgresql":
            engine_kwargs["connect_args"] = {**engine_kwargs.get("connect_args", {}), "connect_timeout": 5}
        self.engine.dispose()
        self.engine = sa.create_engine(url, pool_pre_ping=True, hide_parameters=True, **engine_kwargs)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    def _mark_unread(self, sender_id: Text, unread: bool) -> None:
        self._unread.pop(sender_id, None)
        if unread:
            self._unread[sender_id] = None
            while len(self._unread) > _UNREAD_KEPT:
                self._unread.popitem(last=False)

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        try:
            tracker = await super().retrieve(sender_id)
        except Exception as error:
            self._mark_unread(sender_id, True)
            if not isinstance(error, DATABASE_DOWN):
                raise
            self.outage.failed(error)
            return None  # Rasa starts an empty conversation, as its fail-safe wrapper would
        self._mark_unread(sender_id, False)
        self.outage.recovered()
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        if asked_to_forget(tracker):
            try:
                self.delete_conversation(tracker.sender_id)
            except Exception as error:  # the channel tells the patient; nothing of theirs is logged
                log.error("could not delete a conversation at the user's request: %s", type(error).__name__)
                _record_forget_outcome(tracker.sender_id, False)
                if isinstance(error, DATABASE_DOWN):
                    self.outage.failed(error)
            else:
                _record_forget_outcome(tracker.sender_id, True)
                self.outage.recovered()
            return
        if tracker.sender_id in self._unread:
            return  # its stored conversation could not be read: this turn is not kept
        try:
            await super().save(tracker)
        except DATABASE_DOWN as error:
            self.outage.failed(error)
            return  # not kept anywhere (Rasa's wrapper would keep it in a memory store nobody reads)
        self.outage.recovered()
        if self._purge_timer is None and time.time() - self._last_purge > self.purge_interval:
            self.purge_expired()

    def delete_conversation(self, sender_id: Text) -> int:
        """Delete every event of ``sender_id``; raises if the rows or their traces could not be removed."""
        with self.session_scope() as session:
            deleted = session.query(self.SQLEvent).filter(self.SQLEvent.sender_id == sender_id).delete(synchronize_session=False)
            session.commit()
        self._checkpoint()
        log.info("deleted a conversation at the user's request (%d events)", deleted)
        return deleted

    def purge_expired(self, now: Optional[float] = None) -> int:
        """Delete every conversation whose latest event is older than the retention period, in batches."""
        now = time.time() if now is None else now
        self._last_purge = now
        purged = 0
        while True:
            batch = self._purge_batch(now - self.retention_days * 86400)
            purged += batch
            if batch < self.PURGE_BATCH:
                break
        if purged:
            self._checkpoint()
            log.info("retention: deleted %d conversations older than %d days", purged, self.retention_days)
        return purged

    def _purge_batch(self, cutoff: float) -> int:
        with self.session_scope() as session:
            expired: List[Text] = [
                row[0]
                for row in session.query(self.SQLEvent.sender_id)
                .group_by(self.SQLEvent.sender_id)
                .having(sa.func.max(self.SQLEvent.timestamp) < cutoff)
                .limit(self.PURGE_BATCH)
            ]
            if expired:
                session.query(self.SQLEvent).filter(self.SQLEvent.sender_id.in_(expired)).delete(synchronize_session=False)
            session.commit()
        return len(expired)

    def _schedule_purge(self) -> None:
        """Run the purge again in ``purge_interval`` seconds, on the server's event loop (none: on save)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._purge_timer = loop.call_later(self.purge_interval, self._purge_on_timer)

    def _purge_on_timer(self) -> None:
        try:
            self.purge_expired()
        except Exception as error:  # the next run tries again
            log.error("retention purge failed: %s", type(error).__name__)
        self._schedule_purge()

    def _checkpoint(self) -> None:
        """SQLite: copy the write-ahead log into the database and truncate it, so deleted words are
        not kept in the -wal file (the database's own pages are zeroed by secure_delete)."""
        if self.engine.dialect.name != "sqlite":
            return
        for _ in range(50):
            with self.engine.connect() as connection:
                busy = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            if not busy:
                return
            time.sleep(0.01)
        raise RuntimeError("the write-ahead log could not be checkpointed (database busy)")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # One commit per turn: WAL without an fsync per commit halves the per-turn time (make bench).
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Deleted rows are overwritten with zeros, not left in free pages.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def asked_to_forget(tracker: DialogueStateTracker) -> bool:
    """True when, after the user's latest message, the forget action set ``delete_conversation``
    (it does only when the patient clearly asked: otherwise it asks them to confirm first)."""
    for tracker_event in reversed(tracker.events):
        if isinstance(tracker_event, UserUttered):
            return False
        if isinstance(tracker_event, SlotSet) and tracker_event.key == FORGET_SLOT and tracker_event.value is True:
            return True
    return False
