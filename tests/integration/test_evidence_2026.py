"""The evidence base brought to December 2026 (issue 12), tried as an oncologist would: scenarios as ctDNA call
tables or VCFs, annotated and matched through the command line, then `krasannot run`; and the freshness checks
(`kb validate` review warnings, `kb show --changes`)."""

import datetime as dt
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from krasannot.cli import main
from krasannot.evidence.kb import (compare_releases, default_kb_dir, load_kb, read_snapshot, release_snapshot,
                                   stale_entries)

from test_clinical_scenarios import internal_ids_in, table
from test_match_scenarios import annotate_and_match, write_vcf

# KRAS wild-type by assay: the extended RAS panel and BRAF V600 tested, nothing found
RAS_ASSAYED = ("KRAS/NRAS\tG12/G13/A59/Q61/K117/A146 not detected\t\t\n"
               "BRAF\tV600 not detected\t\t\n")


def row(matches, evidence_id):
    rows = matches[matches["evidence_id"] == evidence_id]
    assert len(rows) == 1, f"{evidence_id} not matched exactly once: {sorted(matches['evidence_id'])}"
    return rows.iloc[0]


# ---- pancreatic ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("allele", ["G12D", "G12R"])
def test_pdac_kras_g12d_g12r_get_daraxonrasib_with_its_line_of_therapy(tmp_path, allele):
    matches, summary = annotate_and_match(tmp_path, [table(tmp_path, f"KRAS\t{allele}\tSNV\t0.3\n")], "PAAD")
    daraxonrasib = row(matches, "paad-daraxonrasib")
    assert (daraxonrasib["therapy"], daraxonrasib["direction"], daraxonrasib["level"]) == (
        "daraxonrasib", "sensitive", "approved")
    assert daraxonrasib["matched_calls"] == f"KRAS p.{allele} (VAF 0.3)"   # no "none detected" beside it
    assert daraxonrasib["setting"] == "later line"
    # the label's own words: first line only for patients who cannot have multiagent therapy
    assert ("who have received at least one prior systemic therapy or who are not candidates for multiagent "
            "systemic therapy") in daraxonrasib["summary"]
    assert "first-line use only for patients who are not candidates for multiagent therapy" in daraxonrasib["caveats"]
    assert "FDA RASONQUE (daraxonrasib) label" in daraxonrasib["citations"]
    assert "NCT06625320" in daraxonrasib["citations"]
    assert summary["kras_status"] == allele
    # no G12C inhibitor and no anti-EGFR antibody for a G12D/G12R pancreatic cancer
    sensitive = set(matches.loc[matches["direction"] == "sensitive", "therapy"])
    assert not {"sotorasib", "adagrasib", "cetuximab", "panitumumab"} & sensitive
    assert internal_ids_in(matches) == []


def test_pdac_kras_g12r_germline_brca2_carrier_gets_olaparib_and_daraxonrasib(tmp_path):
    calls = table(tmp_path, "KRAS\tG12R\tSNV\t0.3\n")
    germline = tmp_path / "germline.ctdna.tsv"
    germline.write_text("gene\talteration\torigin\nBRCA2\tc.5946del\tgermline\n")
    matches, _ = annotate_and_match(tmp_path, [calls, germline], "PAAD")
    olaparib = row(matches, "paad-germline-brca-olaparib")
    assert (olaparib["therapy"], olaparib["level"]) == ("olaparib", "approved")
    assert "BRCA2" in olaparib["matched_calls"]
    assert row(matches, "paad-daraxonrasib")["level"] == "approved"
    # a germline carrier is not offered the somatic-BRCA rucaparib entry
    assert "paad-somatic-brca-rucaparib" not in set(matches.loc[matches["assessment"] == "matched", "evidence_id"])


@pytest.mark.parametrize("fusion, evidence_id, therapy, level", [
    ("NRG1\tCD74-NRG1\tfusion", "paad-nrg1-fusion-zenocutuzumab", "zenocutuzumab", "approved"),
    ("BRAF\tSND1-BRAF\tfusion", "paad-braf-fusion-class2-mek-inhibitor", "trametinib", "investigational"),
    ("FGFR2\tFGFR2-BICC1\tfusion", "paad-fgfr2-fusion-pemigatinib", "pemigatinib", "other_tumor_type"),
])
def test_pdac_kras_wild_type_fusions_get_their_matches(tmp_path, fusion, evidence_id, therapy, level):
    matches, summary = annotate_and_match(tmp_path, [table(tmp_path, RAS_ASSAYED + fusion + "\t\n")], "PAAD")
    match = row(matches, evidence_id)
    assert (match["therapy"], match["level"], match["assessment"]) == (therapy, level, "matched")
    assert fusion.split("\t")[0] in match["matched_calls"]
    assert summary["kras_status"] == "wild_type"
    # the RAS(ON) approval needs no RAS test: a RAS wild-type pancreatic cancer is covered too
    wild_type = row(matches, "paad-daraxonrasib-ras-wild-type")
    assert (wild_type["level"], wild_type["assessment"]) == ("approved", "matched")
    assert "paad-daraxonrasib" not in set(matches["evidence_id"])
    assert internal_ids_in(matches) == []


