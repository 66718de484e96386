"""The staff report (bot/report.py) over conversations written into a real tracker store.

The conversations are scripted (tests/support/report_conversations.py): each message runs the real
action and is recorded as the Rasa server records it, then saved with the project's tracker store
(PrivateSQLTrackerStore, Rasa's SQLTrackerStore) into SQLite, and once into PostgreSQL. What the report
must count comes from the script, never from the events.
"""
from __future__ import annotations

import asyncio
import csv
import glob
import io
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Dict, List

import pytest
import sqlalchemy as sa
import yaml
from PIL import Image

from bot import report as staff
from bot import texts
from bot.answers import AnswerComposer
from bot.clinic import load_clinic_config
from bot.rasa.tracker_store import PrivateSQLTrackerStore, pop_forget_outcome
from tests.support.report_conversations import EMERGENCY, Conversation, Scripter, scripted_set

PROJECT_ROOT = Path(__file__).resolve().parents[2]
README_SCREENSHOT = PROJECT_ROOT / "docs" / "staff-report.png"
DAY = 86400.0
RETENTION = 30

PII_TEXT = "please ring me on +44 20 7946 0958 or write to jane.doe@example.com"
PII_SHOWN = "please ring me on <phone> or write to <email>"
PII_NEXT = "it didn't say anything about my case, my number is 07700 900123 and my id 5566778"
PII_NEXT_SHOWN = "it didn't say anything about my case, my number is <phone> and my id <phone>"
PII_UNSURE = "about the other thing, reply to sam_k+clinic@mail.example.org or 0044-161-496-0000"
PII_UNSURE_SHOWN = "about the other thing, reply to <email> or <phone>"
ID_TEXT = "my hospital number is 48213 what is gout exactly"
ID_SHOWN = "my hospital number is <number> what is gout exactly"
SECRETS = ["+44 20 7946 0958", "7946", "jane.doe", "example.com", "07700", "900123", "5566778", "sam_k", "mail.example.org",
           "496-0000", "48213"]
EMERGENCY_TEXT = "crushing chest pain since breakfast and i can't breathe"
OLD_TEXT = "what causes hip pain (asked long ago, kiwifruit)"
OLD_TURN_TEXT = "what is lupus (first asked weeks ago, kumquat)"
XSS_TEXT = "<script>alert('report')</script> is this a chat"
FORMULA_TEXT = '=HYPERLINK("http://evil.example","click")'


@pytest.fixture(scope="module")
def composer(corpus_store) -> AnswerComposer:
    return AnswerComposer(corpus_store, load_clinic_config())


@pytest.fixture(scope="module")
def titles(corpus_store) -> List[str]:
    return [str(d["title"]) for d in corpus_store.documents()]


def special_conversations(scripter: Scripter, now: float) -> Dict[str, Conversation]:
    """Conversations each test below looks for, besides the varied set."""
    s = scripter
    special: Dict[str, Conversation] = {}

    c = special["pii"] = s.start("pii-7c1f0a9e2b", now - 2.2 * DAY)
    s.greet(c)
    s.out_of_scope(c, PII_TEXT, shown=PII_SHOWN)
    s.ask(c, "what causes back pain", "ask_conditions_for_pain", {"pain_type": "back"})
    s.feedback(c, False)
    s.out_of_scope(c, PII_NEXT, shown=PII_NEXT_SHOWN)
    s.unsure(c, PII_UNSURE, [("ask_treatment", 0.41), ("ask_stress", 0.33)], shown=PII_UNSURE_SHOWN)
    s.ask(c, ID_TEXT, "ask_condition_info", {"condition": "gout"}, expect="not_covered", subject="gout", shown=ID_SHOWN)

    c = special["emergency"] = s.start("emergency-91d0c3", now - 1.4 * DAY)
    s.ask(c, "does lupus cause nerve pain", "ask_condition_causes_pain", {"condition": "lupus", "pain_type": "nerve"})
    s.emergency(c, EMERGENCY_TEXT)
    s.emergency(c, EMERGENCY)

    c = special["give_up"] = s.start("give-up-5e2a77", now - 3.3 * DAY)
    s.unsure(c, "um so yeah that", [("ask_symptoms", 0.40), ("ask_treatment", 0.35)])
    s.something_else(c)
    s.unsure(c, "yeah that thing um", [("ask_symptoms", 0.42), ("ask_mechanism", 0.3)])
    s.give_up(c)

    c = special["chosen"] = s.start("chosen-0b44e1", now - 0.6 * DAY)
    s.unsure(c, "it wakes me at night, what now", [("ask_symptoms", 0.42), ("ask_treatment", 0.38)])
    s.choose(c, 1)  # the second reading: the candidate's intent is the patient's choice, not the ranking's first
    s.feedback(c, True)

    c = special["tap"] = s.start("tap-3f9d20", now - 4.5 * DAY)
    s.ask(c, "does gout cause ear pain", "ask_condition_causes_pain", {"condition": "gout", "pain_type": "ear"},
          expect="not_covered", subject="gout")
    s.tap(c, "What causes hip pain?")
    s.feedback(c, False)

    c = special["hostile"] = s.start("hostile-aa01", now - 5.1 * DAY)
    s.out_of_scope(c, XSS_TEXT)
    s.out_of_scope(c, FORMULA_TEXT)

    c = special["old"] = s.start("old-2d7c55", now - 40 * DAY)  # past retention: not purged yet, never reported
    s.ask(c, OLD_TEXT, "ask_conditions_for_pain", {"pain_type": "hip"})
    s.feedback(c, False)
    s.emergency(c, EMERGENCY)

    c = special["old_turn"] = s.start("old-turn-61bb0f", now - 35 * DAY)  # a live conversation with an old turn
    s.ask(c, OLD_TURN_TEXT, "ask_condition_info", {"condition": "lupus"})
    scripter._clock[c.sender] = now - 1.1 * DAY
    s.ask(c, "how is lupus treated", "ask_treatment", {"condition": "lupus"})
    return special


