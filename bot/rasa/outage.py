"""One log line when a service the Rasa server needs (the tracker database, Redis) stops answering,
and one when it answers again: not one per message, and never a patient's words (types and counts)."""
from __future__ import annotations

import logging
import time
from typing import Optional

log = logging.getLogger(__name__)


class Outage:
    """The state of one service as this process last found it (one event loop: no locking needed).

    ``failed`` is called on every call that found the service unreachable, ``recovered`` on every
    call that succeeded; each logs only when the state changes.
    """

    def __init__(self, service: str, consequence: str) -> None:
        self.service = service
        self.consequence = consequence
        self.since: Optional[float] = None
        self.failures = 0

    @property
    def ongoing(self) -> bool:
        return self.since is not None

    def failed(self, error: BaseException) -> None:
        self.failures += 1
        if self.since is None:
            self.since = time.monotonic()
            log.error("%s unreachable (%s): %s", self.service, type(error).__name__, self.consequence)

    def recovered(self) -> None:
        if self.since is None:
            return
        log.warning("%s reachable again after %.1f s (%d calls failed meanwhile)", self.service,
                    time.monotonic() - self.since, self.failures)
        self.since = None
        self.failures = 0
