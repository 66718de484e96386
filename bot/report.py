"""The staff report (``python -m bot report``): what patients asked that the documents did not answer,
which answers they marked not helpful, and how many questions came per topic and per day.

It reads Rasa's SQL tracker store (the ``events`` table; the ``tracker_store`` section of the
endpoints file: SQLite by default, PostgreSQL in the scaled layout) with SQLAlchemy, read-only, and
writes a self-contained HTML page (the chart is an embedded PNG), a CSV and, on request, NLU training
candidates for a person to review (never merged into ``data/nlu/`` by anything).

How a patient's message is counted, from what the bot did with it (Rasa records only
``action_two_stage_fallback`` for its inner steps, so the reply's own words tell them apart):

* **answered**: a reply carried the "Was this helpful?" buttons (every medical answer has them);
* **unanswered**, with the reason: a subject the documents don't cover (the ``not_covered`` slot, or the
  reply "I don't have information on ..."), out of scope, "Did you mean ...?" left without a choice,
  asked to rephrase, not understood. A tap on a "Did you mean" reading settles the question it was
  offered for (answered after all, or asked to rephrase); it is not a question of its own;
* **declined**: a request for a diagnosis, a dose or a medicine change, refused without documents;
* **red-flag escalation**: emergency advice was given. Counted per day; its words are never read out.
  Greetings, thanks, feedback taps and the like are not questions.

Privacy: no sender id is written anywhere; e-mail addresses, phone numbers and long digit runs in the
patients' words are masked; conversations already deleted are not in the table, and nothing older
than the clinic's retention period is read, even before the tracker store's purge removes it; the
files are private to their owner (0600, in a 0700 folder).
"""
from __future__ import annotations

import base64
import csv
import html
import io
import json
import math
import os
import re
import sys
import time
import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from itertools import groupby
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import sqlalchemy as sa
import yaml
from sqlalchemy.engine import URL, Engine

from bot import settings, texts
from bot.topics import FEEDBACK_INTENT, topic_for_intent

__all__ = [
    "ReportError", "StaffReport", "build_report", "mask", "tracker_store_url", "write_csv", "write_html",
    "write_nlu_candidates", "main",
]

ANSWERED, UNANSWERED, DECLINED, EMERGENCY, OTHER = "answered", "unanswered", "declined", "emergency", "other"
NOT_COVERED, OUT_OF_SCOPE, DID_YOU_MEAN, REPHRASE, FALLBACK = "not_covered", "out_of_scope", "did_you_mean", "rephrase", "fallback"
#: Unanswered for want of understanding (the NLU candidates), not for want of a document.
NLU_REASONS = (DID_YOU_MEAN, REPHRASE, FALLBACK)
FALLBACK_INTENT = "nlu_fallback"
EMERGENCY_INTENT = "emergency"

HTML_NAME, CSV_NAME, NLU_NAME = "staff-report.html", "staff-report.csv", "nlu-candidates.yml"

# -- staff-facing labels (the report is for the clinic's staff, never shown to patients) -----------
REASON_LABELS = {
    NOT_COVERED: "subject not in the documents",
    OUT_OF_SCOPE: "outside what the bot covers",
    DID_YOU_MEAN: "“Did you mean…?” with no choice",
    REPHRASE: "asked to say it another way",
    FALLBACK: "not understood",
    ANSWERED: "answered once the patient chose a “Did you mean…?” reading",  # NLU candidates only
}
TOPIC_LABELS = {
    "conditions_for_pain": "Which conditions cause a pain",
    "condition_causes_pain": "Whether a condition causes a pain",
    "pain_types": "Kinds of pain a condition causes",
    "what_is": "What a condition or term is",
    "mechanism": "Why it hurts",
    "symptoms": "Symptoms",
    "diagnosis": "Diagnosis",
    "diagnosis_difficulty": "Why diagnosis is hard",
    "stress": "Stress",
    "treatment": "Treatment",
    "when_to_see_doctor": "When to see a doctor",
    "request_diagnosis": "Asked for a diagnosis",
    "request_dose": "Asked for a dose",
    "request_medication_change": "Asked about changing a medicine",
    "out_of_scope": "Outside what the bot covers",
    FALLBACK_INTENT: "Not understood",
    "inform": "Follow-up",
}
MASKS = ("<email>", "<phone>", "<number>")
MAX_WORDINGS = 10  # per group, in the page and in an NLU candidate
SIMILARITY = 0.6  # Jaccard similarity of two wordings' content lemmas to group them
PAGE_ROWS = 200  # rows per list in the page (the largest groups, the newest answers); the CSV has every one


class ReportError(RuntimeError):
    """The report cannot be made; the message says why (never a password)."""


# -- masking ---------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _mask_patterns() -> Tuple[Tuple[re.Pattern, str], ...]:
    return (
        (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "<email>"),
        # seven digits or more, maybe with a leading + or ( and spaces, dots, dashes, slashes or brackets between
        (re.compile(r"(?<!\w)\+?\(?\d(?:[\s().\-/]{0,3}\d){6,}(?!\w)"), "<phone>"),
        (re.compile(r"\d{5,}"), "<number>"),
    )


def mask(text: str) -> str:
    """A patient's words with e-mail addresses, phone numbers and long digit runs replaced, on one line."""
    text = " ".join((text or "").split())
    for pattern, replacement in _mask_patterns():
        text = pattern.sub(replacement, text)
    return text


