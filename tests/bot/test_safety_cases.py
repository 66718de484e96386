"""The table of real-style messages (tests/bot/safety_cases.yml): every row gets its tier and category.

Emergencies: red_flag() reports the category, screen() the emergency, and urgent() stays silent (an
emergency is never downgraded to "see a doctor today"). Urgent: no red flag, urgent() reports the
category. None: neither fires (history, negation, information questions, ordinary questions).
A row with `restricted:` also gets that restricted request (its kind), or none at all.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Dict, List

import pytest
import yaml

from bot.safety import SafetyScreen, default_screen

CASES_FILE = Path(__file__).with_name("safety_cases.yml")


def load_cases(path: Path = CASES_FILE) -> List[Dict[str, Any]]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]


CASES = load_cases()


@pytest.fixture(scope="module")
def screen() -> SafetyScreen:
    return default_screen()


RESTRICTED_KINDS = ("medication_change", "dose_request", "diagnosis_request")
RESTRICTED = [case for case in CASES if "restricted" in case]


def _id(case: Dict[str, Any]) -> str:
    return f"{case['tier']}-{case.get('category') or case.get('note', 'ordinary')}"


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_every_row_gets_its_tier_and_category(screen, case):
    text = case["text"]
    red, urgent = screen.red_flag(text), screen.urgent(text)
    if case["tier"] == "emergency":
        assert red is not None, f"missed emergency: {text!r}"
        assert (red.kind, red.category) == ("emergency", case["category"]), f"{red} for {text!r}"
        assert screen.screen(text) == red
        assert urgent is None, "an emergency must never also be reported as urgent"
    elif case["tier"] == "urgent":
        assert red is None, f"false emergency {red} for {text!r}"
        assert urgent is not None, f"missed urgent: {text!r}"
        assert (urgent.kind, urgent.category) == ("urgent", case["category"]), f"{urgent} for {text!r}"
    else:
        assert red is None, f"false emergency {red} for {text!r}"
        assert urgent is None, f"false urgent {urgent} for {text!r}"


def test_the_table_is_big_enough_and_covers_every_category(screen):
    tiers = Counter(case["tier"] for case in CASES)
    assert tiers["emergency"] >= 80 and tiers["urgent"] >= 30 and tiers["none"] >= 90, tiers
    assert len(CASES) >= 200
    per_category = Counter(case.get("category") for case in CASES if case["tier"] != "none")
    for category in list(screen.red_flag_categories) + list(screen.urgent_categories):
        assert per_category[category] >= 3, f"{category} has only {per_category[category]} rows"
    notes = Counter(case.get("note") for case in CASES if case["tier"] == "none")
    assert notes["history"] >= 10 and notes["negation"] >= 10 and notes["info question"] >= 20, notes


def test_rows_are_unique_and_well_formed():
    texts = [case["text"] for case in CASES]
    assert len(texts) == len(set(texts))
    for case in CASES:
        assert case["tier"] in ("emergency", "urgent", "none"), case
        assert bool(case.get("category")) == (case["tier"] != "none"), case


@pytest.mark.parametrize("case", RESTRICTED, ids=[f"restricted-{c['restricted']}" for c in RESTRICTED])
def test_restricted_rows_get_their_request_or_none(screen, case):
    text, expected = case["text"], case["restricted"]
    finding = screen.restricted_request(text)
    if expected == "none":
        assert finding is None, f"false restricted request {finding} for {text!r}"
        assert screen.screen(text) is None
    else:
        assert finding is not None, f"missed {expected}: {text!r}"
        assert (finding.kind, finding.category) == (expected, expected), f"{finding} for {text!r}"
        assert screen.screen(text) == finding


def test_restricted_rows_cover_requests_inside_stories_both_ways():
    per_kind = Counter(case["restricted"] for case in RESTRICTED)
    assert per_kind["medication_change"] >= 15 and per_kind["diagnosis_request"] >= 10, per_kind
    assert per_kind["none"] >= 25, per_kind
    for case in RESTRICTED:
        assert case["restricted"] in RESTRICTED_KINDS + ("none",), case
