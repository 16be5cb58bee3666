"""The annotation steps in order: calls table in, annotated table out."""

from __future__ import annotations

import pandas as pd

from .. import columns as C
from ..reference.bundle import Panel
from .consequence import locate_in_transcripts, predict_consequences
from .mnv import merge_same_codon_snvs
from .normalize import flag_reference_mismatches, normalize_alleles
from .source import attach_source_annotation


def annotate_calls(calls: pd.DataFrame, panel: Panel, other_panel: Panel | None = None) -> pd.DataFrame:
    """Normalize, check REF, locate on transcripts, merge same-codon SNVs, predict consequences,
    and set the input's own annotation (CSQ/ANN) beside ours.

    `other_panel` (the other genome build) only sharpens the message of a REF mismatch.
    """
    frame = calls.copy()
    if C.MNV_MERGE not in frame:
        frame[C.MNV_MERGE] = ""
    normalized = normalize_alleles(frame, panel)
    checked = flag_reference_mismatches(normalized, panel, other_panel)
    located = locate_in_transcripts(checked, panel)
    merged = merge_same_codon_snvs(located, panel)
    return attach_source_annotation(predict_consequences(merged, panel), panel)