# -- where the conversations are ---------------------------------------------------------------------
def tracker_store_url(endpoints: Optional[Path] = None) -> URL:
    """The tracker store's database, read-only, from the endpoints file (``RASA_ENDPOINTS``, else
    endpoints.yml; ``TRACKER_DB`` names another SQLite file, as scripts/serve.sh does). ``${VAR}`` is
    taken from the environment as Rasa does, and a missing one is an error naming it."""
    path = Path(endpoints) if endpoints else settings.rasa_endpoints_path()
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as error:
        raise ReportError(f"cannot read the endpoints file {path}: {error.strerror}") from None
    section = config.get("tracker_store")
    if not section:
        raise ReportError(f"{path} has no tracker_store: Rasa keeps conversations in memory only, there is nothing to report")
    section = {key: _environment(value) for key, value in section.items()}
    kind = str(section.get("type") or "sql")
    if kind.lower() != "sql" and not kind.endswith("SQLTrackerStore"):
        raise ReportError(f"the tracker store in {path} is {kind!r}: the report reads SQL tracker stores only")
    dialect = str(section.get("dialect") or "sqlite")
    if dialect.startswith("sqlite"):
        override = settings.tracker_db_override() if endpoints is None else None
        db = Path(override or section.get("db") or "rasa.db")
        db = db if db.is_absolute() else settings.PROJECT_ROOT / db
        return URL.create("sqlite", database=f"file:{db}", query={"mode": "ro", "uri": "true"})
    host = section.get("url") or section.get("host")
    if host and "://" in str(host):
        return sa.engine.make_url(str(host))
    port = section.get("port")
    return URL.create(dialect, username=section.get("username"), password=section.get("password"), host=host,
                      port=int(port) if port not in (None, "") else None,
                      database=section.get("db") or "rasa.db", query=section.get("query") or {})


def _environment(value: Any) -> Any:
    if not isinstance(value, str):
        return value

    def variable(match: re.Match) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise ReportError(f"the endpoints file uses ${{{name}}}, which is not set in the environment")
        return os.environ[name]

    return re.sub(r"\$\{([^}]+)\}", variable, value)


def open_tracker_store(url: URL) -> Engine:
    """An engine that only reads; raises ReportError when the database is missing or unreachable."""
    connect_args: Dict[str, Any] = {"connect_timeout": 5} if url.get_backend_name() == "postgresql" else {}
    engine = sa.create_engine(url, connect_args=connect_args, hide_parameters=True, future=True)
    where = (str(url.database).removeprefix("file:") if url.get_backend_name() == "sqlite"
             else url.render_as_string(hide_password=True))
    try:
        with engine.connect() as connection:
            present = sa.inspect(connection).has_table("events")
    except sa.exc.OperationalError:
        engine.dispose()
        if url.get_backend_name() == "sqlite":
            raise ReportError(f"no tracker store at {where}: no conversation has been recorded yet "
                              "(or TRACKER_DB / the endpoints file names another)") from None
        raise ReportError(f"the tracker store database {where} does not answer") from None
    if not present:
        engine.dispose()
        raise ReportError(f"the tracker store {where} has no events table yet: no conversation has been recorded")
    return engine


# -- reading the events ------------------------------------------------------------------------------
_EVENTS = sa.table(
    "events", sa.column("id"), sa.column("sender_id"), sa.column("type_name"), sa.column("timestamp"),
    sa.column("intent_name"), sa.column("action_name"), sa.column("data"),
)
_TYPES = ("user", "bot", "action", "slot", "rewind")


@dataclass
class _Turn:
    """One patient message and what the bot did with it."""

    at: float
    text: str
    intent: str
    ranking: List[str]
    helpful: Optional[str]
    offered: Dict[str, str]  # payload -> title of the buttons the bot showed before this message
    actions: List[str] = field(default_factory=list)
    replies: List[Tuple[str, List[dict]]] = field(default_factory=list)
    slots: Dict[str, Any] = field(default_factory=dict)
    reverted: bool = False


def _conversations(engine: Engine, start: float) -> Iterator[List[_Turn]]:
    """Each conversation's turns since ``start`` (never before the retention period: a conversation the
    purge would remove has no event after it), in the order they were stored."""
    e = _EVENTS.c
    query = (
        sa.select(e.sender_id, e.type_name, e.timestamp, e.action_name, e.data)
        .where(e.timestamp >= start, e.type_name.in_(_TYPES))
        .order_by(e.sender_id, e.id)
    )
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection = connection.execution_options(postgresql_readonly=True, stream_results=True)
        result = connection.execute(query)
        for _sender, rows in groupby(result, key=lambda row: row[0]):
            yield _turns(rows)


def _turns(rows: Iterable[Any]) -> List[_Turn]:
    turns: List[_Turn] = []
    current: Optional[_Turn] = None
    open_turn = False
    offered: Dict[str, str] = {}
    for _sender, kind, at, action, data in rows:
        if kind == "user":
            if current is not None and current.reverted:
                turns.pop()  # the message Rasa replayed (two-stage fallback): its replay follows
            event = json.loads(data)
            parse = event.get("parse_data") or {}
            current = _Turn(
                at=float(at or 0), text=event.get("text") or "", intent=(parse.get("intent") or {}).get("name") or "",
                ranking=[r.get("name") for r in parse.get("intent_ranking") or [] if r.get("name")],
                helpful=next((str(x.get("value")).lower() for x in parse.get("entities") or [] if x.get("entity") == "helpful"), None),
                offered=dict(offered),
            )
            turns.append(current)
            open_turn = True
        elif current is None:
            continue
        elif kind == "rewind":
            current.reverted = True
        elif not open_turn:
            continue
        elif kind == "action":
            if action == "action_listen":
                open_turn = False
            else:
                current.actions.append(action or "")
        elif kind == "bot":
            event = json.loads(data)
            buttons = [b for b in (event.get("data") or {}).get("buttons") or [] if isinstance(b, dict)]
            current.replies.append((event.get("text") or "", buttons))
            if buttons:
                offered = {str(b.get("payload")): str(b.get("title")) for b in buttons}
        elif kind == "slot":
            event = json.loads(data)
            current.slots[event.get("name")] = event.get("value")
    return turns


