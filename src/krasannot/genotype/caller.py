"""Hotspot genotyping straight from a BAM or CRAM (pysam only): codon alleles, CIGAR indels, a test.

What is counted
---------------
* Reads that are unmapped, secondary, supplementary, QC-failed or duplicates are skipped, and
  so are reads below ``min_mapq``. A base below ``min_baseq`` is not looked at.
* The unit is the **fragment** (read pair): two overlapping mates are counted once. Mates that
  read the same codon allele count once; mates that disagree at a codon are dropped there (one
  of them is an error and we cannot tell which). For an indel a fragment supports it when either
  mate shows it, and covers it when either mate spans it.
* **Codon alleles are read from the reads**: the three bases of a hotspot codon are taken
  together from each read (all three aligned, each at ``min_baseq``), so ``GGT>TTT`` at KRAS
  codon 12 is one ``p.G12F`` allele, never ``p.G12C`` plus ``p.G12V``. Tested at each codon:
  every single-base change that alters the amino acid, plus every other non-synonymous codon
  the reads carry.
* **Indels** in the EGFR exon 19 / exon 20 and ERBB2 exon 20 regions come from the CIGAR
  (adjacent I/D operations are one delins), left-aligned on the reference, one allele each.
* **Strand**: a fragment's orientation is that of its first read (a read 2 on the reverse strand
  is a forward fragment); ``alt_forward``/``alt_reverse`` count alt fragments per orientation.

The decision
------------
* **Background error model**, from the same BAM: every aligned base at ``min_baseq`` at a
  non-hotspot position whose reference base is known (the panel's coding bases, or the whole
  window with ``--reference``), in the reads fetched for the hotspots (at most
  ``BACKGROUND_READS_PER_WINDOW`` reads per window, evenly spaced); indel regions are left out of
  the indel classes. Positions where one alt reaches ``BACKGROUND_MAX_VAF`` (1%, with at least 2
  reads) are left out as real variants. Per base change (12 classes, forward strand, e.g. ``C>T``)
  and for deletions and insertions (per position) we fit a beta-binomial: mean
  ``mu = (errors + prior_rate * 10,000) / (bases + 10,000)``, a prior worth 10,000 bases at a
  pessimistic rate (1e-3 per change class, 1e-4 per position for indels) that the data outweigh
  in any real panel, and overdispersion
  ``rho`` by the method of moments over positions (0 = binomial; capped at ``MAX_RHO``). A codon
  allele with several base changes uses its least frequent change's rate (conservative: a real
  MNV error is rarer still).
* **Test**: one-sided beta-binomial ``p = P(X >= alt fragments | depth, mu, rho)``. Family-wise
  false-positive rate ``FALSE_POSITIVE_RATE`` = 5% per sample, Bonferroni over all alleles tested:
  ``detected`` when ``p <= 0.05 / n_tests`` and at least ``MIN_ALT_FRAGMENTS`` (3) fragments carry
  the allele.
* ``not_assessed`` when fewer than ``MIN_DEPTH[specimen]`` fragments cover the codon (tissue 60,
  plasma 300: with 3 alt fragments needed, a limit of detection of about 10% and 2%).
* ``not_detected`` otherwise, with ``lod``: the smallest VAF at which, at this depth, at least the
  critical number of alt fragments (the smallest count the test would call) is seen with 95%
  probability.
* ``filter`` is ``strand_bias`` for a detected allele whose fragments all share one orientation
  when that has probability below 0.001 given the orientations of the depth, else ``PASS``.
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from .. import columns as C
from .. import models as M
from ..errors import BuildMismatchError, InputFormatError, ReferenceDataError, UsageError
from ..reference.builds import build_from_contig_lengths, canonical_contig
from ..reference.bundle import Panel, reverse_complement, translate
from ..io.genotype_calls import (ALT_FORWARD, ALT_REVERSE, ANNOTATION_STATUS, GENOTYPE_EXTRA_COLUMNS,
                                 GENOTYPE_TSV_COLUMNS, HOTSPOT, LOD, P_VALUE, SOURCE_BAM)

SKIP_FLAGS = 0x4 | 0x100 | 0x200 | 0x400 | 0x800  # unmapped, secondary, QC-fail, duplicate, supplementary
MIN_DEPTH = {"tissue": 60, "plasma": 300}
MIN_ALT_FRAGMENTS = 3
FALSE_POSITIVE_RATE = 0.05
LOD_POWER = 0.95
STRAND_BIAS_P = 1e-3
BACKGROUND_MAX_VAF = 0.01
BACKGROUND_READS_PER_WINDOW = 5000
MAX_RHO = 1e-3
# a prior worth PRIOR_BASES bases at a pessimistic Illumina rate, so that a BAM with little background
# (a tiny panel, or reads only over the hotspots) is not credited with an error rate of zero
PRIOR_BASES = 10_000
PRIOR_SNV_RATE = 1e-3     # per change class, per base
PRIOR_INDEL_RATE = 1e-4   # per position
MIN_INDEL_ANCHOR = 5    # aligned bases an indel needs on both sides within the read
WINDOW_GAP = 300        # hotspots closer than this share one fetch
CODON_KIND, REGION_KIND = "codon", "indel_region"

COVERAGE_COLUMNS = ["gene", "residue", HOTSPOT, "kind", "chrom", "start", "end", "depth_min", "depth_median",
                    "min_depth", "assessed"]

_BASES = "ACGT"
_BASE_CODE = np.full(256, 4, dtype=np.uint8)
for _i, _b in enumerate(_BASES):
    _BASE_CODE[ord(_b)] = _BASE_CODE[ord(_b.lower())] = _i
_CLASSES = [f"{r}>{a}" for r in _BASES for a in _BASES if r != a] + ["deletion", "insertion"]


# --- the hotspot list ------------------------------------------------------------------------
def hotspots_path() -> Path:
    return Path(str(resources.files("krasannot.resources").joinpath("hotspots", "hotspots.tsv")))


def load_hotspots(panel: Panel, path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Place the hotspot list (protein terms) on the genome of `panel`'s build.

    Genes of the bundle are placed through their transcript; others (AKT1) need the build's
    coordinates, strand and reference codon in the list. Returns one row per hotspot with
    contig, start, end (forward, 1-based), strand, transcript, ref_codon (transcript
    orientation; codons only) and in_panel.
    """
    path = str(path or hotspots_path())
    try:
        table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError) as exc:
        raise ReferenceDataError(f"cannot read the hotspot list ({exc})", path=path) from None
    prefix = panel.build.lower()
    rows = []
    for line, row in enumerate(table.to_dict("records"), start=2):
        first, last = int(row["residue_first"]), int(row["residue_last"])
        tx = panel.by_gene.get(row["gene"])
        placed = {"gene": row["gene"], HOTSPOT: f"{row['gene']} {row['hotspot']}", "kind": row["kind"],
                  "residue": row["hotspot"] if row["kind"] == CODON_KIND else f"{first}-{last}",
                  "residue_first": first, "residue_last": last, "ref_aa": row["ref_aa"],
                  "in_panel": tx is not None}
        if tx is not None:
            _check_against_bundle(tx, row, first, last, path, line)
            cds_first = tx.cds_tx_first + 3 * (first - 1)
            genomic = tx.tx_to_genomic(np.arange(cds_first, cds_first + 3 * (last - first + 1)))
            placed.update(contig=tx.chrom, start=int(genomic.min()), end=int(genomic.max()), strand=tx.strand,
                          transcript=tx.transcript,
                          ref_codon=tx.cds[3 * (first - 1):3 * first] if row["kind"] == CODON_KIND else "")
            if row["kind"] == CODON_KIND and int(genomic.max() - genomic.min()) != 2:
                raise ReferenceDataError(f"{placed[HOTSPOT]}: the codon is split by an intron", path=path, line=line)
        else:
            if not row.get(f"{prefix}_start"):
                raise ReferenceDataError(f"{placed[HOTSPOT]}: not in the {panel.build} bundle and no {prefix} "
                                         "coordinates in the hotspot list", path=path, line=line)
            placed.update(contig=canonical_contig(row[f"{prefix}_chrom"]), start=int(row[f"{prefix}_start"]),
                          end=int(row[f"{prefix}_end"]), strand=row["strand"], transcript=row["transcript"],
                          ref_codon=row["ref_codon"])
            if row["kind"] != CODON_KIND or placed["end"] - placed["start"] != 2 \
                    or translate(row["ref_codon"]) != row["ref_aa"]:
                raise ReferenceDataError(f"{placed[HOTSPOT]}: a hotspot outside the bundle must be one codon "
                                         f"whose ref_codon encodes ref_aa", path=path, line=line)
        rows.append(placed)
    return pd.DataFrame(rows)


