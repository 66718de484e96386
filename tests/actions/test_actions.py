"""Every action, run as the action server runs it: a Tracker in, messages and events out.

The composer is built over the real documents in an in-memory store (no server, no model).
"""
from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Optional

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import actions
from bot.answers import AnswerComposer
from bot.clinic import load_clinic_config


@pytest.fixture(scope="module")
def composer(corpus_store) -> AnswerComposer:
    return AnswerComposer(corpus_store, load_clinic_config())


@pytest.fixture(scope="module")
def disclaimer(composer) -> str:
    return composer.clinic.disclaimer


def tracker(
    text: str,
    intent: str,
    entities: Optional[Dict[str, str]] = None,
    slots: Optional[Dict[str, Any]] = None,
    ranking: Optional[List[Dict[str, Any]]] = None,
    safety: Optional[Dict[str, str]] = None,
) -> Tracker:
    message = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.9},
        "intent_ranking": ranking or [{"name": intent, "confidence": 0.9}],
        "entities": [{"entity": k, "value": v} for k, v in (entities or {}).items()],
    }
    if safety:
        message["safety"] = safety
    return Tracker("test-user", slots or {}, message, [], False, None, {}, "action_listen")


def run(action_class, composer, t: Tracker):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action_class(composer).run(dispatcher, t, {}))
    return dispatcher.messages, events


def slots_of(events) -> Dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def test_which_conditions_cause_hip_pain(composer, disclaimer):
    messages, events = run(actions.ActionAnswer, composer, tracker("what causes hip pain", "ask_conditions_for_pain", {"pain_type": "hip"}))
    text = messages[0]["text"]
    for name in ("Rheumatoid arthritis", "Systemic lupus erythematosus", "Ankylosing spondylitis", "Psoriatic arthritis", "Juvenile idiopathic arthritis"):
        assert name in text
    assert "Source: What autoimmune disease causes hip pain" in text
    assert text.endswith(disclaimer)
    assert slots_of(events) == {"condition": None, "pain_type": "hip", "last_topic": "conditions_for_pain", "not_covered": None}


def test_umbrella_condition_does_not_narrow_a_which_conditions_question(composer):
    messages, _ = run(actions.ActionAnswer, composer, tracker("which autoimmune diseases cause muscle pain", "ask_conditions_for_pain", {"condition": "autoimmune disease", "pain_type": "muscle"}))
    assert "Fibromyalgia" in messages[0]["text"] and "Myositis" in messages[0]["text"]


def test_follow_up_what_about_bone_pain_reuses_the_topic(composer):
    slots = {"pain_type": "hip", "last_topic": "conditions_for_pain"}
    messages, events = run(actions.ActionAnswer, composer, tracker("what about bone pain?", "inform", {"pain_type": "bone"}, slots))
    text = messages[0]["text"]
    assert "bone pain" in text and "Juvenile idiopathic arthritis" not in text
    assert "Source: What autoimmune disease causes bone pain" in text
    assert slots_of(events)["pain_type"] == "bone"


def test_follow_up_how_is_it_treated_uses_the_remembered_condition(composer, disclaimer):
    slots = {"condition": "systemic lupus erythematosus", "pain_type": "bone", "last_topic": "condition_causes_pain"}
    messages, events = run(actions.ActionAnswer, composer, tracker("how is it treated?", "ask_treatment", {}, slots))
    text = messages[0]["text"]
    assert "treating and managing systemic lupus erythematosus" in text
    assert "corticosteroids" in text and text.endswith(disclaimer)
    assert slots_of(events)["condition"] == "systemic lupus erythematosus"


def test_follow_up_what_kind_of_pain_does_it_cause(composer):
    slots = {"condition": "ankylosing spondylitis", "last_topic": "what_is"}
    messages, _ = run(actions.ActionAnswer, composer, tracker("what kind of pain does it cause?", "ask_pain_types", {}, slots))
    text = messages[0]["text"]
    assert "Our documents link ankylosing spondylitis to four kinds of pain" in text
    assert "Back, neck and spinal pain" in text and "Hip pain" in text