# -- what the bot did with a message -------------------------------------------------------------------
@lru_cache(maxsize=1)
def _reply_patterns() -> Dict[str, Any]:
    def opening(template: str) -> str:
        return template.split("{", 1)[0]

    subject = re.escape(texts.NO_INFORMATION_ON).replace(re.escape("{subject}"), "(?P<subject>.+?)")
    return {
        "not_covered": re.compile("^" + subject, re.M),  # any paragraph (urgent advice may come first)
        OUT_OF_SCOPE: texts.OUT_OF_SCOPE,
        DID_YOU_MEAN: texts.DID_YOU_MEAN,
        REPHRASE: texts.ASK_REPHRASE,
        FALLBACK: texts.NOT_UNDERSTOOD,
        "sources": (opening(texts.SOURCES_MANY), opening(texts.SOURCES)),
    }


def _outcome(turn: _Turn) -> Tuple[str, Optional[str], Optional[str]]:
    """(outcome, reason, uncovered subject) of one turn."""
    if turn.intent == EMERGENCY_INTENT or "action_emergency" in turn.actions:
        return EMERGENCY, None, None
    if any(str(b.get("payload", "")).startswith(f"/{FEEDBACK_INTENT}") for _, buttons in turn.replies for b in buttons):
        return ANSWERED, None, None
    patterns = _reply_patterns()
    words = [text for text, _ in turn.replies]
    if "action_restricted_request" in turn.actions and not any(patterns["not_covered"].match(w) for w in words):
        return DECLINED, None, None  # refused first, whatever it says after ("... no information on prednisone")
    subject = turn.slots.get("not_covered")
    if not subject:
        found = next((m for m in (patterns["not_covered"].search(w) for w in words) if m), None)
        subject = found.group("subject") if found else None
    if subject:
        return UNANSWERED, NOT_COVERED, str(subject)
    for reason, action in ((OUT_OF_SCOPE, "action_out_of_scope"), (DID_YOU_MEAN, "action_default_ask_affirmation"),
                           (REPHRASE, "action_default_ask_rephrase"), (FALLBACK, "action_default_fallback")):
        if action in turn.actions or any(w.startswith(patterns[reason]) for w in words):
            return UNANSWERED, reason, None
    return OTHER, None, None


def _sources(turn: _Turn, titles: Sequence[str]) -> Tuple[str, ...]:
    """The document titles a reply cites (its "Source:" / "Sources:" paragraph)."""
    for text, _ in turn.replies:
        for paragraph in text.split("\n\n"):
            for prefix in _reply_patterns()["sources"]:
                if paragraph.startswith(prefix):
                    return split_titles(paragraph[len(prefix):].strip(), titles)
    return ()


def split_titles(joined: str, titles: Sequence[str] = ()) -> Tuple[str, ...]:
    """"A; B; C" into titles; a known title that itself holds "; " is kept whole."""
    known = sorted(titles, key=len, reverse=True)
    found: List[str] = []
    rest = joined
    while rest:
        title = next((t for t in known if rest == t or rest.startswith(t + "; ")), None)
        if title is None:
            title = rest.split("; ", 1)[0]
        found.append(title)
        rest = rest[len(title) + 2:]
    return tuple(found)


# -- one conversation into records ---------------------------------------------------------------------
@dataclass
class Question:
    """A patient's question as the report counts it (its words are masked; no sender)."""

    at: float
    text: str
    typed: bool  # False: a tap on a button (its title is the text)
    topic: str
    outcome: str
    reason: Optional[str] = None
    subject: Optional[str] = None
    likeliest_intent: Optional[str] = None
    confirmed_intent: Optional[str] = None  # the reading the patient chose after "Did you mean ...?"
    sources: Tuple[str, ...] = ()
    helpful: Optional[bool] = None
    said_next: Optional[str] = None  # the patient's next typed message after a 👎


@dataclass
class _Conversation:
    questions: List[Question] = field(default_factory=list)
    escalations: List[float] = field(default_factory=list)  # times only
    ratings: List[Tuple[float, bool]] = field(default_factory=list)


