"""VCF / VCF.gz reader: records into the calls table.

Two ways through a file:

* **indexed** (a .tbi/.csi beside a bgzipped VCF, and panel regions given): only the
  panel regions are fetched with pysam, so a whole-genome VCF costs what a panel VCF
  costs. Records outside the regions are not read and so cannot be listed.
* **streamed** (anything else): the file is decompressed in blocks of bounded size;
  CHROM/POS/REF of every record are parsed column-wise with numpy, only the records that
  touch a region are split into fields, and the others are passed on as raw
  `CHROM POS ID REF ALT` text to be listed as outside the panel.

Candidate records become calls in io/vcf_records.py (FORMAT/GT through cyvcf2).

A broken file (no header, truncated compression) is an error; a broken record (POS that is text,
0 or beyond its contig, CHROM..ALT that is not UTF-8, missing sample columns, no REF) is skipped
with its line and reason, and the rest of the file is read.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import os
import re
import zlib
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pandas as pd

from ..errors import InputFormatError, UsageError
from ..reference.builds import canonical_contig, contig_limits
from .result import SKIPPED_COLUMNS, empty_skipped, read_notes
from .vcf_records import SV_CN, SV_INFO, is_structural, records_to_calls  # noqa: F401 (SV_*: io.fusions reads them)
from ..files import file_sha256, line_aligned, usable_cores

BLOCK_BYTES = 16 << 20          # decompressed text handled per block: bounds memory
_READ_BYTES = 4 << 20
_BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")


@dataclass
class VcfHeader:
    path: str
    meta_lines: list[str]
    samples: list[str]
    contig_lengths: dict[str, int]
    n_header_lines: int
    tumor_sample: str | None = None
    normal_sample: str | None = None


@dataclass
class VcfRead:
    """What a pass over one VCF gives: candidate calls, and the records left outside."""

    header: VcfHeader
    calls: pd.DataFrame
    samples_read: list[str] = field(default_factory=list)
    n_records: int = 0
    outside_text: list[bytes] = field(default_factory=list)  # raw "CHROM\tPOS\tID\tREF\tALT\n" lines
    n_outside: int = 0
    indexed: bool = False
    checksum: str = ""    # "sha256:<hex>" of the file; indexed reads fingerprint the index instead
    skipped: pd.DataFrame = field(default_factory=empty_skipped)  # records refused, each with its reason
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # notes a person should see on stderr


# --- decompression -----------------------------------------------------------------------
_BGZF_MAGIC = b"\x1f\x8b\x08\x04"   # gzip, deflate, FEXTRA: each BGZF member starts so, with a "BC" subfield
_MEMBERS_PER_BLOCK = 256            # a BGZF member holds at most 64 KiB of text: 256 stay within BLOCK_BYTES


def _decompression_threads() -> int:
    """Threads inflating BGZF members at once: the cores this process may use, at most 4."""
    return max(1, min(4, usable_cores()))


class _HashingReader:
    """A binary file whose bytes feed a hash as they are read: the input's checksum costs no second pass."""

    def __init__(self, handle, digest) -> None:
        self.handle, self.digest = handle, digest

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.digest.update(data)
        return data


def _bgzf_member_groups(reader: _HashingReader, corrupt: Exception, truncated: Exception) -> Iterator[list[bytes]]:
    """The file's BGZF members (each a whole gzip member), _MEMBERS_PER_BLOCK at a time, in file order."""
    data, offset, group = b"", 0, []
    while chunk := reader.read(_READ_BYTES):
        data, offset = data[offset:] + chunk, 0
        while len(data) - offset >= 18:
            if data[offset:offset + 4] != _BGZF_MAGIC or data[offset + 12:offset + 14] != b"BC":
                raise corrupt
            end = offset + int.from_bytes(data[offset + 16:offset + 18], "little") + 1  # BSIZE: member size - 1
            if end > len(data):
                break  # the rest of this member comes with the next read
            group.append(data[offset:end])
            offset = end
            if len(group) == _MEMBERS_PER_BLOCK:
                yield group
                group = []
    if offset < len(data):
        raise truncated
    if group:
        yield group


