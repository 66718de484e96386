"""Generated corpora for the store-build benchmark, and timing of ``bot.ingest.build_store``.

A generated document recombines lines and sentences of the real documents and swaps the condition
and pain names in them for others from data/vocabulary.yml, so the ingestion does the same work
(spaCy, matching, facts) on text it has not seen, at any corpus size.
"""
from __future__ import annotations

import random
import re
import time
from pathlib import Path
from typing import Dict, List, Sequence

import yaml

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = ROOT / "data" / "documents"
VOCABULARY = ROOT / "data" / "vocabulary.yml"
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def _names(vocabulary: Path) -> Dict[str, List[str]]:
    data = yaml.safe_load(vocabulary.read_text(encoding="utf-8"))
    conditions = [c["name"] for c in data["conditions"] if c.get("group") != "umbrella"]
    sites = [s for p in data["pain_types"] for s in p.get("sites", []) if " " not in s]
    return {"conditions": conditions, "sites": sites}


def _units(documents: Path) -> List[str]:
    """Sentences and list lines of the real documents (titles and metadata lines left out)."""
    units = []
    for path in sorted(documents.glob("*.txt")):
        lines = [text.strip() for text in path.read_text(encoding="utf-8").splitlines() if text.strip()]
        for line in lines[1:]:
            if len(line) < 25 and not line.startswith("- "):
                continue  # dates, labels
            units.extend(_SENTENCE.split(line) if not line.startswith("- ") else [line])
    return units


def generate_documents(target: Path, count: int, seed: int = 7, documents: Path = DOCUMENTS, vocabulary: Path = VOCABULARY) -> List[Path]:
    """Write ``count`` documents of about the real ones' size into ``target``; deterministic for a seed."""
    rng = random.Random(seed)
    names = _names(vocabulary)
    units = _units(documents)
    known_conditions = sorted(set(names["conditions"]) | {"lupus", "RA", "SLE", "AS", "PsA", "MS"}, key=len, reverse=True)
    condition_re = re.compile(r"\b(" + "|".join(re.escape(c) for c in known_conditions) + r")\b", re.I)
    site_re = re.compile(r"\b(" + "|".join(re.escape(s) for s in sorted(set(names["sites"]), key=len, reverse=True)) + r")\b", re.I)
    target.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        condition_map: Dict[str, str] = {}
        site_map: Dict[str, str] = {}

        def swap_condition(m: re.Match) -> str:
            return condition_map.setdefault(m.group(0).lower(), rng.choice(names["conditions"]))

        def swap_site(m: re.Match) -> str:
            return site_map.setdefault(m.group(0).lower(), rng.choice(names["sites"]))

        site = rng.choice(names["sites"])
        title = f"What autoimmune disease causes {site} pain"
        body: List[str] = [f"{title} {site_re.sub(swap_site, condition_re.sub(swap_condition, rng.choice(units)))}"]
        paragraph: List[str] = []
        while sum(len(b) for b in body) + sum(len(p) for p in paragraph) < 3200:
            unit = site_re.sub(swap_site, condition_re.sub(swap_condition, rng.choice(units)))
            if unit.startswith("- "):
                if paragraph:
                    body.append(" ".join(paragraph))
                    paragraph = []
                body.append(unit)
            else:
                paragraph.append(unit)
                if len(paragraph) >= rng.randint(2, 5):
                    body.append(" ".join(paragraph))
                    paragraph = []
        if paragraph:
            body.append(" ".join(paragraph))
        path = target / f"gen_{i:05d}.txt"
        path.write_text(title + "\n" + "\n".join(body) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def time_store_build(documents: Path, database: Path) -> float:
    """Seconds for a full build of a fresh SQLite store from ``documents`` (extractor load included)."""
    from bot.db import engine_for
    from bot.ingest import build_store

    if database.exists():
        database.unlink()
    engine = engine_for(f"sqlite:///{database}")
    started = time.perf_counter()
    report = build_store(documents, engine=engine)
    elapsed = time.perf_counter() - started
    engine.dispose()
    if report.skipped:
        raise RuntimeError(f"store build skipped documents: {report.skipped[:3]}")
    return elapsed


def passages(database: Path) -> List[str]:
    """The text of every non-heading passage in a built store (what the search box indexes)."""
    from sqlalchemy import select

    from bot.db import engine_for, session_factory
    from bot.models import Passage

    engine = engine_for(f"sqlite:///{database}")
    with session_factory(engine)() as session:
        rows = session.execute(select(Passage.text, Passage.kind).order_by(Passage.document_id, Passage.ordinal)).all()
    return [text for text, kind in rows if kind != "heading"]


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    n = len(ordered)
    return ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2
