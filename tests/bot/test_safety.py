"""Tests for the deterministic safety screen (bot/safety.py + data/safety/*.yml).

Every message list here is behaviour a clinician asked for: change a list only together with the
data files, and say why in data/safety/README.md.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.safety import SafetyDataError, SafetyFinding, SafetyScreen, clean_for_screening, default_screen

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data" / "safety"


@pytest.fixture(scope="module")
def screen() -> SafetyScreen:
    return default_screen()


# A long, harmless, rambling preamble (~3,000 characters) to bury red flags in.
RAMBLE = (
    "Sorry this is long, I never know how much to write. I was diagnosed with rheumatoid arthritis about "
    "eight years ago and it has been up and down ever since, some months are fine and some months my hands "
    "are so stiff in the morning that I can barely open a jar. My rheumatologist changed my treatment last "
    "spring and the swelling in my fingers settled a lot, which was a relief, although I still get tired in "
    "the afternoons and my sleep is not great. I try to walk every day and I have started swimming on "
    "Tuesdays which my physio recommended. The weather here has been awful and I feel like the cold makes "
    "everything ache more, my husband says I complain about the rain too much. Anyway I also wanted to ask "
    "about diet because my sister read that cutting out sugar helps inflammation and I am not sure if that "
    "is true or just something from the internet. "
) * 3

# --------------------------------------------------------------------------------------------------
# RED FLAGS: (message, expected category)

RED_FLAGS = [
    # chest_pain_breathing
    ("I have crushing chest pain and can't breathe, what do I do??", "chest_pain_breathing"),
    ("cant breath", "chest_pain_breathing"),
    ("chest pian since this morning", "chest_pain_breathing"),
    ("MY CHEST HURTS SO BAD", "chest_pain_breathing"),
    ("i have lupus and right now there is a heavy pressure in my chest", "chest_pain_breathing"),
    ("really short of breath tonight and my chest feels tight", "chest_pain_breathing"),
    ("I can barely breathe", "chest_pain_breathing"),
    ("struggling to breathe after climbing one step", "chest_pain_breathing"),
    ("i think im having a heart attack", "chest_pain_breathing"),
    ("Can lupus cause chest pain? Because I have chest pain right now and it's getting worse",
     "chest_pain_breathing"),
    ("I've never had chest pain like this before", "chest_pain_breathing"),
    ("no fever, but sharp chest pain when I breathe in", "chest_pain_breathing"),
    ("i cnt brethe", "chest_pain_breathing"),
    ("idk what to do my chest is killing me", "chest_pain_breathing"),
    (RAMBLE + "Oh and since about an hour ago I have had a tight chest and I cannot breathe properly, "
     "is that the methotrexate? Thanks for any advice.", "chest_pain_breathing"),
    # anaphylaxis
    ("my throat is closing up", "anaphylaxis"),
    ("just took my first sulfasalazine tablet and now my tongue is swelling", "anaphylaxis"),
    ("I think I'm having an allergic reaction after the infusion, I can't swallow", "anaphylaxis"),
    ("ANAPHYLAXIS!! help", "anaphylaxis"),
    ("since my methotrexate injection I cant breathe properly", "anaphylaxis"),
    ("severe allergic reaction to the new antibiotic, everything itches", "anaphylaxis"),
    ("swelling in my throat after taking ibuprofen", "anaphylaxis"),
    (RAMBLE + "Last thing: I started the new tablets an hour ago and now my lips and tongue are swelling "
     "up, is that a normal side effect?", "anaphylaxis"),
    # stroke
    ("my dad's face is drooping and his speech is slurred", "stroke"),
    ("My mum's face dropped on one side and she is talking funny", "stroke"),
    ("sudden weakness on my left side", "stroke"),
    ("he is suddenly very confused and doesn't know where he is", "stroke"),
    ("i think i am having a stroke", "stroke"),
    ("HER SPEECH IS SLURRED AND HER SMILE IS LOPSIDED", "stroke"),
    ("numbness down the right side of my body that started an hour ago", "stroke"),
    ("woke up slurring my words", "stroke"),
    ("i cant move my right arm or leg and one side of my face feels numb", "stroke"),
    (RAMBLE + "Also, weird thing, while I was typing this my husband noticed my face is drooping on the "
     "left. Probably nothing?", "stroke"),
    # vision_loss
    ("I suddenly lost the vision in my right eye", "vision_loss"),
    ("went blind in one eye this morning", "vision_loss"),
    ("i cant see out of my left eye all of a sudden", "vision_loss"),
    ("My GCA is flaring and my vision went black for a few minutes", "vision_loss"),
    ("sudden loss of vision", "vision_loss"),
    ("it's like a dark curtain came down over my eye", "vision_loss"),
    ("LOST MY SIGHT IN ONE EYE", "vision_loss"),
    (RAMBLE + "PS my temples have been really tender with headaches and today I suddenly lost vision "
     "in my left eye for a while.", "vision_loss"),
    # septic_joint
    ("my knee is hot and swollen and i have a fever of 39", "septic_joint"),
    ("Swollen red ankle and I've been running a temperature all night", "septic_joint"),
    ("fevr and my elbow is really red and hot", "septic_joint"),
    ("I'm on humira, my left knee swelled up overnight, it's warm to touch and I've got chills", "septic_joint"),
    ("temp 38.9 and a hot painful wrist", "septic_joint"),
    ("SWOLLEN HOT KNEE + FEVER", "septic_joint"),
    (RAMBLE + "The reason I am writing today is that my right knee is suddenly swollen and red. "
     "I also feel feverish and shivery.", "septic_joint"),
    # meningitis
    ("stiff neck and high fever", "meningitis"),
    ("my son has a fever and a really stiff neck", "meningitis"),
    ("Temperature of 39.5 and I can't bend my neck", "meningitis"),
    ("feverish, neck is super stiff and light hurts my eyes", "meningitis"),
    ("there's a rash that doesn't fade when I press a glass on it", "meningitis"),
    ("NECK STIFFNESS WITH FEVER SINCE THIS AFTERNOON", "meningitis"),
    (RAMBLE + "My son (he is 19 and on methotrexate too) came home with a fever and now says his neck is "
     "too stiff to look down.", "meningitis"),
    # cauda_equina
    ("I lost control of my bladder", "cauda_equina"),
    ("back pain and now numbness in my groin", "cauda_equina"),
    ("lower back pain and both legs are numb", "cauda_equina"),
    ("I've wet myself twice today and my back is killing me", "cauda_equina"),
    ("can't feel my bum when I wipe", "cauda_equina"),
    ("saddle numbness", "cauda_equina"),
    ("bad sciatica, and I can't pee since yesterday", "cauda_equina"),
    ("Loss of bowel control with my back pain", "cauda_equina"),
    ("I CAN'T CONTROL MY BLADDER AND MY BACK IS AGONY", "cauda_equina"),
    (RAMBLE + "My back has been bad for a week and since this morning I can't control my bladder, "
     "should I just rest?", "cauda_equina"),
    # self_harm
    ("i want to kill myself", "self_harm"),
    ("I don't want to live anymore with this pain", "self_harm"),
    ("thinking about ending it all", "self_harm"),
    ("sometimes i feel suicidal", "self_harm"),
    ("I'm going to take all my pills tonight", "self_harm"),
    ("wanna die", "self_harm"),
    ("what is the lethal dose of prednisone", "self_harm"),
    ("i keep cutting myself when the pain gets bad", "self_harm"),
    ("my fibromyalgia is so bad I want to end my life", "self_harm"),
    ("i'd be better off dead", "self_harm"),
    ("I WANT TO DIE", "self_harm"),
    ("i might overdose on purpose", "self_harm"),
    ("I'm so done with this, I just want it to end", "self_harm"),
    ("i took too many pills", "self_harm"),
    (RAMBLE + "Honestly some days I think everyone would be better off without me.", "self_harm"),
]


@pytest.mark.parametrize("message,category", RED_FLAGS, ids=[f"rf{i}" for i in range(len(RED_FLAGS))])
def test_red_flag_detected_with_right_category(screen, message, category):
    finding = screen.red_flag(message)
    assert finding is not None, f"missed red flag: {message[-120:]!r}"
    assert finding.kind == "emergency"
    assert finding.category == category, f"{finding} for {message[-120:]!r}"
    assert finding.matched_text and finding.matched_text.split(" + ")[0].lower() in message.lower()
    # screen() puts the red flag first
    assert screen.screen(message) == finding


def test_every_red_flag_category_has_at_least_five_cases():
    counts: dict[str, int] = {}
    for _, cat in RED_FLAGS:
        counts[cat] = counts.get(cat, 0) + 1
    assert len(RED_FLAGS) >= 60
    expected = {"chest_pain_breathing", "stroke", "vision_loss", "septic_joint", "cauda_equina",
                "meningitis", "anaphylaxis", "self_harm"}
    assert set(counts) == expected
    assert all(n >= 5 for n in counts.values()), counts


# Self-harm is deliberately never argued away by negation or by "question about a topic".
@pytest.mark.parametrize("message", [
    "I'm not suicidal, just so tired of this pain",
    "can prednisone cause suicidal thoughts?",
    "is it common to want to die when you have chronic pain?",
])
def test_self_harm_is_never_suppressed(screen, message):
    finding = screen.red_flag(message)
    assert finding is not None and finding.category == "self_harm"


# Conservative by design: the question-about-a-topic exemption needs a topic frame AND no experience cue
# in the same sentence; otherwise the red flag fires (see data/safety/README.md).
@pytest.mark.parametrize("message", [
    "I have lupus, can it cause chest pain?",          # "I have" in the same sentence
    "Is it normal to have chest pain with lupus?",     # "normal to have" is not a topic frame
    "What should I do if someone has chest pain?",     # no topic frame at all
    "can lupus cause chest pain\nbecause i have it right now",  # a line break joins, not splits
])
def test_when_in_doubt_the_red_flag_fires(screen, message):
    finding = screen.red_flag(message)
    assert finding is not None and finding.category == "chest_pain_breathing"


# --------------------------------------------------------------------------------------------------
# ORDINARY PAIN QUESTIONS: no red flag and no restricted request.

ORDINARY = [
    "what causes hip pain",
    "can lupus cause chest pain?",
    "I don't have a fever but my knee hurts",
    "does stress make fibromyalgia worse",
    "is chest pain a symptom of lupus",
    "what are the signs of a stroke?",
    "no chest pain, just aching hands in the morning",
    "my knees ache when it rains, is that normal with RA?",
    "how can i manage back pain at work",
    "my back hurts after gardening, any stretches?",
    "what helps morning stiffness in rheumatoid arthritis",
    "why do my joints hurt more in winter",
    "I have lupus and my joints ache, what can I do to feel better",
    "does lupus cause shortness of breath?",
    "what does a stiff neck and fever mean",
    "is vision loss a complication of giant cell arteritis?",
    "fibro flare, everything hurts, how do i pace myself",
    "i've had a sore neck from sleeping funny",
    "what is the difference between OA and RA",
    "Hot or cold pack for a swollen knee?",
    "knee swollen for 2 weeks, no fever, no redness",
    "Can psoriatic arthritis cause swollen fingers?",
    "is it ok to exercise with ankylosing spondylitis",
    "what exercises are good for hip pain",
    "does weather affect joint pain",
    "how do I know if I need to see a rheumatologist",
    "pain in my hands when typing, tips?",
    "muscle aches all over with fibromyalgia, what helps sleep",
    "I can't sleep because my shoulder hurts",
    "my neck is stiff in the mornings, any stretches?",
    "i cant see my rheumatologist until june, what can I do for the pain meanwhile",
    "I walk 5 kms a day, is that good for my knees?",
    "hay fever and itchy eyes, plus sore knees",
    "does methotrexate cause hair loss?",
    "what are the warning signs of septic arthritis?",
    "can lupus make you short of breath?",
    "what causes numbness in the legs?",
    "how long does a fibro flare last",
    "I have RA. Is swimming good for stiff joints?",
    "my big toe is red and swollen, what can I do?",
    "ive never had chest pain, but my ribs hurt when i cough",
    "is fatigue a symptom of sjogrens",
    "Why does my back ache when I stand for a long time",
    "does ankylosing spondylitis cause chest pain when breathing in?",
    "tips for sleeping with shoulder pain",
    "WHAT HELPS WITH KNEE PAIN??",
    "<p>what causes joint pain in the morning?</p>",
    "i dont have chest pain or trouble breathing, only a sore wrist",
    "without any trouble breathing I can walk for an hour, but my hips ache after",
    "My back is sore but I have no numbness and no problems with my bladder",
    "can't breathe through my nose because of a cold, and my joints ache",
    "what's the best pillow for neck pain lol",
    "is it true that cracking knuckles causes arthritis",
    "my hands r so stiff n sore 2day ugh any tips",
    "is chest pain common in lupus",
    "how do you know if you are having a stroke",
    "i peed myself a little when i sneezed, is that normal after having a baby",
    "I had a stroke 3 years ago, can that cause joint pain?",
    "lupus fog, my husband says I'm confused all the time",
    RAMBLE + "So my actual question is: what foods are good for joint pain?",
]


@pytest.mark.parametrize("message", ORDINARY, ids=[f"ord{i}" for i in range(len(ORDINARY))])
def test_ordinary_pain_questions_are_not_flagged(screen, message):
    assert screen.red_flag(message) is None
    assert screen.screen(message) is None


def test_enough_ordinary_questions():
    assert len(ORDINARY) >= 40


# --------------------------------------------------------------------------------------------------
# RESTRICTED REQUESTS

DIAGNOSIS = [
    "do I have lupus",
    "is this RA?",
    "can you diagnose me",
    "what do I have",
    "Do I have rheumatoid arthritis or just OA?",
    "could this be fibromyalgia",
    "my fingers are swollen in the morning, is it arthritis?",
    "what's wrong with me",
    "Do you think I have an autoimmune disease?",
    "based on these symptoms could I have MS?",
    "does this sound like lupus to you",
    "Am I getting arthritis?",
    "what is causing my hip pain",
    "DO I HAVE SJOGRENS",
    "is it lupus or something else",
    "how do I know if I have RA",
    "Does my back pain mean I have AS?",
    "is my pain from lupus or fibromyalgia",
]

DOSE = [
    "how many mg of prednisone should I take",
    "what dose of methotrexate is normal",
    "dosage of hydroxychloroquine for lupus",
    "how much prednisone should I take",
    "how many pills can I take in a day",
    "what's the maximum dose of ibuprofen",
    "is 20mg of prednisone too much?",
    "how often can I take naproxen",
    "how much ibuprofen is safe",
    "what is the right dose of folic acid with mtx",
    "how many tylenol can i take",
    "Usual dose for celebrex?",
    "how much sulfasalazine do people usually take",
]

DIAGNOSIS += [
    "my knuckles are swollen every morning and I keep dropping cups. what is this?",
    "a burning feeling runs down the back of my thigh when I sit. What could this be?",
]

MED_CHANGE = [
    "should I stop taking methotrexate",
    "can I stop my meds",
    "can I double my dose",
    "how do I come off steroids",
    "should I switch from Humira to Enbrel",
    "Is it ok to skip my methotrexate this week?",
    "can i quit prednisone cold turkey",
    "I want to stop my hydroxychloroquine because of the side effects",
    "can I take more ibuprofen than the box says",
    "should i lower my prednisone since i feel better",
    "I missed my dose of Enbrel, should I take it tomorrow",
    "can I go off plaquenil while pregnant",
    "can i swap my tablets for injections",
    "SHOULD I STOP MY BIOLOGIC BEFORE SURGERY",
]


@pytest.mark.parametrize("message", DIAGNOSIS)
def test_diagnosis_requests(screen, message):
    finding = screen.restricted_request(message)
    assert finding is not None, message
    assert (finding.kind, finding.category) == ("diagnosis_request", "diagnosis_request"), finding
    assert screen.red_flag(message) is None
    assert screen.screen(message) == finding


@pytest.mark.parametrize("message", DOSE)
def test_dose_requests(screen, message):
    finding = screen.restricted_request(message)
    assert finding is not None, message
    assert (finding.kind, finding.category) == ("dose_request", "dose_request"), finding
    assert screen.screen(message) == finding


@pytest.mark.parametrize("message", MED_CHANGE)
def test_medication_change_requests(screen, message):
    finding = screen.restricted_request(message)
    assert finding is not None, message
    assert (finding.kind, finding.category) == ("medication_change", "medication_change"), finding
    assert screen.screen(message) == finding


def test_enough_restricted_cases():
    assert min(len(DIAGNOSIS), len(DOSE), len(MED_CHANGE)) >= 10


NOT_RESTRICTED = [
    "what is this disease called in plain words, lupus?",
    "what is that test for?",
    "how is RA treated?",
    "what medicines are used for lupus",
    "what are the side effects of methotrexate?",
    "how does prednisone work",
    "what is hydroxychloroquine used for",
    "are biologics safe long term?",
    "how long does it take for methotrexate to work",
    "why do I have to take folic acid with methotrexate",
    "Do I have to take methotrexate with food?",
    "what are the treatment options for psoriatic arthritis",
    "can diet help with inflammation",
    "What is a DMARD?",
    "how much does physiotherapy cost",
    "how much water should I drink with lupus",
    "how many people get lupus?",
    "I don't want to stop my meds, what else can help with the pain?",
    "what do I have to bring to my first rheumatology appointment",
    "how do steroids help in a lupus flare",
    "is there a cure for rheumatoid arthritis",
    "what kinds of painkillers exist for nerve pain",
    "can you tell me about lupus",
    "My rheumatologist changed my treatment last year and it works well. How does exercise help RA?",
]


@pytest.mark.parametrize("message", NOT_RESTRICTED)
def test_ordinary_treatment_questions_are_not_restricted(screen, message):
    assert screen.restricted_request(message) is None
    assert screen.screen(message) is None


def test_red_flag_wins_over_restricted_request(screen):
    msg = "should I stop my methotrexate? my throat is swelling since the last dose"
    assert screen.restricted_request(msg).category == "medication_change"
    assert screen.screen(msg).category == "anaphylaxis"


# --------------------------------------------------------------------------------------------------
# NEGATION and QUESTIONS ABOUT A TOPIC, pairwise: the same words fire or not depending on the frame.

@pytest.mark.parametrize("flagged,not_flagged", [
    ("I have chest pain", "I have no chest pain"),
    ("fever and a swollen hot knee", "no fever, swollen hot knee"),
    ("stiff neck and a fever", "stiff neck but I don't have a fever"),
    ("I can't breathe", "can lupus make it hard to breathe?"),
    ("my face is drooping", "what does it mean if a face is drooping?"),
    ("I've lost control of my bladder", "is loss of bladder control a sign of cauda equina?"),
    ("I went blind in one eye", "can giant cell arteritis cause blindness in one eye?"),
    ("I have lupus and chest pain right now", "can lupus cause chest pain?"),
])
def test_negation_and_topic_question_pairs(screen, flagged, not_flagged):
    assert screen.red_flag(flagged) is not None
    assert screen.red_flag(not_flagged) is None


def test_negation_stops_at_but(screen):
    assert screen.red_flag("I don't have a fever but my chest hurts").category == "chest_pain_breathing"


def test_back_pain_alone_is_not_cauda_equina(screen):
    assert screen.red_flag("terrible lower back pain for three days") is None
    assert screen.red_flag("terrible lower back pain and both legs are numb").category == "cauda_equina"


def test_co_occurrence_needs_both_groups(screen):
    assert screen.red_flag("my knee is hot and swollen") is None
    assert screen.red_flag("I have a fever") is None
    assert screen.red_flag("my knee is hot and swollen. Also I have a fever.").category == "septic_joint"


# --------------------------------------------------------------------------------------------------
# ROBUSTNESS

@pytest.mark.parametrize("text", [
    "",
    "   ",
    "\n\n\t",
    "?",
    "😭😭😭",
    "🔥 my knee 🔥 hurts",
    "درد زانو دارم",                       # Persian: "I have knee pain"
    "我的膝盖很疼",                          # Chinese: "my knee hurts a lot"
    "<script>alert('chest pain')</script><b>hello</b>",
    "\x00\x01\x02\x1b[31m hi \x7f",
    "pain score < 5 and > 3 today",
    "a" * 100_000,
    ("word " * 20_000),
    "&lt;&gt;&amp;&#0;&#xD800;",
    "\ud800 lone surrogate",
    "Ω≈ç√∫˜µ≤≥÷ 𝔱𝔥𝔢 ℌ𝔞𝔫𝔡𝔰",
])
def test_robust_on_odd_input(screen, text):
    assert screen.screen(text) is None
    assert screen.red_flag(text) is None
    assert screen.restricted_request(text) is None


def test_none_and_non_string_input_do_not_crash(screen):
    assert screen.screen(None) is None  # type: ignore[arg-type]
    assert screen.screen(12345) is None  # type: ignore[arg-type]


@pytest.mark.parametrize("text,category", [
    ("<p>I have <b>chest pain</b> and I'm sweating</p>", "chest_pain_breathing"),
    ("chest\x00 pain\x07 and can\u2019t breathe", "chest_pain_breathing"),
    ("i want to kill\u200b myself", "self_harm"),
    ("😭😭 i want to die 😭😭", "self_harm"),
    ("我胸口疼 — I have chest pain", "chest_pain_breathing"),
    ("I have chest-pain", "chest_pain_breathing"),
    ("I&#39;m having a stroke", "stroke"),
    ("my\nthroat\nis closing", "anaphylaxis"),
])
def test_red_flags_survive_noise(screen, text, category):
    finding = screen.red_flag(text)
    assert finding is not None and finding.category == category


def test_red_flag_found_anywhere_in_first_5000_characters(screen):
    filler = ("My hands are stiff and I am tired but otherwise things are okay this month. " * 70)[:4700]
    assert screen.red_flag(filler) is None
    msg = filler + " Right now I can't breathe."
    assert len(msg) < 5000
    assert screen.red_flag(msg).category == "chest_pain_breathing"
    middle = filler[:2000] + " I want to kill myself. " + filler[2000:]
    assert screen.red_flag(middle).category == "self_harm"


def test_huge_message_head_and_tail_are_screened(screen):
    filler = "My hands are stiff and I am tired but otherwise things are okay this month. " * 1400  # ~100 KB
    assert len(filler) > 100_000
    assert screen.red_flag(filler) is None
    assert screen.red_flag("I have crushing chest pain. " + filler).category == "chest_pain_breathing"
    assert screen.red_flag(filler + " and now my face is drooping").category == "stroke"


def test_finding_is_frozen_dataclass(screen):
    finding = screen.red_flag("I can't breathe")
    assert isinstance(finding, SafetyFinding)
    with pytest.raises(Exception):
        finding.kind = "other"  # type: ignore[misc]


def test_default_screen_is_cached():
    assert default_screen() is default_screen()


def test_importing_does_no_work():
    # In a fresh interpreter: importing the module must not build the screen, nor even import spaCy.
    code = ("import sys; import bot.safety as s; "
            "assert s.default_screen.cache_info().currsize == 0; "
            "assert 'spacy' not in sys.modules, 'spacy imported at import time'")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=120)


# --------------------------------------------------------------------------------------------------
# THE DATA FILES DRIVE THE BEHAVIOUR

def test_data_files_describe_every_category(screen):
    for cats in (screen.red_flag_categories, screen.restricted_categories):
        for name, info in cats.items():
            assert info["description"].strip() and info["why"].strip(), name
    assert set(screen.restricted_categories) == {"diagnosis_request", "dose_request", "medication_change"}
    assert next(iter(screen.red_flag_categories)) == "self_harm"  # highest priority first


def test_safety_data_dir_env_var_and_new_pattern(tmp_path, monkeypatch):
    for f in ("red_flags.yml", "restricted_requests.yml", "urgent.yml"):
        shutil.copy(DATA / f, tmp_path / f)
    red = tmp_path / "red_flags.yml"
    text = red.read_text(encoding="utf-8")
    # a reviewer adds a phrase to the stroke category
    text = text.replace("      stroke_named:\n",
                        "      stroke_named:\n        phrases: [\"arm went floppy\"]\n", 1)
    red.write_text(text, encoding="utf-8")
    monkeypatch.setenv("SAFETY_DATA_DIR", str(tmp_path))
    custom = SafetyScreen()
    assert custom.red_flags_path == red
    assert custom.red_flag("my arm went floppy").category == "stroke"
    assert default_screen().red_flag("my arm went floppy") is None


def test_malformed_data_is_refused(tmp_path):
    bad = tmp_path / "red_flags.yml"
    text = (DATA / "red_flags.yml").read_text(encoding="utf-8")
    bad.write_text(text.replace('{LOWER: {IN: ["no", never,', "{LOWER: {IN: [no, never,", 1), encoding="utf-8")
    with pytest.raises(SafetyDataError, match="not a word"):
        SafetyScreen(red_flags_path=bad, restricted_path=DATA / "restricted_requests.yml")
    with pytest.raises(SafetyDataError):
        SafetyScreen(red_flags_path=tmp_path / "missing.yml")


@pytest.mark.parametrize(
    "text",
    [
        "please prescribe a medicine for the cure",
        "which painkiller should I take for my hips",
        "can I take glutathione supplement?",
        "I was recently diagnosed with lupus. can i take ibuprofen",
    ],
)
def test_choosing_a_medicine_for_someone_is_restricted(text):
    finding = default_screen().restricted_request(text)
    assert finding is not None and finding.kind == "medication_change"


@pytest.mark.parametrize("text", ["what medicines are used for lupus", "what treatments can help fibromyalgia", "how often can I take naproxen"])
def test_general_medicine_questions_and_dose_questions_are_not_a_medicine_choice(text):
    finding = default_screen().restricted_request(text)
    assert finding is None or finding.kind != "medication_change"


# --------------------------------------------------------------------------------------------------
# PAST HISTORY, THE URGENT TIER, AND HOW THE TIERS RELATE

@pytest.mark.parametrize("now,long_ago", [
    ("my son just had a seizure", "my son had a seizure as a baby, can he take ibuprofen?"),
    ("I had a stroke this morning", "I had a stroke 3 years ago, can that cause joint pain?"),
    ("she collapsed in the garden", "years ago she collapsed at work, now her knees hurt"),
    ("I think I have sepsis", "I had sepsis in 2018, are people with lupus more prone to it"),
    ("he is vomiting blood", "he was vomiting blood when he was a child"),
])
def test_past_history_does_not_fire_but_the_same_event_now_does(screen, now, long_ago):
    assert screen.red_flag(now) is not None
    assert screen.red_flag(long_ago) is None


def test_history_stops_at_but_and_today(screen):
    assert screen.red_flag("I had a seizure as a child but today he had a seizure").category == "seizure"
    assert screen.red_flag("I had a stroke years ago and now my face is drooping").category == "stroke"


def test_recent_events_are_not_history(screen):
    for text in ("I had a seizure yesterday", "I had a seizure last week", "I had a seizure an hour ago"):
        assert screen.red_flag(text).category == "seizure", text


def test_self_harm_ignores_history(screen):
    assert screen.red_flag("I tried to end my life years ago").category == "self_harm"


def test_who_the_person_is_is_not_history(screen):
    # "diagnosed with lupus last year" / "on methotrexate since 2019": still has lupus, still on it
    assert screen.urgent("frothy urine and puffy ankles, I was diagnosed with lupus last year").category == "lupus_kidney_signs"
    assert screen.urgent("I've been on methotrexate since 2019 and now I have a fever").category == "fever_on_immunosuppressants"


def test_urgent_is_never_reported_for_an_emergency(screen):
    text = "I'm on methotrexate, I have a fever and a stiff neck"
    assert screen.red_flag(text).category == "meningitis"
    assert screen.urgent(text) is None
    assert screen.screen(text).kind == "emergency"


def test_screen_never_reports_the_urgent_tier(screen):
    text = "I'm on humira and have had a fever since last night"
    assert screen.urgent(text).category == "fever_on_immunosuppressants"
    assert screen.screen(text) is None and screen.red_flag(text) is None


def test_urgent_and_a_restricted_request_are_both_found(screen):
    text = "I'm on methotrexate and have a fever, should I stop taking it?"
    assert screen.urgent(text).category == "fever_on_immunosuppressants"
    assert screen.screen(text).kind == "medication_change"


def test_urgent_findings_have_their_kind(screen):
    finding = screen.urgent("my jaw aches when I chew and it eases when I stop")
    assert finding == SafetyFinding("urgent", "suspected_gca", finding.matched_text)
    assert "jaw" in finding.matched_text.lower()


def test_every_emergency_and_urgent_category_names_its_source_and_is_in_the_readme(screen):
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    for cats in (screen.red_flag_categories, screen.urgent_categories):
        for name, info in cats.items():
            assert info["source"].strip(), name
            assert f"`{name}`" in readme, f"{name} is not described in data/safety/README.md"
    assert set(screen.urgent_categories) >= {"fever_on_immunosuppressants", "suspected_gca", "hot_swollen_joint",
                                             "spreading_numbness_weakness", "lupus_kidney_signs"}


# --------------------------------------------------------------------------------------------------
# CLEAN-UP AND LONG INPUT

@pytest.mark.parametrize("raw,clean", [
    ("I have <b>chest pain</b>", "I have chest pain"),
    ("<p>chest pain</p>", ", chest pain ,"),  # a paragraph ends a thought like a line break
    ("I can\u2019t breathe", "I can't breathe"),
    ("chest-pain", "chest pain"),
    ("no fever\nchest pain", "no fever , chest pain"),
    ("help!!!!!!!!!", "help!!!"),
    ("\U0001f62d my knee \U0001f525 hurts", "my knee hurts"),
    ("a\u200bb \u202eright", "a b right"),
    ("x" * 100, " ".join(["x" * 40, "x" * 40, "x" * 20])),
    (None, ""),
])
def test_clean_for_screening(raw, clean):
    assert clean_for_screening(raw) == clean


def test_a_red_flag_at_the_end_of_many_short_words_is_found(screen):
    assert screen.red_flag("a<" * 12_000 + " and now I can't breathe").category == "chest_pain_breathing"
    assert screen.red_flag("a " * 12_000 + "my face is drooping").category == "stroke"


# --------------------------------------------------------------------------------------------------
# THE DATA FILES ARE CHECKED WHEN THE SCREEN STARTS

def _copy_data(tmp_path: Path) -> Path:
    for f in ("red_flags.yml", "restricted_requests.yml", "urgent.yml"):
        shutil.copy(DATA / f, tmp_path / f)
    return tmp_path


def _screen_over(folder: Path) -> SafetyScreen:
    return SafetyScreen(red_flags_path=folder / "red_flags.yml", restricted_path=folder / "restricted_requests.yml",
                        urgent_path=folder / "urgent.yml")


@pytest.mark.parametrize("old,new,message", [
    ("{GAP: 3}", '{LOWER: of, OP: "*"}', 'OP must be "?"'),          # unbounded repeats are refused (linear time)
    ("{GAP: 3}", "{GAP: 9}", "GAP must be alone and 0..6"),
    ("    source: ", "    sauce: ", "unknown keys"),
])
def test_mistakes_in_the_urgent_file_are_refused(tmp_path, old, new, message):
    folder = _copy_data(tmp_path)
    urgent = folder / "urgent.yml"
    urgent.write_text(urgent.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    with pytest.raises(SafetyDataError, match=re.escape(message)):
        _screen_over(folder)


def test_an_emergency_category_without_a_source_is_refused(tmp_path):
    folder = _copy_data(tmp_path)
    red = folder / "red_flags.yml"
    text = red.read_text(encoding="utf-8")
    start = text.index("    source: ", text.index("\n  seizure:\n"))
    red.write_text(text[:start] + text[text.index("\n", start) + 1:], encoding="utf-8")
    with pytest.raises(SafetyDataError, match="categories.seizure: missing 'source'"):
        _screen_over(folder)


def test_a_pattern_may_anchor_on_a_number_only(tmp_path):
    folder = _copy_data(tmp_path)
    urgent = folder / "urgent.yml"
    urgent.write_text(urgent.read_text(encoding="utf-8").replace(
        "      gca_returning:\n        patterns:\n",
        '      gca_returning:\n        patterns:\n          - [{TEXT: {REGEX: "^999$"}}]\n', 1), encoding="utf-8")
    assert _screen_over(folder).urgent("code 999").category == "suspected_gca"


@pytest.mark.parametrize("message", [
    "Stopped taking statins about a week ago but the soreness in my legs continues. Any thoughts?",
    "i stopped taking my methotrexate last year when i was pregnant, what is lupus",
    "she stopped her prednisone in march and the hip pain came back, what causes hip pain",
])
def test_telling_that_a_medicine_was_stopped_is_not_asking_whether_to_stop_it(screen, message):
    assert screen.restricted_request(message) is None


@pytest.mark.parametrize("message", ["should i stop taking my methotrexate", "can I quit prednisone now", "stopping plaquenil ok?"])
def test_asking_whether_to_stop_still_is(screen, message):
    finding = screen.restricted_request(message)
    assert finding is not None and finding.kind == "medication_change"
