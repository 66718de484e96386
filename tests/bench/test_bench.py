"""Tests of the benchmark's pieces (make bench): tiny inputs, no training, no servers."""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time

import pytest
import yaml

from bench import metrics, pipelines, report
from bench.bm25 import BM25, tokenize
from bench.expectations import (
    ANSWERED,
    DECLINED,
    NO_INFO,
    RESTRICTED,
    Expectation,
    bot_correct,
    declined_subject,
    expectation_for,
    facts,
    multi_correct,
    names_subject,
    quoted_lines,
    search_correct,
)
from bench.heldout import in_scope_questions, multi_questions, out_of_scope_medical_questions
from bench.load import cpu_seconds, percentile
from bench.metrics import TARGETS, intent_scores, summarize_profile
from bench.run import other_training

PASSAGES = [
    "Rheumatoid arthritis (RA) primarily targets the synovial membranes lining the joints.",
    "Lupus-associated hip pain may result from inflammation of the joint.",
    "Chronic stress can increase inflammation.",
]
DISCLAIMER = "This is general information from our clinic's documents, not a diagnosis or medical advice."
# Replies in the composer's format (bot/answers.py, bot/texts.py): paragraphs, "- " lists, “curly” quotes.
HIP_ANSWER = (
    "Our documents name two autoimmune conditions that can cause hip pain: rheumatoid arthritis and lupus.\n\n"
    "What our documents say:\n\n"
    "- Rheumatoid arthritis: “One of the primary autoimmune conditions associated with hip pain is rheumatoid arthritis (RA).”\n"
    "- Systemic lupus erythematosus: “Another autoimmune condition that can cause hip pain is lupus.”\n\n"
    f"Source: What autoimmune disease causes hip pain\n\n{DISCLAIMER}"
)
TERM_ANSWER = ("Here is what our documents say about disease-modifying antirheumatic drugs: “Managing bone pain typically involves "
               "disease-modifying antirheumatic drugs (DMARDs), biologics, and physical therapy.”\n\n"
               f"Source: What autoimmune disease causes bone pain\n\n{DISCLAIMER}")
FLU_DECLINE = ("I don't have information on the flu in our clinic's documents.\n\n"
               "I can tell you about hip pain and bone pain, and about conditions such as rheumatoid arthritis.")
TREATMENT_ANSWER = ("Here is what our documents say about treating and managing autoimmune conditions: “Management typically "
                    "includes anti-inflammatory medications, disease-modifying antirheumatic drugs (DMARDs), physical therapy.”")
DOSE_REFUSAL = "I can't advise on doses: the right dose depends on you, and only your doctor or pharmacist can tell you."
EMERGENCY = "What you describe may need urgent medical help. Please call 911 (US) / 112 (EU) or your local emergency number."


# -- the search box ----------------------------------------------------------------------------------
def test_bm25_ranks_the_passage_that_shares_rare_terms_first():
    index = BM25(PASSAGES)
    assert index.search("what does stress do", k=3)[0][0] == 2
    assert index.search("can lupus make my hips hurt")[0][0] == 1
    assert index.search("tell me a joke") == []  # no shared term: the search box shows nothing


def test_tokenize_drops_stopwords_and_plural_s():
    assert tokenize("What are the HIPS telling?") == ["hip", "telling"]


# -- what a correct reply holds ------------------------------------------------------------------------
def test_expectations_follow_the_documents_not_the_bot():
    assert expectation_for("ask_conditions_for_pain", None, None, "knee") == NO_INFO
    assert expectation_for("ask_condition_info", "gout", "other", None) == NO_INFO
    exp = expectation_for("ask_condition_causes_pain", "systemic lupus erythematosus", "autoimmune", "hip")
    assert exp.kind == "facts" and bot_correct(exp, HIP_ANSWER)
    assert expectation_for("emergency", None, None, None).markers == ("911",)


