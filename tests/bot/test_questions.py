"""bot.questions: what a question asks, read from its own words."""
from __future__ import annotations

import pytest

from bot.questions import asked_effect, cue_topic, defined_phrase
from bot.topics import Topic


@pytest.mark.parametrize("text, effect", [
    ("can RA cause dry eyes?", "dry eyes"),
    ("does lupus give you night sweats and a rash?", "night sweats"),
    ("could fibromyalgia lead to my constant headaches", "constant headaches"),
    ("Can ankylosing spondylitis affect the eyes?", "eyes"),
    ("what is lupus?", None),
    ("can stress cause a flare of lupus in the middle of winter?", "flare of lupus"),  # up to "in", without "a"
])
def test_asked_effect_is_the_short_phrase_after_cause(text, effect):
    assert asked_effect(text) == effect


@pytest.mark.parametrize("text, phrase", [
    ("What is (are) Medicines for osteoporosis ?", "Medicines for osteoporosis"),
    ("what are biologics", "biologics"),
    ("What is lupus and how is it treated? I ask for my mother.", None),  # more than a title
    ("why is my hip sore?", None),
])
def test_defined_phrase_is_the_whole_title_of_a_what_is_question(text, phrase):
    assert defined_phrase(text) == phrase


@pytest.mark.parametrize("text, topic", [
    ("what are the symptoms of multiple sclerosis", Topic.SYMPTOMS),  # "what are" only opens the question
    ("what is lupus", Topic.CONDITION_INFO),  # ... unless nothing else is cued
    ("what are the treatments for gout", Topic.TREATMENT),
    ("hello there", None),
])
def test_cue_topic_prefers_any_topic_word_over_what_is(text, topic):
    assert cue_topic(text) is topic