def _check_against_bundle(tx, row: dict, first: int, last: int, path: str, line: int) -> None:
    """A typo in the list must fail loudly: the residue's amino acid, or the region's exon, must fit."""
    name = f"{row['gene']} {row['hotspot']}"
    if row["kind"] == CODON_KIND:
        if first != last or tx.protein[first - 1:first] != row["ref_aa"]:
            raise ReferenceDataError(f"{name}: {tx.transcript} has {tx.protein[first - 1:first]!r} at residue "
                                     f"{first}, the list says {row['ref_aa']!r}", path=path, line=line)
    elif row["kind"] == REGION_KIND:
        exon = int(row["exon"])
        lo, hi = sorted(tx.exons[exon - 1])
        tx_pos = tx.genomic_to_tx(np.array([lo, hi]))
        cds = np.sort(tx_pos - tx.cds_tx_first + 1)
        residues = ((cds[0] + 2) // 3, cds[1] // 3)  # codons wholly inside the exon
        if not residues[0] <= first <= last <= residues[1]:
            raise ReferenceDataError(f"{name}: exon {exon} of {tx.transcript} encodes residues "
                                     f"{residues[0]}-{residues[1]}, the list says {first}-{last}",
                                     path=path, line=line)
    else:
        raise ReferenceDataError(f"{name}: unknown kind {row['kind']!r}", path=path, line=line,
                                 hint=f"use {CODON_KIND} or {REGION_KIND}")


def fetch_windows(hotspots: pd.DataFrame, gap: int = WINDOW_GAP) -> pd.DataFrame:
    """Merge hotspots closer than `gap` into fetch windows: each read is then fetched once."""
    frame = hotspots.sort_values(["contig", "start"]).reset_index()
    reach = frame.groupby("contig")["end"].cummax().shift()  # furthest end so far (same contig: see below)
    new = (frame["contig"] != frame["contig"].shift()) | (frame["start"] > reach + gap)
    frame["window"] = new.cumsum() - 1
    windows = frame.groupby("window").agg(contig=("contig", "first"), start=("start", "min"),
                                          end=("end", "max"), members=("index", list))
    return windows.reset_index(drop=True)


# --- opening the alignments ------------------------------------------------------------------
@dataclass
class Alignments:
    """An open BAM/CRAM with what the run needs to know about it."""

    handle: object
    path: str
    build: str
    build_reason: str
    contig_names: dict            # canonical contig -> the file's name (12 -> chr12)
    sample: str
    notes: list = field(default_factory=list)
    tmpdir: object = None

    def close(self) -> None:
        self.handle.close()
        if self.tmpdir is not None:
            self.tmpdir.cleanup()


def open_alignments(path: str, build: str, reference: str | None = None, sample: str | None = None) -> Alignments:
    """Open `path` (BAM or CRAM), index it into a temp dir if it has no index, and settle the build."""
    import pysam

    if not os.path.exists(path):
        raise InputFormatError("alignment file not found", path=path)
    with open(path, "rb") as handle:
        magic = handle.read(4)
    is_cram = magic == b"CRAM"
    if is_cram and not reference:
        raise UsageError(f"{path} is a CRAM: give the FASTA it was written against with --reference",
                         hint="krasannot works offline and never downloads reference sequence")
    if reference and not os.path.exists(reference):
        raise InputFormatError("reference FASTA not found", path=reference)
    mode = "rc" if is_cram else "rb"
    kwargs = {"reference_filename": reference} if is_cram else {}
    notes, tmpdir = [], None
    try:
        handle = pysam.AlignmentFile(path, mode, **kwargs)
    except (OSError, ValueError) as exc:
        raise InputFormatError(f"not a readable BAM or CRAM ({exc})", path=path,
                               hint="give a coordinate-sorted BAM or CRAM") from None
    if not handle.has_index():
        handle.close()
        tmpdir = tempfile.TemporaryDirectory(prefix="krasannot-index-")
        index = os.path.join(tmpdir.name, os.path.basename(path) + (".crai" if is_cram else ".bai"))
        try:
            pysam.index(path, index)
        except pysam.utils.SamtoolsError as exc:
            tmpdir.cleanup()
            raise InputFormatError(f"has no index and cannot be indexed ({str(exc).strip()[:200]})", path=path,
                                   hint="sort it by coordinate (samtools sort) and index it") from None
        handle = pysam.AlignmentFile(path, mode, index_filename=index, **kwargs)
        notes.append("the file had no index: indexed into a temporary directory")
    lengths = dict(zip(handle.references, handle.lengths))
    header_build, why = build_from_contig_lengths(lengths)
    if build == "auto":
        if header_build is None:
            handle.close()
            raise UsageError(f"cannot tell the genome build of {path}: {why}", hint="give --build GRCh37 or GRCh38")
        build, why = header_build, f"@SQ lengths: {why}"
    elif header_build is not None and header_build != build:
        handle.close()
        raise BuildMismatchError(f"--build {build} was given, but the @SQ lengths say {header_build} ({why})",
                                 path=path, hint=f"rerun with --build {header_build}")
    else:
        why = f"given; @SQ lengths: {why}"
    names = {canonical_contig(name): name for name in handle.references}
    read_groups = [g.get("SM") for g in handle.header.to_dict().get("RG", []) if g.get("SM")]
    if sample is None:
        sample = read_groups[0] if read_groups else Path(path).name.split(".")[0]
        if len(set(read_groups)) > 1:
            notes.append(f"several read-group samples ({', '.join(sorted(set(read_groups)))}); all reads counted "
                         f"as {sample}")
    return Alignments(handle, path, build, why, names, sample, notes, tmpdir)


# --- reading one window ----------------------------------------------------------------------
@dataclass
class WindowReads:
    """The filtered reads of one fetch window as flat arrays (reads, aligned blocks, indel events)."""

    fragment: np.ndarray      # fragment id per read (mates share it)
    reverse: np.ndarray       # read on the reverse strand
    start: np.ndarray         # first aligned reference base, 1-based
    end: np.ndarray           # last aligned reference base
    seq_offset: np.ndarray    # where the read's bases start in `bases`
    bases: np.ndarray         # base codes (A C G T = 0..3, other 4), all reads end to end
    quals: np.ndarray
    block_read: np.ndarray    # aligned blocks: read index, first reference base, first query base, length
    block_ref: np.ndarray
    block_query: np.ndarray
    block_length: np.ndarray
    events: pd.DataFrame      # read, first (first affected base; insertions: base after), deleted, inserted
    skipped: dict

    @property
    def n_reads(self) -> int:
        return len(self.fragment)


def read_window(handle, contig_name: str | None, start: int, end: int, min_mapq: int) -> WindowReads:
    """Fetch the reads over [start, end] once, keeping what the counting needs as arrays (none
    when the file lacks the contig)."""
    names, flags, starts, ends, seqs, quals = [], [], [], [], [], []
    b_read, b_ref, b_query, b_len, events = [], [], [], [], []
    skipped = {"flag": 0, "mapq": 0, "no_sequence": 0}
    for read in (handle.fetch(contig_name, max(start - 1, 0), end) if contig_name is not None else ()):
        flag = read.flag
        if flag & SKIP_FLAGS:
            skipped["flag"] += 1
            continue
        if read.mapping_quality < min_mapq:
            skipped["mapq"] += 1
            continue
        seq = read.query_sequence
        if not seq:
            skipped["no_sequence"] += 1
            continue
        index = len(names)
        ref = read.reference_start
        cigar = read.cigartuples
        if len(cigar) == 1:  # the common case: one aligned block
            b_read.append(index), b_ref.append(ref + 1), b_query.append(0), b_len.append(cigar[0][1])
        else:
            query, last_op = 0, -1
            for op, length in cigar:
                if op in (0, 7, 8):
                    b_read.append(index), b_ref.append(ref + 1), b_query.append(query), b_len.append(length)
                    ref += length
                    query += length
                elif op == 1 or op == 2:
                    inserted = seq[query:query + length] if op == 1 else ""
                    deleted = length if op == 2 else 0
                    if last_op in (1, 2):  # I next to D is one delins
                        events[-1][2] += deleted
                        events[-1][3] += inserted
                    else:
                        events.append([index, ref + 1, deleted, inserted])
                    ref += deleted
                    query += len(inserted)
                elif op == 4:
                    query += length
                elif op == 3:
                    ref += length
                last_op = op
        names.append(read.query_name)
        flags.append(flag)
        starts.append(read.reference_start + 1)
        ends.append(read.reference_end)
        seqs.append(seq)
        qual = read.query_qualities_str
        quals.append(qual if qual and len(qual) == len(seq) else "~" * len(seq))  # no qualities: do not filter
    flags = np.asarray(flags, dtype=np.int64)
    lengths = np.fromiter(map(len, seqs), dtype=np.int64, count=len(seqs))
    fragment = (np.unique(np.asarray(names, dtype=object), return_inverse=True)[1].astype(np.int64)
                if names else np.zeros(0, dtype=np.int64))
    event_frame = pd.DataFrame(events, columns=["read", "first", "deleted", "inserted"])
    return WindowReads(
        fragment=fragment, reverse=(flags & 16) != 0,
        start=np.asarray(starts, dtype=np.int64), end=np.asarray(ends, dtype=np.int64),
        seq_offset=np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64) if len(seqs) else lengths,
        bases=_BASE_CODE[np.frombuffer("".join(seqs).encode("ascii"), dtype=np.uint8)],
        quals=np.frombuffer("".join(quals).encode("ascii"), dtype=np.uint8) - 33,
        block_read=np.asarray(b_read, dtype=np.int64), block_ref=np.asarray(b_ref, dtype=np.int64),
        block_query=np.asarray(b_query, dtype=np.int64), block_length=np.asarray(b_len, dtype=np.int64),
        events=event_frame.astype({"read": np.int64, "first": np.int64, "deleted": np.int64}),
        skipped=skipped)


