"""Where things are, read from the environment on each call (never at import time)."""
from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def database_url() -> str:
    """The condition store's database: ``DATABASE_URL``, else a SQLite file under ``var/``."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        return url
    path = PROJECT_ROOT / "var" / "condition_store.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def documents_dir() -> Path:
    return Path(os.environ.get("DOCUMENTS_DIR", PROJECT_ROOT / "data" / "documents"))


def vocabulary_path() -> Path:
    return Path(os.environ.get("VOCABULARY_PATH", PROJECT_ROOT / "data" / "vocabulary.yml"))


def fact_rules_path() -> Path:
    return Path(os.environ.get("FACT_RULES_PATH", PROJECT_ROOT / "data" / "fact_rules.yml"))


def clinic_config_path() -> Path:
    return Path(os.environ.get("CLINIC_CONFIG", PROJECT_ROOT / "config" / "clinic.yml"))


def safety_data_dir() -> Path:
    """The safety screen's pattern files (red flags, urgent, restricted requests): ``SAFETY_DATA_DIR``."""
    return Path(os.environ.get("SAFETY_DATA_DIR") or PROJECT_ROOT / "data" / "safety")


def database_connect_timeout() -> float:
    """Seconds a server database (PostgreSQL, ...) has to answer when the condition store starts."""
    return float(os.environ.get("DATABASE_CONNECT_TIMEOUT", "10"))


def tracker_db_connect_timeout() -> float:
    """Seconds the tracker store's database has to answer when the Rasa server starts."""
    return float(os.environ.get("TRACKER_DB_CONNECT_TIMEOUT", "30"))


def secrets_dir() -> Path:
    """Where generated secrets live (mode 0600 files): ``SECRETS_DIR``, else ``var/secrets``."""
    return Path(os.environ.get("SECRETS_DIR", PROJECT_ROOT / "var" / "secrets"))


def rest_channel_token() -> str | None:
    """The REST channel's token: ``REST_CHANNEL_TOKEN``, else the file ``rest-token`` in the secrets
    folder (scripts/serve.sh generates it); None when neither exists."""
    token = os.environ.get("REST_CHANNEL_TOKEN", "").strip()
    if token:
        return token
    path = secrets_dir() / "rest-token"
    try:
        return path.read_text().strip() or None
    except OSError:
        return None


def sender_rate_limit() -> tuple[int, float]:
    """Per-sender message limit of every chat channel: (burst, messages per minute after it),
    from ``SENDER_RATE_BURST`` (default 15) and ``SENDER_RATE_PER_MINUTE`` (default 30)."""
    return int(os.environ.get("SENDER_RATE_BURST", "15")), float(os.environ.get("SENDER_RATE_PER_MINUTE", "30"))


def retention_purge_interval() -> float:
    """Seconds between two runs of the tracker store's retention purge (``RETENTION_PURGE_INTERVAL``, 1 h)."""
    return float(os.environ.get("RETENTION_PURGE_INTERVAL", "3600"))


def rasa_endpoints_path() -> Path:
    """The endpoints file the Rasa server reads (the staff report finds the tracker store in it):
    ``RASA_ENDPOINTS``, else endpoints.yml (scripts/serve.sh uses the same)."""
    return Path(os.environ.get("RASA_ENDPOINTS") or PROJECT_ROOT / "endpoints.yml")


def tracker_db_override() -> str | None:
    """``TRACKER_DB``: another SQLite file for the conversations than endpoints.yml names (scripts/serve.sh)."""
    return os.environ.get("TRACKER_DB", "").strip() or None
