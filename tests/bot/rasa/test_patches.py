"""The Rasa patches apply once, through the entry point, and only to the Rasa version they were written for."""
from __future__ import annotations

import pytest
import rasa
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from bot.rasa import patches


def test_the_action_response_check_uses_one_prebuilt_validator(monkeypatch):
    monkeypatch.setattr(patches, "_applied", False)
    monkeypatch.setattr(RemoteAction, "_validate_action_result", RemoteAction._validate_action_result)
    patches.apply_patches()
    assert RemoteAction._validate_action_result is patches._validate_action_result
    action = RemoteAction("action_answer", None)
    assert action._validate_action_result({"events": [], "responses": [{"text": "hi"}]})
    with pytest.raises(ValidationError):
        action._validate_action_result({"events": "not a list"})
    assert patches._action_response_validator() is patches._action_response_validator()


def test_another_rasa_version_is_not_patched(monkeypatch):
    original = RemoteAction._validate_action_result
    monkeypatch.setattr(patches, "_applied", False)
    monkeypatch.setattr(rasa, "__version__", "9.9.9")
    patches.apply_patches()
    assert RemoteAction._validate_action_result is original
