"""A document on a new topic works after `make store` (issue 20): nobody edits the vocabulary or code.

The store is built from the three real documents plus two written here, on a pain site and conditions
that data/vocabulary.yml does not list; questions go through the store API and through the composer,
with entities found the way the NLU finds them: from lookup tables exported from the store.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Tuple

import pytest
import yaml
from sqlalchemy import create_engine

from bot import texts
from bot.answers import AnswerComposer, Question
from bot.clinic import load_clinic_config
from bot.ingest import build_store
from bot.store import ConditionStore
from bot.topics import Topic
from bot.vocabulary import load_vocabulary, nlu_training_data, normalize, with_learned
from tests.conftest import DOCUMENTS

EYE = """Scleritis and eye pain
Scleritis and eye pain Scleritis is a rare inflammatory disorder of the sclera—the tough white outer layer of the eye—and it is sometimes seen in people with rheumatoid arthritis.
Scleritis typically causes severe, boring eye pain that can spread to the face, together with redness of the eye and blurred vision.
Diagnosis involves an eye examination by an ophthalmologist, sometimes with blood tests for autoantibodies.
Treatment of scleritis usually begins with anti-inflammatory medicines; some people need corticosteroids or other immune-suppressing medicines.
"""

FOREARM = """Forearm pain and eosinophilic fasciitis
Forearm pain and eosinophilic fasciitis Eosinophilic fasciitis (EF) is a rare disorder in which the fascia under the skin becomes inflamed and thick.
EF usually causes pain and swelling in the forearms and legs, and forearm pain often comes before the skin changes.
The skin may take on a dimpled look, known as peau d'orange.
"""

# Most sentences say "It ..." or name no condition: they are about the title's condition and pain site.
CHEEK = """Cheek pain and parotitis
Parotitis is inflammation of a parotid gland, the large saliva gland in front of the ear.
It usually causes a painful swelling of the cheek, and eating can make the pain worse.
It can be brought on by a blocked saliva duct, not drinking enough and some medicines.
Diagnosis is made by examining the cheek and the inside of the mouth, sometimes with an ultrasound scan.
Treatment is with plenty of fluids, warm compresses and sometimes antibiotics.
A small stone that blocks the duct is known as a salivary stone.
"""

NEW_DOCUMENTS = {"030_eye.txt": EYE, "031_forearm.txt": FOREARM, "032_cheek.txt": CHEEK}


def test_the_new_topics_are_not_in_the_vocabulary():
    vocabulary = load_vocabulary()
    spellings = {normalize(s) for c in vocabulary.conditions for s in (*c.spellings(), *c.abbreviations)}
    spellings |= {normalize(s) for p in vocabulary.pain_types for s in p.spellings()}
    for word in ("scleritis", "eosinophilic fasciitis", "ef", "eye", "eyes", "forearm", "sclera", "peau d orange",
                 "parotitis", "cheek", "salivary stone"):
        assert word not in spellings


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("documents")
    for path in DOCUMENTS.iterdir():
        shutil.copy(path, folder / path.name)
    for name, text in NEW_DOCUMENTS.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def built(folder, tmp_path_factory):
    engine = create_engine(f"sqlite:///{tmp_path_factory.mktemp('store') / 'store.db'}", future=True)
    report = build_store(folder, engine=engine)
    yield ConditionStore(engine), report
    engine.dispose()


@pytest.fixture(scope="module")
def store(built) -> ConditionStore:
    return built[0]


def test_the_build_says_what_each_new_document_taught(built):
    _, report = built
    eye, forearm = report.documents["030_eye.txt"], report.documents["031_forearm.txt"]
    assert (eye.learned_conditions, eye.learned_sites) == (["scleritis"], ["eye"])
    assert (forearm.learned_conditions, forearm.learned_sites) == (["eosinophilic fasciitis"], ["forearm"])
    assert "sclera" in eye.terms_defined and "peau d'orange" in forearm.terms_defined
    assert report.unanswerable == []
    assert all(not report.documents[p.name].learned_conditions for p in DOCUMENTS.iterdir())


def test_conditions_causing_pain_at_the_new_site_are_cited_to_the_new_document(store):
    eye = store.resolve_pain_type("eye")
    assert eye is not None and store.resolve_pain_type("eyes") == eye
    found = store.conditions_for_pain(eye)
    assert [r.condition.name for r in found] == ["scleritis"]
    assert found[0].evidence[0].document == "Scleritis and eye pain"
    assert "eye pain" in found[0].evidence[0].text
    forearm = store.conditions_for_pain(store.resolve_pain_type("forearm"))
    assert [r.condition.name for r in forearm] == ["eosinophilic fasciitis"]


def test_the_new_condition_has_its_what_is_passage(store):
    for name, start in [("scleritis", "Scleritis is a rare inflammatory disorder"),
                        ("EF", "Eosinophilic fasciitis (EF) is a rare disorder")]:
        condition = store.resolve_condition(name)
        assert condition is not None and condition.group == "documented"
        assert store.facts("what_is", condition=condition)[0].evidence.text.startswith(start)


def test_the_new_terms_have_their_definitions(store):
    sclera = store.term_evidence(store.resolve_term("sclera"))
    assert sclera[0].defines and "the tough white outer layer of the eye" in sclera[0].text
    peau = store.term_evidence(store.resolve_term("peau d'orange"))
    assert peau[0].text == "The skin may take on a dimpled look, known as peau d'orange."


def test_a_person_named_in_passing_is_not_a_new_subject(store):
    ra = store.resolve_condition("rheumatoid arthritis")
    assert "eye" not in {r.pain_type.key for r in store.pains_for_condition(ra)}


# -- through the composer, with entities from the lookup tables exported from the store --------------
def lookups(store: ConditionStore):
    data = nlu_training_data(with_learned(load_vocabulary(), store.learned_names()))["nlu"]
    canonical = {}
    for item in data:
        if "synonym" in item:
            for line in item["examples"].splitlines():
                canonical[line[2:].strip().lower()] = item["synonym"]
    tables = {}
    for item in data:
        if "lookup" in item:
            spellings = sorted((line[2:].strip() for line in item["examples"].splitlines()), key=len, reverse=True)
            tables[item["lookup"]] = [(re.compile(rf"\b{re.escape(s)}\b", re.I), canonical.get(s.lower(), s)) for s in spellings]
    return tables


def ask(store: ConditionStore, text: str, topic: Topic) -> str:
    tables = lookups(store)

    def entities(name: str) -> Tuple[str, ...]:
        return tuple(dict.fromkeys(value for pattern, value in tables[name] if pattern.search(text)))

    composer = AnswerComposer(store, load_clinic_config())
    return composer.respond(Question(text=text, topic=topic, conditions=entities("condition"), pains=entities("pain_type"))).text


def test_through_the_composer(store):
    answer = ask(store, "What can cause eye pain?", Topic.CONDITIONS_FOR_PAIN)
    assert "Scleritis" in answer and "Scleritis and eye pain" in answer
    answer = ask(store, "What is eosinophilic fasciitis?", Topic.CONDITION_INFO)
    assert "Eosinophilic fasciitis (EF) is a rare disorder" in answer
    answer = ask(store, "What does peau d'orange mean?", Topic.CONDITION_INFO)
    assert "known as peau d'orange" in answer
    answer = ask(store, "What is uveitis?", Topic.CONDITION_INFO)  # a subject no document covers
    assert answer.startswith(texts.NO_INFORMATION_ON.format(subject="uveitis")), answer


def test_the_exported_nlu_data_follows_the_store(store):
    text = yaml.safe_dump(nlu_training_data(with_learned(load_vocabulary(), store.learned_names())))
    assert "scleritis" in text and "forearm" in text and "- EF" in text


def test_removing_a_new_document_removes_its_answers(folder, tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'store.db'}", future=True)
    build_store(folder, engine=engine)
    (folder / "030_eye.txt").unlink()
    try:
        report = build_store(folder, engine=engine)
        store = ConditionStore(engine)
        assert report.removed == ["030_eye.txt"]
        assert store.resolve_pain_type("eye") is None and store.resolve_condition("scleritis") is None
        assert store.resolve_term("sclera") is None
        assert "scleritis" not in yaml.safe_dump(nlu_training_data(with_learned(load_vocabulary(), store.learned_names())))
        assert store.resolve_condition("EF") is not None  # the other new document still teaches its names
    finally:
        (folder / "030_eye.txt").write_text(EYE, encoding="utf-8")
        engine.dispose()


def test_without_the_lexicon_definitions_still_teach_the_conditions(folder, tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'store.db'}", future=True)
    try:
        build_store(folder, engine=engine, use_lexicon=False)
        store = ConditionStore(engine)
        assert store.resolve_condition("scleritis").group == "documented"
        assert store.resolve_condition("EF").name == "eosinophilic fasciitis"
        assert store.resolve_pain_type("eye") is None  # body sites come from the lexicon's anatomy words
    finally:
        engine.dispose()


# -- a document whose sentences say "It ..." (issue 20's learning classes) --------------------------
def test_the_it_sentences_are_about_the_titles_condition(built, store):
    _, report = built
    cheek = report.documents["032_cheek.txt"]
    assert (cheek.learned_conditions, cheek.learned_sites) == (["parotitis"], ["cheek"])
    parotitis = store.resolve_condition("parotitis")
    found = store.conditions_for_pain(store.resolve_pain_type("cheek"))
    assert [r.condition.name for r in found] == ["parotitis"]
    assert found[0].evidence[0].text.startswith("It usually causes a painful swelling of the cheek")
    assert store.facts("symptoms", condition=parotitis)[0].evidence.text.startswith("It usually causes a painful swelling")
    assert store.facts("diagnosis", condition=parotitis)[0].evidence.text.startswith("Diagnosis is made by examining the cheek")
    assert [f.evidence.text[:30] for f in store.facts("treatment", condition=parotitis)] == ["Treatment is with plenty of fl"]


def test_the_it_sentences_answer_through_the_composer(store):
    answer = ask(store, "What are the symptoms of parotitis?", Topic.SYMPTOMS)
    assert "painful swelling of the cheek" in answer and "Cheek pain and parotitis" in answer
    answer = ask(store, "How is parotitis treated?", Topic.TREATMENT)
    assert "plenty of fluids" in answer and "brought on by" not in answer
    answer = ask(store, "Which conditions cause cheek pain?", Topic.CONDITIONS_FOR_PAIN)
    assert "Parotitis" in answer and "Cheek pain and parotitis" in answer


def test_no_body_site_is_exported_as_a_conditions_synonym(store):
    data = nlu_training_data(with_learned(load_vocabulary(), store.learned_names()))["nlu"]
    synonyms = {item["synonym"]: item["examples"].splitlines() for item in data if "synonym" in item}
    sites = {line[2:] for key in ("cheek", "eye", "forearm") for line in synonyms.get(key, [])} | {"cheek", "eye", "forearm"}
    learned = {n.name for n in store.learned_names() if n.kind == "condition"}
    for name in learned:
        assert not sites & {line[2:] for line in synonyms.get(name, [])}, name


def learned_from(text: str):
    from bot import settings
    from bot.documents import parse_text
    from bot.extraction import default_extractor

    extractor = default_extractor(settings.vocabulary_path(), settings.fact_rules_path())
    return extractor.learn(parse_text(text, "t.txt", "0"))


def test_a_condition_the_lexicon_knows_is_learned_by_the_documents_own_words():
    learned = learned_from("Sore skin folds\nThrush can make the skin in the folds sore.\nThrush is common after antibiotics.\n"
                           "The ulcers are small. Ulcers heal within a week.\n")
    assert {n.name for n in learned if n.kind == "condition"} == {"thrush"}  # never "a yeast infection", nor a stomach ulcer
    assert {n.spelling.lower() for n in learned if n.kind == "condition"} == {"thrush"}


def test_a_lump_is_no_condition():
    learned = learned_from("Lumps on the skin\nA painful lump may appear.\nThe lump can be tender.\n")
    assert [n for n in learned if n.kind == "condition"] == []


def test_an_eponym_is_kept_and_it_is_also_known_as_names_it():
    learned = learned_from("Calf pain and Baker's cyst\nA Baker's cyst forms behind the knee.\nIt is also known as a popliteal cyst.\n")
    names = {(n.name, n.spelling.lower()) for n in learned if n.kind == "condition"}
    assert ("baker's cyst", "popliteal cyst") in names and {name for name, _ in names} == {"baker's cyst"}
    assert {n.name for n in learned if n.kind == "site"} == {"calf"}


@pytest.mark.parametrize("phrase, site", [("Pain in the shins", "shin"), ("Painful armpits", "armpit"),
                                          ("Pain on the outside of the thigh", "thigh"), ("Breastbone pain", "breastbone")])
def test_lay_body_sites_are_learned(phrase, site):
    assert {n.name for n in learned_from(f"{phrase}\nIt can last for weeks.\n") if n.kind == "site"} == {site}


def test_what_causes_a_condition_quotes_the_document_that_says_what_brings_it_on(store):
    answer = ask(store, "What causes parotitis?", Topic.MECHANISM)
    assert "brought on by a blocked saliva duct" in answer, answer
    assert texts.CAUSE_NOT_STATED.format(subject="parotitis") not in answer
