"""Merge SNVs of one sample that fall in the same codon into one multi-nucleotide call.

Callers such as Mutect1 or VarScan write KRAS c.34_35GG>TT as two SNVs; read apart they
would be p.G12C and p.G12V, read together they are the one allele p.G12F. The merged
call gets a row of its own (listing its parts in mnv_merge) and the parts stay in the
output with status merged_into_mnv, so no input record is lost.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import columns as C
from .. import models as M
from ..reference.bundle import Panel
from .consequence import locate_in_transcripts


def merge_same_codon_snvs(located: pd.DataFrame, panel: Panel) -> pd.DataFrame:
    """Add one merged row per (sample, transcript, codon) holding SNVs at 2-3 positions."""
    snv = ((located[C.STATUS] == M.STATUS_ANNOTATED) & (located[C.TRANSCRIPT] != "")
           & (located[C.NORM_REF].str.len() == 1) & (located[C.NORM_ALT].str.len() == 1))
    if snv.sum() < 2:
        return located
    candidates = located[snv].copy()
    by_id = {tx.transcript: tx for tx in panel.transcripts}
    codon = np.full(len(candidates), -1, dtype=np.int64)
    transcripts = candidates[C.TRANSCRIPT].to_numpy()
    starts = candidates[C.NORM_START].to_numpy(dtype=np.int64)
    for transcript_id in np.unique(transcripts):
        tx = by_id[transcript_id]
        rows = np.flatnonzero(transcripts == transcript_id)
        tx_pos = tx.genomic_to_tx(starts[rows])
        in_cds = (tx_pos >= tx.cds_tx_first) & (tx_pos <= tx.cds_tx_last)
        codon[rows] = np.where(in_cds, (tx_pos - tx.cds_tx_first) // 3, -1)
    candidates["_codon"] = codon
    candidates = candidates[candidates["_codon"] >= 0]
    keys = [C.SAMPLE, C.TRANSCRIPT, "_codon"]
    if not candidates.duplicated(keys).any():  # the common case: nothing shares a codon
        return located
    groups = candidates.groupby(keys, sort=False)[C.NORM_START]
    multi = groups.transform("nunique").gt(1) & groups.transform("size").eq(groups.transform("nunique"))
    if not multi.any():
        return located

    out = located.copy()
    merged_rows = []
    for _, parts in candidates[multi].groupby(keys, sort=False):  # one iteration per shared codon
        parts = parts.sort_values(C.NORM_START)
        cis, why = same_haplotype(parts)
        if not cis:  # e.g. G12C and an acquired G12D on the other allele: two alleles, not G12Y
            out.loc[parts.index, C.STATUS_DETAIL] = f"same codon as another SNV, not merged: {why}"
            continue
        lo, hi = int(parts[C.NORM_START].min()), int(parts[C.NORM_START].max())
        contig = parts[C.CONTIG].iloc[0]
        ref = list(panel.genome_bases(contig, lo, hi))
        alt = ref.copy()
        for pos, r, a in zip(parts[C.NORM_START], parts[C.NORM_REF], parts[C.NORM_ALT]):
            ref[pos - lo], alt[pos - lo] = r, a
        if "N" in ref:
            continue  # a gap we cannot fill from the bundle: leave the SNVs as they are
        ref, alt = "".join(ref), "".join(alt)
        labels = [f"{c}:{p}:{r}>{a}" for c, p, r, a in
                  zip(parts[C.CHROM], parts[C.POS], parts[C.REF], parts[C.ALT])]
        first = parts.iloc[0]
        row = first.drop(labels=[C.GENE, C.TRANSCRIPT, C.STRAND, "_codon"]).copy()
        row[C.POS], row[C.REF], row[C.ALT] = lo, ref, alt
        row[C.NORM_START], row[C.NORM_REF], row[C.NORM_ALT] = lo, ref, alt
        row[C.VARIANT_ID] = "."
        # a read supporting the merged allele supports each part: take the weakest part's support
        for name in (C.ALT_DEPTH, C.VAF):
            if name in parts:
                row[name] = pd.to_numeric(parts[name], errors="coerce").min()
        filters = sorted(set(parts[C.FILTER].fillna("")) - {""}) if C.FILTER in parts else []
        if C.FILTER in parts:  # the merged call passes only if every part passed
            row[C.FILTER] = "PASS" if filters == ["PASS"] else ";".join(f for f in filters if f != "PASS")
        row[C.MNV_MERGE] = "+".join(labels)
        row[C.STATUS_DETAIL] = f"{len(parts)} SNVs in one codon of {first[C.GENE]} merged into one allele ({why})"
        merged_rows.append(row)
        out.loc[parts.index, C.STATUS] = M.STATUS_MERGED_INTO_MNV
        out.loc[parts.index, C.STATUS_DETAIL] = f"merged into {contig}:{lo}:{ref}>{alt} (" + "+".join(labels) + ")"
    if not merged_rows:
        return out
    merged = locate_in_transcripts(pd.DataFrame(merged_rows), panel)
    return pd.concat([out, merged], ignore_index=True)


VAF_TOLERANCE = 0.05      # absolute
VAF_RELATIVE_TOLERANCE = 0.25


def same_haplotype(parts: pd.DataFrame) -> tuple[bool, str]:
    """Whether SNVs in one codon sit on one haplotype, and why we think so.

    Phased genotypes (GT with '|' in one phase set) decide. Unphased, the allele
    fractions must agree (within 0.05, or 25% of the larger); a call without a VAF
    gives no evidence either way and is merged, as the caller meant one event.
    """
    genotypes = parts[C.GENOTYPE].fillna("") if C.GENOTYPE in parts else pd.Series("", index=parts.index)
    phase_sets = parts[C.PHASE_SET].fillna("") if C.PHASE_SET in parts else pd.Series("", index=parts.index)
    if genotypes.str.contains("|", regex=False).all() and phase_sets.nunique() == 1 and phase_sets.iloc[0]:
        # the haplotype carrying the alt allele: index of the non-zero entry in "0|1" / "1|0"
        haplotypes = {g.split("|").index(next(a for a in g.split("|") if a not in ("0", "."))) for g in genotypes}
        if len(haplotypes) == 1:
            return True, f"phased in cis, phase set {phase_sets.iloc[0]}"
        return False, f"phased in trans, phase set {phase_sets.iloc[0]}"
    vaf = pd.to_numeric(parts[C.VAF], errors="coerce") if C.VAF in parts else pd.Series(dtype=float)
    if vaf.notna().all() and len(vaf):
        spread = vaf.max() - vaf.min()
        if spread > max(VAF_TOLERANCE, VAF_RELATIVE_TOLERANCE * vaf.max()):
            return False, "allele fractions " + " vs ".join(f"{v:.3f}" for v in vaf) + " suggest different clones"
        return True, "unphased, allele fractions agree"
    return True, "unphased, no allele fractions to compare"
