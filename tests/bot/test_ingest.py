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