def _read(turns: List[_Turn], titles: Sequence[str]) -> _Conversation:
    conversation = _Conversation()
    last_answer: Optional[Question] = None
    offered_for: Optional[Question] = None  # the question a "Did you mean" was offered for
    awaiting: Optional[Question] = None  # an answer just marked not helpful: the next words say why
    for turn in turns:
        outcome, reason, subject = _outcome(turn)
        typed = not turn.text.startswith("/")
        if awaiting is not None:
            if typed and outcome != EMERGENCY and turn.intent != FEEDBACK_INTENT:
                awaiting.said_next = mask(turn.text)
            awaiting = None
        if outcome == EMERGENCY:
            conversation.escalations.append(turn.at)
            offered_for = None
            continue
        if turn.intent == FEEDBACK_INTENT:
            value = turn.helpful or (str(_payload(turn.text)[1].get("helpful", "")).lower() if not typed else "")
            helpful = {"yes": True, "no": False}.get(value)
            if helpful is not None and last_answer is not None:
                last_answer.helpful = helpful
                conversation.ratings.append((turn.at, helpful))
                awaiting = last_answer if helpful is False else None
            offered_for = None
            continue
        if offered_for is not None and not typed:  # the patient's choice after "Did you mean ...?"
            question = offered_for
            if outcome == ANSWERED:
                question.outcome, question.reason, question.confirmed_intent = ANSWERED, None, turn.intent
                question.topic = _topic(turn)
                question.sources = _sources(turn, titles)
                last_answer = question
            elif outcome == UNANSWERED:
                question.reason, question.subject = reason, subject
            offered_for = question if outcome == UNANSWERED and reason == DID_YOU_MEAN else None
            continue
        offered_for = None
        if outcome not in (ANSWERED, UNANSWERED, DECLINED):
            continue
        question = Question(
            at=turn.at, text=mask(turn.text if typed else _button_title(turn)), typed=typed,
            topic=FALLBACK_INTENT if reason == FALLBACK and not turn.slots.get("last_topic") else _topic(turn),
            outcome=outcome, reason=reason, subject=subject,
            likeliest_intent=next((i for i in turn.ranking if i != FALLBACK_INTENT), None) or turn.intent or None,
            sources=_sources(turn, titles) if outcome == ANSWERED else (),
        )
        conversation.questions.append(question)
        if outcome == ANSWERED:
            last_answer = question
        if reason == DID_YOU_MEAN:
            offered_for = question
    return conversation


def _topic(turn: _Turn) -> str:
    topic = turn.slots.get("last_topic")
    if topic:
        return str(topic)
    found = topic_for_intent(turn.intent)
    return found.value if found else (turn.intent or FALLBACK_INTENT)


def _button_title(turn: _Turn) -> str:
    title = turn.offered.get(turn.text)
    if title:
        return title
    intent, values = _payload(turn.text)
    topic = topic_for_intent(intent)
    label = TOPIC_LABELS.get(topic.value if topic else intent, intent)
    return " ".join([f"[{label}]"] + [str(v) for v in values.values()])


def _payload(text: str) -> Tuple[str, Dict[str, Any]]:
    """'/intent{"entity": "value"}' -> ("intent", {"entity": "value"})."""
    intent, _, entities = text[1:].partition("{")
    try:
        values = json.loads("{" + entities) if entities else {}
    except ValueError:
        values = {}
    return intent, values if isinstance(values, dict) else {}


# -- the report ------------------------------------------------------------------------------------------
@dataclass
class Group:
    """Unanswered questions with one subject, or with similar words."""

    name: str
    count: int
    newest: str
    newest_day: date
    reasons: Dict[str, int]
    wordings: List[str]  # distinct, newest first
    intents: Dict[str, int] = field(default_factory=dict)  # likeliest intent (confirmed where chosen)
    confirmed: int = 0


@dataclass
class Day:
    day: date
    questions: int = 0
    answered: int = 0
    unanswered: int = 0
    declined: int = 0
    helpful: int = 0
    not_helpful: int = 0
    escalations: int = 0


@dataclass
class TopicCount:
    topic: str
    label: str
    questions: int = 0
    answered: int = 0
    unanswered: int = 0
    declined: int = 0


@dataclass
class StaffReport:
    clinic: str
    generated: datetime
    start: date
    end: date
    days_requested: int
    retention_days: int
    conversations: int
    days: List[Day]  # every day of the period, oldest first
    topics: List[TopicCount]
    subjects: List[Group]
    wordings: List[Group]
    not_helpful: List[Question]
    nlu_candidates: List[Group]
    reasons: Dict[str, int]
    after_did_you_mean: int

    @property
    def questions(self) -> int:
        return sum(d.questions for d in self.days)

    @property
    def answered(self) -> int:
        return sum(d.answered for d in self.days)

    @property
    def unanswered(self) -> int:
        return sum(d.unanswered for d in self.days)

    @property
    def declined(self) -> int:
        return sum(d.declined for d in self.days)

    @property
    def escalations(self) -> int:
        return sum(d.escalations for d in self.days)

    @property
    def helpful(self) -> int:
        return sum(d.helpful for d in self.days)

    @property
    def not_helpful_count(self) -> int:
        return sum(d.not_helpful for d in self.days)


