"""Step 2 of ingestion: spaCy reads a laid-out document into passages and what each one says.

Built from data only: the vocabulary (EntityRuler for conditions, body sites and pain terms) and the
fact rules (PhraseMatcher cues on lemmas, Matcher patterns). Changing what is recognised means
editing those files, not this code.
"""
from __future__ import annotations

import importlib
import importlib.util
import logging
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable, Dict, FrozenSet, Iterable, List, Optional, Sequence, Set, Tuple, cast

import yaml
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.pipeline import EntityRuler
from spacy.tokens import Doc, Span

from bot import settings
from bot.documents import Block, ParsedDocument
from bot.nlp import make_base_pipeline
from bot.terms import FoundTerm, Memo, TermFinder, TermRules, is_acronym, parse_term_rules
from bot.vocabulary import LearnedName, Vocabulary, condition_key, load_vocabulary, match_key, normalize

CONDITION, SITE, PAIN_TERM = "CONDITION", "SITE", "PAIN_TERM"
#: Where what a "not_after" phrase opens ends ("triggered by stress; treatment is ...").
_CLAUSE_ENDS = frozenset({";", ":", ".", "but", "while", "whereas", "although", "though"})
LEXICON_MODULE = "bot.lexicon"  # the public medical lexicon, used when it is installed

log = logging.getLogger(__name__)


#: A sentence naming this many specific conditions lists them: all are the paragraph's subject.
LIST_OF_SUBJECTS = 3


@dataclass
class ExtractedPassage:
    ordinal: int
    kind: str  # sentence | list_item | heading
    heading: Optional[str]
    text: str
    start: int
    end: int
    # canonical condition name -> True if named in the passage, False if the paragraph's subject
    conditions: Dict[str, bool] = field(default_factory=dict)
    pain_types: List[str] = field(default_factory=list)
    kinds: Set[str] = field(default_factory=set)
    direct_kinds: Set[str] = field(default_factory=set)  # said by the passage itself, not its heading
    cue_counts: Dict[str, int] = field(default_factory=dict)  # how many cues of each kind it holds
    # what_is: the condition being defined -> True if named in the passage, False if the paragraph's subject
    defined_conditions: Dict[str, bool] = field(default_factory=dict)
    terms: List[FoundTerm] = field(default_factory=list)  # what the term index learns from it
    lead_in: Optional[str] = None  # a list item's lead-in sentence ("... treatment, including:")
    title_pains: Set[str] = field(default_factory=set)  # pain types it carries for the title (links, not facts)


@dataclass(frozen=True)
class FactRules:
    kinds: Dict[str, dict]
    negation_cues: Tuple[str, ...]
    negation_exceptions: Tuple[str, ...]
    negation_window: int
    site_window: int
    mention_patterns: Tuple[list, ...] = ()
    cue_exclusion_window: int = 20  # a fact kind's ``not_after`` phrase reaches this many tokens
    terms: TermRules = field(default_factory=TermRules)
    learning: "LearningRules" = field(default_factory=lambda: LearningRules())


@dataclass(frozen=True)
class LearningRules:
    """How a document teaches the store names (``learning`` in data/fact_rules.yml)."""

    condition_categories: FrozenSet[str] = frozenset()
    condition_shapes: Tuple[re.Pattern, ...] = ()
    lexicon_mentions: int = 2
    pain_nouns: FrozenSet[str] = frozenset()
    pain_adjectives: FrozenSet[str] = frozenset()
    pain_prepositions: FrozenSet[str] = frozenset()
    pain_determiners: FrozenSet[str] = frozenset()


def _learning_rules(data: Optional[dict]) -> LearningRules:
    data = data or {}
    words = lambda key: frozenset(w.lower() for w in data.get(key, []))  # noqa: E731
    try:
        shapes = tuple(re.compile(p) for p in data.get("condition_shapes", []))
    except re.error as error:
        raise ValueError(f"learning.condition_shapes: {error}") from error
    return LearningRules(
        condition_categories=words("condition_categories"),
        condition_shapes=shapes,
        lexicon_mentions=int(data.get("lexicon_mentions", 2)),
        pain_nouns=words("pain_nouns"),
        pain_adjectives=words("pain_adjectives"),
        pain_prepositions=words("pain_prepositions"),
        pain_determiners=words("pain_determiners"),
    )


