"""Fixes to Rasa Open Source itself, applied once at start-up by ``python -m bot.rasa``.

Each patch names the Rasa bug or limit it works around and the version it was written for;
``apply_patches`` refuses to patch another Rasa version silently (it logs and skips instead).
"""
from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any, Dict, Text

log = logging.getLogger(__name__)

PATCHED_RASA_VERSION = "3.6.21"


@lru_cache(maxsize=1)
def _action_response_validator() -> Any:
    import jsonschema
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def _validate_action_result(self: Any, result: Dict[Text, Any]) -> bool:
    """Rasa 3.6.21 calls ``jsonschema.validate`` per action response, re-checking the schema against
    its meta-schema every time (half the server's time per turn in ``make bench``): build it once."""
    from jsonschema import ValidationError

    try:
        _action_response_validator().validate(result)
        return True
    except ValidationError as error:
        error.message += ". Failed to validate Action server response from API."
        raise error


def patch_action_response_validation() -> None:
    from rasa.core.actions.action import RemoteAction

    RemoteAction._validate_action_result = _validate_action_result


_PATCHES = (patch_action_response_validation,)
_applied = False


def apply_patches() -> None:
    """Apply every patch once (idempotent)."""
    global _applied
    if _applied:
        return
    import rasa

    if rasa.__version__ != PATCHED_RASA_VERSION:
        log.warning("Rasa %s is not %s: its patches are not applied", rasa.__version__, PATCHED_RASA_VERSION)
        return
    for patch in _PATCHES:
        patch()
    _applied = True
