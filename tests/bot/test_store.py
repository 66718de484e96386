"""What the store says about the three real documents, and that every statement is grounded."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import ConditionPainLink, Document, Fact, Passage

DOCUMENTS = Path(__file__).resolve().parents[2] / "data" / "documents"

EXPECTED_CONDITIONS_FOR_PAIN = {
    "hip": {
        "rheumatoid arthritis",
        "systemic lupus erythematosus",
        "ankylosing spondylitis",
        "psoriatic arthritis",
        "juvenile idiopathic arthritis",
    },
    "bone": {"rheumatoid arthritis", "systemic lupus erythematosus", "ankylosing spondylitis", "psoriatic arthritis"},
    "muscle": {"fibromyalgia", "myositis"},
    "nerve": {"multiple sclerosis", "systemic lupus erythematosus"},
}


def pain(store, text):
    ref = store.resolve_pain_type(text)
    assert ref is not None, text
    return ref


def condition(store, text):
    ref = store.resolve_condition(text)
    assert ref is not None, text
    return ref


@pytest.mark.parametrize("key", sorted(EXPECTED_CONDITIONS_FOR_PAIN))
def test_conditions_for_pain_are_exactly_what_the_documents_say(corpus_store, key):
    found = {r.condition.name for r in corpus_store.conditions_for_pain(pain(corpus_store, key))}
    assert found == EXPECTED_CONDITIONS_FOR_PAIN[key]


@pytest.mark.parametrize("text", ["ear", "chest", "knee"])
def test_nothing_is_invented_for_pains_the_documents_do_not_link(corpus_store, text):
    assert corpus_store.conditions_for_pain(pain(corpus_store, text)) == []


@pytest.mark.parametrize("text", ["gout", "no such pain", "", "   "])
def test_words_that_name_no_pain_type_resolve_to_nothing(corpus_store, text):
    assert corpus_store.resolve_pain_type(text) is None


def test_queries_take_references_not_free_text(corpus_store):
    with pytest.raises(TypeError, match="resolve_pain_type"):
        corpus_store.conditions_for_pain("hip")
    with pytest.raises(TypeError, match="resolve_condition"):
        corpus_store.facts("treatment", condition="lupus")


def test_a_reference_has_a_stable_key(corpus_store):
    ref = condition(corpus_store, "Sjögren’s")
    assert (ref.key, ref.name) == ("sjogrens-syndrome", "sjogren's syndrome")
    assert condition(corpus_store, "SLE") == condition(corpus_store, "lupus")


def test_gout_is_recognised_but_has_no_statements(corpus_store):
    gout = condition(corpus_store, "gout")
    assert gout.group == "other"
    assert corpus_store.pains_for_condition(gout) == []
    assert corpus_store.facts(condition=gout) == []


def test_evidence_names_the_document_it_comes_from(corpus_store):
    jia = next(r for r in corpus_store.conditions_for_pain(pain(corpus_store, "hips")) if r.condition.name == "juvenile idiopathic arthritis")
    assert jia.evidence[0].document == "What autoimmune disease causes hip pain"
    assert "juvenile idiopathic arthritis" in jia.evidence[0].text.lower()


@pytest.mark.parametrize(
    "alias, canonical",
    [
        ("RA", "rheumatoid arthritis"),
        ("lupus", "systemic lupus erythematosus"),
        ("SLE", "systemic lupus erythematosus"),
        ("ms", "multiple sclerosis"),
        ("PsA", "psoriatic arthritis"),
        ("psoriasis arthritides", "psoriatic arthritis"),
        ("JIA", "juvenile idiopathic arthritis"),
        ("Sjögren’s syndrome", "sjogren's syndrome"),
        ("rhuematoid arthritis", "rheumatoid arthritis"),  # a typo
        ("vasculitides", "vasculitis"),
    ],
)
def test_condition_aliases_resolve_to_the_canonical_name(corpus_store, alias, canonical):
    assert corpus_store.resolve_condition(alias).name == canonical


@pytest.mark.parametrize("alias, key", [("hips", "hip"), ("lower back", "spine"), ("neck", "spine"), ("backache", "spine"), ("Bones", "bone")])
def test_pain_aliases_resolve(corpus_store, alias, key):
    assert corpus_store.resolve_pain_type(alias).key == key


def test_lupus_causes_the_pains_the_documents_name(corpus_store):
    pains = {r.pain_type.key for r in corpus_store.pains_for_condition(condition(corpus_store, "lupus"))}
    assert {"hip", "bone", "nerve"} <= pains
    assert "ear" not in pains and "muscle" not in pains


def test_link_evidence_for_a_yes_no_question(corpus_store):
    evidence = corpus_store.link_evidence(condition(corpus_store, "SLE"), pain(corpus_store, "bone"))
    assert evidence and any("bone" in e.text.lower() for e in evidence)
    assert corpus_store.link_evidence(condition(corpus_store, "fibromyalgia"), pain(corpus_store, "hip")) == ()


def test_treatment_facts_quote_the_documents(corpus_store):
    texts = [f.evidence.text for f in corpus_store.facts("treatment", general=True)]
    assert any("disease-modifying antirheumatic drugs (DMARDs)" in t for t in texts)
    assert any("laser therapy" in t for t in texts)


def test_definitions_are_about_the_condition_they_define(corpus_store):
    facts = corpus_store.facts("what_is", condition=condition(corpus_store, "ankylosing spondylitis"))
    assert facts and facts[0].evidence.text.startswith("Ankylosing spondylitis (AS) is a chronic inflammatory disease")
    general = corpus_store.facts("what_is", general=True)
    assert any(f.evidence.text.startswith("Autoimmune diseases are") for f in general)


def test_stress_and_diagnosis_difficulty_come_from_their_sections(corpus_store):
    stress = [f.evidence.text for f in corpus_store.facts("stress")]
    assert "Increase pain intensity and frequency of disease recurrence" in stress
    difficulty = [f.evidence for f in corpus_store.facts("diagnosis_difficulty")]
    assert any(e.text == "MRI and initial tests are normal" for e in difficulty)
    assert all(e.heading for e in difficulty if e.text == "MRI and initial tests are normal")


def test_when_to_see_a_doctor(corpus_store):
    texts = [f.evidence.text for f in corpus_store.facts("when_to_see_doctor")]
    assert any("consulting a healthcare professional" in t for t in texts)


def test_every_link_and_fact_reproduces_its_passage_from_the_document(corpus_store):
    with Session(corpus_store.engine) as session:
        documents = {d.id: d for d in session.scalars(select(Document))}
        passages = session.scalars(select(Passage)).all()
        assert passages
        for passage in passages:
            text = documents[passage.document_id].text
            assert text[passage.start_char : passage.end_char] == passage.text
        cited = [link.passage for link in session.scalars(select(ConditionPainLink))]
        cited += [fact.passage for fact in session.scalars(select(Fact))]
        assert len(cited) > 100
        for passage in cited:
            raw = (DOCUMENTS / passage.document.path).read_text(encoding="utf-8")
            assert raw[passage.start_char : passage.end_char] == passage.text


def test_documents_keep_title_and_dates(corpus_store):
    documents = {d["path"]: d for d in corpus_store.documents()}
    persian = documents["003_134a9314bee0666d.txt"]
    assert persian["title"] == "Pain caused by autoimmune diseases; when the immune system attacks the body"
    assert (persian["release_date"], persian["updated_date"]) == ("2025-12-15", "2025-12-16")
    assert documents["004_e1ae89b599413ceb.txt"]["title"] == "What autoimmune disease causes hip pain"


def test_known_conditions_and_pains_for_the_menu(corpus_store):
    conditions = [c.name for c in corpus_store.conditions_with_information()]
    assert {"rheumatoid arthritis", "fibromyalgia", "multiple sclerosis"} <= set(conditions)
    assert "gout" not in conditions and "autoimmune disease" not in conditions
    pains = [p.key for p in corpus_store.pain_types_with_information()]
    assert {"hip", "bone", "joint", "muscle", "nerve"} <= set(pains)
    assert "ear" not in pains


@pytest.mark.parametrize("text, canonical", [("AUTOIMMUNE DISEASES EXACTLY", "autoimmune disease"), ("my lupus flare", "systemic lupus erythematosus")])
def test_a_known_term_inside_longer_text_resolves(corpus_store, text, canonical):
    assert corpus_store.resolve_condition(text).name == canonical


def test_unrelated_text_does_not_resolve(corpus_store):
    assert corpus_store.resolve_condition("diabetes") is None
    assert corpus_store.resolve_pain_type("burning") is None


JUMPERS_KNEE = """Knee pain in jumpers
Jumping sports can strain the tendon below the kneecap, which becomes thick and sore, known as jumper's knee.
"""


def test_a_site_word_inside_a_term_a_document_explains_is_not_a_site(scratch_corpus, sqlite_engine):
    from bot.ingest import build_store
    from bot.store import ConditionStore

    (scratch_corpus / "041_jumpers.txt").write_text(JUMPERS_KNEE, encoding="utf-8")
    build_store(scratch_corpus, engine=sqlite_engine, use_lexicon=False)
    store = ConditionStore(sqlite_engine)
    assert store.term_evidence(store.resolve_term("jumper's knee"))[0].defines
    assert store.names_in("What does jumper's knee mean?") == ([], [])
    assert [p.key for _, p in store.names_in("Can lupus cause knee pain?")[1]] == ["knee"]
    assert [c.name for _, c in store.names_in("Does rheumatoid arthritis cause it?")[0]] == ["rheumatoid arthritis"]
