"""CIViC import: an inline TSV with the real column names (exact entries, levels and skip reasons),
the import's file loaded and matched beside a curated base, and the real 2018 dump (skips without it)."""

import csv
import textwrap

import pandas as pd
import pytest
import yaml
from conftest import shared_dir

from krasannot.annotate.classify import classify_calls
from krasannot.annotate.pipeline import annotate_calls
from krasannot.cli import _panel_genes
from krasannot.errors import InputFormatError
from krasannot.evidence.civic import PROGNOSTIC_THERAPY, import_civic, write_civic_yaml
from krasannot.evidence.kb import load_kb, validate_kb
from krasannot.evidence.match import match_samples
from krasannot.reference.backmap import back_map

# the columns of CIViC's 01-Oct-2018 ClinicalEvidenceSummaries.tsv, in order
COLUMNS_2018 = ["gene", "entrez_id", "variant", "disease", "doid", "phenotypes", "drugs", "evidence_type",
                "evidence_direction", "evidence_level", "clinical_significance", "evidence_statement",
                "pubmed_id", "citation", "nct_ids", "rating", "evidence_status", "evidence_id", "variant_id",
                "gene_id", "chromosome", "start", "stop", "reference_bases", "variant_bases",
                "representative_transcript", "chromosome2", "start2", "stop2", "representative_transcript2",
                "ensembl_version", "reference_build", "variant_summary", "variant_origin", "last_review_date",
                "evidence_civic_url", "variant_civic_url", "gene_civic_url"]

NSCLC, CRC, MEL, LUAD = ("Non-small Cell Lung Carcinoma", "3908"), ("Colorectal Cancer", "9256"), \
    ("Melanoma", "1909"), ("Lung Adenocarcinoma", "3910")
# eid, gene, variant, (disease, doid), drugs, type, direction, level, significance, pmid, origin, nct
ITEMS = [
    (1, "KRAS", "G12C", NSCLC, "Sotorasib", "Predictive", "Supports", "B", "Sensitivity/Response", "111",
     "Somatic Mutation", "NCT03600883"),
    (2, "KRAS", "G12D", CRC, "Cetuximab", "Predictive", "Supports", "A", "Resistance", "222", "Somatic Mutation", ""),
    (3, "EGFR", "EXON 19 DELETION", LUAD, "Erlotinib", "Predictive", "Supports", "C", "Sensitivity/Response", "333",
     "Somatic Mutation", ""),
    (4, "ALK", "EML4-ALK", NSCLC, "Crizotinib (PF-02341066)", "Predictive", "Supports", "B",
     "Sensitivity/Response", "444", "Somatic Mutation", ""),   # the code name in brackets is dropped
    (5, "ERBB2", "AMPLIFICATION", CRC, "Trastuzumab,Lapatinib", "Predictive", "Supports", "B",
     "Sensitivity/Response", "555", "Somatic Mutation", ""),
    (6, "STK11", "MUTATION", LUAD, "", "Prognostic", "Supports", "B", "Poor Outcome", "666", "Somatic Mutation", ""),
    (7, "JAK2", "V617F", ("Polycythemia Vera", "8997"), "", "Diagnostic", "Supports", "B", "Positive", "777",
     "Somatic Mutation", ""),
    (8, "BRCA2", "MUTATION", ("Breast Cancer", "1612"), "", "Predisposing", "Supports", "C",
     "Uncertain Significance", "888", "Germline Mutation", ""),
    (9, "KIT", "D816V", ("Gastrointestinal Stromal Tumor", "9253"), "Imatinib", "Predictive", "Supports", "B",
     "Resistance", "999", "Somatic Mutation", ""),
    (10, "KRAS", "G12C", ("Cancer", "162"), "Sotorasib", "Predictive", "Supports", "B", "Sensitivity/Response",
     "1010", "Somatic Mutation", ""),
    (11, "KRAS", "G13D", CRC, "Cetuximab", "Predictive", "Does Not Support", "B", "Sensitivity/Response", "1111",
     "Somatic Mutation", ""),
    (12, "KRAS", "G12C", NSCLC, "Sotorasib", "Predictive", "Supports", "B", "Sensitivity/Response", "1212",
     "Somatic Mutation", ""),
    (13, "BRAF", "V600", MEL, "Vemurafenib", "Predictive", "Supports", "A", "Sensitivity/Response", "1313",
     "Somatic Mutation", ""),
    (14, "KRAS", "A12C", NSCLC, "Sotorasib", "Predictive", "Supports", "B", "Sensitivity/Response", "1414",
     "Somatic Mutation", ""),
    (15, "EGFR", "OVEREXPRESSION", NSCLC, "Cetuximab", "Predictive", "Supports", "B", "Sensitivity/Response",
     "1515", "N/A", ""),
    (16, "KRAS", "G12C", ("Glioblastoma Multiforme", "3068"), "Sotorasib", "Predictive", "Supports", "B",
     "Sensitivity/Response", "1616", "Somatic Mutation", ""),
    (17, "NRAS", "Q61K", MEL, "Binimetinib", "Predictive", "Supports", "E", "Sensitivity/Response", "1717",
     "Somatic Mutation", ""),
    (18, "ALK", "EML4-ALK L1196M", NSCLC, "Crizotinib", "Predictive", "Supports", "B", "Resistance", "1818",
     "Somatic Mutation", ""),
    (19, "KRAS", "G12/G13", CRC, "Panitumumab", "Predictive", "Supports", "D", "Resistance", "1919",
     "Somatic Mutation", ""),
    (20, "KRAS", "WILD TYPE", CRC, "Panitumumab", "Predictive", "Supports", "B", "Sensitivity/Response", "2020",
     "N/A", ""),
]