def _patterns(value: object, where: str) -> Tuple[list, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(p, list) and p for p in value):
        raise ValueError(f"{where}: expected a list of spaCy Matcher patterns")
    return tuple(value)


def load_fact_rules(path: Optional[Path] = None) -> FactRules:
    path = Path(path) if path else settings.fact_rules_path()
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    negation = data.get("negation", {})
    return FactRules(
        kinds=dict(data["fact_kinds"]),
        negation_cues=tuple(negation.get("cues", ())),
        negation_exceptions=tuple(negation.get("exceptions", ())),
        negation_window=int(negation.get("window", 3)),
        site_window=int(data.get("site_window", 10)),
        mention_patterns=_patterns(data.get("mention_patterns"), "mention_patterns"),
        terms=parse_term_rules(data.get("terms")),
        learning=_learning_rules(data.get("learning")),
    )


class Extractor:
    """Turns a ParsedDocument into ExtractedPassages (one spaCy pipeline, built once)."""

    def __init__(self, vocabulary: Vocabulary, rules: FactRules, lexicon: Optional[Callable[[str], Sequence]] = None):
        self.vocabulary = vocabulary
        self.rules = rules
        self.nlp = self._build_pipeline()
        self._groups = {condition.name: condition.group for condition in vocabulary.conditions}
        self.terms = TermFinder(rules.terms, self._known_conditions, _not_terms(vocabulary), lexicon)
        self._site_spellings = frozenset(s for p in vocabulary.pain_types for s in p.site_spellings())
        self._site_keys = frozenset(normalize(s) for s in self._site_spellings)
        self._vocabulary_spellings = frozenset(
            normalize(s) for c in vocabulary.conditions for s in (*c.spellings(), *c.abbreviations)
        ) | frozenset(normalize(s) for p in vocabulary.pain_types for s in p.spellings())
        self._pain_words = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        self._pain_words.add("PAIN_WORD", [self.nlp.make_doc(text) for text in vocabulary.pain_words])
        self._cues = PhraseMatcher(self.nlp.vocab, attr="LEMMA")
        self._patterns = Matcher(self.nlp.vocab)
        self._subject_patterns = Matcher(self.nlp.vocab)
        for kind, spec in rules.kinds.items():
            cues = [self.nlp(cue) for cue in spec.get("cues", [])]
            if cues:
                self._cues.add(kind, cues)
            if spec.get("patterns"):
                self._patterns.add(kind, list(_patterns(spec["patterns"], f"{kind}.patterns")))
            if spec.get("subject_patterns"):
                self._subject_patterns.add(kind, list(_patterns(spec["subject_patterns"], f"{kind}.subject_patterns")))
        self._not_after: Dict[str, PhraseMatcher] = {}
        self._not_before: Dict[str, PhraseMatcher] = {}
        for kind, spec in rules.kinds.items():
            for field_name, table in (("not_after", self._not_after), ("not_before", self._not_before)):
                if spec.get(field_name):
                    matcher = PhraseMatcher(self.nlp.vocab, attr="LOWER")
                    matcher.add(field_name.upper(), [self.nlp.make_doc(text) for text in spec[field_name]])
                    table[kind] = matcher
        self._mentions = Matcher(self.nlp.vocab)
        if rules.mention_patterns:
            self._mentions.add("MENTION", list(rules.mention_patterns))
        self._negations = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        self._negations.add("NEG", [self.nlp.make_doc(text) for text in rules.negation_cues])
        self._negation_exceptions = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        self._negation_exceptions.add("EXC", [self.nlp.make_doc(text) for text in rules.negation_exceptions])

    def _build_pipeline(self) -> Language:
        nlp = make_base_pipeline()
        ruler = cast(EntityRuler, nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"}))
        patterns: List[dict] = []
        for condition in self.vocabulary.conditions:
            patterns += [{"label": CONDITION, "pattern": s, "id": condition.name} for s in condition.spellings()]
            patterns += [
                {"label": CONDITION, "pattern": [{"ORTH": abbreviation}], "id": condition.name}
                for abbreviation in condition.abbreviations
            ]
        for pain in self.vocabulary.pain_types:
            patterns += [{"label": SITE, "pattern": s, "id": pain.key} for s in pain.site_spellings()]
            patterns += [{"label": PAIN_TERM, "pattern": t, "id": pain.key} for t in pain.terms]
        ruler.add_patterns(patterns)
        return nlp

    # -- public -------------------------------------------------------------------------------
    def extract(self, document: ParsedDocument) -> List[ExtractedPassage]:
        passages: List[ExtractedPassage] = []
        headings: List[Block] = []
        lead_in: Optional[Block] = None
        previous_kind = ""
        seen_texts: Set[str] = set()
        title_conditions, title_pains, title_silent = self._title_subject(document.title)
        # A sentence that names no condition is about its paragraph's subject, else (an "It ..." that
        # opens a paragraph) the previous paragraph's, else the one condition the title names (or, when
        # the title names none, the one the first sentence defines: "Meralgia paresthetica is ...").
        document_subject = dict.fromkeys(title_conditions[:1] if len(title_conditions) == 1 else [], False)
        last_subject: Dict[str, bool] = {}
        docs = [self.nlp(block.text) if block.kind != "heading" else None for block in document.blocks]
        # ... the first sentence's only in a document about one condition: no other is a sentence's subject
        title_silent = title_silent and len(self._named_subjects(d for d in docs if d is not None)) <= 1
        for block, block_doc in zip(document.blocks, docs):
            if block.kind == "heading":
                headings = headings + [block] if previous_kind == "heading" else [block]
                lead_in = None
                passages.append(self._passage(len(passages), "heading", None, block.text, block.start, block.end))
            elif block.kind == "list_item":
                passage = self._passage(len(passages), "list_item", _heading(headings), block.text, block.start, block.end)
                item_doc = cast(Doc, block_doc)
                self._analyse(passage, item_doc, [h.text for h in headings], subject={})
                passage.terms = self.terms.find(item_doc)
                if lead_in is not None:
                    # "Chronic stress can:" + "- Increase inflammation" is one statement split over lines.
                    lead_in_doc = self.nlp(lead_in.text)
                    passage.lead_in = list(lead_in_doc.sents)[-1].text.strip()
                    for kind in self._cue_kinds(lead_in_doc):
                        passage.cue_counts[kind] = passage.cue_counts.get(kind, 0) + 1
                        passage.kinds.add(kind)
                        passage.direct_kinds.add(kind)
                    if not passage.pain_types:
                        passage.pain_types = self._pain_types(lead_in_doc)
                passages.append(passage)
            else:
                lead_in = block if block.text.endswith(":") else None
                subject: Dict[str, bool] = {}
                for sentence in cast(Doc, block_doc).sents:
                    text = sentence.text.strip()
                    if not text or text in seen_texts:  # e.g. a lede repeated as the first sentence
                        continue
                    seen_texts.add(text)
                    start = block.start + sentence.start_char
                    passage = self._passage(len(passages), "sentence", _heading(headings), text, start, start + len(text))
                    sentence_doc = sentence.as_doc()
                    anaphoric = self._anaphoric(sentence_doc)
                    fallback = last_subject if last_subject and anaphoric else document_subject
                    self._analyse(passage, sentence_doc, [h.text for h in headings], subject, fallback, anaphoric)
                    passage.terms = self.terms.find(sentence_doc)
                    self._definitions(passage, sentence_doc)
                    if title_silent and not any(p.kind == "sentence" for p in passages):
                        defined = [n for n, explicit in passage.defined_conditions.items() if explicit and self._groups[n] not in ("umbrella", "other")]
                        if len(defined) == 1:
                            document_subject, title_conditions = {defined[0]: False}, defined
                    passages.append(passage)
                if subject:
                    last_subject = dict.fromkeys(subject, False)
            previous_kind = block.kind
        self._title_links(passages, title_conditions, title_pains)
        return passages

    def _title_subject(self, title: str) -> Tuple[List[str], List[str], bool]:
        """The specific conditions and the pain types a title names ("Nose pain and relapsing
        polychondritis"), and whether it names no condition at all ("Pain on the outside of the thigh").
        A title about autoimmune disease in general names no subject."""
        doc = self.nlp(title)
        names = list(dict.fromkeys(e.ent_id_ for e in doc.ents if e.label_ == CONDITION))
        if any(self._groups[name] == "umbrella" for name in names):
            return [], [], False
        specific = [name for name in names if self._groups[name] != "other"]
        return specific, self._pain_types(doc), not names

    def _named_subjects(self, docs: Iterable[Doc]) -> Set[str]:
        """The specific conditions the text names other than to describe people ("people with lupus")."""
        out: Set[str] = set()
        for doc in docs:
            mentions = {i for _, start, end in (self._mentions(doc) if len(self._mentions) else []) for i in range(start, end)}
            out |= {e.ent_id_ for e in doc.ents if e.label_ == CONDITION and e.start not in mentions
                    and self._groups[e.ent_id_] not in ("umbrella", "other")}
        return out

    def _specific(self, subject: Dict[str, bool]) -> Optional[str]:
        return next((name for name in subject if self._groups[name] not in ("umbrella", "other")), None)

    def _anaphoric(self, doc: Doc) -> bool:
        """A sentence that opens with "It", or "This condition", "The disease" ...: it speaks of the
        subject before it."""
        words = [t.lower_ for t in doc[:2]]
        if not words:
            return False
        if words[0] == "it":
            return True
        categories = self.rules.learning.condition_categories
        return len(words) == 2 and words[0] in {"this", "the"} and words[1] in categories

    def _definitions(self, passage: ExtractedPassage, doc: Doc) -> None:
        """A sentence that defines a condition by name ("A Baker's cyst is a fluid-filled swelling ...",
        "... it is known as Tietze syndrome") says what the condition is, whatever the words after it."""
        spans = {(e.start_char, e.end_char): e.ent_id_ for e in doc.ents if e.label_ == CONDITION}
        for term in passage.terms:
            if term.rule != "definition" or not (self._copula_after(doc, term) or self._another_name(doc, term)):
                continue  # an apposition ("SLE, another prominent autoimmune disorder, can ...") says what it is in passing
            name = spans.get((term.start, term.end))
            if name is not None and self._groups[name] != "umbrella":
                passage.defined_conditions.setdefault(name, True)
                passage.kinds.add("what_is")
                passage.direct_kinds.add("what_is")

    def _title_links(self, passages: List[ExtractedPassage], conditions: Sequence[str], pains: Sequence[str]) -> None:
        """The title links its condition to its pain ("Nose pain and relapsing polychondritis"): when no
        sentence states the link, the sentences about the condition that name the pain's site carry it,
        else the first sentence about the condition (never as the sentence's own words: not explicit)."""
        sites = {pain: self._site_spellings_of(pain) for pain in pains}
        for name in conditions:
            about = [p for p in passages if p.kind != "heading" and set(p.conditions) == {name}]
            for pain in pains:
                if any(pain in p.pain_types for p in about):
                    continue
                carriers = [p for p in about if _names_any(p.text, sites[pain])] or about[:1]
                for passage in carriers:
                    passage.pain_types.append(pain)
                    passage.title_pains.add(pain)

    def _site_spellings_of(self, pain_key: str) -> Tuple[str, ...]:
        pain = next((p for p in self.vocabulary.pain_types if p.key == pain_key), None)
        return pain.site_spellings() if pain is not None else ()

    def learn(self, document: ParsedDocument) -> List[LearnedName]:
        """What the document teaches the store to recognise, beyond this extractor's vocabulary:

        * conditions it defines ("Scleritis is a rare inflammatory disorder ...", "... fasciitis (EF)"),
          and conditions the medical lexicon knows that it is about (named in its title or a heading,
          or at least ``lexicon_mentions`` times);
        * pain sites: body parts the lexicon knows (ICD-10-CM's body-site words), named in "X pain",
          "pain in the X" or "painful X".
        """
        rules = self.rules.learning
        learned: List[LearnedName] = []
        mentions: Dict[str, int] = {}  # match key of the words a document writes -> how often (a heading counts more)
        written: Dict[str, List[str]] = {}  # match key -> the document's spellings, in reading order
        segments = [(True, document.title)] + [(block.kind == "heading", block.text) for block in document.blocks]
        title_names: List[str] = []  # the new conditions the title names
        other_names: List[LearnedName] = []
        subject: Optional[str] = None  # what "It is also known as X" speaks of: the title's, or the last defined
        for index, (heading, text) in enumerate(segments):
            if index == 1 and len(title_names) == 1:
                subject = title_names[0]
            # Tokens and sentences only: what the vocabulary already names is left out by its spellings.
            for sentence in self.nlp(text, disable=["entity_ruler", "lowercase_lemmas"]).sents:
                doc = sentence.as_doc()
                anaphoric = self._anaphoric(doc)
                for term in self.terms.find(doc, mentions=False) + self._lexicon_conditions(doc):
                    if self._known_spelling(term) or self._generic(term.surface):
                        continue  # a vocabulary condition, or only a category word ("the disease")
                    if index == 0 and term.kind == "condition" or (index == 0 and term.defines and self._names_condition(term)):
                        title_names.append(term.surface.lower() if not is_acronym(term.surface) else term.surface)
                    if anaphoric and subject is not None and self._another_name(doc, term) and not self._body_part(term.surface):
                        # "It is also known as a popliteal cyst": another name of what the sentence speaks of
                        other_names.append(LearnedName("condition", subject, term.surface, is_acronym(term.surface), "definition"))
                        continue
                    if term.defines and self._names_condition(term):
                        name = term.surface.lower() if not is_acronym(term.surface) else term.surface
                        for spelling in term.spellings:
                            if spelling.lower() != name.lower() and (self._generic(spelling) or self._body_part(spelling)):
                                continue  # "sores inside the mouth, known as aphthous ulcers": the mouth is a site
                            acronym = spelling != term.surface and is_acronym(spelling)
                            learned.append(LearnedName("condition", name, spelling, acronym, "definition"))
                        subject = name
                    elif term.kind == "condition" and not term.defines:
                        # Named as the document writes it: the lexicon's name for these words may say more
                        # than the document does ("ulcers" is "a stomach ulcer" to the lexicon).
                        key = match_key(term.surface)
                        mentions[key] = mentions.get(key, 0) + (rules.lexicon_mentions if heading else 1)
                        spellings = written.setdefault(key, [])
                        spellings += [s for s in (term.surface, *term.spellings[1:]) if match_key(s) == key and s not in spellings]
                learned += self._pain_sites(doc, title=index == 0)
        defined = [f" {n.name.lower()} " for n in learned if n.kind == "condition"]
        for key, count in mentions.items():
            name = written[key][0].lower() if not is_acronym(written[key][0]) else written[key][0]
            if any(f" {name} " in longer for longer in defined):
                continue  # "fasciitis" in a document that defines "eosinophilic fasciitis"
            if count >= rules.lexicon_mentions:
                learned += [LearnedName("condition", name, spelling, False, "lexicon") for spelling in {name, *written[key]}]
        names = {n.name for n in learned if n.kind == "condition"}
        learned += [n for n in other_names if n.name in names]
        return sorted(set(learned), key=lambda n: (n.kind, n.name, n.spelling))

    @staticmethod
    def _copula_after(doc: Doc, term: FoundTerm) -> bool:
        """The term is the subject of "is" / "are" ("A Baker's cyst is ...", "Scleritis (SC) is ...")."""
        after = [t for t in doc if t.idx >= term.end]
        if after and after[0].text == "(":
            close = next((k for k, t in enumerate(after) if t.text == ")"), None)
            after = after[close + 1:] if close is not None else after
        return bool(after) and after[0].lower_ in ("is", "are")

    def _another_name(self, doc: Doc, term: FoundTerm) -> bool:
        """The term follows a naming cue ("known as", "called" ..., then perhaps "a" or "the")."""
        before = [t.lower_ for t in doc if t.idx + len(t) <= term.start]
        while before and before[-1] in ("a", "an", "the"):
            before.pop()
        return any(tuple(before[-len(cue):]) == cue for cue in self.rules.terms.naming_cues)

    def _body_part(self, text: str) -> bool:
        """A body site: the vocabulary's, or all the words of ``text`` are one body part to the lexicon."""
        if normalize(text) in self._site_keys:
            return True
        doc = self.nlp.make_doc(text)
        return any(kind == "body_part" and (start, end) == (0, len(doc)) for (start, end), (kind, _) in self.terms.lexicon_spans(doc).items())

    def _known_spelling(self, term: FoundTerm) -> bool:
        return term.key is not None or normalize(term.surface) in self._vocabulary_spellings

    def _lexicon_conditions(self, doc: Doc) -> List[FoundTerm]:
        """The conditions the lexicon names in a sentence (mentions, for Extractor.learn)."""
        out = []
        for (start, end), (kind, name) in self.terms.lexicon_spans(doc).items():
            if kind != "condition":
                continue
            if start >= 2 and doc[start - 1].lower_ in ("'s", "’s") and doc[start - 2].is_title and doc[start - 2].is_alpha:
                start -= 2  # an eponym: "Baker's cyst" is not any cyst
            span = doc[start:end]
            if normalize(span.text) not in self._vocabulary_spellings:
                out.append(FoundTerm(span.text, kind, tuple(dict.fromkeys([span.text, name])), "mention", span.start_char, span.end_char))
        return out

    def _names_condition(self, term: FoundTerm) -> bool:
        rules = self.rules.learning
        if term.kind in ("drug", "procedure", "symptom", "body_part"):
            return False
        if term.kind == "condition" or (term.category or "") in rules.condition_categories:
            return True
        last = term.surface.lower().split()[-1] if term.surface.split() else ""
        return any(shape.search(last) for shape in rules.condition_shapes)

    def _generic(self, text: str) -> bool:
        """Only category and stop words ("condition", "the disease"): not a name."""
        words = text.lower().split()
        generic = self.rules.learning.condition_categories | self.rules.terms.categories
        return not words or all(w in generic or self.nlp.vocab[w].is_stop for w in words)

    def _pain_sites(self, doc: Doc, title: bool = False) -> List[LearnedName]:
        """Body parts named with pain: "X pain", "painful X", "pain in the X"; in a title about pain
        ("Pain on the outside of the thigh"), every body part it names."""
        rules = self.rules.learning
        known = self._site_spellings
        out: List[LearnedName] = []
        words = {t.lower_ for t in doc}
        title_about_pain = title and bool(words & (rules.pain_nouns | rules.pain_adjectives))
        for (start, end), (kind, name) in self.terms.lexicon_spans(doc).items():
            surface = doc[start:end].text
            if kind != "body_part" or name.lower() in known or surface.lower() in known:
                continue
            before = [t.lower_ for t in doc[max(0, start - 3) : start]]
            after = doc[end].lower_ if end < len(doc) else ""
            phrase = (
                title_about_pain
                or after in rules.pain_nouns
                or (before[-1:] and before[-1] in rules.pain_adjectives)
                or (before[-2:-1] and before[-2] in rules.pain_nouns and before[-1] in rules.pain_prepositions)
                or (len(before) == 3 and before[0] in rules.pain_nouns and before[1] in rules.pain_prepositions
                    and before[2] in rules.pain_determiners)
            )
            if phrase:
                out.append(LearnedName("site", name.lower(), surface, False, "pain phrase"))
        return out

    # -- internals ----------------------------------------------------------------------------
    @staticmethod
    def _passage(ordinal: int, kind: str, heading: Optional[str], text: str, start: int, end: int) -> ExtractedPassage:
        return ExtractedPassage(ordinal=ordinal, kind=kind, heading=heading, text=text, start=start, end=end)

    def _analyse(self, passage: ExtractedPassage, doc: Doc, context: Sequence[str], subject: Dict[str, bool],
                 fallback: Optional[Dict[str, bool]] = None, anaphoric: bool = False) -> None:
        """Fill in conditions, pain types and kinds. ``subject`` carries a paragraph's subject forward;
        ``fallback`` is the subject of a sentence that names no condition at the start of a paragraph
        (the document's, or the previous paragraph's); in an ``anaphoric`` sentence ("It ...") the
        conditions it names are not its subject."""
        current = self._specific(subject)
        refers_back = anaphoric or any(t.lower_ in ("it", "its") for t in doc)  # "People with RA are more likely to develop it."
        probe = current or (self._specific(fallback or {}) if refers_back else None)
        names = self._subjects_named(doc, probe)
        if anaphoric and probe is not None:
            names = [name for name in names if name == probe]  # "It often happens in people with RA": it is the subject
        if not names and not subject and fallback:
            subject.update(fallback)
            current = self._specific(subject)
        named = {name: True for name in names}
        specific = [name for name in named if self._groups[name] not in ("umbrella", "other")]
        # The paragraph's subject is the first specific condition a sentence names ("AS, though
        # classified as a spondyloarthritis, ..." is about AS), else autoimmune disease in general;
        # a later sentence that names no specific condition ("It causes ...") is about the subject.
        new_subject = specific[0] if specific else next((n for n in named if self._groups[n] == "umbrella"), None)
        passage.conditions = dict(named)
        # A sentence after a list that speaks of autoimmune conditions as such ("Understanding the
        # connection between autoimmune conditions and joint pain ...") is not about each one listed.
        general = len(subject) >= LIST_OF_SUBJECTS and any(self._groups[n] == "umbrella" for n in named)
        if not specific and not general:
            for name in subject:
                passage.conditions.setdefault(name, False)
        if new_subject is not None:
            subject.clear()
            # "... diseases such as RA, SLE, AS and PsA are notable for ...": the sentences after a list
            # are about every condition in it, not only the first one named.
            for name in specific if len(specific) >= LIST_OF_SUBJECTS else [new_subject]:
                subject[name] = False
        context_docs = [self.nlp(text) for text in context]
        passage.pain_types = self._pain_types(doc) or self._context_pain_types(context_docs)
        for kind in self._cue_kinds(doc):
            passage.cue_counts[kind] = passage.cue_counts.get(kind, 0) + 1
        passage.direct_kinds = set(passage.cue_counts)
        passage.kinds = set(passage.direct_kinds)
        for context_doc in context_docs:
            passage.kinds |= set(self._cue_kinds(context_doc))
        for match_id, start, _ in self._patterns(doc):
            entity = next((e for e in doc.ents if e.label_ == CONDITION and e.start <= start < e.end), None)
            if entity is not None:
                passage.defined_conditions[entity.ent_id_] = True
                passage.kinds.add(self.nlp.vocab.strings[match_id])
                passage.direct_kinds.add(self.nlp.vocab.strings[match_id])
        # "This type of arthritis occurs in ..." defines the paragraph's subject without naming it.
        if current is not None and not specific and len(self._subject_patterns):
            for match_id, _, _ in self._subject_patterns(doc):
                passage.defined_conditions.setdefault(current, False)
                passage.kinds.add(self.nlp.vocab.strings[match_id])
                passage.direct_kinds.add(self.nlp.vocab.strings[match_id])

    def _cue_kinds(self, doc: Doc) -> List[str]:
        """The kind of each cue in the text, but for a cue that stands in what a ``not_after`` phrase of
        its kind opens ("triggered by hormones and some medicines" names no treatment), or that a
        ``not_before`` phrase follows in its clause ("Some medicines ... can bring it on")."""
        kinds = []
        for m_id, start, end in self._cues(doc):
            kind = self.nlp.vocab.strings[m_id]
            if kind in self._not_after and self._after_phrase(doc, self._not_after[kind], start):
                continue
            if kind in self._not_before and self._before_phrase(doc, self._not_before[kind], end):
                continue
            kinds.append(kind)
        return kinds

    def _after_phrase(self, doc: Doc, phrases: PhraseMatcher, index: int) -> bool:
        """A phrase ends before token ``index``, in the same clause, at most the window away."""
        return any(end <= index and self._same_clause(doc, end, index) for _, _, end in phrases(doc))

    def _before_phrase(self, doc: Doc, phrases: PhraseMatcher, index: int) -> bool:
        """A phrase starts at or after token ``index``, in the same clause, at most the window away."""
        return any(start >= index and self._same_clause(doc, index, start) for _, start, _ in phrases(doc))

    def _same_clause(self, doc: Doc, start: int, end: int) -> bool:
        return end - start < self.rules.cue_exclusion_window and not any(t.lower_ in _CLAUSE_ENDS for t in doc[start:end])

    @staticmethod
    def _known_conditions(doc: Doc) -> Dict[Tuple[int, int], Tuple[str, str, Optional[str]]]:
        """The vocabulary conditions of a passage: (start, end) -> ("condition", name, key)."""
        return {(e.start, e.end): ("condition", e.ent_id_, condition_key(e.ent_id_)) for e in doc.ents if e.label_ == CONDITION}

    def _subjects_named(self, doc: Doc, paragraph_subject: Optional[str]) -> List[str]:
        """Conditions the sentence names as what it is about, in order.

        Inside a paragraph about Y, a condition X named only to describe someone ("individuals with
        psoriasis", see ``mention_patterns``) is not what the sentence is about: the paragraph's
        subject stays. At the start of a paragraph (no subject yet) it still is the subject
        ("Hip pain is common in people with lupus.").
        """
        entities = [e for e in doc.ents if e.label_ == CONDITION]
        if paragraph_subject is None:
            return list(dict.fromkeys(e.ent_id_ for e in entities))
        mentions = self._mentions(doc) if len(self._mentions) else []
        mention_tokens = {i for _, start, end in mentions for i in range(start, end)}
        subjects = [e.ent_id_ for e in entities if e.ent_id_ == paragraph_subject or e.start not in mention_tokens]
        return list(dict.fromkeys(subjects))

    def _pain_types(self, doc: Doc) -> List[str]:
        """Pain terms, and pain words bound to their nearest body site, not negated."""
        found: List[str] = []
        negated = self._negated_positions(doc)
        sites = [e for e in doc.ents if e.label_ == SITE and not _adverb(doc, e)]
        for term in (e for e in doc.ents if e.label_ == PAIN_TERM):
            if term.start not in negated:
                _add(found, term.ent_id_)
        for _, start, end in self._pain_words(doc):
            if start in negated:
                continue
            site = _nearest(sites, start, end, self.rules.site_window)
            if site is not None:
                _add(found, site.ent_id_)
        return found

    def _context_pain_types(self, context_docs: Iterable[Doc]) -> List[str]:
        found: List[str] = []
        for doc in context_docs:
            for key in self._pain_types(doc):
                _add(found, key)
        return found

    def _negated_positions(self, doc: Doc) -> Set[int]:
        exceptions = {i for _, s, e in self._negation_exceptions(doc) for i in range(s, e)}
        negated: Set[int] = set()
        for _, start, end in self._negations(doc):
            if start in exceptions:
                continue
            negated.update(range(end, min(len(doc), end + self.rules.negation_window)))
        return negated


def _not_terms(vocabulary: Vocabulary) -> List[str]:
    """Never a term on their own: the clinic's ignore list, pain words and one-word body sites."""
    sites = [s for p in vocabulary.pain_types for s in p.site_spellings() if len(s.split()) == 1]
    return [*vocabulary.ignore, *vocabulary.pain_words, *sites]


#: "keep coming back", "goes back to normal": after these verbs "back" is where something returns, not a body site.
_RETURN_VERBS = frozenset({"come", "comes", "coming", "came", "go", "goes", "going", "went", "gone", "get", "gets", "getting",
                           "got", "grow", "grows", "growing", "grew", "flare", "flares", "flaring", "flared", "bounce", "fight"})


def _adverb(doc: Doc, site: Span) -> bool:
    return site.text.lower() == "back" and site.start > 0 and doc[site.start - 1].lower_ in _RETURN_VERBS


def _names_any(text: str, spellings: Iterable[str]) -> bool:
    lowered = f" {normalize(text)} "
    return any(f" {normalize(s)} " in lowered for s in spellings)


def _heading(headings: List[Block]) -> Optional[str]:
    return headings[-1].text if headings else None


def _nearest(sites: List[Span], start: int, end: int, window: int) -> Optional[Span]:
    best: Optional[Tuple[int, int, Span]] = None
    for site in sites:
        distance = start - site.end + 1 if site.end <= start else site.start - end + 1
        if distance > window:
            continue
        rank = (max(distance, 0), 0 if site.end <= start else 1, site)  # ties: the site before ("bone pain")
        if best is None or rank[:2] < best[:2]:
            best = rank
    return best[2] if best else None


def _add(items: List[str], item: str) -> None:
    if item not in items:
        items.append(item)


@lru_cache(maxsize=2)
def default_extractor(vocabulary_path: Path, rules_path: Path, use_lexicon: bool = True) -> Extractor:
    lexicon = optional_lexicon() if use_lexicon else None
    return Extractor(load_vocabulary(vocabulary_path), load_fact_rules(rules_path), lexicon)


def lexicon_installed() -> bool:
    return importlib.util.find_spec(LEXICON_MODULE) is not None


def optional_lexicon() -> Optional[Callable[[str], Sequence]]:
    """``subjects(text)`` of the public medical lexicon (bot.lexicon) when it is installed, else None:
    the store then learns from the documents' own definitions only."""
    if not lexicon_installed():
        return None
    module = importlib.import_module(LEXICON_MODULE)
    try:
        return Memo(module.default_lexicon().subjects)
    except (getattr(module, "LexiconDataError", ValueError), OSError) as error:
        log.warning("medical lexicon unavailable (%s): learning from the documents' definitions only", error)
        return None


def lexicon_sources() -> List[Path]:
    """The files the lexicon is made from (its code and the clinic's data), for the store's fingerprint."""
    if not lexicon_installed():
        return []
    module = importlib.import_module(LEXICON_MODULE)
    files = [Path(module.__file__)] if module.__file__ else []
    folder = module.lexicon_dir() if hasattr(module, "lexicon_dir") else None
    if folder is not None and Path(folder).is_dir():
        files += sorted(Path(folder).glob("*.yml"))
    return files