def _inflate_bgzf(members: list[bytes]) -> bytes:
    """The text of whole BGZF members; zlib releases the GIL, so several groups inflate at once."""
    texts = []
    for member in members:
        header = 12 + int.from_bytes(member[10:12], "little")  # fixed header + XLEN extra bytes
        text = zlib.decompress(member[header:-8], -15)
        if zlib.crc32(text) != int.from_bytes(member[-8:-4], "little") or len(text) != int.from_bytes(
                member[-4:], "little"):
            raise zlib.error("CRC or length check failed")
        texts.append(text)
    return b"".join(texts)


def _in_order(pool: ThreadPoolExecutor, calls: Iterator[tuple], ahead: int) -> Iterator:
    """Results of `calls` ((function, argument) pairs) in order, with up to `ahead` running in the pool."""
    pending: deque = deque()
    for function, argument in calls:
        pending.append(pool.submit(function, argument))
        if len(pending) > ahead:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def _text_blocks(path: str, digest) -> Iterator[bytes]:
    """Decompressed file content in blocks that end on a line break (the last may not).

    Every byte of the file feeds `digest` as it is read. BGZF members are independent deflate streams,
    inflated by several threads at once; plain gzip and plain text are read by one thread beside the caller.
    """
    try:
        handle = open(path, "rb")
        head = handle.read(18)
        handle.seek(max(0, os.path.getsize(path) - len(_BGZF_EOF)))
        tail = handle.read()
        handle.seek(0)
    except FileNotFoundError:
        raise InputFormatError("file not found", path=path) from None
    except OSError as exc:
        raise InputFormatError(f"cannot open ({exc.strerror})", path=path) from None
    gz, bgzf = head[:2] == b"\x1f\x8b", head[:4] == _BGZF_MAGIC and head[12:14] == b"BC"
    truncated = InputFormatError("truncated gzip file: the compressed data ends early", path=path,
                                 hint="the file is incomplete; copy it again or re-create it with bgzip")
    corrupt = InputFormatError("corrupt gzip file: the compressed data is damaged", path=path,
                               hint="the file is damaged; copy it again or re-create it with bgzip")
    # bgzip always ends with an empty EOF block; without it the file was cut at a block edge
    if bgzf and tail != _BGZF_EOF:
        handle.close()
        raise truncated
    reader = _HashingReader(handle, digest)
    if bgzf:
        threads = _decompression_threads()
        calls = ((_inflate_bgzf, group) for group in _bgzf_member_groups(reader, corrupt, truncated))
    else:  # one stream: one thread reads (and inflates) it while the caller scans the block before
        threads, stream = 1, gzip.GzipFile(fileobj=reader, mode="rb") if gz else reader
        calls = iter(lambda: (stream.read, BLOCK_BYTES), None)
    pool = ThreadPoolExecutor(threads, thread_name_prefix="krasannot-inflate")

    def texts() -> Iterator[bytes]:
        try:
            for text in _in_order(pool, calls, ahead=threads + 1):
                if not text and not bgzf:
                    break  # the end of the stream
                yield text
        except EOFError:
            raise truncated from None
        except (OSError, zlib.error, ValueError):  # gzip.BadGzipFile is an OSError
            raise corrupt from None

    try:
        try:
            yield from line_aligned(texts())
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        while reader.read(_READ_BYTES):  # bytes after the last gzip member count in the checksum too
            pass
    finally:
        handle.close()


# --- header ------------------------------------------------------------------------------
_CONTIG = re.compile(r"##contig=<.*?ID=([^,>]+).*?length=(\d+)")


