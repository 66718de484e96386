"""Rasa's own checks on our data and model: validation, test stories, held-out NLU.

The model is trained once per test run by `make test` (models/clinic-assistant.tar.gz; Rasa's
fingerprinting skips training when nothing changed), never by a test.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
RASA = [str(ROOT / ".venv" / "bin" / "python"), "-m", "bot.rasa"]
MODEL = ROOT / "models" / "clinic-assistant.tar.gz"
ENV = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3"}

# Floors that catch a broken model; the targets (>= 95%) are tracked by `make bench`.
MIN_INTENT_ACCURACY = 0.85
MIN_ENTITY_F1 = 0.90


def rasa(*args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run([*RASA, *args], cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module", autouse=True)
def trained_model():
    assert MODEL.exists(), "run `make train` (make test does it first)"


def test_training_data_and_domain_validate_without_warnings():
    result = rasa("data", "validate", "--fail-on-warnings")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_stories_pass_with_no_prediction_errors(tmp_path):
    result = rasa("test", "core", "--stories", "tests/test_stories.yml", "--model", str(MODEL), "--fail-on-prediction-errors", "--out", str(tmp_path))
    assert result.returncode == 0, (tmp_path / "failed_test_stories.yml").read_text() if (tmp_path / "failed_test_stories.yml").exists() else result.stderr[-3000:]


def test_held_out_nlu_questions(tmp_path):
    result = rasa("test", "nlu", "--nlu", "tests/test_nlu.yml", "--model", str(MODEL), "--out", str(tmp_path), "--no-plot")
    assert result.returncode == 0, result.stderr[-3000:]
    intents = json.loads((tmp_path / "intent_report.json").read_text())
    assert intents["accuracy"] >= MIN_INTENT_ACCURACY, f"intent accuracy {intents['accuracy']:.3f}"
    entities = json.loads((tmp_path / "DIETClassifier_report.json").read_text())
    for entity in ("condition", "pain_type"):
        assert entities[entity]["f1-score"] >= MIN_ENTITY_F1, f"{entity} F1 {entities[entity]['f1-score']:.3f}"


def test_generated_lookup_tables_cover_the_vocabulary_and_what_the_documents_taught_the_store():
    from bot.store import default_store
    from bot.vocabulary import load_vocabulary, nlu_training_data, with_learned

    generated = yaml.safe_load((ROOT / "data" / "nlu" / "vocabulary_generated.yml").read_text(encoding="utf-8"))
    expected = nlu_training_data(with_learned(load_vocabulary(), default_store().learned_names()))
    assert generated["nlu"] == expected["nlu"], "run `make nlu-vocab`"


def test_the_eager_model_build_predicts_exactly_as_rasas_own_load(monkeypatch):
    """bot/rasa/patches.py builds a loaded DIET with one eager step instead of Rasa's traced one."""
    import asyncio

    from rasa.core.agent import Agent
    from rasa.utils.tensorflow.models import RasaModel

    from bot.rasa import patches

    questions = [example["text"] for example in _held_out_examples()[::6]]

    def predictions() -> list:
        agent = Agent.load(str(MODEL))

        async def parse_all() -> list:
            return [await agent.parse_message(text) for text in questions]

        return [(p["intent"]["name"], round(p["intent"]["confidence"], 4), [e["value"] for e in p["entities"]])
                for p in asyncio.run(parse_all())]

    monkeypatch.setattr(RasaModel, "load", RasaModel.__dict__["load"])
    rasas_own = predictions()
    monkeypatch.setattr(patches, "_applied", False)
    monkeypatch.setattr(patches, "_PATCHES", (patches.patch_model_load,))
    patches.apply_patches()
    assert RasaModel.load.__func__.__module__ == patches.__name__
    assert len(questions) > 40 and predictions() == rasas_own


def _held_out_examples() -> list:
    from rasa.shared.nlu.training_data.loading import load_data

    return [message.data for message in load_data(str(ROOT / "tests" / "test_nlu.yml")).intent_examples]
