"""MAF reader (GDC/TCGA MAFs, cBioPortal data_mutations*.txt): rows into the calls table.

One row in, one call out: a row that cannot become a call (no position, an allele that is
not DNA) is kept with status invalid_allele, so every row is accounted for. MAF alleles
use "-" for the empty side; the calls table writes it as "" and puts an insertion at the
base after the gap (Start_Position + 1), as the annotation expects.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import columns as C
from .. import models as M
from ..errors import InputFormatError, UsageError
from ..reference.builds import CONTIG_LENGTHS, canonical_build, canonical_contig, contig_limits
from .result import SKIPPED_COLUMNS, empty_skipped, read_notes
from ..files import file_sha256, read_input_bytes

MAF_CALLS_COLUMNS = C.CALLS_COLUMNS + [C.STATUS, C.SOURCE_HGVSP_SHORT, C.SOURCE_TRANSCRIPT, C.SOURCE_GENE]

REQUIRED = ["Hugo_Symbol", "Chromosome", "Start_Position", "Reference_Allele", "Tumor_Seq_Allele2",
            "Tumor_Sample_Barcode"]
_BUILD_NUMBERS = {"37": "GRCh37", "38": "GRCh38"}  # old TCGA MAFs write the bare number
_ALLELE = re.compile(r"[ACGTNacgtn]+|-")
_READ = set(REQUIRED) | {"NCBI_Build", "Tumor_Seq_Allele1", "dbSNP_RS", "FILTER", "t_depth", "t_ref_count",
                         "t_alt_count", "HGVSp_Short", "Transcript_ID", "RefSeq"}  # the other columns are not parsed
_LINES_PER_PIECE = 1 << 14


@dataclass
class MafRead:
    """Calls from one MAF; `n_records` counts every data row of the file, `samples` those read."""

    calls: pd.DataFrame
    n_records: int = 0
    builds: set[str] = field(default_factory=set)
    checksum: str = ""     # "sha256:<hex>" of the file as on disk
    samples: list[str] = field(default_factory=list)
    skipped: pd.DataFrame = field(default_factory=empty_skipped)  # rows with no position, with the reason
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # e.g. most rows failing one way: say it on stderr
    n_other_samples: int = 0  # rows of other Tumor_Sample_Barcodes, not read (--input-sample)


def looks_like_maf(first_lines: list[str]) -> bool:
    """Whether the first non-comment, non-blank line is a MAF header with the required columns."""
    for line in first_lines:
        if line.strip() and not line.startswith("#"):
            return set(REQUIRED) <= set(line.lstrip("\ufeff").rstrip("\r\n").split("\t"))
    return False


def _lines(data: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Start, end (without line break and \\r) and tab count of every line."""
    buf = np.frombuffer(data, dtype=np.uint8)
    breaks = np.flatnonzero(buf == 10)
    ends = breaks if data.endswith(b"\n") else np.append(breaks, len(buf))
    starts = np.concatenate([[0], breaks + 1])[:len(ends)]
    ends = ends - ((ends > starts) & (buf[np.maximum(ends - 1, 0)] == 13))
    n_tabs = np.zeros(len(starts), dtype=np.int64)
    # in pieces of lines: all tab positions of a wide MAF (~150 a line) would outweigh the file
    for first in range(0, len(starts), _LINES_PER_PIECE):
        lo, hi = starts[first], ends[min(first + _LINES_PER_PIECE, len(starts)) - 1]
        tabs = np.flatnonzero(buf[lo:hi] == 9) + lo
        piece = slice(first, first + _LINES_PER_PIECE)
        n_tabs[piece] = np.searchsorted(tabs, ends[piece]) - np.searchsorted(tabs, starts[piece])
    return starts, ends, n_tabs


