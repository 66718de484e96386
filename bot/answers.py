"""The answer composer: the only way a reply is made.

A reply is written in the common subset of Markdown that also reads as plain text: paragraphs
separated by a blank line and "- " lists. A medical answer opens with one sentence that answers the
question, made from the store's links and facts; then the quoted evidence (each passage once, with
the names it supports), then the sources and the disclaimer, each its own paragraph, added here in
one place so no answer can miss them.

What a question is about is resolved here, once: the patient's words become store references
(conditions, pain types, terms), and a medical subject the store does not cover (bot.lexicon)
gets an honest decline that names it, never nearby facts dressed up as the answer.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from spacy.lang.en.stop_words import STOP_WORDS

from bot import texts
from bot.clinic import ClinicConfig, default_clinic_config
from bot.lexicon import Subject, generic_words
from bot.nlp import lemma
from bot.questions import QuestionPart, asked_effect, asked_object, cue_topic, defined_phrase, has_cue, last_sentence, question_parts
from bot.store import ConditionRef, ConditionStore, Evidence, PainTypeRef, TermRef, default_store
from bot.topics import (
    ASPECTS,
    CAPABILITIES_INTENT,
    FEEDBACK_INTENT,
    FORGET_INTENT,
    GENERAL_CONDITION,
    HUMAN_INTENT,
    OUT_OF_SCOPE_INTENT,
    Aspect,
    Topic,
    TopicSpec,
    intent_for_topic,
    spec,
)
from bot.vocabulary import ANSWERABLE_GROUPS, match_key

__all__ = ["AnswerComposer", "Button", "Question", "Reply", "Topic", "default_composer"]

MAX_QUOTES = 6  # enough to answer, short enough to read on a phone
MAX_BUTTONS = 6
MAX_LIST_ITEMS = 6  # a longer list is quoted item by item, only what answers
SPECIFIC_GROUPS = ("autoimmune", "immune-mediated")  # general autoimmune facts help with these
#: Kinds of lexicon subject that make a question about something else when the documents know
#: nothing of them (a body part alone does not: "my wrist hurts" is still a question about pain).
SUBJECT_KINDS = ("condition", "drug", "procedure", "symptom")
#: Topics a named pain answers on its own ("I have scoliosis; what causes hip pain?").
#: Kinds of outside subject a question may ask about beside one the documents cover.
ASIDE_KINDS = ("drug", "procedure")
PAIN_TOPICS = (Topic.CONDITIONS_FOR_PAIN, Topic.PAIN_TYPES)
#: Topics on which what the documents say of autoimmune conditions in general holds for each of them
#: (stress, when to see a doctor, why diagnosis is hard); treatment, diagnosis, symptoms and mechanism
#: are a condition's own, so for a condition they don't cover, the general facts are offered, not quoted.
GENERAL_ADVICE_TOPICS = (Topic.STRESS, Topic.WHEN_TO_SEE_DOCTOR, Topic.DIAGNOSIS_DIFFICULTY, Topic.DIAGNOSIS, Topic.TREATMENT)
#: Topics for which the pain a condition causes is the documents' answer when they say nothing more specific.
LINK_FALLBACK_TOPICS = (Topic.SYMPTOMS, Topic.CONDITION_INFO, Topic.MECHANISM)
#: Words by which a document gives a condition weight ("one of the primary causes"): named first.
WEIGHT_WORDS = ("primary", "main", "most common", "leading", "notable", "prominent", "chief")


@dataclass(frozen=True)
class Button:
    """A choice the patient can tap: the Rasa side turns it into a payload."""

    title: str
    intent: str
    entities: Tuple[Tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: Tuple[Button, ...] = ()
    sources: Tuple[str, ...] = ()  # document titles cited
    medical: bool = False  # True: carries the disclaimer
    condition: Optional[str] = None  # what the answer was about, for the conversation's memory
    pain_type: Optional[str] = None
    #: A medical subject the documents do not cover ("the flu"), when that is why nothing was answered.
    not_covered: Optional[str] = None


@dataclass(frozen=True)
class Question:
    """One patient message as the dialogue understood it."""

    text: str = ""
    topic: Optional[Topic] = None  # from the classifier; None: not decided
    conditions: Tuple[str, ...] = ()  # entity values the NLU found
    pains: Tuple[str, ...] = ()
    context_condition: Optional[str] = None  # from earlier in the conversation
    context_pain: Optional[str] = None
    last_topic: Optional[Topic] = None
    #: A follow-up ("what about RA?"): what it does not name comes from the conversation.
    follow_up: bool = False
    urgent: Optional[str] = None  # the safety screen's "see a doctor today" category
    restricted: Optional[str] = None  # diagnosis_request | dose_request | medication_change
    #: The classifier chose ``topic`` with little confidence: the question's own words may settle it.
    unsure: bool = False


@dataclass(frozen=True)
class _Subject:
    condition: Optional[ConditionRef] = None
    pain: Optional[PainTypeRef] = None
    term: Optional[TermRef] = None  # a term the documents explain or use ("DMARDs", "entheses")
    not_covered: Optional[str] = None  # a named subject outside the documents
    not_covered_kind: Optional[str] = None
    #: A medicine or procedure the question asks about beside a subject we cover ("is bactrim useful for RA?").
    aside: Optional[str] = None
    aside_kind: Optional[str] = None
    #: The patient's name for a kind of the condition ("dermatomyositis" for myositis): said to be more specific.
    kind_of: Optional[str] = None
    #: A body site the patient says hurts that no document makes a pain type of ("jaw pain" beside RA).
    uncovered_site: Optional[str] = None


@dataclass
class _Quote:
    evidence: Evidence
    names: List[str] = field(default_factory=list)


@dataclass
class _Draft:
    """A medical answer being written; ``AnswerComposer._finish`` adds sources and disclaimer."""

    opening: List[str] = field(default_factory=list)
    quotes: List[_Quote] = field(default_factory=list)
    general: List[_Quote] = field(default_factory=list)  # about autoimmune conditions in general
    more: List[str] = field(default_factory=list)  # paragraphs after the evidence
    cited: List[Evidence] = field(default_factory=list)  # cited without a quote of their own

    def quote(self, evidence: Evidence, name: Optional[str] = None, general: bool = False) -> None:
        """Quote a passage once; quoting it again for another name adds the name to it."""
        if any(evidence.text == e.text for e in self.cited):
            return
        for existing in self.quotes + self.general:
            if existing.evidence.text == evidence.text:
                if name and name not in existing.names:
                    existing.names.append(name)
                return
        (self.general if general else self.quotes).append(_Quote(evidence, [name] if name else []))

    @property
    def evidence(self) -> List[Evidence]:
        return self.cited + [q.evidence for q in self.quotes + self.general]

    def paragraphs(self) -> List[str]:
        paragraphs = list(self.opening)
        if self.quotes:
            paragraphs.append(texts.EVIDENCE_HEADING)
            paragraphs.append(_quote_lines(self.quotes))
        if self.general:
            paragraphs.append(texts.GENERAL_TOO)
            paragraphs.append(_quote_lines(self.general))
        return paragraphs + self.more


class AnswerComposer:
    def __init__(self, store: ConditionStore, clinic: ClinicConfig):
        self.store = store
        self.clinic = clinic
        self._documented: Optional[set] = None  # keys of conditions some document speaks of
        self._documents_of: Dict[str, set] = {}  # condition key -> paths of the documents that speak of it
        self._passage_pains: Dict[str, frozenset] = {}  # passage text -> keys of the pain types it names
        self._why_hard: Optional[frozenset] = None  # texts of the general passages on why diagnosis is hard

    # -- a whole message -----------------------------------------------------------------------
    def respond(self, question: Question) -> Reply:
        """Answer a message: each of its questions in order (up to three) in one reply, with one
        disclaimer and the sources of all; the urgent-today advice first when the screen found it."""
        parts = question_parts(question.text)
        if len(parts) >= 2:
            reply = self._several(question, parts)
        elif question.restricted:
            subject = self._subject(question, question.text)
            if subject.not_covered is not None:  # no general quotes stand in for a subject we don't cover
                reply = self._restricted_not_covered(question.restricted, subject)
            else:
                reply = self.restricted(question.restricted, *self._subject_words(question))
        else:
            reply = self._single(question, question.topic, question.text)
        if question.urgent:
            reply = self._with_urgent_advice(reply)
        return reply

    def _single(self, question: Question, topic: Optional[Topic], text: str) -> Reply:
        subject = self._subject(question, text, topic)
        if subject.not_covered is not None:
            return self.not_covered(subject.not_covered, subject.not_covered_kind)
        aspect = aspect_in(text)
        # "is lupus hereditary?", and of a pain the documents describe, "is hip pain inherited?"
        pain_aspect = (aspect is not None and subject.pain is not None and subject.condition is None
                       and self._documented_pain(subject.pain))  # reads the store: only when an aspect is asked
        if aspect is not None and (subject.pain is None or pain_aspect) and (subject.term is None or subject.condition is not None):
            return self._aspect(aspect, subject.condition, subject.pain if pain_aspect else None, question.conditions)
        if question.unsure and topic is not None and topic is question.topic and not has_cue(text, topic):
            # An unsure classifier's reading that none of the words support gives way to the one they do
            # ("... I might need some imaging and possibly see a physical therapist?": treatment, not why
            # diagnosis is hard)
            topic = cue_topic(text) or topic
        topic = topic or cue_topic(text) or question.last_topic or _topic_for(subject)
        named = subject.condition is not None or subject.pain is not None
        defined = defined_phrase(text) if named and topic in (Topic.CONDITION_INFO, Topic.MECHANISM) else None
        if defined is not None:
            # A leaflet's title as a question: "What is (are) Medicines for osteoporosis?" asks about
            # medicines, "What is (are) Nerve problems in lupus?" about the pain lupus causes ("What is
            # MRI?" still asks what MRI is)
            topic = cue_topic(defined, exclude=(Topic.CONDITION_INFO, Topic.MECHANISM)) or topic
            if topic is Topic.CONDITION_INFO and subject.condition is not None and subject.pain is not None:
                topic = Topic.CONDITION_CAUSES_PAIN
        if topic is Topic.CONDITION_INFO and subject.pain is not None and subject.condition is None and subject.term is None:
            # "what is nerve pain?" is answered by how the documents describe it; "what's good for muscle
            # pain?" (read as "what is") by what its words ask
            cued = cue_topic(text)
            topic = cued if cued not in (None, Topic.CONDITION_INFO) else Topic.SYMPTOMS
        if topic is Topic.MECHANISM and subject.pain is not None and subject.condition is None and cue_topic(text) is Topic.CONDITIONS_FOR_PAIN:
            topic = Topic.CONDITIONS_FOR_PAIN  # "what causes muscle pain?": which conditions cause it
        # Only these two topics look further; the umbrella check reads the store, so not for every message.
        unnamed = (topic in (Topic.TREATMENT, Topic.CONDITION_INFO) and not (subject.condition or subject.pain or subject.term)
                   and not self._names_umbrella(question, text))
        if unnamed and self._treatment_of_unnamed_pain(topic, text):
            return self._ask_condition(Topic.TREATMENT, general=True, text=texts.ASK_CONDITION_OF_YOUR_PAIN)
        if unnamed and topic is Topic.CONDITION_INFO:
            # "What is chronic pain?": what autoimmune disease is would be no answer to it; nor to "what is it?"
            phrase = self._unresolved_object(question_parts(text) or (QuestionPart(text, 0, len(text)),), to_define=True)
            if phrase is None:
                return self._ask_condition(topic, general=True)
            used = self.store.passages_using(phrase)
            return self._phrase_used(phrase, used) if used else self.not_covered(phrase)
        if subject.uncovered_site and subject.condition is not None and topic in (Topic.CONDITION_CAUSES_PAIN, Topic.CONDITIONS_FOR_PAIN):
            return self._not_linked(subject.condition, subject.uncovered_site)  # "is jaw pain caused by RA?"
        if subject.term is not None and subject.condition is None and topic is Topic.CONDITION_INFO:
            return self.term(subject.term)  # "what is the synovial membrane in a joint": the term, not joint pain
        if subject.term is not None and subject.condition is None and subject.pain is None and topic is not Topic.CONDITION_INFO:
            asked = defined_phrase(text)  # "what is laser therapy?" (read as treatment) asks what the term is
            if asked is not None and self.store.resolve_term(asked) == subject.term:
                return self.term(subject.term)
        condition = subject.condition
        if condition is not None and condition.group in ANSWERABLE_GROUPS and subject.pain is None and _asks_cause_of(text):
            return self._cause(condition)  # "What causes rheumatoid arthritis?" asks why people get it, not how it hurts
        if (condition is not None and condition.group not in ANSWERABLE_GROUPS and subject.term is not None
                and subject.term.condition == condition.key and spec(topic).fact_kind is not None):
            # A condition the documents only name in passing ("... leading to osteoporosis"): quoted as
            # used, never as how they explain it or treat it
            mentioned = self.term(subject.term)
            if topic is Topic.CONDITION_INFO or not mentioned.medical or _asks_cause_of(text):
                return mentioned
            asked = cue_topic(text, exclude=(Topic.CONDITION_INFO,)) or topic  # "what are the medicines for ...": treatment
            no_topic = texts.NO_SPECIFIC_INFORMATION.format(topic=spec(asked).name, subject=condition.name)
            return replace(mentioned, text=_join([no_topic, mentioned.text]))
        reply = self._answer_refs(topic, subject.condition, subject.pain)
        if reply.not_covered and subject.term is not None and subject.condition is not None and subject.term.condition == subject.condition.key:
            return self.term(subject.term)  # a condition the documents name but say little of ("osteoporosis")
        related = self._related_word(subject.aside) if subject.aside and subject.aside_kind != "drug" and reply.medical else None
        if related is not None:  # "enthesitis-related juvenile idiopathic arthritis": what they say of the entheses, then of JIA
            return self._combine([related, reply])
        if subject.aside and reply.medical:  # say what we cannot speak to before what we can
            gap = [texts.NO_INFORMATION_ON.format(subject=subject.aside), texts.ASK_PHARMACIST if subject.aside_kind == "drug" else texts.ASK_CLINICIAN]
            return replace(reply, text=_join([*gap, reply.text]))
        if subject.kind_of and subject.condition is not None and reply.medical:
            note = texts.ONLY_IN_GENERAL.format(name=subject.condition.name, kind=subject.kind_of.lower())
            return replace(reply, text=_join([note, reply.text]))
        return reply

    def _aspect(self, aspect: Aspect, condition: Optional[ConditionRef], pain: Optional[PainTypeRef] = None,
                words: Sequence[str] = ()) -> Reply:
        """Only the passages that speak of the aspect ("hereditary"), about the condition, the pain or
        autoimmune disease in general; ``words``: the patient's own names for the subject."""
        subject = condition.name if condition else pain.name if pain else spec(Topic.CONDITION_INFO).general_subject
        if condition is not None:
            facts = self.store.facts(condition=condition)
        elif pain is not None:
            facts = self.store.facts(pain=pain) if aspect.of_pains else []
        else:
            facts = self.store.facts(general=True)
        candidates = [f.evidence for f in facts]
        names = [n for n in dict.fromkeys([subject, *words]) if n]
        if aspect.of_subject:  # "... can increase the risk of osteoporosis" names it where no fact is about it
            candidates += [e for name in names for e in self.store.passages_using(name, limit=MAX_QUOTES * 3)]
        pattern = _aspect_pattern(aspect, tuple(names) if aspect.of_subject else (), passages=True)
        # "who gets psoriatic arthritis?": a passage about the condition itself that says who ("occurs in ...")
        own = {f.evidence.text for f in facts} if aspect.own_passage_cues and condition is not None else set()
        own_pattern = _cues_pattern(aspect.own_passage_cues)
        matching = [e for e in _unique(candidates)
                    if pattern.search(" ".join(e.text.lower().split())) or (e.text in own and own_pattern.search(e.text.lower()))][:MAX_QUOTES]
        if matching:
            first, *rest = matching
            draft = _Draft([texts.ASPECT_INTRO.format(about=aspect.about(subject)) + " " + self._opening_of(first, subject)])
            draft.cited.append(first)
            for evidence in _reading_order(rest):
                draft.quote(evidence)
            return self._finish(draft, condition=condition.name if condition else None, pain_type=pain.key if pain else None)
        if pain is not None and condition is None:
            about = Button(_display(spec(Topic.CONDITIONS_FOR_PAIN).did_you_mean.format(subject=pain.name)),
                           intent_for_topic(Topic.CONDITIONS_FOR_PAIN), (("pain_type", pain.key),))
        else:
            about = Button(_display(spec(Topic.CONDITION_INFO).did_you_mean.format(subject=subject)), intent_for_topic(Topic.CONDITION_INFO),
                           (("condition", condition.name if condition else GENERAL_CONDITION),))
        text = _join([texts.NO_ASPECT.format(about=aspect.about(subject)), texts.ASK_CLINICIAN])
        return Reply(text=text, buttons=(about, Button(texts.TALK_TO_A_PERSON, HUMAN_INTENT)),
                     condition=condition.name if condition else None, pain_type=pain.key if pain else None)

    def term(self, term: TermRef) -> Reply:
        """What the documents say about a term: the passage that explains it first, quoted and cited."""
        evidence = self.store.term_evidence(term)[:MAX_QUOTES]
        if not evidence:
            return self.no_information(term.name)
        if all(_bare_item(e) for e in evidence):
            # "Vasculitides" under "Common autoimmune diseases associated with pain": named, never described
            draft = _Draft([texts.ONLY_LISTED.format(term=term.name, heading=evidence[0].heading)])
            draft.cited.extend(evidence)
            return self._finish(draft)
        first, *rest = evidence
        # A passage that only uses the term is quoted as that, not passed off as what the term means.
        introduction = texts.TERM_INTRO if first.defines else texts.TERM_MENTIONED
        draft = _Draft([introduction.format(term=term.name) + " " + self._opening_of(first)])
        draft.cited.append(first)
        for item in rest[:3]:
            draft.quote(item)
        return self._finish(draft)

    def _phrase_used(self, phrase: str, used: Sequence[Evidence]) -> Reply:
        """A phrase the documents use but never explain ("morning stiffness"): the passages that use it,
        said to be that."""
        first, *rest = used
        opening, items = self._opening_quote(first)
        about = self._spoken_of(first) if len(items) == 1 else None  # "It leads to ..." of AS
        if about:
            opening = texts.INLINE_QUOTE_ABOUT.format(name=about, text=_quoted_text(first))
        draft = _Draft([texts.TERM_MENTIONED.format(term=phrase) + " " + opening])
        draft.cited.extend(items)
        for item in rest:
            if item not in items:
                draft.quote(item)
        return self._finish(draft)

    def _opening_quote(self, first: Evidence) -> Tuple[str, Tuple[Evidence, ...]]:
        """The passage an answer opens with, quoted inline: a list item with the rest of its short list
        ("Pain, swelling, and morning stiffness; common in rheumatoid arthritis, lupus ..."), and what it cites."""
        items = self.store.list_around(first) if first.kind == "list_item" and not first.lead_in else (first,)
        items = items if len(items) <= MAX_LIST_ITEMS else (first,)  # "Burning, tingling, shooting; peripheral nerve ..."
        if len(items) == 1:
            return _inline_quote(first), items
        return texts.INLINE_QUOTE.format(text="; ".join([items[0].text] + [_item_text(e.text) for e in items[1:]])), items

    def _opening_of(self, first: Evidence, subject: Optional[str] = None) -> str:
        """An answer's first passage quoted inline, saying whom it speaks of when it does not say."""
        about = self._spoken_of(first, subject)
        return texts.INLINE_QUOTE_ABOUT.format(name=about, text=_quoted_text(first)) if about else _inline_quote(first)

    def _spoken_of(self, evidence: Evidence, subject: Optional[str] = None) -> Optional[str]:
        """Whom a quote speaks of when it does not say ("this chronic inflammation ..." of RA), unless
        that is the reply's own subject: one or two conditions, else nobody in particular."""
        lowered = evidence.text.lower()
        names = [c.name for c in self.store.subjects_of(evidence) if c.name != subject and c.name not in lowered]
        return _and(names) if 1 <= len(names) <= 2 else None

    def _several(self, question: Question, parts: Sequence[QuestionPart]) -> Reply:
        from bot.safety import default_screen

        screen = default_screen()
        topics: List[Optional[Topic]] = [cue_topic(p.text) for p in parts]
        # No cue words: what the part names decides ("can PsA make your hips hurt?" asks whether it causes it).
        named = [self._topic_named(question, p.text) if t is None else None for p, t in zip(parts, topics)]
        if question.topic is not None and question.topic not in topics:
            # The classifier read the message as a whole: its topic belongs to a question the cues and
            # the names leave open ("... and what else can be done for it").
            free = [i for i, t in enumerate(topics) if t is None and named[i] is None] or [i for i, t in enumerate(topics) if t is None] or [0]
            topics[free[0]] = question.topic
        topics = [t or n for t, n in zip(topics, named)]
        replies: List[Reply] = []
        refused: set = set()
        asked = question
        declined = False
        story = question.text[:parts[0].start].strip()  # what the patient told before the first question
        for part, topic in zip(parts, topics):
            finding = screen.restricted_request(part.text)
            if finding is not None:
                if finding.kind not in refused:
                    refused.add(finding.kind)
                    replies.append(Reply(text=_refusal(finding.kind)))
                continue
            if topic is None:
                continue
            if declined and not self._names_something(part.text):
                continue  # "what is scoliosis and how is it treated": "it" is the subject just declined
            # A question that names nothing ("Should I be concerned?") is about what the story tells of
            text = part.text if not story or self._names_something(part.text) or replies else f"{story} {part.text}"
            reply = self._single(asked, topic, text)
            if asked is not question and _says_nothing_new(reply, replies):
                # the same answer again says nothing new: read the question without the condition carried
                # over ("... myositis, and why do the muscles ache in it?": how muscle pain arises)
                reply = self._single(replace(question, conditions=(), context_condition=None, follow_up=False), topic, text)
            replies.append(reply)
            declined = declined or bool(reply.not_covered and not reply.medical)
            if reply.condition:  # "what is lupus and how is it diagnosed": "it" is the lupus just asked about
                asked = replace(asked, context_condition=reply.condition, follow_up=True)
            elif reply.pain_type:  # "which diseases cause hip pain, and when should I get it looked at"
                asked = replace(asked, context_pain=reply.pain_type, follow_up=True)
        if not replies:
            return self._single(question, question.topic, question.text)
        return self._combine(replies)

    def _names_something(self, text: str) -> bool:
        subject = self._subject(Question(text=text), text)
        return any((subject.condition, subject.pain, subject.term, subject.not_covered))

    def _topic_named(self, question: Question, text: str) -> Optional[Topic]:
        # The part's own words only (the store's spellings), not the whole message's entities.
        subject = self._subject(replace(question, conditions=(), pains=(), context_condition=None, context_pain=None,
                                        follow_up=False), text)
        if subject.condition is not None and subject.pain is not None:
            return Topic.CONDITION_CAUSES_PAIN
        if subject.condition is not None or subject.pain is not None:
            return _topic_for(subject)
        return None

    def _combine(self, replies: Sequence[Reply]) -> Reply:
        """One reply from several: each answer's body in order, then every source once and one disclaimer."""
        unique: List[Reply] = []
        for reply in replies:
            if all(reply.text != r.text for r in unique):
                unique.append(reply)
        if len(unique) == 1:
            return unique[0]
        bodies = [_body_of(r, self.clinic.disclaimer) for r in unique]
        titles = tuple(dict.fromkeys(t for r in unique for t in r.sources))
        medical = any(r.medical for r in unique)
        paragraphs = [p for body in bodies for p in body]
        if medical:
            paragraphs += self._closing(titles)
        last = next((r for r in reversed(unique) if r.medical), unique[-1])
        buttons = _feedback_buttons() if medical else next((r.buttons for r in unique if r.buttons), ())
        return Reply(text=_join(paragraphs), buttons=buttons, sources=titles, medical=medical,
                     condition=last.condition, pain_type=last.pain_type,
                     not_covered=next((r.not_covered for r in unique if r.not_covered), None))

    # -- what a question is about --------------------------------------------------------------
    def _subject_words(self, question: Question) -> Tuple[Optional[str], Optional[str]]:
        condition = next(iter(question.conditions), None) or question.context_condition
        pain = next(iter(question.pains), None) or question.context_pain
        return condition, pain

    def _subject(self, question: Question, text: str, topic: Optional[Topic] = None, by_words: bool = True) -> _Subject:
        """The store's references for what ``text`` asks about; the rest of the message (the story)
        and then the conversation fill in what the question itself does not name."""
        from bot.lexicon import default_lexicon

        subjects = default_lexicon().subjects(text)
        subjects = sorted(subjects + self._eponyms(text, subjects), key=lambda s: s.start)
        outside = [s for s in subjects if s.kind in SUBJECT_KINDS and not self._covered(s)]
        outside_words = [s.text.lower() for s in outside]
        outside_keys = [f" {match_key(w)} " for w in outside_words]

        def inside_outside(words: str) -> bool:  # "diabetes" inside "type 2 diabetes" is not type 1 diabetes
            return any(words.lower() in w for w in outside_words)

        terms = [t for t in self.store.terms_in(text) if t.condition is None and not self._umbrella(t.name)
                 and not any(f" {match_key(t.name)} " in k for k in outside_keys)]  # "blood test" in "ACE blood test"

        conditions = [c for c in (self.store.resolve_condition(w) for w in question.conditions if not inside_outside(w)) if c]
        pains = [p for p in (self.store.resolve_pain_type(w) for w in question.pains if not inside_outside(w)) if p]
        # What the store's own spellings find: the same as the NLU's lookup tables, and a document
        # added since the model was trained ("scleritis", "forearm pain") is understood at once.
        named_conditions, named_pains = self.store.names_in(text) if by_words else ([], [])
        conditions += [c for w, c in named_conditions if c not in conditions and not inside_outside(w)]
        # A pain the classifier found only inside another subject's name ("Spinal" of "spinal stenosis",
        # which its synonyms turn into "spine") is no pain asked about.
        only_inside = {p for w, p in named_pains if inside_outside(w)} - {p for w, p in named_pains if not inside_outside(w)}
        pains = [p for p in pains if p not in only_inside]
        pains += [p for w, p in named_pains if p not in pains and not inside_outside(w)]
        condition_words = (*question.conditions, *(w for w, _ in named_conditions))
        in_text = [c for c in conditions if _mentions(text, c, condition_words)] or conditions
        condition = next((c for c in in_text if c.group != "umbrella"), None)
        questions = question_parts(text)
        asked_pains = [p for w, p in named_pains if any(_mentions_words(part.text, w) for part in questions)]
        pain = next(iter(sorted(pains, key=lambda p: p not in asked_pains)), None)  # the question's pain before the story's
        in_question = [s for s in outside if any(p.start <= s.start < p.end for p in questions)]
        if condition is None and pain is None and terms and not any(s.kind != "symptom" for s in in_question):
            return _Subject(term=terms[0])  # ... unless the question asks of something else: "is <drug> useful in arthritis?"
        outside = sorted(outside, key=lambda s: (s not in in_question, s.source == "forms"))
        named = [s for s in outside if s.kind != "symptom"]
        # A pain the patient names is the complaint; a medicine or treatment their story mentions (or a
        # word only a derived form made a name of: "allopathy") is not the subject unless the question
        # itself asks about it ("... tried allopathy ... my knee"). A condition the story names is.
        incidental = [s for s in named if s not in in_question and (s.kind in ASIDE_KINDS or s.source == "forms")]
        pain_answers = pain is not None and (topic in PAIN_TOPICS or not named or (bool(questions) and incidental == named))
        if condition is None and outside and not pain_answers:
            first = (named or outside)[0]
            return _Subject(not_covered=_declined_names(first, named), not_covered_kind=first.kind)
        # A message with no question asks in its last sentence ("... I'd like more info on the stem cell research.")
        asking = questions or last_sentence(text)
        if condition is not None and topic not in PAIN_TOPICS and asking and not self._named_in(asking, condition, condition_words):
            # The story names a covered condition but the question asks about something else: the
            # subject its own words name ("... lupus ... still gets leg cramps. What can she do for the
            # cramps?"), else a medicine the story names ("... wants to give me plaquenil. Should I be
            # concerned?").
            asked = sorted([s for s in outside if any(p.start <= s.start < p.end for p in asking)], key=lambda s: s.kind == "symptom")
            if asked:
                return _Subject(not_covered=_declined_names(asked[0], named), not_covered_kind=asked[0].kind)
            own = self._unknown_object(asking) or self._unresolved_object(asking)  # "... stop the cramps?"
            if own is not None:
                return _Subject(not_covered=own)
            drugs = [s for s in outside if s.kind == "drug"]
            if drugs and not any(s.start < p.end and s.end > p.start for s in subjects for p in asking):
                # "... a reaction to levofloxacin. My doctor wants to give me plaquenil. Should I be
                # concerned?": the medicine named last before the question.
                before = [s for s in drugs if s.start < asking[0].start] or drugs
                nearest = max(before, key=lambda s: s.start)
                return _Subject(not_covered=_display_subject(nearest), not_covered_kind=nearest.kind)
        unknown = [w for w in question.conditions if self.store.resolve_condition(w) is None]
        if condition is None and pain is None and unknown:
            return _Subject(not_covered=unknown[0], not_covered_kind="condition")
        if condition is None and pain is None and not outside and by_words:
            site = _uncovered_pain_site(text, subjects)
            if site is not None:  # "pain in my shoulder": a site the documents do not cover
                return _Subject(not_covered=site)
            phrase = self._unknown_object(questions or (QuestionPart(text, 0, len(text)),))
            if phrase is not None:  # "treatments for milia": words no document uses, whatever the lexicon knows
                return _Subject(not_covered=phrase)
        if condition is None and not outside and (question.follow_up or pain is None):
            condition = self.store.resolve_condition(question.context_condition) if question.context_condition else None
        if pain is None and not outside and (question.follow_up or condition is None):
            pain = self.store.resolve_pain_type(question.context_pain) if question.context_pain else None
        if condition is not None and condition.group == "umbrella":
            condition = None
        named_terms = [t for t in self.store.terms_in(text) if t.condition is not None]
        # A medicine, procedure or other condition the question asks about beside the one we cover ("can
        # osteoarthritis of the wrist occur in AS?"), unless it is what the topic itself is about ("anxiety": stress).
        asides = [s for s in in_question if s.kind in ASIDE_KINDS or (s.kind == "condition" and cue_topic(s.text.lower()) is None)]
        aside = asides[0] if asides and (condition or pain) else None
        caused = self._unknown_effect(questions) if aside is None and condition is not None and pain is None else None
        # "dermatomyositis" is one kind of myositis: what the documents say of myositis is not about it alone
        kind_of = next((w for w in condition_words if condition is not None and self.store.resolve_condition(w) == condition
                        and _names_a_kind_of(w, condition.name)), None)
        uncovered_site = None
        if condition is not None and pain is None:  # "jaw pain", "headaches", "pain in my shoulder"
            uncovered_site = _uncovered_pain_site(text, subjects) or next(
                (s.text.lower() for s in outside if s.kind == "symptom" and _ACHE.search(s.text)), None)
        return _Subject(condition=condition, pain=pain, term=next(iter(terms or named_terms), None),
                        # "can RA cause dry eyes?": an effect no document speaks of is declined before what they say of RA
                        aside=_declined_names(aside, asides) if aside else caused, aside_kind=aside.kind if aside else None, kind_of=kind_of,
                        uncovered_site=uncovered_site)

    def _eponyms(self, text: str, found: Sequence[Subject]) -> List[Subject]:
        """"Hirayama's disease": a named disease no document and no lexicon entry knows is still a
        subject (the lexicon reads only "disease" there, a word too general to decline by)."""
        out = []
        for match in _EPONYM.finditer(text):
            start, end = match.span()
            if any(s.start < end and start < s.end and s.end - s.start > len(match.group(2)) for s in found):
                continue  # the lexicon knows it ("Crohn's disease")
            if self.store.unknown_words([match.group(1)]):
                out.append(Subject(match.group(0), match.group(0), "condition", start, end, "eponym"))
        return out

    def _unknown_object(self, parts: Sequence[QuestionPart]) -> Optional[str]:
        """What a question asks about ("treatments for X"), when some of its own words appear in no
        document: the documents cannot be answering it, so nearby facts must not stand in for it."""
        for part in parts:
            phrase = asked_object(part.text)
            if phrase is None:
                continue
            words = self._content_words(phrase)
            if words and self.store.unknown_words(words):
                return _display_phrase(phrase)
        return None

    def _unknown_effect(self, parts: Sequence[QuestionPart]) -> Optional[str]:
        """What a question asks a condition to cause ("can RA cause dry eyes?", "does lupus give you
        night sweats?"), when some of its words appear in no document."""
        for part in parts:
            phrase = asked_effect(part.text)
            words = self._content_words(phrase) if phrase else []
            if phrase and words and self.store.unknown_words(words):
                return _display_phrase(phrase)
        return None

    def _unresolved_object(self, parts: Sequence[QuestionPart], to_define: bool = False) -> Optional[str]:
        """What a question asks about when the store resolves none of it to a condition, a pain or a
        term: after a story about lupus, "what can she do to stop the cramps?" asks about the cramps.
        ``to_define``: what "what is X?" asks to have defined ("chronic pain"), even in everyday words;
        not "it", nor a topic's own word ("what are the symptoms"), nor autoimmune disease itself."""
        for part in parts:
            phrase = asked_object(part.text)
            if phrase is None or (to_define and cue_topic(phrase) is not None):
                continue
            words = [w for w in re.findall(r"[a-z]+", phrase.lower()) if w not in STOP_WORDS] if to_define else self._content_words(phrase)
            if not words:
                continue
            conditions, pains = self.store.names_in(phrase)
            if not (conditions or pains or self.store.terms_in(phrase) or (to_define and self._umbrella(phrase))):
                return _display_phrase(phrase)
        return None

    @staticmethod
    def _content_words(phrase: str) -> List[str]:
        generic = generic_words()
        return [w for w in re.findall(r"[^\W\d_]{3,}", phrase)  # "ups" of "flare ups" is no word; "WBC" is
                if (len(w) >= 4 or w.isupper()) and w.lower() not in STOP_WORDS and w.lower() not in generic
                and lemma(w) not in generic and not w.lower().endswith("ly")]  # "exactly", "usually"

    def _covered(self, subject: Subject) -> bool:
        """A subject is covered when the documents explain or use it (the term index), or when it is
        one of the clinic's own vocabulary names that a document speaks of. Never by a word inside
        it ("hip" in "hip replacement") or a near spelling ("type 2" for "type 1 diabetes")."""
        if self.store.resolve_term(subject.text) is not None or self.store.resolve_term(subject.name) is not None:
            return True
        if subject.source != "vocabulary":
            return False
        condition = self.store.resolve_condition(subject.text)
        if condition is not None:
            return self._documented_condition(condition)
        return self.store.resolve_pain_type(subject.text) is not None

    def _named_in(self, parts: Sequence[QuestionPart], condition: ConditionRef, words: Sequence[str]) -> bool:
        """Whether these questions themselves (not the story) name the condition, by any of its names."""
        for part in parts:
            if _mentions(part.text, condition, words) or self.store.resolve_condition(part.text) == condition:
                return True
            if any(t.condition == condition.key for t in self.store.terms_in(part.text)):
                return True
        return False

    def _treatment_of_unnamed_pain(self, topic: Optional[Topic], text: str) -> bool:
        """How to treat one's own pain, with no condition named ("is there something else that can help my
        pain?"): how autoimmune conditions are treated (DMARDs, biologics) is no answer; ask which condition."""
        return topic is Topic.TREATMENT and _tells_of_a_complaint(text) and not self._names_covered(text)

    def _names_covered(self, text: str) -> bool:
        """Whether the text names a medicine, procedure or symptom the documents speak of ("physical therapy")."""
        from bot.lexicon import default_lexicon

        return any(s.kind in SUBJECT_KINDS and self._covered(s) for s in default_lexicon().subjects(text))

    def _names_umbrella(self, question: Question, text: str) -> bool:
        """Whether the question speaks of autoimmune conditions as such ("how are autoimmune diseases treated?")."""
        words = [*question.conditions, *([question.context_condition] if question.context_condition else [])]
        return any(self._umbrella(w) for w in words) or any(c.group == "umbrella" for _, c in self.store.names_in(text)[0])

    def _umbrella(self, words: str) -> bool:
        condition = self.store.resolve_condition(words)
        return condition is not None and condition.group == "umbrella"

    def _documented_condition(self, condition: ConditionRef) -> bool:
        if self._documented is None:
            self._documented = {c.key for c in self.store.conditions_with_information()}
        return condition.group == "umbrella" or condition.key in self._documented

    # -- medical answers ----------------------------------------------------------------------
    def answer(self, topic: Topic, condition: Optional[str] = None, pain: Optional[str] = None) -> Reply:
        """Answer a question of ``topic`` about a condition and/or pain type, given in the patient's words."""
        condition_ref = self.store.resolve_condition(condition) if condition else None
        pain_ref = self.store.resolve_pain_type(pain) if pain else None
        if condition and condition_ref is None:
            return self.no_information(condition)
        if pain and pain_ref is None:
            return self.no_information(pain)
        if condition_ref is not None and condition_ref.group == "umbrella":
            condition_ref = None  # "autoimmune disease" in general
        return self._answer_refs(topic, condition_ref, pain_ref)

    def _answer_refs(self, topic: Topic, condition: Optional[ConditionRef], pain: Optional[PainTypeRef]) -> Reply:
        if pain is not None and condition is None and not self._documented_pain(pain):
            return self.no_information(pain.name, pain_type=pain.key)  # e.g. ear pain
        if topic is Topic.CONDITIONS_FOR_PAIN:
            return self._conditions_for_pain(pain, condition)
        if topic is Topic.CONDITION_CAUSES_PAIN:
            return self._condition_causes_pain(condition, pain)
        if topic is Topic.PAIN_TYPES:
            return self._pain_types(condition)
        return self._facts(topic, condition, pain)

    def _conditions_for_pain(self, pain: Optional[PainTypeRef], condition: Optional[ConditionRef] = None) -> Reply:
        if pain is None:
            if condition is not None:
                return self._pain_types(condition)
            return self._ask_pain(Topic.CONDITIONS_FOR_PAIN)
        results = self.store.conditions_for_pain(pain)
        if not results:
            return self.no_information(pain.name, pain_type=pain.key)
        results = sorted(results, key=lambda r: _weight_order(r.evidence))
        names = [r.condition.name for r in results]
        template = texts.CONDITIONS_FOR_PAIN if len(names) > 1 else texts.CONDITION_FOR_PAIN
        draft = _Draft([template.format(count=_count(len(names)), pain=pain.name, names=_and(names))])
        for result in results:
            draft.quote(result.evidence[0], name=_display(result.condition.name))
        return self._finish(draft, pain_type=pain.key)

    def _condition_causes_pain(self, condition: Optional[ConditionRef], pain: Optional[PainTypeRef]) -> Reply:
        if condition is None and pain is not None:
            return self._conditions_for_pain(pain)
        if condition is None:
            return self._ask_condition(Topic.CONDITION_CAUSES_PAIN)
        if pain is None:
            return self._pain_types(condition)
        evidence = self.store.link_evidence(condition, pain)
        if evidence:
            draft = _Draft([texts.CAUSES_PAIN_YES.format(condition=condition.name, pain=pain.name)])
            for item in evidence[:2]:
                draft.quote(item)
            return self._finish(draft, condition=condition.name, pain_type=pain.key)
        return self._not_linked(condition, pain.name, pain.key)

    def _not_linked(self, condition: ConditionRef, pain_name: str, pain_key: Optional[str] = None) -> Reply:
        """A pain the documents do not link to the condition ("jaw pain" and RA): say so, then the pains
        they do link to it, quoted."""
        others = self.store.pains_for_condition(condition)
        if not others:
            return self.no_information(condition.name, condition=condition.name)
        draft = _Draft([
            texts.CAUSES_PAIN_NOT_STATED.format(condition=condition.name, pain=pain_name)
            + " " + texts.CAUSES_PAIN_OTHER_PAINS.format(condition=condition.name, pains=_and([o.pain_type.name for o in others]))
        ])
        for other in others:
            draft.quote(other.evidence[0], name=_display(other.pain_type.name))
        return self._finish(draft, condition=condition.name, pain_type=pain_key)

    def _pain_types(self, condition: Optional[ConditionRef], gap: Optional[str] = None) -> Reply:
        """The kinds of pain the documents link to a condition (or to autoimmune conditions); ``gap`` says
        first what they do not say ("Our documents don't describe what fibromyalgia is.")."""
        if condition is None:
            pains = self.store.pain_types_with_information()
            if not pains:
                return self.no_information(texts.GENERAL_PAIN_SUBJECT)
            draft = _Draft([texts.PAIN_TYPES_GENERAL.format(pains=_and([p.name for p in pains]))])
            for pain in pains:
                results = sorted(self.store.conditions_for_pain(pain), key=lambda r: _weight_order(r.evidence))[:3]
                draft.more.append("- " + texts.PAIN_TYPE_CONDITIONS.format(
                    pain=_display(pain.name), conditions=_and([r.condition.name for r in results])))
                draft.cited.extend(r.evidence[0] for r in results)
            return self._finish(draft)
        links = self.store.pains_for_condition(condition)
        if not links:
            return self.no_information(condition.name, condition=condition.name)
        names = [link.pain_type.name for link in links]
        if gap:
            template = gap + " " + (texts.PAIN_TYPES_INSTEAD if len(names) > 1 else texts.PAIN_TYPE_INSTEAD)
        else:
            template = texts.PAIN_TYPES_OF_CONDITION if len(names) > 1 else texts.PAIN_TYPE_OF_CONDITION
        draft = _Draft([template.format(condition=condition.name, count=_count(len(names)), pains=_and(names))])
        for link in links:
            draft.quote(link.evidence[0], name=_display(link.pain_type.name))
        return self._finish(draft, condition=condition.name)

    def _facts(self, topic: Topic, condition: Optional[ConditionRef], pain: Optional[PainTypeRef]) -> Reply:
        topic_spec = spec(topic)
        kind = topic_spec.fact_kind or topic.value
        if condition is not None:
            specific, subject = self.store.facts(kind, condition=condition), condition.name
        elif pain is not None:
            specific, subject = self.store.facts(kind, pain=pain), pain.name
        else:
            specific, subject = [], topic_spec.general_subject
        # Statements about autoimmune conditions in general help with lupus or hip pain, but they
        # do not say what lupus is, and they say nothing about gout or osteoporosis.
        wants_general = condition is None or (condition.group in SPECIFIC_GROUPS and topic is not Topic.CONDITION_INFO)
        general = self.store.facts(kind, general=True) if wants_general else []
        if condition is not None or pain is not None:
            # For a named subject, only what is said of autoimmune conditions as such, not of one pain
            # ("Managing bone pain ..." or "persistent hip pain ... see a doctor" is no answer about
            # lupus or nerve pain).
            general = [f for f in general if f.pain_type is None]
        # One place is kept for what they say of autoimmune conditions in general: for lupus or RA it is
        # the documents' core statement (the immune system attacking the body's own tissues).
        keep_general = 0
        if condition is not None:
            # ... from the documents that speak of this condition when they say something of the kind: the
            # hip document's DMARDs are about inflammatory arthritis, no answer for fibromyalgia, which only
            # the pain document names (where its own documents say nothing of it, the others' words stand)
            about = self._documents_about(condition)
            general = [f for f in general if f.evidence.document_path in about] or general
            keep_general = 1 if general else 0
        elif pain is not None:
            # ... and for a pain, from the documents that speak of it: DMARDs and surgery for arthritis are
            # no answer for muscle or nerve pain, which only the pain document covers
            about = self._documents_about_pain(pain)
            general = [f for f in general if f.evidence.document_path in about] or general
        specific_quotes = _unique(f.evidence for f in specific)[:MAX_QUOTES - keep_general]
        general_quotes = [e for e in _unique(f.evidence for f in general) if e.text not in {q.text for q in specific_quotes}]
        by_site = pain is not None and condition is None and not specific_quotes
        if pain is not None and condition is None:
            # What they say in general of the pain's own site is about it too: "reduce nerve sensitivity" for
            # nerve pain, "persistent hip pain along with ... joint swelling ... consulting a healthcare
            # professional" for joint pain (or of the conditions that cause it: "early diagnosis ... vital to
            # prevent irreversible bone damage")
            site = pain.key
            pool = general_quotes + [e for e in _unique(f.evidence for f in self.store.facts(kind)) if e not in general_quotes]
            by_words = [e for e in pool if e not in specific_quotes and site in self._pains_named(e.text)]
            specific_quotes = (specific_quotes + by_words)[:MAX_QUOTES]
            general_quotes = [e for e in general_quotes if e not in specific_quotes]
        general_quotes = self._how_before_why(topic, general_quotes)[: MAX_QUOTES - len(specific_quotes)]
        if not specific_quotes and condition is not None and topic in LINK_FALLBACK_TOPICS and self.store.pains_for_condition(condition):
            # What they do say of it: the pain it causes, quoted, after saying plainly that this is not
            # what was asked ("what is fibromyalgia?" has no answer in the documents, only its muscle pain).
            if topic is Topic.SYMPTOMS:
                return self._pain_types(condition)  # the pain it causes, as the documents describe it, is what they say of its symptoms
            return self._pain_types(condition, gap=texts.NOT_DESCRIBED.format(subject=condition.name) if topic is Topic.CONDITION_INFO
                                    else texts.NO_SPECIFIC_INFORMATION.format(topic=topic_spec.name, subject=condition.name))
        if not specific_quotes and not general_quotes:
            return self.no_information_on_topic(topic_spec, subject, condition=condition.name if condition else None)
        asked_about_something = condition is not None or pain is not None
        condition_name = condition.name if condition else None
        pain_key = pain.key if pain else None
        if specific_quotes or not asked_about_something:
            # The store ranks what is most to the point first: that passage answers; the rest, in the
            # documents' own order, is the evidence after it.
            first, *rest = specific_quotes or general_quotes
            opening, items = self._opening_quote(first)
            introduction = topic_spec.pain_introduction if condition is None and pain is not None and topic_spec.pain_introduction else topic_spec.introduction
            draft = _Draft([introduction.format(subject=subject) + " " + opening])
            draft.cited.extend(items)
            rest = [e for e in rest if e not in items]
            for evidence in _reading_order(rest):
                draft.quote(evidence)
            if specific_quotes and (condition is not None or by_site or topic is Topic.TREATMENT):
                for evidence in self._general_order(topic, general_quotes):
                    draft.quote(evidence, general=True)
            return self._finish(draft, condition=condition_name, pain_type=pain_key)
        if general_quotes and (condition is None or condition.group in SPECIFIC_GROUPS) and topic in GENERAL_ADVICE_TOPICS:
            # An autoimmune condition (or a pain) they say nothing specific of: say so plainly, then
            # what they say of autoimmune conditions in general.
            draft = _Draft([texts.NO_SPECIFIC_INFORMATION.format(topic=topic_spec.name, subject=subject)])
            for evidence in self._general_order(topic, general_quotes):
                draft.quote(evidence, general=True)
            return self._finish(draft, condition=condition_name, pain_type=pain_key)
        # Nothing on this subject: say so, and offer (never pass off) what they say in general.
        general_button = Button(_display(topic_spec.did_you_mean.format(subject=topic_spec.general_subject)),
                                topic_spec.intent, (("condition", GENERAL_CONDITION),))
        text = _join([texts.NO_SPECIFIC_INFORMATION.format(topic=topic_spec.name, subject=subject), texts.ASK_CLINICIAN,
                      texts.GENERAL_OFFER])
        return Reply(text=text, buttons=(general_button, Button(texts.TALK_TO_A_PERSON, HUMAN_INTENT)),
                     condition=condition_name, pain_type=pain_key)

    def _general_order(self, topic: Topic, quotes: Sequence[Evidence]) -> List[Evidence]:
        """General quotes as listed: in the documents' order, how before why for diagnosis."""
        return self._how_before_why(topic, _reading_order(quotes))

    def _how_before_why(self, topic: Topic, quotes: Sequence[Evidence]) -> List[Evidence]:
        """For how a condition is diagnosed, how it is done ("Diagnosis involves clinical evaluation,
        blood tests ...") before why it is hard ("initial tests are normal"); otherwise as given."""
        if topic is not Topic.DIAGNOSIS:
            return list(quotes)
        if self._why_hard is None:
            self._why_hard = frozenset(f.evidence.text for f in self.store.facts(spec(Topic.DIAGNOSIS_DIFFICULTY).fact_kind or "", general=True))
        hard = self._why_hard
        return sorted(quotes, key=lambda e: e.text in hard)

    def _finish(self, draft: _Draft, condition: Optional[str] = None, pain_type: Optional[str] = None) -> Reply:
        """Finish a medical answer: the sources it quoted, then the disclaimer. Nothing else adds them."""
        draft.quotes, draft.general = self._whole_lists(draft, draft.quotes), self._whole_lists(draft, draft.general)
        for quote in draft.quotes:
            about = None if quote.names or quote.evidence.kind == "list_item" else self._spoken_of(quote.evidence, condition)
            if about:  # "- Rheumatoid arthritis: “Over time, this chronic inflammation ...”"
                quote.names.append(_display(about))
        titles = tuple(dict.fromkeys(e.document for e in draft.evidence))
        text = _join(draft.paragraphs() + self._closing(titles))
        return Reply(text=text, buttons=_feedback_buttons(), sources=titles, medical=True, condition=condition, pain_type=pain_type)

    def _pains_named(self, passage: str) -> frozenset:
        """The pain types a passage names (keys); passages are few and fixed, so worked out once each."""
        if passage not in self._passage_pains:
            self._passage_pains[passage] = frozenset(p.key for _, p in self.store.names_in(passage)[1])
        return self._passage_pains[passage]

    def _documents_about(self, condition: ConditionRef) -> set:
        """The documents (paths) that say something of this condition: a fact or a pain it causes."""
        if condition.key not in self._documents_of:
            paths = {f.evidence.document_path for f in self.store.facts(condition=condition)}
            paths |= {e.document_path for r in self.store.pains_for_condition(condition) for e in r.evidence}
            self._documents_of[condition.key] = paths
        return self._documents_of[condition.key]

    def _cause(self, condition: ConditionRef) -> Reply:
        """What brings the condition on, where a document says ("It can be brought on by ..."). Else that they
        don't say, then what it is, and (for an autoimmune condition) what they say autoimmune conditions are:
        the immune system attacking the body's own tissues."""
        stated = self._cause_stated(condition)
        if stated:
            first, *rest = stated
            draft = _Draft([texts.CAUSE_INTRO.format(subject=condition.name) + " " + _inline_quote(first)])
            draft.cited.append(first)
            for evidence in rest:
                draft.quote(evidence)
            return self._finish(draft, condition=condition.name)
        own = _unique(f.evidence for f in self.store.facts("what_is", condition=condition))
        about = self._documents_about(condition)
        core = [e for e in _unique(f.evidence for f in self.store.facts("what_is", general=True) if f.pain_type is None)
                if e.document_path in about] if condition.group in SPECIFIC_GROUPS else []
        if not own:  # nothing says what it is either: the pain they link to it
            return self._pain_types(condition, gap=texts.CAUSE_NOT_STATED.format(subject=condition.name))
        first = own[0]
        draft = _Draft([texts.CAUSE_NOT_STATED.format(subject=condition.name) + " "
                        + spec(Topic.CONDITION_INFO).introduction.format(subject=condition.name) + " " + _inline_quote(first)])
        draft.cited.append(first)
        for evidence in core[:1]:
            if evidence != first:
                draft.quote(evidence, general=True)
        return self._finish(draft, condition=condition.name)

    def _cause_stated(self, condition: ConditionRef) -> List[Evidence]:
        """The passages that say what brings the condition on ("It can be brought on by ..." in a document
        about parotitis): in its own documents, naming it or in a document whose title does."""
        about = self._documents_about(condition)

        def names_it(text: str) -> bool:
            return any(c == condition for _, c in self.store.names_in(text)[0])

        return [e for e in self.store.passages() if e.document_path in about and _CAUSED_BY.search(e.text)
                and (names_it(e.text) or names_it(e.document))][:MAX_QUOTES]

    def _documents_about_pain(self, pain: PainTypeRef) -> set:
        """The documents (paths) that say something of this pain: a condition that causes it, or a fact."""
        key = "pain:" + pain.key
        if key not in self._documents_of:
            paths = {e.document_path for r in self.store.conditions_for_pain(pain) for e in r.evidence}
            paths |= {f.evidence.document_path for f in self.store.facts(pain=pain)}
            self._documents_of[key] = paths
        return self._documents_of[key]

    def _whole_lists(self, draft: _Draft, quotes: Sequence[_Quote]) -> List[_Quote]:
        """A quoted list item brings the rest of its short list: "Common in fibromyalgia and myositis"
        means little without the muscle pain it lists above it, nor one treatment item without the others."""
        out: List[_Quote] = []
        taken = {e.text for e in draft.cited} | {q.evidence.text for q in draft.quotes + draft.general if q not in quotes}
        for quote in quotes:
            items = self.store.list_around(quote.evidence) if quote.evidence.kind == "list_item" else ()
            if not 1 < len(items) <= MAX_LIST_ITEMS:
                items = (quote.evidence,)
            for item in items:
                existing = next((q for q in out if q.evidence.text == item.text), None)
                if existing is not None:
                    existing.names.extend(n for n in quote.names if n not in existing.names)
                elif item.text not in taken or item.text == quote.evidence.text:
                    out.append(_Quote(item, list(quote.names)))
        return out

    def _closing(self, titles: Sequence[str]) -> List[str]:
        template = texts.SOURCES if len(titles) == 1 else texts.SOURCES_MANY
        return [template.format(titles="; ".join(titles)), self.clinic.disclaimer]

    # -- honest gaps and clarifying questions -------------------------------------------------
    def not_covered(self, subject: str, kind: Optional[str] = None) -> Reply:
        """A medical subject the documents do not cover: say so, naming it, who can help, and what the bot covers."""
        related = self._related_word(subject) if kind != "drug" else None
        if related is not None:
            return related
        lines = [texts.NO_INFORMATION_ON.format(subject=subject), texts.ASK_PHARMACIST if kind == "drug" else texts.ASK_CLINICIAN]
        lines.append(self._what_i_cover())
        return Reply(text=_join(lines), buttons=self._example_buttons(), not_covered=subject)

    def _related_word(self, subject: str) -> Optional[Reply]:
        """"Enthesitis", "sacroiliitis": an inflammation named after a part the documents speak of (the
        entheses, the sacroiliac joints). Said to be their word, not ours, and quoted; None otherwise."""
        for word in _INFLAMMATION_WORD.findall(subject):
            stem = word[: -len("itis")]
            if len(stem) < MIN_STEM:
                continue
            found = [(w, e) for w, e in self.store.passages_with_word_starting(stem) if w.lower() != word.lower()]
            if not found:
                continue
            related, evidence = found[0][0].lower(), [e for _, e in found]
            # The documents' own term for it ("sacroiliac joints"), and the passage that explains it first
            term = next((t for e in evidence for t in self.store.terms_in(e.text) if t.name.lower().startswith(stem.lower())), None)
            if term is not None:
                related, evidence = term.name, list(self.store.term_evidence(term)[:MAX_QUOTES])
            first, *rest = evidence
            draft = _Draft([texts.RELATED_WORD.format(word=word.lower(), related=related) + " " + self._opening_of(first)])
            draft.cited.append(first)
            for item in rest[:2]:
                draft.quote(item)
            return replace(self._finish(draft), not_covered=subject)
        return None

    def _restricted_not_covered(self, kind: str, subject: _Subject) -> Reply:
        declined = self.not_covered(subject.not_covered or "", subject.not_covered_kind)
        return replace(declined, text=_join([_refusal(kind), declined.text]))

    def no_information(self, subject: str, condition: Optional[str] = None, pain_type: Optional[str] = None) -> Reply:
        text = _join([texts.NO_INFORMATION_ON.format(subject=subject), texts.ASK_CLINICIAN, self._what_i_cover()])
        return Reply(text=text, buttons=self._example_buttons(), condition=condition, pain_type=pain_type, not_covered=subject)

    def no_information_on_topic(self, topic_spec: TopicSpec, subject: str, condition: Optional[str] = None) -> Reply:
        ref = self.store.resolve_condition(condition) if condition else None
        documented = ref is None or self._documented_condition(ref)
        if topic_spec.topic is Topic.CONDITION_INFO or not documented:
            return self.no_information(subject, condition=condition)  # a condition no document speaks of
        text = _join([texts.NO_INFORMATION_TOPIC.format(topic=topic_spec.name, subject=subject), texts.ASK_CLINICIAN,
                      self._what_i_cover()])
        return Reply(text=text, buttons=self._example_buttons(), condition=condition)

    def _ask_pain(self, topic: Topic) -> Reply:
        intent = intent_for_topic(topic)
        buttons = tuple(
            Button(_display(p.name), intent, (("pain_type", p.key),))
            for p in self.store.pain_types_with_information()[:MAX_BUTTONS]
        )
        return Reply(text=texts.ASK_WHICH_PAIN, buttons=buttons)

    def _ask_condition(self, topic: Topic, general: bool = False, text: str = texts.ASK_WHICH_CONDITION) -> Reply:
        """Which condition? With ``general``, autoimmune conditions in general is one of the choices."""
        intent = intent_for_topic(topic)
        conditions = self._specific_conditions()[:MAX_BUTTONS - 1 if general else MAX_BUTTONS]
        buttons = tuple(Button(_display(c.name), intent, (("condition", c.name),)) for c in conditions)
        if general:
            topic_spec = spec(topic)
            buttons += (Button(_display(topic_spec.did_you_mean.format(subject=topic_spec.general_subject)), intent,
                               (("condition", GENERAL_CONDITION),)),)
        return Reply(text=text, buttons=buttons)

    def _documented_pain(self, pain: PainTypeRef) -> bool:
        return bool(self.store.conditions_for_pain(pain) or self.store.facts(pain=pain))

    def _specific_conditions(self) -> List[ConditionRef]:
        return [c for c in self.store.conditions_with_information() if c.group in ANSWERABLE_GROUPS]

    def _what_i_cover(self) -> str:
        pains = _and([p.name for p in self.store.pain_types_with_information()])
        conditions = _and([c.name for c in self._specific_conditions()[:6]])
        return texts.WHAT_I_COVER.format(pains=pains, conditions=conditions)

    def _example_buttons(self) -> Tuple[Button, ...]:
        buttons: List[Button] = []
        pains = self.store.pain_types_with_information()
        if pains:
            buttons.append(Button(texts.EXAMPLE_CONDITIONS_FOR_PAIN.format(pain=pains[0].name), intent_for_topic(Topic.CONDITIONS_FOR_PAIN),
                                  (("pain_type", pains[0].key),)))
        conditions = self._specific_conditions()
        if conditions:
            buttons.append(Button(texts.EXAMPLE_CONDITION_INFO.format(condition=conditions[0].name), intent_for_topic(Topic.CONDITION_INFO),
                                  (("condition", conditions[0].name),)))
        buttons.append(Button(texts.EXAMPLE_STRESS, intent_for_topic(Topic.STRESS)))
        buttons.append(Button(texts.TALK_TO_A_PERSON, HUMAN_INTENT))
        return tuple(buttons)

    # -- conversation -------------------------------------------------------------------------
    def capabilities(self) -> Reply:
        pains = _and([p.name for p in self.store.pain_types_with_information()])
        return Reply(text=texts.CAPABILITIES.format(pains=pains), buttons=self._example_buttons())

    def out_of_scope(self, question: Optional[Question] = None) -> Reply:
        # The classifier says it is not a medical question: only a subject the lexicon names is declined
        # by name ("what's the weather like tomorrow" gets the plain out-of-scope reply).
        clear = self.answer_if_clear(question, by_words=False) if question else None
        return clear or self._urgent_first(question, Reply(text=_join([texts.OUT_OF_SCOPE, self._what_i_cover()]), buttons=self._example_buttons()))

    def not_understood(self, question: Optional[Question] = None) -> Reply:
        clear = self.answer_if_clear(question) if question else None
        return clear or self._urgent_first(question, Reply(text=_join([texts.NOT_UNDERSTOOD, self._what_i_cover()]), buttons=self._example_buttons()))

    def answer_if_clear(self, question: Question, ranked_topics: Sequence[Topic] = (), by_words: bool = True) -> Optional[Reply]:
        """When the classifier is unsure, the patient's own words may still settle it: a medical
        subject outside the documents gets its named decline; a subject the documents cover gets the
        likeliest reading answered (the topic its words name, else the classifier's best guess), with
        the other reading offered as a button. None when the words settle nothing."""
        if not question.text.strip():
            return None
        guess = next(iter(ranked_topics), None)
        cued = cue_topic(question.text)
        # Only what this message itself names: an unclear message is never answered about the last subject.
        question = replace(question, context_condition=None, context_pain=None, follow_up=False, last_topic=None)
        subject = self._subject(question, question.text, cued or guess, by_words=by_words)
        if subject.not_covered is not None:
            return self._urgent_first(question, self.not_covered(subject.not_covered, subject.not_covered_kind))
        if not (subject.condition or subject.pain or subject.term):
            if self._treatment_of_unnamed_pain(cued or guess, question.text) and not self._names_umbrella(question, question.text):
                return self._urgent_first(question, self._ask_condition(Topic.TREATMENT, general=True, text=texts.ASK_CONDITION_OF_YOUR_PAIN))
            asked = defined_phrase(question.text)  # "what is morning stiffness?": a phrase the documents use
            used = self.store.passages_using(asked) if asked else []
            return self._urgent_first(question, self._phrase_used(_display_phrase(asked), used)) if asked and used else None
        topic = cued or guess or _topic_for(subject)
        reply = self._single(question, topic, question.text)
        other = next((t for t in (cued, *ranked_topics) if t is not None and t is not topic), None)
        if other is None or not reply.medical:
            return self._urgent_first(question, reply)
        entities: Tuple[Tuple[str, str], ...] = ()
        if subject.condition is not None:
            entities += (("condition", subject.condition.name),)
        if subject.pain is not None:
            entities += (("pain_type", subject.pain.key),)
        alternative = Button(texts.OR_READING.format(reading=self._reading(other, subject)), intent_for_topic(other), entities)
        return self._urgent_first(question, replace(reply, buttons=(alternative, *reply.buttons)))

    def ask_rephrase(self) -> Reply:
        return Reply(text=texts.ASK_REPHRASE)

    def did_you_mean(self, ranked_topics: Sequence[Topic], question: Optional[Question] = None) -> Reply:
        """The classifier is unsure: answer when the words settle it (``answer_if_clear``), otherwise
        offer the two likeliest readings in the patient's terms ("How lupus is treated", "What lupus is")."""
        question = question or Question()
        clear = self.answer_if_clear(question, ranked_topics)
        if clear is not None:
            return clear
        subject = self._subject(question, question.text) if question.text else _Subject()
        cued = cue_topic(question.text) if question.text else None
        readings = list(dict.fromkeys(([cued] if cued else []) + list(ranked_topics)))[:2]
        words = [w for w in re.findall(r"[^\W\d_]{3,}", question.text) if w.lower() not in STOP_WORDS]
        if not readings or (not cued and len(words) >= 3 and len(self.store.unknown_words(words)) == len(words)):
            # A sentence with no word any document uses ("how tall is mount everest"): no reading of ours fits it
            return self.not_understood(replace(question, text=""))
        entities: Tuple[Tuple[str, str], ...] = ()
        if subject.condition is not None:
            entities += (("condition", subject.condition.name),)
        if subject.pain is not None:
            entities += (("pain_type", subject.pain.key),)
        if not entities:  # the reading says "autoimmune conditions" (in general): so does its payload
            entities = (("condition", GENERAL_CONDITION),)
        buttons = tuple(
            Button(self._reading(topic, subject), intent_for_topic(topic), entities) for topic in readings
        ) + (Button(texts.SOMETHING_ELSE, OUT_OF_SCOPE_INTENT),)
        return self._urgent_first(question, Reply(text=texts.DID_YOU_MEAN, buttons=buttons))

    def _reading(self, topic: Topic, subject: _Subject) -> str:
        topic_spec = spec(topic)
        if topic in (Topic.CONDITIONS_FOR_PAIN,) and subject.pain is not None:
            words = subject.pain.name
        elif subject.condition is not None:
            words = subject.condition.name
        elif subject.pain is not None and topic is not Topic.CONDITION_CAUSES_PAIN:
            words = subject.pain.name
        else:
            words = topic_spec.general_subject
        return _display(topic_spec.did_you_mean.format(subject=words))

    def welcome(self) -> Reply:
        return Reply(text=self.clinic.scope_notice)

    def contact(self) -> Reply:
        c = self.clinic
        return Reply(text=texts.CONTACT.format(clinic=c.name, phone=c.phone, email=c.email, hours=c.opening_hours, booking_url=c.booking_url))

    def forgotten(self) -> Reply:
        return Reply(text=texts.FORGOTTEN)

    def confirm_forget(self) -> Reply:
        return Reply(text=texts.CONFIRM_FORGET, buttons=(Button(texts.YES_DELETE, FORGET_INTENT),
                                                         Button(texts.NO_KEEP, CAPABILITIES_INTENT)))

    def feedback(self, helpful: Optional[bool]) -> Reply:
        """Thanks for a tap on "Was this helpful?"; after a "no", an optional "what were you looking for?"."""
        return Reply(text=texts.FEEDBACK_WHAT_WAS_MISSING if helpful is False else texts.FEEDBACK_THANKS)

    # -- safety -------------------------------------------------------------------------------
    def emergency(self, category: Optional[str]) -> Reply:
        """Emergency advice only: no FAQ content is mixed into it."""
        c = self.clinic
        template = texts.EMERGENCY_SELF_HARM if category == "self_harm" else texts.EMERGENCY
        return Reply(text=template.format(number=c.emergency_number, advice=c.emergency_advice, crisis_line=c.crisis_line))

    def emergency_first(self, reply: Reply) -> Reply:
        """The emergency number first, then the reply: for a message only the classifier, unsure, read
        as an emergency (the safety screen's rules found nothing)."""
        c = self.clinic
        advice = texts.EMERGENCY_IF_SO.format(number=c.emergency_number, advice=c.emergency_advice)
        return replace(reply, text=_join([advice, reply.text]))

    def _urgent_first(self, question: Optional[Question], reply: Reply) -> Reply:
        """Every reply to a message the screen found urgent opens with the see-a-doctor-today advice,
        whichever way it was made (an answer, a decline, "did you mean")."""
        return self._with_urgent_advice(reply) if question is not None and question.urgent else reply

    def _with_urgent_advice(self, reply: Reply) -> Reply:
        """"See a doctor today" first, then the answer (an emergency replaces everything instead)."""
        c = self.clinic
        advice = texts.URGENT_TODAY.format(clinic=c.name, phone=c.phone, urgent_care=c.urgent_care, number=c.emergency_number)
        return replace(reply, text=_join([advice, reply.text]))

    def restricted(self, kind: str, condition: Optional[str] = None, pain: Optional[str] = None) -> Reply:
        """Decline to diagnose, dose or choose or change medicines; add what the documents say where it helps.

        "My hips hurt, what could it be?" gets the refusal, then when the documents say to have hip pain
        seen; "could it be lupus?", what they say of lupus's symptoms (general information, never a
        verdict on the person); "I have RA, what else can I take?", how they say RA is managed.
        """
        refusal = _refusal(kind)
        condition_ref = self.store.resolve_condition(condition) if condition else None
        umbrella = condition_ref is not None and condition_ref.group == "umbrella"  # "could it be autoimmune?"
        if condition_ref is None or condition_ref.group not in ANSWERABLE_GROUPS:
            condition_ref = None
        pain_ref = self.store.resolve_pain_type(pain) if pain else None
        if kind != "diagnosis_request":
            # A medicine or dose question about no condition in particular gets the refusal alone: treatment
            # quotes ("DMARDs, biologics ...") read as advice for whatever is causing the patient's pain.
            answer = self._answer_refs(Topic.TREATMENT, condition_ref, None) if condition_ref else None
            if answer is None or not answer.medical:
                return Reply(text=refusal)
            return replace(answer, text=_join([refusal, answer.text]))
        draft = _Draft([refusal])  # then "What our documents say:" and the quotes
        if pain_ref is not None and condition_ref is None:
            # When to have the pain seen ("persistent hip pain ... consulting a healthcare professional");
            # the conditions that cause it only when asked "could it be autoimmune?": after "what is this?"
            # they read as candidate diagnoses.
            for fact in self.store.facts(spec(Topic.WHEN_TO_SEE_DOCTOR).fact_kind or Topic.WHEN_TO_SEE_DOCTOR.value, pain=pain_ref)[:2]:
                draft.quote(fact.evidence)
            results = sorted(self.store.conditions_for_pain(pain_ref), key=lambda r: _weight_order(r.evidence)) if umbrella else []
            for result in results[:MAX_QUOTES]:
                draft.quote(result.evidence[0], name=_display(result.condition.name))
        else:
            kind_of_fact = spec(Topic.SYMPTOMS).fact_kind or Topic.SYMPTOMS.value
            facts = self.store.facts(kind_of_fact, condition=condition_ref) if condition_ref else []
            general = [f for f in self.store.facts(kind_of_fact, general=True) if f.pain_type is None]
            for evidence in _unique(f.evidence for f in facts or general)[:2]:
                draft.quote(evidence)
        if not draft.quotes:
            return Reply(text=refusal)
        return self._finish(draft, condition=condition_ref.name if condition_ref else None, pain_type=pain_ref.key if pain_ref else None)


