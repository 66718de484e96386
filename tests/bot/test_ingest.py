"""The build: idempotent, per-document replacement, new documents, bad documents, atomicity."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import ingest
from bot.ingest import build_store
from bot.models import Base, Document, Passage
from bot.store import ConditionStore

REACTIVE_ARTHRITIS_KNEE = """What causes knee pain after an infection
What causes knee pain after an infection Reactive arthritis is a joint condition that can follow an infection.
Reactive arthritis commonly causes knee pain and swelling, usually in one knee at a time.
Treatment of reactive arthritis focuses on anti-inflammatory medicines and rest.
"""


def dump(engine) -> list:
    """Every row of every table, as plain tuples (ids included): what "the same store" means."""
    with Session(engine) as session:
        out = []
        for table in Base.metadata.sorted_tables:
            rows = session.execute(select(table).order_by(*table.primary_key.columns)).all()
            out.append((table.name, [tuple(row) for row in rows]))
        return out


def test_same_input_gives_the_same_store(scratch_corpus, sqlite_engine):
    first = build_store(scratch_corpus, engine=sqlite_engine)
    assert len(first.loaded) == 3 and not first.skipped
    before = dump(sqlite_engine)
    second = build_store(scratch_corpus, engine=sqlite_engine)
    assert second.loaded == [] and len(second.unchanged) == 3
    assert dump(sqlite_engine) == before


def test_a_new_document_adds_its_links_with_no_code_change(scratch_corpus, sqlite_engine):
    build_store(scratch_corpus, engine=sqlite_engine)
    store = ConditionStore(sqlite_engine)
    assert store.conditions_for_pain(store.resolve_pain_type("knee")) == []
    (scratch_corpus / "010_reactive_arthritis.txt").write_text(REACTIVE_ARTHRITIS_KNEE, encoding="utf-8")
    report = build_store(scratch_corpus, engine=sqlite_engine)
    assert report.loaded == ["010_reactive_arthritis.txt"]
    knee = store.conditions_for_pain(store.resolve_pain_type("knee"))
    assert [r.condition.name for r in knee] == ["reactive arthritis"]
    assert knee[0].evidence[0].document == "What causes knee pain after an infection"
    treatment = store.facts("treatment", condition=store.resolve_condition("reactive arthritis"))
    assert any("anti-inflammatory medicines" in f.evidence.text for f in treatment)


def test_a_changed_document_replaces_only_its_own_rows(scratch_corpus, sqlite_engine):
    build_store(scratch_corpus, engine=sqlite_engine)
    with Session(sqlite_engine) as session:
        kept_before = [(p.id, p.text) for p in session.scalars(select(Passage).join(Document).where(Document.path != "004_e1ae89b599413ceb.txt"))]
    hip = scratch_corpus / "004_e1ae89b599413ceb.txt"
    hip.write_text(hip.read_text(encoding="utf-8").replace("juvenile idiopathic arthritis", "childhood conditions").replace("Juvenile idiopathic arthritis", "Childhood conditions"), encoding="utf-8")
    report = build_store(scratch_corpus, engine=sqlite_engine)
    assert report.loaded == ["004_e1ae89b599413ceb.txt"] and len(report.unchanged) == 2
    store = ConditionStore(sqlite_engine)
    names = {r.condition.name for r in store.conditions_for_pain(store.resolve_pain_type("hip"))}
    assert "juvenile idiopathic arthritis" not in names and "rheumatoid arthritis" in names
    with Session(sqlite_engine) as session:
        kept_after = [(p.id, p.text) for p in session.scalars(select(Passage).join(Document).where(Document.path != "004_e1ae89b599413ceb.txt"))]
    assert kept_after == kept_before


def test_a_removed_document_disappears(scratch_corpus, sqlite_engine):
    build_store(scratch_corpus, engine=sqlite_engine)
    (scratch_corpus / "003_134a9314bee0666d.txt").unlink()
    report = build_store(scratch_corpus, engine=sqlite_engine)
    assert report.removed == ["003_134a9314bee0666d.txt"]
    store = ConditionStore(sqlite_engine)
    assert store.conditions_for_pain(store.resolve_pain_type("muscle")) == []  # only that document named muscle pain
    assert len(store.documents()) == 2


def _write_bytes(folder: Path, name: str, data: bytes) -> None:
    (folder / name).write_bytes(data)


@pytest.mark.parametrize(
    "name, content, reason",
    [
        ("empty.txt", b"   \n\n\t\n", "empty document"),
        ("latin1.txt", "Douleur de la hanche caus\u00e9e par la polyarthrite".encode("latin-1"), "not UTF-8"),
        ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "binary"),
        ("huge.txt", b"Hip pain. " * 300_000, "too large"),
        ("only-persian.txt", "\u062a\u0627\u0631\u06cc\u062e \u0628\u0631\u0648\u0632\u0631\u0633\u0627\u0646\u06cc:\n16 December 2025\n".encode(), "no readable English text"),
    ],
)
def test_a_bad_document_is_reported_by_name_and_the_others_still_load(scratch_corpus, sqlite_engine, name, content, reason):
    _write_bytes(scratch_corpus, name, content)
    report = build_store(scratch_corpus, engine=sqlite_engine)
    assert [skipped_name for skipped_name, _ in report.skipped] == [name]
    assert reason in report.skipped[0][1]
    assert len(report.loaded) == 3
    store = ConditionStore(sqlite_engine)
    assert {r.condition.name for r in store.conditions_for_pain(store.resolve_pain_type("hip"))}


def test_a_build_that_fails_midway_leaves_the_previous_store_untouched(scratch_corpus, sqlite_engine, monkeypatch):
    build_store(scratch_corpus, engine=sqlite_engine)
    before = dump(sqlite_engine)
    (scratch_corpus / "000_8fa33feadbc4718b.txt").write_text("Changed\nBone pain is changed.\n", encoding="utf-8")
    (scratch_corpus / "010_reactive_arthritis.txt").write_text(REACTIVE_ARTHRITIS_KNEE, encoding="utf-8")
    real_write = ingest._write_document

    def write_then_fail(session, parsed, *args):
        real_write(session, parsed, *args)
        if parsed.path == "010_reactive_arthritis.txt":
            raise RuntimeError("disk full")

    monkeypatch.setattr(ingest, "_write_document", write_then_fail)
    with pytest.raises(RuntimeError, match="disk full"):
        build_store(scratch_corpus, engine=sqlite_engine)
    sqlite_engine.dispose()
    assert dump(sqlite_engine) == before


def test_a_vocabulary_change_rebuilds_everything(scratch_corpus, sqlite_engine, tmp_path):
    from bot import settings

    build_store(scratch_corpus, engine=sqlite_engine)
    vocabulary = tmp_path / "vocabulary.yml"
    text = settings.vocabulary_path().read_text(encoding="utf-8")
    vocabulary.write_text(text.replace("    aliases: [multiple sclerosys, multiple scelrosis]", "    aliases: [multiple sclerosys, multiple scelrosis, disseminated sclerosis]"), encoding="utf-8")
    report = build_store(scratch_corpus, engine=sqlite_engine, vocabulary_path=vocabulary)
    assert len(report.loaded) == 3
    assert ConditionStore(sqlite_engine).resolve_condition("disseminated sclerosis").name == "multiple sclerosis"


def test_a_missing_documents_folder_is_an_error(tmp_path, sqlite_engine):
    with pytest.raises(FileNotFoundError):
        build_store(tmp_path / "nope", engine=sqlite_engine)


def test_a_store_from_an_older_schema_is_rebuilt(scratch_corpus, sqlite_engine):
    from sqlalchemy import text

    with sqlite_engine.begin() as connection:  # a conditions table from before conditions had a key
        connection.execute(text("CREATE TABLE conditions (id INTEGER PRIMARY KEY, name VARCHAR(200), condition_group VARCHAR(40))"))
    report = build_store(scratch_corpus, engine=sqlite_engine)
    assert len(report.loaded) == 3
    assert ConditionStore(sqlite_engine).resolve_condition("lupus").key == "systemic-lupus-erythematosus"


# -- a document about one condition (issue 20's learning classes) ------------------------------------
# The title names the condition and the pain; most sentences say "It ..." or nothing of the condition.
KNEE_LEAFLET = """Knee pain and reactive arthritis
Reactive arthritis is a joint condition that can follow an infection.
It most often affects the knees and the ankles.
It usually causes swelling and stiffness.
It can be triggered by a gut infection and, rarely, by some medicines.
Some medicines, such as a few antibiotics, can bring it on as well.
Treatment is with anti-inflammatory medicines and rest.
It is more common in people with psoriasis.
People with ulcerative colitis are also more likely to get it.
"""


@pytest.fixture(scope="module")
def extractor():
    from bot.extraction import Extractor, load_fact_rules
    from bot.vocabulary import load_vocabulary

    return Extractor(load_vocabulary(), load_fact_rules(), lexicon=None)


def passages_of(extractor, text: str) -> dict:
    from bot.documents import parse_text

    return {p.text: p for p in extractor.extract(parse_text(text, "t.txt", "0"))}


def test_a_sentence_that_names_no_condition_is_about_the_titles_condition(extractor):
    passages = passages_of(extractor, KNEE_LEAFLET)
    for text in ("It usually causes swelling and stiffness.", "Treatment is with anti-inflammatory medicines and rest."):
        assert passages[text].conditions == {"reactive arthritis": False}, text
    assert "symptoms" in passages["It usually causes swelling and stiffness."].kinds
    assert "treatment" in passages["Treatment is with anti-inflammatory medicines and rest."].kinds


def test_in_an_it_sentence_a_condition_named_in_passing_is_not_the_subject(extractor):
    passages = passages_of(extractor, KNEE_LEAFLET)
    for text in ("It is more common in people with psoriasis.", "People with ulcerative colitis are also more likely to get it."):
        assert passages[text].conditions == {"reactive arthritis": False}, text
    alone = passages_of(extractor, "Knee pain and reactive arthritis\nHip pain is common in people with lupus.\n")
    assert alone["Hip pain is common in people with lupus."].conditions == {"systemic lupus erythematosus": True}


def test_what_brings_a_condition_on_is_not_its_treatment(extractor):
    passages = passages_of(extractor, KNEE_LEAFLET)
    for text in ("It can be triggered by a gut infection and, rarely, by some medicines.",
                 "Some medicines, such as a few antibiotics, can bring it on as well."):
        assert "treatment" not in passages[text].kinds, text
    later = passages_of(extractor, "Knee pain and reactive arthritis\nIt can be triggered by an infection; treatment is with rest.\n")
    assert "treatment" in later["It can be triggered by an infection; treatment is with rest."].kinds  # a new clause


def test_the_title_links_its_condition_to_its_pain_through_the_sentences_naming_the_site(extractor):
    passages = passages_of(extractor, KNEE_LEAFLET)
    carrier = passages["It most often affects the knees and the ankles."]
    assert carrier.pain_types == ["knee"] and carrier.title_pains == {"knee"}  # not "foot": the title names knee pain
    assert all("knee" not in p.pain_types for text, p in passages.items() if p is not carrier)


def test_a_title_with_no_site_in_the_text_links_through_the_first_sentence_about_the_condition(extractor):
    text = "Knee pain and reactive arthritis\nReactive arthritis is a joint condition that can follow an infection.\nIt causes swelling.\n"
    passages = passages_of(extractor, text)
    assert passages["Reactive arthritis is a joint condition that can follow an infection."].title_pains == {"knee"}
    assert passages["It causes swelling."].title_pains == set()


def test_a_sentence_that_states_the_link_makes_the_title_add_nothing(extractor):
    text = "Knee pain and reactive arthritis\nReactive arthritis often causes knee pain.\nIt most often affects the knees.\n"
    assert all(not p.title_pains for p in passages_of(extractor, text).values())


def test_a_title_that_names_no_condition_takes_the_first_sentences(extractor):
    text = "Pain on the outside of the knee\nReactive arthritis is a joint condition that can follow an infection.\nTreatment is with rest.\n"
    assert passages_of(extractor, text)["Treatment is with rest."].conditions == {"reactive arthritis": False}


def test_a_title_that_names_no_condition_gives_no_subject_to_a_document_about_several(extractor):
    text = ("Pain on the outside of the knee\nReactive arthritis is a joint condition that can follow an infection.\n"
            "Psoriatic arthritis often affects the knee as well.\nTreatment is with rest.\n")
    assert passages_of(extractor, text)["Treatment is with rest."].conditions == {}


def test_a_title_about_autoimmune_disease_in_general_gives_no_subject(extractor):
    text = ("What autoimmune disease causes knee pain\nReactive arthritis is a joint condition that can follow an infection.\n"
            "Treatment is with rest.\n")
    assert passages_of(extractor, text)["Treatment is with rest."].conditions == {}


def test_an_it_sentence_opening_a_paragraph_is_about_the_previous_paragraphs_subject(extractor):
    text = ("What autoimmune disease causes knee pain\nReactive arthritis is a joint condition that can follow an infection.\n"
            "It usually causes swelling.\nOther conditions are rarer.\n")
    passages = passages_of(extractor, text)
    assert passages["It usually causes swelling."].conditions == {"reactive arthritis": False}
    assert passages["Other conditions are rarer."].conditions == {}


def test_a_sentence_that_defines_a_condition_by_name_is_what_it_is(extractor):
    passage = passages_of(extractor, "Knee pain\nReactive arthritis is an inflammation that can follow an infection.\n")
    only = passage["Reactive arthritis is an inflammation that can follow an infection."]
    assert "what_is" in only.kinds and only.defined_conditions == {"reactive arthritis": True}
    named = passages_of(extractor, "Knee pain\nReactive arthritis, a joint condition, can follow an infection.\n")
    assert "what_is" not in named["Reactive arthritis, a joint condition, can follow an infection."].kinds  # in passing


def test_the_store_keeps_the_titles_link_apart_from_what_sentences_say(scratch_corpus, sqlite_engine):
    (scratch_corpus / "040_knee.txt").write_text(KNEE_LEAFLET, encoding="utf-8")
    build_store(scratch_corpus, engine=sqlite_engine, use_lexicon=False)
    store = ConditionStore(sqlite_engine)
    reactive, knee = store.resolve_condition("reactive arthritis"), store.resolve_pain_type("knee")
    found = store.conditions_for_pain(knee)
    assert [r.condition.name for r in found] == ["reactive arthritis"]
    assert found[0].evidence[0].text == "It most often affects the knees and the ankles." and not found[0].evidence[0].explicit
    assert store.facts(condition=reactive, pain=knee) == []  # the title's pain is a link, not what the sentence says
    treatment = [f.evidence.text for f in store.facts("treatment", condition=reactive)]
    assert treatment == ["Treatment is with anti-inflammatory medicines and rest."]
    assert store.facts("symptoms", condition=reactive)[0].evidence.text == "It usually causes swelling and stiffness."


def test_back_after_a_verb_of_returning_is_no_body_site(extractor):
    passages = passages_of(extractor, "Knee pain and reactive arthritis\nSee a doctor if the pain keeps coming back.\n"
                                      "Reactive arthritis can cause back pain.\n")
    assert "spine" not in passages["See a doctor if the pain keeps coming back."].pain_types
    assert "spine" in passages["Reactive arthritis can cause back pain."].pain_types
