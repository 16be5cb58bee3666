"""The clinical decision layer as a reviewing oncologist would try it (issue 15): scenarios written as ctDNA
call tables, annotated and matched through the command line, asserting what must and must not be offered,
the order, and the words; then `krasannot run` on each table."""

import re

import pandas as pd
import pytest

from krasannot.cli import main
from krasannot.evidence.kb import shipped_kb

from test_match_scenarios import annotate_and_match

HEADER = "gene\talteration\ttype\tvaf\n"
# an extended RAS panel and BRAF V600 assayed, nothing found (rows of HEADER's columns)
RAS_BRAF_ASSAYED = ("KRAS/NRAS\tG12/G13/A59/Q61/K117/A146 not detected\t\t\n"
                    "BRAF\tV600 not detected\t\t\n")
ANTI_EGFR = {"cetuximab", "panitumumab"}


def table(tmp_path, rows: str, name="calls.ctdna.tsv"):
    path = tmp_path / name
    path.write_text(HEADER + rows)
    return path


def run_scenario(tmp_path, rows, tumor_type, *options):
    return annotate_and_match(tmp_path, [table(tmp_path, rows)], tumor_type, *options)


def with_anti_egfr(therapy: str) -> bool:
    return bool(set(therapy.split(" + ")) & ANTI_EGFR)


def internal_ids_in(matches: pd.DataFrame) -> list[str]:
    """Internal identifiers in any text column but evidence_id: class names, resistance tags, seed ids."""
    kb = shipped_kb()
    ids = set(kb.drug_classes) | {"G12Ci_acquired", "ICI_poor_outcome", "antiEGFR", "EGFR_TKI_T790M"}
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, sorted(ids, key=len, reverse=True))) + r")\b|seed 0\d\d_")
    text = matches.drop(columns=["evidence_id"]).astype(str)
    return sorted({m.group(0) for column in text for value in text[column] for m in pattern.finditer(value)})


# ---- resistance only in context ------------------------------------------------------------------------------

def test_naive_luad_kras_g12d_shows_no_resistance(tmp_path):
    matches, summary = run_scenario(tmp_path, "KRAS\tG12D\tSNV\t0.3\n", "LUAD")
    assert set(matches["direction"]) == {"sensitive"}   # MRTX1133 (investigational) only
    assert summary["resistance_alterations"] == ""
    annotated = pd.read_csv(tmp_path / "a.tsv", sep="\t", dtype=str, keep_default_na=False)
    assert set(annotated["resistance"]) == {""}   # annotate claims no resistance on its own
    assert internal_ids_in(matches) == []


def test_luad_g12c_without_stk11_keap1_loss_has_no_immunotherapy_note(tmp_path):
    matches, summary = run_scenario(tmp_path, "KRAS\tG12C\tSNV\t0.3\n", "LUAD")
    assert not {"resistant", "prognostic"} & set(matches["direction"])
    assert summary["resistance_alterations"] == ""


def test_crc_kras_g12d_resistance_is_stated_in_words_with_its_entry(tmp_path):
    matches, summary = run_scenario(tmp_path, "KRAS\tG12D\tSNV\t0.3\n", "COADREAD")
    assert ANTI_EGFR <= set(matches.loc[matches["direction"] == "resistant", "therapy"])
    assert ("KRAS p.G12D (VAF 0.3): resistant to cetuximab in this tumour type "
            "(crc-ras-mutant-cetuximab-resistance, resistance_standard)") in summary["resistance_alterations"]


# ---- wild-type means wild-type ------------------------------------------------------------------------------------

def test_crc_kras_amplification_with_hotspots_not_detected_is_anti_egfr_resistant_never_sensitive(tmp_path):
    matches, summary = run_scenario(tmp_path, RAS_BRAF_ASSAYED + "KRAS\tKRAS amplification\tCNA\t\n", "COADREAD")
    resistant = matches[matches["direction"] == "resistant"]
    assert {"crc-kras-amplification-cetuximab-resistance", "crc-kras-amplification-panitumumab-resistance"} <= set(
        resistant["evidence_id"])
    sensitive = matches[matches["direction"] == "sensitive"]
    assert not any(with_anti_egfr(t) for t in sensitive["therapy"])   # not even "not assessed"
    assert summary["kras_status"] == "KRAS amplification"
    assert "KRAS amplification: resistant to cetuximab" in summary["resistance_alterations"]


@pytest.mark.parametrize("extra", ["NRAS\tNRAS amplification\tCNA\t\n", "KRAS\tA146T\tSNV\t0.2\n",
                                   "ERBB2\tERBB2 amplification\tCNA\t\n", "MET\tMET amplification\tCNA\t\n"])
