"""Smoke tests for the benchmark code (make bench): tiny inputs, no training, no servers."""
from __future__ import annotations

import json

import pytest

from bench.bm25 import BM25, tokenize
from bench.expectations import (NO_INFO, Expectation, bot_correct, expectation_for, facts, quoted_lines,
                                search_correct)
from bench.load import percentile
from bench.metrics import TARGETS, intent_scores, summarize_profile

PASSAGES = [
    "Rheumatoid arthritis (RA) primarily targets the synovial membranes lining the joints.",
    "Lupus-associated hip pain may result from inflammation of the joint.",
    "Chronic stress can increase inflammation.",
]


def test_bm25_ranks_the_passage_that_shares_rare_terms_first():
    index = BM25(PASSAGES)
    assert index.search("what does stress do", k=3)[0][0] == 2
    assert index.search("can lupus make my hips hurt")[0][0] == 1
    assert index.search("tell me a joke") == []  # no shared term: the search box shows nothing


def test_tokenize_drops_stopwords_and_plural_s():
    assert tokenize("What are the HIPS telling?") == ["hip", "telling"]


def test_expectations_follow_the_documents_not_the_bot():
    assert expectation_for("ask_conditions_for_pain", None, None, "knee") == NO_INFO
    assert expectation_for("ask_condition_info", "gout", "other", None) == NO_INFO
    exp = expectation_for("ask_condition_causes_pain", "systemic lupus erythematosus", "autoimmune", "hip")
    assert exp.kind == "facts" and bot_correct(exp, "Yes.\n• “Lupus-associated hip pain may result from inflammation.”")
    assert expectation_for("emergency", None, None, None).markers == ("911",)


def test_facts_are_checked_in_quoted_lines_only():
    exp = facts((["osteoporosis"], 1))
    assert not bot_correct(exp, "I don't have information on osteoporosis in our clinic's documents.")
    assert bot_correct(exp, "Here:\n• “Corticosteroids can increase the risk of osteoporosis.”")
    assert quoted_lines("a\n• b\nc") == "• b"


def test_abbreviations_match_whole_words_in_their_case():
    exp = facts((["AS"], 1))
    assert search_correct(exp, ["Over time, AS can result in new bone formation."])
    assert not search_correct(exp, ["It is associated with pain, as such."])


def test_search_box_is_right_on_no_information_only_when_it_shows_nothing():
    assert search_correct(NO_INFO, [])
    assert not search_correct(NO_INFO, ["Some passage."])
    assert not search_correct(Expectation("reply", markers=("911",)), ["Call 911"])


def test_expectation_json_round_trip():
    exp = facts((["a", "b"], 2), (["c"], 1))
    assert Expectation.from_json(json.loads(json.dumps(exp.to_json()))) == exp


def test_intent_scores_count_fallback_as_out_of_scope():
    rows = [
        {"gold": "out_of_scope", "predicted": "nlu_fallback"},
        {"gold": "greet", "predicted": "greet"},
        {"gold": "ask_stress", "predicted": "out_of_scope"},
    ]
    scores = intent_scores(rows)
    assert scores["oos_recall"] == 1.0 and scores["oos_precision"] == 0.5
    assert scores["intent_accuracy"] == pytest.approx(2 / 3)


def test_percentile_interpolates():
    assert percentile([10, 20, 30, 40], 50) == 25
    assert percentile([5], 95) == 5


def test_targets_check_a_summary():
    summary = {"p95_ms": 40, "p95_ms_default_pipeline": 100, "ready_s": 20, "rss_mb_rasa": 700, "train_s": 30,
               "accuracy": 0.9, "accuracy_bm25": 0.2}
    met = {key: check(summary) for key, (_, check) in TARGETS.items()}
    assert met == {"p95_1_user": True, "p95_vs_default": True, "ready": False, "rss_rasa": True, "train": True,
                   "accuracy_vs_bm25": True, "accuracy_95": False}


def test_profile_summary_reads_collapsed_stacks(tmp_path):
    raw = tmp_path / "p.txt"
    raw.write_text("main (a.py:1);handle (b.py:2);parse (c.py:3) 3\nmain (a.py:1);handle (b.py:2) 1\n")
    summary = summarize_profile(raw)
    assert summary["samples"] == 4
    assert summary["busy_samples"] == 4
    assert {"function": "parse (c.py)", "pct": 75.0} in summary["inclusive_pct"]


def test_report_writer_on_tiny_results(tmp_path, monkeypatch):
    from bench import report

    monkeypatch.setattr(report, "_plots", lambda results, systems, out: {"latency": "l.png", "store": "s.png", "accuracy": "a.png"})
    side = {"accuracy": 0.9, "accuracy_test_nlu": 0.95, "accuracy_real": 0.8, "accuracy_medical": 0.85, "accuracy_facts": 0.9,
            "accuracy_no_info": 0.8, "accuracy_decline": 1.0, "accuracy_restricted": 1.0, "accuracy_reply": 1.0,
            "intent_accuracy": 0.9, "intent_macro_f1": 0.88, "oos_recall": 0.7, "oos_precision": 0.9, "oos_questions": 3,
            "p50_ms": 20, "p95_ms": 40, "p99_ms": 60, "p50_ms_20_users": 200, "p95_ms_20_users": 400, "p99_ms_20_users": 500,
            "throughput_rps_1_user": 40, "throughput_rps_20_users": 60, "ready_s": 12, "rss_mb_rasa": 700, "rss_mb_actions": 150,
            "peak_rss_mb_rasa": 720, "peak_rss_mb_actions": 160, "train_s": 50, "model_mb": 18, "errors": 0}
    bm25 = {"accuracy": 0.2, "accuracy_test_nlu": 0.2, "accuracy_real": 0.1, "accuracy_medical": 0.3, "accuracy_facts": 0.3,
            "accuracy_no_info": 0.1, "accuracy_decline": 0.5, "accuracy_restricted": 0.0, "accuracy_reply": 0.0,
            "passages": 97, "p95_query_ms": 0.2, "index_build_ms": 3}
    summary = {**{k: v for k, v in side.items()}, **{f"{k}_default_pipeline": v for k, v in side.items()},
               "accuracy_bm25": 0.2, "questions": 10, "questions_real": 4}
    results = {
        "summary": summary, "detail": {"ours": side, "default_pipeline": side, "bm25": bm25},
        "targets": {key: {"target": label, "met": check(summary)} for key, (label, check) in TARGETS.items()},
        "per_intent": {n: {"greet": {"n": 1, "intent_accuracy": 1.0, "answer_accuracy": 1.0}} for n in ("ours", "default_pipeline", "bm25")},
        "confusions": {"ours": [], "default_pipeline": [{"gold": "a", "predicted": "b", "count": 1}]},
        "store_build": {"cold_first_build_s": 2.0, "points": [{"documents": 3, "seconds": 0.5, "runs": [0.5]}]},
        "profile": None, "generated": "now", "machine": {"cpus": 2, "load_avg_at_end": [1, 1, 1]},
    }
    text = report.markdown(results, {"latency": "l.png", "store": "s.png", "accuracy": "a.png"})
    assert "| answer accuracy >= 3 x the search box's | 90.0% vs 20.0% (4.5x) | yes |" in text
    assert "ready (start to first answer) <= 15 s | 12.0 s | yes" in text
    assert "| a → b (1)" not in text and "a → b (1)" in text