def _parse_header(path: str, text: bytes) -> tuple[VcfHeader, int]:
    """Parse meta lines and the #CHROM line; return the header and the offset of the body."""
    if text.startswith(b"BCF"):  # compressed BCF goes through pysam; this one is raw
        raise InputFormatError("uncompressed BCF is not read", path=path,
                               hint="compress it: bcftools view -Ob -o file.bcf file")
    meta, offset, line_no = [], len(_BOM) if text.startswith(_BOM) else 0, 0
    if not text[offset:].strip():
        raise InputFormatError("file is empty", path=path, hint="give a VCF with a header and records")
    while True:
        end = text.find(b"\n", offset)
        if end < 0 and offset < len(text):
            end = len(text)  # a last line without its line break
        if end < 0:
            raise InputFormatError("no #CHROM header line found", path=path, line=line_no + 1,
                                   hint="is this a VCF? a VCF starts with ##fileformat=VCF and a #CHROM line")
        line_no += 1
        # bytes that are not UTF-8 (a Latin-1 description or sample name) are read as U+FFFD
        line = text[offset:end].rstrip(b"\r").decode("utf-8", "replace")
        offset = end + 1
        if line_no == 1 and not line.startswith("##fileformat=VCF"):
            raise InputFormatError("first line is not ##fileformat=VCF...", path=path, line=1,
                                   hint="give a VCF file (plain or bgzipped)")
        if line.startswith("##"):
            meta.append(line)
            continue
        if not line.startswith("#CHROM"):
            raise InputFormatError("expected the #CHROM header line", path=path, line=line_no)
        fields = line.split("\t")
        if fields[:8] != ["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO"]:
            raise InputFormatError("the #CHROM line does not have the 8 tab-separated VCF columns",
                                   path=path, line=line_no, hint="is the file space- instead of tab-separated?")
        samples = _unique_names(fields[9:])
        break
    lengths = {m.group(1): int(m.group(2)) for m in map(_CONTIG.match, meta) if m}
    tumor, normal = tumor_and_normal(meta, samples)
    return VcfHeader(path=path, meta_lines=meta, samples=samples, contig_lengths=lengths,
                     n_header_lines=line_no, tumor_sample=tumor, normal_sample=normal), offset


_MAX_HEADER_BYTES = 256 << 20
_BOM = b"\xef\xbb\xbf"
# tumour/normal sample names in callers' command lines (GATK Mutect2 and MuTect1, VarDict, Strelka)
_TUMOR_ARG = re.compile(r"(?:--tumor-sample|--tumor_sample_name|-tumor|\btumor_sample_name|\btumor_sample)[= ]+"
                        r"['\"]?([^\s,'\">]+)")
_NORMAL_ARG = re.compile(r"(?:--normal-sample|--normal_sample_name|-normal|\bnormal_sample_name|\bnormal_sample)"
                         r"[= ]+['\"]?([^\s,'\">]+)")
_PAIR_NAMES = [("TUMOR", "NORMAL"), ("TUMOUR", "NORMAL"), ("SOMATICSAMPLE", "NORMALSAMPLE")]


def tumor_and_normal(meta: list[str], samples: list[str]) -> tuple[str | None, str | None]:
    """The tumour and normal columns where the header says which is which, else None.

    ``##tumor_sample``/``##normal_sample``; ``##SAMPLE=<ID=TUMOR,SampleName=...>`` (GDC);
    tumour/normal arguments of a ``##GATKCommandLine``/``##MuTect`` line; columns named TUMOR/NORMAL
    (Strelka, in any case) or SomaticSample/NormalSample (MuTect1); and Strelka's fixed column order
    (NORMAL, then TUMOR) where a pipeline renamed both columns (megSAP writes the same name twice).
    """
    def column(name: str | None) -> str | None:
        return name if name in samples else None

    def meta_value(prefix: str) -> str | None:
        return next((m.split("=", 1)[1].strip() for m in meta if m.startswith(prefix)), None)

    tumor, normal = column(meta_value("##tumor_sample=")), column(meta_value("##normal_sample="))
    for line in (m for m in meta if m.startswith("##SAMPLE=<")):
        fields = dict(re.findall(r"([A-Za-z_]+)=([^,>]+)", line[len("##SAMPLE=<"):]))
        role, name = fields.get("ID", "").upper(), column(fields.get("SampleName")) or column(fields.get("ID"))
        if role in ("TUMOR", "TUMOUR") and name:
            tumor = tumor or name
        elif role == "NORMAL" and name:
            normal = normal or name
    for line in (m for m in meta if m.startswith(("##GATKCommandLine", "##MuTect", "##cmdline", "##vardict"))):
        tumor = tumor or next((column(n) for n in _TUMOR_ARG.findall(line) if column(n)), None)
        normal = normal or next((column(n) for n in _NORMAL_ARG.findall(line) if column(n)), None)
    upper = {s.upper(): s for s in samples}
    for tumor_name, normal_name in _PAIR_NAMES:
        if tumor is None and tumor_name in upper and (len(samples) == 1 or normal_name in upper):
            tumor, normal = upper[tumor_name], normal or upper.get(normal_name)
    source = (meta_value("##source=") or "").lower()
    if tumor is None and source.startswith("strelka") and len(samples) == 2 and normal != samples[1]:
        normal, tumor = samples  # Strelka always writes NORMAL before TUMOR
    if tumor is None and normal is not None and len(samples) == 2:
        tumor = next(s for s in samples if s != normal)
    return tumor, normal