def test_a_new_question_naming_a_pain_does_not_inherit_an_old_condition(composer):
    slots = {"condition": "systemic lupus erythematosus", "last_topic": "treatment"}
    messages, _ = run(actions.ActionAnswer, composer, tracker("how is hip pain treated", "ask_treatment", {"pain_type": "hip"}, slots))
    assert "hip pain" in messages[0]["text"] and "lupus" not in messages[0]["text"].split("\n")[0]


def test_does_lupus_cause_bone_pain_says_yes_with_the_passage(composer):
    messages, _ = run(actions.ActionAnswer, composer, tracker("does lupus cause bone pain?", "ask_condition_causes_pain", {"condition": "lupus", "pain_type": "bone"}))
    text = messages[0]["text"]
    assert text.startswith("Yes: our documents link systemic lupus erythematosus to bone pain.")
    assert "can also contribute to bone discomfort" in text


def test_a_link_the_documents_do_not_make_is_not_invented(composer):
    messages, _ = run(actions.ActionAnswer, composer, tracker("does fibromyalgia cause hip pain", "ask_condition_causes_pain", {"condition": "fibromyalgia", "pain_type": "hip"}))
    text = messages[0]["text"]
    assert "don't say that fibromyalgia causes hip pain" in text and "muscle pain" in text
    assert not text.startswith("Yes")


@pytest.mark.parametrize("entities", [{"condition": "gout"}, {"pain_type": "ear"}, {"condition": "diabetes"}])
def test_uncovered_subjects_get_an_honest_no_information(composer, entities):
    messages, _ = run(actions.ActionAnswer, composer, tracker("tell me about it", "ask_condition_info", entities))
    text = messages[0]["text"]
    assert text.startswith("I don't have information on")
    assert "hip pain" in text  # what the bot can help with
    assert "Source" not in text


def test_a_missing_pain_gets_a_clarifying_question_with_buttons(composer):
    messages, _ = run(actions.ActionAnswer, composer, tracker("what autoimmune disease causes pain", "ask_conditions_for_pain"))
    buttons = messages[0]["buttons"]
    assert messages[0]["text"] == "Which kind of pain would you like to know about?"
    assert {"title": "Hip pain", "payload": '/ask_conditions_for_pain{"pain_type": "hip"}'} in buttons


def test_a_missing_condition_gets_condition_buttons(composer):
    messages, _ = run(actions.ActionAnswer, composer, tracker("does it cause pain?", "ask_condition_causes_pain"))
    titles = [b["title"] for b in messages[0]["buttons"]]
    assert "Rheumatoid arthritis" in titles and "Gout" not in titles


@pytest.mark.parametrize(
    "intent, needle",
    [
        ("ask_stress", "increase pain intensity and frequency of disease recurrence"),
        ("ask_diagnosis_difficulty", "MRI and initial tests are normal"),
        ("ask_diagnosis", "blood tests to identify markers of inflammation"),
        ("ask_when_to_see_doctor", "consulting a healthcare professional"),
        ("ask_mechanism", "immune system mistakenly attacks its own tissues"),
        ("ask_condition_info", "Autoimmune diseases are"),
    ],
)
def test_general_questions_quote_the_documents(composer, disclaimer, intent, needle):
    messages, _ = run(actions.ActionAnswer, composer, tracker("?", intent, {"condition": "autoimmune disease"}))
    assert needle in messages[0]["text"] and messages[0]["text"].endswith(disclaimer)


def test_what_is_with_nothing_named_asks_which_condition(composer):
    messages, _ = run(actions.ActionAnswer, composer, tracker("what is it?", "ask_condition_info"))
    assert messages[0]["text"] == "Which condition would you like to know about?"
    assert any("autoimmune disease" in b["payload"] for b in messages[0]["buttons"])  # in general is one choice


def test_out_of_scope_capabilities_and_contact(composer):
    out, _ = run(actions.ActionOutOfScope, composer, tracker("weather?", "out_of_scope"))
    assert "outside what I can help with" in out[0]["text"] and out[0]["buttons"]
    caps, _ = run(actions.ActionCapabilities, composer, tracker("what can you do", "ask_capabilities"))
    assert "hip pain" in caps[0]["text"]
    contact, _ = run(actions.ActionContact, composer, tracker("book an appointment", "request_human"))
    clinic = composer.clinic
    assert clinic.phone in contact[0]["text"] and clinic.booking_url in contact[0]["text"]