def _check_utf8(data: bytes, starts: np.ndarray, path: str) -> None:
    """Decode in pieces cut at line starts (no character spans one), not the whole file at once."""
    view, cuts = memoryview(data), list(starts[::_LINES_PER_PIECE]) + [len(data)]
    for a, b in zip(cuts[:-1], cuts[1:]):
        try:
            codecs.utf_8_decode(view[a:b], "strict", True)
        except UnicodeDecodeError as exc:
            raise InputFormatError("line is not valid UTF-8", path=path,
                                   line=int(np.searchsorted(starts, a + exc.start, side="right")),
                                   hint="re-encode the file as UTF-8") from None


def _numbers(frame: pd.DataFrame, name: str) -> pd.Series:
    """A count column as floats; absent, empty or non-numeric values are NaN, never guessed."""
    if name not in frame:
        return pd.Series(np.nan, index=frame.index)
    return pd.to_numeric(frame[name], errors="coerce").astype(float)  # spaces around a number are fine


def maf_builds(values: pd.Series, path: str, lines: np.ndarray) -> set[str]:
    """Canonical NCBI_Build values; a file that mixes GRCh37 and GRCh38 is refused."""
    canonical = values.map({v: canonical_build(_BUILD_NUMBERS.get(v.strip(), v)) for v in pd.unique(values)})
    builds = set(pd.unique(canonical.dropna()))
    if len(builds) > 1:
        counts = canonical.value_counts()
        minority = counts.index[-1]
        raise InputFormatError("mixed genome builds in NCBI_Build: "
                               + ", ".join(f"{b} ({n} rows)" for b, n in counts.items()),
                               path=path, line=int(lines[np.flatnonzero((canonical == minority).to_numpy())[0]]),
                               hint="split the file by NCBI_Build and annotate each part with its own --build")
    return builds


def read_maf(path: str, *, sample: str | None = None) -> MafRead:
    """Read a MAF (plain or gzipped) into calls.

    Parameters
    ----------
    sample : keep only this Tumor_Sample_Barcode.
    """
    path = str(path)
    data = read_input_bytes(path)
    starts, ends, n_tabs = _lines(data) if data else (np.zeros(0, dtype=np.int64),) * 3
    filled = ends > starts
    if not filled.any():
        raise InputFormatError("file is empty", path=path, hint="give a MAF with a header line and rows")
    _check_utf8(data, starts, path)
    is_comment = np.frombuffer(data, dtype=np.uint8)[np.minimum(starts, len(data) - 1)] == ord("#")
    heads = np.flatnonzero(filled & ~is_comment)  # "#version 2.4" and blank lines come before the header
    if len(heads) == 0:
        raise InputFormatError("no header line after the # comment lines", path=path, line=len(starts),
                               hint="a MAF needs a tab-separated header: " + ", ".join(REQUIRED))
    head = int(heads[0])
    header = data[starts[head]:ends[head]].decode("utf-8").split("\t")
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise InputFormatError("missing required MAF column(s): " + ", ".join(missing), path=path, line=head + 1,
                               hint="a MAF header needs " + ", ".join(REQUIRED) + "; is this a tab-separated MAF?")
    rows = np.flatnonzero(filled[head + 1:]) + head + 1  # blank lines are no rows; any other line is
    wrong = rows[n_tabs[rows] != len(header) - 1]
    if len(wrong):
        bad = int(wrong[0])
        raise InputFormatError(f"row has {int(n_tabs[bad]) + 1} tab-separated fields, the header names {len(header)}",
                               path=path, line=bad + 1, hint="is the file truncated or edited by hand?")
    # quoting off: MAF fields are never quoted, and a stray " must not swallow lines
    maf = pd.read_csv(io.BytesIO(memoryview(data)[starts[head]:]), sep="\t", dtype=str, na_filter=False,
                      quoting=csv.QUOTE_NONE, encoding="utf-8", engine="c", usecols=lambda name: name in _READ)
    lines = rows + 1
    if len(maf) != len(rows):  # cannot happen if the field counts above hold; never misnumber silently
        raise InputFormatError(f"read {len(maf)} rows but found {len(rows)} data lines", path=path)
    builds = maf_builds(maf["NCBI_Build"], path, lines) if "NCBI_Build" in maf else set()
    n_records, all_samples = len(maf), list(pd.unique(maf["Tumor_Sample_Barcode"]))
    n_other_samples = 0
    if sample is not None:
        if sample not in all_samples:
            shown = ", ".join(all_samples[:5]) + (f", ... ({len(all_samples)} in all)" if len(all_samples) > 5 else "")
            raise UsageError(f"sample {sample!r} is not in {path}", hint="samples in the file: " + shown)
        keep = (maf["Tumor_Sample_Barcode"] == sample).to_numpy()
        maf, lines = maf[keep].reset_index(drop=True), lines[keep]
    n_other_samples = n_records - len(maf)
    limits = contig_limits({}) if len(builds) != 1 else CONTIG_LENGTHS[next(iter(builds))]
    problems = position_problems(maf["Chromosome"], maf["Start_Position"], limits)
    refused = (problems != "").to_numpy()
    skipped = pd.DataFrame({"input_file": path, "input_line": lines[refused], "reason": problems[refused].to_numpy(),
                            "record": [_raw_line(data, starts, ends, line) for line in lines[refused]]},
                           columns=SKIPPED_COLUMNS)
    calls = _calls(maf[~refused].reset_index(drop=True), path, lines[~refused])
    notes, warnings = read_notes(path, n_records, skipped)
    invalid = int((calls[C.STATUS] == M.STATUS_INVALID_ALLELE).sum())
    if invalid:
        notes.append(f"{invalid:,} of {n_records:,} rows have an allele that is not DNA (status invalid_allele)")
        if n_records >= 3 and invalid > n_records / 2:
            warnings.append(f"most rows of the file fail the same way: {invalid:,} of {n_records:,} have an "
                            "allele that is not DNA" + _shift_hint(data, starts[head], header))
    return MafRead(calls=calls, n_records=n_records, builds=builds, checksum="sha256:" + file_sha256(path),
                   samples=list(pd.unique(maf["Tumor_Sample_Barcode"])), skipped=skipped, notes=notes + warnings,
                   warnings=warnings, n_other_samples=n_other_samples)


