"""The public medical lexicon: it names the subject of any medical question, exactly, and nothing else."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.lexicon import KINDS, LexiconDataError, MedicalLexicon, Subject, Term, _read_cache, _write_cache, build_lexicon, default_lexicon

ROOT = Path(__file__).resolve().parents[2]
OUT_OF_SCOPE = ROOT / "bench" / "heldout_out_of_scope_medical.jsonl"
IN_SCOPE = ROOT / "bench" / "heldout_in_scope.jsonl"
SHARED_DEV = ROOT.parent / "shared" / "eval" / "real_questions_dev.jsonl"


@pytest.fixture(scope="module")
def lexicon() -> MedicalLexicon:
    return default_lexicon()


def _norm(text: str) -> str:
    text = re.sub(r"^(?:the|a|an) ", "", text.lower().strip())
    return " ".join(re.sub(r"[^\w ]", " ", text).split())


# Questions written for this test (not the examples): what a patient might ask about a
# subject the clinic's documents do not cover, and the name the honest decline should use.
OUT_OF_SCOPE_TABLE = [
    # conditions
    ("my husband was told he has type 2 diabetes, what does that mean for him", "type 2 diabetes", "condition"),
    ("Is asthma something you grow out of?", "asthma", "condition"),
    ("what's the outlook for someone with COPD", "COPD", "condition"),
    ("how long does the flu usually last in adults", "the flu", "condition"),
    ("I think I have a cold, should I stay home from work?", "the common cold", "condition"),
    ("what causes scoliosis in teenagers", "scoliosis", "condition"),
    ("what is the difference between gout and bunions", "gout", "condition"),
    ("what causes high blood pressure in young people", "high blood pressure", "condition"),
    ("Is epilepsy curable?", "epilepsy", "condition"),
    ("how do I know if my mum has dementia", "dementia", "condition"),
    ("what is Parkinson's disease", "Parkinson's disease", "condition"),
    ("can anxiety cause a racing heart", "anxiety", "condition"),
    ("how is glaucoma picked up at the optician", "glaucoma", "condition"),
    ("is eczema contagious", "eczema", "condition"),
    ("what are kidney stones made of", "kidney stones", "condition"),
    ("can you die from appendicitis", "appendicitis", "condition"),
    ("what happens during a heart attack", "heart attack", "condition"),
    ("how do strokes affect speech", "stroke", "condition"),
    ("what is irritable bowel syndrome", "irritable bowel syndrome", "condition"),
    ("does acid reflux damage the throat", "acid reflux", "condition"),
    ("what does a thyroid nodule feel like", "thyroid problems", "condition"),
    ("what stage of breast cancer is the worst", "breast cancer", "condition"),
    ("is endometriosis hereditary", "endometriosis", "condition"),
    ("what is sickle cell anemia", "sickle cell anemia", "condition"),
    ("how does cystic fibrosis affect the lungs", "cystic fibrosis", "condition"),
    ("what is tinnitus and does it go away", "tinnitus", "condition"),
    ("can hemorrhoids bleed a lot", "hemorrhoids", "condition"),
    ("what are the early signs of Alzheimer's", "Alzheimer's disease", "condition"),
    # infections
    ("How do people catch hepatitis B?", "hepatitis", "condition"),
    ("is chickenpox dangerous for adults", "chickenpox", "condition"),
    ("how long am I contagious with strep throat", "strep throat", "condition"),
    ("what does a UTI feel like", "urinary tract infection", "condition"),
    ("can you get shingles twice", "shingles", "condition"),
    ("how is tuberculosis spread", "tuberculosis", "condition"),
    ("what are the first symptoms of measles", "measles", "condition"),
    ("is Lyme disease curable if caught late", "Lyme disease", "condition"),
    ("how do I get rid of athlete's foot", "athlete's foot", "condition"),
    ("my son has head lice again, what should we do", "head lice", "condition"),
    # pregnancy and children
    ("is it safe to fly when pregnant", "pregnancy", "condition"),
    ("what causes a miscarriage in the first trimester", "miscarriage", "condition"),
    ("how do I settle a baby with colic", "colic", "condition"),
    ("when does teething usually start", "teething", "condition"),
    ("is croup serious in toddlers", "croup", "condition"),
    ("what is gestational diabetes", "gestational diabetes", "condition"),
    ("what helps with morning sickness", "morning sickness", "symptom"),
    # injuries
    ("how long does a sprained ankle take to heal", "sprain", "condition"),
    ("what is whiplash after a car crash", "whiplash", "condition"),
    ("how do they fix a torn meniscus", "torn ACL", "condition"),
    ("what should I do about a concussion from rugby", "concussion", "condition"),
    ("is plantar fasciitis caused by bad shoes", "plantar fasciitis", "condition"),
    ("what is carpal tunnel syndrome", "carpal tunnel syndrome", "condition"),
    # drugs
    ("Does metformin make you lose weight?", "metformin", "drug"),
    ("what is Humira used for", "Humira", "drug"),
    ("can ibuprofen upset your stomach", "ibuprofen", "drug"),
    ("is it true that statins cause muscle cramps", "statins", "drug"),
    ("what are the side effects of amoxicillin", "amoxicillin", "drug"),
    ("is Zoloft an antidepressant", "Zoloft", "drug"),
    ("what is lisinopril for", "lisinopril", "drug"),
    ("does the morning after pill affect your period", "birth control", "drug"),
    ("can antibiotics stop the pill from working", "antibiotics", "drug"),
    ("what is Ozempic", "Ozempic", "drug"),
    ("is melatonin addictive", "melatonin", "drug"),
    # tests and procedures
    ("what happens at a pap smear", "pap smear", "procedure"),
    ("does a colonoscopy hurt", "colonoscopy", "procedure"),
    ("how long does a mammogram take", "mammogram", "procedure"),
    ("what does an ECG show", "ECG", "procedure"),
    ("how should I prepare for an endoscopy", "endoscopy", "procedure"),
    ("how long is recovery after a hysterectomy", "hysterectomy", "procedure"),
    ("what is dialysis like", "dialysis", "procedure"),
    ("what is a tonsillectomy", "tonsillectomy", "procedure"),
    ("do I need to fast before a glucose tolerance test", "glucose tolerance test", "procedure"),
    ("is a cholecystectomy a big operation", "cholecystectomy", "procedure"),
    ("what does a liver biopsy involve", "liver biopsy", "procedure"),
    # symptoms that are the subject
    ("why do I get nosebleeds at night", "nosebleeds", "symptom"),
    ("what causes a toothache to throb", "toothache", "symptom"),
    ("how can I stop diarrhea quickly", "diarrhea", "symptom"),
]


@pytest.mark.parametrize("question, expected, kind", OUT_OF_SCOPE_TABLE)
def test_the_subject_of_an_out_of_scope_question_is_found_and_named(lexicon, question, expected, kind):
    subjects = lexicon.subjects(question)
    matching = [s for s in subjects if _norm(s.name) == _norm(expected)]
    assert matching, f"{question!r}: expected {expected!r}, got {[(s.text, s.name) for s in subjects]}"
    assert matching[0].kind == kind


def test_the_table_is_large_and_varied():
    assert len(OUT_OF_SCOPE_TABLE) >= 60
    assert {kind for _, _, kind in OUT_OF_SCOPE_TABLE} >= {"condition", "drug", "procedure", "symptom"}


def test_type_2_diabetes_is_one_subject_and_never_type_1(lexicon):
    for text in ("how do I treat type 2 diabetes?", "Type 2 Diabetes diet", "I have type II diabetes",
                 "is T2D reversible"):
        subjects = lexicon.subjects(text)
        assert [s.name for s in subjects if s.kind == "condition"] == ["type 2 diabetes"], text
        assert all("type 1" not in s.name for s in subjects)
    type_1 = lexicon.subjects("how do I treat type 1 diabetes?")
    assert [(s.text, s.name, s.source) for s in type_1] == [("type 1 diabetes", "type 1 diabetes", "vocabulary")]


def test_the_longest_name_wins_and_subjects_do_not_overlap(lexicon):
    subjects = lexicon.subjects("Does metformin cause high blood pressure or chronic kidney disease?")
    assert [s.name for s in subjects] == ["metformin", "high blood pressure", "kidney disease"]
    assert subjects[2].text == "chronic kidney disease"
    assert [s.kind for s in subjects] == ["drug", "condition", "condition"]
    ends = [(s.start, s.end) for s in subjects]
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(ends, ends[1:]))


def test_offsets_point_at_the_words_as_written(lexicon):
    text = "Hi!  My daughter (7) has CHICKENPOX and a fever; can she take Tylenol?"
    subjects = lexicon.subjects(text)
    assert [s.text for s in subjects] == ["CHICKENPOX", "fever", "Tylenol"]
    for subject in subjects:
        assert text[subject.start:subject.end] == subject.text
    assert subjects[2].name == "Tylenol"  # a brand written with a capital keeps it


@pytest.mark.parametrize("text", [
    "pain", "other", "unspecified", "disease", "condition", "syndrome", "left", "right", "acute", "chronic",
    "I feel cold", "it is cold outside today", "I want a cold drink", "the other day my left side felt weird",
    "is it a disease or a condition or a syndrome?", "thank you so much", "what can you help me with",
    "unspecified other acute chronic disorder", "I had a bad fall last week", "he is in a lot of pain",
])
def test_generic_words_are_not_subjects(lexicon, text):
    assert [s for s in lexicon.subjects(text) if s.kind != "body_part"] == []


def test_a_cold_is_a_subject_only_as_the_illness(lexicon):
    assert [s.name for s in lexicon.subjects("I have a cold")] == ["the common cold"]
    assert [s.name for s in lexicon.subjects("how do you catch a cold")] == ["the common cold"]
    assert lexicon.subjects("my hands feel cold in the morning") == [] or all(
        s.name != "the common cold" for s in lexicon.subjects("my hands feel cold in the morning"))


def test_the_clinics_own_conditions_come_from_its_vocabulary(lexicon):
    text = "Is rheumatoid arthritis like lupus, ankylosing spondylitis, fibromyalgia or psoriatic arthritis?"
    subjects = lexicon.subjects(text)
    assert [s.name for s in subjects] == ["rheumatoid arthritis", "systemic lupus erythematosus",
                                          "ankylosing spondylitis", "fibromyalgia", "psoriatic arthritis"]
    assert {s.source for s in subjects} == {"vocabulary"}
    assert [s.name for s in lexicon.subjects("does RA affect the hips")][:1] == ["rheumatoid arthritis"]


def test_a_compound_never_swallows_a_condition(lexicon):
    assert [s.name for s in lexicon.subjects("is there a lupus test")] == ["systemic lupus erythematosus"]
    assert [s.name for s in lexicon.subjects("do they do a strep test")] == ["strep throat"]
    assert "RPR test" in [s.name for s in lexicon.subjects("what is an RPR test")]


@pytest.mark.parametrize("text", [
    "", "   ", "\n\t", "?!", "😀😀😀", "درد مفاصل و لوپوس", "关节疼痛和狼疮", "Ð¿Ñ€Ð¸Ð²ÐµÑ‚",
    "<script>alert('flu')</script>", "<b>lupus</b> <i>and</i> <a href='x'>asthma</a>",
    "a" * 100_000, "flu " * 20_000, "\x00\x01\x02 asthma \ufeff",
])
def test_odd_input_does_not_crash(lexicon, text):
    subjects = lexicon.subjects(text)
    assert all(isinstance(s, Subject) and s.kind in KINDS and text[s.start:s.end] == s.text for s in subjects)


def test_html_tags_are_ignored_but_their_text_is_read(lexicon):
    text = "<b>lupus</b> <i>and</i> <a href='x'>asthma</a>"
    assert [s.name for s in lexicon.subjects(text)] == ["systemic lupus erythematosus", "asthma"]
    assert lexicon.subjects("<flu-shot-widget data-x='1'>") == []
    assert lexicon.subjects(None) == []  # type: ignore[arg-type]


def test_only_the_head_of_a_huge_message_is_read(lexicon):
    text = "x " * 10_000 + "asthma"
    assert lexicon.subjects(text) == []


# -- the measurement sets -------------------------------------------------------------------------
def _rows(path: Path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_the_out_of_scope_set_is_licensed_attributed_and_large():
    rows = _rows(OUT_OF_SCOPE)
    assert len(rows) >= 150
    for row in rows:
        assert set(row) >= {"question", "subject", "kind", "source", "license"}
        assert row["kind"] in KINDS
        assert row["license"] in {"CC BY 4.0", "MIT"}
        assert row["source"].startswith(("abachaa/MedQuAD/", "Itaymanes/K-QA/"))
    assert len({_norm(r["question"]) for r in rows}) == len(rows)


def test_no_measurement_question_is_from_the_shared_development_set():
    if not SHARED_DEV.exists():
        pytest.skip("the shared development set is not in this checkout")
    dev = {_norm(json.loads(line)["question"]) for line in SHARED_DEV.read_text(encoding="utf-8").splitlines() if line}
    for path in (OUT_OF_SCOPE, IN_SCOPE):
        assert not dev & {_norm(r["question"]) for r in _rows(path)}


def test_most_out_of_scope_questions_get_a_subject(lexicon):
    rows = _rows(OUT_OF_SCOPE)
    found = [r for r in rows if lexicon.subjects(r["question"])]
    assert len(found) / len(rows) >= 0.85


def test_in_scope_questions_name_only_what_the_clinic_covers(lexicon):
    """Every subject of an in-scope question is the clinic's own (vocabulary), a body part, or named by
    the documents themselves (DMARDs, corticosteroids, MRI ...), so nothing there looks out of scope."""
    documents = " ".join(p.read_text(encoding="utf-8").lower() for p in (ROOT / "data" / "documents").glob("*.txt"))
    rows = _rows(IN_SCOPE)
    assert len(rows) >= 40
    for row in rows:
        for subject in lexicon.subjects(row["question"]):
            covered = (subject.source == "vocabulary" or subject.kind == "body_part"
                       or subject.text.lower() in documents or subject.name.lower() in documents)
            assert covered, (row["question"], subject)


# -- data, caching and import -------------------------------------------------------------------
def test_a_malformed_lay_file_is_reported(tmp_path):
    (tmp_path / "lay_terms.yml").write_text("terms:\n  - {name: flu, kind: illness}\n", encoding="utf-8")
    with pytest.raises(LexiconDataError, match="kind"):
        build_lexicon(tmp_path, sources=("lay",))


def test_a_clinic_lay_file_is_all_it_takes_to_add_a_name(tmp_path):
    (tmp_path / "lay_terms.yml").write_text(
        "terms:\n"
        "  - {name: the zorblax fever, kind: condition, spellings: [zorblax], abbreviations: [ZBX]}\n"
        "  - name: the common cold\n    kind: condition\n    guarded: {after: [a], spellings: [cold]}\n",
        encoding="utf-8")
    lexicon = build_lexicon(tmp_path, sources=("lay",))
    assert [(s.name, s.source) for s in lexicon.subjects("Is Zorblax catching? What about zbx, ZBX?")] == [
        ("the zorblax fever", "lay"), ("the zorblax fever", "lay")]
    assert [s.name for s in lexicon.subjects("a cold; so cold")] == ["the common cold"]


def test_the_compiled_cache_reads_back_what_was_written(tmp_path):
    terms = [Term("type 2 diabetes mellitus", "type 2 diabetes mellitus", "condition", "icd10cm"),
             Term("TIA", "TIA", "condition", "icd10cm", case_sensitive=True),
             Term("cold", "the common cold", "condition", "lay", after=("a", "have")),
             Term("humira", "Humira", "drug", "drugs", keep_case=True)]
    path = tmp_path / "public-x.tsv"
    _write_cache(path, terms)
    assert _read_cache(path) == terms


def test_importing_does_no_work_and_the_vocabulary_packages_are_never_imported():
    code = ("import sys, bot.lexicon as l; assert l.default_lexicon.cache_info().currsize == 0; "
            "l.default_lexicon().subjects('flu'); "
            "assert 'simple_icd_10_cm' not in sys.modules and 'drug_named_entity_recognition' not in sys.modules; "
            "print('ok')")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("ok")
