"""The term index (issue 11): terms the documents explain or use, learned when the store is built,
with the passages that define them ranked above those that only mention them."""
from __future__ import annotations

from pathlib import Path

import pytest

from bot.documents import parse_text
from bot.extraction import Extractor, load_fact_rules
from bot.ingest import build_store
from bot.store import ConditionStore
from bot.vocabulary import load_vocabulary

# What the three real documents explain or use, and words of the passage that should come first.
TERMS = {
    "DMARDs": "disease-modifying antirheumatic drugs (DMARDs)",
    "entheses": "the sites where ligaments and tendons attach to bone",
    "biologics": "biologics",
    "sacroiliac joints": "sacroiliac joints",
    "osteoporosis": "osteoporosis",
    "psychosomatic pain": "psychosomatic pain",
    "autoantibodies": "autoantibodies",
    "MRI": "MRI",
    "corticosteroids": "corticosteroids",
}


@pytest.mark.parametrize("name", sorted(TERMS))
def test_the_terms_the_documents_use_are_known_with_their_passages(corpus_store, name):
    term = corpus_store.resolve_term(name)
    assert term is not None, name
    evidence = corpus_store.term_evidence(term)
    assert evidence and TERMS[name] in evidence[0].text
    assert all(e.document and e.text for e in evidence)


def test_a_defining_passage_comes_before_a_mention(corpus_store):
    entheses = corpus_store.term_evidence(corpus_store.resolve_term("entheses"))
    assert entheses[0].defines and not entheses[-1].defines
    assert entheses[0].text.startswith("The inflammatory process in AS involves the entheses—the sites where")
    assert "inflammation of the joints and entheses" in entheses[-1].text
    dmards = corpus_store.term_evidence(corpus_store.resolve_term("dmards"))
    assert [e.defines for e in dmards] == [True, True]  # both documents spell the abbreviation out


@pytest.mark.parametrize(
    "asked, name",
    [
        ("enthesis", "entheses"),  # the singular of the documents' plural
        ("the entheses", "entheses"),
        ("DMARD", "DMARDs"),
        ("disease modifying antirheumatic drugs", "DMARDs"),
        ("autoantibodys", "autoantibodies"),  # a near miss of a long word
        ("Sacroiliac joint", "sacroiliac joints"),
        ("AS", "ankylosing spondylitis"),
    ],
)
def test_a_term_resolves_from_its_other_spellings(corpus_store, asked, name):
    assert corpus_store.resolve_term(asked) == corpus_store.resolve_term(name)


@pytest.mark.parametrize("text", ["as", "MRA", "biology", "hip", "pain", "", "tendonitis"])
def test_words_that_are_not_a_known_term_do_not_resolve(corpus_store, text):
    assert corpus_store.resolve_term(text) is None


def test_a_known_condition_is_a_term_linked_to_it(corpus_store):
    term = corpus_store.resolve_term("lupus")
    condition = corpus_store.resolve_condition("lupus")
    assert (term.kind, term.condition, term.name) == ("condition", condition.key, condition.name)


def test_terms_in_a_message_longest_first(corpus_store):
    found = corpus_store.terms_in("Two questions: what are DMARDs, and why do my sacroiliac joints ache as much as they do?")
    assert [t.name for t in found][:2] == ["sacroiliac joints", corpus_store.resolve_term("DMARDs").name]
    assert corpus_store.resolve_term("AS") not in found  # "as" is a word, "AS" the abbreviation
    assert corpus_store.resolve_term("AS") in corpus_store.terms_in("I was told I have AS")
    assert corpus_store.terms_in("hello there, how are you") == []


def test_queries_take_a_term_reference(corpus_store):
    with pytest.raises(TypeError, match="TermRef"):
        corpus_store.term_evidence("entheses")


# -- the rules, one passage at a time (no lexicon, so only the documents' own words count) -----------
@pytest.fixture(scope="module")
def extractor() -> Extractor:
    return Extractor(load_vocabulary(), load_fact_rules(), lexicon=None)


def found_in(extractor: Extractor, sentence: str) -> dict:
    parsed = parse_text("Title\n" + sentence + "\n", "t.txt", "0")
    return {t.surface: t for p in extractor.extract(parsed) for t in p.terms}