def bases_at(reads: WindowReads, positions: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Base code and quality of every read at each reference position (code 5: not aligned there)."""
    codes = np.full((reads.n_reads, len(positions)), 5, dtype=np.uint8)
    quals = np.zeros((reads.n_reads, len(positions)), dtype=np.uint8)
    for k, position in enumerate(positions):
        inside = (reads.block_ref <= position) & (position < reads.block_ref + reads.block_length)
        read = reads.block_read[inside]
        where = reads.seq_offset[read] + reads.block_query[inside] + (position - reads.block_ref[inside])
        codes[read, k] = reads.bases[where]
        quals[read, k] = reads.quals[where]
    return codes, quals


def collapse_mates(fragment: np.ndarray, allele: np.ndarray,
                   reverse: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One observation per fragment: mates that agree count once, mates that disagree are dropped.

    Returns the fragments' alleles and whether a forward / a reverse read of the fragment read it.
    """
    if len(fragment) == 0:
        return allele[:0], reverse[:0], reverse[:0]
    order = np.lexsort((allele, fragment))
    fragment, allele, reverse = fragment[order], allele[order], reverse[order].astype(np.int8)
    first = np.flatnonzero(np.r_[True, fragment[1:] != fragment[:-1]])
    agree = np.minimum.reduceat(allele, first) == np.maximum.reduceat(allele, first)
    on_forward = np.minimum.reduceat(reverse, first) == 0
    on_reverse = np.maximum.reduceat(reverse, first) == 1
    return allele[first][agree], on_forward[agree], on_reverse[agree]


def fragment_depth(reads: WindowReads, lo: int, hi: int) -> np.ndarray:
    """Fragments covering each base lo..hi (a fragment spans its mates' union)."""
    if reads.n_reads == 0:
        return np.zeros(hi - lo + 1, dtype=np.int64)
    order = np.argsort(reads.fragment, kind="stable")
    fragment = reads.fragment[order]
    first = np.flatnonzero(np.r_[True, fragment[1:] != fragment[:-1]])
    starts = np.minimum.reduceat(reads.start[order], first)
    ends = np.maximum.reduceat(reads.end[order], first)
    delta = np.zeros(hi - lo + 2, dtype=np.int64)
    np.add.at(delta, np.clip(starts - lo, 0, hi - lo + 1), 1)
    np.add.at(delta, np.clip(ends - lo + 1, 0, hi - lo + 1), -1)
    depth = np.cumsum(delta)[:-1]
    return depth


# --- observations at the hotspots ------------------------------------------------------------
def codon_observations(reads: WindowReads, hotspot: dict, min_baseq: int) -> pd.DataFrame:
    """Fragments per codon allele at one codon hotspot: the alleles to test, with their support.

    Rows: every single-base change that alters the amino acid, and every other non-synonymous
    codon carried by a fragment; columns pos, ref, alt (forward strand), alt_depth, depth,
    alt_forward, alt_reverse, changes (forward-strand base changes, e.g. "G>T;G>T").
    """
    positions = [hotspot["start"], hotspot["start"] + 1, hotspot["start"] + 2]
    codes, quals = bases_at(reads, positions)
    seen = (codes < 4).all(axis=1) & (quals >= min_baseq).all(axis=1)
    codon_code = codes[seen, 0].astype(np.int64) * 16 + codes[seen, 1] * 4 + codes[seen, 2]
    allele, on_forward, on_reverse = collapse_mates(reads.fragment[seen], codon_code, reads.reverse[seen])
    depth = len(allele)
    counts = np.bincount(allele, minlength=64)
    forward_counts = np.bincount(allele[on_forward], minlength=64)
    reverse_counts = np.bincount(allele[on_reverse], minlength=64)
    ref_forward = hotspot["ref_codon"] if hotspot["strand"] == "+" else reverse_complement(hotspot["ref_codon"])
    ref_aa = translate(hotspot["ref_codon"])
    rows = []
    for code in range(64):
        alt_forward_bases = _BASES[code // 16] + _BASES[code // 4 % 4] + _BASES[code % 4]
        changed = [i for i in range(3) if alt_forward_bases[i] != ref_forward[i]]
        if not changed or (len(changed) > 1 and counts[code] == 0):
            continue
        codon = alt_forward_bases if hotspot["strand"] == "+" else reverse_complement(alt_forward_bases)
        if translate(codon) == ref_aa:
            continue
        rows.append({C.POS: hotspot["start"], C.REF: ref_forward, C.ALT: alt_forward_bases,
                     C.ALT_DEPTH: int(counts[code]), C.DEPTH: depth,
                     ALT_FORWARD: int(forward_counts[code]), ALT_REVERSE: int(reverse_counts[code]),
                     "depth_forward": int(on_forward.sum()), "depth_reverse": int(on_reverse.sum()),
                     "changes": ";".join(f"{ref_forward[i]}>{alt_forward_bases[i]}" for i in changed),
                     "alt_aa": translate(codon)})
    return pd.DataFrame(rows)


def normalized_events(reads: WindowReads, reference: "ReferenceBases", contig: str) -> pd.DataFrame:
    """Indel events of the reads, pure indels left-aligned on the reference (delins kept as they are).

    An indel within MIN_INDEL_ANCHOR aligned bases of the read's end is dropped: a read ending
    inside an insertion shows only part of it (a 12-base duplication read as an 11-base frameshift).
    """
    events = reads.events
    if len(events):
        read = events["read"].to_numpy()
        anchored = ((events["first"].to_numpy() - reads.start[read] >= MIN_INDEL_ANCHOR)
                    & (reads.end[read] - (events["first"].to_numpy() + events["deleted"].to_numpy() - 1)
                       >= MIN_INDEL_ANCHOR))
        events = events[anchored]
    if events.empty:
        return events.assign(ref_bases="")
    keys = events[["first", "deleted", "inserted"]].drop_duplicates()
    shifted = []
    for first, deleted, inserted in keys.itertuples(index=False):
        new_first, new_inserted = first, inserted
        if (deleted == 0) != (inserted == ""):  # a pure deletion or insertion
            allele = inserted or reference.bases(contig, first, first + deleted - 1)
            while "N" not in allele:
                before = reference.bases(contig, new_first - 1, new_first - 1)
                if before != allele[-1]:
                    break
                allele = before + allele[:-1]
                new_first -= 1
            new_inserted = allele if inserted else ""
        shifted.append((first, deleted, inserted, new_first, new_inserted))
    mapping = pd.DataFrame(shifted, columns=["first", "deleted", "inserted", "norm_first", "norm_inserted"])
    out = events.merge(mapping, on=["first", "deleted", "inserted"], how="left")
    out["first"], out["inserted"] = out.pop("norm_first"), out.pop("norm_inserted")
    return out


def region_observations(reads: WindowReads, events: pd.DataFrame, hotspot: dict,
                        reference: "ReferenceBases", contig: str) -> pd.DataFrame:
    """One row per distinct indel in a region, as a VCF-style allele with fragment support and depth."""
    inside = events[(events["first"] <= hotspot["end"])
                    & (events["first"] + np.maximum(events["deleted"], 1) - 1 >= hotspot["start"])]
    rows = []
    for (first, deleted, inserted), group in inside.groupby(["first", "deleted", "inserted"]):
        anchor = reference.bases(contig, first - 1, first - 1 + deleted)
        if "N" in anchor:
            continue  # the reference around it is unknown: no allele can be written
        carrying = group["read"].to_numpy()
        spanning = np.flatnonzero((reads.start <= first - 1) & (reads.end >= first + deleted))
        covering = np.union1d(spanning, carrying)

        def fragments(read_index: np.ndarray) -> tuple[int, int, int]:  # all, with a forward, a reverse read
            frag, rev = reads.fragment[read_index], reads.reverse[read_index]
            return len(np.unique(frag)), len(np.unique(frag[~rev])), len(np.unique(frag[rev]))
        alt, alt_forward, alt_reverse = fragments(carrying)
        depth, depth_forward, depth_reverse = fragments(covering)
        rows.append({C.POS: int(first - 1), C.REF: anchor, C.ALT: anchor[0] + inserted,
                     C.ALT_DEPTH: alt, C.DEPTH: depth, ALT_FORWARD: alt_forward, ALT_REVERSE: alt_reverse,
                     "depth_forward": depth_forward, "depth_reverse": depth_reverse,
                     "changes": "deletion" if deleted else "insertion", "alt_aa": ""})
    return pd.DataFrame(rows)


# --- the background error model --------------------------------------------------------------
@dataclass
class ReferenceBases:
    """Forward-strand reference bases: from a FASTA where given, else the panel's known bases."""

    panel: Panel
    fasta: object = None
    fasta_names: dict = field(default_factory=dict)

    def bases(self, contig: str, start: int, end: int) -> str:
        if end < start:
            return ""
        if self.fasta is not None and contig in self.fasta_names:
            name = self.fasta_names[contig]
            length = self.fasta.get_reference_length(name)
            got = self.fasta.fetch(name, max(start - 1, 0), min(end, length)).upper()
            return "N" * max(0, 1 - start) + got + "N" * max(0, end - max(length, start - 1))
        return self.panel.genome_bases(contig, start, end)

    def codes(self, contig: str, start: int, end: int) -> np.ndarray:
        """Base codes (A C G T = 0..3, unknown 4) of start..end, without building a string per base."""
        if self.fasta is not None and contig in self.fasta_names:
            return _BASE_CODE[np.frombuffer(self.bases(contig, start, end).encode("ascii"), dtype=np.uint8)]
        out = np.full(end - start + 1, 4, dtype=np.uint8)
        for tx in self.panel.by_contig.get(contig, []):
            lo, hi = max(start, tx.span_start), min(end, tx.span_start + len(tx.genome) - 1)
            if lo <= hi:
                known = _BASE_CODE[np.frombuffer(tx.genome[lo - tx.span_start:hi - tx.span_start + 1]
                                                 .encode("ascii"), dtype=np.uint8)]
                target = out[lo - start:hi - start + 1]
                np.copyto(target, known, where=known < 4)
        return out


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
    blocks = sampled[reads.block_read]
    length, ref_first = reads.block_length[blocks], reads.block_ref[blocks]
    query_first = reads.seq_offset[reads.block_read[blocks]] + reads.block_query[blocks]
    within = np.arange(length.sum()) - np.repeat(np.cumsum(length) - length, length)
    ref_pos = np.repeat(ref_first, length) + within
    query = np.repeat(query_first, length) + within
    if len(ref_pos) == 0:
        return pd.DataFrame(columns=["change", "alt", "depth"])
    lo, hi = int(ref_pos.min()), int(ref_pos.max())
    ref_code = reference.codes(contig, lo, hi)
    base, qual, ref_base = reads.bases[query], reads.quals[query], ref_code[ref_pos - lo]
    blocked = np.zeros(hi - lo + 1, dtype=bool)  # hotspot codons, as a mask over the span
    inside = excluded[(excluded >= lo) & (excluded <= hi)]
    blocked[inside - lo] = True
    usable = (qual >= min_baseq) & (base < 4) & (ref_base < 4) & ~blocked[ref_pos - lo]
    counts = np.bincount((ref_pos[usable] - lo) * 4 + base[usable], minlength=(hi - lo + 1) * 4).reshape(-1, 4)
    depth = counts.sum(axis=1)
    ref_of_pos = ref_code
    frames = []
    known = np.flatnonzero((depth > 0) & (ref_of_pos < 4))
    for alt in range(4):
        rows = known[ref_of_pos[known] != alt]
        change = ref_of_pos[rows].astype(np.int64) * 3 + alt - (alt > ref_of_pos[rows])
        frames.append(pd.DataFrame({"change": np.asarray(_CLASSES, dtype=object)[change],
                                    "alt": counts[rows, alt], "depth": depth[rows]}))
    events = reads.events
    if len(events):
        first = events["first"].to_numpy()
        events = events[sampled[events["read"].to_numpy()] & (first >= lo) & (first <= hi)]
    for name, kind in (("deletion", events["deleted"] > 0 if len(events) else []),
                       ("insertion", events["inserted"] != "" if len(events) else [])):
        per_position = (np.bincount(events.loc[kind, "first"].to_numpy() - lo, minlength=hi - lo + 1)[:hi - lo + 1]
                        if len(events) else np.zeros(hi - lo + 1, dtype=np.int64))
        rows = known[~np.isin(known + lo, indel_excluded)]
        frames.append(pd.DataFrame({"change": name, "alt": per_position[rows], "depth": depth[rows]}))
    return pd.concat(frames, ignore_index=True)


def fit_error_model(counts: pd.DataFrame) -> pd.DataFrame:
    """Per change class: mean error rate mu and beta-binomial overdispersion rho (method of moments).

    Positions where the alt reaches BACKGROUND_MAX_VAF with at least 2 reads are real variants,
    not errors, and are left out.
    """
    counts = counts.astype({"alt": np.int64, "depth": np.int64})
    real = (counts["alt"] >= 2) & (counts["alt"] >= BACKGROUND_MAX_VAF * counts["depth"])
    kept = counts[~real & (counts["depth"] > 0)]
    rows = []
    for change in _CLASSES:
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


def _log_factorials(n: int) -> np.ndarray:
    return np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, n + 1, dtype=float)))])