_INFLAMMATION_WORD = re.compile(r"\b([a-z]+itis)\b", re.IGNORECASE)
MIN_STEM = 6  # "enthes", "sacroili"; shorter stems ("burs", "fasci") match unrelated words


def _feedback_buttons() -> Tuple[Button, ...]:
    return (Button(texts.FEEDBACK_HELPFUL, FEEDBACK_INTENT, (("helpful", "yes"),)),
            Button(texts.FEEDBACK_NOT_HELPFUL, FEEDBACK_INTENT, (("helpful", "no"),)))


def aspect_in(text: str) -> Optional[Aspect]:
    """The aspect a message's questions (not its story) ask about, if any."""
    parts = [p.text for p in question_parts(text)] or [text]
    lowered = " ".join(" ".join(parts).lower().split()) + " "
    return next((a for a in ASPECTS if _aspect_pattern(a).search(lowered)), None)


@lru_cache(maxsize=None)
def _aspect_pattern(aspect: Aspect, subject_names: Tuple[str, ...] = (), passages: bool = False) -> "re.Pattern[str]":
    """The aspect's cues (in a passage, its passage cues), followed within a few words by one of the
    subject's names when given."""
    cues = (aspect.passage_cues or aspect.cues) if passages else aspect.cues
    if not subject_names:
        return _cues_pattern(cues)
    names = "|".join(re.escape(n.lower()) for n in sorted(subject_names, key=len, reverse=True))
    return re.compile(_cues_pattern(cues).pattern + r"\w*\W+(?:\w+\W+){0,4}?(?:" + names + r")\b")