def test_facts_count_only_in_what_the_reply_quotes():
    exp = facts((["rheumatoid"], 1), (["hip"], 1))
    assert bot_correct(exp, HIP_ANSWER)
    opening_only = HIP_ANSWER.split("\n\n")[0]  # names the condition, quotes nothing
    assert not bot_correct(exp, opening_only)
    assert not bot_correct(facts((["flu"], 1)), FLU_DECLINE)
    assert bot_correct(facts((["dmard"], 1)), TERM_ANSWER)  # an inline “quote” counts
    assert quoted_lines("a\n- b “c”\nd “e” f").splitlines() == ["- b “c”", "“c”", "“e”"]


def test_the_older_bullet_format_still_counts():
    assert bot_correct(facts((["osteoporosis"], 1)), "Here:\n• “Corticosteroids can increase the risk of osteoporosis.”")


def test_an_honest_gap_is_right_where_the_documents_say_nothing_specific():
    honest = ("Our documents don't say anything about diagnosis for systemic lupus erythematosus specifically.\n\n"
              "They do describe this for autoimmune conditions in general, if that helps.")
    lupus_diagnosis = expectation_for("ask_diagnosis", "systemic lupus erythematosus", "autoimmune", None)
    assert bot_correct(lupus_diagnosis, honest)  # the documents describe diagnosis only in general
    assert bot_correct(lupus_diagnosis, "- “Diagnosis involves clinical evaluation, blood tests and imaging studies like X-rays.”")
    ra_symptoms = expectation_for("ask_symptoms", "rheumatoid arthritis", "autoimmune", None)
    assert not bot_correct(ra_symptoms, honest.replace("diagnosis", "symptoms"))  # they do describe RA's symptoms
    assert expectation_for("ask_stress", "systemic lupus erythematosus", "autoimmune", None).or_markers == ()
    assert expectation_for("ask_diagnosis", "gout", "other", None) == NO_INFO
    assert multi_correct([lupus_diagnosis, RESTRICTED], honest + "\n\n" + DOSE_REFUSAL)


def test_saying_the_documents_are_silent_on_an_aspect_is_no_information_only_with_nothing_quoted():
    silent = "Our documents don't say anything about genetics and inheritance for rheumatoid arthritis."
    assert bot_correct(NO_INFO, silent)
    general = silent + "\n\nAbout autoimmune conditions in general, they say:\n\n- “MRI and initial tests are normal”"
    assert not bot_correct(NO_INFO, general)  # a different question's quotes are no honest gap
    kind_of = "Our documents speak of myositis in general, not of dermatomyositis in particular.\n\n- “Common in myositis”"
    assert bot_correct(NO_INFO, kind_of)  # said plainly before the parent condition's facts (blind graders: good)


def test_abbreviations_match_whole_words_in_their_case():
    exp = facts((["AS"], 1))
    assert search_correct(exp, ["Over time, AS can result in new bone formation."])
    assert not search_correct(exp, ["It is associated with pain, as such."])


def test_in_scope_questions_must_be_answered_with_a_quote_and_not_declined():
    assert bot_correct(ANSWERED, HIP_ANSWER)
    assert not bot_correct(ANSWERED, FLU_DECLINE)
    assert not bot_correct(ANSWERED, "I'm not sure I understood. Did you mean one of these?")
    assert not bot_correct(ANSWERED, "I don't have information on lupus in our clinic's documents. " + TREATMENT_ANSWER)


def test_other_subjects_must_be_declined_without_facts_passed_off_as_the_answer():
    assert bot_correct(DECLINED, FLU_DECLINE)
    assert bot_correct(DECLINED, DOSE_REFUSAL)  # a dose question about a drug we don't cover: refusing is honest
    assert not bot_correct(DECLINED, TREATMENT_ANSWER)  # DMARDs for the flu: the harm issue 10 is about
    assert not bot_correct(DECLINED, "I don't have information on treatment for type 1 diabetes in our clinic's documents.\n\n"
                                     + TREATMENT_ANSWER)