def _write_tsv(path, items=ITEMS, columns=COLUMNS_2018):
    rows = []
    for eid, gene, variant, (disease, doid), drugs, etype, direction, level, significance, pmid, origin, nct in items:
        row = dict.fromkeys(columns, "")
        row.update(gene=gene, variant=variant, disease=disease, doid=doid, drugs=drugs, evidence_type=etype,
                   evidence_direction=direction, evidence_level=level, clinical_significance=significance,
                   evidence_statement=f"Statement of evidence item {eid} about {gene} {variant}.",
                   pubmed_id=pmid, citation=f"Author et al., 20{eid:02d}, J", nct_ids=nct, rating="3",
                   evidence_status="accepted", evidence_id=str(eid), variant_origin=origin,
                   last_review_date=f"2018-0{1 + eid % 9}-15 10:00:00 UTC",
                   evidence_civic_url=f"https://civicdb.org/links/evidence_items/{eid}")
        rows.append(row)
    pd.DataFrame(rows, columns=columns).to_csv(path, sep="\t", index=False, quoting=csv.QUOTE_NONE)
    return path


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    return import_civic(_write_tsv(tmp_path_factory.mktemp("civic") / "evidence.tsv"))


def _by_id(result):
    return {e["id"]: e for e in result.entries}


def test_entries_levels_and_terms_are_exact(imported):
    entries = _by_id(imported)
    assert sorted(entries) == ["civic-eid1", "civic-eid13", "civic-eid18", "civic-eid2", "civic-eid20",
                               "civic-eid3", "civic-eid4", "civic-eid6"]
    summary = {i: (e["tumor_types"], e["biomarker"], e["therapy"]["drugs"], e["therapy"]["direction"], e["level"])
               for i, e in entries.items()}
    assert summary["civic-eid1"] == (["NSCLC"], {"gene": "KRAS", "alteration": "p.G12C", "origin": "somatic"},
                                     ["sotorasib"], "sensitive", "clinical")
    assert summary["civic-eid2"] == (["COADREAD"], {"gene": "KRAS", "alteration": "p.G12D", "origin": "somatic"},
                                     ["cetuximab"], "resistant", "resistance_standard")
    assert summary["civic-eid3"] == (["LUAD"], {"gene": "EGFR", "alteration": "exon 19 inframe_deletion",
                                                "origin": "somatic"}, ["erlotinib"], "sensitive", "investigational")
    assert summary["civic-eid4"] == (["NSCLC"], {"gene": "ALK", "alteration": "fusion", "partner": "EML4",
                                                 "origin": "somatic"}, ["crizotinib"], "sensitive", "clinical")
    assert summary["civic-eid6"] == (["LUAD"], {"gene": "STK11", "alteration": "mutation", "origin": "somatic"},
                                     [PROGNOSTIC_THERAPY], "prognostic", "prognostic_clinical")
    assert summary["civic-eid13"] == (["MEL"], {"gene": "BRAF", "alteration": "V600", "origin": "somatic"},
                                      ["vemurafenib"], "sensitive", "guideline")   # CIViC A is never "approved"
    assert summary["civic-eid18"] == (["NSCLC"], {"all": [
        {"gene": "ALK", "alteration": "fusion", "partner": "EML4", "origin": "somatic"},
        {"gene": "ALK", "alteration": "p.L1196M", "origin": "somatic"}]}, ["crizotinib"], "resistant",
        "resistance_clinical")
    # an absence has no origin; the item said N/A anyway
    assert summary["civic-eid20"] == (["COADREAD"], {"gene": "KRAS", "alteration": "wild_type"}, ["panitumumab"],
                                      "sensitive", "clinical")
    assert entries["civic-eid6"]["caveats"] == ["CIViC level B: clinical evidence", "poor outcome"]
    assert all(e["source"] == "civic" for e in entries.values())


