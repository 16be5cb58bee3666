"""The matcher's mechanics on a small inline evidence base: exact/codon/wild-type/CN/fusion terms,
three-valued wild-type logic, tumour-type hierarchy, off-label, prior therapy, conflicts."""

import textwrap

import pandas as pd
import pytest

from krasannot.annotate.classify import classify_calls, summarize_samples
from krasannot.annotate.pipeline import annotate_calls
from krasannot.errors import ReferenceDataError, UsageError
from krasannot.evidence.kb import load_kb, validate_kb
from krasannot.evidence.match import contextual_resistance, match_samples
from krasannot.reference.backmap import back_map

KB = """
version: "test"
released: 2026-11-21
drug_classes:
  KRAS_G12C_inhibitor: [sotorasib, adagrasib]
entries:
  - id: nsclc-g12c-sotorasib
    tumor_types: [NSCLC]
    biomarker: {gene: KRAS, alteration: p.G12C}
    therapy: {drugs: [sotorasib], direction: sensitive}
    level: approved
    citations: [{type: PMID, id: "34096690"}]
    summary: Sotorasib for KRAS G12C NSCLC.
    last_reviewed: 2026-11-21
  - id: g12ci-acquired
    tumor_types: [NSCLC, COADREAD]
    biomarker:
      any:
        - {gene: KRAS, alteration: "codons 68,95,96", prior_therapy: [KRAS_G12C_inhibitor]}
        - {gene: MET, alteration: amplification, prior_therapy: [KRAS_G12C_inhibitor]}
    therapy: {drugs: [sotorasib, adagrasib], direction: resistant}
    level: resistance_clinical
    resistance_tag: G12Ci_acquired
    citations: [{type: PMID, id: "34161704"}]
    summary: Acquired resistance to KRAS G12C inhibitors.
    last_reviewed: 2026-11-21
  - id: crc-ras-wt-cetuximab
    tumor_types: [COADREAD]
    biomarker: {gene: [KRAS, NRAS], alteration: wild_type, codons: [12, 13, 61]}
    therapy: {drugs: [cetuximab], direction: sensitive}
    level: approved
    caveats: [left_sided_primary_only]
    citations: [{type: PMID, id: "18946061"}]
    summary: Cetuximab for RAS wild-type colorectal cancer.
    last_reviewed: 2026-11-21
  - id: crc-ras-mut-cetuximab
    tumor_types: [COADREAD]
    biomarker: {gene: [KRAS, NRAS], alteration: "codons 12,13,59,61,117,146"}
    therapy: {drugs: [cetuximab], direction: resistant}
    level: resistance_standard
    resistance_tag: antiEGFR
    citations: [{type: PMID, id: "24024839"}]
    summary: RAS mutations predict no benefit from cetuximab.
    last_reviewed: 2026-11-21
  - id: nsclc-alk-alectinib
    tumor_types: [NSCLC]
    biomarker: {gene: ALK, alteration: fusion, partner: EML4}
    therapy: {drugs: [alectinib], direction: sensitive}
    level: approved
    citations: [{type: FDA, id: ALECENSA label, date: 2017-11-06}]
    summary: Alectinib for ALK-rearranged NSCLC.
    last_reviewed: 2026-11-21
  - id: nsclc-egfr-ex19-osimertinib
    tumor_types: [NSCLC]
    biomarker: {gene: EGFR, alteration: exon 19 inframe_deletion}
    therapy: {drugs: [osimertinib], direction: sensitive}
    level: approved
    citations: [{type: PMID, id: "29151359"}]
    summary: Osimertinib for EGFR exon 19 deletions.
    last_reviewed: 2026-11-21
  - id: paad-brca-olaparib
    tumor_types: [PAAD]
    biomarker: {gene: [BRCA1, BRCA2], alteration: loss_of_function, origin: germline}
    therapy: {drugs: [olaparib], direction: sensitive}
    level: approved
    citations: [{type: PMID, id: "31157963"}]
    summary: Olaparib maintenance for germline BRCA-mutated pancreatic cancer.
    last_reviewed: 2026-11-21
"""


@pytest.fixture(scope="module")
def kb(tmp_path_factory):
    directory = tmp_path_factory.mktemp("kb")
    (directory / "kb.yaml").write_text(textwrap.dedent(KB))
    return load_kb(directory)


