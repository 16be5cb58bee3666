"""Safety invariants (resources/evidence/safety_rules.yaml) on the shipped evidence base: a grid of synthetic
samples (every alteration of the base and every recurrent hotspot, alone and in pairs, x every tumour type of
the base and one it does not name, x no prior therapy or one prior-therapy class), matched once, breaks no rule.
The checker itself is shown to catch each kind of violation."""

import textwrap

import pandas as pd
import pytest

from krasannot.evidence import safety
from krasannot.evidence.kb import load_kb, shipped_kb, validate_kb
from krasannot.evidence.match import match_samples


@pytest.fixture(scope="module")
def proteins(panels):
    return {tx.gene: tx.protein for tx in panels["GRCh38"].transcripts}


def test_full_grid_has_zero_violations(proteins):
    kb = shipped_kb()
    alterations = safety.grid_alterations(kb, proteins)
    annotated, samples = safety.safety_grid(kb, proteins)
    n_alterations, n_types, n_priors = (len(alterations), len(safety.grid_tumour_types(kb)),
                                        len(safety.grid_prior_therapies(kb)))
    n_combos = n_alterations + n_alterations * (n_alterations - 1) // 2
    assert len(samples) == n_combos * n_types * n_priors
    print(f"safety grid: {n_alterations} alterations alone and in pairs ({n_combos} combinations) x {n_types} "
          f"tumour types x {n_priors} prior-therapy states = {len(samples)} samples, {len(annotated)} call rows")
    assert len(samples) > 250_000
    # the grid holds what the rules are about
    assert {"KRAS", "NRAS", "BRAF", "EGFR", "ERBB2", "MET", "STK11", "KEAP1", "ALK"} <= set(annotated["gene"])
    assert {"COADREAD", "LUAD", "NSCLC", "PAAD", "SKCM"} == set(samples["tumor_type"])
    matches = match_samples(annotated, samples, kb)
    print(f"safety grid: {len(matches)} match rows")
    assert len(matches) > 100_000 and {"sensitive", "resistant", "prognostic"} == set(matches["direction"])
    assert "off_label" in set(matches["tumor_type_match"])
    found = safety.violations(matches, annotated, samples, kb)
    assert found.empty, found.head(20).to_string()


KB = """
version: "test"
released: 2026-11-21
drug_classes:
  anti_EGFR: [cetuximab, panitumumab]
  KRAS_G12C_inhibitor: [sotorasib, adagrasib]
  EGFR_TKI: [osimertinib]
  anti_PD1_PDL1: [pembrolizumab]
drug_class_names:
  anti_EGFR: anti-EGFR antibodies
  KRAS_G12C_inhibitor: KRAS G12C (OFF) inhibitors
  EGFR_TKI: EGFR TKIs
  anti_PD1_PDL1: anti-PD-1/PD-L1 antibodies
entries:
  - id: unsafe-cetuximab-for-g12d
    tumor_types: [COADREAD]
    biomarker: {gene: KRAS, alteration: p.G12D}
    therapy: {drugs: [cetuximab], direction: sensitive}
    level: investigational
    citations: [{type: PMID, id: "1"}]
    summary: An unsafe entry for the test.
    last_reviewed: 2026-11-21
  - id: unsafe-sotorasib-for-g12d
    tumor_types: [NSCLC]
    biomarker: {gene: KRAS, alteration: p.G12D}
    therapy: {drugs: [sotorasib], direction: sensitive}
    level: investigational
    citations: [{type: PMID, id: "1"}]
    summary: An unsafe entry for the test.
    last_reviewed: 2026-11-21
  - id: unsafe-osimertinib-for-kras
    tumor_types: [NSCLC]
    biomarker: {gene: KRAS, alteration: p.G12C}
    therapy: {drugs: [osimertinib], direction: sensitive}
    level: investigational
    citations: [{type: PMID, id: "1"}]
    summary: An unsafe entry for the test.
    last_reviewed: 2026-11-21
  - id: unsafe-stk11-resistance
    tumor_types: [LUAD]
    biomarker: {gene: STK11, alteration: loss_of_function}
    therapy: {drugs: [anti_PD1_PDL1], direction: resistant}
    level: resistance_clinical
    citations: [{type: PMID, id: "1"}]
    summary: An unsafe entry for the test.
    last_reviewed: 2026-11-21
  - id: safe-g12c-combination
    tumor_types: [COADREAD]
    biomarker:
      all:
        - {gene: KRAS, alteration: p.G12C}
        - none:
            - {gene: [KRAS, NRAS], alteration: "codons 12,13,59,61,117,146", other_than: [p.G12C]}
            - {gene: [KRAS, NRAS], alteration: activating_mutation, other_than: [p.G12C]}
            - {gene: BRAF, alteration: p.V600E}
            - {gene: [KRAS, NRAS, ERBB2, MET], alteration: amplification}
    therapy: {drugs: [adagrasib, cetuximab], direction: sensitive}
    level: approved
    tumour_specific: true
    citations: [{type: PMID, id: "1"}]
    summary: A safe colorectal G12C combination.
    last_reviewed: 2026-11-21
  - id: unsafe-g12c-combination-without-exclusions
    tumor_types: [COADREAD]
    biomarker: {gene: KRAS, alteration: p.G12C}
    therapy: {drugs: [sotorasib, panitumumab], direction: sensitive}
    level: approved
    citations: [{type: PMID, id: "1"}]
    summary: A colorectal G12C combination that forgot its exclusions.
    last_reviewed: 2026-11-21
"""