# ---- colorectal --------------------------------------------------------------------------------------------------

def test_msi_high_crc_gets_nivolumab_ipilimumab_at_the_approved_level_in_any_line(tmp_path):
    vcf = write_vcf(tmp_path / "t.vcf", ["TP53 R273H"])
    matches, _ = annotate_and_match(tmp_path, [vcf], "COADREAD", "--msi-high")
    combination = row(matches, "crc-msi-h-nivolumab-ipilimumab")
    assert (combination["therapy"], combination["level"], combination["level_amp_asco_cap"]) == (
        "nivolumab + ipilimumab", "approved", "Tier I, Level A")
    assert combination["setting"] == "any" and "including first line" in combination["summary"]
    assert "CheckMate 8HW" in combination["citations"] and "2025-04-08" in combination["citations"]
    assert "regular FDA approval (converted in April 2025)" in row(matches, "crc-msi-h-nivolumab")["summary"]


def test_her2_amplified_ras_mutant_crc_gets_trastuzumab_deruxtecan_not_anti_egfr(tmp_path):
    rows = "KRAS\tG12D\tSNV\t0.3\nERBB2\tERBB2 amplification\tCNA\t\n"
    matches, _ = annotate_and_match(tmp_path, [table(tmp_path, rows)], "COADREAD")
    tdxd = row(matches, "crc-erbb2-amplification-trastuzumab-deruxtecan")
    assert (tdxd["therapy"], tdxd["direction"], tdxd["assessment"]) == ("trastuzumab deruxtecan", "sensitive",
                                                                        "matched")
    assert "IHC 3+" in tdxd["caveats"]   # the label's test is immunohistochemistry, not amplification
    sensitive = matches[(matches["direction"] == "sensitive") & (matches["assessment"] == "matched")]
    assert not any({"cetuximab", "panitumumab"} & set(t.split(" + ")) for t in sensitive["therapy"])
    # the RAS wild-type HER2 regimens stay RAS wild-type only
    assert "tucatinib + trastuzumab" not in set(sensitive["therapy"])


def test_crc_braf_class2_is_anti_egfr_resistant_and_class3_is_not(tmp_path):
    rows = RAS_ASSAYED + "BRAF\tG469A\tSNV\t0.3\n"
    matches, _ = annotate_and_match(tmp_path, [table(tmp_path, rows)], "COADREAD")
    assert "crc-braf-class2-cetuximab-resistance" in set(matches["evidence_id"])
    (tmp_path / "c3").mkdir()
    rows = RAS_ASSAYED + "BRAF\tD594G\tSNV\t0.3\n"
    matches, _ = annotate_and_match(tmp_path / "c3", [table(tmp_path / "c3", rows)], "COADREAD")
    assert "resistant" not in set(matches["direction"])
    assert row(matches, "crc-braf-class3-ras-wild-type-anti-egfr")["level"] == "investigational"


# ---- lung --------------------------------------------------------------------------------------------------------

def test_her2_mutant_nsclc_gets_zongertinib(tmp_path):
    vcf = write_vcf(tmp_path / "t.vcf", ["ERBB2 p.Y772_A775dup"])
    matches, _ = annotate_and_match(tmp_path, [vcf], "LUAD")
    zongertinib = row(matches, "nsclc-erbb2-tkd-mutation-zongertinib")
    assert (zongertinib["therapy"], zongertinib["level"], zongertinib["assessment"]) == (
        "zongertinib", "approved", "matched")
    assert "ERBB2 p.Y772_A775dup" in zongertinib["matched_calls"] and zongertinib["setting"] == "later line"
    assert "NCT04886804" in zongertinib["citations"]
    assert row(matches, "nsclc-erbb2-tkd-mutation-sevabertinib")["level"] == "approved"
    # an EGFR exon 20 insertion drug is not an EGFR TKI for a HER2 mutation
    assert "sunvozertinib" not in set(matches["therapy"])


def test_opnurasib_left_the_g12c_class_and_elironrasib_never_joined_it():
    kb = load_kb()
    assert "opnurasib" not in kb.drug_classes["KRAS_G12C_inhibitor"]
    assert "elironrasib" in kb.drug_classes["RAS_ON_inhibitor"]
    assert "elironrasib" not in kb.drug_classes["KRAS_G12C_inhibitor"]


# ---- krasannot run -----------------------------------------------------------------------------------------------

def test_krasannot_run_pdac_g12d_names_daraxonrasib_and_the_evidence_version(tmp_path):
    path = tmp_path / "paad.ctdna.tsv"
    path.write_text("gene\talteration\ttype\tvaf\tdepth\talt_depth\nKRAS\tG12D\tSNV\t0.3\t2000\t600\n")
    outdir = tmp_path / "out"
    assert main(["run", str(path), "--sample", "PAAD-1", "--build", "GRCh38", "--outdir", str(outdir),
                 "--tumor-type", "PAAD"]) == 0
    matches = pd.read_csv(outdir / "PAAD-1.matches.tsv", sep="\t", dtype=str, keep_default_na=False)
    assert row(matches, "paad-daraxonrasib")["setting"] == "later line"
    html = (outdir / "PAAD-1.report.html").read_text()
    assert "daraxonrasib" in html and "2026.12.0" in html
    assert internal_ids_in(matches) == []