@pytest.fixture(scope="module")
def now() -> float:
    return time.time()


@pytest.fixture(scope="module")
def conversations(composer, now) -> Dict[str, Conversation]:
    scripter = Scripter(composer)
    varied = {c.sender: c for c in scripted_set(scripter, 60, now, days=12)}
    return {**varied, **special_conversations(scripter, now)}


def save_all(store, conversations) -> None:
    for c in conversations:
        asyncio.run(store.save(c.tracker()))


@pytest.fixture(scope="module")
def sqlite_path(tmp_path_factory, conversations) -> Path:
    path = tmp_path_factory.mktemp("tracker") / "tracker.db"
    store = PrivateSQLTrackerStore(dialect="sqlite", db=str(path), retention_days=RETENTION)
    save_all(store, conversations.values())
    store.engine.dispose()
    return path


def sqlite_url(path: Path) -> sa.engine.URL:
    return sa.engine.URL.create("sqlite", database=f"file:{path}", query={"mode": "ro", "uri": "true"})


def make_report(url, now, titles, days=30) -> staff.StaffReport:
    engine = staff.open_tracker_store(url)
    try:
        return staff.build_report(engine, days=days, now=now, retention_days=RETENTION, titles=titles, clinic="Test Clinic")
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def report(sqlite_path, now, titles) -> staff.StaffReport:
    return make_report(sqlite_url(sqlite_path), now, titles)


@pytest.fixture(scope="module")
def written(report, tmp_path_factory) -> Dict[str, str]:
    out = tmp_path_factory.mktemp("staff") / "staff"
    paths = {
        "html": staff.write_html(report, out / staff.HTML_NAME),
        "csv": staff.write_csv(report, out / staff.CSV_NAME),
        "nlu": staff.write_nlu_candidates(report, out / staff.NLU_NAME),
    }
    return {name: path.read_text(encoding="utf-8") for name, path in paths.items()} | {"dir": str(out)}


# -- what the script says the report must count -------------------------------------------------------
class Expected:
    def __init__(self, conversations, now: float, days: int = 30):
        start = now - min(days, RETENTION) * DAY
        live = [c for c in conversations if max(e.timestamp for e in c.events) >= now - RETENTION * DAY]
        self.questions = [q for c in live for q in c.expected if q.at >= start]
        self.escalations = [t for c in live for t in c.escalations if t >= start]
        self.ratings = [(t, h) for c in live for t, h in c.ratings if t >= start]
        self.conversations = sum(1 for c in live if any(q.at >= start for q in c.expected) or any(t >= start for t in c.escalations))

    def count(self, outcome: str) -> int:
        return sum(1 for q in self.questions if q.outcome == outcome)

    def per_day(self) -> Dict[str, Counter]:
        days: Dict[str, Counter] = {}
        for q in self.questions:
            days.setdefault(day(q.at), Counter())[q.outcome] += 1
            days[day(q.at)]["questions"] += 1
        for t in self.escalations:
            days.setdefault(day(t), Counter())["escalations"] += 1
        for t, helpful in self.ratings:
            days.setdefault(day(t), Counter())["helpful" if helpful else "not_helpful"] += 1
        return days