def test_a_decline_names_the_subject_when_a_content_word_matches():
    assert declined_subject(FLU_DECLINE) == "the flu"
    assert names_subject(FLU_DECLINE, "flu")
    assert names_subject("I don't have information on ACE in our clinic's documents.", "ACE blood test")
    assert not names_subject(FLU_DECLINE, "metformin")
    assert not names_subject(TREATMENT_ANSWER, "flu")
    assert declined_subject("I don't have information on treatment for gout in our clinic's documents.") == "gout"


def test_several_questions_must_each_be_answered_in_the_order_asked():
    treatment = facts((["dmard", "disease-modifying"], 1))
    pain = facts((["rheumatoid"], 1), (["hip"], 1))
    both = HIP_ANSWER.replace(f"\n\n{DISCLAIMER}", "") + "\n\n" + TREATMENT_ANSWER
    assert multi_correct([pain, treatment], both)
    assert not multi_correct([treatment, pain], both)  # answered, but not in the order asked
    assert not multi_correct([pain, treatment], HIP_ANSWER)  # the second question not answered
    assert multi_correct([treatment, RESTRICTED], TREATMENT_ANSWER + "\n\n" + DOSE_REFUSAL)
    assert not multi_correct([RESTRICTED, NO_INFO], DOSE_REFUSAL)


def test_a_red_flag_anywhere_means_the_emergency_advice_alone():
    assert multi_correct([facts((["dmard"], 1))], EMERGENCY, emergency=True)
    assert not multi_correct([facts((["dmard"], 1))], EMERGENCY + "\n\n" + TREATMENT_ANSWER, emergency=True)
    assert not multi_correct([facts((["dmard"], 1))], TREATMENT_ANSWER, emergency=True)


def test_search_box_is_right_on_no_information_only_when_it_shows_nothing():
    assert search_correct(NO_INFO, [])
    assert search_correct(DECLINED, [])
    assert not search_correct(NO_INFO, ["Some passage."])
    assert not search_correct(Expectation("reply", markers=("911",)), ["Call 911"])


def test_expectation_json_round_trip():
    exp = facts((["a", "b"], 2), (["c"], 1))
    assert Expectation.from_json(json.loads(json.dumps(exp.to_json()))) == exp
    gap = expectation_for("ask_treatment", "myositis", "autoimmune", None)
    assert gap.or_markers and Expectation.from_json(json.loads(json.dumps(gap.to_json()))) == gap


# -- the held-out sets -------------------------------------------------------------------------------
def test_scope_sets_load_with_their_expectations():
    in_scope, oos = in_scope_questions(), out_of_scope_medical_questions()
    assert len(in_scope) >= 40 and {q.expect for q in in_scope} == {ANSWERED}
    assert all(q.intent.startswith("ask_") for q in in_scope)
    assert len(oos) >= 150 and {q.expect for q in oos} == {DECLINED}
    assert all(q.subject and q.intent == "" for q in oos)
    assert all(m.parts for m in multi_questions())


# -- the pipelines of issue 15 -----------------------------------------------------------------------
def test_a_candidate_swaps_only_the_intent_classifier_and_its_threshold():
    base = pipelines.load_config()
    classifier, threshold = pipelines.CANDIDATES["logreg"]
    candidate = pipelines.candidate_config(base, classifier, threshold)
    assert pipelines.intent_classifier(candidate)["name"] == "LogisticRegressionClassifier"
    assert pipelines.fallback_threshold(candidate) == threshold
    assert candidate["policies"] == base["policies"]
    others = lambda config: [c for c in config["pipeline"] if c["name"] not in (*pipelines.INTENT_CLASSIFIERS, "FallbackClassifier")]  # noqa: E731
    assert others(candidate) == others(base)
    names = [c["name"] for c in candidate["pipeline"]]
    assert names.index("LogisticRegressionClassifier") < names.index("RegexEntityExtractor")  # where DIET was
    with pytest.raises(ValueError):
        pipelines.candidate_config({"pipeline": [{"name": "WhitespaceTokenizer"}]}, classifier, threshold)