def _call(panel, sample, text, vaf=0.3, detection="detected", **extra):
    gene = text.split()[0]
    placed = back_map(text, gene, panel)
    return dict(sample=sample, chrom=placed.chrom, pos=placed.pos, ref=placed.ref, alt=placed.alt, filter="PASS",
                vaf=vaf, detection=detection, **extra)


def _annotated(panels, kb, rows, specimen="tissue"):
    panel = panels["GRCh38"]
    return classify_calls(annotate_calls(pd.DataFrame(rows), panel), specimen)


def _samples(*rows):
    return pd.DataFrame(rows, columns=["sample", "tumor_type", "prior_therapies"])


def _matched(matches, sample):
    mine = matches[matches["sample"] == sample]
    return sorted(zip(mine["evidence_id"], mine["direction"], mine["tumor_type_match"], mine["assessment"]))


def test_exact_change_fires_only_in_its_tumour_type_lineage(panels, kb):
    panel = panels["GRCh38"]
    rows = [_call(panel, "LUAD", "KRAS G12C"), _call(panel, "LUAD-G12D", "KRAS G12D")]
    matches = match_samples(_annotated(panels, kb, rows), _samples(("LUAD", "LUAD", ""), ("LUAD-G12D", "LUAD", "")),
                            kb)
    assert _matched(matches, "LUAD") == [("nsclc-g12c-sotorasib", "sensitive", "ancestor", "matched")]
    assert _matched(matches, "LUAD-G12D") == []  # no sotorasib for G12D
    row = matches.iloc[0]
    assert (row["level"], row["level_oncokb"], row["level_amp_asco_cap"]) == ("approved", "1", "Tier I, Level A")
    assert row["matched_calls"] == "KRAS p.G12C (VAF 0.3)" and row["citations"] == "PMID:34096690"


def test_acquired_resistance_needs_the_prior_therapy_and_conflicts_with_the_sensitive_entry(panels, kb):
    panel = panels["GRCh38"]
    rows = [_call(panel, "P", "KRAS G12C", 0.2), _call(panel, "P", "KRAS Y96D", 0.04),
            dict(sample="P", gene="MET", call_type="copy_number", cn_state="amplification", filter="PASS",
                 chrom="", pos=None, ref="", alt=""),
            _call(panel, "NAIVE", "KRAS G12C", 0.2), _call(panel, "NAIVE", "KRAS Y96D", 0.04)]
    annotated = _annotated(panels, kb, rows)
    matches = match_samples(annotated, _samples(("P", "LUAD", "sotorasib"), ("NAIVE", "LUAD", "")), kb)
    assert _matched(matches, "P") == [("g12ci-acquired", "resistant", "ancestor", "matched"),
                                      ("nsclc-g12c-sotorasib", "sensitive", "ancestor", "matched")]
    resistant = matches[(matches["sample"] == "P") & (matches["direction"] == "resistant")].iloc[0]
    assert resistant["matched_calls"] == "KRAS p.Y96D (VAF 0.04); MET amplification"
    assert resistant["conflict"] == "sensitive for sotorasib: nsclc-g12c-sotorasib"
    assert _matched(matches, "NAIVE") == [("nsclc-g12c-sotorasib", "sensitive", "ancestor", "matched")]
    # annotate claims no resistance; after matching, only the sample whose history fires the entry does
    assert set(annotated["resistance"]) == {""}
    tagged = contextual_resistance(annotated, matches)
    y96d = tagged[tagged["hgvsp_short"] == "p.Y96D"].set_index("sample")["resistance"]
    assert y96d["P"] == "resistant to sotorasib + adagrasib (g12ci-acquired, resistance_clinical)"
    assert y96d["NAIVE"] == ""
    summary = summarize_samples(annotated, matches).set_index("sample")
    assert summary.at["P", "kras_status"] == "G12C;Y96D"
    assert summary.at["P", "resistance_alterations"] == (
        "KRAS p.Y96D (VAF 0.04) + MET amplification: resistant to sotorasib + adagrasib in this tumour type "
        "(g12ci-acquired, resistance_clinical)")
    assert summary.at["NAIVE", "resistance_alterations"] == ""
    assert summarize_samples(annotated).at[0, "resistance_alterations"] == ""   # no matches: no context, no claim