def _says_somatic_pair(header: VcfHeader) -> bool:
    """A header that marks the file as tumour/normal (a SOMATIC flag, a somatic caller's source line)."""
    somatic = any(m.startswith("##INFO=<ID=SOMATIC,") for m in header.meta_lines)
    callers = ("##source=mutect", "##source=strelka", "##source=varscan", "##gatkcommandline=<id=mutect")
    caller = any(m.lower().startswith(callers) for m in header.meta_lines)
    return len(header.samples) == 2 and (somatic or caller)


def _holds_chrom_line(text: bytes) -> bool:
    """Whether `text` holds the whole #CHROM line (and so the whole header)."""
    at = 0 if text.startswith(b"#CHROM") else text.find(b"\n#CHROM")
    return at >= 0 and text.find(b"\n", at + 1) >= 0


def _unique_names(names: list[str]) -> list[str]:
    """Sample names as written; a repeated name gets #2, #3... so each column stays its own sample."""
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name}#{seen[name]}")
    return unique


def _is_bcf(path: str) -> bool:
    """BCF: BGZF-compressed binary that starts with the magic "BCF"."""
    try:
        with open(path, "rb") as handle:
            if handle.read(2) != b"\x1f\x8b":
                return False
        with gzip.open(path, "rb") as reader:  # (BGZF is gzip: no need to load htslib for 3 bytes)
            return reader.read(3) == b"BCF"
    except (OSError, EOFError, ValueError):
        return False


def _open_bcf(path: str):
    import pysam

    pysam.set_verbosity(0)
    try:
        return pysam.VariantFile(path)
    except (OSError, ValueError) as exc:
        raise InputFormatError(f"cannot read this BCF ({exc})", path=path,
                               hint="check it with: bcftools view -h") from None


def read_header(path: str) -> VcfHeader:
    """Only the header: read up to the #CHROM line (cheap, for choosing the build first)."""
    if _is_bcf(path):
        with _open_bcf(path) as bcf:
            return _parse_header(path, str(bcf.header).encode("utf-8"))[0]
    try:
        with open(path, "rb") as handle:
            gz = handle.read(2) == b"\x1f\x8b"
    except OSError:
        raise InputFormatError("file not found", path=path) from None
    reader = gzip.open(path, "rb") if gz else open(path, "rb")
    text = b""
    try:
        while (chunk := reader.read(1 << 16)) and not _holds_chrom_line(text + chunk) \
                and len(text) < _MAX_HEADER_BYTES:
            text += chunk
        text += chunk
    except (OSError, EOFError, ValueError):
        raise InputFormatError("truncated gzip file: the compressed data ends early", path=path,
                               hint="the file is incomplete; copy it again or re-create it with bgzip") from None
    finally:
        try:
            reader.close()
        except OSError:
            pass
    return _parse_header(path, text)[0]


# --- which sample ------------------------------------------------------------------------
def choose_samples(header: VcfHeader, sample: str | None) -> list[str]:
    """The sample columns to read: --sample, else the tumour of a pair, else every sample."""
    if sample is not None and header.samples:
        if sample not in header.samples:
            raise UsageError(f"sample {sample!r} is not in {header.path}",
                             hint="samples in the file: " + ", ".join(header.samples))
        return [sample]
    if header.tumor_sample in header.samples:
        return [header.tumor_sample]
    if _says_somatic_pair(header) and header.normal_sample is None:
        raise UsageError("a tumour/normal VCF whose header does not say which column is the tumour; "
                         f"columns: {', '.join(header.samples)}", path=header.path,
                         hint="choose the tumour column with --input-sample NAME")
    # a named matched normal is never a tumour sample
    return [s for s in header.samples if s != header.normal_sample]


# --- body --------------------------------------------------------------------------------
_PANEL_NAME_BYTES = 5  # the longest contig name that can hold a panel gene: "chr12"


