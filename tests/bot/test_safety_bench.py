"""bench/safety.py on tiny inputs: the numbers it reports mean what they say (no servers, no training)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from bench.safety import cost_summary, false_alarms, format_report, hostile_messages, table_sensitivity
from bot.safety import SafetyScreen, default_screen

ROWS = [
    {"tier": "emergency", "category": "seizure", "text": "my son is having a seizure"},
    {"tier": "emergency", "category": "seizure", "text": "my son had a seizure as a child"},  # a miss: history
    {"tier": "urgent", "category": "suspected_gca", "text": "my jaw aches when I chew"},
    {"tier": "none", "text": "what helps stiff hands"},
    {"tier": "none", "text": "I can't breathe"},  # a false emergency
]


@pytest.fixture(scope="module")
def screen() -> SafetyScreen:
    return default_screen()


def test_table_sensitivity_counts_catches_misses_and_false_alarms(screen):
    report = table_sensitivity(screen, ROWS)
    assert report["emergency"]["categories"]["seizure"] == {"rows": 2, "caught": 1, "right_category": 1, "sensitivity": 0.5}
    assert report["urgent"]["sensitivity"] == 1.0
    assert (report["none"]["rows"], report["none"]["false_emergency"], report["none"]["false_urgent"]) == (2, 1, 0)
    assert [m["expected"] for m in report["misses"]] == ["emergency/seizure"]


def test_false_alarms_count_in_scope_questions_only(screen):
    questions = [SimpleNamespace(text="what causes hip pain", intent="ask_conditions_for_pain", source="real"),
                 SimpleNamespace(text="my chest is crushing", intent="ask_symptoms", source="real"),
                 SimpleNamespace(text="i feel like killing myself", intent="emergency", source="test_nlu"),
                 SimpleNamespace(text="i can't breathe, tell me a joke", intent="out_of_scope", source="test_nlu")]
    report = false_alarms(screen, questions)
    assert (report["in_scope"], report["emergency_alarms"], report["emergency_alarm_rate"]) == (2, 1, 0.5)
    assert (report["nlu_emergency_examples"], report["nlu_emergency_caught"]) == (1, 1)
    assert report["fired"][0]["emergency"] == "chest_pain_breathing"


def test_cost_summary_and_the_report_text():
    assert cost_summary([1.0, 2.0, 3.0, 4.0]) == {"messages": 4, "mean_ms": 2.5, "p95_ms": 4.0, "max_ms": 4.0}
    cost = {"wall": cost_summary([1.0]), "cpu": cost_summary([0.5])}
    report = {"table": {"emergency": {"rows": 0, "caught": 0, "sensitivity": None, "categories": {}},
                        "urgent": {"rows": 0, "caught": 0, "sensitivity": None, "categories": {}},
                        "none": {"rows": 0, "false_emergency": 0, "false_urgent": 0, "specificity": None, "fired": []},
                        "misses": []},
              "false_alarms": {"in_scope": 0, "by_source": {}, "emergency_alarms": 0, "emergency_alarm_rate": None,
                               "urgent_alarms": 0, "urgent_alarm_rate": None, "fired": [], "nlu_emergency_caught": 0,
                               "nlu_emergency_examples": 0},
              "dev_set": None, "cost": {"messages": cost, "hostile": cost, "load_average": 1.0}}
    text = format_report(report)
    assert "sensitivity n/a" in text and "development questions: not found" in text and "max 1.0 ms" in text


def test_hostile_messages_are_reproducible_and_bounded():
    assert hostile_messages(50) == hostile_messages(50)
    assert max(len(m) for m in hostile_messages(50)) == 25_000