def day(at: float) -> str:
    return datetime.fromtimestamp(at).date().isoformat()


def report_per_day(report) -> Dict[str, Counter]:
    return {
        d.day.isoformat(): Counter({k: v for k, v in (("questions", d.questions), ("answered", d.answered), ("unanswered", d.unanswered),
                                                      ("declined", d.declined), ("escalations", d.escalations), ("helpful", d.helpful),
                                                      ("not_helpful", d.not_helpful)) if v})
        for d in report.days if d.questions or d.escalations or d.helpful or d.not_helpful
    }


# -- counts -------------------------------------------------------------------------------------------------
def test_the_counts_match_the_scripted_conversations(conversations, report, now):
    expected = Expected(conversations.values(), now)
    assert len(conversations) >= 50 and expected.conversations >= 50
    assert report.conversations == expected.conversations
    assert report.questions == len(expected.questions) > 100
    assert (report.answered, report.unanswered, report.declined) == (expected.count("answered"), expected.count("unanswered"), expected.count("declined"))
    assert report.escalations == len(expected.escalations) >= 3
    assert (report.helpful, report.not_helpful_count) == (sum(h for _, h in expected.ratings), sum(not h for _, h in expected.ratings))
    assert report_per_day(report) == expected.per_day()
    assert report.reasons == dict(Counter(q.reason for q in expected.questions if q.outcome == "unanswered"))
    assert set(report.reasons) == {"not_covered", "out_of_scope", "did_you_mean", "rephrase", "fallback"}
    assert report.after_did_you_mean == sum(1 for q in expected.questions if q.confirmed_intent) > 0
    topics = {t.topic: (t.questions, t.answered, t.unanswered) for t in report.topics}
    want = Counter((q.topic, q.outcome) for q in expected.questions)
    assert topics == {topic: (sum(n for (t, _), n in want.items() if t == topic), want[(topic, "answered")], want[(topic, "unanswered")])
                      for topic, _ in want}
    # every day of the period is in the chart, the empty ones too
    assert len(report.days) == 31 and report.days[-1].day.isoformat() == day(now)


def test_unanswered_questions_by_subject_name_the_subject(conversations, report, now):
    expected = Expected(conversations.values(), now)
    subjects = Counter(q.subject for q in expected.questions if q.reason == "not_covered")
    assert {g.name: g.count for g in report.subjects} == dict(subjects)
    flu = next(g for g in report.subjects if g.name == "the flu")
    newest = max((q for q in expected.questions if q.subject == "the flu"), key=lambda q: q.at)
    assert flu.newest == newest.text and flu.newest_day.isoformat() == day(newest.at)


def test_unanswered_questions_are_grouped_by_similar_wording(conversations, report, now):
    expected = Expected(conversations.values(), now)
    unanswered = [q for q in expected.questions if q.outcome == "unanswered"]
    assert sum(g.count for g in report.wordings) == len(unanswered)
    by_text = {w: g for g in report.wordings for w in g.wordings}
    # the same words asked many times are one group, with every reason it went unanswered
    normal = by_text["is that normal for me??"]
    assert normal.count == sum(1 for q in unanswered if q.text == "is that normal for me??") > 1
    assert normal.reasons == dict(Counter(q.reason for q in unanswered if q.text == "is that normal for me??"))
    # two wordings whose content lemmas are alike ({um, yeah} and {um, yeah, thing}) fall together
    assert by_text["um so yeah that"] is by_text["yeah that thing um"]
    assert by_text["um so yeah that"].reasons == {"rephrase": 1, "fallback": 1}
    assert by_text["is the flu an autoimmune disease"] is not by_text["can the flu make my joints ache"]


def test_similar_wording_uses_lemmas_not_spelling():
    def question(text, at):
        return staff.Question(at=at, text=text, typed=True, topic="x", outcome="unanswered", reason="fallback")

    groups = staff._similar([question("what causes ear pain", 1), question("Ear pains: the causes?", 3),
                             question("what caused my ear pain", 2), question("is gout autoimmune", 4), question("???", 5)])
    sizes = {g.newest: g.count for g in groups}
    assert sizes == {"Ear pains: the causes?": 3, "is gout autoimmune": 1, "???": 1}
    assert next(g for g in groups if g.count == 3).wordings == ["Ear pains: the causes?", "what caused my ear pain", "what causes ear pain"]


