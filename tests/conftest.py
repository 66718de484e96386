"""Shared fixtures: the real corpus built once into in-memory SQLite, and scratch corpora."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = PROJECT_ROOT / "data" / "documents"


@pytest.fixture(scope="session")
def corpus_store():
    """The condition store built from data/documents into in-memory SQLite (once per test run)."""
    from tests.support.stores import in_memory_store

    return in_memory_store(DOCUMENTS)


@pytest.fixture
def scratch_corpus(tmp_path: Path) -> Path:
    """A writable copy of the real documents folder."""
    folder = tmp_path / "documents"
    shutil.copytree(DOCUMENTS, folder)
    return folder


@pytest.fixture
def sqlite_engine(tmp_path: Path):
    """A file-backed SQLite engine (so a failed transaction can be checked from a new connection)."""
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{tmp_path / 'store.db'}", future=True)
    yield engine
    engine.dispose()