def test_wild_type_is_true_only_where_assayed(panels, kb):
    panel = panels["GRCh38"]
    assayed = [_call(panel, "WT", f"{g} {c}", 0.0, "not_detected")
               for g, c in [("KRAS", "G12D"), ("KRAS", "G13D"), ("KRAS", "Q61H"), ("NRAS", "G12D"),
                            ("NRAS", "G13D"), ("NRAS", "Q61K")]]
    rows = assayed + [_call(panel, "UNASSAYED", "TP53 R273H"), _call(panel, "MUT", "KRAS G12C")]
    matches = match_samples(_annotated(panels, kb, rows),
                            _samples(("WT", "COAD", ""), ("UNASSAYED", "COADREAD", ""), ("MUT", "COADREAD", "")), kb)
    assert _matched(matches, "WT") == [("crc-ras-wt-cetuximab", "sensitive", "ancestor", "matched")]
    assert _matched(matches, "UNASSAYED") == [("crc-ras-wt-cetuximab", "sensitive", "on_label", "not_assessed")]
    # COADREAD G12C: resistant to cetuximab, never sensitive; sotorasib (NSCLC) offered off-label
    assert _matched(matches, "MUT") == [("crc-ras-mut-cetuximab", "resistant", "on_label", "matched"),
                                        ("nsclc-g12c-sotorasib", "sensitive", "off_label", "matched")]
    off = matches[(matches["sample"] == "MUT") & (matches["tumor_type_match"] == "off_label")].iloc[0]
    assert off["level"] == "other_tumor_type" and off["level_oncokb"] == "3B"
    not_assessed = matches[matches["sample"] == "UNASSAYED"].iloc[0]
    assert "not_assessed" in not_assessed["caveats"] and "left_sided_primary_only" in not_assessed["caveats"]


def test_a_not_assessed_hotspot_is_not_an_assay(panels, kb):
    panel = panels["GRCh38"]
    rows = [_call(panel, "LOWDEPTH", f"{g} {c}", 0.0, "not_assessed")
            for g, c in [("KRAS", "G12D"), ("KRAS", "G13D"), ("KRAS", "Q61H"), ("NRAS", "G12D"),
                         ("NRAS", "G13D"), ("NRAS", "Q61K")]]
    matches = match_samples(_annotated(panels, kb, rows), _samples(("LOWDEPTH", "COADREAD", "")), kb)
    assert _matched(matches, "LOWDEPTH") == [("crc-ras-wt-cetuximab", "sensitive", "on_label", "not_assessed")]


def test_fusion_partner_exon_event_and_germline_origin(panels, kb):
    panel = panels["GRCh38"]
    rows = [dict(sample="ALK", call_type="fusion", fusion_5p="EML4", fusion_3p="ALK", filter="PASS"),
            dict(sample="ALK-OTHER", call_type="fusion", fusion_5p="KIF5B", fusion_3p="ALK", filter="PASS"),
            _call(panel, "EX19", "EGFR p.E746_A750del"),
            _call(panel, "BRCA-G", "BRCA2 c.5946del", origin="germline"),
            _call(panel, "BRCA-S", "BRCA2 c.5946del", origin="somatic")]
    samples = _samples(("ALK", "LUAD", ""), ("ALK-OTHER", "LUAD", ""), ("EX19", "LUAD", ""),
                       ("BRCA-G", "PAAD", ""), ("BRCA-S", "PAAD", ""))
    matches = match_samples(_annotated(panels, kb, rows), samples, kb)
    assert _matched(matches, "ALK") == [("nsclc-alk-alectinib", "sensitive", "ancestor", "matched")]
    assert _matched(matches, "ALK-OTHER") == []
    assert _matched(matches, "EX19") == [("nsclc-egfr-ex19-osimertinib", "sensitive", "ancestor", "matched")]
    assert _matched(matches, "BRCA-G") == [("paad-brca-olaparib", "sensitive", "on_label", "matched")]
    assert _matched(matches, "BRCA-S") == []


def test_filtered_calls_are_not_matched_unless_asked(panels, kb):
    panel = panels["GRCh38"]
    rows = [dict(_call(panel, "F", "KRAS G12C"), filter="weak_evidence")]
    annotated = _annotated(panels, kb, rows)
    assert match_samples(annotated, _samples(("F", "LUAD", "")), kb).empty
    matches = match_samples(annotated, _samples(("F", "LUAD", "")), kb, include_filtered=True)
    assert matches["evidence_id"].tolist() == ["nsclc-g12c-sotorasib"] and "filtered" in matches.at[0, "caveats"]