def test_answers_marked_not_helpful_come_with_their_question_and_documents(conversations, report, now, titles):
    expected = Expected(conversations.values(), now)
    want = sorted(((q.text, q.sources, q.said_next) for q in expected.questions if q.helpful is False), key=str)
    assert sorted(((q.text, q.sources, q.said_next) for q in report.not_helpful), key=str) == want
    assert all(q.sources and set(q.sources) <= set(titles) for q in report.not_helpful)
    joined = [t for t in titles if "; " in t]  # a title holding "; " is not split into two
    assert joined and any(joined[0] in q.sources for q in report.not_helpful)
    rows = {q.text: q for q in report.not_helpful}
    assert rows["what causes back pain"].said_next == PII_NEXT_SHOWN
    assert rows["What causes hip pain?"].topic == "conditions_for_pain"  # a tap shows the button's title


def test_the_report_reads_the_events_only_from_the_period_asked(conversations, sqlite_path, now, titles):
    report = make_report(sqlite_url(sqlite_path), now, titles, days=3)
    expected = Expected(conversations.values(), now, days=3)
    assert report.questions == len(expected.questions) and report.escalations == len(expected.escalations)
    assert report_per_day(report) == expected.per_day()
    assert report.start.isoformat() == day(now - 3 * DAY)


def test_past_retention_never_appears(conversations, sqlite_path, report, written, now):
    with sa.create_engine(f"sqlite:///{sqlite_path}").connect() as connection:  # still in the table: not yet purged
        stored = connection.execute(sa.text("SELECT count(*) FROM events WHERE sender_id = :s"), {"s": "old-2d7c55"}).scalar()
    assert stored > 0
    for name in ("html", "csv", "nlu"):
        assert "kiwifruit" not in written[name] and "kumquat" not in written[name]
    assert not any("kiwifruit" in q.text for q in report.not_helpful)
    assert report.start.isoformat() == day(now - RETENTION * DAY)
    # asking for more days than conversations are kept reads no further back
    longer = make_report(sqlite_url(sqlite_path), now, [], days=60)
    page = staff.render_html(longer)
    assert "kiwifruit" not in page and "kumquat" not in page and "conversations are kept 30 days" in page
    assert longer.start == report.start and longer.questions == report.questions == len(Expected(conversations.values(), now, days=60).questions)


# -- privacy ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, shown", [
    ("mail me at ann.o'neil@nhs.example.co.uk please", "mail me at ann.o'<email> please"),
    ("call 020 7946 0958 or (555) 123-4567 or +1-555-010-0199", "call <phone> or <phone> or <phone>"),
    ("my nhs number is 943 476 5919", "my nhs number is <phone>"),
    ("card 4111111111111111 ref 12345", "card <phone> ref <number>"),
    ("I take 40 mg since 2019, 3 times a day for 12 weeks", "I take 40 mg since 2019, 3 times a day for 12 weeks"),
    ("born 12/05/1961", "born <phone>"),
    ("two\nlines  and   spaces", "two lines and spaces"),
])
def test_mask(text, shown):
    assert staff.mask(text) == shown


def without_chart(text: str) -> str:
    return re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", text)


def test_masked_words_never_reach_the_files(written):
    for name in ("html", "csv", "nlu"):
        leaked = [s for s in SECRETS if s in without_chart(written[name])]
        assert leaked == [], f"{name} holds {leaked}"
    assert html_escaped(PII_SHOWN) in written["html"] and PII_SHOWN in written["csv"]
    assert html_escaped(ID_SHOWN) in written["html"]
    assert html_escaped(PII_NEXT_SHOWN) in written["html"]
    assert PII_UNSURE_SHOWN in written["nlu"]


def html_escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&#x27;").replace('"', "&quot;")


def test_no_sender_id_and_no_emergency_words_anywhere(conversations, written):
    for name in ("html", "csv", "nlu"):
        text = without_chart(written[name])
        senders = [c.sender for c in conversations.values() if c.sender in text or c.sender.split("-")[-1] in text]
        assert senders == [], f"{name} names senders {senders[:3]}"
        assert EMERGENCY_TEXT not in written[name] and EMERGENCY not in written[name] and "breakfast" not in written[name]


def test_the_files_are_private_to_their_owner(written):
    folder = Path(written["dir"])
    assert oct(folder.stat().st_mode & 0o777) == "0o700"
    assert {p.name: oct(p.stat().st_mode & 0o777) for p in folder.iterdir()} == {
        staff.HTML_NAME: "0o600", staff.CSV_NAME: "0o600", staff.NLU_NAME: "0o600"}


