"""Where a call falls on each panel transcript, and what it does there.

`locate_in_transcripts` pairs every call with the transcripts it overlaps (column-wise,
one pass per transcript). `predict_consequences` then writes exon/intron, HGVS c., HGVS
p. and the Sequence Ontology consequence for every located row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import columns as C
from .. import models as M
from ..reference.bundle import Panel, Transcript, reverse_complement
from .normalize import right_align, trim_alleles
from .protein import describe_protein_change, snv_protein_changes

LOCATABLE = (M.STATUS_ANNOTATED, M.STATUS_REF_MISMATCH)


def _span(start: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Genomic first/last REF base; insertions get last = first - 1 (the gap before `first`)."""
    ref_len = np.fromiter(map(len, ref), dtype=np.int64, count=len(ref))
    return start, start + ref_len - 1, ref_len == 0


def locate_in_transcripts(normalized: pd.DataFrame, panel: Panel) -> pd.DataFrame:
    """One row per call x overlapping transcript; a call that overlaps none keeps one row.

    Adds gene, transcript and strand; calls that overlap no transcript get status
    outside_panel.
    """
    frame = normalized.reset_index(drop=True)
    locatable = frame[C.STATUS].isin(LOCATABLE).to_numpy()
    start, end, insertion = _span(frame[C.NORM_START].to_numpy(dtype=np.int64), frame[C.NORM_REF].to_numpy())
    lo = np.where(insertion, start - 1, start)
    hi = np.where(insertion, start, end)
    contigs = frame[C.CONTIG].to_numpy()
    rows, transcripts, hit = [], [], np.zeros(len(frame), dtype=bool)
    for k, tx in enumerate(panel.transcripts):
        mask = locatable & (contigs == tx.chrom) & (lo <= tx.end) & (hi >= tx.start)
        if insertion.any():  # an insertion just outside the transcript does not touch it
            mask &= ~insertion | ((lo >= tx.start) & (hi <= tx.end))
        rows.append(np.flatnonzero(mask))
        transcripts.append(np.full(len(rows[-1]), k))
        hit |= mask
    rows.append(np.flatnonzero(~hit))  # no transcript: the row once, with k = -1
    transcripts.append(np.full(len(rows[-1]), -1))
    # each call's rows together, in input order, and its transcripts in panel order
    order = np.argsort(np.concatenate(rows), kind="stable")
    taken, k = np.concatenate(rows)[order], np.concatenate(transcripts)[order]
    located = frame.take(taken).reset_index(drop=True)
    for column, values in ((C.GENE, [tx.gene for tx in panel.transcripts]),
                           (C.TRANSCRIPT, [tx.transcript for tx in panel.transcripts]),
                           (C.STRAND, [tx.strand for tx in panel.transcripts])):
        located[column] = pd.Series(np.array(values + [""], dtype=object)[k], dtype=str)
    outside = (k == -1) & (located[C.STATUS] == M.STATUS_ANNOTATED).to_numpy()
    located.loc[outside, C.STATUS] = M.STATUS_OUTSIDE_PANEL
    return located


# --- coordinates -------------------------------------------------------------------------
def _anchors(tx: Transcript, g: np.ndarray) -> dict[str, np.ndarray]:
    """HGVS anchor (transcript coordinate) and intron offset of genomic positions."""
    exons = tx.exons_genomic
    idx = np.searchsorted(exons[:, 0], g, side="right") - 1
    ic = np.clip(idx, 0, len(exons) - 1)
    exonic = (idx >= 0) & (g <= exons[ic, 1])
    before = idx < 0
    after = (idx == len(exons) - 1) & ~exonic
    intronic = ~exonic & ~before & ~after
    left_end = exons[ic, 1]
    right_start = exons[np.clip(idx + 1, 0, len(exons) - 1), 0]
    d_left, d_right = g - left_end, right_start - g
    tx_of = tx.genomic_to_tx
    if tx.strand == "+":
        up_anchor, up_dist, down_anchor, down_dist = tx_of(left_end), d_left, tx_of(right_start), d_right
        outside_anchor = np.where(before, 1 - (tx.start - g), tx.tx_length + (g - tx.end))
    else:
        up_anchor, up_dist, down_anchor, down_dist = tx_of(right_start), d_right, tx_of(left_end), d_left
        outside_anchor = np.where(after, 1 - (g - tx.end), tx.tx_length + (tx.start - g))
    use_up = up_dist <= down_dist
    anchor = np.where(exonic, tx_of(g), np.where(intronic, np.where(use_up, up_anchor, down_anchor),
                                                 outside_anchor))
    offset = np.where(intronic, np.where(use_up, up_dist, -down_dist), 0)
    cds = exonic & (anchor >= tx.cds_tx_first) & (anchor <= tx.cds_tx_last)
    region = np.select([cds, exonic & (anchor < tx.cds_tx_first), exonic, intronic],
                       ["cds", "utr5", "utr3", "intron"], "outside")
    return {"anchor": anchor, "offset": offset, "region": region,
            "cds_pos": np.where(cds, anchor - tx.cds_tx_first + 1, 0)}