def test_provenance_and_merging_of_items_saying_the_same_thing(imported):
    eid1 = _by_id(imported)["civic-eid1"]
    assert [(c["type"], c["id"]) for c in eid1["citations"]] == [
        ("CIViC", "EID1"), ("PMID", "111"), ("NCT", "NCT03600883"), ("CIViC", "EID12"), ("PMID", "1212")]
    assert eid1["citations"][0]["note"] == ("CIViC evidence level B (clinical evidence), Supports "
                                            "Sensitivity/Response, rating 3/5")
    assert eid1["citations"][1]["note"] == "Author et al., 2001, J"
    assert eid1["last_reviewed"] == "2018-04-15"       # the later review of EID1 (02-15) and EID12 (04-15)
    assert eid1["summary"] == "Statement of evidence item 1 about KRAS G12C."


def test_counts_read_imported_and_skipped_by_reason(imported):
    assert (imported.n_read, imported.n_imported, imported.n_merged) == (20, 9, 1)
    assert imported.skipped == {
        "direction is not Supports": 1, "disease not mapped to OncoTree": 1, "evidence type Diagnostic": 1,
        "evidence type Predisposing": 1, "evidence level has no level on our scale": 2, "gene not in the panel": 1,
        "pan-cancer disease (no tumour-agnostic claim)": 1, "residue differs from the panel's reference protein": 1,
        "several drugs, combination or substitutes not stated": 1, "variant not in the term grammar": 1}
    assert imported.n_imported + sum(imported.skipped.values()) == imported.n_read


def test_combinations_and_substitutes_when_the_dump_says_so(tmp_path):
    columns = COLUMNS_2018 + ["drug_interaction_type"]
    items = [(30, "BRAF", "V600E", MEL, "Dabrafenib,Trametinib", "Predictive", "Supports", "B",
              "Sensitivity/Response", "3030", "Somatic Mutation", ""),
             (31, "EGFR", "L858R", NSCLC, "Gefitinib,Erlotinib", "Predictive", "Supports", "B",
              "Sensitivity/Response", "3131", "Somatic Mutation", ""),
             (32, "EGFR", "T790M", NSCLC, "Erlotinib,Pemetrexed", "Predictive", "Supports", "B",
              "Resistance", "3232", "Somatic Mutation", "")]
    path = _write_tsv(tmp_path / "e.tsv", items, columns)
    table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    table["drug_interaction_type"] = ["Combination", "Substitutes", "Sequential"]
    table.to_csv(path, sep="\t", index=False, quoting=csv.QUOTE_NONE)
    result = import_civic(path)
    assert [(e["id"], e["therapy"]["drugs"]) for e in result.entries] == [
        ("civic-eid30", ["dabrafenib", "trametinib"]), ("civic-eid31-1", ["gefitinib"]),
        ("civic-eid31-2", ["erlotinib"])]
    assert result.skipped == {"several drugs, sequential": 1}


