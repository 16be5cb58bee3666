"""The filtered reads of one fetch window as flat arrays; mates collapsed into fragments."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

SKIP_FLAGS = 0x4 | 0x100 | 0x200 | 0x400 | 0x800  # unmapped, secondary, QC-fail, duplicate, supplementary

BASES = "ACGT"
BASE_CODE = np.full(256, 4, dtype=np.uint8)  # ASCII base -> code (A C G T = 0..3, other 4)
for _i, _b in enumerate(BASES):
    BASE_CODE[ord(_b)] = BASE_CODE[ord(_b.lower())] = _i


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
        bases=BASE_CODE[np.frombuffer("".join(seqs).encode("ascii"), dtype=np.uint8)],
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