def test_patient_words_are_text_in_the_page_and_never_formulas_in_the_csv(written):
    assert "<script>" not in written["html"] and html_escaped(XSS_TEXT) in written["html"]
    assert "Content-Security-Policy" in written["html"] and "<img alt=" in written["html"]
    assert re.search(r'src="data:image/png;base64,[A-Za-z0-9+/=]{2000,}"', written["html"])  # the chart, embedded
    rows = list(csv.DictReader(io.StringIO(written["csv"].lstrip("\ufeff"))))
    examples = [r["example"] for r in rows if r["section"] == "wording"]
    assert "'" + FORMULA_TEXT in examples and FORMULA_TEXT not in examples


def test_the_csv_holds_the_same_numbers(report, written):
    rows = list(csv.DictReader(io.StringIO(written["csv"].lstrip("\ufeff"))))
    assert set(rows[0]) == set(staff.CSV_COLUMNS)
    summary = next(r for r in rows if r["section"] == "summary")
    assert (int(summary["questions"]), int(summary["answered"]), int(summary["not_answered"]), int(summary["escalations"])) == (
        report.questions, report.answered, report.unanswered, report.escalations)
    days = {r["day"]: (int(r["answered"]), int(r["not_answered"]), int(r["escalations"])) for r in rows if r["section"] == "day"}
    assert days == {d.day.isoformat(): (d.answered, d.unanswered, d.escalations) for d in report.days}
    subjects = {r["item"]: int(r["questions"]) for r in rows if r["section"] == "subject"}
    assert subjects == {g.name: g.count for g in report.subjects}
    assert sum(1 for r in rows if r["section"] == "not_helpful") == len(report.not_helpful)


# -- NLU candidates ---------------------------------------------------------------------------------------
def test_nlu_candidates_are_rasa_nlu_data_with_the_likeliest_intent(written, report, conversations, now):
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    data = RasaYAMLReader().reads(written["nlu"])
    examples = {m.get("text"): m.get("intent") for m in data.intent_examples}
    # the best intent after nlu_fallback in the classifier's ranking ...
    assert examples["is that normal for me??"] == "ask_diagnosis_difficulty" and examples["so it comes and goes, why"] == "ask_diagnosis_difficulty"
    assert examples["um so yeah that"] == "ask_symptoms" and examples["blorp snark wibble"] == "ask_symptoms"
    # ... unless the patient chose another reading
    assert examples["it wakes me at night, what now"] == "ask_treatment"
    assert examples[PII_UNSURE_SHOWN] == "ask_treatment"
    # only wordings the assistant did not understand: not uncovered subjects, not out of scope, not taps
    expected = Expected(conversations.values(), now)
    nlu = {q.text for q in expected.questions if q.typed and (q.reason in ("did_you_mean", "rephrase", "fallback") or q.confirmed_intent)}
    assert set(examples) == nlu
    assert not any(t.startswith("/") for t in examples)
    # each entry says how many questions it stands for
    counts = [int(n) for n in re.findall(r"^# (\d+) questions?", written["nlu"], flags=re.M)]
    assert sum(counts) == sum(1 for q in expected.questions if q.text in nlu)
    assert "Nothing merges this file" in written["nlu"]


def test_nothing_writes_into_the_training_data(tmp_path, sqlite_path):
    before = {p: p.stat().st_mtime_ns for p in (PROJECT_ROOT / "data" / "nlu").glob("*.yml")}
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(yaml.safe_dump({"tracker_store": {"type": "bot.rasa.tracker_store.PrivateSQLTrackerStore",
                                                           "dialect": "sqlite", "db": str(sqlite_path)}}))
    out = tmp_path / "out"
    completed = run_cli("report", "--days", "30", "--out", str(out), "--nlu-candidates", "--endpoints", str(endpoints))
    assert completed.returncode == 0, completed.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted([staff.HTML_NAME, staff.CSV_NAME, staff.NLU_NAME])
    assert "questions" in completed.stdout and str(out / staff.HTML_NAME) in completed.stdout
    assert {p: p.stat().st_mtime_ns for p in (PROJECT_ROOT / "data" / "nlu").glob("*.yml")} == before


def run_cli(*args: str, env: Dict[str, str] | None = None) -> subprocess.CompletedProcess:
    import sys

    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "SQLALCHEMY_SILENCE_UBER_WARNING": "1", **(env or {})})


