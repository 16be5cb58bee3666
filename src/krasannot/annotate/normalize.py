"""Allele normalization and the REF check, before any transcript is looked at.

Trimming and left-alignment follow `bcftools norm`: shared bases are trimmed (suffix
first, then prefix) and indels are shifted left while the genome allows it. Bases we do
not know (N in the bundle) stop a shift, so a shift never rests on a guess.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import columns as C
from .. import models as M
from ..reference.builds import canonical_contigs
from ..reference.bundle import Panel

_VALID_ALLELE = r"^[ACGT]*$"  # an N (or IUPAC code) in an input allele is a base nobody knows: nothing to predict


def trim_alleles(pos: int, ref: str, alt: str) -> tuple[int, str, str]:
    """Drop the common suffix, then the common prefix; an allele may become ""."""
    while ref and alt and ref[-1] == alt[-1]:
        ref, alt = ref[:-1], alt[:-1]
    n = 0
    while n < len(ref) and n < len(alt) and ref[n] == alt[n]:
        n += 1
    return pos + n, ref[n:], alt[n:]


def _known_base(panel: Panel, contig: str, position: int, given: tuple[int, str] | None) -> str:
    """The panel's base at `position`, or the input REF's (`given` = (POS, REF)) where the panel has N."""
    base = panel.genome_bases(contig, position, position)
    if base == "N" and given is not None and given[0] <= position < given[0] + len(given[1]):
        return given[1][position - given[0]]
    return base


def left_align(panel: Panel, contig: str, start: int, ref: str, alt: str,
               given: tuple[int, str] | None = None) -> tuple[int, str, str]:
    """Shift a trimmed pure insertion or deletion to its leftmost equivalent position.

    `given` is the input's (POS, REF): bases it carries count as known.
    """
    if (ref and alt) or not (ref or alt):
        return start, ref, alt
    allele = ref or alt
    while start > 1:
        before = _known_base(panel, contig, start - 1, given)
        if before == "N" or before != allele[-1]:
            break
        allele = before + allele[:-1]
        start -= 1
    return (start, allele, "") if ref else (start, "", allele)


def right_align(panel: Panel, contig: str, start: int, ref: str, alt: str,
                given: tuple[int, str] | None = None) -> tuple[int, str, str]:
    """Shift a trimmed pure insertion or deletion to its rightmost equivalent position.

    `given` is the input's (POS, REF): bases it carries count as known, so `GG>G` written
    on an exon's last base still shifts onto the intron base its REF shows.
    """
    if (ref and alt) or not (ref or alt):
        return start, ref, alt
    allele = ref or alt
    # the base after the allele: after the deleted bases, or at the insertion point
    nxt = start + len(ref)
    while True:
        after = _known_base(panel, contig, nxt, given)
        if after == "N" or after != allele[0]:
            break
        allele = allele[1:] + after
        start += 1
        nxt += 1
    return (start, allele, "") if ref else (start, "", allele)


def merge_duplicate_calls(calls: pd.DataFrame) -> pd.DataFrame:
    """One call per sample, contig, POS, REF and ALT: a record written several times (a concatenated or
    re-called file) is the call once, its first copy, with a note naming the records merged into it; the
    other copies stay as rows with status duplicate_record, so every input record is accounted for."""
    keys = pd.DataFrame({"sample": calls[C.SAMPLE].astype(str),
                         "contig": canonical_contigs(calls[C.CHROM].astype(str)).to_numpy(),
                         "pos": calls[C.POS].astype(str).to_numpy(),
                         "ref": calls[C.REF].astype(str).str.upper().to_numpy(),
                         "alt": calls[C.ALT].astype(str).str.upper().to_numpy()}, index=calls.index)
    repeated = keys.duplicated(keep=False).to_numpy()
    if not repeated.any():
        return calls
    group = keys.groupby(list(keys), sort=False).ngroup().to_numpy()
    # file:line of each record; records read through an index have no line number
    files = calls[C.INPUT_FILE].fillna("").astype(str).str.rsplit("/", n=1).str[-1] \
        if C.INPUT_FILE in calls else pd.Series("", index=calls.index)
    lines = pd.to_numeric(calls[C.INPUT_LINE], errors="coerce") if C.INPUT_LINE in calls \
        else pd.Series(np.nan, index=calls.index)
    where = (files + lines.map(lambda n: "" if pd.isna(n) else f":{int(n)}")).to_numpy()
    sizes = np.bincount(group)
    first = ~keys.duplicated(keep="first").to_numpy()
    first_where = pd.Series(where[first], index=group[first]).sort_index().to_numpy()
    # the notes are written for the repeated records only: most calls are written once
    listed = pd.Series(where[repeated]).groupby(group[repeated]).agg(", ".join).to_dict()
    note = np.full(len(calls), "", dtype=object)
    note[repeated] = [f"merged {sizes[g]} duplicate records ({listed[g]})" if is_first
                      else f"duplicate of the call at {first_where[g]}"
                      for g, is_first in zip(group[repeated], first[repeated])]
    out = calls.copy()
    detail = out[C.STATUS_DETAIL].fillna("").astype(str).to_numpy() if C.STATUS_DETAIL in out \
        else np.full(len(out), "")
    out[C.STATUS_DETAIL] = np.where((note != "") & (detail != ""), np.char.add(np.char.add(
        note.astype(str), "; "), detail.astype(str)), np.where(note != "", note, detail))
    status = out[C.STATUS].fillna("").astype(str).to_numpy() if C.STATUS in out else np.full(len(out), "")
    out[C.STATUS] = np.where(first, status, M.STATUS_DUPLICATE)
    return out


def normalize_alleles(calls: pd.DataFrame, panel: Panel) -> pd.DataFrame:
    """Add contig, norm_start/norm_ref/norm_alt and a first status to a calls table.

    SNVs (the bulk) are handled column-wise; only the other alleles are trimmed and
    left-aligned one by one.
    """
    out = calls.copy()
    ref = out[C.REF].astype(str).str.upper()
    alt = out[C.ALT].astype(str).str.upper().replace({"-": ""})
    ref = ref.replace({"-": ""})
    out[C.CONTIG] = canonical_contigs(out[C.CHROM].astype(str))
    pos = out[C.POS].astype(np.int64)

    symbolic = alt.str.startswith("<") | alt.str.contains(r"[\[\]]", regex=True)
    no_alt = alt.isin([".", "*"]) | (alt == ref)
    invalid = ~symbolic & ~no_alt & ~(ref.str.match(_VALID_ALLELE) & alt.str.match(_VALID_ALLELE))
    status = np.select([symbolic, no_alt, invalid],
                       [M.STATUS_SYMBOLIC, M.STATUS_NO_ALT, M.STATUS_INVALID_ALLELE], M.STATUS_ANNOTATED)
    if C.STATUS in out:  # a reader's own reason (e.g. not_carried) stands
        given = out[C.STATUS].fillna("").astype(str).to_numpy()
        status = np.where(given != "", given, status)
    invalid_detail = np.where(status == M.STATUS_INVALID_ALLELE,
                              "REF " + ref.where(ref != "", "-") + " > ALT " + alt.where(alt != "", "-")
                              + ": an allele holds characters other than A, C, G, T (N and IUPAC codes are "
                                "unknown bases), so no consequence is predicted", "")

    norm_start = pos.to_numpy().copy()
    norm_ref = ref.to_numpy(dtype=object).copy()
    norm_alt = alt.to_numpy(dtype=object).copy()
    usable = status == M.STATUS_ANNOTATED
    snv = usable & (ref.str.len() == 1).to_numpy() & (alt.str.len() == 1).to_numpy()
    contigs = out[C.CONTIG].to_numpy()
    for i in np.flatnonzero(usable & ~snv):  # indels and MNVs: a small minority of calls
        given = (int(norm_start[i]), norm_ref[i])
        s, r, a = trim_alleles(int(norm_start[i]), norm_ref[i], norm_alt[i])
        norm_start[i], norm_ref[i], norm_alt[i] = left_align(panel, contigs[i], s, r, a, given)
    out[C.NORM_START] = norm_start
    out[C.NORM_REF] = norm_ref
    out[C.NORM_ALT] = norm_alt
    out[C.STATUS] = status
    # a reader's own note (e.g. how a ctDNA protein change was back-mapped) stands until a later step replaces it
    given_detail = out[C.STATUS_DETAIL].fillna("").astype(str) if C.STATUS_DETAIL in out else ""
    out[C.STATUS_DETAIL] = np.where(given_detail != "", given_detail, invalid_detail) if len(out) else given_detail
    return out


def reference_agreement(normalized: pd.DataFrame, panel: Panel) -> pd.Series:
    """Per row: True/False where the panel knows every REF base, NA where it does not.

    The input's own REF is compared, anchor base included, so an indel written on the
    other build is caught as surely as an SNV.
    """
    result = np.full(len(normalized), -1, dtype=np.int8)  # -1 unknown, 0 mismatch, 1 match
    ref = normalized[C.REF].astype(str).str.upper().replace({"-": ""}).to_numpy(dtype=object)
    ref_len = np.fromiter((len(r) for r in ref), dtype=np.int64, count=len(ref))
    pos = normalized[C.POS].to_numpy(dtype=np.int64)
    contigs = normalized[C.CONTIG].to_numpy()
    usable = (normalized[C.STATUS] == M.STATUS_ANNOTATED).to_numpy() & (ref_len > 0)
    for tx in panel.transcripts:
        end = tx.span_start + len(tx.genome)
        inside = np.flatnonzero(usable & (contigs == tx.chrom) & (pos >= tx.span_start) & (pos + ref_len <= end))
        if len(inside) == 0:
            continue
        single = inside[ref_len[inside] == 1]
        if len(single):  # column-wise for single bases
            genome = np.frombuffer(tx.genome.encode("ascii"), dtype=np.uint8)
            known = genome[pos[single] - tx.span_start]
            given = np.frombuffer("".join(ref[single]).encode("ascii"), dtype=np.uint8)
            checked = known != ord("N")
            result[single[checked]] = known[checked] == given[checked]
        for i in inside[ref_len[inside] > 1]:
            known = tx.genome_bases(int(pos[i]), int(pos[i] + ref_len[i] - 1))
            if "N" not in known:
                result[i] = known == ref[i]
    return pd.Series(pd.array(np.where(result < 0, None, result == 1), dtype="boolean"), index=normalized.index)


def flag_reference_mismatches(normalized: pd.DataFrame, panel: Panel,
                              other_panel: Panel | None = None) -> pd.DataFrame:
    """Set status ref_mismatch where REF disagrees with the panel's genome bases.

    The detail names the expected base and, when `other_panel` is given, whether the
    allele fits the other build instead.
    """
    out = normalized.copy()
    agree = reference_agreement(out, panel)
    mismatch = agree.eq(False).fillna(False).to_numpy(dtype=bool)
    if not mismatch.any():
        return out
    other = (reference_agreement(out, other_panel) if other_panel is not None
             else pd.Series(pd.NA, index=out.index, dtype="boolean"))
    details = []
    for idx in out.index[mismatch]:
        row = out.loc[idx]
        start, ref = int(row[C.POS]), str(row[C.REF]).upper()
        expected = panel.genome_bases(row[C.CONTIG], start, start + len(ref) - 1)
        text = f"REF {ref} at {row[C.CONTIG]}:{start} is {expected} in {panel.build}"
        if other_panel is not None and other.loc[idx] is not pd.NA and bool(other.loc[idx]):
            text += f"; it matches {other_panel.build}: was the input called on {other_panel.build}?"
        details.append(text)
    out.loc[mismatch, C.STATUS] = M.STATUS_REF_MISMATCH
    out.loc[mismatch, C.STATUS_DETAIL] = details
    return out


def reference_votes(calls: pd.DataFrame, panels: list[Panel]) -> dict[str, tuple[int, int]]:
    """Per build: (REF alleles that match its panel bases, REF alleles checked), from raw calls."""
    probe = pd.DataFrame({C.CONTIG: canonical_contigs(calls[C.CHROM].astype(str)), C.POS: calls[C.POS],
                          C.REF: calls[C.REF],
                          C.STATUS: calls[C.STATUS].replace("", M.STATUS_ANNOTATED) if C.STATUS in calls
                          else M.STATUS_ANNOTATED})
    votes = {}
    for panel in panels:
        agree = reference_agreement(probe, panel).dropna()
        votes[panel.build] = (int(agree.sum()), int(len(agree)))
    return votes
