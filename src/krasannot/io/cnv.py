"""Copy-number readers: cBioPortal discrete matrices, segment files and gene/CN tables -> calls.

Every reader returns gene-level calls (call_type copy_number) for the genes of the
copy-number list in ``resources/genes/gene_loci.tsv`` (KRAS, MET, ERBB2, EGFR, CDKN2A,
PTEN, ...) whose state is not neutral. A whole-genome matrix has ~20,000 genes, so the
rest is counted, not listed: the notes of the result say where every value went
("N values read: A rows, B neutral, C outside the copy-number list, D not profiled").

States
------
cBioPortal ``data_cna.txt`` (GISTIC-style discrete levels, cBioPortal file-format docs):
-2 deep_deletion, -1 (and -1.5) shallow_deletion, 0 neutral, 1 gain, 2 amplification.

Segment log2 ratios (tumour/normal, diploid = 0) -> state:

==========================  ================  ==================================================
log2 <= -1.2                deep_deletion     a one-copy loss in a pure diploid tumour is -1.0;
                                              below -1.2 only a two-copy loss fits, seen so at
                                              purity >= 57% (log2(1 - p) <= -1.2)
-1.2 < log2 <= -0.25        shallow_deletion  CNVkit ``call`` default threshold for 1 copy
-0.25 < log2 < 0.2          neutral
0.2 <= log2 < 1.0           gain              CNVkit ``call`` default threshold for 3 copies
log2 >= 1.0                 amplification     log2(4/2): >= 4 copies in a pure diploid tumour,
                                              ~5-6 copies at a typical 60% purity
==========================  ================  ==================================================

(CNVkit ``call -m threshold`` defaults: -1.1, -0.25, 0.2, 0.7 for 0, 1, 2, 3 copies.) The
amplification and deep-deletion thresholds are stricter than CNVkit's 4-copy/0-copy ones,
because only these two states are actionable and a false one is the costlier error.

Absolute copy numbers (a gene/CN table, VCF ``CN``) assume a diploid genome: < 0.5
deep_deletion, < 1.5 shallow_deletion, < 2.5 neutral, < 5 gain, >= 5 amplification
(5 copies is what log2 1.0 means at 60% purity: 2 + 2 / 0.6 = 5.3).

A gene's log2 from segments is the overlap-weighted mean of the segments over its span
(CNVkit ``genemetrics`` likewise averages the bins inside a gene).
"""

from __future__ import annotations

import csv
import io
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from .. import columns as C
from .. import models as M
from ..errors import InputFormatError, UsageError
from ..reference.builds import BUILDS, CONTIG_LENGTHS, canonical_contig, parse_build
from .result import ReadResult
from ..files import file_sha256, read_input_bytes

# log2 thresholds (see the module docstring for where they come from)
LOG2_DEEP_DELETION = -1.2
LOG2_SHALLOW_DELETION = -0.25
LOG2_GAIN = 0.2
LOG2_AMPLIFICATION = 1.0
# absolute copy-number thresholds for a diploid genome
COPIES_DEEP_DELETION = 0.5
COPIES_SHALLOW_DELETION = 1.5
COPIES_GAIN = 2.5
COPIES_AMPLIFICATION = 5.0

DISCRETE_STATES = {-2.0: M.CN_DEEP_DELETION, -1.5: M.CN_SHALLOW_DELETION, -1.0: M.CN_SHALLOW_DELETION,
                   0.0: M.CN_NEUTRAL, 1.0: M.CN_GAIN, 2.0: M.CN_AMPLIFICATION}
NOT_PROFILED = {"", "NA", "NaN", "nan", "N/A"}  # cBioPortal: NA = not profiled in that sample

# the calls-table columns a gene-level reader fills
GENE_LEVEL_COLUMNS = C.CALLS_COLUMNS + [C.GENE] + C.OPTIONAL_CALL_COLUMNS + [C.STATUS_DETAIL]

_CNA_ID_COLUMNS = {"Hugo_Symbol", "Entrez_Gene_Id", "Cytoband", "Locus ID", "Gene ID"}
_SEG_NAMES = {"id", "sample", "id_sample", "sample_id", "chrom", "chromosome", "chr", "loc.start", "start",
              "loc.end", "end", "num.mark", "num_probes", "num.markers", "seg.mean", "segment_mean", "log2",
              "seg_mean"}
