"""Laying out a document: title, dates, headings, lists, the repeated title, other scripts."""
from __future__ import annotations

import datetime as dt

import pytest

from bot.documents import DocumentError, parse_text


def test_metadata_lines_become_dates_and_the_persian_label_is_not_content():
    text = "Release date:\n15 December 2025\nتاریخ بروزرسانی:\n16 December 2025\nTitle here\nA paragraph.\n\n\n"
    document = parse_text(text, "x.txt", "0" * 64)
    assert document.release_date == dt.date(2025, 12, 15)
    assert document.updated_date == dt.date(2025, 12, 16)
    assert document.title == "Title here"
    assert [b.text for b in document.blocks] == ["A paragraph."]


def test_the_title_repeated_at_the_start_of_the_first_paragraph_is_dropped():
    text = "What causes knee pain?\nWhat causes knee pain? Knee pain has many causes.\n"
    document = parse_text(text, "x.txt", "0" * 64)
    assert document.title == "What causes knee pain"
    block = document.blocks[0]
    assert block.text == "Knee pain has many causes." == text[block.start : block.end]


def test_headings_list_items_and_lead_ins():
    text = "Title\nJoint pain\n- Pain, swelling\n- Common in lupus\nChronic stress can:\n- Increase inflammation\nLast words.\n"
    document = parse_text(text, "x.txt", "0" * 64)
    assert [(b.kind, b.text) for b in document.blocks] == [
        ("heading", "Joint pain"),
        ("list_item", "Pain, swelling"),
        ("list_item", "Common in lupus"),
        ("paragraph", "Chronic stress can:"),
        ("list_item", "Increase inflammation"),
        ("paragraph", "Last words."),
    ]
    for block in document.blocks:
        assert text[block.start : block.end] == block.text


@pytest.mark.parametrize("text", ["Only a title\n", "\u0627\u0644\u0645\u0631\u0636\n15 December 2025\n"])
def test_documents_without_content_are_rejected(text):
    with pytest.raises(DocumentError):
        parse_text(text, "x.txt", "0" * 64)
