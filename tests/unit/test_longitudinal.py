"""krasannot compare: what changed between one patient's timepoints, on hand-made tables."""

from pathlib import Path

import pandas as pd
import pytest

from krasannot import columns as C
from krasannot.cli import main
from krasannot.report.longitudinal import (Timepoint, compare_timepoints, prior_therapy_resistance,
                                           sample_alterations, what_changed)


def annotated(sample, rows):
    """rows: dicts with gene, hgvsp_short / cn_state, vaf, optional detection, filter, call_type."""
    records = []
    for r in rows:
        call_type = r.get("call_type", "copy_number" if "cn_state" in r else "variant")
        hgvsp = r.get("hgvsp_short", "")
        records.append({C.SAMPLE: sample, C.GENE: r["gene"], C.HGVSP_SHORT: hgvsp,
                        C.PROTEIN_POSITION: hgvsp[3:-1] if hgvsp else "", C.CALL_TYPE: call_type,
                        C.CN_STATE: r.get("cn_state", ""), C.STATUS: "annotated",
                        C.DETECTION: r.get("detection", "detected"), C.FILTER: r.get("filter", "PASS"),
                        C.VAF: r.get("vaf", "")})
    # as `krasannot compare` reads them: every cell a string
    return pd.DataFrame(records).astype(str).reindex(columns=C.ANNOTATED_TSV_COLUMNS, fill_value="")


def matches(sample, rows):
    """rows: (evidence_id, therapy, direction, matched_calls)."""
    return pd.DataFrame([{C.SAMPLE: sample, C.EVIDENCE_ID: e, C.THERAPY: t, C.DIRECTION: d, C.LEVEL: "resistance_clinical",
                          C.MATCHED_CALLS: m, C.BIOMARKER: "b", C.CITATIONS: "PMID:1"} for e, t, d, m in rows]
                        ).astype(str).reindex(columns=C.MATCH_COLUMNS, fill_value="")


BASELINE = annotated("PT-T0", [{"gene": "KRAS", "hgvsp_short": "p.G12C", "vaf": 0.34},
                               {"gene": "TP53", "hgvsp_short": "p.R158H", "vaf": 0.40},
                               {"gene": "STK11", "hgvsp_short": "p.Q37*", "vaf": 0.30}])
PROGRESSION = annotated("PT-T1", [{"gene": "KRAS", "hgvsp_short": "p.G12C", "vaf": 0.061},
                                  {"gene": "KRAS", "hgvsp_short": "p.Y96D", "vaf": 0.024},
                                  {"gene": "TP53", "hgvsp_short": "p.R158H", "vaf": 0.055},
                                  {"gene": "MET", "cn_state": "amplification"},
                                  {"gene": "EGFR", "hgvsp_short": "p.L858R", "vaf": 0.2, "filter": "weak_evidence"}])
PROGRESSION_MATCHES = matches("PT-T1", [
    ("g12ci-y96d", "sotorasib", "resistant", "KRAS p.Y96D (VAF 0.024)"),
    ("g12ci-met", "sotorasib", "resistant", "MET amplification"),
    ("crc-ras-antiegfr", "cetuximab", "resistant", "KRAS p.G12C (VAF 0.061)"),
    ("nsclc-g12c-sotorasib", "sotorasib", "sensitive", "KRAS p.G12C (VAF 0.061)"),
])
# the two acquired-resistance entries require a KRAS G12C inhibitor before; the anti-EGFR one does not
REQUIRED_PRIOR = {"g12ci-y96d": {"sotorasib", "adagrasib"}, "g12ci-met": {"sotorasib", "adagrasib"}}


def changes_by_alteration(changes):
    return dict(zip(changes["alteration"], changes["change"]))


