"""Report test inputs: the demo VCF really annotated by the engine, classification columns set as
annotate/classify.py sets them, and matches / key findings written by hand as the matcher writes them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from krasannot import columns as C
from krasannot.cli import main

REPO = Path(__file__).resolve().parents[2]
DEMO_VCF = REPO / "resources" / "demo" / "DEMO-LUAD-01.GRCh38.vcf"
DEMO = "DEMO-LUAD-01"

# classification of the demo's panel calls (what classify gives them)
DEMO_CLASSIFICATION = {
    "KRAS": {C.KRAS_ALLELE: "G12C", C.HOTSPOT: "True", C.FUNCTIONAL_CLASS: "missense"},
    "STK11": {C.FUNCTIONAL_CLASS: "loss_of_function", C.COMUTATION: "loss_of_function", C.HOTSPOT: "False"},
    "KEAP1": {C.FUNCTIONAL_CLASS: "missense", C.COMUTATION: "missense", C.HOTSPOT: "False"},
    "TP53": {C.FUNCTIONAL_CLASS: "missense", C.COMUTATION: "missense", C.HOTSPOT: "True"},
    "EGFR": {C.FUNCTIONAL_CLASS: "missense", C.HOTSPOT: "True", C.RESISTANCE: "EGFR_TKI_resistance",
             C.CAVEATS: "filtered;low_vaf"},
}


def annotate_demo(workdir: Path, vcf: Path = DEMO_VCF, drop_outside: bool = False) -> Path:
    """Run `krasannot annotate` on a VCF and set the classification columns; returns ANNOTATED.tsv.

    drop_outside leaves out the raw outside-panel rows, whose sample field annotate writes unquoted
    (a sample name starting with '"' cannot be read back by a CSV parser otherwise).
    """
    out = workdir / "annotated.tsv"
    assert main(["annotate", str(vcf), "--build", "auto", "--out", str(out)]) == 0
    if drop_outside:
        lines = out.read_text().splitlines(keepends=True)
        out.write_text("".join(line for line in lines if "\toutside_panel\t" not in line))
    annotated = pd.read_csv(out, sep="\t", dtype=str, keep_default_na=False)
    for gene, values in DEMO_CLASSIFICATION.items():
        for column, value in values.items():
            annotated.loc[annotated[C.GENE] == gene, column] = value
    annotated.to_csv(out, sep="\t", index=False)
    return out


def match_row(sample: str, **values) -> dict:
    row = {column: "" for column in C.MATCH_COLUMNS}
    row.update(sample=sample, **values)
    return row


def demo_matches(sample: str = DEMO, tumor_type: str = "LUAD") -> pd.DataFrame:
    common = dict(tumor_type=tumor_type, tumor_type_match="ancestor", assessment="matched", evidence_tumor_types="NSCLC",
                  evidence_source="curated")
    return pd.DataFrame([
        match_row(sample, level="approved", therapy="sotorasib", direction="sensitive", biomarker="KRAS p.G12C",
                  matched_calls="KRAS p.G12C (VAF 0.29)", evidence_id="nsclc-kras-g12c-sotorasib",
                  level_amp_asco_cap="Tier I, Level A", level_escat="I-A", level_oncokb="1",
                  citations="PMID:34096690; NCT03600883; FDA 2021-05-28",
                  summary="Sotorasib is FDA-approved for KRAS G12C NSCLC after at least one prior systemic therapy.",
                  **common),
        match_row(sample, level="approved", therapy="adagrasib", direction="sensitive", biomarker="KRAS p.G12C",
                  matched_calls="KRAS p.G12C (VAF 0.29)", evidence_id="nsclc-kras-g12c-adagrasib",
                  level_amp_asco_cap="Tier I, Level A", level_escat="I-A", level_oncokb="1",
                  citations="PMID:35658005; NCT03785249", summary="Adagrasib is FDA-approved for KRAS G12C NSCLC.",
                  **common),
        match_row(sample, level="resistance_clinical", therapy="osimertinib", direction="resistant",
                  biomarker="EGFR p.T790M", matched_calls="EGFR p.T790M (VAF 0.03)", evidence_id="egfr-t790m-example",
                  level_amp_asco_cap="Tier II, Level C", level_oncokb="R2", caveats="low_vaf;filtered",
                  conflict="sensitive: osimertinib (clinical)", citations="PMID:28126333",
                  summary="Example resistance entry for the report layout.", **common),
        match_row(sample, level="prognostic_clinical", therapy="", direction="prognostic",
                  biomarker="STK11 loss_of_function", matched_calls="STK11 p.Q37* (VAF 0.42)",
                  evidence_id="nsclc-stk11-prognostic", level_amp_asco_cap="Tier II, Level C", level_oncokb="Px2",
                  citations="PMID:29773717",
                  summary="STK11 loss goes with poor outcome on PD-(L)1 blockade in KRAS-mutant LUAD.", **common),
    ], columns=C.MATCH_COLUMNS)


def summary_row(sample: str, kras: str = "G12C", stk11: str = "loss_of_function", keap1: str = "missense",
                tp53: str = "missense", resistance: str = "EGFR p.T790M (EGFR_TKI_resistance)",
                tumor_type: str = "LUAD") -> dict:
    return {C.SAMPLE: sample, C.KRAS_STATUS: kras, C.STK11_STATUS: stk11, C.KEAP1_STATUS: keap1,
            C.TP53_STATUS: tp53, C.RESISTANCE_ALTERATIONS: resistance, C.TUMOR_TYPE: tumor_type}


def demo_summary(sample: str = DEMO) -> pd.DataFrame:
    return pd.DataFrame([summary_row(sample)])


PROVENANCE = {"evidence_base": {"version": "2026.11", "released": "2026-11-21"},
              "transcript_bundle": {"name": "GRCh38.bundle.json", "source": "shared/refdata sha256:927e"},
              "inputs": [{"role": "input", "name": "DEMO-LUAD-01.GRCh38.vcf", "sha256": "sha256:c1f0"}],
              "records_read": 8, "rows_skipped": 0}