def test_kb_validate_reports_each_unsafe_entry_and_spares_the_safe_one(tmp_path, proteins):
    (tmp_path / "kb.yaml").write_text(textwrap.dedent(KB))
    kb = load_kb(tmp_path)
    problems = validate_kb(kb, proteins, set(proteins))
    broken = {p.split(": ")[1]: p for p in problems}
    assert "no-anti-egfr-in-ras-braf-altered-colorectal" in broken["unsafe-cetuximab-for-g12d"]
    assert "no-g12c-inhibitor-without-g12c" in broken["unsafe-sotorasib-for-g12d"]
    assert "no-egfr-tki-without-sensitising-egfr" in broken["unsafe-osimertinib-for-kras"]
    assert "no-resistance-from-prognostic-only" in broken["unsafe-stk11-resistance"]
    # the G12C combination without `none:` fires beside a second RAS alteration; the one with it never does
    assert "KRAS" in broken["unsafe-g12c-combination-without-exclusions"] or \
        "NRAS" in broken["unsafe-g12c-combination-without-exclusions"]
    assert "safe-g12c-combination" not in broken


def test_structural_rules_on_a_matches_table():
    kb = shipped_kb()
    matches = pd.DataFrame([
        dict(sample="P", evidence_id="crc-kras-g12c-adagrasib-cetuximab", tumor_type_match="off_label",
             direction="sensitive", therapy="adagrasib + cetuximab", tumor_type="PAAD"),
        dict(sample="P", evidence_id="nsclc-kras-g12c-sotorasib", tumor_type_match="off_label",
             direction="sensitive", therapy="sotorasib", tumor_type="PAAD")])
    from krasannot.annotate.classify import classify_calls

    annotated = classify_calls(pd.DataFrame([dict(
        sample="P", gene="KRAS", hgvsp_short="p.G12C", consequence="missense_variant", call_type="variant",
        status="annotated", detection="detected", filter="PASS", vaf=0.3, protein_position="12")]))
    samples = pd.DataFrame([dict(sample="P", tumor_type="PAAD", prior_therapies="")])
    found = safety.violations(matches, annotated, samples, kb)
    assert found["rule"].tolist() == ["no-off-label-tumour-specific"]
    assert found["evidence_id"].tolist() == ["crc-kras-g12c-adagrasib-cetuximab"]


def test_shipped_base_passes_kb_validate_with_the_safety_rules(capsys):
    from krasannot.cli import main

    assert main(["kb", "validate"]) == 0
    assert capsys.readouterr().err.strip().endswith(": valid")