def position_problems(chrom: pd.Series, start: pd.Series, limits: dict[str, int]) -> pd.Series:
    """Per row, why its Start_Position is no position on its chromosome ("" where it is one)."""
    if not len(start):
        return pd.Series([], index=start.index, dtype=object)
    text = start.astype(str).str.strip()
    number = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
    limit = chrom.astype(str).map(lambda c: limits.get(canonical_contig(c.strip()), np.inf)).to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        not_number = np.isnan(number) | (number % 1 != 0)
        reasons = np.select(
            [not_number, number < 1, number > limit],
            ["Start_Position " + ("'" + text + "'") + " is not a position",
             "Start_Position " + text + ": positions start at 1",
             "Start_Position " + text + " is beyond the end of chromosome " + chrom.astype(str) + " ("
             + pd.Series(limit, index=chrom.index).map(lambda n: f"{n:,.0f}") + " bp)"], "")
    return pd.Series(reasons, index=start.index, dtype=object)


def _raw_line(data: bytes, starts: np.ndarray, ends: np.ndarray, line: int) -> str:
    return data[starts[line - 1]:ends[line - 1]][:200].decode("utf-8", "replace")


def _shift_hint(data: bytes, header_start: int, header: list[str]) -> str:
    """'; the data columns sit one left of the header' where reading the alleles one column over makes them DNA."""
    table = pd.read_csv(io.BytesIO(memoryview(data)[header_start:]), sep="\t", dtype=str, na_filter=False,
                        quoting=csv.QUOTE_NONE, header=None, skiprows=1, engine="python",
                        names=range(len(header)))
    ref_at, alt_at = header.index("Reference_Allele"), header.index("Tumor_Seq_Allele2")
    for shift, side in ((-1, "left"), (1, "right")):
        if 0 <= ref_at + shift and alt_at + shift < len(header):
            dna = (table[ref_at + shift].str.fullmatch(_ALLELE.pattern) & table[alt_at + shift].str.fullmatch(
                _ALLELE.pattern) & (table[ref_at + shift] != table[alt_at + shift]))
            if dna.mean() > 0.8:
                return (f"; the data columns sit one {side} of the header (read one column to the {side}, "
                        f"{int(dna.sum())} rows would have DNA alleles): fix the header or the rows")
    return ""


