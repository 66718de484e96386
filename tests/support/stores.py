"""Stores for tests: built from a documents folder into in-memory SQLite (the ingestion pipeline and
spaCy stay out of the read API, bot.store)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from sqlalchemy import create_engine
from sqlalchemy.pool import StaticPool

from bot.db import create_schema
from bot.ingest import build_store
from bot.store import ConditionStore


def in_memory_store(documents_dir: Optional[Path] = None, **build_options) -> ConditionStore:
    """A store built into in-memory SQLite from a documents folder (default: data/documents)."""
    engine = create_engine("sqlite://", future=True, poolclass=StaticPool, connect_args={"check_same_thread": False})
    create_schema(engine)
    build_store(documents_dir, engine=engine, **build_options)
    return ConditionStore(engine)
