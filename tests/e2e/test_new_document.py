"""A document on a new topic works through the running bot after `make store` (issue 20).

A scratch copy of the documents gets two more, on a pain site and conditions that
data/vocabulary.yml does not list (the texts of tests/bot/test_new_documents.py); `make store`'s
build step writes a store of its own, and the real servers answer from it over REST. The model is the
project's, not retrained: the store's own spellings carry the new names, so the new document is used at
once; retraining (`make train`) then adds them to the NLU's lookup tables (`make bench` measures
new-document recall before and after training).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import uuid

import pytest

from bot import texts
from bot.clinic import load_clinic_config
from tests.bot.test_new_documents import NEW_DOCUMENTS
from tests.conftest import DOCUMENTS
from tests.support.servers import PROJECT_ROOT, RasaServers, server_env

pytestmark = pytest.mark.e2e

CLINIC = load_clinic_config()
EYE_DOC, FOREARM_DOC = "Scleritis and eye pain", "Forearm pain and eosinophilic fasciitis"


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    folder = tmp_path_factory.mktemp("new-document")
    documents = folder / "documents"
    shutil.copytree(DOCUMENTS, documents)
    for name, text in NEW_DOCUMENTS.items():
        (documents / name).write_text(text, encoding="utf-8")
    database = f"sqlite:///{folder / 'condition_store.db'}"
    env = {**server_env(), "DATABASE_URL": database}
    built = subprocess.run([str(PROJECT_ROOT / ".venv" / "bin" / "python"), "-m", "bot", "build-store", "--documents", str(documents)],
                           cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-2000:]
    assert "scleritis" in built.stdout and "forearm" in built.stdout  # it says what the new documents taught
    running = RasaServers(folder / "servers", env={"DATABASE_URL": database})
    running.start()
    yield running
    running.stop()


def answer(servers, message: str) -> str:
    replies = servers.say(f"new-doc-{uuid.uuid4().hex[:10]}", message)
    return "\n".join(r.get("text", "") for r in replies if r.get("text") != CLINIC.scope_notice)


def test_which_conditions_cause_pain_at_the_new_site_cites_the_new_document(servers):
    reply = answer(servers, "which conditions can cause eye pain?")
    assert "Scleritis" in reply and f"Source: {EYE_DOC}" in reply and reply.endswith(CLINIC.disclaimer)


def test_what_the_new_condition_is(servers):
    reply = answer(servers, "what is eosinophilic fasciitis?")
    assert "Eosinophilic fasciitis (EF) is a rare disorder" in reply and FOREARM_DOC in reply


def test_what_a_new_term_means(servers):
    reply = answer(servers, "what does peau d'orange mean?")
    assert "known as peau d'orange" in reply and FOREARM_DOC in reply and reply.endswith(CLINIC.disclaimer)


def test_the_new_site_appears_in_what_the_bot_offers(servers):
    reply = answer(servers, "do you have information about uveitis")  # still not covered: an honest decline
    assert reply.startswith(texts.NO_INFORMATION_ON.format(subject="uveitis")), reply
    assert "eye pain" in reply and "forearm pain" in reply  # "I can tell you about ...", from the store


def test_the_servers_use_the_scratch_store_not_the_projects(servers):
    assert os.path.exists(servers.folder.parent / "condition_store.db")
    assert "Scleritis" not in answer(servers, "what causes hip pain?")
