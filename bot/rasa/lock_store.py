"""Rasa's Redis lock store, which keeps the bot answering while Redis is away
(deploy/endpoints.scaled.yml: ``type: bot.rasa.lock_store.FailSafeRedisLockStore``)."""
from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any, AsyncGenerator, Optional, Text, Tuple

import redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from bot.rasa.outage import Outage

# What a Redis that stopped answering raises (refused, closed, loading its data, timed out).
REDIS_DOWN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, redis.exceptions.BusyLoadingError)


class FailSafeRedisLockStore(RedisLockStore):
    """Rasa's Redis lock store: one message of a conversation at a time across every Rasa server.

    Rasa 3.6.21 raises when Redis does not answer, so every message fails (HTTP 500) until Redis is
    back. Here a message that cannot get its lock from Redis takes one from this server's own memory
    instead: the conversation's messages still wait for each other on this server, not across
    servers, until Redis answers again. The outage is logged once, and when it is over. A message
    that got its lock from Redis and finds Redis gone when it lets go of it is answered all the same
    (Rasa's lock expires on its own, after ``LOCK_LIFETIME``).
    """

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, **kwargs: Any) -> None:
        if endpoint_config is not None:  # how Rasa builds a lock store named by its module path
            kwargs = {"host": endpoint_config.url or "localhost", **endpoint_config.kwargs, **kwargs}
        super().__init__(**kwargs)
        self.local = InMemoryLockStore()
        self.outage = Outage("lock store (Redis)", "each Rasa server orders a conversation's messages on its own")

    @asynccontextmanager
    async def lock(
        self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME, wait_time_in_seconds: float = 1
    ) -> AsyncGenerator[TicketLock, None]:
        held = await self._lock_in_redis(conversation_id, lock_lifetime, wait_time_in_seconds)
        if held is None:
            async with self.local.lock(conversation_id, lock_lifetime, wait_time_in_seconds) as lock:
                yield lock
            return
        lock, ticket = held
        try:
            yield lock
        finally:
            try:
                self.cleanup(conversation_id, ticket)
            except REDIS_DOWN as error:
                self.outage.failed(error)

    async def _lock_in_redis(
        self, conversation_id: Text, lock_lifetime: float, wait_time_in_seconds: float
    ) -> Optional[Tuple[TicketLock, int]]:
        """The lock and its ticket from Redis, or None when Redis does not answer."""
        try:
            ticket = self.issue_ticket(conversation_id, lock_lifetime)
            lock = await self._acquire_lock(conversation_id, ticket, wait_time_in_seconds)
        except LockError as error:  # Rasa wraps what Redis raised while issuing the ticket
            if not isinstance(error.__context__, REDIS_DOWN):
                raise
            self.outage.failed(error.__context__)
            return None
        except REDIS_DOWN as error:
            self.outage.failed(error)
            return None
        self.outage.recovered()
        return lock, ticket