def test_crc_anti_egfr_exclusions(tmp_path, extra):
    matches, _ = run_scenario(tmp_path, RAS_BRAF_ASSAYED + extra, "COADREAD")
    assert not any(with_anti_egfr(t) for t in matches.loc[matches["direction"] == "sensitive", "therapy"])
    assert ANTI_EGFR <= set(matches.loc[matches["direction"] == "resistant", "therapy"])


def test_crc_plasma_egfr_s492r_with_kras_q61h_gets_no_panitumumab(tmp_path):
    rows = RAS_BRAF_ASSAYED.replace("KRAS/NRAS", "NRAS") + "EGFR\tS492R\tSNV\t0.05\nKRAS\tQ61H\tSNV\t0.08\n"
    matches, _ = run_scenario(tmp_path, rows, "COADREAD", "--specimen", "plasma", "--prior-therapy", "cetuximab")
    assert "panitumumab" not in set(matches.loc[matches["direction"] == "sensitive", "therapy"])
    assert "panitumumab" in set(matches.loc[matches["direction"] == "resistant", "therapy"])   # KRAS Q61H
    # without the RAS alteration the S492R rechallenge is offered, with no "progressed on" warning: it is the
    # entry's own indication
    (tmp_path / "clean").mkdir()
    rows = RAS_BRAF_ASSAYED + "EGFR\tS492R\tSNV\t0.05\n"
    matches, _ = run_scenario(tmp_path / "clean", rows, "COADREAD", "--specimen", "plasma",
                              "--prior-therapy", "cetuximab")
    s492r = matches[matches["evidence_id"] == "crc-egfr-s492r-panitumumab"].iloc[0]
    assert s492r["direction"] == "sensitive" and "progressed on" not in s492r["caveats"]
    assert s492r["setting"] == "after progression on cetuximab"


# ---- ranking --------------------------------------------------------------------------------------------------

def test_luad_egfr_l858r_clonal_with_subclonal_kras_g12c_ranks_osimertinib_first(tmp_path):
    matches, _ = run_scenario(tmp_path, "EGFR\tL858R\tSNV\t0.30\nKRAS\tG12C\tSNV\t0.02\n", "LUAD")
    first = matches[matches["rank"] == "1"].iloc[0]
    assert first["therapy"] == "osimertinib" and first["setting"] == "first line"   # the preferred first-line TKI
    g12c = matches[matches["therapy"].isin(["sotorasib", "adagrasib"])]
    assert set(g12c["clonality"]) == {"subclonal"}
    assert all("subclonal: matched call VAF 0.02" in c for c in g12c["caveats"])
    egfr = matches[matches["therapy"].str.contains("osimertinib|erlotinib|gefitinib|afatinib|dacomitinib")]
    assert egfr["rank"].astype(int).max() < g12c["rank"].astype(int).min()
    assert matches["rank"].astype(int).tolist() == list(range(1, len(matches) + 1))


def test_braf_v600e_msi_high_crc_ranks_a_first_line_option_first(tmp_path):
    rows = RAS_BRAF_ASSAYED.replace("BRAF\tV600 not detected\t\t\n", "") + "BRAF\tV600E\tSNV\t0.3\n"
    matches, _ = run_scenario(tmp_path, rows, "COADREAD", "--msi-high")
    first = matches[matches["rank"] == "1"].iloc[0]
    assert first["setting"] == "first line" and first["tumor_type_match"] == "on_label"
    agnostic = matches[matches["evidence_id"] == "agnostic-msi-h-pembrolizumab"].iloc[0]
    assert int(agnostic["rank"]) > int(matches[matches["evidence_id"] == "crc-msi-h-pembrolizumab"]["rank"].iloc[0])


# ---- tumour-specific entries ------------------------------------------------------------------------------------

def test_pancreatic_g12c_gets_no_anti_egfr_combination(tmp_path):
    matches, _ = run_scenario(tmp_path, "KRAS\tG12C\tSNV\t0.3\n", "PAAD")
    assert not any(with_anti_egfr(t) for t in matches["therapy"])
    assert {"sotorasib", "adagrasib"} <= set(matches.loc[matches["direction"] == "sensitive", "therapy"])
    sotorasib = matches[matches["evidence_id"] == "paad-kras-g12c-sotorasib"].iloc[0]
    assert (sotorasib["level"], sotorasib["level_amp_asco_cap"]) == ("clinical", "Tier II, Level C")


# ---- STK11 / KEAP1 ------------------------------------------------------------------------------------------------