@lru_cache(maxsize=None)
def _cues_pattern(cues: Tuple[str, ...]) -> "re.Pattern[str]":
    """Any of the cues at a word start (never matches when there are none)."""
    return re.compile(r"\b(?:" + "|".join(re.escape(cue) for cue in cues) + ")" if cues else r"(?!)")


def _refusal(kind: str) -> str:
    return {
        "diagnosis_request": texts.CANNOT_DIAGNOSE,
        "dose_request": texts.CANNOT_DOSE,
        "medication_change": texts.CANNOT_CHANGE_MEDICINE,
    }[kind]


def _topic_for(subject: _Subject) -> Topic:
    """A message that names its subject but asks nothing we can read ("lupus?"): what it is, or
    which conditions cause the pain it names."""
    return Topic.CONDITIONS_FOR_PAIN if subject.pain and not subject.condition else Topic.CONDITION_INFO


_EPONYM = re.compile(r"\b([A-Z][a-z]{2,})['\u2019]s\s+(disease|syndrome)\b")


def _mentions_words(text: str, words: str) -> bool:
    return re.search(r"(?<!\w)" + re.escape(words.lower()) + r"(?!\w)", text.lower()) is not None


def _mentions(text: str, condition: ConditionRef, words: Sequence[str]) -> bool:
    lowered = text.lower()
    return condition.name in lowered or any(w.lower() in lowered for w in words)


