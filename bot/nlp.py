"""The base spaCy pipeline shared by ingestion and safety screening.

No pretrained pipeline can be downloaded, so everything is built from ``spacy.blank("en")``: the
rule-based sentencizer and the lookup lemmatizer whose tables come from ``spacy-lookups-data``.
"""
from __future__ import annotations

from functools import lru_cache

import spacy
from spacy.language import Language
from spacy.tokens import Doc


@Language.component("lowercase_lemmas")
def lowercase_lemmas(doc: Doc) -> Doc:
    """Lemmas that ignore case: the lookup table knows "treated" but not "Treated" or "TREATED"."""
    table = _lemma_table()
    for token in doc:
        lower = token.lower_
        token.lemma_ = table.get(lower, lower)
    return doc


def lemma(word: str) -> str:
    """The lookup lemma of one word, case-insensitive ("aching" -> "ache")."""
    lower = word.lower()
    return _lemma_table().get(lower, lower)


@lru_cache(maxsize=1)
def _lemma_table():
    from spacy.lookups import load_lookups

    return load_lookups("en", ["lemma_lookup"]).get_table("lemma_lookup")


def make_base_pipeline() -> Language:
    """A fresh English pipeline: tokenizer, sentencizer and case-insensitive lookup lemmas."""
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("lowercase_lemmas")
    return nlp

