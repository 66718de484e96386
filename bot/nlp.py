"""The base spaCy pipeline shared by ingestion and safety screening.

No pretrained pipeline can be downloaded, so everything is built from ``spacy.blank("en")``: the
rule-based sentencizer and the lookup lemmatizer whose tables come from ``spacy-lookups-data``.
"""
from __future__ import annotations

from functools import lru_cache

import spacy
from spacy.language import Language


def make_base_pipeline() -> Language:
    """A fresh English pipeline: tokenizer, sentencizer and lookup lemmatizer (no statistical model)."""
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    return nlp


@lru_cache(maxsize=1)
def shared_tokenizer_pipeline() -> Language:
    """One cached base pipeline for callers that only read tokens and lemmas (built on first use)."""
    return make_base_pipeline()
