"""The background error model: reference bases, per-class error counts away from the hotspots, the fit."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .reads import BASES, WindowReads
from .reference_bases import ReferenceBases

BACKGROUND_MAX_VAF = 0.01
BACKGROUND_READS_PER_WINDOW = 5000
MAX_RHO = 1e-3
# a prior worth PRIOR_BASES bases at a pessimistic Illumina rate, so that a BAM with little background
# (a tiny panel, or reads only over the hotspots) is not credited with an error rate of zero
PRIOR_BASES = 10_000
PRIOR_SNV_RATE = 1e-3     # per change class, per base
PRIOR_INDEL_RATE = 1e-4   # per position
CHANGE_CLASSES = [f"{r}>{a}" for r in BASES for a in BASES if r != a] + ["deletion", "insertion"]


def background_counts(reads: WindowReads, reference: ReferenceBases, contig: str, excluded: np.ndarray,
                      indel_excluded: np.ndarray, min_baseq: int) -> pd.DataFrame:
    """Per non-hotspot position and change class: alt count and depth, from a subsample of reads.

    `excluded` are hotspot codon positions (left out of the SNV classes), `indel_excluded`
    the indel regions (left out of the deletion/insertion classes).
    """
    if reads.n_reads == 0:
        return pd.DataFrame(columns=["change", "alt", "depth"])
    stride = max(1, math.ceil(reads.n_reads / BACKGROUND_READS_PER_WINDOW))
    sampled = np.zeros(reads.n_reads, dtype=bool)
    sampled[::stride] = True
    blocks = np.flatnonzero(sampled[reads.block_read] & (reads.block_length > 0))
    if len(blocks) == 0:
        return pd.DataFrame(columns=["change", "alt", "depth"])
    length, ref_first = reads.block_length[blocks], reads.block_ref[blocks]
    lo, hi = int(ref_first.min()), int((ref_first + length - 1).max())
    ref_code = reference.codes(contig, lo, hi)
    # one row per aligned block, as wide as the longest; cells past a block's end are not counted
    base, qual = reads.block_bases(blocks)
    width = base.shape[1]
    eligible = np.zeros(hi - lo + 1 + width, dtype=bool)  # a known reference base away from the hotspot codons
    eligible[:hi - lo + 1] = ref_code < 4
    eligible[excluded[(excluded >= lo) & (excluded <= hi)] - lo] = False
    usable = ((qual >= min_baseq) & (base < 4)
              & np.lib.stride_tricks.sliding_window_view(eligible, width)[ref_first - lo])  # row r: eligible[r0:r0+w]
    if length.min() < width:
        usable &= np.arange(width) < length[:, None]
    cell = ((ref_first - lo) * 4)[:, None] + np.arange(0, 4 * width, 4) + base  # position and base, as one number
    counts = np.bincount(cell[usable], minlength=(hi - lo + 1) * 4).reshape(-1, 4)
    depth = counts.sum(axis=1)
    ref_of_pos = ref_code
    changes, alts, depths = [], [], []  # one class after another, as fit_error_model sums them
    known = np.flatnonzero((depth > 0) & (ref_of_pos < 4))
    for alt in range(4):
        rows = known[ref_of_pos[known] != alt]
        changes.append(ref_of_pos[rows].astype(np.int64) * 3 + alt - (alt > ref_of_pos[rows]))
        alts.append(counts[rows, alt])
        depths.append(depth[rows])
    events = reads.events
    first = events["first"].to_numpy()
    taken = sampled[events["read"].to_numpy()] & (first >= lo) & (first <= hi)
    indel_rows = known[~np.isin(known + lo, indel_excluded)]
    for change, kind in ((CHANGE_CLASSES.index("deletion"), events["deleted"].to_numpy() > 0),
                         (CHANGE_CLASSES.index("insertion"), events["inserted"].to_numpy() != "")):
        per_position = np.bincount(first[taken & kind] - lo, minlength=hi - lo + 1)[:hi - lo + 1]
        changes.append(np.full(len(indel_rows), change, dtype=np.int64))
        alts.append(per_position[indel_rows])
        depths.append(depth[indel_rows])
    return pd.DataFrame({"change": pd.Categorical.from_codes(np.concatenate(changes), categories=CHANGE_CLASSES),
                         "alt": np.concatenate(alts), "depth": np.concatenate(depths)})


def fit_error_model(counts: pd.DataFrame) -> pd.DataFrame:
    """Per change class: mean error rate mu and beta-binomial overdispersion rho (method of moments).

    Positions where the alt reaches BACKGROUND_MAX_VAF with at least 2 reads are real variants,
    not errors, and are left out.
    """
    counts = counts.astype({"alt": np.int64, "depth": np.int64})
    real = (counts["alt"] >= 2) & (counts["alt"] >= BACKGROUND_MAX_VAF * counts["depth"])
    kept = counts[~real & (counts["depth"] > 0)]
    rows = []
    for change in CHANGE_CLASSES:
        part = kept[kept["change"] == change]
        alt, depth = part["alt"].to_numpy(dtype=float), part["depth"].to_numpy(dtype=float)
        total, n_pos = depth.sum(), len(depth)
        prior_rate = PRIOR_INDEL_RATE if change in ("deletion", "insertion") else PRIOR_SNV_RATE
        mu = (alt.sum() + prior_rate * PRIOR_BASES) / (total + PRIOR_BASES)
        rho = 0.0
        if n_pos > 1 and total > n_pos:
            spread = np.sum(depth * (alt / depth - mu) ** 2) / (mu * (1 - mu))
            rho = float(np.clip((spread - n_pos) / (total - n_pos), 0.0, MAX_RHO))
        rows.append({"change": change, "mu": mu, "rho": rho, "positions": n_pos, "bases": int(total),
                     "errors": int(alt.sum()), "excluded_positions": int((real & (counts["change"] == change)).sum())})
    return pd.DataFrame(rows)