def log_tail(n: int, mu: float, rho: float, log_fact: np.ndarray) -> np.ndarray:
    """log P(X >= k) for k = 0..n under the beta-binomial (binomial when rho is 0)."""
    k = np.arange(n + 1)
    log_choose = log_fact[n] - log_fact[k] - log_fact[n - k]
    if rho <= 0:
        log_pmf = log_choose + k * math.log(mu) + (n - k) * math.log1p(-mu)
    else:
        a, b = mu * (1 - rho) / rho, (1 - mu) * (1 - rho) / rho

        def rising(x: float) -> np.ndarray:  # log of x (x+1) ... (x+m-1), m = 0..n
            return np.concatenate([[0.0], np.cumsum(np.log(x + np.arange(n)))])
        log_pmf = log_choose + rising(a)[k] + rising(b)[n - k] - rising(a + b)[n]
    return np.logaddexp.accumulate(log_pmf[::-1])[::-1]


def limit_of_detection(n: int, k_crit: int, log_fact: np.ndarray, power: float = LOD_POWER) -> float:
    """Smallest VAF at which P(Binomial(n, vaf) >= k_crit) >= power (bisection)."""
    if k_crit > n:
        return float("nan")
    j = np.arange(k_crit)
    log_choose = log_fact[n] - log_fact[j] - log_fact[n - j]
    lo, hi = 0.0, 1.0
    for _ in range(50):
        f = (lo + hi) / 2
        below = np.exp(log_choose + j * math.log(f) + (n - j) * math.log1p(-f)).sum() if f < 1 else 0.0
        lo, hi = (f, hi) if 1 - below < power else (lo, f)
    return hi


