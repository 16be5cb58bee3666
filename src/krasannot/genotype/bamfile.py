"""A BAM's records read straight from its bytes: BGZF blocks, the .bai linear index, fields as numpy arrays.

pysam hands out one Python object per read, which costs microseconds per read; a hotspot window of a
ctDNA BAM holds hundreds of thousands. Here Python only walks the record boundaries (one struct
unpack per read) and every field is then taken for all reads at once. CRAM, and BAMs indexed
otherwise than by a .bai, are read through pysam (reads.read_window).
"""

from __future__ import annotations

import os
import struct
import zlib
from dataclasses import dataclass

import numpy as np

_RECORD_HEAD = struct.Struct("<iii")  # block_size, refID, pos
_INT32 = struct.Struct("<i")
_BGZF_HEAD = struct.Struct("<4BI2BH")  # ID1 ID2 CM FLG, MTIME, XFL OS, XLEN
# 4-bit BAM base -> our code (A C G T = 0..3, other 4) and -> the letter pysam shows
NIBBLE_CODE = np.array([4, 0, 1, 4, 2, 4, 4, 4, 3, 4, 4, 4, 4, 4, 4, 4], dtype=np.uint8)
NIBBLE_LETTER = np.frombuffer(b"=ACMGRSVTWYHKDBN", dtype=np.uint8)
LINEAR_SHIFT = 14  # the .bai linear index has one offset per 16 kb
PSEUDO_BIN = 37450  # the .bai bin that holds a reference's read counts


def find_bai(path: str, extra: str | None = None) -> str | None:
    """The .bai index htslib would use for `path` (or `extra`, an index made into a temp dir)."""
    candidates = [extra, path + ".bai", path[:-4] + ".bai" if path.endswith(".bam") else None]
    return next((c for c in candidates if c and c.endswith(".bai") and os.path.exists(c)), None)


@dataclass
class BaiIndex:
    """What we use of a .bai: per reference, the linear index and how many mapped reads over how many bytes."""

    linear: list            # smallest virtual offset of a read overlapping each 16 kb (np.ndarray per reference)
    mapped: list            # mapped reads per reference (0 where the index does not say)
    span: list              # (first, last) virtual offset of each reference's reads

    def estimated_reads(self, tid: int, beg: int, end: int) -> float:
        """Reads over [beg, end): the reference's mapped reads times the share of its bytes there (16 kb grain)."""
        if tid < 0 or tid >= len(self.linear) or not len(self.linear[tid]) or not self.mapped[tid]:
            return 0.0
        offsets, (first, last) = self.linear[tid], self.span[tid]
        lo = int(offsets[min(beg >> LINEAR_SHIFT, len(offsets) - 1)])
        hi = int(offsets[(end >> LINEAR_SHIFT) + 1]) if (end >> LINEAR_SHIFT) + 1 < len(offsets) else last
        return self.mapped[tid] * max(((hi >> 16) - (lo >> 16)) / max((last >> 16) - (first >> 16), 1), 0.0)


def read_bai(bai: str) -> BaiIndex | None:
    """The .bai at `bai` (None if it is not one)."""
    with open(bai, "rb") as handle:
        data = handle.read()
    if data[:4] != b"BAI\x01":
        return None
    int32 = struct.Struct("<i").unpack_from
    n_ref, at, index = int32(data, 4)[0], 8, BaiIndex([], [], [])
    for _ in range(n_ref):
        n_bin = int32(data, at)[0]
        at += 4
        mapped, span = 0, (0, 0)
        for _ in range(n_bin):  # bin id, chunk count, chunks of two uint64; bin 37450 holds the read counts
            bin_id, n_chunk = struct.unpack_from("<Ii", data, at)
            if bin_id == PSEUDO_BIN and n_chunk == 2:
                first, last, mapped, _ = struct.unpack_from("<4Q", data, at + 8)
                span = (first, last)
            at += 8 + 16 * n_chunk
        n_intv = int32(data, at)[0]
        offsets = np.frombuffer(data, dtype="<u8", count=n_intv, offset=at + 4)
        index.linear.append(np.maximum.accumulate(offsets) if n_intv else offsets)  # empty 16 kb: the one before
        index.mapped.append(mapped)
        index.span.append(span)
        at += 4 + 8 * n_intv
    return index


def _bgzf_blocks(handle, coffset: int):
    """Decompressed BGZF blocks from file offset `coffset` on."""
    handle.seek(coffset)
    while True:
        head = handle.read(12)
        if len(head) < 12:
            return
        xlen = _BGZF_HEAD.unpack(head)[-1]
        extra = handle.read(xlen)
        block_size, at = None, 0
        while at + 4 <= xlen:  # the BC subfield holds the block size
            si1, si2, slen = extra[at], extra[at + 1], int.from_bytes(extra[at + 2:at + 4], "little")
            if si1 == 66 and si2 == 67:
                block_size = int.from_bytes(extra[at + 4:at + 6], "little") + 1
            at += 4 + slen
        if block_size is None:
            raise ValueError("not a BGZF block")
        body = handle.read(block_size - 12 - xlen)
        yield zlib.decompress(body[:-8], -15)


