"""End to end over REST: both real servers, the trained model and the built store.

Asserts what a patient sees: the facts, the source document and the disclaimer, follow-ups that
remember, honest gaps, emergencies first, and conversations that can be deleted.
"""
from __future__ import annotations

import uuid

import pytest

from bot import texts
from bot.clinic import load_clinic_config
from tests.support.servers import REST_PREFIX, RasaServers

pytestmark = pytest.mark.e2e

CLINIC = load_clinic_config()
HIP_DOC = "What autoimmune disease causes hip pain"
BONE_DOC = "What autoimmune disease causes bone pain"


@pytest.fixture(scope="module")
def servers(chat_servers) -> RasaServers:
    """What `make run` starts (tests/conftest.py: one for the whole test session)."""
    return chat_servers


def text_of(replies) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def sender() -> str:
    return f"e2e-{uuid.uuid4().hex[:10]}"


def test_first_reply_states_the_scope_and_answers_which_conditions_cause_hip_pain(servers):
    replies = servers.say(sender(), "what causes hip pain")
    assert replies[0]["text"] == CLINIC.scope_notice
    answer = text_of(replies[1:])  # the answer's paragraphs come as messages of their own
    for name in ("Rheumatoid arthritis", "Systemic lupus erythematosus", "Ankylosing spondylitis", "Psoriatic arthritis", "Juvenile idiopathic arthritis"):
        assert name in answer
    assert f"Source: {HIP_DOC}" in answer and answer.endswith(CLINIC.disclaimer)


def test_follow_up_what_about_bone_pain(servers):
    user = sender()
    servers.say(user, "what causes hip pain")
    answer = text_of(servers.say(user, "what about bone pain?"))
    assert "can cause bone pain" in answer and "Juvenile idiopathic arthritis" not in answer
    assert BONE_DOC in answer and answer.endswith(CLINIC.disclaimer)


def test_follow_up_how_is_it_treated_remembers_lupus(servers):
    user = sender()
    first = text_of(servers.say(user, "does lupus cause bone pain?"))
    assert texts.CAUSES_PAIN_YES.split(":")[0] in first and "bone discomfort" in first
    answer = text_of(servers.say(user, "how is it treated?"))
    assert "systemic lupus erythematosus" in answer and "corticosteroids" in answer
    assert answer.endswith(CLINIC.disclaimer)


def test_follow_up_what_kind_of_pain_does_it_cause(servers):
    user = sender()
    assert "chronic inflammatory disease" in text_of(servers.say(user, "what is ankylosing spondylitis"))
    answer = text_of(servers.say(user, "what kind of pain does it cause?"))
    assert "ankylosing spondylitis" in answer.lower() and "back, neck and spinal pain" in answer.lower()


def test_out_of_scope_is_declined_with_what_the_bot_covers(servers):
    replies = servers.say(sender(), "what's the weather like tomorrow?")
    answer = text_of(replies)
    assert "outside what I can help with" in answer and "hip pain" in answer
    assert CLINIC.disclaimer not in answer


def test_an_uncovered_condition_gets_an_honest_answer(servers):
    answer = text_of(servers.say(sender(), "does gout cause ear pain?"))
    assert "I don't have information on gout" in answer
    assert "Source" not in answer


def test_a_red_flag_mid_conversation_gets_emergency_advice_only(servers):
    user = sender()
    servers.say(user, "what causes nerve pain")
    answer = servers.say(user, "I have crushing chest pain and I can't breathe")[-1]["text"]
    assert CLINIC.emergency_number in answer
    assert "Source" not in answer and "lupus" not in answer.lower()


def test_a_dose_request_is_declined(servers):
    answer = text_of(servers.say(sender(), "how many mg of prednisone should I take?"))
    assert "can't advise on doses" in answer and " mg" not in answer


def test_malformed_requests_get_a_4xx_and_the_server_stays_up(servers):
    import requests

    url = f"{servers.url}/webhooks/rest/webhook"
    auth = {"Authorization": f"Bearer {servers.rest_token}"}
    for body in (b"{not json", b"[]", b'"text"', b'{"sender": "x"}', b'{"message": "hi"}', b'{"sender": 5, "message": "hi"}', b'{"sender": "x", "message": ["hi"]}'):
        response = requests.post(url, data=body, headers={"Content-Type": "application/json", **auth}, timeout=30)
        assert response.status_code == 400, (body, response.status_code)
    too_long = requests.post(url, json={"sender": "x", "message": "a" * 30_000}, headers=auth, timeout=30)
    assert too_long.status_code == 413 and "shorten" in too_long.text
    assert "Source" in text_of(servers.say(sender(), "what causes muscle pain"))


@pytest.mark.parametrize(
    "message",
    ["", "   ", "😀😀😀", "درد لگن", "<script>alert(1)</script>", "\x00\x07\x1b[31m", "hip " * 5000],
)
def test_odd_input_gets_a_clear_reply(servers, message):
    replies = servers.say(sender(), message)
    assert replies and all(isinstance(r.get("text", ""), str) for r in replies)


def test_delete_my_conversation_removes_it_from_the_tracker_store(servers):
    user = sender()
    servers.say(user, "what causes hip pain")
    assert servers.events(REST_PREFIX + user)
    replies = servers.say(user, "please delete my conversation")
    assert "deleted" in text_of(replies) and replies[-1].get("forgotten") is True
    assert servers.events(REST_PREFIX + user) == []


def test_patient_text_is_not_written_to_the_logs(servers):
    secret = f"zebra{uuid.uuid4().hex[:8]} hip pain"
    servers.say(sender(), f"my {secret} is bad, what causes it")
    assert secret not in servers.logs()


@pytest.mark.parametrize("opening", ["/session_start", "/get_started"])
def test_a_client_opening_payload_gets_the_welcome_once(servers, opening):
    replies = servers.say(sender(), opening)
    assert [r.get("text") for r in replies] == [CLINIC.scope_notice]
