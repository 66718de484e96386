"""Whose statement a sentence is: the paragraph's subject, not a condition named only to describe people."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.stores import in_memory_store

KNEE_DOCUMENT = """Knee pain in inflammatory arthritis
Knee pain in inflammatory arthritis Reactive arthritis is a joint condition that can follow an infection. It is seen more often in patients with inflammatory bowel disease and commonly causes knee pain.
Psoriatic arthritis (PsA) is a form of inflammatory arthritis. This type of arthritis occurs in people with psoriasis and often causes knee pain and swelling.
Hip pain is common in people with lupus.
"""


@pytest.fixture(scope="module")
def knee_store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("documents")
    (folder / "knee.txt").write_text(KNEE_DOCUMENT, encoding="utf-8")
    return in_memory_store(Path(folder))


def names(results) -> set:
    return {r.condition.name for r in results}


def test_a_condition_describing_people_inside_a_paragraph_about_another_is_not_its_subject(knee_store):
    knee = knee_store.resolve_pain_type("knee")
    assert names(knee_store.conditions_for_pain(knee)) == {"reactive arthritis", "psoriatic arthritis"}
    for bystander in ("psoriasis", "inflammatory bowel disease"):
        ref = knee_store.resolve_condition(bystander)
        assert knee_store.pains_for_condition(ref) == [] and knee_store.facts(condition=ref) == [], bystander


def test_the_same_words_at_the_start_of_a_paragraph_name_its_subject(knee_store):
    hip = knee_store.resolve_pain_type("hip")
    assert names(knee_store.conditions_for_pain(hip)) == {"systemic lupus erythematosus"}


def test_this_type_of_arthritis_defines_the_paragraphs_subject(knee_store):
    facts = knee_store.facts("what_is", condition=knee_store.resolve_condition("PsA"))
    texts = [f.evidence.text for f in facts]
    assert texts[0] == "Psoriatic arthritis (PsA) is a form of inflammatory arthritis."  # naming it ranks first
    assert any(t.startswith("This type of arthritis occurs in people with psoriasis") for t in texts)


def test_psoriatic_arthritis_gets_its_what_is_passage_and_psoriasis_nothing(corpus_store):
    psa = corpus_store.resolve_condition("psoriatic arthritis")
    texts = [f.evidence.text for f in corpus_store.facts("what_is", condition=psa)]
    assert any(t.startswith("This type of arthritis occurs in some individuals with psoriasis") for t in texts)
    psoriasis = corpus_store.resolve_condition("psoriasis")
    assert corpus_store.pains_for_condition(psoriasis) == []
    assert corpus_store.facts(condition=psoriasis) == []