def test_config_yml_is_one_of_the_candidates_and_is_not_trained_twice(tmp_path):
    ours = pipelines.which_candidate(pipelines.load_config())
    assert ours in pipelines.CANDIDATES
    systems = pipelines.systems(tmp_path)
    assert systems["ours"] == pipelines.CONFIG and systems["default_pipeline"] == pipelines.DEFAULT_CONFIG
    assert set(systems) == {"ours", "default_pipeline", *pipelines.CANDIDATES} - {ours}
    for name, path in systems.items():
        if name not in ("ours", "default_pipeline"):
            assert pipelines.which_candidate(yaml.safe_load(path.read_text())) == name
    assert pipelines.reference_name() == ("ours" if ours == pipelines.REFERENCE else pipelines.REFERENCE)


def _pipeline(real: float, oos: float, nlu: float, ready: float, rss: float, train: float) -> dict:
    return {"accuracy_real": real, "decline_oos_medical": oos, "accuracy_test_nlu": nlu, "ready_s": ready,
            "rss_mb_rasa": rss, "train_s": train}


def test_the_lighter_pipeline_wins_only_if_it_holds_accuracy():
    diet = _pipeline(0.70, 0.90, 0.90, 25, 1300, 180)
    detail = {"ours": diet,
              "logreg": _pipeline(0.695, 0.895, 0.905, 8, 700, 25),  # within a point everywhere, meets everything
              "diet_small": _pipeline(0.70, 0.90, 0.90, 22, 1250, 90),
              "default_pipeline": _pipeline(0.9, 0.9, 0.9, 1, 1, 1)}  # never a candidate
    choice = pipelines.choose(detail, "ours")
    assert choice["chosen"] == "logreg"
    assert set(choice["pipelines"]) == {"ours", "logreg", "diet_small"}
    detail["logreg"] = _pipeline(0.68, 0.95, 0.95, 8, 700, 25)  # 2 points lower on real questions
    choice = pipelines.choose(detail, "ours")
    assert choice["chosen"] == "diet_small"  # holds accuracy and is ready sooner; no target met either way
    assert not choice["pipelines"]["logreg"]["holds_accuracy"]
    assert choice["pipelines"]["logreg"]["accuracy_drop"]["accuracy_real"] == pytest.approx(0.02)


def test_targets_decide_in_order_ready_first():
    detail = {"ours": _pipeline(0.7, 0.9, 0.9, 25, 1300, 180),
              "a": _pipeline(0.7, 0.9, 0.9, 9, 1300, 180),  # ready met
              "b": _pipeline(0.7, 0.9, 0.9, 11, 600, 20)}  # memory and training met, ready not
    assert pipelines.choose(detail, "ours")["chosen"] == "a"


# -- training next to someone else's -------------------------------------------------------------------
def test_another_training_is_seen_and_the_bench_would_wait_for_it():
    fake = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "-m", "bot.rasa", "train"])
    try:
        deadline = time.monotonic() + 10
        while fake.pid not in other_training() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert fake.pid in other_training()
    finally:
        fake.kill()
        fake.wait()
    assert fake.pid not in other_training()


# -- scores, targets, the report -----------------------------------------------------------------------
def test_intent_scores_count_fallback_as_out_of_scope_and_skip_unlabelled_rows():
    rows = [
        {"gold": "out_of_scope", "predicted": "nlu_fallback"},
        {"gold": "greet", "predicted": "greet"},
        {"gold": "ask_stress", "predicted": "out_of_scope"},
        {"gold": "", "predicted": "ask_treatment"},  # another medical subject: no gold intent
    ]
    scores = intent_scores(rows)
    assert scores["oos_recall"] == 1.0 and scores["oos_precision"] == 0.5
    assert scores["intent_accuracy"] == pytest.approx(2 / 3)


def test_percentile_interpolates_and_cpu_time_is_read():
    assert percentile([10, 20, 30, 40], 50) == 25
    assert percentile([5], 95) == 5
    sum(i * i for i in range(300_000))
    assert cpu_seconds(os.getpid()) > 0


