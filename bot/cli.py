"""Command line: ``python -m bot build-store | query ... | export-nlu``.

``build-store`` says, per document, what the store found in it (``--json`` for the full report);
``query`` prints JSON; ``export-nlu`` writes the NLU lookup tables and synonyms for what the store
recognises (data/vocabulary.yml plus the names the documents taught it)."""
from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import asdict
from pathlib import Path
from typing import List, Optional, Sequence

import yaml

from bot import settings


def _fact_kinds() -> List[str]:
    with settings.fact_rules_path().open(encoding="utf-8") as handle:
        return list(yaml.safe_load(handle)["fact_kinds"])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    build = commands.add_parser("build-store", help="(re)build the condition store from the documents")
    build.add_argument("--documents", type=Path, default=None, help="documents folder (default: data/documents)")
    build.add_argument("--json", action="store_true", help="print the full report as JSON")

    staff = commands.add_parser("report", help="staff report: unanswered questions, answers marked not helpful, counts per topic and day")
    staff.add_argument("--days", type=int, default=30, help="the last N days (default 30; never past the retention period)")
    staff.add_argument("--out", type=Path, default=None, help="folder for staff-report.html / .csv (default: reports/staff)")
    staff.add_argument("--nlu-candidates", action="store_true", help="also nlu-candidates.yml: unanswered wordings as Rasa NLU data to review")
    staff.add_argument("--endpoints", type=Path, default=None, help="Rasa endpoints file (default: RASA_ENDPOINTS, else endpoints.yml)")

    export = commands.add_parser("export-nlu", help="write Rasa lookup tables and synonyms for what the store recognises")
    export.add_argument("--output", type=Path, required=True)
    export.add_argument("--with-terms", action="store_true", help="also a `term` lookup table (the store's term index)")

    query = commands.add_parser("query", help="ask the store; prints a JSON array")
    what = query.add_subparsers(dest="what", required=True)
    conditions = what.add_parser("conditions", help="conditions that cause a pain type")
    conditions.add_argument("--pain", required=True, help="pain type or body site, e.g. hip, bone, back")
    pains = what.add_parser("pains", help="pain types a condition causes")
    pains.add_argument("--condition", required=True, help="condition name or alias, e.g. lupus, RA")
    kinds = _fact_kinds()
    facts = what.add_parser("facts", help=f"statements of a kind; kinds: {', '.join(kinds)}")
    facts.add_argument("--kind", required=True, choices=kinds)
    facts.add_argument("--condition")
    facts.add_argument("--pain")
    term = what.add_parser("term", help="a term the documents explain or use, with its passages (defining first)")
    term.add_argument("--name", required=True, help="e.g. DMARDs, entheses, MRI")
    what.add_parser("documents", help="the documents in the store")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    from bot.db import DatabaseUnreachable

    try:
        return _run(args)
    except DatabaseUnreachable as error:
        print(str(error), file=sys.stderr)
        return 2


def _run(args) -> int:
    if args.command == "report":
        from bot.report import main as staff_report

        return staff_report(args.days, args.out, args.nlu_candidates, args.endpoints)
    if args.command == "build-store":
        from bot.extraction import lexicon_installed
        from bot.ingest import build_store

        report = build_store(args.documents)
        for name, reason in report.skipped:
            print(f"skipped {name}: {reason}", file=sys.stderr)
        if args.json:
            _print(report.as_dict())
        else:
            _print_build(report, lexicon_installed())
        for name in report.unanswerable:
            print(f"warning: {name}: nothing answerable was found in it (no condition, pain site or explained term), "
                  "so the assistant will not quote it", file=sys.stderr)
        return 0
    from bot.store import StoreNotBuilt, default_store

    store = default_store()
    if args.command == "export-nlu":
        try:
            _export_nlu(store, args.output, args.with_terms)
        except StoreNotBuilt as error:
            print(str(error), file=sys.stderr)
            return 2
        return 0
    try:
        _print(_query(store, args))
    except StoreNotBuilt as error:
        print(str(error), file=sys.stderr)
        return 2
    return 0