_QUOTED = re.compile(r"“[^”]*”")


def _says_nothing_new(reply: Reply, earlier: Sequence[Reply]) -> bool:
    """The same answer again, or one that quotes only what an earlier answer quoted."""
    if any(reply.text == r.text for r in earlier):
        return True
    quoted = set(_QUOTED.findall(reply.text))
    before = {q for r in earlier for q in _QUOTED.findall(r.text)}
    return bool(quoted) and quoted <= before


def _body_of(reply: Reply, disclaimer: str) -> List[str]:
    """A reply's paragraphs without its sources line and disclaimer (they are said once at the end)."""
    paragraphs = reply.text.split("\n\n")
    if reply.medical:
        paragraphs = [p for p in paragraphs if p != disclaimer and not _is_sources_line(p)]
    return paragraphs


def _is_sources_line(paragraph: str) -> bool:
    return any(paragraph.startswith(t.split("{", 1)[0]) for t in (texts.SOURCES, texts.SOURCES_MANY))


def _quote_lines(quotes: Sequence[_Quote]) -> str:
    """One line per quote; list items under the same lead-in are one quote ("Chronic stress can:
    stimulate the immune system; increase inflammation"), and a lead-in alone is not quoted."""
    lead_ins = {q.evidence.lead_in for q in quotes if q.evidence.kind == "list_item" and q.evidence.lead_in}
    groups: Dict[Tuple[str, str], List[_Quote]] = {}
    lines: List[Tuple[List[str], List[_Quote]]] = []
    for quote in quotes:
        evidence = quote.evidence
        if evidence.text in lead_ins:
            continue
        if evidence.kind == "list_item" and (evidence.lead_in or evidence.heading):
            key = (evidence.document_path, evidence.lead_in or "#" + (evidence.heading or ""))
            if key in groups:
                groups[key].append(quote)
                continue
            groups[key] = [quote]
            lines.append((quote.names, groups[key]))
        else:
            lines.append((quote.names, [quote]))
    rendered = []
    for names, group in lines:
        all_names = list(dict.fromkeys(n for q in group for n in q.names)) or _label(group[0].evidence)
        if len(group) == 1:
            text = _quoted_text(group[0].evidence)
        else:  # "Chronic stress can: stimulate ...; increase ...", or a list under a heading: "Pain ...; common in ..."
            items = [q.evidence.text for q in group[:1]] + [_item_text(q.evidence.text) for q in group[1:]]
            lead_in = group[0].evidence.lead_in
            text = f"{lead_in} " + "; ".join(_item_text(i) for i in items) if lead_in else "; ".join(items)
        template = texts.NAMED_QUOTE if all_names else texts.QUOTE
        rendered.append(template.format(text=text, name=", ".join(all_names)))
    return "\n".join(rendered)