_SEG_VALUE_NAMES = ["seg.mean", "segment_mean", "seg_mean", "log2"]
_TSV_ALIASES = {"sample": ["sample", "sample_id", "tumor_sample_barcode"], "gene": ["gene", "hugo_symbol"],
                "copy_number": ["copy_number", "cn", "copies"], "cn_state": ["cn_state"],
                "log2": ["log2", "cn_log2", "log2_ratio"]}


# --- reading text ---------------------------------------------------------------------------
def read_text(path: str) -> tuple[list[str], str]:
    """The lines of a plain or gzipped text file (line breaks and a BOM removed) and its sha256.

    Errors name the file, and for bad UTF-8 the line.
    """
    raw = read_input_bytes(path)
    checksum = "sha256:" + file_sha256(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputFormatError("line is not valid UTF-8", path=path, line=raw.count(b"\n", 0, exc.start) + 1,
                               hint="re-encode the file as UTF-8") from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines], checksum


def parse_table(path: str, lines: list[str], head: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Rows below the header line `head` (0-based) as strings, and their 1-based line numbers.

    Blank lines are no rows; any other line must have as many tab-separated fields as the header.
    """
    header = lines[head].split("\t")
    body = pd.Series(lines[head + 1:], dtype=object)
    filled = (body.str.strip() != "").to_numpy() if len(body) else np.zeros(0, dtype=bool)
    n_fields = body[filled].str.count("\t").to_numpy() + 1 if filled.any() else np.zeros(0, dtype=np.int64)
    line_numbers = np.flatnonzero(filled) + head + 2
    wrong = np.flatnonzero(n_fields != len(header))
    if len(wrong):
        bad = wrong[0]
        raise InputFormatError(f"row has {n_fields[bad]} tab-separated fields, the header names {len(header)}",
                               path=path, line=int(line_numbers[bad]), hint="is the file truncated or edited by hand?")
    text = "\n".join([lines[head]] + body[filled].tolist()) + "\n"
    # quoting off: these formats never quote, and a stray " must not swallow lines
    frame = pd.read_csv(io.StringIO(text), sep="\t", dtype=str, na_filter=False, quoting=csv.QUOTE_NONE,
                        skip_blank_lines=False)
    frame.columns = header  # as written: no ".1" suffixes on repeated names
    return frame, line_numbers


def first_header_line(lines: list[str]) -> int | None:
    """Index of the first line that is neither blank nor a # comment."""
    return next((i for i, line in enumerate(lines) if line.strip() and not line.startswith("#")), None)


def numbers(values: pd.Series, path: str, lines: np.ndarray, what: str, missing_ok: bool = False) -> np.ndarray:
    """A column as floats; a value that is not a number is an error naming its line."""
    stripped = values.str.strip()
    parsed = pd.to_numeric(stripped, errors="coerce").to_numpy(dtype=float)
    missing = stripped.isin(NOT_PROFILED).to_numpy()
    bad = np.isnan(parsed) & ~(missing & missing_ok)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise InputFormatError(f"{what} {values.iloc[first]!r} is not a number", path=path, line=int(lines[first]))
    return parsed


# --- gene loci ------------------------------------------------------------------------------
@lru_cache(maxsize=None)
def _all_gene_loci() -> pd.DataFrame:
    path = Path(str(resources.files("krasannot.resources").joinpath("genes", "gene_loci.tsv")))
    return pd.read_csv(path, sep="\t", dtype={"chrom": str, "start": np.int64, "end": np.int64}, keep_default_na=False)


def gene_loci(build: str) -> pd.DataFrame:
    """gene, chrom, start, end (1-based inclusive), strand and lists of the listed genes in `build`."""
    loci = _all_gene_loci()
    return loci[loci["build"] == build].reset_index(drop=True)


def genes_in_list(name: str) -> frozenset[str]:
    """Genes of one list of gene_loci.tsv: copy_number, fusion_driver, fusion_partner, panel."""
    loci = _all_gene_loci()
    return frozenset(loci.loc[loci["lists"].str.split(";").map(lambda lists: name in lists), "gene"])


def copy_number_genes() -> frozenset[str]:
    return genes_in_list("copy_number")


def gene_regions(build: str) -> list[tuple[str, int, int]]:
    """(contig, start, end) of every listed gene: regions a VCF read must include for its
    structural records (breakends, copy-number spans) to reach these readers."""
    loci = gene_loci(build)
    return list(zip(loci["chrom"], loci["start"].astype(int), loci["end"].astype(int)))


# --- states ---------------------------------------------------------------------------------
def cn_state_from_log2(log2: np.ndarray) -> np.ndarray:
    """The state of each log2 ratio ("" where it is NaN)."""
    log2 = np.asarray(log2, dtype=float)
    state = np.select([log2 <= LOG2_DEEP_DELETION, log2 <= LOG2_SHALLOW_DELETION, log2 < LOG2_GAIN,
                       log2 < LOG2_AMPLIFICATION, log2 >= LOG2_AMPLIFICATION],
                      [M.CN_DEEP_DELETION, M.CN_SHALLOW_DELETION, M.CN_NEUTRAL, M.CN_GAIN, M.CN_AMPLIFICATION], "")
    return state.astype(object)


def cn_state_from_copies(copies: np.ndarray) -> np.ndarray:
    """The state of each absolute copy number of a diploid genome ("" where it is NaN)."""
    copies = np.asarray(copies, dtype=float)
    state = np.select([copies < COPIES_DEEP_DELETION, copies < COPIES_SHALLOW_DELETION, copies < COPIES_GAIN,
                       copies < COPIES_AMPLIFICATION, copies >= COPIES_AMPLIFICATION],
                      [M.CN_DEEP_DELETION, M.CN_SHALLOW_DELETION, M.CN_NEUTRAL, M.CN_GAIN, M.CN_AMPLIFICATION], "")
    return state.astype(object)


# --- sniffing -------------------------------------------------------------------------------
def _header(lines: list[str]) -> list[str]:
    head = first_header_line([line.lstrip("\ufeff") for line in lines])
    return lines[head].lstrip("\ufeff").rstrip("\r\n").split("\t") if head is not None else []


def looks_like_cna(lines: list[str]) -> bool:
    """A cBioPortal gene x sample matrix: Hugo_Symbol/Entrez_Gene_Id first, no MAF columns.

    Values are not checked here: a bad or continuous value is reported by the reader, with its line.
    """
    cleaned = [line.lstrip("\ufeff").rstrip("\r\n") for line in lines]
    head = first_header_line(cleaned)
    header = cleaned[head].split("\t") if head is not None else []
    return (len(header) >= 2 and header[0] in ("Hugo_Symbol", "Entrez_Gene_Id")
            and not {"Tumor_Sample_Barcode", "Chromosome", "Sample_Id", "Site1_Hugo_Symbol"} & set(header))


def looks_like_seg(lines: list[str]) -> bool:
    """A segment file: ID chrom loc.start loc.end [num.mark] seg.mean (IGV/cBioPortal names, or GDC's)."""
    header = [h.strip().lower() for h in _header(lines)]
    return len(header) >= 5 and set(header) <= _SEG_NAMES and any(v in header for v in _SEG_VALUE_NAMES)


def looks_like_cn_tsv(lines: list[str]) -> bool:
    """A gene/CN table: a gene column and copy_number, cn_state or log2."""
    header = {h.strip().lower() for h in _header(lines)}
    value_names = _TSV_ALIASES["copy_number"] + _TSV_ALIASES["cn_state"] + _TSV_ALIASES["log2"]
    return "gene" in header and bool(header & set(value_names))


def sniff_copy_number(lines: list[str]) -> str | None:
    """'cna', 'seg' or 'cn_tsv' for the first ~50 decoded lines of a copy-number file, else None."""
    for name, looks in (("cna", looks_like_cna), ("seg", looks_like_seg), ("cn_tsv", looks_like_cn_tsv)):
        if looks(lines):
            return name
    return None


# --- readers --------------------------------------------------------------------------------
def read_copy_number(path: str, sample: str | None = None, build: str = "auto") -> ReadResult:
    """Read a copy-number file of any supported layout into gene-level calls.

    Parameters
    ----------
    sample : keep only this sample.
    build : GRCh37/GRCh38 (needed to place segments on genes), or auto (from segment ends).
    """
    path = str(path)
    lines, checksum = read_text(path)
    kind = sniff_copy_number(lines[:50])
    if kind is None:
        raise InputFormatError("not a copy-number file I know", path=path, line=(first_header_line(lines) or 0) + 1,
                               hint="give a cBioPortal data_cna.txt (Hugo_Symbol + sample columns of -2..2), "
                                    "a .seg (ID chrom loc.start loc.end num.mark seg.mean) or a TSV with "
                                    "sample, gene and copy_number, cn_state or log2")
    if kind == "cna":
        return read_cna_matrix(path, sample, lines=lines, checksum=checksum)
    if kind == "seg":
        return read_segments(path, sample, build, lines=lines, checksum=checksum)
    return read_cn_table(path, sample, lines=lines, checksum=checksum)


def _pick_sample(path: str, samples: list[str], sample: str | None) -> list[str]:
    if sample is None:
        return samples
    if sample not in samples:
        shown = ", ".join(samples[:5]) + (f", ... ({len(samples)} in all)" if len(samples) > 5 else "")
        raise UsageError(f"sample {sample!r} is not in {path}", hint="samples in the file: " + shown)
    return [sample]


def _header_and_rows(path: str, lines: list[str] | None, checksum: str, empty_hint: str):
    """Lines (read here unless given), checksum, the header's 0-based line, rows as strings and their line numbers."""
    if lines is None:
        lines, checksum = read_text(path)
    head = first_header_line(lines)
    if head is None:
        raise InputFormatError("file is empty", path=path, hint=empty_hint)
    frame, line_numbers = parse_table(path, lines, head)
    return lines, checksum, head, frame, line_numbers


def read_cna_matrix(path: str, sample: str | None = None, *, lines: list[str] | None = None,
                    checksum: str = "") -> ReadResult:
    """A cBioPortal discrete matrix (data_cna.txt): one row per gene, one column per sample."""
    path = str(path)
    lines, checksum, head, frame, line_numbers = _header_and_rows(path, lines, checksum, "give a data_cna.txt with a header line and rows")
    if "Hugo_Symbol" not in frame.columns:
        raise InputFormatError("missing the Hugo_Symbol column", path=path, line=head + 1,
                               hint="a data_cna.txt needs Hugo_Symbol, then one column per sample")
    all_samples = [c for c in frame.columns if c not in _CNA_ID_COLUMNS]
    samples = _pick_sample(path, all_samples, sample)
    levels = np.column_stack([_discrete_levels(frame[s], path, line_numbers, s) for s in samples]) \
        if samples else np.zeros((len(frame), 0))
    genes = frame["Hugo_Symbol"].str.strip().to_numpy(dtype=object)
    listed = np.isin(genes, list(copy_number_genes()))
    state = np.vectorize(DISCRETE_STATES.get, otypes=[object])(np.where(np.isnan(levels), 0.0, levels)) \
        if levels.size else levels.astype(object)
    keep = listed[:, None] & ~np.isnan(levels) & (state != M.CN_NEUTRAL)
    gene_at, sample_at = np.nonzero(keep)
    found = pd.DataFrame({C.SAMPLE: np.asarray(samples, dtype=object)[sample_at], C.GENE: genes[gene_at],
                          C.CN_STATE: state[gene_at, sample_at], C.COPY_NUMBER: np.nan, C.CN_LOG2: np.nan,
                          C.INPUT_LINE: line_numbers[gene_at]})
    n_values, n_outside = levels.size, int((~listed).sum()) * len(samples)
    n_missing = int(np.isnan(levels[listed]).sum())
    n_neutral = n_values - n_outside - n_missing - len(found)
    note = (f"{path}: {n_values} values read ({len(frame)} genes x {len(samples)} samples): {len(found)} rows, "
            f"{n_neutral} neutral, {n_outside} of {int((~listed).sum())} genes outside the copy-number list, "
            f"{n_missing} not profiled (NA)")
    return ReadResult(format="cna", calls=copy_number_calls(found, "cna", path), samples=samples,
                      n_records=len(frame), checksum=checksum, notes=[note])


def _discrete_levels(values: pd.Series, path: str, lines: np.ndarray, sample: str) -> np.ndarray:
    """One sample column as levels; NA/blank are NaN; anything but -2, -1.5, -1, 0, 1, 2 is an error."""
    stripped = values.str.strip()
    parsed = pd.to_numeric(stripped, errors="coerce").to_numpy(dtype=float)
    missing = stripped.isin(NOT_PROFILED).to_numpy()
    bad = (np.isnan(parsed) & ~missing) | (~np.isnan(parsed) & ~np.isin(parsed, list(DISCRETE_STATES)))
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise InputFormatError(f"value {values.iloc[first]!r} of sample {sample} is not a discrete copy-number "
                               "level (-2, -1, 0, 1, 2 or NA)", path=path, line=int(lines[first]),
                               hint="continuous or log2 matrices are not read; give the discrete data_cna.txt")
    return parsed


def read_segments(path: str, sample: str | None = None, build: str = "auto", *, lines: list[str] | None = None,
                  checksum: str = "") -> ReadResult:
    """A segment file (.seg): sample, chrom, start, end, [num.mark], log2 -> calls per copy-number gene."""
    path = str(path)
    lines, checksum, head, frame, line_numbers = _header_and_rows(path, lines, checksum, "give a .seg with a header line and segments")
    if len(frame.columns) < 5:
        raise InputFormatError(f"a segment file needs at least 5 columns, the header names {len(frame.columns)}",
                               path=path, line=head + 1, hint="ID chrom loc.start loc.end num.mark seg.mean")
    lower = [c.strip().lower() for c in frame.columns]
    value_at = next((lower.index(v) for v in _SEG_VALUE_NAMES if v in lower), len(lower) - 1)
    segments = pd.DataFrame({
        "sample": frame.iloc[:, 0].str.strip(), "contig": frame.iloc[:, 1].str.strip().map(_seg_contig),
        "start": numbers(frame.iloc[:, 2], path, line_numbers, "start"),
        "end": numbers(frame.iloc[:, 3], path, line_numbers, "end"),
        "log2": numbers(frame.iloc[:, value_at], path, line_numbers, frame.columns[value_at], missing_ok=True),
        "line": line_numbers})
    all_samples = list(pd.unique(segments["sample"]))
    samples = _pick_sample(path, all_samples, sample)
    segments = segments[segments["sample"].isin(samples)]
    build = _segment_build(segments, build, path)
    values = gene_level_log2(segments, gene_loci(build)[lambda g: g["gene"].isin(copy_number_genes())])
    grid = pd.MultiIndex.from_product([samples, sorted(copy_number_genes())], names=["sample", "gene"])
    values = values.set_index(["sample", "gene"]).reindex(grid).reset_index()
    state = cn_state_from_log2(values["log2"].to_numpy())
    rows = values[(state != "") & (state != M.CN_NEUTRAL)]
    found = pd.DataFrame({C.SAMPLE: rows["sample"], C.GENE: rows["gene"], C.CN_STATE: state[rows.index],
                          C.COPY_NUMBER: np.nan, C.CN_LOG2: rows["log2"].round(4),
                          C.INPUT_LINE: rows["line"].astype("Int64")})
    n_uncovered = int(values["line"].isna().sum())
    n_missing = int((values["line"].notna() & values["log2"].isna()).sum())
    n_neutral = int((state == M.CN_NEUTRAL).sum())
    note = (f"{path}: {len(segments)} segments of {len(samples)} samples, {build}: {len(values)} gene values "
            f"({len(grid.levels[1])} copy-number genes x {len(samples)} samples): {len(found)} rows, {n_neutral} "
            f"neutral, {n_uncovered} not covered by a segment, {n_missing} with log2 NA; thresholds log2 <= "
            f"{LOG2_DEEP_DELETION} deep deletion, >= {LOG2_AMPLIFICATION} amplification")
    return ReadResult(format="seg", calls=copy_number_calls(found, "seg", path), samples=samples,
                      n_records=len(frame), checksum=checksum, notes=[note])


def _seg_contig(name: str) -> str:
    """Contig as the loci write it; IGV segment files number X and Y 23 and 24."""
    contig = canonical_contig(name)
    return {"23": "X", "24": "Y"}.get(contig, contig)


def _segment_build(segments: pd.DataFrame, build: str, path: str) -> str:
    """The build to place segments in: the one given, or the only one whose chromosomes hold every segment."""
    if build not in (None, "auto"):
        return parse_build(build)
    fits = [b for b in BUILDS
            if (segments["end"] <= segments["contig"].map(CONTIG_LENGTHS[b]).fillna(np.inf)).all()]
    if len(fits) != 1:
        raise UsageError("cannot tell the genome build of a segment file from its coordinates", path=path,
                         hint="give --build GRCh37 or GRCh38")
    return fits[0]


def gene_level_log2(segments: pd.DataFrame, loci: pd.DataFrame) -> pd.DataFrame:
    """Per sample and gene: the overlap-weighted mean log2 of the segments over the gene, and the
    line of the segment that covers most of it.

    Parameters
    ----------
    segments : sample, contig, start, end, log2 (NaN allowed), line.
    loci : gene, chrom, start, end.
    """
    pairs = segments.merge(loci[["gene", "chrom", "start", "end"]].rename(
        columns={"chrom": "contig", "start": "gene_start", "end": "gene_end"}), on="contig")
    overlap = (np.minimum(pairs["end"], pairs["gene_end"]) - np.maximum(pairs["start"], pairs["gene_start"]) + 1)
    pairs = pairs.assign(overlap=overlap)[overlap > 0]
    if pairs.empty:
        return pd.DataFrame(columns=["sample", "gene", "log2", "line"])
    known = pairs["log2"].notna()
    pairs = pairs.assign(weight=np.where(known, pairs["overlap"], 0), weighted=pairs["log2"].fillna(0) * pairs["overlap"])
    groups = pairs.groupby(["sample", "gene"], sort=False)
    totals = groups[["weight", "weighted"]].sum()
    widest = pairs.loc[groups["overlap"].idxmax(), ["sample", "gene", "line"]].set_index(["sample", "gene"])
    log2 = (totals["weighted"] / totals["weight"]).where(totals["weight"] > 0)
    return pd.DataFrame({"log2": log2}).join(widest).reset_index()


def read_cn_table(path: str, sample: str | None = None, *, lines: list[str] | None = None,
                  checksum: str = "") -> ReadResult:
    """A gene/CN TSV: [sample,] gene and one of copy_number (absolute), cn_state, log2 per row.

    A row's state is its cn_state where given, else from copy_number, else from log2.
    """
    path = str(path)
    lines, checksum, head, frame, line_numbers = _header_and_rows(path, lines, checksum, "give a TSV with a header line and rows")
    names = {c.strip().lower(): c for c in frame.columns}
    column = {key: next((names[a] for a in aliases if a in names), None) for key, aliases in _TSV_ALIASES.items()}
    if column["gene"] is None or not any(column[k] for k in ("copy_number", "cn_state", "log2")):
        raise InputFormatError("a gene/CN table needs a gene column and copy_number, cn_state or log2",
                               path=path, line=head + 1, hint="header e.g.: sample<TAB>gene<TAB>copy_number")

    def text(key: str) -> pd.Series:
        return frame[column[key]].str.strip() if column[key] else pd.Series("", index=frame.index, dtype=object)

    default_sample = sample or re.sub(r"\.(tsv|txt|csv)(\.gz)?$", "", Path(path).name)
    sample_values = text("sample").where(text("sample") != "", default_sample) if column["sample"] \
        else pd.Series(default_sample, index=frame.index, dtype=object)
    samples = _pick_sample(path, list(pd.unique(sample_values)), sample)
    keep = sample_values.isin(samples).to_numpy()
    frame, line_numbers, sample_values = frame[keep], line_numbers[keep], sample_values[keep]
    copies = numbers(text("copy_number")[keep], path, line_numbers, "copy_number", missing_ok=True)
    log2 = numbers(text("log2")[keep], path, line_numbers, "log2", missing_ok=True)
    given = text("cn_state")[keep].str.lower().to_numpy(dtype=object)
    unknown = (given != "") & ~np.isin(given, M.CN_STATES)
    if unknown.any():
        first = int(np.flatnonzero(unknown)[0])
        raise InputFormatError(f"cn_state {given[first]!r} is not one of " + ", ".join(M.CN_STATES), path=path,
                               line=int(line_numbers[first]))
    if (copies < 0).any():
        raise InputFormatError("copy_number is negative", path=path, line=int(line_numbers[np.flatnonzero(copies < 0)[0]]))
    state = np.where(given != "", given, np.where(~np.isnan(copies), cn_state_from_copies(copies),
                                                   cn_state_from_log2(log2)))
    if (state == "").any():
        raise InputFormatError("row has no copy_number, cn_state or log2 value", path=path,
                               line=int(line_numbers[np.flatnonzero(state == "")[0]]))
    genes = text("gene")[keep].to_numpy(dtype=object)
    listed = np.isin(genes, list(copy_number_genes()))
    emit = listed & (state != M.CN_NEUTRAL)
    found = pd.DataFrame({C.SAMPLE: sample_values.to_numpy()[emit], C.GENE: genes[emit], C.CN_STATE: state[emit],
                          C.COPY_NUMBER: copies[emit], C.CN_LOG2: log2[emit], C.INPUT_LINE: line_numbers[emit]})
    note = (f"{path}: {len(genes)} rows read: {int(emit.sum())} calls, {int((listed & ~emit).sum())} neutral, "
            f"{int((~listed).sum())} genes outside the copy-number list")
    return ReadResult(format="cn_tsv", calls=copy_number_calls(found, "cn_tsv", path), samples=samples,
                      n_records=len(frame), checksum=checksum, notes=[note])


def copy_number_calls(found: pd.DataFrame, source: str, path: str) -> pd.DataFrame:
    """The calls table of gene-level copy-number states.

    Parameters
    ----------
    found : sample, gene, cn_state, copy_number, cn_log2, input_line (and chrom/pos/id/filter where known).
    """
    n = len(found)

    def given(name: str, default):
        return found[name].to_numpy() if name in found else np.full(n, default, dtype=object)

    calls = pd.DataFrame({
        C.SAMPLE: given(C.SAMPLE, ""), C.CHROM: given(C.CHROM, ""),
        C.POS: pd.array(given(C.POS, None), dtype="Int64"), C.VARIANT_ID: given(C.VARIANT_ID, "."),
        C.REF: "", C.ALT: "", C.FILTER: given(C.FILTER, "PASS"),
        C.DEPTH: pd.array([None] * n, dtype="Int64"), C.ALT_DEPTH: pd.array([None] * n, dtype="Int64"),
        C.VAF: np.nan, C.GENOTYPE: "", C.PHASE_SET: "", C.SOURCE: source, C.INPUT_FILE: path,
        C.INPUT_LINE: pd.array(given(C.INPUT_LINE, None), dtype="Int64"), C.GENE: given(C.GENE, ""),
        C.CALL_TYPE: M.CALL_TYPE_COPY_NUMBER, C.DETECTION: M.DETECTION_DETECTED, C.ORIGIN: given(C.ORIGIN, ""),
        C.ALTERATION: [f"{g} {s.replace('_', ' ')}" for g, s in zip(given(C.GENE, ""), given(C.CN_STATE, ""))],
        C.COPY_NUMBER: pd.to_numeric(pd.Series(given(C.COPY_NUMBER, np.nan)), errors="coerce").to_numpy(),
        C.CN_LOG2: pd.to_numeric(pd.Series(given(C.CN_LOG2, np.nan)), errors="coerce").to_numpy(),
        C.CN_STATE: given(C.CN_STATE, ""), C.FUSION_5P: "", C.FUSION_3P: "",
        C.STATUS_DETAIL: given(C.STATUS_DETAIL, "")}, index=range(n))
    return calls[GENE_LEVEL_COLUMNS]