def test_newer_dump_with_molecular_profiles(tmp_path):
    """2022+ dumps: molecular_profile instead of gene + variant, therapies, significance, citation_id."""
    path = tmp_path / "new.tsv"
    columns = ["molecular_profile", "molecular_profile_id", "disease", "doid", "phenotypes", "therapies",
               "therapy_interaction_type", "evidence_type", "evidence_direction", "evidence_level", "significance",
               "evidence_statement", "citation_id", "source_type", "asco_abstract_id", "citation", "nct_ids",
               "rating", "evidence_status", "evidence_id", "variant_origin", "last_review_date",
               "evidence_civic_url", "molecular_profile_civic_url", "is_flagged"]
    rows = [["KRAS G12C", "1", "Lung Non-small Cell Carcinoma", "3908", "", "Adagrasib", "", "Predictive",
             "Supports", "B", "Sensitivity/Response", "Adagrasib in KRAS G12C NSCLC (KRYSTAL-1).", "35658005",
             "PubMed", "", "Janne et al., 2022", "NCT03785249", "4", "accepted", "11000", "Somatic",
             "2023-01-02 00:00:00 UTC", "https://civicdb.org/links/evidence_items/11000", "", "false"],
            ["KRAS G12C AND STK11 LOSS", "2", "Lung Non-small Cell Carcinoma", "3908", "", "Adagrasib", "",
             "Predictive", "Supports", "B", "Sensitivity/Response", "A compound molecular profile.", "1", "PubMed",
             "", "", "", "3", "accepted", "11001", "Somatic", "2023-01-02 00:00:00 UTC", "", "", "false"]]
    pd.DataFrame(rows, columns=columns).to_csv(path, sep="\t", index=False, quoting=csv.QUOTE_NONE)
    result = import_civic(path)
    (entry,) = result.entries
    assert (entry["id"], entry["biomarker"], entry["therapy"]["drugs"], entry["level"]) == (
        "civic-eid11000", {"gene": "KRAS", "alteration": "p.G12C", "origin": "somatic"}, ["adagrasib"], "clinical")
    assert [(c["type"], c["id"]) for c in entry["citations"]] == [("CIViC", "EID11000"), ("PMID", "35658005"),
                                                                  ("NCT", "NCT03785249")]
    assert result.skipped == {"variant not in the term grammar": 1}


def test_not_a_civic_file_is_a_clear_error(tmp_path):
    path = tmp_path / "x.tsv"
    path.write_text("gene\tvariant\nKRAS\tG12C\n")
    with pytest.raises(InputFormatError, match=r"x.tsv:1: not a CIViC evidence TSV: no column\(s\) disease"):
        import_civic(path)


CURATED = """
version: "curated-test"
released: 2026-11-21
entries:
  - id: nsclc-kras-g12c-sotorasib
    tumor_types: [NSCLC]
    biomarker: {gene: KRAS, alteration: p.G12C}
    therapy: {drugs: [sotorasib], direction: sensitive}
    level: approved
    citations: [{type: PMID, id: "34096690"}]
    summary: Sotorasib for KRAS G12C NSCLC after prior therapy.
    last_reviewed: 2026-11-21
"""


def test_the_file_loads_beside_a_curated_base_and_matches_as_civic(tmp_path, imported, panels):
    out = tmp_path / "civic.yaml"
    write_civic_yaml(imported, "evidence.tsv", out)
    assert "version" not in yaml.safe_load(out.read_text())    # never changes the curated base's version
    assert out.read_text().startswith("# Imported by `krasannot kb import-civic`")
    kb_dir = tmp_path / "kb"
    kb_dir.mkdir()
    (kb_dir / "kb.yaml").write_text(textwrap.dedent(CURATED))
    kb = load_kb(kb_dir, extra_files=[str(out)])
    assert kb.version == "curated-test" and len(kb.entries) == 1 + len(imported.entries)
    assert validate_kb(kb, *_panel_genes()) == []
    placed = back_map("KRAS G12C", "KRAS", panels["GRCh38"])
    calls = pd.DataFrame([dict(sample="S1", chrom=placed.chrom, pos=placed.pos, ref=placed.ref, alt=placed.alt,
                               filter="PASS", vaf=0.3)])
    annotated = classify_calls(annotate_calls(calls, panels["GRCh38"]))
    matches = match_samples(annotated, pd.DataFrame({"sample": ["S1"], "tumor_type": ["LUAD"]}), kb)
    assert list(zip(matches["evidence_id"], matches["level"], matches["evidence_source"])) == [
        ("nsclc-kras-g12c-sotorasib", "approved", "curated"), ("civic-eid1", "clinical", "civic")]
    assert matches["citations"].iloc[1] == "CIViC EID1; PMID:111; NCT03600883; CIViC EID12; PMID:1212"


