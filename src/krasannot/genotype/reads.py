"""The filtered reads of one fetch window as flat arrays; mates collapsed into fragments."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from .bamfile import (NIBBLE_CODE, NIBBLE_LETTER, BaiIndex, cigar_words, first_record_offset, record_fields,
                      region_records, rows)

SKIP_FLAGS = 0x4 | 0x100 | 0x200 | 0x400 | 0x800  # unmapped, secondary, QC-fail, duplicate, supplementary

BASES = "ACGT"
BASE_CODE = np.full(256, 4, dtype=np.uint8)  # ASCII base -> code (A C G T = 0..3, other 4)
for _i, _b in enumerate(BASES):
    BASE_CODE[ord(_b)] = BASE_CODE[ord(_b.lower())] = _i
# a BAM byte -> the codes of its two bases, as one little-endian uint16 (first base: the high 4 bits)
PAIR_CODE = NIBBLE_CODE[np.arange(256) >> 4].astype("<u2") | NIBBLE_CODE[np.arange(256) & 0xF].astype("<u2") << 8


@dataclass
class WindowReads:
    """The filtered reads of one fetch window as flat arrays (reads, aligned blocks, indel events)."""

    fragment: np.ndarray      # fragment id per read (mates share it)
    reverse: np.ndarray       # read on the reverse strand
    start: np.ndarray         # first aligned reference base, 1-based
    end: np.ndarray           # last aligned reference base
    seq_offset: np.ndarray    # where the read's bases (and qualities) start in `bases` (`quals`)
    bases: np.ndarray         # base codes (A C G T = 0..3, other 4), all reads end to end
    quals: np.ndarray
    block_read: np.ndarray    # aligned blocks: read index, first reference base, first query base, length
    block_ref: np.ndarray
    block_query: np.ndarray
    block_length: np.ndarray
    events: pd.DataFrame      # read, first (first affected base; insertions: base after), deleted, inserted
    skipped: dict
    # read from a BAM's bytes, bases stay packed: `bases` and `quals` are then the records' bytes,
    # `seq_offset` each read's first sequence byte (two 4-bit bases a byte) and `qual_offset` its first quality
    qual_offset: np.ndarray | None = None

    @property
    def n_reads(self) -> int:
        return len(self.fragment)

    @cached_property
    def fragment_spans(self) -> tuple[np.ndarray, np.ndarray]:
        """First and last reference base of each fragment (its mates' union); one pass for all hotspots."""
        order = np.argsort(self.fragment, kind="stable")
        fragment = self.fragment[order]
        first = np.flatnonzero(np.r_[True, fragment[1:] != fragment[:-1]])
        return np.minimum.reduceat(self.start[order], first), np.maximum.reduceat(self.end[order], first)

    def base_codes(self, read: np.ndarray, query: np.ndarray) -> np.ndarray:
        """Base codes of reads `read` at their query positions `query` (0-based)."""
        if self.qual_offset is None:
            return self.bases[self.seq_offset[read] + query]
        return NIBBLE_CODE[self.base_nibbles(read, query)]

    def base_nibbles(self, read: np.ndarray, query: np.ndarray) -> np.ndarray:
        """The BAM's 4-bit base codes (packed reads only)."""
        byte = self.bases[self.seq_offset[read] + (query >> 1)]
        return (byte >> (((query & 1) ^ 1) << 2).astype(np.uint8)) & 0xF  # even positions: the high 4 bits

    def qualities(self, read: np.ndarray, query: np.ndarray) -> np.ndarray:
        offset = self.seq_offset if self.qual_offset is None else self.qual_offset
        return self.quals[offset[read] + query]

    def block_bases(self, blocks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Base codes and qualities of aligned blocks `blocks`, one row each, as wide as the longest
        (a shorter block's row runs on into whatever follows it: the caller masks it)."""
        if not len(blocks):
            return np.zeros((0, 0), dtype=np.uint8), np.zeros((0, 0), dtype=np.uint8)
        width = int(self.block_length[blocks].max())
        read, query = self.block_read[blocks], self.block_query[blocks]
        if self.qual_offset is None:
            start = self.seq_offset[read] + query
            return rows(self.bases, start, width), rows(self.quals, start, width)
        packed = rows(self.bases, self.seq_offset[read] + (query >> 1), width // 2 + 1)
        codes = PAIR_CODE[packed].view(np.uint8).reshape(len(blocks), -1)  # a byte is two bases
        odd = np.flatnonzero(query & 1)  # a block starting at an odd base starts in a byte's low 4 bits
        aligned = codes[:, :width].copy()
        aligned[odd] = codes[odd, 1:width + 1]
        return aligned, rows(self.quals, self.qual_offset[read] + query, width)


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


def read_window_bytes(alignments, raw, index: BaiIndex, contig_name: str | None, start: int, end: int,
                      min_mapq: int) -> WindowReads:
    """As read_window, for a BAM with a .bai: the records decoded from the file's bytes, all reads at once.

    `alignments` is the open pysam file, `raw` the same BAM opened as a plain binary file, `index` its .bai.
    """
    tid = alignments.get_tid(contig_name) if contig_name is not None else -1
    beg = max(start - 1, 0)
    voffset = first_record_offset(alignments, raw, index, tid, beg, end) if tid >= 0 else None
    buffer, records = region_records(raw, voffset, tid, end)
    fields = record_fields(buffer, records)
    n_cigar = fields["n_cigar"]
    cigar_at = records + 36 + fields["l_read_name"]
    op_record = np.repeat(np.arange(len(records)), n_cigar)
    word = cigar_words(buffer, np.repeat(cigar_at, n_cigar) + 4 * _within(n_cigar))
    op, length = word & 0xF, word >> 4
    ref_step = np.where(np.isin(op, (0, 2, 3, 7, 8)), length, 0)
    query_step = np.where(np.isin(op, (0, 1, 4, 7, 8)), length, 0)
    ref_length = np.bincount(op_record, weights=ref_step, minlength=len(records)).astype(np.int64)
    unmapped = (fields["flag"] & 4) != 0
    # htslib's end (bam_endpos): an unmapped read or one without reference length covers one base
    end_excl = fields["pos"] + np.maximum(np.where(unmapped, 0, ref_length), 1)
    fetched = end_excl > beg  # overlaps the window, as fetch returns
    bad_flag = fetched & ((fields["flag"] & SKIP_FLAGS) != 0)
    low_mapq = fetched & ~bad_flag & (fields["mapq"] < min_mapq)
    no_sequence = fetched & ~bad_flag & ~low_mapq & (fields["l_seq"] == 0)
    keep = fetched & ~bad_flag & ~low_mapq & ~no_sequence
    skipped = {"flag": int(bad_flag.sum()), "mapq": int(low_mapq.sum()), "no_sequence": int(no_sequence.sum())}
    kept = np.flatnonzero(keep)
    new_index = np.cumsum(keep) - 1

    name_length = fields["l_read_name"][kept] - 1
    width = int(name_length.max()) if len(kept) else 1
    name_bytes = rows(buffer, records[kept] + 36, width) * (np.arange(width) < name_length[:, None])
    fragment = _fragment_ids(np.ascontiguousarray(name_bytes.astype(np.uint8)))

    l_seq = fields["l_seq"][kept]
    seq_at = cigar_at[kept] + 4 * n_cigar[kept]
    qual_at = seq_at + (l_seq + 1) // 2
    no_quals = buffer[qual_at] == 0xFF
    for at, n in zip(qual_at[no_quals], l_seq[no_quals]):
        buffer[at:at + n] = ord("~") - 33  # no qualities: do not filter

    kept_op = keep[op_record]
    op = np.where(n_cigar[op_record] == 1, 0, op)  # a one-operation CIGAR is one aligned block, as read_window has it
    op, length, op_record = op[kept_op], length[kept_op], new_index[op_record[kept_op]]
    ref_before = _exclusive_within(ref_step[kept_op], n_cigar[kept])
    query_before = _exclusive_within(query_step[kept_op], n_cigar[kept])
    start_1 = fields["pos"][kept] + 1
    block = np.isin(op, (0, 7, 8))
    reads = WindowReads(
        fragment=fragment, reverse=(fields["flag"][kept] & 16) != 0, start=start_1, end=end_excl[kept],
        seq_offset=seq_at, bases=buffer, quals=buffer,
        block_read=op_record[block], block_ref=(start_1[op_record] + ref_before)[block],
        block_query=query_before[block], block_length=length[block], events=None, skipped=skipped, qual_offset=qual_at)
    reads.events = _indel_events(op, length, op_record, start_1[op_record] + ref_before, query_before,
                                 n_cigar[kept][op_record] > 1, reads)
    return reads


def _fragment_ids(name_bytes: np.ndarray) -> np.ndarray:
    """One id per distinct read name (rows of NUL-padded bytes): mates share it; the ids are only labels.

    The names are hashed to 64 bits and the hashes grouped (pandas.factorize, no sort); every name is
    then checked against the first of its group, and only a hash collision falls back to sorting names.
    """
    words = -(-name_bytes.shape[1] // 8)
    padded = np.zeros((len(name_bytes), 8 * words), dtype=np.uint8)
    padded[:, :name_bytes.shape[1]] = name_bytes
    hashed = np.zeros(len(name_bytes), dtype=np.uint64)
    for word in padded.view("<u8").T:
        hashed = (hashed ^ word) * np.uint64(0x100000001B3)  # FNV-style: mix each 8 bytes in
    ids = pd.factorize(hashed)[0].astype(np.int64)
    first = np.flatnonzero(np.r_[True, ids[1:] > np.maximum.accumulate(ids)[:-1]]) if len(ids) else ids
    names = padded.view(f"V{8 * words}").ravel()
    if np.array_equal(names, names[first[ids]]):
        return ids
    return np.unique(names, return_inverse=True)[1].astype(np.int64).ravel()


def _within(counts: np.ndarray) -> np.ndarray:
    """0..count-1 for each count, end to end."""
    return np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)


def _exclusive_within(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Running sum of `values` before each element, restarting at each group of `counts` elements."""
    running = np.cumsum(values) - values
    group_first = np.minimum(np.cumsum(counts) - counts, max(len(values) - 1, 0))  # empty groups repeat 0 times
    return running - np.repeat(running[group_first] if len(values) else np.zeros(len(counts), dtype=running.dtype),
                               counts)


def _indel_events(op: np.ndarray, length: np.ndarray, read: np.ndarray, ref_first: np.ndarray,
                  query_first: np.ndarray, several_ops: np.ndarray, reads: WindowReads) -> pd.DataFrame:
    """CIGAR insertions/deletions as events; an I next to a D (either order) is one delins."""
    indel = np.isin(op, (1, 2)) & several_ops
    previous_indel = np.r_[False, indel[:-1] & (read[:-1] == read[1:])]
    run = (np.cumsum(indel & ~previous_indel) - 1)[indel]
    first = indel & ~previous_indel
    deleted = np.bincount(run, weights=np.where(op[indel] == 2, length[indel], 0),
                          minlength=int(first.sum())).astype(np.int64)
    inserted = [""] * int(first.sum())
    for r, of_read, at, n in zip(run[op[indel] == 1], read[indel & (op == 1)], query_first[indel & (op == 1)],
                                 length[indel & (op == 1)]):
        nibbles = reads.base_nibbles(np.full(n, of_read), at + np.arange(n))
        inserted[r] += NIBBLE_LETTER[nibbles].tobytes().decode("ascii")
    if not inserted:  # no indel: the frame read_window builds from no rows, without building it from rows
        return pd.DataFrame({"read": np.zeros(0, dtype=np.int64), "first": np.zeros(0, dtype=np.int64),
                             "deleted": np.zeros(0, dtype=np.int64), "inserted": np.zeros(0, dtype=object)})
    frame = pd.DataFrame(list(zip(read[first].tolist(), ref_first[first].tolist(), deleted.tolist(), inserted)),
                         columns=["read", "first", "deleted", "inserted"])  # built as read_window builds it
    return frame.astype({"read": np.int64, "first": np.int64, "deleted": np.int64})


def bases_at(reads: WindowReads, positions: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Base code and quality of every read at each reference position (code 5: not aligned there)."""
    codes = np.full((reads.n_reads, len(positions)), 5, dtype=np.uint8)
    quals = np.zeros((reads.n_reads, len(positions)), dtype=np.uint8)
    for k, position in enumerate(positions):
        inside = (reads.block_ref <= position) & (position < reads.block_ref + reads.block_length)
        read = reads.block_read[inside]
        query = reads.block_query[inside] + (position - reads.block_ref[inside])
        codes[read, k] = reads.base_codes(read, query)
        quals[read, k] = reads.qualities(read, query)
    return codes, quals


def collapse_mates(fragment: np.ndarray, allele: np.ndarray,
                   reverse: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One observation per fragment: mates that agree count once, mates that disagree are dropped.
    `allele`: codon codes (0..63); `fragment`: ids (labels, not positions).

    Returns the fragments' alleles and whether a forward / a reverse read of the fragment read it
    (fragments in id order). Counted per fragment id, no sort: the mates agree when their alleles'
    sum of squares times their number is the square of their sum (exact for such small integers).
    """
    if len(fragment) == 0:
        return allele[:0], reverse[:0], reverse[:0]
    reads = np.bincount(fragment)
    present = np.flatnonzero(reads)
    n, total = reads[present], np.bincount(fragment, weights=allele)[present]
    agree = n * np.bincount(fragment, weights=allele.astype(float) ** 2)[present] == total * total
    on_forward = np.bincount(fragment, weights=~reverse)[present] > 0
    on_reverse = np.bincount(fragment, weights=reverse)[present] > 0
    return (total[agree] / n[agree]).astype(allele.dtype), on_forward[agree], on_reverse[agree]


def fragment_depth(reads: WindowReads, lo: int, hi: int) -> np.ndarray:
    """Fragments covering each base lo..hi (a fragment spans its mates' union)."""
    if reads.n_reads == 0:
        return np.zeros(hi - lo + 1, dtype=np.int64)
    starts, ends = reads.fragment_spans
    delta = (np.bincount(np.clip(starts - lo, 0, hi - lo + 1), minlength=hi - lo + 2)
             - np.bincount(np.clip(ends - lo + 1, 0, hi - lo + 1), minlength=hi - lo + 2))
    return np.cumsum(delta)[:-1]