def test_emergency_action_gives_emergency_advice_only(composer):
    messages, _ = run(actions.ActionEmergency, composer, tracker("I have crushing chest pain and can't breathe", "emergency"))
    text = messages[0]["text"]
    assert composer.clinic.emergency_number in text and "Source" not in text and "lupus" not in text


def test_self_harm_gets_the_crisis_line(composer):
    messages, _ = run(actions.ActionEmergency, composer, tracker("i want to kill myself", "emergency", safety={"kind": "emergency", "category": "self_harm"}))
    assert composer.clinic.crisis_line in messages[0]["text"]


@pytest.mark.parametrize(
    "intent, needle",
    [("request_diagnosis", "can't tell whether you have"), ("request_dose", "can't advise on doses"), ("request_medication_change", "don't start, stop or change a medicine")],
)
def test_restricted_requests_are_declined_kindly(composer, disclaimer, intent, needle):
    messages, _ = run(actions.ActionRestrictedRequest, composer, tracker("...", intent, {"condition": "lupus"}))
    text = messages[0]["text"]
    assert needle in text
    assert "mg" not in text.replace("management", "")
    assert text.endswith(disclaimer)  # it quotes general information, so it carries the disclaimer


def test_two_stage_fallback_offers_the_likeliest_intent(composer):
    ranking = [{"name": "nlu_fallback", "confidence": 1.0}, {"name": "ask_treatment", "confidence": 0.4}]
    messages, _ = run(actions.ActionDefaultAskAffirmation, composer, tracker("uhh meds?", "nlu_fallback", ranking=ranking))
    assert messages[0]["text"].startswith("I'm not sure I understood")
    assert messages[0]["buttons"][0] == {"title": "Treating autoimmune conditions", "payload": '/ask_treatment{"condition": "autoimmune disease"}'}
    assert messages[0]["buttons"][1]["payload"] == "/out_of_scope"
    fallback, _ = run(actions.ActionDefaultFallback, composer, tracker("???", "nlu_fallback"))
    assert "didn't understand" in fallback[0]["text"] and "hip pain" in fallback[0]["text"]


def test_session_start_states_the_scope(composer):
    messages, events = run(actions.ActionSessionStart, composer, tracker("", "greet"))
    assert "not for emergencies" in messages[0]["text"]
    assert [e["event"] for e in events] == ["session_started", "action"]


def test_a_client_opening_with_session_start_is_welcomed_once(composer):
    opened = tracker("/session_start", "session_start")
    opened.events = [{"event": "action", "name": "action_session_start"}, {"event": "session_started"},
                     {"event": "action", "name": "action_listen"}, {"event": "bot", "text": composer.welcome().text},
                     {"event": "user", "text": "/session_start", "parse_data": {"intent": {"name": "session_start"}}}]
    messages, events = run(actions.ActionSessionStart, composer, opened)
    assert messages == [] and [e["event"] for e in events] == ["session_started", "action"]
    later = tracker("/session_start", "session_start")  # a restart after a conversation: welcomed again
    later.events = opened.events[:4] + [{"event": "user", "text": "what causes hip pain"}, {"event": "bot", "text": "..."},
                                        {"event": "user", "text": "/session_start"}]
    messages, _ = run(actions.ActionSessionStart, composer, later)
    assert "not for emergencies" in messages[0]["text"]


def test_the_action_server_registers_every_domain_action():
    import yaml
    from rasa_sdk.executor import ActionExecutor

    executor = ActionExecutor()
    executor.register_package("actions")
    domain = yaml.safe_load(open("domain.yml", encoding="utf-8"))
    assert set(domain["actions"]) <= set(executor.actions)


def test_could_it_be_autoimmune_gives_general_information_about_that_pain_not_a_verdict(composer, disclaimer):
    messages, _ = run(actions.ActionRestrictedRequest, composer, tracker("my hips hurt, could it be auto immune???", "request_diagnosis", {"condition": "autoimmune disease", "pain_type": "hips"}))
    text = messages[0]["text"]
    assert text.startswith("I can't tell whether you have a condition")
    assert "Juvenile idiopathic arthritis" in text and text.endswith(disclaimer)