def test_new_resistance_alterations_at_progression_carry_the_entries_for_the_prior_therapy():
    series = [Timepoint("PT-T0", "baseline", "tissue", BASELINE, matches("PT-T0", [])),
              Timepoint("PT-T1", "progression", "plasma", PROGRESSION, PROGRESSION_MATCHES)]
    changes, resistance = what_changed("PT", series, REQUIRED_PRIOR, {"sotorasib"})
    by_alteration = changes.set_index("alteration")
    assert by_alteration.loc["KRAS p.Y96D", "change"] == "new"
    assert by_alteration.loc["KRAS p.Y96D", "resistance_therapy"] == "sotorasib"
    assert by_alteration.loc["KRAS p.Y96D", "resistance_evidence"] == "g12ci-y96d"
    assert by_alteration.loc["MET amplification", "change"] == "new"
    assert by_alteration.loc["MET amplification", "resistance_evidence"] == "g12ci-met"
    assert by_alteration.loc["KRAS p.Y96D", "vaf_after"] == pytest.approx(0.024)
    # STK11 is in the tissue calls only: absent from plasma, not claimed lost
    assert by_alteration.loc["STK11 p.Q37*", "change"] == "absent"
    assert "plasma may not carry" in by_alteration.loc["STK11 p.Q37*", "note"]
    # G12C and TP53 fell or stayed, no resistance entry fired on them: not listed; the filtered EGFR call neither
    assert set(by_alteration.index) == {"KRAS p.Y96D", "MET amplification", "STK11 p.Q37*"}
    assert set(changes["from_sample"]) == {"PT-T0"} and set(changes["to_sample"]) == {"PT-T1"}
    # only resistant entries that require the prior therapy
    assert sorted(resistance[C.EVIDENCE_ID]) == ["g12ci-met", "g12ci-y96d"]
    assert set(resistance["timepoint"]) == {"progression"}


def test_resistance_requires_a_prior_therapy_the_patient_received():
    fired = prior_therapy_resistance(PROGRESSION_MATCHES, REQUIRED_PRIOR, {"osimertinib"})
    assert fired.empty
    fired = prior_therapy_resistance(PROGRESSION_MATCHES, REQUIRED_PRIOR, {"adagrasib"})
    assert sorted(fired[C.EVIDENCE_ID]) == ["g12ci-met", "g12ci-y96d"]
    assert set(fired["required_prior_therapy"]) == {"adagrasib, sotorasib"}


@pytest.mark.parametrize("before, after, change", [
    (0.10, 0.16, "rising"),      # +0.06 and 1.6x
    (0.10, 0.15, "rising"),      # exactly +0.05 and 1.5x
    (0.40, 0.46, "persistent"),  # +0.06 but only 1.15x
    (0.002, 0.010, "persistent"),  # 5x but only +0.008
    (0.30, 0.10, "persistent"),  # falling
])
def test_rising_needs_both_the_absolute_and_the_fold_increase(before, after, change):
    t0 = sample_alterations(annotated("A", [{"gene": "KRAS", "hgvsp_short": "p.G12C", "vaf": before}]))
    t1 = sample_alterations(annotated("B", [{"gene": "KRAS", "hgvsp_short": "p.G12C", "vaf": after}]))
    assert changes_by_alteration(compare_timepoints(t0, t1)) == {"KRAS p.G12C": change}


def test_lost_only_where_the_later_sample_assessed_the_residue_or_gene():
    t0 = sample_alterations(annotated("A", [{"gene": "KRAS", "hgvsp_short": "p.G12C", "vaf": 0.3},
                                            {"gene": "NRAS", "hgvsp_short": "p.Q61K", "vaf": 0.2},
                                            {"gene": "MET", "cn_state": "amplification"},
                                            {"gene": "ERBB2", "cn_state": "amplification"}]))
    # KRAS codon 12 genotyped wild-type; MET copy number measured neutral; NRAS and ERBB2 not assessed
    t1 = sample_alterations(annotated("B", [{"gene": "KRAS", "hgvsp_short": "p.G12C", "detection": "not_detected"},
                                            {"gene": "MET", "cn_state": "neutral"}]))
    assert changes_by_alteration(compare_timepoints(t0, t1)) == {
        "KRAS p.G12C": "lost", "MET amplification": "lost", "NRAS p.Q61K": "absent",
        "ERBB2 amplification": "absent"}