def test_profile_summary_reads_collapsed_stacks(tmp_path):
    raw = tmp_path / "p.txt"
    raw.write_text("main (a.py:1);handle (b.py:2);parse (c.py:3) 3\nmain (a.py:1);handle (b.py:2) 1\n")
    summary = summarize_profile(raw)
    assert summary["samples"] == 4
    assert summary["busy_samples"] == 4
    assert {"function": "parse (c.py)", "pct": 75.0} in summary["inclusive_pct"]


def _rows(correct_by_source: dict) -> list:
    rows = []
    for source, flags in correct_by_source.items():
        for i, ok in enumerate(flags):
            row = {"text": f"{source} {i}", "source": source, "gold": "" if source == "oos_medical" else "ask_treatment",
                   "predicted": "ask_treatment", "kind": {"oos_medical": "declined", "in_scope": "answered"}.get(source, "facts"),
                   "medical": source != "oos_medical", "correct": ok, "reply": "I don't have information on x in our clinic's documents."}
            if source == "oos_medical":
                row.update(subject="x", subject_kind="drug", names_subject=ok)
            rows.append(row)
    return rows


def _system(correct: dict, ready: float, rss: float) -> dict:
    load = {"turns": 10, "errors": 0, "p50_ms": 20.0, "p95_ms": 40.0, "p99_ms": 50.0, "mean_ms": 22.0, "throughput_rps": 30.0}
    return {"rows": _rows(correct), "multi_rows": [{"text": "m", "parts": ["a", "b"], "emergency": False, "correct": True, "reply": ""}],
            "load_1_user": [load], "load_20_users": [load], "ready_runs_s": [ready], "ready_cpu_runs_s": [ready / 2],
            "rss": {"after_load": {"rasa": {"rss_mb": rss, "peak_rss_mb": rss}, "actions": {"rss_mb": 150, "peak_rss_mb": 160}}},
            "rss_ready": {"rasa": {"rss_mb": rss - 10}}, "model_mb": 18.0, "latencies_1_user_ms": [40.0], "latencies_20_users_ms": [40.0]}


def _training(seconds: float) -> dict:
    return {"wall": [seconds], "cpu": [seconds * 1.2], "load_before": [1.0], "load_after": [1.5], "waited_s": [0], "model": "m", "config": "c"}


def _raw() -> dict:
    good = {"test_nlu": [True] * 19 + [False], "real": [True] * 17 + [False] * 3, "real_style": [True] * 10, "term": [True] * 5,
            "in_scope": [True] * 5, "oos_medical": [True] * 19 + [False]}
    worse = {**good, "real": [True] * 15 + [False] * 5}
    reference, other = "ours", "logreg"  # ours plays today's DIET pipeline; the lighter one is 10 points lower on real questions
    return {
        "systems": {"ours": _system(good, 25.0, 1300), other: _system(worse, 6.0, 600), "default_pipeline": _system(good, 26.0, 1350)},
        "training": {"ours": _training(180), other: _training(20), "default_pipeline": _training(280)},
        "bm25": {"rows": [r for r in _rows(good) if r["source"] != "in_scope"], "passages": 97, "p95_query_ms": 0.2, "index_build_ms": 3},
        "store": {"cold_first_build_s": 2.0, "points": [{"documents": 3, "seconds": 0.5, "runs": [0.5]}]},
        "lexicon": {"mean_ms": 0.3, "p95_ms": 0.5, "rss_mb_lexicon": 120, "build_s": 3.0, "spellings": 40000},
        "safety": {"table": {"emergency": {"rows": 2, "caught": 2, "sensitivity": 1.0, "categories": {"sepsis": {"rows": 2, "caught": 2, "right_category": 2, "sensitivity": 1.0}}},
                             "urgent": {"rows": 1, "caught": 1, "sensitivity": 1.0, "categories": {"suspected_gca": {"rows": 1, "caught": 1, "right_category": 1, "sensitivity": 1.0}}},
                             "none": {"rows": 3, "false_emergency": 0, "false_urgent": 0, "fired": [], "specificity": 1.0}, "misses": []},
                   "false_alarms": {"in_scope": 100, "by_source": {"real": 100}, "emergency_alarms": 1, "urgent_alarms": 0,
                                    "emergency_alarm_rate": 0.01, "urgent_alarm_rate": 0.0, "fired": [], "nlu_emergency_examples": 1, "nlu_emergency_caught": 1},
                   "dev_set": None,
                   "cost": {"messages": {"cpu": {"messages": 10, "mean_ms": 0.6, "p95_ms": 1.4, "max_ms": 4.0}},
                            "hostile": {"cpu": {"messages": 10, "mean_ms": 5.0, "p95_ms": 14.0, "max_ms": 25.0}, "max_chars": 25000}}},
        "report_speed": {"conversations": 10000, "report_s": 12.5, "cli_s": 20.1, "met": True},
        "reference": reference,
        "questions": [{"source": r["source"]} for r in _rows(good)],
        "multi_questions": 1,
    }


