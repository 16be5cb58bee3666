"""The annotation steps in order: calls table in, annotated table out."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import columns as C
from .. import models as M
from ..reference.builds import canonical_contigs
from ..reference.bundle import Panel
from .consequence import locate_in_transcripts, predict_consequences
from .mnv import merge_same_codon_snvs
from .normalize import flag_reference_mismatches, merge_duplicate_calls, normalize_alleles
from .source import attach_source_annotation

# SO terms for gene-level calls (VEP writes the first two for whole-transcript copy-number changes)
GENE_LEVEL_CONSEQUENCE = {M.CN_AMPLIFICATION: "transcript_amplification",
                          M.CN_DEEP_DELETION: "transcript_ablation"}
FUSION_CONSEQUENCE = "gene_fusion"


def with_call_defaults(calls: pd.DataFrame) -> pd.DataFrame:
    """Fill the optional calls-table columns a reader left out with their defaults."""
    defaults = {C.CALL_TYPE: M.CALL_TYPE_VARIANT, C.DETECTION: M.DETECTION_DETECTED}
    out = calls.copy()
    for column in C.OPTIONAL_CALL_COLUMNS:
        value = defaults.get(column, "")
        if column not in out:
            out[column] = value
        elif value:
            out[column] = out[column].fillna("").replace("", value)
    return out


def has_genomic_allele(calls: pd.DataFrame) -> np.ndarray:
    """Variant rows with a position and an allele: what the sequence steps (and build votes) can use."""
    allele = calls[C.REF].fillna("").astype(str) + calls[C.ALT].fillna("").astype(str)
    variant = (calls[C.CALL_TYPE].fillna(M.CALL_TYPE_VARIANT) == M.CALL_TYPE_VARIANT
               if C.CALL_TYPE in calls else True)
    # a reader that already found the allele is not DNA (a MAF row) leaves nothing to place or vote with
    readable = (calls[C.STATUS].fillna("") != M.STATUS_INVALID_ALLELE) if C.STATUS in calls else True
    return (variant & readable & calls[C.POS].notna() & (allele != "")).to_numpy()


def annotate_calls(calls: pd.DataFrame, panel: Panel, other_panel: Panel | None = None) -> pd.DataFrame:
    """Merge duplicate records, normalize, check REF, locate on transcripts, merge same-codon SNVs, predict
    consequences, and set the input's own annotation (CSQ/ANN) beside ours.

    Copy-number and fusion calls, and variants given only by name (a ctDNA row that could not be
    placed on the genome), have no allele to annotate: they pass around the sequence steps.
    `other_panel` (the other genome build) only sharpens the message of a REF mismatch.
    """
    frame = with_call_defaults(calls)
    if C.MNV_MERGE not in frame:
        frame[C.MNV_MERGE] = ""
    has_allele = has_genomic_allele(frame)
    parts = []
    if has_allele.any():
        marked = merge_duplicate_calls(frame[has_allele])
        duplicate = (marked[C.STATUS] == M.STATUS_DUPLICATE).to_numpy() if C.STATUS in marked \
            else np.zeros(len(marked), dtype=bool)
        sequence = marked[~duplicate]
        if duplicate.any():  # repeated records are listed, not annotated a second time
            parts.append(annotate_gene_level_calls(marked[duplicate]))
        # intron and UTR bases of the genes these calls touch, read once per panel
        panel = panel.filled_for(canonical_contigs(sequence[C.CHROM].astype(str)).to_numpy(),
                                 sequence[C.POS].to_numpy(dtype=np.int64))
        normalized = normalize_alleles(sequence, panel)
        checked = flag_reference_mismatches(normalized, panel, other_panel)
        located = locate_in_transcripts(checked, panel)
        merged = merge_same_codon_snvs(located, panel)
        parts.append(attach_source_annotation(predict_consequences(merged, panel), panel))
    if (~has_allele).any():
        parts.append(annotate_gene_level_calls(frame[~has_allele]))
    if not parts:
        return annotate_gene_level_calls(frame)
    return pd.concat(parts, ignore_index=True)


def annotate_gene_level_calls(calls: pd.DataFrame) -> pd.DataFrame:
    """Copy-number, fusion and by-name calls: their gene is what the reader said; no allele, no HGVS."""
    out = calls.copy()
    for column in C.ANNOTATION_COLUMNS:
        if column not in out:
            out[column] = ""
    call_type = out[C.CALL_TYPE].to_numpy(dtype=object)
    consequence = np.where(call_type == M.CALL_TYPE_FUSION, FUSION_CONSEQUENCE,
                           out[C.CN_STATE].fillna("").map(GENE_LEVEL_CONSEQUENCE).fillna("").to_numpy())
    out[C.CONSEQUENCE] = consequence
    out[C.IMPACT] = np.where(consequence != "", "HIGH", "MODIFIER")
    given = out[C.STATUS].fillna("").astype(str)
    out[C.STATUS] = given.where(given != "", M.STATUS_ANNOTATED)
    return out
