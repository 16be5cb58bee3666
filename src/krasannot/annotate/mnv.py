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
from ..reference.bundle import Panel, Transcript, reverse_complement, translate
from .consequence import locate_in_transcripts


def merge_same_codon_snvs(located: pd.DataFrame, panel: Panel) -> pd.DataFrame:
    """Add one merged row per (sample, transcript, codon) holding SNVs at 2-3 positions."""
    located = located.reset_index(drop=True)
    snv = ((located[C.STATUS] == M.STATUS_ANNOTATED) & (located[C.TRANSCRIPT] != "")
           & (located[C.NORM_REF].str.len() == 1) & (located[C.NORM_ALT].str.len() == 1)).to_numpy()
    rows = np.flatnonzero(snv)
    if len(rows) < 2:
        return located
    by_id = {tx.transcript: tx for tx in panel.transcripts}
    transcripts = located[C.TRANSCRIPT].to_numpy()[rows]
    starts = located[C.NORM_START].to_numpy(dtype=np.int64)[rows]
    cds_pos = np.zeros(len(rows), dtype=np.int64)  # 0: not in the CDS
    for transcript_id in np.unique(transcripts):
        tx = by_id[transcript_id]
        mine = transcripts == transcript_id
        tx_pos = tx.genomic_to_tx(starts[mine])
        in_cds = (tx_pos >= tx.cds_tx_first) & (tx_pos <= tx.cds_tx_last)
        cds_pos[mine] = np.where(in_cds, tx_pos - tx.cds_tx_first + 1, 0)
    groups: dict[tuple, list[int]] = {}
    for key, row in zip(zip(located[C.SAMPLE].to_numpy()[rows], transcripts, (cds_pos - 1) // 3), rows):
        if key[2] >= 0:
            groups.setdefault(key, []).append(int(row))
    shared = [sorted(g, key=lambda r: starts[np.searchsorted(rows, r)]) for g in groups.values() if len(g) > 1]
    if not shared:  # the common case: nothing shares a codon
        return located
    cds_pos_of = dict(zip(rows.tolist(), cds_pos.tolist()))

    status = located[C.STATUS].to_numpy(dtype=object).copy()
    detail = located[C.STATUS_DETAIL].to_numpy(dtype=object).copy()
    merged_rows = []
    columns = {c: located[c].to_numpy() for c in _PART_COLUMNS if c in located}  # numpy: cheap to slice
    for group in shared:  # one iteration per shared codon
        parts = {c: values[group] for c, values in columns.items()}
        if len(set(parts[C.NORM_START])) < len(group):
            continue  # two ALTs at one position (a multi-allelic site) are not one haplotype's bases
        cis, why = same_haplotype(parts)
        if not cis:  # e.g. G12C and an acquired G12D on the other allele: two alleles, not G12Y
            detail[group] = f"same codon as another SNV, not merged: {why}"
            continue
        positions = [cds_pos_of[r] for r in group]
        if max(parts[C.NORM_START]) - min(parts[C.NORM_START]) != max(positions) - min(positions):
            # the codon is split by an intron: no genomic delins describes it, but the protein can be read
            tx = by_id[located.at[group[0], C.TRANSCRIPT]]
            detail[group] = (f"same codon as another SNV across an exon junction, not merged ({why}); "
                             f"together: {_codon_change(tx, positions, parts[C.NORM_ALT])}")
            continue
        merged = _merged_row(located.iloc[group[0]].to_dict(), parts, panel, why)
        if merged is None:
            detail[group] = f"same codon as another SNV, not merged: a base between them is unknown ({why})"
            continue
        merged_rows.append(merged)
        status[group] = M.STATUS_MERGED_INTO_MNV
        detail[group] = (f"merged into {merged[C.CONTIG]}:{merged[C.POS]}:{merged[C.REF]}>{merged[C.ALT]} "
                         f"({merged[C.MNV_MERGE]})")
    out = located.assign(**{C.STATUS: status, C.STATUS_DETAIL: detail})
    if not merged_rows:
        return out
    return pd.concat([out, locate_in_transcripts(pd.DataFrame(merged_rows), panel)], ignore_index=True)


def _codon_change(tx: Transcript, cds_positions: list[int], alts: np.ndarray) -> str:
    """p. of the codon with all its SNVs applied (transcript orientation), e.g. p.R97=."""
    first = (cds_positions[0] - 1) // 3 * 3
    codon = list(tx.cds[first:first + 3])
    for position, alt in zip(cds_positions, alts):
        codon[position - 1 - first] = alt if tx.strand == "+" else reverse_complement(alt)
    ref_aa, alt_aa = tx.cds_protein[first // 3], translate("".join(codon))
    return f"p.{ref_aa}{first // 3 + 1}{'=' if alt_aa == ref_aa else alt_aa}"


_PART_COLUMNS = [C.SAMPLE, C.CHROM, C.POS, C.REF, C.ALT, C.CONTIG, C.NORM_START, C.NORM_REF, C.NORM_ALT, C.GENE,
                 C.FILTER, C.ALT_DEPTH, C.VAF, C.GENOTYPE, C.PHASE_SET]


def _merged_row(row: dict, parts: dict[str, np.ndarray], panel: Panel, why: str) -> dict | None:
    """The one call that same-codon SNVs make together, built on the first part's `row`; None where
    the bundle lacks a base between them."""
    lo, hi = int(parts[C.NORM_START].min()), int(parts[C.NORM_START].max())
    ref = list(panel.genome_bases(parts[C.CONTIG][0], lo, hi))
    alt = ref.copy()
    for pos, r, a in zip(parts[C.NORM_START], parts[C.NORM_REF], parts[C.NORM_ALT]):
        ref[pos - lo], alt[pos - lo] = r, a
    if "N" in ref:
        return None
    ref, alt = "".join(ref), "".join(alt)
    for name in (C.GENE, C.TRANSCRIPT, C.STRAND):
        row.pop(name)
    row.update({C.POS: lo, C.REF: ref, C.ALT: alt, C.NORM_START: lo, C.NORM_REF: ref, C.NORM_ALT: alt,
                C.VARIANT_ID: "."})
    for name in (C.SOURCE_GENE, C.SOURCE_TRANSCRIPT, C.SOURCE_HGVSP_SHORT):
        if name in row:  # what the input said of one part is not said of the merged call
            row[name] = ""
    # a read supporting the merged allele supports each part: take the weakest part's support
    for name in (C.ALT_DEPTH, C.VAF):
        if name in parts:
            row[name] = pd.to_numeric(pd.Series(parts[name], dtype=object), errors="coerce").min()
    if C.FILTER in parts:  # the merged call passes only if every part passed
        filters = sorted({str(f) for f in parts[C.FILTER] if isinstance(f, str) and f})
        row[C.FILTER] = "PASS" if filters == ["PASS"] else ";".join(f for f in filters if f != "PASS")
    row[C.MNV_MERGE] = "+".join(f"{c}:{p}:{r}>{a}" for c, p, r, a in
                                zip(parts[C.CHROM], parts[C.POS], parts[C.REF], parts[C.ALT]))
    row[C.STATUS_DETAIL] = f"{len(parts[C.POS])} SNVs in one codon of {parts[C.GENE][0]} merged into one allele ({why})"
    return row


# Two SNVs on one haplotype are carried by the same reads: their allele fractions agree. Within
# a factor of 1.5 keeps a G12C at 31% apart from a G12D at 4%, and a 4.5% ctDNA G12D apart from
# 2 noise reads beside it, while sampling noise at modest depth still merges a true MNV.
VAF_MAX_RATIO = 1.5


def same_haplotype(parts: dict[str, np.ndarray]) -> tuple[bool, str]:
    """Whether SNVs in one codon sit on one haplotype, and why we think so.

    Phased genotypes (GT with '|' in one phase set) decide. Unphased, the allele
    fractions must agree within a factor of 1.5; a call without a VAF gives no evidence
    either way and is merged, as the caller meant one event.
    """
    def column(name: str) -> list:
        return parts[name].tolist() if name in parts else [None] * len(parts[C.POS])

    genotypes = ["" if g is None or g != g else str(g) for g in column(C.GENOTYPE)]
    phase_sets = {"" if p is None or p != p else str(p) for p in column(C.PHASE_SET)}
    if all("|" in g for g in genotypes) and len(phase_sets) == 1 and "" not in phase_sets:
        phase_set = phase_sets.pop()
        # the haplotype carrying the alt allele: index of the non-reference entry in "0|1" / "1|0"
        haplotypes = {next(i for i, a in enumerate(g.split("|")) if a not in ("0", ".")) for g in genotypes}
        return (True, f"phased in cis, phase set {phase_set}") if len(haplotypes) == 1 else \
            (False, f"phased in trans, phase set {phase_set}")
    vafs = pd.to_numeric(pd.Series(column(C.VAF), dtype=object), errors="coerce").to_numpy(dtype=float)
    if len(vafs) and not np.isnan(vafs).any():
        if not vafs.min() > 0 or vafs.max() / vafs.min() > VAF_MAX_RATIO:
            return False, "allele fractions " + " vs ".join(f"{v:.3f}" for v in vafs) + " suggest different clones"
        return True, "unphased, allele fractions agree"
    return True, "unphased, no allele fractions to compare"