# ---- freshness ---------------------------------------------------------------------------------------------------

def test_review_ages_by_level(capsys):
    kb = load_kb()
    assert stale_entries(kb, dt.date(2026, 12, 5)) == []
    # six months on: the investigational entries (reviewed 2026-11-21 or later) are due, the approved ones not
    stale = stale_entries(kb, dt.date(2027, 6, 6))
    assert stale and all("(level investigational)" in w for w in stale)
    assert any("paad-braf-fusion-class2-mek-inhibitor: last reviewed 2026-12-05, more than 6 months before "
               "2027-06-06" in w for w in stale)
    assert main(["kb", "validate", "--as-of", "2027-12-06"]) == 0   # a warning, never a failure
    err = capsys.readouterr().err
    assert "warning: pancreatic.yaml: paad-daraxonrasib: last reviewed 2026-12-05, more than 12 months" in err
    assert "entries due for review" in err and ": valid," in err
    with pytest.raises(SystemExit) as bad_date:
        main(["kb", "validate", "--as-of", "5 Dec"])
    assert bad_date.value.code == 2
    assert "'5 Dec' is not a date (YYYY-MM-DD)" in capsys.readouterr().err


def test_kb_show_changes_since_the_previous_release(capsys):
    assert main(["kb", "show", "--changes"]) == 0
    captured = capsys.readouterr()
    changes = {tuple(line.split("\t")[:3]) for line in captured.out.splitlines()[1:]}
    assert ("added", "entry", "paad-daraxonrasib") in changes
    assert ("changed", "entry", "crc-kras-g12c-adagrasib-cetuximab") in changes
    assert ("changed", "drug_class", "KRAS_G12C_inhibitor") in changes   # opnurasib out
    assert ("added", "drug_class", "HER2_TKI") in changes
    assert not any(c[2] == "crc-ras-mutant-cetuximab-resistance" for c in changes)   # untouched since 2026.11.0
    assert "evidence base 2026.12.0 since 2026.11.0:" in captured.err
    assert main(["kb", "show", "--changes", "--since", "2025.1.0"]) == 2
    assert "--since 2025.1.0: no snapshot of that release" in capsys.readouterr().err


def test_kb_show_changes_against_a_proposed_edit(tmp_path, capsys):
    proposed = tmp_path / "evidence"
    shutil.copytree(str(default_kb_dir()), proposed)
    text = (proposed / "pancreatic.yaml").read_text()
    # re-reviewed only: not a change; a new number in the summary: a change
    text = text.replace("last_reviewed: 2026-11-21", "last_reviewed: 2026-12-24")
    text = text.replace("disease control in 84%", "disease control in 85%")
    (proposed / "pancreatic.yaml").write_text(text)
    assert main(["kb", "show", "--changes", "--kb-dir", str(proposed), "--since", str(default_kb_dir())]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["change\tkind\tid\tfile", "changed\tentry\tpaad-kras-g12c-sotorasib\tpancreatic.yaml"]


# ---- generated files stay in step with the YAML ------------------------------------------------------------------

REPO = Path(__file__).resolve().parents[2]


def test_evidence_entries_page_is_regenerated_from_the_yaml(tmp_path):
    out = tmp_path / "entries.md"
    run = subprocess.run([sys.executable, str(REPO / "workflow" / "scripts" / "evidence_entries_doc.py"),
                          "--out", str(out)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    page = out.read_text()
    assert page == (REPO / "docs" / "evidence-entries.md").read_text(), \
        "docs/evidence-entries.md is stale: run workflow/scripts/evidence_entries_doc.py"
    assert "| paad-daraxonrasib | PAAD | KRAS/NRAS/HRAS activating_mutation | daraxonrasib | sensitive | approved " \
           "| later line | yes | 5 | 2026-12-05 | no: " in page


def test_release_snapshot_script_reproduces_the_shipped_snapshot_from_a_directory(tmp_path):
    shipped = default_kb_dir()
    run = subprocess.run([sys.executable, str(REPO / "workflow" / "scripts" / "evidence_release_snapshot.py"),
                          str(shipped), "--outdir", str(tmp_path)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    rows = read_snapshot(tmp_path / "2026.12.0.tsv")
    assert ("entry", "paad-daraxonrasib", "pancreatic.yaml") in {r[:3] for r in rows}
    # this release compared with itself: nothing changed
    assert compare_releases(rows, release_snapshot(shipped)[1]) == []
    previous = read_snapshot(Path(str(shipped)) / "releases" / "2026.11.0.tsv")
    assert ("drug_class", "KRAS_G12C_inhibitor", "kb.yaml") in {r[:3] for r in previous}
    assert "paad-daraxonrasib" not in {r[1] for r in previous}