def test_assembled_results_hold_every_figure_and_choose_by_the_rule():
    results = metrics.assemble(_raw())
    s = results["summary"]
    assert s["accuracy_real"] == pytest.approx(0.85) and s["decline_oos_medical"] == pytest.approx(0.95)
    assert s["names_oos_medical"] == pytest.approx(0.95) and s["answered_in_scope"] == 1.0 and s["accuracy_multi"] == 1.0
    assert math.isnan(s["answered_in_scope_bm25"])  # a search box always shows something: not scored there
    assert s["safety_false_alarm_rate"] == pytest.approx(0.01) and s["report_speed_cli_s"] == 20.1
    # the lighter pipeline is 10 points lower on real questions: DIET stays
    assert results["pipeline_choice"]["chosen"] == results["pipeline_choice"]["reference"]
    met = {key: target["met"] for key, target in results["targets"].items()}
    assert met["accuracy_real"] is True and met["decline_oos_medical"] is True and met["ready"] is False
    assert met["lexicon_ms"] is True and met["false_alarms"] is True and met["report_speed"] is True
    assert results["per_source"]["ours"]["real"] == {"n": 20, "correct": 17, "errors": 3, "accuracy": pytest.approx(0.85)}
    assert set(TARGETS) == set(results["targets"])


def test_report_says_what_was_chosen_with_the_numbers():
    results = metrics.assemble(_raw())
    results.update(generated="now", machine={"cpus": 2, "load_avg_at_end": [1, 1, 1]})
    plots = {"latency": "l.png", "store": "s.png", "accuracy": "a.png", "pipelines": "p.png"}
    text = report.markdown(results, plots)
    assert "**NLU pipeline: keep DIET.** No lighter pipeline holds accuracy within 1 point of DIET's" in text
    assert "real questions 75.0% (-10.0 points)" in text
    assert "| out-of-scope medical questions declined >= 95% | 10 | 95.0% (naming the subject: 95.0%) | yes |" in text
    assert "## Choosing the NLU pipeline (issue 15)" in text and "![NLU pipelines](p.png)" in text
    assert "| emergency / sepsis | 2/2 | 2 | 100.0% |" in text
    assert "| ready (launch to first answer) <= 10 s | 15 | 25.0 s | **no** |" in text
    assert "(load average 1.0 → 1.5)" in text


def test_when_to_see_a_doctor_about_something_other_than_hip_pain_may_be_an_honest_gap():
    gap = "I don't have information on when to see a doctor for multiple sclerosis in our clinic's documents."
    assert bot_correct(expectation_for("ask_when_to_see_doctor", "multiple sclerosis", "autoimmune", None), gap)
    assert bot_correct(expectation_for("ask_when_to_see_doctor", None, None, "nerve"), gap.replace("multiple sclerosis", "nerve pain"))
    assert not bot_correct(expectation_for("ask_when_to_see_doctor", None, None, "hip"), gap.replace("multiple sclerosis", "hip pain"))