def _inline_quote(evidence: Evidence) -> str:
    return texts.INLINE_QUOTE.format(text=_quoted_text(evidence))


def _quoted_text(evidence: Evidence) -> str:
    if evidence.kind == "list_item" and evidence.lead_in:
        return f"{evidence.lead_in} {_item_text(evidence.text)}"
    return evidence.text


def _label(evidence: Evidence) -> List[str]:
    """A list item under a short heading keeps it as its label ("Nerve pain: “Burning, tingling”")."""
    heading = evidence.heading or ""
    if evidence.kind == "list_item" and not evidence.lead_in and heading and len(heading.split()) <= 4:
        return [heading]
    return []


def _bare_item(evidence: Evidence) -> bool:
    """A list item that is only a name under a heading ("Vasculitides"): it mentions, it does not explain."""
    return evidence.kind == "list_item" and not evidence.lead_in and bool(evidence.heading) and len(evidence.text.split()) <= 3


def _item_text(text: str) -> str:
    """A list item continuing its lead-in: "Increase inflammation" -> "increase inflammation" ("MRI" stays)."""
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def _weight_order(evidence: Sequence[Evidence]) -> Tuple[int, str, int]:
    """Conditions a document calls primary (or main, most common ...) first, then in the order the
    documents name them."""
    first = min(evidence, key=lambda e: (e.document_path, e.start))
    weighted = any(word in e.text.lower() for e in evidence[:1] for word in WEIGHT_WORDS)
    return (0 if weighted else 1, first.document_path, first.start)


