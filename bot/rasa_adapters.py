"""The only place where bot/ meets Rasa: a custom NLU component and a tracker store that forgets.

SafetyIntentOverride runs the rule-based safety screen (bot.safety, patterns in data/safety/) on
every message inside the NLU pipeline, after the intent classifier and before the fallback
classifier. A red flag overrides whatever the classifier said, in any turn, so emergency advice
wins over every FAQ intent; requests for a diagnosis, a dose or a medicine change do the same.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Dict, List, Optional, Text

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

log = logging.getLogger(__name__)

# What the safety screen found -> the intent the dialogue answers it with (see data/stories/rules.yml).
FINDING_INTENTS = {
    "emergency": "emergency",
    "diagnosis_request": "request_diagnosis",
    "dose_request": "request_dose",
    "medication_change": "request_medication_change",
}


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class SafetyIntentOverride(GraphComponent):
    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SafetyIntentOverride":
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        from bot.safety import default_screen

        screen = default_screen()
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or not text.strip() or text.startswith("/"):
                continue  # button payloads ("/intent{...}") are already exact intents
            finding = screen.screen(text)
            if finding is None:
                continue
            override = FINDING_INTENTS[finding.kind]
            # Category only, never the patient's words: logs must not hold patient text.
            log.info("safety override: %s (%s)", override, finding.category)
            intent = {INTENT_NAME_KEY: override, PREDICTED_CONFIDENCE_KEY: 1.0}
            ranking = [intent] + [i for i in (message.get("intent_ranking") or []) if i.get(INTENT_NAME_KEY) != override]
            message.set(INTENT, intent, add_to_output=True)
            message.set("intent_ranking", ranking, add_to_output=True)
        return messages


class PrivateSQLTrackerStore(SQLTrackerStore):
    """Rasa's SQL tracker store, plus forgetting.

    * A conversation in which the user asked to be forgotten (``action_forget_conversation`` ran
      after their latest message) is deleted instead of saved.
    * Conversations whose latest event is older than ``retention_days`` (default: config/clinic.yml)
      are deleted at start-up and then at most once an hour.
    """

    PURGE_INTERVAL_S = 3600.0

    def __init__(self, domain: Optional[Domain] = None, retention_days: Optional[int] = None, **kwargs: Any) -> None:
        # Rasa's SQLTrackerStore retries an unreachable database every 5 s forever; fail fast instead.
        self._wait_for_database(kwargs)
        super().__init__(domain=domain, **kwargs)
        if retention_days is None:
            from bot.clinic import default_clinic_config

            retention_days = default_clinic_config().retention_days
        self.retention_days = int(retention_days)
        self._last_purge = 0.0
        self.purge_expired()

    class Unavailable(RuntimeError):
        """The tracker store's database could not be reached within the start-up wait."""

    def _wait_for_database(self, kwargs: Dict[Text, Any]) -> None:
        """Connect once within ``TRACKER_DB_CONNECT_TIMEOUT`` seconds (default 30), retrying every
        second; otherwise log one clear error and raise, so the server stops instead of looping."""
        import os

        from rasa.utils.endpoints import validate_port

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
        timeout = float(os.environ.get("TRACKER_DB_CONNECT_TIMEOUT", "30"))
        connect_args = {"connect_timeout": 5} if url.get_backend_name() == "postgresql" else {}
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool, connect_args=connect_args)
        deadline = time.monotonic() + timeout
        try:
            while True:
                try:
                    with engine.connect():
                        return
                except sa.exc.SQLAlchemyError as error:
                    if time.monotonic() >= deadline:
                        reason = (str(getattr(error, "orig", None) or error).strip().splitlines() or ["?"])[0]
                        message = (
                            f"tracker store database {url.render_as_string(hide_password=True)} unreachable "
                            f"after {timeout:.0f} s: {reason}. Check TRACKER_DB_HOST, TRACKER_DB_PORT, "
                            "TRACKER_DB_NAME, TRACKER_DB_USER, TRACKER_DB_PASSWORD (the tracker_store section "
                            "of the endpoints file) and that the database server is running."
                        )
                        log.error(message)
                        raise PrivateSQLTrackerStore.Unavailable(message) from None
                    log.warning("tracker store database not reachable yet; retrying for %.0f s more", deadline - time.monotonic())
                    time.sleep(1.0)
        finally:
            engine.dispose()

    async def save(self, tracker: DialogueStateTracker) -> None:
        if _asked_to_forget(tracker):
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
            deleted = 0
            if expired:
                deleted = (
                    session.query(self.SQLEvent).filter(self.SQLEvent.sender_id.in_(expired)).delete(synchronize_session=False)
                )
            session.commit()
        if expired:
            log.info("retention: deleted %d conversations older than %d days", len(expired), self.retention_days)
        return len(expired)


def _asked_to_forget(tracker: DialogueStateTracker) -> bool:
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return False
        if isinstance(event, ActionExecuted) and event.action_name == "action_forget_conversation":
            return True
    return False
