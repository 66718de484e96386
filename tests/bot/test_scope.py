"""Knows what it doesn't know (issue 10): a question about a medical subject the documents don't
cover gets an honest decline naming that subject; a question about what they do cover never does.

Entities are found the way the NLU pipeline finds them (RegexEntityExtractor over the vocabulary's
lookup tables, case-insensitive), so a stray "hip" in "hip replacement" is part of the test.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, List, Tuple

import pytest
import yaml

from bot import texts
from bot.answers import AnswerComposer, Question, Reply
from bot.clinic import load_clinic_config
from bot.topics import Topic
from bot.vocabulary import load_vocabulary, nlu_training_data

TABLE = yaml.safe_load((Path(__file__).parent / "data" / "scope_questions.yml").read_text(encoding="utf-8"))
DECLINE = texts.NO_INFORMATION_ON.split("{", 1)[0]


@pytest.fixture(scope="module")
def composer(corpus_store) -> AnswerComposer:
    return AnswerComposer(corpus_store, load_clinic_config())


def _lookups() -> Dict[str, List[Tuple[re.Pattern, str]]]:
    data = nlu_training_data(load_vocabulary())["nlu"]
    canonical: Dict[str, str] = {}
    for item in data:
        if "synonym" in item:
            for line in item["examples"].splitlines():
                canonical[line[2:].strip().lower()] = item["synonym"]
    tables: Dict[str, List[Tuple[re.Pattern, str]]] = {}
    for item in data:
        if "lookup" in item:
            spellings = sorted((line[2:].strip() for line in item["examples"].splitlines()), key=len, reverse=True)
            tables[item["lookup"]] = [(re.compile(rf"\b{re.escape(s)}\b", re.I), canonical.get(s.lower(), s)) for s in spellings]
    return tables


LOOKUPS = _lookups()


def nlu_entities(text: str, entity: str) -> Tuple[str, ...]:
    return tuple(dict.fromkeys(value for pattern, value in LOOKUPS[entity] if pattern.search(text)))


def ask(composer: AnswerComposer, row: dict) -> Reply:
    question = Question(text=row["q"], topic=Topic(row["topic"]),
                        conditions=nlu_entities(row["q"], "condition"), pains=nlu_entities(row["q"], "pain_type"))
    return composer.respond(question)


@pytest.mark.parametrize("row", TABLE["out_of_scope"], ids=lambda r: r["q"])
def test_a_subject_the_documents_do_not_cover_is_declined_by_name(composer, row):
    reply = ask(composer, row)
    first = reply.text.split("\n\n")[0]
    assert first.startswith(DECLINE), reply.text
    names = row["subject"] if isinstance(row["subject"], list) else [row["subject"]]
    assert any(name.lower() in first.lower() for name in names), first
    assert not reply.medical and "“" not in reply.text  # no quotes from the documents passed off as an answer
    assert reply.buttons


@pytest.mark.parametrize("row", TABLE["in_scope"], ids=lambda r: r["q"])
def test_a_question_the_documents_cover_is_answered(composer, row):
    reply = ask(composer, row)
    assert not reply.text.startswith(DECLINE), reply.text
    if reply.medical:
        assert reply.text.endswith(composer.clinic.disclaimer)
    else:  # a covered condition they say nothing specific of: said plainly, the general answer offered
        assert reply.text.startswith(texts.NO_SPECIFIC_INFORMATION.split("{", 1)[0]), reply.text
        assert any(dict(b.entities).get("condition") == "autoimmune disease" for b in reply.buttons)


@pytest.mark.parametrize("row", TABLE["unlisted"], ids=lambda r: r["q"])
def test_a_subject_no_lexicon_lists_is_declined_by_its_words(composer, row):
    from bot.lexicon import default_lexicon

    assert not [s for s in default_lexicon().subjects(row["q"]) if row["subject"] in s.text.lower()], "listed: not this test's case"
    test_a_subject_the_documents_do_not_cover_is_declined_by_name(composer, row)


@pytest.mark.parametrize("row", TABLE["unlisted_in_scope"], ids=lambda r: r["q"])
def test_a_question_in_the_documents_words_is_not_declined(composer, row):
    reply = ask(composer, row)
    assert not reply.text.startswith(DECLINE), reply.text


def test_the_tables_are_big_enough():
    assert len(TABLE["out_of_scope"]) >= 60 and len(TABLE["in_scope"]) >= 40


def test_type_2_diabetes_is_never_type_1(composer):
    reply = ask(composer, {"q": "how do I treat type 2 diabetes?", "topic": "treatment"})
    assert "type 1" not in reply.text and "type 2 diabetes" in reply.text.lower()


def test_after_a_story_the_question_names_its_own_subject(composer):
    reply = ask(composer, {"q": "My husband has lupus and takes magnesium tablets every night. He still wakes up with awful "
                                "cramps in his calves. What can he do to ease the cramps?", "topic": "treatment"})
    first = reply.text.split("\n\n")[0]
    assert first.startswith(DECLINE) and "cramps" in first and "magnesium" not in first.lower()


def test_after_a_story_a_bare_question_is_about_the_medicine_named_last(composer):
    reply = ask(composer, {"q": "I have rheumatoid arthritis. I had a bad rash from amoxicillin last year. Now my "
                                "rheumatologist wants me to start sulfasalazine. Should I be worried?", "topic": "what_is"})
    first = reply.text.split("\n\n")[0]
    assert first.startswith(DECLINE) and "sulfasalazine" in first.lower(), first