def test_alleles(observed: pd.DataFrame, model: pd.DataFrame, specimen: str) -> pd.DataFrame:
    """Add p_value, lod, detection and filter to the tested alleles (one beta-binomial test each)."""
    out = observed.copy()
    n_tests = max(len(out), 1)
    alpha = FALSE_POSITIVE_RATE / n_tests
    by_class = model.set_index("change")
    # an allele with several base changes uses its least frequent change (conservative)
    classes = out["changes"].fillna("").str.split(";")
    mu_of = by_class["mu"].to_dict()
    chosen = [min(parts, key=lambda c: mu_of.get(c, 1.0)) if parts != [""] else "" for parts in classes]
    depth = out[C.DEPTH].to_numpy(dtype=np.int64)
    alt = out[C.ALT_DEPTH].to_numpy(dtype=np.int64)
    log_fact = _log_factorials(int(depth.max()) if len(depth) else 1)
    p_values, lods, cache = np.ones(len(out)), np.full(len(out), np.nan), {}
    for i, (n, k, change) in enumerate(zip(depth, alt, chosen)):
        if n == 0 or change not in mu_of:
            continue
        key = (int(n), change)
        if key not in cache:
            tail = log_tail(int(n), float(mu_of[change]), float(by_class.at[change, "rho"]), log_fact)
            callable_k = np.flatnonzero((tail <= math.log(alpha)) & (np.arange(n + 1) >= MIN_ALT_FRAGMENTS))
            k_crit = int(callable_k[0]) if len(callable_k) else int(n) + 1
            cache[key] = (tail, limit_of_detection(int(n), k_crit, log_fact))
        tail, lod = cache[key]
        p_values[i] = math.exp(tail[k])
        lods[i] = lod
    min_depth = MIN_DEPTH[specimen]
    detected = (p_values <= alpha) & (alt >= MIN_ALT_FRAGMENTS) & (depth >= min_depth)
    detection = np.where(depth < min_depth, M.DETECTION_NOT_ASSESSED,
                         np.where(detected, M.DETECTION_DETECTED, M.DETECTION_NOT_DETECTED))
    # no alt fragment read on one strand, improbable given how often the depth was read on it
    share_forward = np.divide(out["depth_forward"].to_numpy(dtype=float), depth, out=np.ones(len(out)),
                              where=depth > 0)
    share_reverse = np.divide(out["depth_reverse"].to_numpy(dtype=float), depth, out=np.ones(len(out)),
                              where=depth > 0)
    one_sided = np.minimum(np.where(out[ALT_REVERSE].to_numpy() == 0, (1 - share_reverse) ** alt, 1.0),
                           np.where(out[ALT_FORWARD].to_numpy() == 0, (1 - share_forward) ** alt, 1.0))
    strand_bias = detected & (one_sided < STRAND_BIAS_P)
    out[P_VALUE] = p_values
    out[LOD] = lods
    out[C.VAF] = np.divide(alt, depth, out=np.zeros(len(out)), where=depth > 0)
    out[C.DETECTION] = detection
    out[C.FILTER] = np.where(strand_bias, "strand_bias", np.where(detected, "PASS", ""))
    out["error_rate"] = [mu_of.get(c, np.nan) for c in chosen]
    out["alpha"] = alpha
    return out