def _unique(evidence: Iterable[Evidence]) -> List[Evidence]:
    seen: Dict[str, Evidence] = {}
    for item in evidence:
        seen.setdefault(item.text, item)
    return list(seen.values())


def _reading_order(evidence: Sequence[Evidence]) -> List[Evidence]:
    return sorted(evidence, key=lambda e: (e.document_path, e.start))


def _join(paragraphs: Sequence[str]) -> str:
    return "\n\n".join(p.strip() for p in paragraphs if p and p.strip())


def _and(names: Sequence[str]) -> str:
    names = list(names)
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} {texts.AND} {names[-1]}"


def _count(number: int) -> str:
    return texts.NUMBER_WORDS[number] if 0 <= number < len(texts.NUMBER_WORDS) else str(number)


def _display(name: str) -> str:
    return name[:1].upper() + name[1:]


_PAIN_AFTER = re.compile(r"^\s*(?:pain|pains|ache|aches|aching|hurts?|hurting|soreness|is\s+sore|are\s+sore)\b", re.IGNORECASE)
_PAIN_BEFORE = re.compile(r"\b(?:pain|pains|ache|aching|soreness|hurts?|hurting)\s+(?:in|on|at|around|behind|under)\s+(?:my|his|her|their|the|both|your|a)?\s*$",
                          re.IGNORECASE)