# -- new-document recall (issue 20): the held-out documents and their questions -------------------------
def test_the_new_document_questions_load_and_each_names_facts_its_document_really_says():
    from bench.heldout import NEW_DOCUMENTS, ROOT, document_title, new_document_questions

    items = new_document_questions()
    documents = sorted(p.name for p in NEW_DOCUMENTS.glob("*.txt"))
    assert 12 <= len(items) <= 20 and 2 <= len(documents) <= 3
    assert {item.document for item in items} == set(documents)  # every document asked about, no other file named
    intents = set(yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["intents"])
    for item in items:
        text = (NEW_DOCUMENTS / item.document).read_text(encoding="utf-8")
        assert item.title == document_title(NEW_DOCUMENTS / item.document) == text.splitlines()[0].strip()
        assert item.question.intent in intents and item.question.expect.kind == "facts" and item.question.expect.groups
        assert item.subject.lower() in text.lower(), item
        for phrases, n in item.question.expect.groups:
            assert 1 <= n <= len(phrases)
            for phrase in phrases:  # every phrase, not only n of them: the set cannot drift from the text
                assert bot_correct(facts(([phrase], 1)), f"“{text}”"), (item.question.text, phrase)


def test_the_new_documents_are_on_topics_the_vocabulary_does_not_list_and_are_not_the_tests_documents():
    from bench.heldout import NEW_DOCUMENTS, new_document_questions
    from bot.vocabulary import load_vocabulary, normalize
    from tests.bot.test_new_documents import NEW_DOCUMENTS as TEST_DOCUMENTS

    vocabulary = load_vocabulary()
    spellings = {normalize(s) for c in vocabulary.conditions for s in (*c.spellings(), *c.abbreviations)}
    spellings |= {normalize(s) for p in vocabulary.pain_types for s in p.spellings()}
    subjects = {item.subject for item in new_document_questions()}
    assert len(subjects) >= 6
    for subject in subjects:  # the new conditions, pain sites and terms asked about
        assert normalize(subject) not in spellings, subject
        assert normalize(subject).rstrip("s") not in spellings, subject
    test_titles = {text.splitlines()[0] for text in TEST_DOCUMENTS.values()}
    for path in NEW_DOCUMENTS.glob("*.txt"):
        text = path.read_text(encoding="utf-8")
        assert text.splitlines()[0] not in test_titles and "scleritis" not in text.lower() and "fasciitis" not in text.lower()


def test_the_new_document_section_shows_times_recall_and_what_failed():
    rows = [{"text": "what is relapsing polychondritis", "document": "042.txt", "predicted": "ask_condition_info", "facts": True,
             "cites": False, "correct": False, "reply": "..."},
            {"text": "which conditions cause nose pain?", "document": "042.txt", "predicted": "ask_conditions_for_pain", "facts": True,
             "cites": True, "correct": True, "reply": "..."}]
    raw = {"documents_added": ["040.txt", "041.txt", "042.txt"], "documents_total": 6, "questions": 2, "store_build_s": 5.94,
           "nlu_export_s": 0.71, "training_s": 301.2, "training_cpu_s": 420.0, "model_before": "models/clinic-assistant.tar.gz",
           "recall_before": 0.0, "recalled_before": 0, "recall_after": 0.5, "recalled_after": 1, "rows_after": rows}
    text = "\n".join(report.new_documents_section(raw))
    assert "## New-document recall (issue 20)" in text
    assert "| 3 (of 6) | 5.9 | 0.7 | 301 (420 CPU) | 0/2 (0.0%) | **1/2 (50.0%)** |" in text
    assert "- “what is relapsing polychondritis” (042.txt; intent ask_condition_info; no citation)" in text
    assert "nose pain" not in text  # a question answered from its document is not listed
    assert "Not measured: RuntimeError: boom" in "\n".join(report.new_documents_section({"error": "RuntimeError: boom"}))