def _civic_2018():
    path = shared_dir() / "validation" / "civic_2018" / "01-Oct-2018-ClinicalEvidenceSummaries.tsv"
    if not path.is_file():
        pytest.skip(f"{path} not available")
    return path


def test_real_civic_2018_dump_imports_and_validates(tmp_path):
    source = _civic_2018()
    result = import_civic(source)
    assert result.n_read == 2889
    assert result.n_imported + sum(result.skipped.values()) == 2889
    assert result.skipped["evidence type Predisposing"] == 508
    assert result.skipped["evidence type Diagnostic"] == 121
    out = tmp_path / "civic.yaml"
    write_civic_yaml(result, source, out)
    kb_dir = tmp_path / "kb"
    kb_dir.mkdir()
    (kb_dir / "kb.yaml").write_text(textwrap.dedent(CURATED))
    kb = load_kb(kb_dir, extra_files=[str(out)])
    assert validate_kb(kb, *_panel_genes()) == []
    entries = {e.id: e for e in kb.entries}
    # predictive KRAS / EGFR / BRAF evidence of the dump, with its PMIDs
    expected = {
        "civic-eid134": ("COADREAD", "KRAS codons 12,13 (somatic)", "cetuximab", "resistant", "resistance_clinical",
                         {"20619739", "19603024"}),
        "civic-eid238": ("NSCLC", "EGFR p.T790M (somatic)", "erlotinib", "resistant", "resistance_standard", None),
        "civic-eid717": ("COADREAD", "EGFR p.S492R (somatic)", "cetuximab", "resistant", "resistance_clinical", None),
        "civic-eid88": ("COADREAD", "BRAF V600 (somatic)", "panitumumab", "resistant", "resistance_clinical", None),
        "civic-eid2253": ("COADREAD", "KRAS p.G12C (somatic)", "panitumumab", "resistant", "resistance_clinical",
                          {"18316791"}),
    }
    raw = pd.read_csv(source, sep="\t", dtype=str, keep_default_na=False, quoting=csv.QUOTE_NONE)
    pmid_of = dict(zip("civic-eid" + raw["evidence_id"], raw["pubmed_id"]))
    for entry_id, (code, biomarker, therapy, direction, level, pmids) in expected.items():
        entry = entries[entry_id]
        assert (entry.tumor_types, entry.biomarker_text(), entry.therapy, entry.direction, entry.level,
                entry.source) == ((code,), biomarker, therapy, direction, level, "civic")
        cited = {c["id"] for c in entry.citations if c["type"] == "PMID"}
        assert pmid_of[entry_id] in cited and (pmids is None or pmids <= cited)
        assert {"type": "CIViC", "id": "EID" + entry_id.removeprefix("civic-eid")} in \
            [{k: c[k] for k in ("type", "id")} for c in entry.citations]
    genes = {g for e in kb.entries if e.source == "civic" for t in e.terms() for g in t.genes}
    assert {"KRAS", "EGFR", "BRAF", "ALK"} <= genes


def test_import_civic_subcommand_writes_the_file_and_prints_counts(tmp_path, capsys):
    from krasannot.cli import build_parser

    parser = build_parser()
    source = _write_tsv(tmp_path / "evidence.tsv")
    args = parser.parse_args(["kb", "import-civic", str(source), "--out", str(tmp_path / "civic.yaml")])
    assert args.func(args) == 0
    written = yaml.safe_load((tmp_path / "civic.yaml").read_text())
    assert [e["id"] for e in written["entries"]] == ["civic-eid1", "civic-eid2", "civic-eid3", "civic-eid4",
                                                    "civic-eid6", "civic-eid13", "civic-eid18", "civic-eid20"]
    err = capsys.readouterr().err
    assert "read 20 evidence items" in err
    assert "imported 9 as 8 entries (1 merged into an entry saying the same thing)" in err
    assert "skipped 11:" in err and "      2  evidence level has no level on our scale" in err