def build_report(engine: Engine, days: int = 30, now: Optional[float] = None, retention_days: Optional[int] = None,
                 titles: Sequence[str] = (), clinic: Optional[str] = None) -> StaffReport:
    """The report over the last ``days`` days (never further back than the retention period)."""
    if days < 1:
        raise ReportError("--days must be at least 1")
    if retention_days is None or clinic is None:
        from bot.clinic import default_clinic_config

        config = default_clinic_config()
        retention_days = config.retention_days if retention_days is None else retention_days
        clinic = config.name if clinic is None else clinic
    now = time.time() if now is None else now
    retention_cutoff = now - retention_days * 86400
    start = max(now - days * 86400, retention_cutoff)
    conversations = 0
    questions: List[Question] = []
    escalations: List[float] = []
    ratings: List[Tuple[float, bool]] = []
    for turns in _conversations(engine, start):
        conversation = _read(turns, titles)
        if conversation.questions or conversation.escalations:
            conversations += 1
        questions += conversation.questions
        escalations += conversation.escalations
        ratings += conversation.ratings
    first, last = _day(start), _day(now)
    per_day = {first + timedelta(days=i): Day(first + timedelta(days=i)) for i in range((last - first).days + 1)}

    def day_of(at: float) -> Day:
        return per_day.setdefault(_day(at), Day(_day(at)))  # a clock set ahead: its own day, not lost

    for question in questions:
        day = day_of(question.at)
        day.questions += 1
        setattr(day, question.outcome, getattr(day, question.outcome) + 1)
    for at in escalations:
        day_of(at).escalations += 1
    for at, helpful in ratings:
        if helpful:
            day_of(at).helpful += 1
        else:
            day_of(at).not_helpful += 1
    unanswered = [q for q in questions if q.outcome == UNANSWERED]
    candidates = [q for q in questions if q.typed and (q.reason in NLU_REASONS or q.confirmed_intent)]
    return StaffReport(
        clinic=clinic, generated=datetime.fromtimestamp(now), start=first, end=last, days_requested=days,
        retention_days=retention_days, conversations=conversations, days=[per_day[d] for d in sorted(per_day)],
        topics=_topics(questions), subjects=_subjects(unanswered), wordings=_similar(unanswered),
        not_helpful=sorted((q for q in questions if q.helpful is False), key=lambda q: q.at, reverse=True),
        nlu_candidates=_similar(candidates), reasons=dict(Counter(q.reason for q in unanswered if q.reason)),
        after_did_you_mean=sum(1 for q in questions if q.confirmed_intent),
    )


def _day(at: float) -> date:
    return datetime.fromtimestamp(at).date()


def _topics(questions: List[Question]) -> List[TopicCount]:
    counts: Dict[str, TopicCount] = {}
    for question in questions:
        row = counts.setdefault(question.topic, TopicCount(question.topic, TOPIC_LABELS.get(question.topic, question.topic)))
        row.questions += 1
        setattr(row, question.outcome, getattr(row, question.outcome) + 1)
    return sorted(counts.values(), key=lambda r: (-r.questions, r.label))


def _group(name: str, members: List[Question]) -> Group:
    members = sorted(members, key=lambda q: q.at, reverse=True)
    intents: Counter = Counter(i for i in (q.confirmed_intent or q.likeliest_intent for q in members) if i)
    return Group(
        name=name, count=len(members), newest=members[0].text, newest_day=_day(members[0].at),
        reasons=dict(Counter(q.reason or ANSWERED for q in members)),
        wordings=list(dict.fromkeys(q.text for q in members))[:MAX_WORDINGS],
        intents=dict(intents.most_common()), confirmed=sum(1 for q in members if q.confirmed_intent),
    )


def _subjects(unanswered: List[Question]) -> List[Group]:
    """Questions about a subject the documents don't cover, by subject ("the flu: 14 questions")."""
    by_subject: Dict[str, List[Question]] = defaultdict(list)
    for question in unanswered:
        if question.reason == NOT_COVERED and question.subject:
            by_subject[question.subject.strip().lower()].append(question)
    groups = []
    for members in by_subject.values():
        name = Counter(q.subject for q in members).most_common(1)[0][0] or ""
        groups.append(_group(name, members))
    return sorted(groups, key=lambda g: (-g.count, g.name))


def _similar(questions: List[Question]) -> List[Group]:
    """Questions grouped by similar words: the same content lemmas (spaCy's lookup lemmatizer, stop
    words left out), or sets of them at least SIMILARITY alike (Jaccard), found with a prefix filter."""
    if not questions:
        return []
    keys = _lemma_keys([q.text for q in questions])
    by_key: Dict[frozenset, List[Question]] = defaultdict(list)
    for question, key in zip(questions, keys):
        by_key[key].append(question)
    frequency: Counter = Counter(lemma for key in by_key for lemma in key)

    def ordered(key: frozenset) -> List[str]:
        return sorted(key, key=lambda lemma: (frequency[lemma], lemma))

    def prefix(key: frozenset) -> List[str]:
        # Two sets at least SIMILARITY alike share ceil(SIMILARITY * n) of the n lemmas of each, so they
        # share one of the first n - ceil(SIMILARITY * n) + 1 in any fixed order: only those are indexed.
        lemmas = ordered(key)
        return lemmas[: len(lemmas) - math.ceil(SIMILARITY * len(lemmas) - 1e-9) + 1]

    clusters: List[Tuple[frozenset, List[Question]]] = []
    index: Dict[str, List[int]] = defaultdict(list)
    for key in sorted(by_key, key=lambda k: (-len(by_key[k]), sorted(k))):
        home = None
        if key:
            candidates = sorted({c for lemma in prefix(key) for c in index.get(lemma, ())})
            home = next((c for c in candidates if _jaccard(key, clusters[c][0]) >= SIMILARITY), None)
        if home is None:
            clusters.append((key, list(by_key[key])))
            if key:
                for lemma in prefix(key):
                    index[lemma].append(len(clusters) - 1)
        else:
            clusters[home][1].extend(by_key[key])
    groups = [_group(" ".join(ordered(key)[::-1]) if key else "", members) for key, members in clusters]
    return sorted(groups, key=lambda g: (-g.count, -g.newest_day.toordinal(), g.newest))