def test_a_stray_entity_does_not_hide_one_the_store_knows(composer):
    t = tracker("what could explain burning pain in my feet", "ask_conditions_for_pain")
    t.latest_message["entities"] = [{"entity": "pain_type", "value": "burning"}, {"entity": "pain_type", "value": "nerve"}]
    messages, _ = run(actions.ActionAnswer, composer, t)
    assert "can cause nerve pain" in messages[0]["text"]


def test_urgent_today_advice_comes_first_and_the_question_is_still_answered(composer, disclaimer):
    urgent = {"kind": "urgent", "category": "fever_on_immunosuppressants"}
    messages, _ = run(actions.ActionAnswer, composer,
                      tracker("on methotrexate with a new fever, how is RA treated?", "ask_treatment", {"condition": "RA"}, safety=urgent))
    text = messages[0]["text"]
    assert text.startswith("What you describe should be seen by a doctor today")
    assert composer.clinic.phone in text.split("\n\n")[0]
    assert "Here is what our documents say about treating and managing rheumatoid arthritis" in text
    assert text.endswith(disclaimer)


def test_several_questions_in_one_message_get_one_reply_with_one_disclaimer(composer, disclaimer):
    messages, events = run(actions.ActionAnswer, composer, tracker(
        "Could psoriatic arthritis cause hip pain? And how is it treated?", "ask_condition_causes_pain",
        {"condition": "psoriatic arthritis", "pain_type": "hip"}))
    text = messages[0]["text"]
    assert text.startswith("Yes: our documents link psoriatic arthritis to hip pain.")
    assert "Here is what our documents say about treating and managing psoriatic arthritis" in text
    assert text.count(disclaimer) == 1 and text.endswith(disclaimer)
    assert text.count("Sources:") == 1


def test_a_restricted_part_is_refused_and_the_rest_answered(composer):
    messages, _ = run(actions.ActionRestrictedRequest, composer, tracker(
        "how much methotrexate should i take? and what is rheumatoid arthritis?", "request_dose", {"condition": "rheumatoid arthritis"}))
    text = messages[0]["text"]
    assert text.startswith("I can't advise on doses")
    assert "Here is how our documents describe rheumatoid arthritis" in text


def test_every_medical_answer_asks_for_feedback_and_a_tap_is_thanked(composer):
    messages, events = run(actions.ActionAnswer, composer, tracker("what causes hip pain", "ask_conditions_for_pain", {"pain_type": "hip"}))
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert payloads == ['/feedback{"helpful": "yes"}', '/feedback{"helpful": "no"}']
    thanks, _ = run(actions.ActionFeedback, composer, tracker('/feedback{"helpful": "no"}', "feedback", {"helpful": "no"}))
    assert "what you were looking for" in thanks[0]["text"]
    thanks, _ = run(actions.ActionFeedback, composer, tracker('/feedback{"helpful": "yes"}', "feedback", {"helpful": "yes"}))
    assert thanks[0]["text"] == "Thank you for telling us."


def test_an_unanswered_subject_is_remembered_for_the_staff_report(composer):
    _, events = run(actions.ActionAnswer, composer, tracker("how is the flu treated", "ask_treatment"))
    assert slots_of(events)["not_covered"] == "the flu"


def test_forgetting_is_certain_only_on_a_clear_request(composer):
    sure = tracker("delete my conversation", "forget")
    sure.latest_message["intent"]["confidence"] = 0.98
    messages, events = run(actions.ActionForgetConversation, composer, sure)
    assert "deleted this conversation" in messages[0]["text"]
    assert slots_of(events) == {"delete_conversation": True}
    unsure = tracker("Need all the news on lupus sent to me by post so i can read whether what i feel is lupus thank you", "forget",
                     {"condition": "lupus"})
    messages, events = run(actions.ActionForgetConversation, composer, unsure)
    assert "systemic lupus erythematosus" in messages[0]["text"]  # answered, and nothing deleted
    assert "/forget" in [b["payload"] for b in messages[0]["buttons"]]
    assert "delete_conversation" not in slots_of(events)
    vague = tracker("well you know all of that stuff from before, all of it, could you make it go away somehow please", "forget")
    messages, events = run(actions.ActionForgetConversation, composer, vague)
    assert messages[0]["text"].startswith("Do you want me to delete this conversation?")
    assert [b["payload"] for b in messages[0]["buttons"]] == ["/forget", "/ask_capabilities"]
    assert events == []
    messages, events = run(actions.ActionForgetConversation, composer, tracker("/forget", "forget"))
    assert slots_of(events) == {"delete_conversation": True}