def _write_kb(directory: Path) -> None:
    directory.mkdir()
    (directory / "kb.yaml").write_text('version: "test-1"\nreleased: 2026-01-01\n'
                                       "drug_classes:\n  KRAS_G12C_inhibitor: [sotorasib, adagrasib]\n")
    entry = """
  - id: {id}
    tumor_types: [NSCLC]
    biomarker:
      {biomarker}
    therapy: {{drugs: [{drug}], direction: resistant}}
    level: resistance_clinical
    citations: [{{type: PMID, id: "1"}}]
    summary: A hand-made entry for the compare test.
    last_reviewed: 2026-01-01
"""
    (directory / "resistance.yaml").write_text("entries:" + "".join([
        entry.format(id="g12ci-y96d", drug="sotorasib",
                     biomarker="{gene: KRAS, alteration: p.Y96D, prior_therapy: [KRAS_G12C_inhibitor]}"),
        entry.format(id="g12ci-met", drug="sotorasib",
                     biomarker="{gene: MET, alteration: amplification, prior_therapy: [KRAS_G12C_inhibitor]}"),
        entry.format(id="crc-ras-antiegfr", drug="cetuximab", biomarker="{gene: KRAS, alteration: mutation}"),
    ]))


def test_compare_command_writes_tsv_and_escaped_html(tmp_path):
    kb = tmp_path / "kb"
    _write_kb(kb)
    paths = {}
    hostile = PROGRESSION_MATCHES.copy()
    hostile.loc[0, C.BIOMARKER] = "<script>alert(1)</script>"
    for name, table in (("t0.annotated.tsv", BASELINE), ("t1.annotated.tsv", PROGRESSION),
                        ("t0.matches.tsv", matches("PT-T0", [])), ("t1.matches.tsv", hostile)):
        paths[name] = tmp_path / name
        table.to_csv(paths[name], sep="\t", index=False)
    out = tmp_path / "out"
    code = main(["compare", str(paths["t0.annotated.tsv"]), str(paths["t1.annotated.tsv"]),
                 "--matches", str(paths["t0.matches.tsv"]), str(paths["t1.matches.tsv"]),
                 "--patient", "PT", "--sample", "PT-T0,PT-T1", "--timepoints", "baseline,progression",
                 "--specimens", "tissue,plasma", "--prior-therapy", "sotorasib", "--kb", str(kb), "--outdir", str(out)])
    assert code == 0
    table = pd.read_csv(out / "PT.changes.tsv", sep="\t", dtype=str, keep_default_na=False)
    new = table[table["change"] == "new"].set_index("alteration")
    assert new.loc["KRAS p.Y96D", "resistance_therapy"] == "sotorasib"
    assert new.loc["MET amplification", "resistance_evidence"] == "g12ci-met"
    assert new.loc["KRAS p.Y96D", "to_timepoint"] == "progression"
    html = (out / "PT.changes.html").read_text()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "KRAS p.Y96D" in html and "g12ci-met" in html and "crc-ras-antiegfr" not in html


def test_compare_names_the_file_that_is_not_an_annotated_table(tmp_path, capsys):
    bad = tmp_path / "bad.tsv"
    bad.write_text("gene\tvaf\nKRAS\t0.1\n")
    code = main(["compare", str(bad), str(bad), "--matches", str(bad), str(bad), "--patient", "PT",
                 "--outdir", str(tmp_path / "out")])
    assert code == 2
    err = capsys.readouterr().err
    assert f"{bad}:1: not an annotated table: no column sample" in err
    assert not (tmp_path / "out").exists()


def test_compare_refuses_an_unsafe_patient_id(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["compare", "a", "b", "--matches", "c", "d", "--patient", "../x", "--outdir", str(tmp_path)])
    assert "not a safe id" in capsys.readouterr().err
