"""The command line, run as a user runs it: build a store, then query it as JSON."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cli(tmp_path_factory):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path_factory.mktemp('cli') / 'store.db'}", "TF_CPP_MIN_LOG_LEVEL": "3"}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)

    assert run("build-store").returncode == 0
    return run


def test_query_conditions_prints_name_evidence_and_document(cli):
    result = cli("query", "conditions", "--pain", "hip")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert {r["name"] for r in rows} >= {"rheumatoid arthritis", "juvenile idiopathic arthritis"}
    assert all(r["evidence"] and r["document"] for r in rows)
    jia = next(r for r in rows if r["name"] == "juvenile idiopathic arthritis")
    assert jia["document"] == "What autoimmune disease causes hip pain" and "juvenile idiopathic arthritis" in jia["evidence"].lower()


def test_query_pains_and_facts(cli):
    pains = json.loads(cli("query", "pains", "--condition", "lupus").stdout)
    assert {"hip", "bone", "nerve"} <= {p["pain_type"] for p in pains}
    facts = json.loads(cli("query", "facts", "--kind", "treatment", "--pain", "bone").stdout)
    assert facts and all(f["kind"] == "treatment" and f["pain_type"] == "bone" for f in facts)


def test_query_a_term_prints_its_defining_passage_first(cli):
    rows = json.loads(cli("query", "term", "--name", "enthesis").stdout)
    assert rows[0]["name"] == "entheses"
    assert rows[0]["evidence"].startswith("The inflammatory process in AS involves the entheses—the sites where")
    assert rows[0]["defines"] == [rows[0]["evidence"]]
    assert json.loads(cli("query", "term", "--name", "no such thing").stdout) == []


def test_build_store_says_what_it_found_in_each_document(cli):
    result = cli("build-store")
    assert result.returncode == 0, result.stderr
    assert "3 unchanged" in result.stdout
    bone = result.stdout.split("- 000_8fa33feadbc4718b.txt")[1].split("\n- ")[0]
    assert "[unchanged] What autoimmune disease causes bone pain" in bone
    assert "conditions: ankylosing spondylitis" in bone and "bone pain" in bone and "entheses" in bone
    assert "learned" not in bone and "warning" not in result.stderr


def test_a_new_document_is_reported_and_reaches_the_nlu_data(tmp_path):
    from tests.bot.test_new_documents import EYE

    folder = tmp_path / "documents"
    folder.mkdir()
    (folder / "030_eye.txt").write_text(EYE, encoding="utf-8")
    (folder / "040_hours.txt").write_text("Opening hours\nThe clinic is open from nine to five on weekdays.\n", encoding="utf-8")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}", "TF_CPP_MIN_LOG_LEVEL": "3"}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)

    built = run("build-store", "--documents", str(folder))
    assert built.returncode == 0, built.stderr
    assert "learned conditions (not in data/vocabulary.yml): scleritis" in built.stdout
    assert "learned pain sites (not in data/vocabulary.yml): eye" in built.stdout
    assert "warning: 040_hours.txt: nothing answerable" in built.stderr and "030_eye" not in built.stderr
    exported = run("export-nlu", "--output", str(tmp_path / "nlu.yml"))
    assert exported.returncode == 0, exported.stderr
    text = (tmp_path / "nlu.yml").read_text(encoding="utf-8")
    assert "- scleritis\n" in text and "- eye pain\n" in text and "- rheumatoid arthritis\n" in text


def test_exporting_before_building_says_what_to_do(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}", "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, "-m", "bot", "export-nlu", "--output", str(tmp_path / "x.yml")], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and "make store" in result.stderr


def test_help_lists_the_fact_kinds(cli):
    result = cli("query", "facts", "--help")
    for kind in ("treatment", "diagnosis_difficulty", "stress", "when_to_see_doctor", "what_is"):
        assert kind in result.stdout


def test_an_unknown_kind_is_a_usage_error(cli):
    assert cli("query", "facts", "--kind", "horoscope").returncode == 2


def test_querying_before_building_says_what_to_do(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}", "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, "-m", "bot", "query", "conditions", "--pain", "hip"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and "make store" in result.stderr