def _query(store, args) -> list:
    """The command line is an edge: it resolves the words it was given once, then asks by reference
    (an unknown name gives an empty list, never a broader answer)."""
    condition = store.resolve_condition(args.condition) if getattr(args, "condition", None) else None
    pain = store.resolve_pain_type(args.pain) if getattr(args, "pain", None) else None
    if (getattr(args, "condition", None) and condition is None) or (getattr(args, "pain", None) and pain is None):
        return []
    if args.what == "conditions":
        return [
            _with_evidence({"name": r.condition.name, "group": r.condition.group}, r.evidence)
            for r in store.conditions_for_pain(pain)
        ]
    if args.what == "pains":
        return [
            _with_evidence({"pain_type": r.pain_type.key, "name": r.pain_type.name}, r.evidence)
            for r in store.pains_for_condition(condition)
        ]
    if args.what == "term":
        found = store.resolve_term(args.name)
        if found is None:
            return []
        evidence = store.term_evidence(found)
        return [{**asdict(found), "defines": [e.text for e in evidence if e.defines], **_with_evidence({}, evidence)}]
    if args.what == "facts":
        return [
            {
                "kind": f.kind,
                "condition": f.condition.name if f.condition else None,
                "pain_type": f.pain_type.key if f.pain_type else None,
                "evidence": f.evidence.text,
                "document": f.evidence.document,
                "start": f.evidence.start,
                "end": f.evidence.end,
            }
            for f in store.facts(args.kind, condition=condition, pain=pain)
        ]
    return store.documents()


def _print_build(report, lexicon: bool) -> None:
    status = {**{n: "loaded" for n in report.loaded}, **{n: "unchanged" for n in report.unchanged}}
    print(f"condition store: {len(report.loaded)} loaded, {len(report.unchanged)} unchanged, "
          f"{len(report.removed)} removed, {len(report.skipped)} skipped"
          f" (medical lexicon {'installed' if lexicon else 'not installed: names are learned from definitions only'})")
    for name in report.removed:
        print(f"- {name} [removed]")
    for name, summary in report.documents.items():
        print(f"- {name} [{status.get(name, 'kept')}] {summary.title}")
        lines = [
            ("conditions", summary.conditions),
            ("pain sites", summary.pain_types),
            ("terms explained", summary.terms_defined),
            ("terms used", summary.terms_used),
            ("learned conditions (not in data/vocabulary.yml)", summary.learned_conditions),
            ("learned pain sites (not in data/vocabulary.yml)", summary.learned_sites),
        ]
        for label, names in lines:
            if names:
                print(f"    {label}: {', '.join(names)}")


def _export_nlu(store, output: Path, with_terms: bool) -> None:
    """Lookup tables and synonyms for every spelling the store recognises: the clinic's vocabulary
    plus the names its documents taught it (so `make store && make train` is all a clinic runs)."""
    from bot.vocabulary import load_vocabulary, nlu_training_data, with_learned

    vocabulary = with_learned(load_vocabulary(), store.learned_names())
    data = nlu_training_data(vocabulary)
    if with_terms:
        data["nlu"].append({"lookup": "term", "examples": "".join(f"- {s}\n" for s in store.term_spellings())})
    output.parent.mkdir(parents=True, exist_ok=True)
    header = ("# GENERATED by `python -m bot export-nlu` from the condition store (data/vocabulary.yml and the names\n"
              "# the documents taught it): edit data/vocabulary.yml or the documents, then `make store`, not this file.\n")
    output.write_text(header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000), encoding="utf-8")


def _with_evidence(fields: dict, evidence) -> dict:
    """The best passage as ``evidence`` / ``document``, and every passage under ``sources``."""
    return {**fields, "evidence": evidence[0].text, "document": evidence[0].document, "sources": [asdict(e) for e in evidence]}


def _print(value) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