def first_record_offset(alignments, raw, index: BaiIndex, tid: int, beg: int, end: int) -> int | None:
    """Virtual offset to start reading the reads of [beg, end) at (0-based, end exclusive); None: no read.

    htslib's own fetch (pysam, in C) skips the reads of the same 16 kb that end before `beg`; we take
    the first read it returns and find where that record starts in its block (it ends where pysam's file
    position is). A record split over two blocks is not found so: then the .bai linear index's offset.
    """
    fetched = alignments.fetch(tid=tid, start=beg, stop=end)
    try:
        first = next(fetched)
    except StopIteration:
        return None
    after = alignments.tell()
    block = next(_bgzf_blocks(raw, after >> 16), b"")
    ends_at = after & 0xFFFF
    data = np.frombuffer(block, dtype=np.uint8)[:ends_at]
    if len(data) >= 36:
        sizes = np.lib.stride_tricks.sliding_window_view(data, 4)[:ends_at - 35].copy().view("<i4").ravel()
        for at in np.flatnonzero(sizes == ends_at - np.arange(len(sizes)) - 4):
            _, ref, pos = _RECORD_HEAD.unpack_from(block, int(at))
            name = block[at + 36:at + 36 + block[at + 12] - 1]
            if ref == tid and pos == first.reference_start and name == first.query_name.encode():
                return (after >> 16) << 16 | int(at)
    offsets_of = index.linear[tid] if tid < len(index.linear) else []
    return int(offsets_of[min(beg >> LINEAR_SHIFT, len(offsets_of) - 1)]) if len(offsets_of) else None


def region_records(raw, voffset: int | None, tid: int, end: int) -> tuple[np.ndarray, np.ndarray]:
    """Bytes and record offsets of the reads of reference `tid` from `voffset` on that start before `end`
    (0-based); whether each overlaps the window needs its CIGAR.

    Python only follows the record sizes, block by block; the reference and position of the records are
    looked at all at once, and a block's last record says whether to read the next block.
    """
    if voffset is None:
        return np.zeros(0, dtype=np.uint8), np.zeros(0, dtype=np.int64)
    buffer, starts, at = bytearray(), [], voffset & 0xFFFF
    size_at, head_at = _INT32.unpack_from, _RECORD_HEAD.unpack_from
    append = starts.append
    for block in _bgzf_blocks(raw, voffset >> 16):
        buffer += block
        size_limit = len(buffer)
        while at <= size_limit - 4:  # the tightest loop: a record that does not end here is taken back below
            append(at)
            at += 4 + size_at(buffer, at)[0]
        if at > size_limit:
            at = starts.pop()  # the record runs into the next block
        if not block:
            break
        if at + 12 <= size_limit:  # the next record's head is here: past the window already?
            _, ref, pos = head_at(buffer, at)
            if ref != tid or pos >= end:
                break
        elif starts:
            _, ref, pos = head_at(buffer, starts[-1])
            if ref != tid or pos >= end:
                break
    data, starts = np.frombuffer(buffer, dtype=np.uint8), np.asarray(starts, dtype=np.int64)
    core = np.ascontiguousarray(rows(data, starts + 4, 8)).view("<i4").reshape(-1, 2)
    past = np.flatnonzero((core[:, 0] != tid) | (core[:, 1] >= end))  # sorted: the first one ends the reads
    return data, starts[:past[0]] if len(past) else starts  # data is writable: no copy


def rows(buffer: np.ndarray, at: np.ndarray, width: int) -> np.ndarray:
    """buffer[a:a + width] for each offset a, as an (n, width) array (zeros past the end)."""
    width_1 = max(width, 1)
    if len(buffer) < width_1 or (len(at) and int(at.max()) + width_1 > len(buffer)):
        buffer = np.concatenate([buffer, np.zeros(width_1, dtype=np.uint8)])
    return np.lib.stride_tricks.sliding_window_view(buffer, width_1)[at, :width]


_CORE = np.dtype([("block_size", "<i4"), ("ref", "<i4"), ("pos", "<i4"), ("l_read_name", "u1"), ("mapq", "u1"),
                  ("bin", "<u2"), ("n_cigar", "<u2"), ("flag", "<u2"), ("l_seq", "<i4"), ("next_ref", "<i4"),
                  ("next_pos", "<i4"), ("tlen", "<i4")])


def record_fields(buffer: np.ndarray, starts: np.ndarray) -> dict:
    """The fixed fields of each record, as int64 arrays."""
    core = np.ascontiguousarray(rows(buffer, starts, _CORE.itemsize)).view(_CORE).ravel()
    return {name: core[name].astype(np.int64) for name in ("pos", "l_read_name", "mapq", "n_cigar", "flag", "l_seq")}


def cigar_words(buffer: np.ndarray, at: np.ndarray) -> np.ndarray:
    """uint32 CIGAR operations at byte offsets `at`."""
    return np.ascontiguousarray(rows(buffer, at, 4)).view("<u4").ravel().astype(np.int64)
