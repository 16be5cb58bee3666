"""The tested alleles as calls-table rows, the coverage table, engine annotation and the TSV files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .. import columns as C
from .. import models as M
from ..io.genotype_calls import (ALT_FORWARD, ALT_REVERSE, ANNOTATION_STATUS, GENOTYPE_EXTRA_COLUMNS,
                                 GENOTYPE_TSV_COLUMNS, HOTSPOT, LOD, P_VALUE, SOURCE_BAM)
from ..reference.bundle import Panel, reverse_complement
from .alignments import Alignments
from .detection import MIN_DEPTH

COVERAGE_COLUMNS = ["gene", "residue", HOTSPOT, "kind", "chrom", "start", "end", "depth_min", "depth_median",
                    "min_depth", "assessed"]


def calls_table(tested: pd.DataFrame, hotspots: pd.DataFrame, alignments: Alignments) -> pd.DataFrame:
    """The tested alleles as calls-table rows, hotspot facts alongside."""
    if tested.empty:
        return pd.DataFrame(columns=C.CALLS_COLUMNS + [C.DETECTION, C.CALL_TYPE, C.ALTERATION]
                            + GENOTYPE_EXTRA_COLUMNS)
    spot = hotspots.loc[tested["hotspot_index"].to_numpy()].reset_index(drop=True)
    region_row = (tested[C.REF] == "").to_numpy()
    calls = pd.DataFrame({
        C.SAMPLE: alignments.sample,
        C.CHROM: [alignments.contig_names.get(c, c) for c in spot["contig"]],
        C.POS: tested[C.POS].astype(np.int64).to_numpy(), C.VARIANT_ID: ".",
        C.REF: tested[C.REF].to_numpy(), C.ALT: tested[C.ALT].to_numpy(),
        C.FILTER: tested[C.FILTER].to_numpy(), C.DEPTH: tested[C.DEPTH].astype(np.int64).to_numpy(),
        C.ALT_DEPTH: tested[C.ALT_DEPTH].astype(np.int64).to_numpy(), C.VAF: tested[C.VAF].to_numpy(),
        C.GENOTYPE: "", C.PHASE_SET: "", C.SOURCE: SOURCE_BAM, C.INPUT_FILE: alignments.path, C.INPUT_LINE: "",
        C.DETECTION: tested[C.DETECTION].to_numpy(), C.CALL_TYPE: M.CALL_TYPE_VARIANT,
        C.ALTERATION: np.where(region_row, spot[HOTSPOT].to_numpy(), ""),
        ALT_FORWARD: tested[ALT_FORWARD].astype(np.int64).to_numpy(),
        ALT_REVERSE: tested[ALT_REVERSE].astype(np.int64).to_numpy(),
        P_VALUE: tested[P_VALUE].to_numpy(dtype=float), LOD: tested[LOD].to_numpy(dtype=float),
        HOTSPOT: spot[HOTSPOT].to_numpy(), "hotspot_gene": spot["gene"].to_numpy(),
        "hotspot_transcript": spot["transcript"].to_numpy(), "hotspot_in_panel": spot["in_panel"].to_numpy(),
        "hotspot_strand": spot["strand"].to_numpy(), "hotspot_residue": spot["residue_first"].to_numpy(),
        "hotspot_ref_aa": spot["ref_aa"].to_numpy(), "alt_aa": tested["alt_aa"].fillna("").to_numpy(),
    })
    return calls


def coverage_table(coverage: dict, calls: pd.DataFrame, hotspots: pd.DataFrame, alignments: Alignments,
                    specimen: str) -> pd.DataFrame:
    assessed = set(calls.loc[calls[C.DETECTION] != M.DETECTION_NOT_ASSESSED, HOTSPOT]) if len(calls) else set()
    rows = []
    for index, hotspot in hotspots.iterrows():
        depth = coverage.get(index, np.zeros(1, dtype=np.int64))
        rows.append({"gene": hotspot["gene"], "residue": hotspot["residue"], HOTSPOT: hotspot[HOTSPOT],
                     "kind": hotspot["kind"], "chrom": alignments.contig_names.get(hotspot["contig"], hotspot["contig"]),
                     "start": int(hotspot["start"]), "end": int(hotspot["end"]), "depth_min": int(depth.min()),
                     "depth_median": float(np.median(depth)), "min_depth": MIN_DEPTH[specimen],
                     "assessed": "yes" if hotspot[HOTSPOT] in assessed else "no"})
    return pd.DataFrame(rows, columns=COVERAGE_COLUMNS)


def annotate_genotype_calls(calls: pd.DataFrame, panel: Panel, other_panel: Panel | None = None) -> pd.DataFrame:
    """Annotate through the engine, one row per tested allele, and label hotspots outside the bundle.

    Each row is annotated on its own (a unique temporary sample): the genotyper already read codon
    alleles from the reads, so two alleles of one codon (G12D and G12C in different reads) must
    never be merged into one MNV.
    """
    from ..annotate.pipeline import annotate_calls

    if calls.empty:
        return calls.assign(**{c: "" for c in (C.GENE, C.TRANSCRIPT, C.HGVSC, C.HGVSP, C.HGVSP_SHORT,
                                                C.CONSEQUENCE, C.STATUS, C.STATUS_DETAIL)})
    keyed = calls.reset_index(drop=True)
    keyed.attrs = {}
    keyed = keyed.assign(**{C.SAMPLE: [f"row{i}" for i in range(len(keyed))]})
    annotated = annotate_calls(keyed, panel, other_panel)
    annotated["row"] = annotated[C.SAMPLE].str[3:].astype(np.int64)
    annotated = annotated.sort_values("row", kind="stable").drop_duplicates("row").set_index("row")
    out = annotated.reindex(range(len(keyed)))
    out[C.SAMPLE] = calls[C.SAMPLE].to_numpy()
    for column in (C.GENE, C.TRANSCRIPT, C.HGVSC, C.HGVSP, C.HGVSP_SHORT, C.CONSEQUENCE, C.STATUS_DETAIL):
        out[column] = out[column].fillna("")
    return _label_outside_bundle(out.reset_index(drop=True))


def _label_outside_bundle(annotated: pd.DataFrame) -> pd.DataFrame:
    """Gene, transcript and protein change of hotspots the bundle lacks (AKT1), from the listed codon."""
    out = annotated.copy()
    mine = (~out["hotspot_in_panel"].astype(bool)) & (out[C.REF].str.len() == 3)
    labels = []
    for row in out[mine].to_dict("records"):
        residue, ref_aa, alt_aa = int(row["hotspot_residue"]), row["hotspot_ref_aa"], row["alt_aa"]
        forward_ref, forward_alt = row[C.REF], row[C.ALT]
        minus = row["hotspot_strand"] == "-"
        ref_codon = reverse_complement(forward_ref) if minus else forward_ref
        alt_codon = reverse_complement(forward_alt) if minus else forward_alt
        changed = [j for j in range(3) if ref_codon[j] != alt_codon[j]]
        c_first = 3 * (residue - 1) + 1
        if len(changed) == 1:
            j = changed[0]
            hgvsc = f"c.{c_first + j}{ref_codon[j]}>{alt_codon[j]}"
        else:
            lo, hi = changed[0], changed[-1]
            hgvsc = f"c.{c_first + lo}_{c_first + hi}delins{alt_codon[lo:hi + 1]}"
        three = M.THREE_LETTER
        labels.append([
            row["hotspot_gene"], row["hotspot_transcript"], hgvsc, f"p.{ref_aa}{residue}{alt_aa}",
            f"p.{three[ref_aa]}{residue}{three[alt_aa]}", "stop_gained" if alt_aa == "*" else "missense_variant",
            "outside the transcript bundle: gene and protein change from resources/hotspots/hotspots.tsv"])
    for column, values in zip((C.GENE, C.TRANSCRIPT, C.HGVSC, C.HGVSP_SHORT, C.HGVSP, C.CONSEQUENCE,
                               C.STATUS_DETAIL), zip(*labels)):  # all rows at once, column by column
        out.loc[mine, column] = list(values)
    gene_missing = out[C.GENE].fillna("") == ""
    out.loc[gene_missing, C.GENE] = out.loc[gene_missing, "hotspot_gene"]
    return out


def genotype_tsv_frame(annotated: pd.DataFrame) -> pd.DataFrame:
    """CALLS.tsv: `status` is the detection status; the engine's row status is `annotation_status`."""
    out = annotated.rename(columns={C.STATUS: ANNOTATION_STATUS}).copy()
    out[C.STATUS] = out[C.DETECTION]
    out[P_VALUE] = [f"{p:.3g}" if p == p else "" for p in out[P_VALUE]]
    out[LOD] = [f"{v:.4f}" if v == v else "" for v in out[LOD]]
    out[C.VAF] = [f"{v:.4f}" for v in out[C.VAF].astype(float)]
    return out.reindex(columns=GENOTYPE_TSV_COLUMNS)


def write_genotype_outputs(annotated: pd.DataFrame, coverage: pd.DataFrame, out: str) -> str:
    """Write CALLS.tsv and CALLS.coverage.tsv atomically; returns the coverage path."""
    from ..files import atomic_output

    coverage_path = coverage_path_for(out)
    with atomic_output(out) as handle:
        genotype_tsv_frame(annotated).to_csv(handle, sep="\t", index=False, na_rep="", lineterminator="\n")
    with atomic_output(coverage_path) as handle:
        coverage.to_csv(handle, sep="\t", index=False, lineterminator="\n")
    return coverage_path


def coverage_path_for(out: str) -> str:
    path = Path(out)
    stem = path.name[:-4] if path.name.endswith(".tsv") else path.name
    return str(path.with_name(stem + ".coverage.tsv"))
