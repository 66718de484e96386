"""Step 1 of ingestion: read a source document and lay out its structure.

A document is plain UTF-8 text: a title line, paragraphs, sometimes headings and "- " lists, metadata
lines ("Release date:" / a date on the next line, possibly with a label in another script), the title
repeated at the start of the first paragraph, and trailing blank lines. This step finds those parts
and their character offsets; it knows nothing about medicine.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Tuple

MAX_DOCUMENT_BYTES = 2 * 1024 * 1024  # far above any FAQ article; beyond it is a mistake, not a document
DOCUMENT_SUFFIXES = (".txt", ".md")

_BULLET = re.compile(r"^\s*(?:[-*•▪◦‣]|\d{1,2}[.)])\s+")
_SENTENCE_END = (".", "!", "…", "。")
_DATE_FORMATS = ("%d %B %Y", "%d %b %Y", "%B %d, %Y", "%B %d %Y", "%Y-%m-%d", "%d/%m/%Y")
_RELEASE_LABEL = re.compile(r"\b(release|released|publish|published|posted)\b", re.I)


class DocumentError(ValueError):
    """A document that cannot be ingested (the message names the reason)."""


@dataclass(frozen=True)
class Block:
    """A line-level unit of the document body."""

    kind: str  # heading | list_item | paragraph
    text: str
    start: int
    end: int


@dataclass
class ParsedDocument:
    path: str
    title: str
    text: str
    checksum: str
    release_date: Optional[dt.date] = None
    updated_date: Optional[dt.date] = None
    blocks: List[Block] = field(default_factory=list)


def read_document(path: Path, name: str) -> ParsedDocument:
    """Read and validate one file; raise DocumentError with a clear reason if it is not a document."""
    try:
        size = path.stat().st_size
    except OSError as error:
        raise DocumentError(f"cannot read: {error.strerror}") from error
    if size > MAX_DOCUMENT_BYTES:
        raise DocumentError(f"too large ({size:,} bytes; the limit is {MAX_DOCUMENT_BYTES:,})")
    raw = path.read_bytes()
    if b"\x00" in raw:
        raise DocumentError("binary file (contains NUL bytes), not text")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DocumentError(f"not UTF-8 text (invalid byte at position {error.start})") from error
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    controls = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\n\t")
    if controls > max(10, len(text) // 100):
        raise DocumentError("binary-looking file (too many control characters), not text")
    if not text.strip():
        raise DocumentError("empty document")
    return parse_text(text, name, hashlib.sha256(raw).hexdigest())


def parse_text(text: str, name: str, checksum: str) -> ParsedDocument:
    lines = _lines_with_offsets(text)
    document = ParsedDocument(path=name, title="", text=text, checksum=checksum)
    body: List[Tuple[str, int, int]] = []
    index = 0
    while index < len(lines):
        line, start, end = lines[index]
        following = lines[index + 1][0] if index + 1 < len(lines) else ""
        if line.endswith(":") and _parse_date(following):  # "Release date:" then "15 December 2025"
            _set_date(document, line, _parse_date(following))
            index += 2
            continue
        label, _, value = line.rpartition(":")
        if label and _parse_date(value):  # "Updated: 16 December 2025"
            _set_date(document, label, _parse_date(value))
        elif _parse_date(line) or not _is_mostly_latin(line):
            pass  # a bare date, or a line in another script: metadata, not English content
        else:
            body.append((line, start, end))
        index += 1
    if not body:
        raise DocumentError("no readable English text")
    title_index = next((i for i, (line, _, _) in enumerate(body) if _looks_like_title(line)), 0)
    document.title = _strip_bullet(body[title_index][0]).rstrip(":?").strip()[:500]
    document.blocks = _blocks(body, title_index, document.title)
    if not document.blocks:
        raise DocumentError("only a title, no content")
    return document


def _lines_with_offsets(text: str) -> List[Tuple[str, int, int]]:
    """Non-blank lines, stripped, with the offsets of the stripped text."""
    out = []
    for match in re.finditer(r"[^\n]+", text):
        raw = match.group()
        stripped = raw.strip()
        if not stripped:
            continue
        start = match.start() + (len(raw) - len(raw.lstrip()))
        out.append((stripped, start, start + len(stripped)))
    return out


def _blocks(body: List[Tuple[str, int, int]], title_index: int, title: str) -> List[Block]:
    blocks: List[Block] = []
    for i, (line, start, end) in enumerate(body):
        if i == title_index:
            continue
        if i == title_index + 1 and line.startswith(title) and len(line) > len(title):
            # The title repeated at the start of the first paragraph: keep only what follows it.
            rest = line[len(title):]
            skip = len(title) + (len(rest) - len(rest.lstrip(" ?:.-–—")))
            line, start = line[skip:], start + skip
        bullet = _BULLET.match(line)
        next_line = body[i + 1][0] if i + 1 < len(body) else None
        if bullet:
            blocks.append(Block("list_item", line[bullet.end():], start + bullet.end(), end))
        elif next_line is not None and _looks_like_heading(line):
            blocks.append(Block("heading", line, start, end))
        else:
            blocks.append(Block("paragraph", line, start, end))
    return blocks


def _looks_like_title(line: str) -> bool:
    return len(line) <= 200 and not line.endswith(_SENTENCE_END) and not _BULLET.match(line)


def _looks_like_heading(line: str) -> bool:
    """Short lines without closing punctuation ("Joint pain", "Why is ... difficult to diagnose?")."""
    words = len(line.split())
    if line.endswith(_SENTENCE_END + (":", ",", ";")):
        return False
    return words <= 14 if not line.endswith("?") else words <= 16


def _strip_bullet(line: str) -> str:
    bullet = _BULLET.match(line)
    return line[bullet.end():] if bullet else line


def _parse_date(text: str) -> Optional[dt.date]:
    text = " ".join(text.strip().strip(".").split())
    if not text or len(text) > 40:
        return None
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _set_date(document: ParsedDocument, label: str, date: Optional[dt.date]) -> None:
    # "Release date" (or "published") is the release; any other label, in any script, is an update.
    if _RELEASE_LABEL.search(label) and document.release_date is None:
        document.release_date = date
    elif document.updated_date is None:
        document.updated_date = date


def _is_mostly_latin(line: str) -> bool:
    letters = [ch for ch in line if ch.isalpha()]
    if not letters:
        return False
    latin = sum(1 for ch in letters if "LATIN" in unicodedata.name(ch, ""))
    return latin / len(letters) >= 0.5