def _jaccard(a: frozenset, b: frozenset) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def _lemma_keys(wordings: List[str]) -> List[frozenset]:
    """Each wording's content lemmas; a wording of stop words only is its own key."""
    masks = re.compile("|".join(map(re.escape, MASKS)))
    keys = []
    for doc in _nlp().pipe((masks.sub(" ", w) for w in wordings), batch_size=256):
        lemmas = frozenset(t.lemma_ for t in doc if (t.is_alpha or t.like_num) and not t.is_stop and len(t.lemma_) > 1)
        if not lemmas and doc.text.strip():
            lemmas = frozenset({f"“{doc.text.strip().lower()}”"})
        keys.append(lemmas)
    return keys


@lru_cache(maxsize=1)
def _nlp() -> Any:
    from bot.nlp import make_base_pipeline

    return make_base_pipeline()


# -- writing -----------------------------------------------------------------------------------------------
def _private_file(path: Path) -> io.TextIOWrapper:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.chmod(path, 0o600)
    return io.open(descriptor, "w", encoding="utf-8", newline="")


def chart_png(report: StaffReport) -> bytes:
    """Answered and unanswered questions per day, stacked bars (matplotlib, no display needed)."""
    with warnings.catch_warnings():  # matplotlib 3.5 calls pyparsing's renamed methods on import
        warnings.simplefilter("ignore", DeprecationWarning)
        import matplotlib

        matplotlib.use("Agg", force=True)
        from matplotlib import dates as mdates
        from matplotlib import pyplot as plt

    days = [datetime.combine(d.day, datetime.min.time()) for d in report.days]
    answered = [d.answered for d in report.days]
    unanswered = [d.unanswered for d in report.days]
    figure, axes = plt.subplots(figsize=(9, 3.2), dpi=110)
    try:
        axes.bar(days, answered, width=0.8, color="#2e7d5b", label="answered")
        axes.bar(days, unanswered, width=0.8, bottom=answered, color="#e08a1e", label="not answered")
        axes.set_ylabel("questions")
        axes.yaxis.get_major_locator().set_params(integer=True)
        axes.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
        axes.xaxis.set_major_locator(mdates.AutoDateLocator(maxticks=10))
        axes.spines[["top", "right"]].set_visible(False)
        axes.legend(frameon=False, loc="upper left", ncol=2)
        axes.margins(x=0.01)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        return buffer.getvalue()
    finally:
        plt.close(figure)


def write_html(report: StaffReport, path: Path) -> Path:
    with _private_file(path) as handle:
        handle.write(render_html(report))
    return path


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _reasons(reasons: Dict[str, int]) -> str:
    return ", ".join(f"{REASON_LABELS.get(r, r)} ({n})" for r, n in sorted(reasons.items(), key=lambda x: (-x[1], x[0])))


