"""The condition store's schema: SQLAlchemy 1.4 classic declarative (``declarative_base`` with
``Column`` attributes), portable SQL only (SQLite and PostgreSQL).

Every medical statement the assistant can make is a row that points at the passage of a document
that states it, with character offsets so the passage can be reproduced exactly.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, List, Optional

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import declarative_base, relationship

Base: Any = declarative_base()  # SQLAlchemy 1.4 ships no types for it


class Document(Base):
    __tablename__ = "documents"

    id = Column(Integer, primary_key=True)
    path = Column(String(500), nullable=False, unique=True)  # relative to the documents folder
    title = Column(String(500), nullable=False)
    checksum = Column(String(64), nullable=False)  # sha256 of the raw bytes
    text = Column(Text, nullable=False)  # the decoded text that passage offsets index into
    release_date: Optional[dt.date] = Column(Date)
    updated_date: Optional[dt.date] = Column(Date)

    passages: List["Passage"] = relationship(
        "Passage", back_populates="document", cascade="all, delete-orphan", order_by="Passage.ordinal"
    )


class Passage(Base):
    """A sentence or list item, with the heading it stands under."""

    __tablename__ = "passages"

    id = Column(Integer, primary_key=True)
    document_id = Column(Integer, ForeignKey("documents.id", ondelete="CASCADE"), nullable=False)
    ordinal = Column(Integer, nullable=False)
    kind = Column(String(20), nullable=False)  # sentence | list_item | heading
    heading = Column(Text)
    lead_in = Column(Text)  # a list item's lead-in sentence, so the item can be quoted with it
    text = Column(Text, nullable=False)
    start_char = Column(Integer, nullable=False)
    end_char = Column(Integer, nullable=False)

    document: Document = relationship("Document", back_populates="passages")

    __table_args__ = (UniqueConstraint("document_id", "ordinal"),)


class Condition(Base):
    __tablename__ = "conditions"

    id = Column(Integer, primary_key=True)
    key = Column(String(200), nullable=False, unique=True)  # stable identifier (see vocabulary.condition_key)
    name = Column(String(200), nullable=False, unique=True)  # canonical, lower case
    group = Column("condition_group", String(40), nullable=False)  # autoimmune | immune-mediated | other | umbrella

    aliases: List["ConditionAlias"] = relationship(
        "ConditionAlias", back_populates="condition", cascade="all, delete-orphan"
    )


class ConditionAlias(Base):
    __tablename__ = "condition_aliases"

    id = Column(Integer, primary_key=True)
    condition_id = Column(Integer, ForeignKey("conditions.id", ondelete="CASCADE"), nullable=False)
    alias = Column(String(200), nullable=False)  # as written in the vocabulary
    normalized = Column(String(200), nullable=False, unique=True)  # lookup key (see vocabulary.normalize)

    condition: Condition = relationship("Condition", back_populates="aliases")


class PainType(Base):
    __tablename__ = "pain_types"

    id = Column(Integer, primary_key=True)
    key = Column(String(40), nullable=False, unique=True)
    name = Column(String(200), nullable=False)

    aliases: List["PainTypeAlias"] = relationship(
        "PainTypeAlias", back_populates="pain_type", cascade="all, delete-orphan"
    )


class PainTypeAlias(Base):
    __tablename__ = "pain_type_aliases"

    id = Column(Integer, primary_key=True)
    pain_type_id = Column(Integer, ForeignKey("pain_types.id", ondelete="CASCADE"), nullable=False)
    alias = Column(String(200), nullable=False)
    normalized = Column(String(200), nullable=False, unique=True)

    pain_type: PainType = relationship("PainType", back_populates="aliases")


class ConditionPainLink(Base):
    """A passage states that a condition causes (or is associated with) a pain type."""

    __tablename__ = "condition_pain_links"

    id = Column(Integer, primary_key=True)
    condition_id = Column(Integer, ForeignKey("conditions.id", ondelete="CASCADE"), nullable=False)
    pain_type_id = Column(Integer, ForeignKey("pain_types.id", ondelete="CASCADE"), nullable=False)
    passage_id = Column(Integer, ForeignKey("passages.id", ondelete="CASCADE"), nullable=False)
    # True when the passage names the condition itself; False when it is the subject of the paragraph.
    explicit = Column(Boolean, nullable=False)

    condition: Condition = relationship("Condition")
    pain_type: PainType = relationship("PainType")
    passage: Passage = relationship("Passage")

    __table_args__ = (
        UniqueConstraint("condition_id", "pain_type_id", "passage_id"),
        Index("ix_links_pain", "pain_type_id"),
        Index("ix_links_condition", "condition_id"),
    )


class Fact(Base):
    """A passage of a given kind (treatment, diagnosis, ...) about a condition and/or pain type.

    ``condition_id`` / ``pain_type_id`` are NULL when the passage is about autoimmune disease or pain
    in general.
    """

    __tablename__ = "facts"

    id = Column(Integer, primary_key=True)
    kind = Column(String(40), nullable=False)
    passage_id = Column(Integer, ForeignKey("passages.id", ondelete="CASCADE"), nullable=False)
    condition_id = Column(Integer, ForeignKey("conditions.id", ondelete="CASCADE"))
    pain_type_id = Column(Integer, ForeignKey("pain_types.id", ondelete="CASCADE"))
    explicit = Column(Boolean, nullable=False)
    # True when the passage itself says it (a cue in its own words), not only the heading above it.
    direct = Column(Boolean, nullable=False, default=True)
    cues = Column(Integer, nullable=False, default=0)  # cue words of this kind in the passage: how much it is about it

    passage: Passage = relationship("Passage")
    condition: Optional[Condition] = relationship("Condition")
    pain_type: Optional[PainType] = relationship("PainType")

    __table_args__ = (
        UniqueConstraint("kind", "passage_id", "condition_id", "pain_type_id"),
        Index("ix_facts_kind", "kind"),
    )


class Term(Base):
    """A name the documents explain or use ("DMARDs", "entheses"): the term index, built from the
    documents at build time (bot/terms.py) and rebuilt with them."""

    __tablename__ = "terms"

    id = Column(Integer, primary_key=True)
    key = Column(String(200), nullable=False, unique=True)  # stable: from its best name (vocabulary.term_key)
    name = Column(String(200), nullable=False)  # as the best passage writes it
    kind = Column(String(20), nullable=False)  # condition | drug | procedure | symptom | body_part | term
    condition_id = Column(Integer, ForeignKey("conditions.id", ondelete="CASCADE"))  # when it names a known condition

    condition: Optional[Condition] = relationship("Condition")
    aliases: List["TermAlias"] = relationship("TermAlias", back_populates="term", cascade="all, delete-orphan")
    occurrences: List["TermOccurrence"] = relationship("TermOccurrence", back_populates="term", cascade="all, delete-orphan")


class TermAlias(Base):
    """A spelling of a term: every spelling its occurrences give, rebuilt with each build."""

    __tablename__ = "term_aliases"

    id = Column(Integer, primary_key=True)
    term_id = Column(Integer, ForeignKey("terms.id", ondelete="CASCADE"), nullable=False)
    alias = Column(String(200), nullable=False)  # as written
    normalized = Column(String(200), nullable=False)  # vocabulary.normalize
    match_key = Column(String(200), nullable=False)  # vocabulary.match_key: plurals and spellings of one word agree

    term: Term = relationship("Term", back_populates="aliases")

    __table_args__ = (
        UniqueConstraint("term_id", "normalized"),
        Index("ix_term_aliases_normalized", "normalized"),
        Index("ix_term_aliases_match_key", "match_key"),
    )


class TermOccurrence(Base):
    """A passage that defines (``strength`` > 0) or mentions a term (once per passage: the strongest)."""

    __tablename__ = "term_occurrences"

    id = Column(Integer, primary_key=True)
    term_id = Column(Integer, ForeignKey("terms.id", ondelete="CASCADE"), nullable=False)
    passage_id = Column(Integer, ForeignKey("passages.id", ondelete="CASCADE"), nullable=False)
    rule = Column(String(20), nullable=False)  # definition | abbreviation | mention (bot.terms.STRENGTH)
    strength = Column(Integer, nullable=False)
    surface = Column(String(200), nullable=False)  # the words in the passage
    start = Column(Integer, nullable=False)  # offsets in the passage text
    end = Column(Integer, nullable=False)
    spellings = Column(Text, nullable=False)  # every name it goes by here, one a line (long form, abbreviation, ...)

    term: Term = relationship("Term", back_populates="occurrences")
    passage: Passage = relationship("Passage")

    __table_args__ = (UniqueConstraint("term_id", "passage_id"), Index("ix_term_occurrences_term", "term_id"))


class LearnedName(Base):
    """A name a document taught the store to recognise beyond data/vocabulary.yml: a condition it
    defines or is about, or a body site it names with pain (gone with its document)."""

    __tablename__ = "learned_names"

    id = Column(Integer, primary_key=True)
    document_id = Column(Integer, ForeignKey("documents.id", ondelete="CASCADE"), nullable=False)
    kind = Column(String(20), nullable=False)  # condition | site
    name = Column(String(200), nullable=False)
    spelling = Column(String(200), nullable=False)
    abbreviation = Column(Boolean, nullable=False, default=False)
    how = Column(String(20), nullable=False)  # definition | lexicon | pain phrase

    document: Document = relationship("Document")

    __table_args__ = (Index("ix_learned_names_document", "document_id"),)


class StoreMeta(Base):
    """Build bookkeeping, e.g. the fingerprint of the vocabulary and rules the rows were made with."""

    __tablename__ = "store_meta"

    key = Column(String(100), primary_key=True)
    value = Column(Text, nullable=False)