def test_an_unsure_classifier_still_answers_when_the_words_name_subject_and_topic(composer, disclaimer):
    ranking = [{"name": "nlu_fallback", "confidence": 1.0}, {"name": "ask_symptoms", "confidence": 0.3}, {"name": "ask_treatment", "confidence": 0.2}]
    messages, _ = run(actions.ActionDefaultAskAffirmation, composer, tracker(
        "my hips hurt all the time and nothing helps, is there any treatment for hip pain", "nlu_fallback", {"pain_type": "hip"}, ranking=ranking))
    text = messages[0]["text"]
    assert text.startswith("Here is what our documents say about treating and managing hip pain") and text.endswith(disclaimer)
    assert messages[0]["buttons"][0]["title"] == "Or: The symptoms of hip pain?"


def test_an_uncovered_subject_is_declined_by_name_whatever_the_classifier_said(composer):
    for action, intent in ((actions.ActionOutOfScope, "out_of_scope"), (actions.ActionDefaultFallback, "nlu_fallback"),
                           (actions.ActionDefaultAskAffirmation, "nlu_fallback")):
        messages, events = run(action, composer, tracker("how do you catch hepatitis", intent))
        assert messages[0]["text"].startswith("I don't have information on hepatitis"), action


def test_a_lower_case_english_word_is_not_an_abbreviation(composer):
    message = tracker("it feels as if something stings behind my knee, what doctor should I see", "ask_when_to_see_doctor")
    message.latest_message["entities"] = [{"entity": "condition", "value": "ankylosing spondylitis", "start": 9, "end": 11}]
    messages, _ = run(actions.ActionAnswer, composer, message)
    assert "ankylosing spondylitis" not in messages[0]["text"].split("\n\n")[0]  # (the list of what it covers may name it)


def test_a_restricted_intent_the_screen_does_not_confirm_is_answered_instead(composer):
    ranking = [{"name": "request_dose", "confidence": 0.55}, {"name": "ask_treatment", "confidence": 0.3}]
    message = tracker("my feet have been asleep for weeks and now it goes up to my knees, what treatment helps nerve pain",
                      "request_dose", {"pain_type": "nerve"}, ranking=ranking)
    message.latest_message["intent"]["confidence"] = 0.55
    messages, _ = run(actions.ActionRestrictedRequest, composer, message)
    assert not messages[0]["text"].startswith("I can't advise on doses")


def test_a_question_misread_as_forget_me_is_answered_and_nothing_is_deleted(composer):
    message = tracker("do you have information about earwax removal", "forget")
    message.latest_message["intent"]["confidence"] = 0.99  # short and sure, but it names a subject
    messages, events = run(actions.ActionForgetConversation, composer, message)
    assert messages[0]["text"].startswith("I don't have information on earwax removal")
    assert "delete_conversation" not in slots_of(events)
    assert "/forget" in [b["payload"] for b in messages[0]["buttons"]]  # a real request is one tap away


def test_a_medicine_request_only_the_classifier_saw_gets_the_decline_for_an_uncovered_medicine(composer):
    message = tracker("what are the side effects of amoxicillin", "request_medication_change")
    message.latest_message["intent"]["confidence"] = 0.97
    messages, _ = run(actions.ActionRestrictedRequest, composer, message)
    text = messages[0]["text"]
    assert text.startswith("I don't have information on amoxicillin") and "pharmacist" in text
    assert "“" not in text  # no autoimmune quotes in its place


def test_a_confirmed_restricted_request_about_an_uncovered_medicine_quotes_nothing_in_its_place(composer):
    message = tracker("should I stop taking my amoxicillin", "request_medication_change",
                      safety={"kind": "medication_change", "category": "stop"})
    messages, _ = run(actions.ActionRestrictedRequest, composer, message)
    text = messages[0]["text"]
    assert "don't start, stop or change a medicine" in text.split("\n\n")[0] and "I don't have information on amoxicillin" in text
    assert "“" not in text