def _table(headings: Sequence[str], rows: Iterable[Sequence[str]], empty: str, numeric: Sequence[int] = ()) -> str:
    rows = list(rows)
    if not rows:
        return f'<p class="empty">{_e(empty)}</p>'
    head = "".join(f'<th{" class=num" if i in numeric else ""}>{_e(h)}</th>' for i, h in enumerate(headings))
    body = "".join(
        "<tr>" + "".join(f'<td{" class=num" if i in numeric else ""}>{cell}</td>' for i, cell in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _wordings(group: Group) -> str:
    others = [w for w in group.wordings if w != group.newest]
    if not others:
        return ""
    items = "".join(f"<li>{_e(w)}</li>" for w in others)
    return f'<details><summary>{len(others)} other wording{"s" if len(others) > 1 else ""}</summary><ul>{items}</ul></details>'


def render_html(report: StaffReport) -> str:
    share = f"{report.answered / report.questions:.0%}" if report.questions else "–"
    png = base64.b64encode(chart_png(report)).decode("ascii")
    cards = [
        ("conversations", report.conversations), ("questions", report.questions), ("answered", f"{report.answered} ({share})"),
        ("not answered", report.unanswered), ("answers marked not helpful", report.not_helpful_count),
        ("answers marked helpful", report.helpful),
        ("red-flag escalations", report.escalations),
    ]
    subjects = _table(
        ["Subject", "Questions", "Newest wording", "Last asked"],
        ([f"<strong>{_e(g.name)}</strong>", str(g.count), _e(g.newest) + _wordings(g), _e(g.newest_day.isoformat())]
         for g in report.subjects[:PAGE_ROWS]),
        "No question was about a subject missing from the documents.", numeric=(1,),
    )
    wordings = _table(
        ["Questions", "Newest wording", "Why not answered", "Last asked"],
        ([str(g.count), _e(g.newest) + _wordings(g), _e(_reasons(g.reasons)), _e(g.newest_day.isoformat())] for g in report.wordings[:PAGE_ROWS]),
        "Every question was answered.", numeric=(0,),
    )
    not_helpful = _table(
        ["Day", "Question", "Topic", "Documents cited", "Said next"],
        ([_e(_day(q.at).isoformat()), _e(q.text), _e(TOPIC_LABELS.get(q.topic, q.topic)),
          "<br>".join(_e(t) for t in q.sources) or "–", _e(q.said_next or "–")] for q in report.not_helpful[:PAGE_ROWS]),
        "No answer was marked not helpful.",
    )
    topics = _table(
        ["Topic", "Questions", "Answered", "Not answered", "Declined"],
        ([_e(t.label), str(t.questions), str(t.answered), str(t.unanswered), str(t.declined)] for t in report.topics),
        "No questions in this period.", numeric=(1, 2, 3, 4),
    )
    days = _table(
        ["Day", "Questions", "Answered", "Not answered", "Declined", "Helpful", "Not helpful", "Red-flag escalations"],
        ([_e(d.day.isoformat()), str(d.questions), str(d.answered), str(d.unanswered), str(d.declined), str(d.helpful),
          str(d.not_helpful), str(d.escalations)] for d in reversed(report.days) if d.questions or d.escalations or d.helpful or d.not_helpful),
        "No conversations in this period.", numeric=(1, 2, 3, 4, 5, 6, 7),
    )
    reasons = _reasons(report.reasons) or "–"
    capped = (f" (asked for {report.days_requested}; conversations are kept {report.retention_days} days)"
              if report.days_requested > report.retention_days else "")
    card_html = "".join(f'<div class="card"><span class="value">{_e(v)}</span><span class="label">{_e(k)}</span></div>' for k, v in cards)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<meta name="robots" content="noindex">
<title>Staff report: what patients asked ({_e(report.start.isoformat())} to {_e(report.end.isoformat())})</title>
<style>
body {{ font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2733; margin: 0; background: #f5f7f9; }}
main {{ max-width: 1100px; margin: 0 auto; padding: 24px 28px 40px; }}
h1 {{ font-size: 1.6em; margin: 0 0 4px; }}
h2 {{ font-size: 1.2em; margin: 32px 0 6px; }}
p.lead, p.note, p.empty {{ color: #4a5866; margin: 4px 0 10px; }}
.cards {{ display: flex; flex-wrap: wrap; gap: 10px; margin: 18px 0 8px; }}
.card {{ flex: 1 1 0; background: #fff; border: 1px solid #dfe5ea; border-radius: 8px; padding: 10px 12px; min-width: 110px; }}
.card .value {{ display: block; font-size: 1.45em; font-weight: 600; }}
.card .label {{ color: #4a5866; font-size: .9em; }}
figure {{ margin: 8px 0; background: #fff; border: 1px solid #dfe5ea; border-radius: 8px; padding: 8px; }}
figure img {{ max-width: 100%; height: auto; display: block; }}
table {{ border-collapse: collapse; width: 100%; background: #fff; border: 1px solid #dfe5ea; }}
th, td {{ text-align: left; vertical-align: top; padding: 6px 10px; border-bottom: 1px solid #e8edf1; }}
th {{ background: #eef2f5; font-weight: 600; font-size: .92em; }}
td.num, th.num {{ text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }}
details summary {{ color: #2f5f8a; cursor: pointer; font-size: .9em; }}
details ul {{ margin: 4px 0 0; padding-left: 18px; }}
footer {{ margin-top: 32px; color: #4a5866; font-size: .9em; }}
</style>
</head>
<body>
<main>
<h1>What patients asked: staff report</h1>
<p class="lead">{_e(report.clinic)} · {_e(report.start.isoformat())} to {_e(report.end.isoformat())}{_e(capped)} ·
generated {_e(report.generated.strftime("%Y-%m-%d %H:%M"))}</p>
<div class="cards">{card_html}</div>
<p class="note">Not answered, by reason: {_e(reasons)}. {_e(_after(report))}</p>

<h2>Answered and not answered, per day</h2>
<figure><img alt="Bar chart: answered and not answered questions per day" src="data:image/png;base64,{png}"></figure>

<h2>Subjects the documents don't cover</h2>
<p class="note">Questions the bot declined because no document covers their subject: candidates for the next document.</p>
{subjects}{_more(len(report.subjects), "subjects")}

<h2>Questions not answered, by similar wording</h2>
<p class="note">Every unanswered question, grouped by the words they share. The newest wording is shown; the others fold out.</p>
{wordings}{_more(len(report.wordings), "groups")}

<h2>Answers marked not helpful</h2>
<p class="note">Each answer a patient marked “not helpful”, with the question that led to it, the documents it quoted and
what the patient wrote next (if anything).</p>
{not_helpful}{_more(len(report.not_helpful), "answers")}

<h2>Questions per topic</h2>
{topics}

<h2>Per day</h2>
<p class="note">Red-flag escalations are counted only: what was said is never shown.</p>
{days}

<footer>No sender ids are shown. E-mail addresses, phone numbers and long numbers in patients' words are masked
(&lt;email&gt;, &lt;phone&gt;, &lt;number&gt;). Deleted conversations and anything older than
{report.retention_days} days are not included. This page holds patients' words: keep it within the clinic and
delete it when done.</footer>
</main>
</body>
</html>
"""


def _more(count: int, what: str) -> str:
    if count <= PAGE_ROWS:
        return ""
    return f'<p class="note">The first {PAGE_ROWS} of {count} {what}; staff-report.csv has them all.</p>'


def _after(report: StaffReport) -> str:
    if not report.after_did_you_mean:
        return ""
    n = report.after_did_you_mean
    return (f"{n} question{'s were' if n > 1 else ' was'} answered only after the patient chose a “Did you mean…?” reading "
            "(python -m bot report --nlu-candidates lists their wordings).")


CSV_COLUMNS = ("section", "day", "item", "questions", "answered", "not_answered", "declined", "helpful", "not_helpful",
               "escalations", "reasons", "example", "documents", "said_next")


def write_csv(report: StaffReport, path: Path) -> Path:
    """One table, a ``section`` column saying what each row is: summary, day, topic, subject (not
    covered), wording (similar unanswered questions), not_helpful (an answer marked 👎)."""
    with _private_file(path) as handle:
        handle.write("\ufeff")  # spreadsheet programs then read UTF-8 (emoji, quotes) correctly
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS, extrasaction="raise")
        writer.writeheader()
        rows: List[Dict[str, Any]] = [{
            "section": "summary", "day": f"{report.start.isoformat()}/{report.end.isoformat()}", "item": "conversations",
            "questions": report.questions, "answered": report.answered, "not_answered": report.unanswered,
            "declined": report.declined, "helpful": report.helpful, "not_helpful": report.not_helpful_count,
            "escalations": report.escalations, "reasons": _reasons(report.reasons), "example": report.conversations,
        }]
        rows += [{"section": "day", "day": d.day.isoformat(), "questions": d.questions, "answered": d.answered,
                  "not_answered": d.unanswered, "declined": d.declined, "helpful": d.helpful, "not_helpful": d.not_helpful,
                  "escalations": d.escalations} for d in report.days]
        rows += [{"section": "topic", "item": t.topic, "questions": t.questions, "answered": t.answered,
                  "not_answered": t.unanswered, "declined": t.declined} for t in report.topics]
        rows += [{"section": "subject", "day": g.newest_day.isoformat(), "item": g.name, "questions": g.count,
                  "not_answered": g.count, "reasons": _reasons(g.reasons), "example": g.newest} for g in report.subjects]
        rows += [{"section": "wording", "day": g.newest_day.isoformat(), "item": g.name, "questions": g.count,
                  "not_answered": g.count, "reasons": _reasons(g.reasons), "example": " | ".join(g.wordings)} for g in report.wordings]
        rows += [{"section": "not_helpful", "day": _day(q.at).isoformat(), "item": q.topic, "example": q.text,
                  "documents": " | ".join(q.sources), "said_next": q.said_next or ""} for q in report.not_helpful]
        for row in rows:
            writer.writerow({key: _cell(value) for key, value in row.items()})
    return path


def _cell(value: Any) -> Any:
    """Patients' words never become spreadsheet formulas."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def write_nlu_candidates(report: StaffReport, path: Path) -> Path:
    """Rasa NLU YAML, one entry per group of similar wordings, the likeliest intent filled in (the one the
    patient chose after "Did you mean ...?", else the best non-fallback intent of the classifier's ranking)
    and a comment with the count. For a person to review: nothing merges it into data/nlu/."""
    lines = [
        "# NLU candidates from the staff report (python -m bot report --nlu-candidates),",
        f"# {report.start.isoformat()} to {report.end.isoformat()}: questions the assistant did not understand at once",
        "# (not understood, \"Did you mean ...?\", asked to say it another way). Questions the documents don't cover",
        "# and out-of-scope questions are left out: they need a document, not training data.",
        "# REVIEW EVERY LINE: fix the intent, annotate entities ([lupus](condition)), drop what is wrong or",
        "# private, then move what is right into a file under data/nlu/ and `make train`. Nothing merges this file.",
        'version: "3.1"',
        "nlu:",
    ]
    for group in report.nlu_candidates:
        intent = next(iter(group.intents), None)
        if intent is None:
            continue
        confirmed = f", {group.confirmed} confirmed by the patient's choice" if group.confirmed else ""
        others = [f"{name} {n}" for name, n in list(group.intents.items())[1:]]
        lines.append(f"# {group.count} question{'s' if group.count > 1 else ''} ({_reasons(group.reasons)}){confirmed}; "
                     f"newest {group.newest_day.isoformat()}" + (f"; other readings: {', '.join(others)}" if others else ""))
        lines.append(f"- intent: {intent}")
        lines.append("  examples: |")
        lines += [f"    - {_example(w)}" for w in group.wordings]
    if lines[-1] == "nlu:":
        lines[-1] = "nlu: []"
    with _private_file(path) as handle:
        handle.write("\n".join(lines) + "\n")
    return path


def _example(wording: str) -> str:
    """One line of an examples block: no Rasa entity markup of the patient's own making."""
    return wording.replace("[", "(").replace("]", ")").replace("{", "(").replace("}", ")").strip()


# -- the command ---------------------------------------------------------------------------------------------
def document_titles() -> List[str]:
    """The condition store's document titles (to split "Sources: A; B" when a title holds "; "); none if
    the store cannot be read."""
    try:
        from bot.store import default_store

        return [str(d["title"]) for d in default_store().documents()]
    except Exception:  # the report does not need the store: titles are then split at "; "
        return []


def main(days: int = 30, out: Optional[Path] = None, nlu_candidates: bool = False, endpoints: Optional[Path] = None) -> int:
    """``python -m bot report``: writes the page and the CSV (and the NLU candidates); 2 when it cannot."""
    out = Path(out) if out else settings.PROJECT_ROOT / "reports" / "staff"
    try:
        engine = open_tracker_store(tracker_store_url(endpoints))
        try:
            report = build_report(engine, days=days, titles=document_titles())
        finally:
            engine.dispose()
    except ReportError as error:
        print(f"report: {error}", file=sys.stderr)
        return 2
    written = [write_html(report, out / HTML_NAME), write_csv(report, out / CSV_NAME)]
    if nlu_candidates:
        written.append(write_nlu_candidates(report, out / NLU_NAME))
    print(f"staff report {report.start.isoformat()} to {report.end.isoformat()}: {report.conversations} conversations, "
          f"{report.questions} questions, {report.unanswered} not answered, {report.not_helpful_count} answers marked not helpful, "
          f"{report.escalations} red-flag escalations")
    for path in written:
        print(f"  {path}")
    return 0