_CAUSE_OF = re.compile(r"\b(?:what|which)\s+(?:causes?|caused|triggers?)\b(?!\s+(?:the\s+)?(?:pain|ache|hurt|flare))|"
                       r"\b(?:cause|causes|origin|trigger|triggers)\s+of\b|\bwhy\s+do(?:es)?\s+(?:people|someone|one|i|you|we)\s+(?:get|develop)\b",
                       re.IGNORECASE)


_CAUSED_BY = re.compile(r"\b(?:caused\s+by|brought\s+on\s+by|(?:is|are)\s+due\s+to|triggered\s+by)\b", re.IGNORECASE)


def _asks_cause_of(text: str) -> bool:
    """Whether a question asks what causes a condition ("What causes rheumatoid arthritis?"), not its pain."""
    return bool(_CAUSE_OF.search(text))


_PERSON = re.compile(r"\b(?:i|i'm|im|my|me|we|our|she|he|her|his|they|their)\b", re.IGNORECASE)
_COMPLAINT = re.compile(r"\b(?:pain|pains|painful|hurts?|hurting|aches?|aching|sore|suffer\w*)\b", re.IGNORECASE)


def _tells_of_a_complaint(text: str) -> bool:
    """Whether the patient tells of their own (or a relative's) pain: "I am hardly able to sit", "my wife is suffering"."""
    return bool(_PERSON.search(text) and _COMPLAINT.search(text))