# --- the whole run ---------------------------------------------------------------------------
def genotype_alignments(path: str, panel: Panel, *, reference: str | None = None, sample: str | None = None,
                        specimen: str = "tissue", min_mapq: int = 20, min_baseq: int = 20,
                        hotspots: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Genotype the hotspots of `panel`'s build in a BAM/CRAM.

    Returns
    -------
    calls : calls-table rows (columns.CALLS_COLUMNS + detection, call_type, alteration, alt_forward,
        alt_reverse, p_value, lod, hotspot, and gene/strand/transcript/ref_codon of the hotspot),
        one per hotspot allele tested, source "bam".
    coverage : one row per hotspot (COVERAGE_COLUMNS).
    """
    if specimen not in MIN_DEPTH:
        raise UsageError(f"unknown specimen {specimen!r}", hint="use tissue or plasma")
    alignments = open_alignments(path, panel.build, reference, sample)
    try:
        hotspots = load_hotspots(panel) if hotspots is None else hotspots
        reference_bases = _reference_bases(panel, reference, hotspots)
        observed, background, coverage = _observe(alignments, hotspots, reference_bases, min_mapq, min_baseq)
    finally:
        alignments.close()
    model = fit_error_model(background) if len(background) else fit_error_model(
        pd.DataFrame({"change": [], "alt": [], "depth": []}))
    tested = test_alleles(observed, model, specimen) if len(observed) else observed
    tested = _with_region_rows(tested, hotspots, coverage, model, specimen)
    _check_reference_agreement(tested, hotspots, alignments, panel)
    calls = _as_calls(tested, hotspots, alignments)
    coverage = _coverage_table(coverage, calls, hotspots, alignments, specimen)
    calls.attrs.update(error_model=model.to_dict("records"), notes=list(alignments.notes),
                       build_reason=alignments.build_reason, sample=alignments.sample)
    return calls, coverage


def _reference_bases(panel: Panel, reference: str | None, hotspots: pd.DataFrame) -> ReferenceBases:
    """The reference bases to read; a FASTA must agree with the bundle at the hotspots it holds."""
    if not reference:
        return ReferenceBases(panel)
    import pysam

    try:
        fasta = pysam.FastaFile(reference)
    except (OSError, ValueError) as exc:
        raise ReferenceDataError(f"cannot open reference FASTA ({exc})", path=reference,
                                 hint="give a FASTA with a .fai index, or one pysam can index") from None
    bases = ReferenceBases(panel, fasta, {canonical_contig(n): n for n in fasta.references})
    for spot in hotspots[hotspots["in_panel"]].itertuples(index=False):
        name = bases.fasta_names.get(spot.contig)
        if name is None or fasta.get_reference_length(name) < spot.end:
            continue
        theirs, mine = bases.bases(spot.contig, spot.start, spot.end), panel.genome_bases(spot.contig, spot.start,
                                                                                          spot.end)
        if all(a != "N" and b != "N" for a, b in zip(theirs, mine)) and theirs != mine:
            raise BuildMismatchError(f"the FASTA reads {theirs} at {name}:{spot.start}-{spot.end} ({spot.hotspot}) "
                                     f"where {panel.build} has {mine}", path=reference,
                                     hint=f"is this a {panel.build} FASTA?")
    return bases


def _observe(alignments: Alignments, hotspots: pd.DataFrame, reference: ReferenceBases, min_mapq: int,
             min_baseq: int) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Read every window once: alleles at its hotspots, background counts, per-hotspot depth."""
    observed, background, coverage = [], [], {}
    codon_positions = np.concatenate([np.arange(s, e + 1) for s, e, k in
                                      zip(hotspots["start"], hotspots["end"], hotspots["kind"]) if k == CODON_KIND]
                                     or [np.zeros(0, dtype=np.int64)])
    region_positions = np.concatenate([np.arange(s, e + 1) for s, e, k in
                                       zip(hotspots["start"], hotspots["end"], hotspots["kind"]) if k == REGION_KIND]
                                      or [np.zeros(0, dtype=np.int64)])
    for window in fetch_windows(hotspots).itertuples(index=False):
        name = alignments.contig_names.get(window.contig)
        members = hotspots.loc[window.members]
        if name is None:  # every allele is still listed, as not assessed
            alignments.notes.append(f"no contig {window.contig} in the file: "
                                    + ", ".join(members[HOTSPOT]) + " not assessed")
        reads = read_window(alignments.handle, name, window.start, window.end, min_mapq)
        events = normalized_events(reads, reference, window.contig)
        same_contig = hotspots["contig"] == window.contig
        for index, hotspot in members.iterrows():
            coverage[index] = fragment_depth(reads, hotspot["start"], hotspot["end"])
            found = (codon_observations(reads, hotspot.to_dict(), min_baseq) if hotspot["kind"] == CODON_KIND
                     else region_observations(reads, events, hotspot.to_dict(), reference, window.contig))
            if len(found):
                observed.append(found.assign(hotspot_index=index))
        if reads.n_reads:
            contig_codons = codon_positions if same_contig.all() else np.concatenate(
                [np.arange(s, e + 1) for s, e, k in zip(hotspots.loc[same_contig, "start"],
                                                        hotspots.loc[same_contig, "end"],
                                                        hotspots.loc[same_contig, "kind"]) if k == CODON_KIND]
                or [np.zeros(0, dtype=np.int64)])
            background.append(background_counts(reads, reference, window.contig, contig_codons, region_positions,
                                                min_baseq))
    observed_frame = pd.concat(observed, ignore_index=True) if observed else pd.DataFrame(
        columns=[C.POS, C.REF, C.ALT, C.ALT_DEPTH, C.DEPTH, ALT_FORWARD, ALT_REVERSE, "depth_forward",
                 "depth_reverse", "changes",
                 "alt_aa", "hotspot_index"])
    background_frame = pd.concat(background, ignore_index=True) if background else pd.DataFrame(
        columns=["change", "alt", "depth"])
    return observed_frame, background_frame, coverage


def _with_region_rows(tested: pd.DataFrame, hotspots: pd.DataFrame, coverage: dict, model: pd.DataFrame,
                      specimen: str) -> pd.DataFrame:
    """A region with no indel detected gets one row saying so, with the depth and LOD of its weakest base."""
    regions = hotspots[hotspots["kind"] == REGION_KIND]
    detected_in = set(tested.loc[tested[C.DETECTION] == M.DETECTION_DETECTED, "hotspot_index"]) if len(tested) else set()
    rows = []
    for index in regions.index:
        if index in detected_in:
            continue
        depth = int(coverage[index].min()) if len(coverage[index]) else 0
        rows.append({C.POS: int(regions.at[index, "start"]), C.REF: "", C.ALT: "", C.ALT_DEPTH: 0, C.DEPTH: depth,
                     ALT_FORWARD: 0, ALT_REVERSE: 0, "depth_forward": 0, "depth_reverse": 0, "changes": "deletion",
                     "alt_aa": "",
                     "hotspot_index": index})
    if not rows:
        return tested
    region_rows = pd.DataFrame(rows)
    # tested on their own: the region row is a summary of the alleles already tested, not another test
    summary = test_alleles(region_rows, model, specimen)
    summary[P_VALUE] = np.nan
    summary[C.DETECTION] = np.where(region_rows[C.DEPTH] < MIN_DEPTH[specimen], M.DETECTION_NOT_ASSESSED,
                                    M.DETECTION_NOT_DETECTED)
    summary[C.FILTER] = ""
    if len(tested):  # the LOD of a region row follows the same alpha as the alleles
        alpha = float(tested["alpha"].iloc[0])
        log_fact = _log_factorials(int(region_rows[C.DEPTH].max()) or 1)
        mu = model.set_index("change").loc["deletion"]
        lods = []
        for n in region_rows[C.DEPTH]:
            tail = log_tail(int(n), float(mu["mu"]), float(mu["rho"]), log_fact) if n else np.zeros(1)
            ok = np.flatnonzero((tail <= math.log(alpha)) & (np.arange(len(tail)) >= MIN_ALT_FRAGMENTS))
            lods.append(limit_of_detection(int(n), int(ok[0]), log_fact) if len(ok) and n else np.nan)
        summary[LOD] = lods
    return pd.concat([tested, summary], ignore_index=True)


def _check_reference_agreement(tested: pd.DataFrame, hotspots: pd.DataFrame, alignments: Alignments,
                               panel: Panel) -> None:
    """Reads of the wrong build disagree with the reference codons almost everywhere: stop, naming it.

    Only needed where the @SQ lengths could not tell the build (e.g. a BAM of a few contigs).
    """
    if tested.empty or "@SQ lengths match" in alignments.build_reason:
        return
    codons = tested[tested[C.REF].str.len() == 3]
    per_hotspot = codons.groupby("hotspot_index").agg(depth=(C.DEPTH, "first"), alt=(C.ALT_DEPTH, "sum"))
    deep = per_hotspot[per_hotspot["depth"] >= 20]
    if len(deep) >= 2 and ((deep["alt"] / deep["depth"]) > 0.9).mean() > 0.5:
        raise BuildMismatchError(f"the reads disagree with the {panel.build} reference codon at "
                                 f"{int(((deep['alt'] / deep['depth']) > 0.9).sum())} of {len(deep)} covered hotspots",
                                 path=alignments.path, hint="is the BAM aligned to the other build?")


def _as_calls(tested: pd.DataFrame, hotspots: pd.DataFrame, alignments: Alignments) -> pd.DataFrame:
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


def _coverage_table(coverage: dict, calls: pd.DataFrame, hotspots: pd.DataFrame, alignments: Alignments,
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


# --- annotation and the TSV ------------------------------------------------------------------
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
    for i in np.flatnonzero(mine.to_numpy()):
        row = out.iloc[i]
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
        out.loc[out.index[i], [C.GENE, C.TRANSCRIPT, C.HGVSC, C.HGVSP_SHORT, C.HGVSP, C.CONSEQUENCE,
                               C.STATUS_DETAIL]] = [
            row["hotspot_gene"], row["hotspot_transcript"], hgvsc, f"p.{ref_aa}{residue}{alt_aa}",
            f"p.{three[ref_aa]}{residue}{three[alt_aa]}", "stop_gained" if alt_aa == "*" else "missense_variant",
            "outside the transcript bundle: gene and protein change from resources/hotspots/hotspots.tsv"]
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
