"""`make bench` what-if: the two speed fixes recommended to the lead, applied from outside the project.

Loaded only by the "ours + fixes" servers of the benchmark (PYTHONPATH=bench/whatif); the project's own
code is unchanged. What it changes, in every Python process that starts with it:

1. jsonschema.validate caches one validator per schema. Rasa 3.6 validates every action-server
   response with jsonschema.validate(), which re-checks the whole event schema against its
   meta-schema on every call (bot/rasa_adapters.py could instead patch
   rasa.core.actions.action.RemoteAction._validate_action_result with a validator built once).
2. SQLite connections use WAL and synchronous=NORMAL, so the tracker store's commit per turn no
   longer waits for an fsync (PrivateSQLTrackerStore could set these PRAGMAs on connect).
"""
import json
import sqlite3

import jsonschema
from sqlalchemy import event
from sqlalchemy.engine import Engine

_validators = {}
_original_validate = jsonschema.validate


def _cached_validate(instance, schema, cls=None, *args, **kwargs):
    key = json.dumps(schema, sort_keys=True, default=str)
    validator = _validators.get(key)
    if validator is None:
        klass = cls or jsonschema.validators.validator_for(schema)
        klass.check_schema(schema)
        validator = _validators[key] = klass(schema, *args, **kwargs)
    error = jsonschema.exceptions.best_match(validator.iter_errors(instance))
    if error is not None:
        raise error


jsonschema.validate = _cached_validate


@event.listens_for(Engine, "connect")
def _sqlite_wal(dbapi_connection, _record):
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