_ACHE = re.compile(r"(?:pain|pains|ache|aches|aching)\b", re.IGNORECASE)


def _uncovered_pain_site(text: str, subjects: Sequence[Subject]) -> Optional[str]:
    """A body site the patient says hurts ("shoulder pain", "pain in my leg") that no document makes
    a pain type of (the store resolves the sites it knows before this is asked)."""
    for subject in subjects:
        if subject.kind != "body_part":
            continue
        if _PAIN_AFTER.search(text[subject.end:subject.end + 20]) or _PAIN_BEFORE.search(text[max(0, subject.start - 30):subject.start]):
            return f"{subject.text.lower()} pain"
    return None


def _display_phrase(phrase: str) -> str:
    """The patient's phrase in running text: capitalised words lower-cased, abbreviations kept ("WBC")."""
    return " ".join(w.lower() if w[:1].isupper() and w[1:].islower() else w for w in phrase.split())


def _names_a_kind_of(words: str, name: str) -> bool:
    """"Dermatomyositis" or "inclusion body myositis" for myositis: the patient's name holds the
    condition's whole name and more ("lupus" for systemic lupus erythematosus is a short name, not a kind)."""
    written, canonical = words.lower().strip(), name.lower()
    return canonical in written and written != canonical and written.rstrip("s") != canonical and not written.startswith(canonical)


def _declined_names(first: Subject, named: Sequence[Subject]) -> str:
    """The subject to decline by, and a second one of the same sort when the message names just two or
    three ("concussion or trigeminal neuralgia", "methotrexate or hydroxychloroquine"): more is a story."""
    names = list(dict.fromkeys(_display_subject(s) for s in named))
    same = [_display_subject(s) for s in named if (s.kind == "drug") == (first.kind == "drug")]
    others = [n for n in dict.fromkeys(same) if _singular(n) != _singular(_display_subject(first))]
    if first.kind == "symptom" or not 2 <= len(names) <= 3 or not others:
        return _display_subject(first)
    return texts.EITHER.format(first=_display_subject(first), second=others[0])


def _singular(name: str) -> str:
    return name.lower().rstrip("s")


def _display_subject(subject: Subject) -> str:
    """The lexicon's readable name when it is the patient's word with an article ("the flu" for
    "flu"), else the patient's own word ("influenza", not "the flu")."""
    return subject.name if subject.text.lower() in subject.name.lower() else subject.text


@lru_cache(maxsize=1)
def default_composer() -> AnswerComposer:
    """The composer over the configured store and clinic settings (built on first use)."""
    return AnswerComposer(default_store(), default_clinic_config())