def test_a_missing_tracker_store_is_one_clear_error(tmp_path):
    completed = run_cli("report", "--out", str(tmp_path / "out"), env={"TRACKER_DB": str(tmp_path / "none.db")})
    assert completed.returncode == 2
    assert "no tracker store at" in completed.stderr and "Traceback" not in completed.stderr
    assert not (tmp_path / "none.db").exists() and not (tmp_path / "out").exists()


# -- where the conversations are ----------------------------------------------------------------------------
def test_the_tracker_store_comes_from_the_endpoints(monkeypatch, tmp_path):
    monkeypatch.delenv("RASA_ENDPOINTS", raising=False)
    monkeypatch.delenv("TRACKER_DB", raising=False)
    url = staff.tracker_store_url()
    assert (url.get_backend_name(), url.database, dict(url.query)) == (
        "sqlite", f"file:{PROJECT_ROOT / 'var' / 'tracker.db'}", {"mode": "ro", "uri": "true"})
    monkeypatch.setenv("TRACKER_DB", str(tmp_path / "other.db"))  # as scripts/serve.sh rewrites it
    assert staff.tracker_store_url().database == f"file:{tmp_path / 'other.db'}"
    scaled = PROJECT_ROOT / "deploy" / "endpoints.scaled.yml"
    for name, value in {"TRACKER_DB_HOST": "10.0.0.5", "TRACKER_DB_PORT": "5433", "TRACKER_DB_NAME": "clinic_tracker",
                        "TRACKER_DB_USER": "clinic", "TRACKER_DB_PASSWORD": "s3cret"}.items():
        monkeypatch.setenv(name, value)
    url = staff.tracker_store_url(scaled)
    assert (url.get_backend_name(), url.host, url.port, url.database, url.username, url.password) == (
        "postgresql", "10.0.0.5", 5433, "clinic_tracker", "clinic", "s3cret")
    monkeypatch.setenv("RASA_ENDPOINTS", str(scaled))
    assert staff.tracker_store_url().host == "10.0.0.5"
    monkeypatch.delenv("TRACKER_DB_PASSWORD")
    with pytest.raises(staff.ReportError, match=r"TRACKER_DB_PASSWORD"):
        staff.tracker_store_url(scaled)
    memory = tmp_path / "memory.yml"
    memory.write_text("action_endpoint:\n  url: http://localhost:5055/webhook\n")
    with pytest.raises(staff.ReportError, match="no tracker_store"):
        staff.tracker_store_url(memory)


def test_the_report_only_reads(sqlite_path):
    engine = staff.open_tracker_store(sqlite_url(sqlite_path))
    with engine.connect() as connection, pytest.raises(sa.exc.OperationalError, match="readonly"):
        connection.execute(sa.text("DELETE FROM events"))
    engine.dispose()


@pytest.mark.parametrize("reply, action, outcome", [
    (texts.NO_INFORMATION_ON.format(subject="shingles") + "\n\nI can tell you about ...", "action_answer", ("unanswered", "not_covered", "shingles")),
    ("See a doctor today.\n\n" + texts.NO_INFORMATION_ON.format(subject="shingles"), "action_answer", ("unanswered", "not_covered", "shingles")),
    (texts.NO_INFORMATION_TOPIC.format(topic="symptoms", subject="psoriatic arthritis"), "action_answer",
     ("unanswered", "not_covered", "symptoms for psoriatic arthritis")),
    (texts.DID_YOU_MEAN, "action_two_stage_fallback", ("unanswered", "did_you_mean", None)),
    (texts.ASK_REPHRASE, "action_two_stage_fallback", ("unanswered", "rephrase", None)),
    (texts.NOT_UNDERSTOOD + "\n\nI can tell you about ...", "action_two_stage_fallback", ("unanswered", "fallback", None)),
    (texts.OUT_OF_SCOPE, "action_out_of_scope", ("unanswered", "out_of_scope", None)),
    (texts.FEEDBACK_THANKS, "action_feedback", ("other", None, None)),
])
def test_what_the_bot_did_is_read_from_its_reply(reply, action, outcome):
    """Rasa records only action_two_stage_fallback for the fallback's steps: the reply's words tell them apart."""
    turn = staff._Turn(at=1.0, text="...", intent="nlu_fallback", ranking=[], helpful=None, offered={}, actions=[action],
                       replies=[(reply, [])])
    assert staff._outcome(turn) == outcome