def test_luad_g12c_with_stk11_d194y_is_recognised_as_loss(tmp_path):
    matches, summary = run_scenario(tmp_path, "KRAS\tG12C\tSNV\t0.3\nSTK11\tD194Y\tSNV\t0.25\n", "LUAD")
    assert summary["stk11_status"] == "loss_of_function"
    assert "nsclc-kras-g12c-stk11-adagrasib" in set(matches["evidence_id"])
    poor = matches[matches["evidence_id"] == "luad-kras-stk11-anti-pd-l1-poor-outcome"].iloc[0]
    assert poor["direction"] == "prognostic" and "STK11 p.D194Y" in poor["matched_calls"]


def test_luad_g12c_with_stk11_truncation_is_prognostic_for_anti_pd1_not_resistant(tmp_path):
    matches, summary = run_scenario(tmp_path, "KRAS\tG12C\tSNV\t0.3\nSTK11\tQ37*\tSNV\t0.25\n", "LUAD")
    assert "resistant" not in set(matches["direction"]) and summary["resistance_alterations"] == ""
    poor = matches[matches["direction"] == "prognostic"]
    assert poor["therapy"].tolist() == ["anti-PD-1/PD-L1 antibodies"]
    assert "HR 2.04" in poor["summary"].iloc[0]
    assert internal_ids_in(matches) == []


def test_luad_g12c_with_keap1_kelch_missense_is_recognised_as_loss(tmp_path):
    matches, summary = run_scenario(tmp_path, "KRAS\tG12C\tSNV\t0.3\nKEAP1\tG333C\tSNV\t0.25\n", "LUAD")
    assert summary["keap1_status"] == "loss_of_function"
    assert "luad-kras-keap1-anti-pd-l1-poor-outcome" in set(matches["evidence_id"])


# ---- prior therapy by class -------------------------------------------------------------------------------------

def test_crc_after_cetuximab_flags_panitumumab_by_class_and_ranks_it_last(tmp_path):
    matches, _ = run_scenario(tmp_path, RAS_BRAF_ASSAYED, "COADREAD", "--prior-therapy", "cetuximab")
    panitumumab = matches[matches["evidence_id"] == "crc-ras-braf-wild-type-panitumumab"].iloc[0]
    assert "progressed on cetuximab (anti-EGFR antibodies class)" in panitumumab["caveats"]
    sensitive = matches[matches["direction"] == "sensitive"]
    flagged = sensitive["caveats"].str.contains("progressed on")
    assert flagged.any() and (~flagged).any() or flagged.all()
    if (~flagged).any():
        assert sensitive.loc[flagged, "rank"].astype(int).min() > sensitive.loc[~flagged, "rank"].astype(int).max()


def test_crc_g12c_after_sotorasib_panitumumab_flags_adagrasib_cetuximab(tmp_path):
    rows = RAS_BRAF_ASSAYED.replace("KRAS/NRAS", "NRAS") + "KRAS\tG12C\tSNV\t0.3\n"
    matches, _ = run_scenario(tmp_path, rows, "COADREAD", "--prior-therapy", "sotorasib,panitumumab")
    combination = matches[matches["therapy"] == "adagrasib + cetuximab"].iloc[0]
    assert "progressed on sotorasib (KRAS G12C (OFF) inhibitors class)" in combination["caveats"]
    assert "progressed on panitumumab (anti-EGFR antibodies class)" in combination["caveats"]
    # every G12C option is flagged here; the regimen itself (sotorasib + panitumumab) ranks after the class members
    sensitive = matches[matches["direction"] == "sensitive"]
    assert sensitive["caveats"].str.contains("progressed on").all()
    same = matches[matches["therapy"] == "sotorasib + panitumumab"].iloc[0]
    assert "progressed on sotorasib;" in same["caveats"] + ";" and int(same["rank"]) > int(combination["rank"])
    assert internal_ids_in(matches) == []


# ---- words -------------------------------------------------------------------------------------------------------

def test_citations_name_seed_papers_in_words_and_split_only_between_citations(tmp_path):
    matches, _ = run_scenario(tmp_path, "KRAS\tG12C\tSNV\t0.3\n", "COADREAD")
    combination = matches[matches["evidence_id"] == "crc-kras-g12c-adagrasib-cetuximab"].iloc[0]
    parts = combination["citations"].split("; ")
    assert parts[0].startswith("FDA KRAZATI (adagrasib) label (KRYSTAL-1) 2024-06-21")
    monotherapy = matches[matches["evidence_id"] == "crc-kras-g12c-adagrasib-monotherapy"].iloc[0]
    parts = monotherapy["citations"].split("; ")
    assert "Tang et al., World J Gastroenterol 2023,29(6), targeted-therapy resistance in mCRC (seed paper)" in parts
    assert not any(p.startswith("seed ") for p in parts)


