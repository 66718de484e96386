"""Bad input costs little (issue 12, item 4): the screen is linear-time, so no message, however hostile,
blocks the event loop. The one timed test of the suite: the issue asks for exactly this bound.

The messages come from bench.safety.hostile_messages (long runs of whitespace, "<", quotes, Unicode
separators and right-to-left marks, nested brackets, HTML, expanding ligatures, red-flag words packed
densely; up to 25,000 characters). What is timed is the processor time the screen itself uses
(time.thread_time: what blocks the event loop), not wall-clock time, which on a shared machine measures
the other processes too. A super-linear expression is slow every time, a busy processor cache only now
and then, so a message over the bound is timed twice more and its best time counts.
"""
from __future__ import annotations

import time

import pytest

from bench.safety import HOSTILE_MAX_CHARS, hostile_messages, screen_cost_ms
from bot.safety import SafetyFinding, SafetyScreen

BOUND_MS = 50.0
MESSAGES = hostile_messages(1200)


@pytest.fixture(scope="module")
def screen() -> SafetyScreen:
    screen = SafetyScreen()  # its own: nothing of another test's messages is cached
    screen.screen("warm up")
    return screen


def best_cost_ms(screen: SafetyScreen, text: str) -> float:
    cost = screen_cost_ms(screen, text, clock=time.thread_time)
    for retry in range(2):
        if cost < BOUND_MS:
            break
        # the same text once cleaned (a zero-width space is removed), so not a cached result
        cost = min(cost, screen_cost_ms(screen, text + "\u200b" * (retry + 1), clock=time.thread_time))
    return cost


def test_the_hostile_set_is_what_the_issue_asks_for():
    assert len(MESSAGES) >= 1000
    assert sum(len(m) == HOSTILE_MAX_CHARS for m in MESSAGES) >= 250
    for needle in (" " * 1000, "<" * 1000, '"' * 1000, "\u202e", "\u2028", "((((", "<script>", "\u200f"):
        assert any(needle in m for m in MESSAGES), needle


def test_every_hostile_message_is_screened_in_under_50_ms(screen):
    costs = [(best_cost_ms(screen, text), i) for i, text in enumerate(MESSAGES)]
    slow = [(round(c, 1), i, repr(MESSAGES[i][:40])) for c, i in costs if c >= BOUND_MS]
    worst = max(costs)
    assert not slow, f"{len(slow)} messages over {BOUND_MS} ms (worst {worst[0]:.1f} ms): {slow[:5]}"


def test_hostile_messages_get_an_answer_not_an_exception(screen):
    for text in MESSAGES[::7]:
        for finding in (screen.screen(text), screen.urgent(text), screen.red_flag(text)):
            assert finding is None or isinstance(finding, SafetyFinding)


def test_the_reported_slow_input_is_fast_now(screen):
    # issue 12: "<" followed by 20,000 spaces took over 1.5 s
    assert best_cost_ms(screen, "<" + " " * 20_000) < BOUND_MS