def test_a_refusal_without_documents_counts_as_declined():
    turn = staff._Turn(at=1.0, text="what dose of x", intent="request_dose", ranking=["request_dose"], helpful=None, offered={},
                       actions=["action_restricted_request"], replies=[("I can't advise on doses.", [])])
    assert staff._outcome(turn) == (staff.DECLINED, None, None)


# -- deletion -------------------------------------------------------------------------------------------------
def test_a_deleted_conversation_disappears_from_the_next_report(composer, tmp_path, now, titles):
    scripter = Scripter(composer)
    others = scripted_set(scripter, 8, now, days=5, seed=5, prefix="other")
    leaving = scripter.start("leaving-4c0ffee", now - 0.5 * DAY)
    scripter.out_of_scope(leaving, "tell me about the walrus festival")
    scripter.ask(leaving, "can the flu make my joints ache", "ask_condition_causes_pain", expect="not_covered", subject="the flu")
    scripter.ask(leaving, "what causes hip pain", "ask_conditions_for_pain", {"pain_type": "hip"})
    scripter.feedback(leaving, False)
    store = PrivateSQLTrackerStore(dialect="sqlite", db=str(tmp_path / "tracker.db"), retention_days=RETENTION)
    save_all(store, [*others, leaving])
    url = sqlite_url(tmp_path / "tracker.db")

    before = make_report(url, now, titles)
    staff.write_html(before, tmp_path / "before.html")
    assert "walrus festival" in (tmp_path / "before.html").read_text(encoding="utf-8")
    want = Expected(others, now)
    assert before.questions == len(want.questions) + 3 and before.not_helpful_count == sum(not h for _, h in want.ratings) + 1

    scripter.forget(leaving)
    asyncio.run(store.save(leaving.tracker()))  # "delete my conversation": the store deletes it instead
    assert pop_forget_outcome(leaving.sender) is True
    after = make_report(url, now, titles)
    staff.write_html(after, tmp_path / "after.html")
    staff.write_csv(after, tmp_path / "after.csv")
    for name in ("after.html", "after.csv"):
        assert "walrus" not in (tmp_path / name).read_text(encoding="utf-8")
    assert after.questions == len(want.questions) and after.conversations == want.conversations
    assert report_per_day(after) == want.per_day()
    assert {g.name: g.count for g in after.subjects} == dict(Counter(q.subject for q in want.questions if q.reason == "not_covered"))