# ---- krasannot run on every scenario table -------------------------------------------------------------------

# variant rows carry depth as a ctDNA report does; copy-number, fusion and not-detected rows have none
RUN_SCENARIOS = {
    "luad-g12d": ("KRAS\tG12D\tSNV\t0.3\t2000\t600\n", "LUAD", []),
    "crc-s492r-q61h": ("EGFR\tS492R\tSNV\t0.05\t3000\t150\nKRAS\tQ61H\tSNV\t0.08\t3000\t240\n", "COADREAD",
                       ["--specimen", "plasma", "--prior-therapy", "cetuximab"]),
    "luad-egfr-g12c": ("EGFR\tL858R\tSNV\t0.30\t2000\t600\nKRAS\tG12C\tSNV\t0.02\t2000\t40\n", "LUAD", []),
    "paad-g12c": ("KRAS\tG12C\tSNV\t0.3\t2000\t600\n", "PAAD", []),
    "luad-g12c-stk11-d194y": ("KRAS\tG12C\tSNV\t0.3\t2000\t600\nSTK11\tD194Y\tSNV\t0.25\t2000\t500\n", "LUAD", []),
    "luad-g12c-stk11-q37": ("KRAS\tG12C\tSNV\t0.3\t2000\t600\nSTK11\tQ37*\tSNV\t0.25\t2000\t500\n", "LUAD", []),
    "crc-g12c-after-sotorasib-panitumumab": ("KRAS\tG12C\tSNV\t0.3\t2000\t600\n", "COADREAD",
                                             ["--prior-therapy", "sotorasib,panitumumab"]),
    "crc-kras-amp": (RAS_BRAF_ASSAYED.replace("\t\t\n", "\t\t\t\t\n") + "KRAS\tKRAS amplification\tCNA\t\t\t\n",
                     "COADREAD", []),
    "crc-after-cetuximab": (RAS_BRAF_ASSAYED.replace("\t\t\n", "\t\t\t\t\n"), "COADREAD",
                            ["--prior-therapy", "cetuximab"]),
    "luad-alk-fusion": ("ALK\tEML4-ALK\tfusion\t\t\t\n", "LUAD", []),
}
@pytest.mark.parametrize("name", sorted(RUN_SCENARIOS))
def test_krasannot_run_on_each_scenario_table(tmp_path, name):
    rows, tumor_type, options = RUN_SCENARIOS[name]
    path = tmp_path / f"{name}.ctdna.tsv"
    path.write_text("gene\talteration\ttype\tvaf\tdepth\talt_depth\n" + rows)
    outdir = tmp_path / "out"
    code = main(["run", str(path), "--sample", name, "--build", "GRCh38", "--outdir", str(outdir),
                 "--tumor-type", tumor_type, *options])
    assert code == 0
    matches = pd.read_csv(outdir / f"{name}.matches.tsv", sep="\t", dtype=str, keep_default_na=False)
    assert len(matches) and internal_ids_in(matches) == []
    html = (outdir / f"{name}.report.html").read_text()
    for internal in ("anti_PD1_PDL1", "G12Ci_acquired", "ICI_poor_outcome", "seed 00"):
        assert internal not in html


def test_a_combination_given_for_the_alteration_is_no_conflict_with_its_drug_alone(tmp_path):
    """BRAF V600E CRC: encorafenib + cetuximab is given for V600E, which defeats cetuximab alone: no conflict.
    CRC G12C with Y96D after sotorasib: sotorasib + panitumumab is in conflict with Y96D's sotorasib resistance."""
    matches, _ = run_scenario(tmp_path, "BRAF\tV600E\tSNV\t0.3\n", "COADREAD")
    combination = matches[matches["therapy"] == "encorafenib + cetuximab"].iloc[0]
    assert combination["direction"] == "sensitive" and combination["conflict"] == ""
    assert "cetuximab" in set(matches.loc[matches["direction"] == "resistant", "therapy"])
    matches, _ = run_scenario(tmp_path, "KRAS\tG12C\tSNV\t0.3\nKRAS\tY96D\tSNV\t0.05\n", "COADREAD",
                              "--prior-therapy", "sotorasib")
    combination = matches[matches["therapy"] == "sotorasib + panitumumab"].iloc[0]
    assert "resistant for sotorasib" in combination["conflict"]
