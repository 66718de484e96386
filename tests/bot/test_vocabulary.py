"""The vocabulary file: validated, unambiguous, and exported to Rasa's lookup tables and synonyms."""
from __future__ import annotations

import pytest

from bot.vocabulary import LearnedName, VocabularyError, load_vocabulary, nlu_training_data, normalize, parse_vocabulary, with_learned


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


def _synonyms(vocabulary) -> dict:
    data = nlu_training_data(vocabulary)["nlu"]
    return {item["synonym"]: item["examples"].splitlines() for item in data if "synonym" in item}


def test_a_learned_body_site_is_never_another_name_of_a_learned_condition():
    learned = [LearnedName("condition", "aphthous ulcers", "aphthous ulcers"), LearnedName("condition", "aphthous ulcers", "mouth"),
               LearnedName("site", "mouth", "mouth", how="pain phrase")]
    vocabulary = with_learned(load_vocabulary(), learned)
    ulcers = next(c for c in vocabulary.conditions if c.name == "aphthous ulcers")
    assert "mouth" not in ulcers.spellings() and "mouths" not in ulcers.spellings()
    mouth = next(p for p in vocabulary.pain_types if p.key == "mouth")
    assert "mouths" in mouth.spellings()
    synonyms = _synonyms(vocabulary)
    assert "- mouths" in synonyms["mouth"] and "- mouth" not in synonyms.get("aphthous ulcers", [])


def test_a_learned_name_never_duplicates_a_vocabulary_condition():
    learned = [LearnedName("condition", "reactive arthritis", "post-infectious arthritis")]
    vocabulary = with_learned(load_vocabulary(), learned)
    assert [c.name for c in vocabulary.conditions].count("reactive arthritis") == 1