def _chrom_runs(buf: np.ndarray, starts: np.ndarray, tab1: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Runs of consecutive records on one CHROM: (run starts, run ends, names).

    Names longer than 5 bytes cannot be a panel contig and are reported as "".
    """
    length = tab1 - starts
    window = np.zeros((len(starts), 8), dtype=np.uint8)
    for k in range(_PANEL_NAME_BYTES):
        window[:, k] = np.where(length > k, buf[np.minimum(starts + k, len(buf) - 1)], 0)
    window[:, 7] = np.minimum(length, 255)
    keys = window.view(np.uint64).ravel()
    keys = np.where(length > _PANEL_NAME_BYTES, 0, keys)
    bounds = np.concatenate([[0], np.flatnonzero(keys[1:] != keys[:-1]) + 1, [len(keys)]])
    names = [bytes(buf[starts[b]:tab1[b]]).decode("utf-8", "replace") if keys[b] else "" for b in bounds[:-1]]
    return bounds[:-1], bounds[1:], names


def _region_mask(runs, pos: np.ndarray, ref_len: np.ndarray, regions: dict[str, np.ndarray]) -> np.ndarray:
    """True where a record's REF span (insertions: the base after the anchor too) meets a region."""
    mask = np.zeros(len(pos), dtype=bool)
    for lo, hi, name in zip(*runs):
        spans = regions.get(canonical_contig(name)) if name else None
        if spans is None:
            continue
        first, last = pos[lo:hi], pos[lo:hi] + np.maximum(ref_len[lo:hi], 1)
        # regions are sorted and merged: the candidate is the last region starting <= last
        idx = np.searchsorted(spans[:, 0], last, side="right") - 1
        mask[lo:hi] = (idx >= 0) & (first <= spans[np.maximum(idx, 0), 1])
    return mask


def _parse_positions(buf: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Integers from digit fields buf[start:end]; -1 where the field is not all digits."""
    width = end - start
    out = np.zeros(len(start), dtype=np.int64)
    bad = (width <= 0) | (width > 12)
    maxw = int(min(width.max(initial=1), 12))
    for k in range(maxw):
        present = width > k
        digit = buf[np.minimum(start + k, len(buf) - 1)].astype(np.int64) - 48
        bad |= present & ((digit < 0) | (digit > 9))
        out = np.where(present, out * 10 + digit, out)
    return np.where(bad, -1, out)


@dataclass
class _Scanned:
    """What one block of records gives."""

    n_lines: int                          # line breaks seen, for numbering the next block
    n_records: int
    candidates: list[tuple[int, bytes]]   # (line number, raw record) touching a region
    outside_text: bytes                   # "CHROM\tPOS\tID\tREF\tALT\n" of every other record
    n_outside: int
    skipped: list[tuple[int, str, bytes]] = field(default_factory=list)  # (line, reason, raw record)


def _position_problems(pos: np.ndarray, limit: np.ndarray, pos_text: Callable[[int], str],
                       contig_of: Callable[[int], str]) -> dict[int, str]:
    """Reason per record index whose POS is not a position on its contig (text, 0, beyond the end)."""
    reasons = {}
    for i in np.flatnonzero((pos <= 0) | (pos > limit)):
        if pos[i] < 0:
            reasons[int(i)] = f"POS {pos_text(int(i))!r} is not a positive integer"
        elif pos[i] == 0:
            reasons[int(i)] = "POS 0: VCF positions start at 1"
        else:
            reasons[int(i)] = (f"POS {int(pos[i]):,} is beyond the end of {contig_of(int(i))} "
                               f"({int(limit[i]):,} bp)")
    return reasons


def _scan_block(path: str, block: bytes, first_line_no: int, regions: dict[str, np.ndarray] | None,
                limits: dict[str, int] | None = None, list_outside: bool = True) -> _Scanned:
    """Find each record's columns column-wise; split only the records that touch a region.

    A record whose POS is no position on its contig (text, 0, beyond the contig's length in `limits`)
    or whose CHROM..ALT is not UTF-8 is skipped with its reason, not read. The CHROM..ALT text of the
    other records is cut out only with `list_outside`; otherwise they are counted.
    """
    buf = np.frombuffer(block, dtype=np.uint8)
    separators = np.flatnonzero(buf < 11)  # tabs and line breaks in one pass
    kinds = buf[separators]
    newlines, tabs = separators[kinds == 10], separators[kinds == 9]
    n_lines = len(newlines)
    if len(block) and block[-1:] != b"\n":
        newlines = np.append(newlines, len(block))
    starts = np.concatenate([[0], newlines[:-1] + 1]).astype(np.int64)
    ends = newlines.astype(np.int64)
    line_no = first_line_no + np.arange(len(starts))
    nonempty = (ends > starts) & ~((ends - starts == 1) & (buf[np.maximum(ends - 1, 0)] == 13))
    starts, ends, line_no = starts[nonempty], ends[nonempty], line_no[nonempty]
    if len(starts) == 0:
        return _Scanned(n_lines, 0, [], b"", 0)
    # the k-th tab of each line; a sentinel past the buffer stands in for tabs that are not there
    first = np.searchsorted(tabs, starts)
    padded = np.concatenate([tabs, np.full(8, len(buf), dtype=tabs.dtype)])
    chrom_end, pos_end, id_end, ref_end, alt_end = (padded[first + k] for k in range(5))
    # a record needs 8 tab-separated columns: its 7th tab must come before its line end
    short = padded[first + 6] >= ends
    if short.any():
        bad = int(np.flatnonzero(short)[0])
        fields = block[starts[bad]:ends[bad]].count(b"\t") + 1
        raise InputFormatError(f"record has {fields} tab-separated columns, a VCF record needs at least 8",
                               path=path, line=int(line_no[bad]), hint="is the file truncated or space-separated?")
    pos = _parse_positions(buf, chrom_end + 1, pos_end)
    runs = _chrom_runs(buf, starts, chrom_end)
    limit = np.full(len(pos), np.iinfo(np.int64).max, dtype=np.int64)
    for lo, hi, name in zip(*runs):
        if name and canonical_contig(name) in (limits or {}):
            limit[lo:hi] = limits[canonical_contig(name)]
    problems = _position_problems(
        pos, limit, lambda i: block[chrom_end[i] + 1:pos_end[i]].decode("utf-8", "replace"),
        lambda i: block[starts[i]:chrom_end[i]].decode("utf-8", "replace"))
    bad = np.zeros(len(pos), dtype=bool)
    bad[list(problems)] = True
    if regions is None:
        candidate = np.ones(len(starts), dtype=bool)
    else:
        candidate = _region_mask(runs, pos, ref_end - id_end - 1, regions)
        # symbolic and breakend records always: their genes (a <DEL>'s span, a breakend's mate) lie elsewhere
        candidate |= buf[np.minimum(ref_end + 1, len(buf) - 1)] == 60
        if b"[" in block or b"]" in block:  # (a search at memory speed: most blocks have no breakend)
            brackets = np.flatnonzero((buf == 91) | (buf == 93))
            candidate |= np.searchsorted(brackets, alt_end) > np.searchsorted(brackets, ref_end)
    candidate &= ~bad
    lines = [(int(line_no[i]), block[starts[i]:ends[i]]) for i in np.flatnonzero(candidate)]
    outside = np.flatnonzero(~candidate & ~bad)
    # listed or not, an outside record whose CHROM..ALT is not text is skipped: the counts do not
    # depend on --list-outside (an ASCII block, the usual case, needs no look)
    text = _leading_columns(buf, starts[outside], alt_end[outside]) if list_outside or not block.isascii() else b""
    try:
        text.decode("utf-8")
    except UnicodeDecodeError:
        not_text = [i for i in outside if not _is_utf8(block[starts[i]:alt_end[i]])]
        problems.update({int(i): "CHROM, POS, ID, REF or ALT is not valid UTF-8" for i in not_text})
        bad[not_text] = True
        outside = np.flatnonzero(~candidate & ~bad)
        text = _leading_columns(buf, starts[outside], alt_end[outside])
    text = text if list_outside else b""
    skipped = [(int(line_no[i]), reason, block[starts[i]:ends[i]]) for i, reason in sorted(problems.items())]
    return _Scanned(n_lines, len(starts), lines, text, len(outside), skipped)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _leading_columns(buf: np.ndarray, starts: np.ndarray, alt_end: np.ndarray) -> bytes:
    """CHROM..ALT of the given records, one per line, cut from the buffer in one pass."""
    if len(starts) == 0:
        return b""
    keep = alt_end + 1 - starts                       # through the tab after ALT
    drop = starts - np.concatenate([[0], alt_end[:-1] + 1])
    segments = np.empty(2 * len(starts) + 1, dtype=np.int64)
    segments[0:-1:2], segments[1::2], segments[-1] = drop, keep, len(buf) - alt_end[-1] - 1
    pattern = np.zeros(len(segments), dtype=bool)
    pattern[1::2] = True
    text = buf[np.repeat(pattern, segments)]
    text[np.cumsum(keep) - 1] = 10                    # the tab after ALT becomes the line break
    return text.tobytes()


def _skipped_frame(path: str, skipped: list[tuple[int | None, str, bytes]]) -> pd.DataFrame:
    """The skipped records as the ReadResult's skipped table (the record cut to 200 characters)."""
    return pd.DataFrame([(path, line, reason, raw[:200].decode("utf-8", "replace").rstrip("\r"))
                         for line, reason, raw in skipped], columns=SKIPPED_COLUMNS)


def _regions_by_contig(regions: list[tuple[str, int, int]]) -> dict[str, np.ndarray]:
    """Sorted, merged (start, end) arrays per canonical contig."""
    out: dict[str, list] = {}
    for contig, start, end in sorted((canonical_contig(c), s, e) for c, s, e in regions):
        spans = out.setdefault(contig, [])
        if spans and start <= spans[-1][1] + 1:
            spans[-1][1] = max(spans[-1][1], end)
        else:
            spans.append([start, end])
    return {c: np.asarray(s, dtype=np.int64) for c, s in out.items()}


def _index_path(path: str) -> str | None:
    for suffix in (".tbi", ".csi"):
        if os.path.exists(path + suffix) and os.path.getmtime(path + suffix) >= os.path.getmtime(path) - 1:
            return path + suffix
    return None


def read_vcf(path: str, *, sample: str | None = None, regions: list[tuple[str, int, int]] | None = None,
             use_index: bool = True, default_sample: str | None = None,
             on_outside: Callable[[bytes], None] | None = None, list_outside: bool = False) -> VcfRead:
    """Read a VCF into calls.

    Parameters
    ----------
    regions : (contig, start, end) to read; None reads every record as a candidate.
    use_index : take the indexed path when the file is bgzipped and indexed.
    on_outside : receives raw outside-region text block by block (otherwise kept in memory).
    list_outside : keep the CHROM..ALT text of the records outside the regions; otherwise they are
        only counted (n_outside), which is all a whole genome's millions of them usually need.
    """
    path = str(path)
    default_sample = default_sample or sample or re.sub(r"\.(vcf|bcf)(\.gz)?$", "", Path(path).name)
    region_arrays = _regions_by_contig(regions) if regions is not None else None
    if _is_bcf(path):
        return _read_bcf(path, sample, region_arrays, use_index, default_sample,
                         on_outside if list_outside else (lambda text: None))
    index = _index_path(path) if (use_index and regions is not None) else None
    if index:
        return _read_indexed(path, sample, region_arrays, default_sample)

    digest = hashlib.sha256()  # of the file as read: the summary's checksum, without a second pass
    header = None
    candidate_lines: list[tuple[int, bytes]] = []
    outside_chunks: list[bytes] = []
    n_records = n_outside = 0
    next_line = 1
    head = b""
    scan_skipped: list[tuple[int | None, str, bytes]] = []
    for block in _text_blocks(path, digest):
        if header is None:  # a header can outgrow one block: gather it up to the #CHROM line
            head += block
            if (head.removeprefix(_BOM).startswith(b"##fileformat=VCF"[:len(head)]) and not _holds_chrom_line(head)
                    and len(head) < _MAX_HEADER_BYTES):
                continue  # (anything that does not start like a VCF fails at once below)
            header, offset = _parse_header(path, head)
            limits = contig_limits(header.contig_lengths)
            next_line = header.n_header_lines + 1
            block, head = head[offset:], b""
        scanned = _scan_block(path, block, next_line, region_arrays, limits, list_outside)
        scan_skipped.extend(scanned.skipped)
        next_line += scanned.n_lines
        n_records += scanned.n_records
        candidate_lines.extend(scanned.candidates)
        n_outside += scanned.n_outside
        if scanned.outside_text:
            if on_outside is not None:
                on_outside(scanned.outside_text)
            else:
                outside_chunks.append(scanned.outside_text)
    if header is None:
        if not head:
            raise InputFormatError("file is empty", path=path, hint="give a VCF with a header and records")
        header, _ = _parse_header(path, head)  # raises: it says what is missing
    samples = choose_samples(header, sample)
    return _finish(path, header, candidate_lines, samples, default_sample, n_records, scan_skipped,
                   outside_text=outside_chunks, n_outside=n_outside, indexed=False,
                   checksum="sha256:" + digest.hexdigest())


def _finish(path: str, header: VcfHeader, lines: list[tuple[int | None, bytes]], samples: list[str],
            default_sample: str, n_records: int, scan_skipped: list, **read) -> VcfRead:
    """The VcfRead of one pass: candidate records into calls, skipped records with their reasons and notes."""
    records = records_to_calls(path, header, lines, samples, default_sample)
    skipped = _skipped_frame(path, scan_skipped + records.skipped)
    notes, warnings = read_notes(path, n_records, skipped, records.n_not_utf8)
    return VcfRead(header=header, calls=records.calls, samples_read=samples or [default_sample],
                   n_records=n_records, skipped=skipped, notes=notes, warnings=warnings, **read)


def _read_bcf(path: str, sample: str | None, regions: dict[str, np.ndarray] | None, use_index: bool,
              default_sample: str, on_outside: Callable[[bytes], None] | None) -> VcfRead:
    """BCF through htslib (pysam): each record as its VCF text, then the same parsing as a VCF."""
    with _open_bcf(path) as bcf:
        header, _ = _parse_header(path, str(bcf.header).encode("utf-8"))
        indexed = bool(use_index and regions is not None and bcf.index is not None)
        candidates: list[tuple[int | None, bytes]] = []
        outside: list[bytes] = []
        n_records = 0
        if indexed:
            candidates = [(None, text.encode("utf-8")) for text in
                          _fetch_regions(bcf.fetch, bcf.header.contigs, regions)]
            n_records = len(candidates)
        else:
            for record in bcf:  # no index: every record once, in file order
                n_records += 1
                spans = regions.get(canonical_contig(record.contig)) if regions is not None else None
                last = record.pos + max(len(record.ref), 1)
                idx = np.searchsorted(spans[:, 0], last, side="right") - 1 if spans is not None else 0
                structural = any(is_structural(a) for a in record.alts or ())
                if regions is None or structural or (spans is not None and idx >= 0 and record.pos <= spans[idx, 1]):
                    candidates.append((None, str(record).rstrip("\n").encode("utf-8")))
                else:
                    outside.append("\t".join([record.contig, str(record.pos), record.id or ".", record.ref,
                                               ",".join(record.alts or ("."))]).encode("utf-8"))
    outside_text = b"\n".join(outside) + b"\n" if outside else b""
    if outside_text and on_outside is not None:
        on_outside(outside_text)
    samples = choose_samples(header, sample)
    checksum = _index_fingerprint(path) if indexed else "sha256:" + file_sha256(path)
    return _finish(path, header, candidates, samples, default_sample, n_records, [],
                   outside_text=[outside_text] if outside_text and on_outside is None else [],
                   n_outside=len(outside), indexed=indexed, checksum=checksum)


def _fetch_regions(fetch, contigs, regions: dict[str, np.ndarray]) -> Iterator[str]:
    """Each record of the (sorted, merged) regions once, as VCF text, through an index.

    A long REF can reach back into the previous region, whose fetch listed it already;
    a record the file itself repeats is kept as often as it is written.
    """
    names = {canonical_contig(c): c for c in contigs}
    for contig, spans in regions.items():
        name = names.get(contig)
        if name is None:
            continue
        previous_end = 0
        for start, end in spans:
            for record in fetch(name, int(start) - 1, int(end)):
                text = str(record).rstrip("\n")
                pos = int(text.split("\t", 2)[1])
                if not (pos < start and pos <= previous_end):
                    yield text
            previous_end = end


def _read_indexed(path: str, sample: str | None, regions: dict[str, np.ndarray],
                  default_sample: str) -> VcfRead:
    import pysam

    try:
        tabix = pysam.TabixFile(path)
    except (OSError, ValueError) as exc:
        raise InputFormatError(f"cannot read the index ({exc})", path=path,
                               hint="re-index with tabix -p vcf, or remove the stale index") from None
    with tabix:
        header = read_header(path)  # (pysam's tabix.header takes 40 ms: it reads again through the index)
        # line numbers are unknown via the index
        lines = [(None, text.encode("utf-8")) for text in _fetch_regions(tabix.fetch, tabix.contigs, regions)]
    samples = choose_samples(header, sample)
    return _finish(path, header, lines, samples, default_sample, len(lines), [],
                   indexed=True, checksum=_index_fingerprint(path))


def _index_fingerprint(path: str) -> str:
    """Size of the file and sha256 of its index: hashing a whole genome's VCF would undo the index's point."""
    index = _index_path(path) or ""
    return f"size:{os.path.getsize(path)};index-sha256:{file_sha256(index) if index else ''}"