# -- PostgreSQL (the scaled layout's tracker store) ---------------------------------------------------------
@pytest.fixture(scope="module")
def postgres():
    """A throwaway PostgreSQL server on a free loopback port (Debian's binaries, as the scale tests use)."""
    from tests.support.servers import free_port

    initdb = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not initdb:
        pytest.fail("PostgreSQL is not installed (make scale-prereqs installs it)")
    bin_dir = Path(initdb[-1]).parent
    root = Path(tempfile.mkdtemp(prefix="report-pg-"))
    root.chmod(0o755)
    data, socket_dir, password = root / "data", root / "sock", os.urandom(12).hex()
    socket_dir.mkdir()
    (root / "pw").write_text(password)
    as_postgres: List[str] = []
    if os.getuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(root / "pw", "postgres")
        shutil.chown(socket_dir, "postgres")
        data.mkdir(mode=0o700)
        shutil.chown(data, "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    subprocess.run(as_postgres + [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-E", "UTF8", "--no-locale",
                                  f"--pwfile={root / 'pw'}", "--auth=scram-sha-256"], check=True, capture_output=True, timeout=120)
    started = subprocess.run(as_postgres + [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(data / "server.log"), "-w", "-t", "60",
                                            "-o", f"-h 127.0.0.1 -p {port} -k {socket_dir}", "start"], capture_output=True, text=True, timeout=120)
    try:
        assert started.returncode == 0, f"PostgreSQL did not start: {started.stderr}"
        admin = sa.create_engine(f"postgresql://postgres:{password}@127.0.0.1:{port}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sa.text("CREATE DATABASE clinic_tracker"))
        admin.dispose()
        yield {"TRACKER_DB_HOST": "127.0.0.1", "TRACKER_DB_PORT": str(port), "TRACKER_DB_NAME": "clinic_tracker",
               "TRACKER_DB_USER": "postgres", "TRACKER_DB_PASSWORD": password}
    finally:
        subprocess.run(as_postgres + [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)


def test_the_report_works_on_postgresql(postgres, monkeypatch, conversations, report, now, titles):
    store = PrivateSQLTrackerStore(dialect="postgresql", host=postgres["TRACKER_DB_HOST"], port=postgres["TRACKER_DB_PORT"],
                                   db=postgres["TRACKER_DB_NAME"], username=postgres["TRACKER_DB_USER"],
                                   password=postgres["TRACKER_DB_PASSWORD"], retention_days=RETENTION)
    save_all(store, conversations.values())
    store.engine.dispose()
    for name, value in postgres.items():
        monkeypatch.setenv(name, value)
    url = staff.tracker_store_url(PROJECT_ROOT / "deploy" / "endpoints.scaled.yml")
    on_postgres = make_report(url, now, titles)
    assert on_postgres.questions == report.questions and on_postgres.conversations == report.conversations
    assert report_per_day(on_postgres) == report_per_day(report)
    assert [(g.name, g.count, g.newest) for g in on_postgres.subjects] == [(g.name, g.count, g.newest) for g in report.subjects]
    assert [(g.count, g.newest, g.reasons) for g in on_postgres.wordings] == [(g.count, g.newest, g.reasons) for g in report.wordings]
    assert sorted((q.text, q.sources) for q in on_postgres.not_helpful) == sorted((q.text, q.sources) for q in report.not_helpful)
    engine = staff.open_tracker_store(url)
    with engine.connect() as connection:
        connection = connection.execution_options(postgresql_readonly=True)
        with pytest.raises(sa.exc.InternalError, match="read-only transaction"):
            connection.execute(sa.text("DELETE FROM events"))
    engine.dispose()


# -- the page in a browser ----------------------------------------------------------------------------------
@pytest.mark.e2e
def test_the_page_in_chromium_and_the_readme_screenshot(composer, tmp_path, titles):
    """The page from a scripted set of conversations, in headless Chromium (Debian's, driven by
    Playwright): the chart loads, the sections are there, nothing is blocked; the screenshot goes to docs/."""
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.fail("Chromium is not installed (make test-prereqs installs it)")
    from playwright.sync_api import sync_playwright

    now = time.time()
    scripter = Scripter(composer)
    conversations = scripted_set(scripter, 70, now, days=14, seed=3)
    store = PrivateSQLTrackerStore(dialect="sqlite", db=str(tmp_path / "tracker.db"), retention_days=RETENTION)
    save_all(store, conversations)
    engine = staff.open_tracker_store(sqlite_url(tmp_path / "tracker.db"))
    report = staff.build_report(engine, days=14, now=now, retention_days=RETENTION, titles=titles)
    engine.dispose()
    page_path = staff.write_html(report, tmp_path / "staff" / staff.HTML_NAME)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True,
                                             args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"])
        try:
            page = browser.new_page(viewport={"width": 1180, "height": 1900}, device_scale_factor=1)
            problems: List[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.goto(page_path.as_uri())
            assert page.evaluate("() => { const i = document.querySelector('figure img'); return i.complete && i.naturalWidth }") > 600
            headings = page.locator("h2").all_inner_texts()
            assert headings[:3] == ["Answered and not answered, per day", "Subjects the documents don't cover",
                                    "Questions not answered, by similar wording"]
            assert page.locator("table").count() == 5 and problems == []
            assert "the flu" in page.locator("table").nth(0).inner_text()
            page.screenshot(path=str(tmp_path / "staff-report.png"))  # the top of the page: summary, chart, unanswered
        finally:
            browser.close()
    README_SCREENSHOT.parent.mkdir(exist_ok=True)
    with Image.open(tmp_path / "staff-report.png") as shot:  # 128 colours: a quarter of the bytes, same picture
        shot.convert("RGB").quantize(colors=128).save(README_SCREENSHOT, optimize=True)


def test_long_lists_are_cut_in_the_page_not_in_the_csv(report, tmp_path, monkeypatch):
    monkeypatch.setattr(staff, "PAGE_ROWS", 3)
    page = staff.render_html(report)
    staff.write_csv(report, tmp_path / "all.csv")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "all.csv").read_text(encoding="utf-8").lstrip("\ufeff"))))
    assert f"The first 3 of {len(report.wordings)} groups" in page and f"The first 3 of {len(report.not_helpful)} answers" in page
    sections = re.split(r"<h2>", page)
    for heading in ("Questions not answered, by similar wording", "Answers marked not helpful"):
        section = next(x for x in sections if x.startswith(heading))
        assert section.count("<tr>") == 1 + 3, heading  # the heading row and three
    assert sum(1 for r in rows if r["section"] == "wording") == len(report.wordings) > 3