def test_unknown_tumour_type_suggests_codes(kb):
    with pytest.raises(UsageError) as error:
        kb.oncotree.check("LUADD")
    assert "unknown tumour type 'LUADD'" in str(error.value) and "LUAD" in str(error.value)


def test_validation_catches_wrong_residue_unknown_code_and_level(tmp_path, panels):
    bad = KB.replace("p.G12C}", "p.A12C}").replace("[PAAD]", "[PANCREAS_X]").replace(
        "level: resistance_standard", "level: approved")
    (tmp_path / "kb.yaml").write_text(textwrap.dedent(bad))
    kb = load_kb(tmp_path)
    proteins = {tx.gene: tx.protein for tx in panels["GRCh38"].transcripts}
    problems = validate_kb(kb, proteins, set(proteins) | {"ALK", "EML4"})
    assert any("KRAS residue 12 is G, not A" in p for p in problems)
    assert any("tumour type PANCREAS_X is not in the OncoTree subset" in p for p in problems)
    assert any("level approved does not fit direction resistant" in p for p in problems)


def test_schema_errors_name_file_and_entry(tmp_path):
    (tmp_path / "kb.yaml").write_text(textwrap.dedent(KB).replace("direction: sensitive", "direction: maybe", 1))
    with pytest.raises(ReferenceDataError) as error:
        load_kb(tmp_path)
    assert "kb.yaml" in str(error.value) and "nsclc-g12c-sotorasib" in str(error.value)


def test_yaml_tags_cannot_run_code(tmp_path):
    (tmp_path / "kb.yaml").write_text("entries: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(ReferenceDataError):
        load_kb(tmp_path)


def test_stated_level_setting_and_seed_citations_in_words(tmp_path, panels):
    (tmp_path / "kb.yaml").write_text(textwrap.dedent("""
        version: "test"
        released: 2026-11-21
        drug_classes:
          KRAS_G12C_inhibitor: [sotorasib, adagrasib]
        drug_class_names:
          KRAS_G12C_inhibitor: KRAS G12C (OFF) inhibitors
        cross_resistance_classes: [KRAS_G12C_inhibitor]
        entries:
          - id: subgroup
            tumor_types: [NSCLC]
            biomarker: {gene: KRAS, alteration: p.G12C}
            therapy: {drugs: [adagrasib], direction: sensitive}
            level: clinical
            setting: later_line
            stated_level: {amp_asco_cap: "Tier II, Level D", basis: "a 14-patient post-hoc subgroup"}
            citations: [{type: seed, id: "001_x", note: "Tang et al., World J Gastroenterol 2023;29(6)"},
                        {type: PMID, id: "123"}]
            summary: A small subgroup, for the test.
            last_reviewed: 2026-11-21
          - id: plain-clinical
            tumor_types: [NSCLC]
            biomarker: {gene: KRAS, alteration: p.G12C}
            therapy: {drugs: [sotorasib], direction: sensitive}
            level: clinical
            setting: first_line
            citations: [{type: PMID, id: "456"}]
            summary: A plain clinical entry, for the test.
            last_reviewed: 2026-11-21
    """))
    small = load_kb(tmp_path)
    annotated = _annotated(panels, small, [_call(panels["GRCh38"], "P", "KRAS G12C")])
    matches = match_samples(annotated, _samples(("P", "LUAD", "")), small).set_index("evidence_id")
    assert matches.at["subgroup", "level_amp_asco_cap"] == "Tier II, Level D"          # stated, with its basis
    assert matches.at["plain-clinical", "level_amp_asco_cap"] == "Tier II, Level C"    # clinical is not Tier I
    assert matches.at["subgroup", "citations"] == (
        "Tang et al., World J Gastroenterol 2023,29(6) (seed paper); PMID:123")
    # no prior therapy: the first-line entry ranks before the later-line one
    assert (matches.at["plain-clinical", "rank"], matches.at["subgroup", "rank"]) == (1, 2)
    assert matches.at["subgroup", "setting"] == "later line"
    after = match_samples(annotated, _samples(("P", "LUAD", "sotorasib")), small).set_index("evidence_id")
    assert after.at["subgroup", "caveats"] == "progressed on sotorasib (KRAS G12C (OFF) inhibitors class)"
    assert after.at["plain-clinical", "caveats"] == "progressed on sotorasib"
    assert (after.at["subgroup", "rank"], after.at["plain-clinical", "rank"]) == (1, 2)