def _alleles(ref: str, allele1: str, allele2: str) -> tuple[str, str, bool, bool]:
    """(ref, alt, valid, insertion) of one distinct allele triple; "-" becomes ""."""
    ref, allele1, allele2 = ref.strip(), allele1.strip(), allele2.strip()
    alt = allele2
    if allele2.upper() == ref.upper() and allele1 and allele1.upper() != ref.upper():
        alt = allele1  # some MAFs carry the alt in Allele1 and the ref in Allele2
    valid = bool(_ALLELE.fullmatch(ref) and _ALLELE.fullmatch(alt)) and not ref == alt == "-"
    return "" if ref == "-" else ref, "" if alt == "-" else alt, valid, valid and ref == "-"


def _calls(maf: pd.DataFrame, path: str, lines: np.ndarray) -> pd.DataFrame:
    """The calls table of parsed MAF rows, column-wise."""
    def column(name: str, default: str = "") -> pd.Series:
        return maf[name] if name in maf else pd.Series(default, index=maf.index, dtype=object)

    # alleles repeat a few values (A/C/G/T) many times: decide each distinct triple once
    triples = pd.DataFrame({"r": maf["Reference_Allele"], "a1": column("Tumor_Seq_Allele1"),
                            "a2": maf["Tumor_Seq_Allele2"]})
    group = triples.groupby(list(triples), sort=False).ngroup().to_numpy()
    decided = np.empty((len(triples), 4), dtype=object)
    if len(triples):
        distinct = [_alleles(*t) for t in triples.drop_duplicates().itertuples(index=False, name=None)]
        decided = np.array(distinct, dtype=object)[group]
    ref, alt = decided[:, 0], decided[:, 1]
    # rows without a position were skipped by the caller (position_problems)
    start = pd.to_numeric(maf["Start_Position"], errors="coerce").to_numpy(dtype=float)
    valid = decided[:, 2].astype(bool)
    pos = start.astype(np.int64) + decided[:, 3].astype(bool)  # insertion: base after the gap
    t_alt = _numbers(maf, "t_alt_count")
    depth = _numbers(maf, "t_depth").fillna(_numbers(maf, "t_ref_count") + t_alt)
    vaf = (t_alt / depth).where(depth > 0)
    transcript = column("Transcript_ID").where(column("Transcript_ID") != "", column("RefSeq"))
    calls = pd.DataFrame({
        C.SAMPLE: maf["Tumor_Sample_Barcode"], C.CHROM: maf["Chromosome"], C.POS: pos,
        C.VARIANT_ID: column("dbSNP_RS").replace("", "."), C.REF: ref, C.ALT: alt, C.FILTER: column("FILTER"),
        C.DEPTH: depth.round().astype("Int64"), C.ALT_DEPTH: t_alt.round().astype("Int64"), C.VAF: vaf,
        C.GENOTYPE: "", C.PHASE_SET: "", C.SOURCE: "maf", C.INPUT_FILE: path,
        C.INPUT_LINE: lines.astype(np.int64),
        C.STATUS: np.where(valid, "", M.STATUS_INVALID_ALLELE),
        C.SOURCE_HGVSP_SHORT: column("HGVSp_Short"), C.SOURCE_TRANSCRIPT: transcript,
        C.SOURCE_GENE: maf["Hugo_Symbol"]}, index=maf.index)
    return calls[MAF_CALLS_COLUMNS].astype({c: object for c in MAF_CALLS_COLUMNS
                                            if c not in (C.POS, C.DEPTH, C.ALT_DEPTH, C.VAF, C.INPUT_LINE)})