def test_in_a_message_in_capitals_as_is_a_word_not_ankylosing_spondylitis(composer):
    text = "I HAVE HAD PAIN IN MY FEET ALL WEEK AS WELL AS IN MY HANDS, WHAT CAN I DO"
    message = tracker(text, "ask_treatment")
    start = text.index(" AS ") + 1
    message.latest_message["entities"] = [{"entity": "condition", "value": "ankylosing spondylitis", "start": start, "end": start + 2}]
    messages, _ = run(actions.ActionAnswer, composer, message)
    first = messages[0]["text"].split("\n\n")[0].lower()
    assert "ankylosing" not in first and "leukemia" not in first, first


def test_urgent_advice_comes_first_whatever_path_the_reply_takes(composer):
    urgent = {"kind": "urgent", "category": "spreading_numbness_weakness"}
    text = "the numbness in my feet is spreading up to my knees since yesterday, they gave me gabapentin, what can you find out"
    for action, intent in ((actions.ActionDefaultFallback, "nlu_fallback"), (actions.ActionOutOfScope, "out_of_scope"),
                           (actions.ActionDefaultAskAffirmation, "nlu_fallback")):
        messages, _ = run(action, composer, tracker(text, intent, safety=urgent))
        assert messages[0]["text"].startswith("What you describe should be seen by a doctor today"), (action, messages[0]["text"][:80])


def test_a_medicine_request_about_no_condition_gets_the_refusal_without_general_quotes(composer):
    message = tracker("please prescribe me something for the pain in my joints", "request_medication_change",
                      safety={"kind": "medication_change", "category": "start_choose"})
    messages, _ = run(actions.ActionRestrictedRequest, composer, message)
    text = messages[0]["text"]
    assert "don't start, stop or change a medicine" in text.split("\n\n")[0] and "“" not in text


def test_a_reading_below_the_unsure_confidence_is_passed_on_as_unsure(composer):
    sure = tracker("how is lupus treated", "ask_treatment", {"condition": "lupus"})
    assert not actions.question_from(sure, composer).unsure
    unsure = tracker("how is lupus treated", "ask_treatment", {"condition": "lupus"})
    unsure.latest_message["intent"]["confidence"] = actions.UNSURE_CONFIDENCE - 0.05
    assert actions.question_from(unsure, composer).unsure


def test_an_emergency_only_the_classifier_saw_unsure_gives_the_number_first_then_the_answer(composer):
    text = "my tongue looks white like this often, what is the treatment for thrush?"
    ranking = [{"name": "emergency", "confidence": 0.73}, {"name": "ask_treatment", "confidence": 0.2}]
    t = tracker(text, "emergency", ranking=ranking)
    t.latest_message["intent"]["confidence"] = 0.73
    messages, _ = run(actions.ActionEmergency, composer, t)
    reply = messages[0]["text"]
    assert reply.startswith("If this is an emergency") and composer.clinic.emergency_number in reply.split("\n\n")[0], reply
    assert "I don't have information on thrush" in reply, reply
    sure = tracker(text, "emergency")  # the classifier sure of it (0.9): the emergency advice alone
    assert run(actions.ActionEmergency, composer, sure)[0][0]["text"] == composer.emergency(None).text
    ruled = tracker(text, "emergency", safety={"kind": "emergency", "category": "chest_pain_breathing"})
    ruled.latest_message["intent"]["confidence"] = 0.5  # a red-flag rule fired: never softened
    assert run(actions.ActionEmergency, composer, ruled)[0][0]["text"] == composer.emergency("chest_pain_breathing").text


def test_a_question_read_as_what_can_you_do_that_names_an_uncovered_subject_is_declined_by_name(composer):
    messages, _ = run(actions.ActionCapabilities, composer, tracker("okay can monistat help too?", "ask_capabilities"))
    assert "i don't have information on monistat" in messages[0]["text"].lower(), messages[0]["text"]
    plain, _ = run(actions.ActionCapabilities, composer, tracker("what can you do?", "ask_capabilities"))
    assert plain[0]["text"] == composer.capabilities().text