@pytest.mark.parametrize(
    "sentence, surface, spellings, rule",
    [
        ("Treatment may include tumour necrosis factor inhibitors (TNFi) for some people.",
         "tumour necrosis factor inhibitors", ("TNFi",), "abbreviation"),
        ("The pain comes from the bursae—the small fluid-filled sacs that cushion the joint—near the heel.",
         "bursae", (), "definition"),
        ("Swelling of the plantar fascia, a thick band of tissue that runs under the foot, is common.",
         "plantar fascia", (), "definition"),
        ("Chondromalacia is a softening of the cartilage under the kneecap.", "Chondromalacia", (), "definition"),
        ("The condition, also known as jumper's knee, affects the tendon below the kneecap.",
         "jumper's knee", (), "definition"),
        ("Doctors may order a test called ultrasonography to look at the tendon.", "ultrasonography", (), "definition"),
        ("It is also known as a popliteal cyst.", "popliteal cyst", (), "definition"),  # an article after the cue
        ("It is sometimes called weaver's bottom, after the weavers who sat on benches.", "weaver's bottom", (), "definition"),
    ],
)
def test_definition_patterns(extractor, sentence, surface, spellings, rule):
    found = found_in(extractor, sentence)
    assert surface in found, found
    assert found[surface].rule == rule and found[surface].defines
    assert set(spellings) <= set(found[surface].spellings)


def test_a_body_site_before_a_naming_cue_is_not_another_name(extractor):
    found = found_in(extractor, "Pain at the front of the knee, known as patellofemoral pain syndrome, is common in runners.")
    assert found["patellofemoral pain syndrome"].spellings == ("patellofemoral pain syndrome",)
    other = found_in(extractor, "Inflammation of the sacroiliac joints, also known as sacroiliitis, causes back pain.")
    assert "sacroiliac joints" in other["sacroiliitis"].spellings  # a name before the cue still is one


def test_a_category_word_is_not_a_term_it_defines(extractor):
    assert "Treatment" not in found_in(extractor, "Treatment is with anti-inflammatory medicines and rest.")


def test_mentions_are_acronyms_and_words_shaped_like_terms(extractor):
    found = found_in(extractor, "An MRI of the spine showed tenosynovitis and sacroiliac inflammation in the affected patients.")
    assert {"MRI", "tenosynovitis", "sacroiliac inflammation"} <= set(found)
    assert all(not t.defines for t in found.values())
    assert "patients" not in found and "spine" not in found


def test_a_sentence_in_capitals_has_no_acronyms(extractor):
    assert "WHEN" not in found_in(extractor, "WHEN TO SEE A DOCTOR ABOUT YOUR PAIN.")


# -- a new document's terms, with no code change -----------------------------------------------------
HEEL = """Heel pain and the plantar fascia
Heel pain and the plantar fascia The plantar fascia—the thick band of tissue that runs from the heel bone to the toes—can become inflamed.
This inflammation is known as plantar fasciitis, and it often causes heel pain in the morning.
"""


def test_a_new_documents_terms_arrive_and_leave_with_it(scratch_corpus, sqlite_engine):
    build_store(scratch_corpus, engine=sqlite_engine, use_lexicon=False)
    assert ConditionStore(sqlite_engine).resolve_term("plantar fascia") is None
    (scratch_corpus / "020_heel.txt").write_text(HEEL, encoding="utf-8")
    build_store(scratch_corpus, engine=sqlite_engine, use_lexicon=False)
    store = ConditionStore(sqlite_engine)
    fascia = store.resolve_term("plantar fascia")
    assert fascia is not None and store.term_evidence(fascia)[0].defines
    assert store.term_evidence(fascia)[0].document == "Heel pain and the plantar fascia"
    fasciitis = store.resolve_term("plantar fasciitis")
    assert store.term_evidence(fasciitis)[0].text.startswith("This inflammation is known as plantar fasciitis")
    (scratch_corpus / "020_heel.txt").unlink()
    build_store(scratch_corpus, engine=sqlite_engine, use_lexicon=False)
    store = ConditionStore(sqlite_engine)
    assert store.resolve_term("plantar fascia") is None and store.resolve_term("plantar fasciitis") is None
    assert store.resolve_term("entheses") is not None


def test_an_incremental_build_names_terms_as_a_full_build_does(scratch_corpus, sqlite_engine, tmp_path):
    from tests.support.stores import in_memory_store

    build_store(scratch_corpus, engine=sqlite_engine, use_lexicon=False)
    (scratch_corpus / "020_heel.txt").write_text(HEEL, encoding="utf-8")
    build_store(scratch_corpus, engine=sqlite_engine, use_lexicon=False)
    full = in_memory_store(Path(scratch_corpus), use_lexicon=False)
    incremental = ConditionStore(sqlite_engine)
    for name in ("plantar fascia", "entheses", "DMARDs", "lupus", "MRI"):
        assert incremental.resolve_term(name) == full.resolve_term(name), name
