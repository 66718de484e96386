"""The vocabulary file: validated, unambiguous, and exported to Rasa's lookup tables and synonyms."""
from __future__ import annotations

import pytest

from bot.vocabulary import VocabularyError, load_vocabulary, nlu_training_data, normalize, parse_vocabulary


def test_the_project_vocabulary_loads_and_covers_the_required_terms():
    vocabulary = load_vocabulary()
    names = {c.name for c in vocabulary.conditions}
    assert {"rheumatoid arthritis", "systemic lupus erythematosus", "ankylosing spondylitis", "psoriatic arthritis",
            "juvenile idiopathic arthritis", "fibromyalgia", "multiple sclerosis", "myositis", "vasculitis",
            "sjogren's syndrome", "scleroderma", "reactive arthritis", "polymyalgia rheumatica"} <= names
    keys = {p.key for p in vocabulary.pain_types}
    assert {"bone", "hip", "joint", "muscle", "nerve", "spine", "knee", "hand", "foot", "jaw", "shoulder"} <= keys


def test_a_spelling_that_names_two_things_is_rejected():
    with pytest.raises(VocabularyError, match="names both"):
        parse_vocabulary({"conditions": [{"name": "a", "aliases": ["x"]}, {"name": "b", "aliases": ["X"]}]})


def test_bad_structure_is_rejected_with_where():
    with pytest.raises(VocabularyError, match=r"conditions\[0\]"):
        parse_vocabulary({"conditions": [{"aliases": ["x"]}]})


def test_nlu_export_maps_every_spelling_to_the_entity_value():
    data = nlu_training_data(load_vocabulary())
    synonyms = {item["synonym"]: item["examples"] for item in data["nlu"] if "synonym" in item}
    assert "- RA\n" in synonyms["rheumatoid arthritis"]
    assert "- lupus\n" in synonyms["systemic lupus erythematosus"]
    assert "- hips\n" in synonyms["hip"]
    lookups = {item["lookup"]: item["examples"] for item in data["nlu"] if "lookup" in item}
    assert "- fibromyalgia\n" in lookups["condition"] and "- lower back\n" in lookups["pain_type"]


def test_normalize_unifies_case_accents_and_apostrophes():
    assert normalize("Sjögren’s  Syndrome") == normalize("sjogren's syndrome") == "sjogrens syndrome"