def _c_notation(tx: Transcript, anchor: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """c.-14, c.35, c.*5, c.35+1 (without the 'c.')."""
    anchor, offset = np.asarray(anchor), np.asarray(offset)
    first, last = tx.cds_tx_first, tx.cds_tx_last
    core = np.where(anchor < first, np.char.add("-", (first - anchor).astype(str)),
                    np.where(anchor > last, np.char.add("*", (anchor - last).astype(str)),
                             (anchor - first + 1).astype(str)))
    suffix = np.where(offset > 0, np.char.add("+", offset.astype(str)), np.where(offset < 0, offset.astype(str), ""))
    return np.char.add(core, suffix).astype(object)


def _splice_intervals(tx: Transcript) -> dict[str, np.ndarray]:
    """Genomic intervals of splice donor/acceptor sites, the splice regions (VEP's sizes), and
    VEP's donor 5th base, donor region and polypyrimidine tract."""
    site, region_i, region_e = M.SPLICE_SITE_INTRON_BASES, M.SPLICE_REGION_INTRON_BASES, M.SPLICE_REGION_EXON_BASES
    fifth, (dr_near, dr_far), (py_near, py_far) = (M.SPLICE_DONOR_5TH_BASE, M.SPLICE_DONOR_REGION_BASES,
                                                     M.SPLICE_POLYPYRIMIDINE_BASES)
    ex = tx.exons
    if len(ex) < 2:
        empty = np.zeros((0, 2), dtype=np.int64)
        return dict.fromkeys(("donor", "acceptor", "region", "donor_5th", "donor_region", "polypyrimidine"), empty)
    # intron bases counted from the donor (+k) and acceptor (-k) ends, in genomic coordinates
    if tx.strand == "+":
        up_edge, down_edge = ex[:-1, 1], ex[1:, 0]   # last base of the upstream exon, first of the next

        def donor_bases(near, far):
            return np.stack([up_edge + near, up_edge + far], 1)

        def acceptor_bases(near, far):
            return np.stack([down_edge - far, down_edge - near], 1)
        exon_region = [np.stack([up_edge - region_e + 1, up_edge], 1),
                       np.stack([down_edge, down_edge + region_e - 1], 1)]
    else:
        up_edge, down_edge = ex[:-1, 0], ex[1:, 1]

        def donor_bases(near, far):
            return np.stack([up_edge - far, up_edge - near], 1)

        def acceptor_bases(near, far):
            return np.stack([down_edge + near, down_edge + far], 1)
        exon_region = [np.stack([up_edge, up_edge + region_e - 1], 1),
                       np.stack([down_edge - region_e + 1, down_edge], 1)]
    region = np.concatenate([donor_bases(site + 1, region_i), acceptor_bases(site + 1, region_i)] + exon_region)
    return {"donor": donor_bases(1, site), "acceptor": acceptor_bases(1, site), "region": region,
            "donor_5th": donor_bases(fifth, fifth), "donor_region": donor_bases(dr_near, dr_far),
            "polypyrimidine": acceptor_bases(py_near, py_far)}


def _overlaps(intervals: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    if len(intervals) == 0:
        return np.zeros(len(lo), dtype=bool)
    return ((intervals[None, :, 0] <= hi[:, None]) & (intervals[None, :, 1] >= lo[:, None])).any(axis=1)


def _regions(tx: Transcript) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Genomic intervals of the CDS, UTR and intron parts, each with its exon/intron number."""
    exons, numbers = tx.exons_genomic, tx.exon_number_genomic
    lo_utr, hi_utr = ("utr5", "utr3") if tx.strand == "+" else ("utr3", "utr5")
    parts: dict[str, list] = {"cds": [], "utr5": [], "utr3": [], "exon": [], "intron": []}
    for (start, end), number in zip(exons, numbers):
        parts["exon"].append((start, end, number))
        if start < tx.cds_start:
            parts[lo_utr].append((start, min(end, tx.cds_start - 1), number))
        if end > tx.cds_end:
            parts[hi_utr].append((max(start, tx.cds_end + 1), end, number))
        if start <= tx.cds_end and end >= tx.cds_start:
            parts["cds"].append((max(start, tx.cds_start), min(end, tx.cds_end), number))
    for i in range(len(exons) - 1):  # an intron takes the number of the exon before it in the transcript
        parts["intron"].append((exons[i, 1] + 1, exons[i + 1, 0] - 1, min(numbers[i], numbers[i + 1])))
    return {name: (np.array([(a, b) for a, b, _ in rows], dtype=np.int64).reshape(-1, 2),
                   np.array([n for _, _, n in rows], dtype=np.int64)) for name, rows in parts.items()}


def _touched(region: tuple[np.ndarray, np.ndarray], lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per change: whether it overlaps the region, and the lowest and highest number it overlaps."""
    intervals, numbers = region
    if len(intervals) == 0:
        zero = np.zeros(len(lo), dtype=np.int64)
        return zero.astype(bool), zero, zero
    hit = (intervals[None, :, 0] <= hi[:, None]) & (intervals[None, :, 1] >= lo[:, None])
    low = np.where(hit, numbers[None, :], np.iinfo(np.int64).max).min(axis=1)
    high = np.where(hit, numbers[None, :], 0).max(axis=1)
    return hit.any(axis=1), np.where(hit.any(axis=1), low, 0), high


def _number_label(low: np.ndarray, high: np.ndarray, total: int) -> np.ndarray:
    """VEP's "2/5" or "2-3/5"; "" where nothing was overlapped."""
    number = np.where(low == high, low.astype(str), np.char.add(np.char.add(low.astype(str), "-"), high.astype(str)))
    return np.where(high > 0, np.char.add(number, f"/{total}"), "").astype(object)


# --- the step ------------------------------------------------------------------------------
def predict_consequences(located: pd.DataFrame, panel: Panel) -> pd.DataFrame:
    """Exon/intron, HGVS c./p. and SO consequence for every located, annotatable row."""
    out = located.reset_index(drop=True)
    names = (C.EXON, C.INTRON, C.HGVSC, C.HGVSP, C.HGVSP_SHORT, C.PROTEIN_POSITION, C.CONSEQUENCE, C.IMPACT)
    filled = {name: np.full(len(out), "", dtype=object) for name in names}
    todo = (out[C.STATUS] == M.STATUS_ANNOTATED) & (out[C.TRANSCRIPT] != "")
    by_id = {tx.transcript: tx for tx in panel.transcripts}
    for transcript_id, rows in out[todo].groupby(C.TRANSCRIPT, sort=False):
        result = _predict_on_transcript(by_id[transcript_id], rows, panel)
        for name in names:
            filled[name][rows.index.to_numpy()] = result[name]
    return out.assign(**filled)


def _ends(tx: Transcript, first: np.ndarray, last: np.ndarray, insertion: np.ndarray) -> tuple[dict, dict]:
    """Anchors of a change's 5' and 3' ends in transcript orientation (insertions: the flanking bases)."""
    before = np.where(insertion, first - 1, first)   # genomic left end
    after = np.where(insertion, first, last)         # genomic right end
    return (_anchors(tx, before), _anchors(tx, after)) if tx.strand == "+" else (_anchors(tx, after), _anchors(tx, before))


def _within_cds(a5: dict, a3: dict, first: np.ndarray, last: np.ndarray, insertion: np.ndarray) -> np.ndarray:
    """Both ends in the CDS with no intron between them: the protein can be computed."""
    contiguous = np.where(insertion, a3["cds_pos"] - a5["cds_pos"] == 1, a3["cds_pos"] - a5["cds_pos"] == last - first)
    return (a5["region"] == "cds") & (a3["region"] == "cds") & contiguous


def _oriented(tx: Transcript, alleles: np.ndarray) -> np.ndarray:
    return alleles if tx.strand == "+" else np.array([reverse_complement(a) for a in alleles], dtype=object)


def _predict_on_transcript(tx: Transcript, rows: pd.DataFrame, panel: Panel) -> dict[str, np.ndarray]:
    start = rows[C.NORM_START].to_numpy(dtype=np.int64)
    ref, alt = rows[C.NORM_REF].to_numpy(dtype=object), rows[C.NORM_ALT].to_numpy(dtype=object)
    first, last, insertion = _span(start, ref)
    a5, a3 = _ends(tx, first, last, insertion)
    coding = _within_cds(a5, a3, first, last, insertion)
    n = len(rows)

    # consequences of position alone, over the whole span (VEP takes them from the change as given)
    lo, hi = np.where(insertion, first - 1, first), np.where(insertion, first, last)
    sites = _splice_intervals(tx)
    donor = _overlaps(sites["donor"], lo, hi)
    acceptor = _overlaps(sites["acceptor"], lo, hi)
    # VEP: the 5th base is named alone; the donor region (+3..+6) only where neither it nor the site is hit
    fifth = _overlaps(sites["donor_5th"], lo, hi)
    donor_region = _overlaps(sites["donor_region"], lo, hi) & ~fifth & ~donor
    regions = _regions(tx)
    touches = {name: _touched(regions[name], lo, hi) for name in regions}
    present = {
        "splice_donor_variant": donor,
        "splice_acceptor_variant": acceptor,
        "splice_polypyrimidine_tract_variant": _overlaps(sites["polypyrimidine"], lo, hi),
        "splice_donor_5th_base_variant": fifth,
        "splice_donor_region_variant": donor_region,
        "splice_region_variant": _overlaps(sites["region"], lo, hi) & ~donor & ~acceptor & ~fifth & ~donor_region,
        "coding_sequence_variant": touches["cds"][0] & ~coding,
        "5_prime_UTR_variant": touches["utr5"][0],
        "3_prime_UTR_variant": touches["utr3"][0],
        "intron_variant": touches["intron"][0] & ~donor & ~acceptor,
    }

    # HGVS places indels 3'-most in transcript orientation, and VEP takes the protein change from
    # there too: an insertion written in the intron can be a duplication of the exon's first bases
    h_start, h_ref, h_alt = _three_prime_alleles(tx, rows, panel)
    h_first, h_last, h_ins = _span(h_start, h_ref)
    h5, h3 = _ends(tx, h_first, h_last, h_ins)
    h_coding = _within_cds(h5, h3, h_first, h_last, h_ins)
    snv = (np.fromiter(map(len, ref), int, n) == 1) & (np.fromiter(map(len, alt), int, n) == 1)
    hgvsc = _hgvsc(tx, snv, h_start, h_ref, h_alt)

    # protein: column-wise for SNVs, sequence-level for everything else
    hgvsp, hgvsp_short, protein_term, protein_pos = (np.full(n, "", dtype=object) for _ in range(4))
    snv_coding = snv & coding
    if snv_coding.any():
        res = snv_protein_changes(tx, a5["cds_pos"][snv_coding], _oriented(tx, alt[snv_coding]))
        hgvsp[snv_coding], hgvsp_short[snv_coding] = res["hgvsp"], res["hgvsp_short"]
        protein_term[snv_coding], protein_pos[snv_coding] = res["term"], res["codon"]
    # the shifted allele where it is coding (VEP), else the change as given
    p5 = np.where(h_coding, h5["cds_pos"], a5["cds_pos"])
    p3 = np.where(h_coding, h3["cds_pos"], a3["cds_pos"])
    p_ins = np.where(h_coding, h_ins, insertion)
    p_alt = np.where(h_coding, _oriented(tx, h_alt), _oriented(tx, alt))
    for i in np.flatnonzero((coding | h_coding) & (hgvsp == "")):
        cds_start = p3[i] if p_ins[i] else p5[i]
        cds_end = cds_start - 1 if p_ins[i] else p3[i]
        change = describe_protein_change(tx, int(cds_start), int(cds_end), p_alt[i])
        hgvsp[i], hgvsp_short[i], protein_term[i], protein_pos[i] = (
            change.hgvsp, change.hgvsp_short, change.term, change.position)
    # a change that reaches outside the CDS but takes the start or stop codon still loses it
    partly_coding = touches["cds"][0] & ~(coding | h_coding)
    last_codon = tx.cds_length // 3
    for codon, term, long, short in ((1, "start_lost", "p.Met1?", "p.M1?"),
                                     (last_codon, "stop_lost", f"p.Ter{last_codon}ext*?", f"p.*{last_codon}ext*?")):
        bases = tx.tx_to_genomic(np.array([tx.cds_tx_first + 3 * codon - 3, tx.cds_tx_first + 3 * codon - 1]))
        hit = partly_coding & (lo <= bases.max()) & (hi >= bases.min())
        protein_term[hit], hgvsp[hit], hgvsp_short[hit], protein_pos[hit] = term, long, short, str(codon)

    consequence, impact = _join_terms(present, protein_term)
    return {C.EXON: _number_label(*touches["exon"][1:], tx.n_exons),
            C.INTRON: _number_label(*touches["intron"][1:], tx.n_exons - 1),
            C.HGVSC: hgvsc, C.HGVSP: hgvsp, C.HGVSP_SHORT: hgvsp_short, C.PROTEIN_POSITION: protein_pos,
            C.CONSEQUENCE: consequence, C.IMPACT: impact}


def _join_terms(present: dict[str, np.ndarray], protein_term: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row: the SO terms that apply, most severe first, joined by '&'; and the first one's impact."""
    n = len(protein_term)
    joined = np.full(n, "", dtype=object)
    impact = np.full(n, "MODIFIER", dtype=object)
    for term, term_impact in M.SO_TERMS_BY_SEVERITY:  # severity order, so each row's first term is its worst
        has = present.get(term, np.zeros(n, dtype=bool)) | (protein_term == term)
        if not has.any():
            continue
        impact = np.where(has & (joined == ""), term_impact, impact)
        joined = np.where(has, np.where(joined == "", term, joined + "&" + term), joined)
    return joined, impact


def _three_prime_alleles(tx: Transcript, rows: pd.DataFrame, panel: Panel) -> tuple[np.ndarray, ...]:
    """(start, ref, alt) with pure indels shifted 3' in transcript orientation.

    Minus strand: 3' is genomic left, where normalization already put them. Plus strand:
    shift right from the input's own (trimmed) position, not the left-aligned one, so that
    where unknown bases stop the shift we are never further 5' than the caller wrote it.
    """
    start = rows[C.NORM_START].to_numpy(dtype=np.int64).copy()
    ref, alt = rows[C.NORM_REF].to_numpy(dtype=object).copy(), rows[C.NORM_ALT].to_numpy(dtype=object).copy()
    if tx.strand == "+":
        contigs = rows[C.CONTIG].to_numpy()
        given = rows[[C.POS, C.REF, C.ALT]].to_numpy(dtype=object)
        for i in np.flatnonzero([not (r and a) for r, a in zip(ref, alt)]):
            caller = (int(given[i, 0]), _allele(given[i, 1]))
            pos, r, a = trim_alleles(*caller, _allele(given[i, 2]))
            start[i], ref[i], alt[i] = right_align(panel, contigs[i], pos, r, a, caller)
    return start, ref, alt


def _allele(text: str) -> str:
    text = str(text).upper()
    return "" if text == "-" else text


def _hgvsc(tx: Transcript, snv: np.ndarray, starts: np.ndarray, refs: np.ndarray, alts: np.ndarray) -> np.ndarray:
    """HGVS c. of every row, from the 3'-shifted alleles."""
    out = np.full(len(starts), "", dtype=object)
    if snv.any():
        a = _anchors(tx, starts[snv])
        out[snv] = ("c." + _c_notation(tx, a["anchor"], a["offset"]) + _oriented(tx, refs[snv]) + ">"
                    + _oriented(tx, alts[snv]))
    others = np.flatnonzero(~snv)
    if len(others) == 0:
        return out
    # describe each other change as (genomic span, kind, inserted bases), then place all spans at once
    described = [_indel_description(tx, int(starts[i]), refs[i], alts[i]) for i in others]
    lo = np.array([d[0] for d in described], dtype=np.int64)
    hi = np.array([d[1] for d in described], dtype=np.int64)
    plus = tx.strand == "+"
    first, last = (lo, hi) if plus else (hi, lo)
    both = _anchors(tx, np.concatenate([first, last]))
    labels = _c_notation(tx, both["anchor"], both["offset"])
    c_first, c_last = labels[:len(others)], labels[len(others):]
    for k, (i, (_, _, kind, inserted)) in enumerate(zip(others, described)):
        span = c_first[k] if first[k] == last[k] else f"{c_first[k]}_{c_last[k]}"
        out[i] = f"c.{span}{kind}{inserted}"
    return out


def _indel_description(tx: Transcript, start: int, ref: str, alt: str) -> tuple[int, int, str, str]:
    """(genomic lo, hi, 'delins'/'del'/'dup'/'ins', bases in transcript orientation) of a non-SNV."""
    plus = tx.strand == "+"
    oriented = alt if plus else reverse_complement(alt)
    if ref and alt:
        if len(ref) > 1 and alt == reverse_complement(ref):  # VEP and HGVS: c.2572_2573inv
            return start, start + len(ref) - 1, "inv", ""
        return start, start + len(ref) - 1, "delins", oriented
    if ref:
        return start, start + len(ref) - 1, "del", ""
    k = len(alt)
    # an insertion that repeats the bases just 5' of it (transcript orientation) is a dup
    if plus and tx.genome_bases(start - k, start - 1) == alt:
        return start - k, start - 1, "dup", ""
    if not plus and tx.genome_bases(start, start + k - 1) == alt:
        return start, start + k - 1, "dup", ""
    return start - 1, start, "ins", oriented
