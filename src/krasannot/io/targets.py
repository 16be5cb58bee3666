"""What the assay covered: a target BED (or a coverage file) and cBioPortal gene panels -> assessment rows.

A VCF or MAF lists what was found, never what was looked at. These readers say what was looked at, as
calls-table rows of the shape the genotyper and ctDNA tables already give: `not_detected` where the assay
covered a hotspot codon (or a whole gene) with enough depth and nothing was called there, `not_assessed`
where it covered it with too little depth. A codon outside the targets gets no row: not assessed.

A BED gives codon-level assessment (the hotspot codons of resources/hotspots/recurrent_residues.tsv, and a
whole gene only when every coding base is inside the targets); a gene-panel list gives gene-level
assessment (a gene the sample's panel lists counts as assayed over its whole coding sequence).
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from .. import columns as C
from .. import models as M
from ..errors import InputFormatError
from ..reference.builds import canonical_contig
from ..reference.bundle import Panel

SOURCE_TARGETS = "targets"
SOURCE_GENE_PANEL = "gene_panel"
TARGET_COLUMNS = ["contig", "start", "end", "depth", "line"]
_DEPTH_NAMES = ("depth", "mean", "mean_depth", "mean_coverage", "coverage", "meancoverage", "avg_depth")
_CHROM_NAMES = ("chrom", "#chrom", "chr", "chromosome", "contig", "#chr")


@dataclass
class Targets:
    """Target regions: 0-based half-open intervals (as BED) with their depth (NaN where not given)."""

    path: str
    intervals: pd.DataFrame   # TARGET_COLUMNS; contig canonical (12, X, MT)
    has_depth: bool


def _open_text(path: str):
    with open(path, "rb") as handle:
        magic = handle.read(2)
    return gzip.open(path, "rt", encoding="utf-8") if magic == b"\x1f\x8b" else open(path, encoding="utf-8")


def _is_number(text: str) -> bool:
    return re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", text.strip()) is not None


def read_targets(path: str) -> Targets:
    """A BED (3 columns; a 4th numeric column is the depth, as is a 5th after a name: mosdepth's
    regions.bed.gz), or a TSV with a header naming chrom, start, end and depth (or mean); plain or gzipped.

    Coordinates are BED's: 0-based start, end exclusive."""
    rows, columns = [], None
    try:
        with _open_text(path) as handle:
            for number, raw in enumerate(handle, start=1):
                line = raw.rstrip("\r\n")
                if not line.strip() or line.startswith(("track", "browser", "##")):
                    continue
                fields = line.split("\t") if "\t" in line else line.split()
                if columns is None and len(fields) >= 3 and not (_is_number(fields[1]) and _is_number(fields[2])):
                    names = [f.strip().lower() for f in fields]
                    chrom = next((names.index(n) for n in _CHROM_NAMES if n in names), None)
                    if chrom is None or "start" not in names or "end" not in names:
                        if line.startswith("#"):
                            continue  # a comment line
                        raise InputFormatError("not a BED (columns 2 and 3 are not numbers) and its header does "
                                               "not name chrom, start and end", path=path, line=number,
                                               hint="give a BED, mosdepth regions.bed.gz, or a TSV with a header "
                                                    "chrom, start, end, depth")
                    depth = next((names.index(n) for n in _DEPTH_NAMES if n in names), None)
                    columns = (chrom, names.index("start"), names.index("end"), depth)
                    continue
                if line.startswith("#"):
                    continue
                if columns is None:
                    columns = (0, 1, 2, None)  # a headerless BED: depth from the column layout below
                chrom_i, start_i, end_i, depth_i = columns
                if len(fields) <= max(chrom_i, start_i, end_i):
                    raise InputFormatError(f"{len(fields)} column(s); a region needs chrom, start and end",
                                           path=path, line=number, hint="one region per line, tab-separated")
                try:
                    start, end = int(fields[start_i]), int(fields[end_i])
                except ValueError:
                    raise InputFormatError(f"start {fields[start_i]!r} or end {fields[end_i]!r} is not a whole "
                                           "number", path=path, line=number, hint="BED coordinates") from None
                if start < 0 or end <= start:
                    raise InputFormatError(f"region {fields[chrom_i]}:{start}-{end} is empty or negative",
                                           path=path, line=number, hint="BED: 0-based start, end > start")
                rows.append((canonical_contig(fields[chrom_i]), start, end,
                             _depth_of(fields, depth_i, columns == (0, 1, 2, None), path, number), number))
    except (OSError, UnicodeDecodeError, EOFError, gzip.BadGzipFile) as exc:
        raise InputFormatError(f"cannot read the target regions ({exc})", path=path,
                               hint="give a BED or coverage file, plain or gzipped") from None
    if not rows:
        raise InputFormatError("no target region in the file", path=path, hint="one region per line: chrom start end")
    intervals = pd.DataFrame(rows, columns=TARGET_COLUMNS)
    return Targets(path=path, intervals=intervals, has_depth=bool(intervals["depth"].notna().any()))


def _depth_of(fields: list[str], depth_i: int | None, headerless: bool, path: str, line: int) -> float:
    """The region's depth: the named column; in a headerless BED the 4th column when it is a number,
    or the 5th after a name (mosdepth --by with names). BED6 and wider carry no depth."""
    if depth_i is None and headerless:
        if len(fields) == 4 and _is_number(fields[3]):
            depth_i = 3
        elif len(fields) == 5 and not _is_number(fields[3]) and _is_number(fields[4]):
            depth_i = 4
    if depth_i is None or depth_i >= len(fields):
        return np.nan
    if not _is_number(fields[depth_i]):
        raise InputFormatError(f"depth {fields[depth_i]!r} is not a number", path=path, line=line,
                               hint="the depth column holds the region's mean depth")
    return float(fields[depth_i])


def _depth_at(intervals: pd.DataFrame, contig: str, positions: np.ndarray) -> np.ndarray:
    """Per 1-based position: the greatest depth of the targets covering it (inf where a region gives no
    depth), -1 where none covers it."""
    out = np.full(len(positions), -1.0)
    if not len(positions):
        return out
    lo, hi = positions.min(), positions.max()
    near = intervals[(intervals["contig"] == contig) & (intervals["start"] < hi) & (intervals["end"] >= lo)]
    for start, end, depth in zip(near["start"].to_numpy(), near["end"].to_numpy(), near["depth"].to_numpy()):
        inside = (positions > start) & (positions <= end)
        out[inside] = np.maximum(out[inside], np.inf if depth != depth else depth)
    return out


def recurrent_residues() -> pd.DataFrame:
    """resources/hotspots/recurrent_residues.tsv (gene, residue G12, position 12): the codons assessed,
    as the genotyper genotypes them."""
    path = resources.files("krasannot.resources").joinpath("hotspots/recurrent_residues.tsv")
    with path.open("r", encoding="utf-8") as handle:
        table = pd.read_csv(handle, sep="\t", comment="#", dtype=str)
    return table.assign(position=table["residue"].str[1:].astype(int))


def _row(sample: str, gene: str, contig: str, words: str, detection: str, detail: str, depth: float, path: str,
         source: str) -> dict:
    return {C.SAMPLE: sample, C.CHROM: contig, C.POS: pd.NA, C.VARIANT_ID: ".", C.REF: "", C.ALT: "",
            C.FILTER: "", C.DEPTH: depth if np.isfinite(depth) else np.nan, C.ALT_DEPTH: np.nan, C.VAF: np.nan,
            C.GENOTYPE: "", C.PHASE_SET: "", C.SOURCE: source, C.INPUT_FILE: path, C.INPUT_LINE: 0,
            C.CALL_TYPE: M.CALL_TYPE_VARIANT, C.DETECTION: detection, C.ALTERATION: words, C.GENE: gene,
            C.SOURCE_GENE: gene, C.STATUS_DETAIL: detail}


def assessment_from_targets(targets: Targets, panel: Panel, samples: list[str], min_depth: float,
                            called: set[tuple[str, str, int]] | None = None) -> pd.DataFrame:
    """Rows saying what the targets assayed, for every sample of the input.

    Per hotspot codon of a panel gene: not_detected when its three bases are inside the targets at
    `min_depth` or more (or with no depth given), not_assessed when inside but shallower. Per gene: one
    gene-level not_detected row when every coding base is inside the targets at that depth (it stands
    beside the gene's calls: what was not called there was not detected). `called` (sample, gene, residue)
    are codons with a detected call: no codon row contradicts them."""
    called = called or set()
    shallow_words = "inside the targets, depth {:.0f} below the minimum {:.0f}"
    residues = recurrent_residues()
    rows = []
    for tx in panel.transcripts:
        contig = canonical_contig(tx.chrom)
        cds = tx.tx_to_genomic(np.arange(tx.cds_tx_first, tx.cds_tx_last + 1))
        depth = _depth_at(targets.intervals, contig, cds)
        if depth.max() < 0:
            continue
        for sample in samples:
            if depth.min() >= min_depth:
                rows.append(_row(sample, tx.gene, contig, tx.gene, M.DETECTION_NOT_DETECTED,
                                 f"every coding base inside the targets ({Path(targets.path).name}); "
                                 "not detected in the assayed gene", float(depth.min()), targets.path,
                                 SOURCE_TARGETS))
        for label, position in zip(*residues.loc[residues["gene"] == tx.gene, ["residue", "position"]].T.to_numpy()):
            first = 3 * (int(position) - 1)
            if first + 3 > len(cds):
                continue
            codon_depth = float(depth[first:first + 3].min())
            if codon_depth < 0:
                continue  # outside the targets: not assessed, and no row says otherwise
            enough = codon_depth >= min_depth
            for sample in samples:
                if (sample, tx.gene, int(position)) in called:
                    continue
                rows.append(_row(sample, tx.gene, contig, f"{tx.gene} {label}",
                                 M.DETECTION_NOT_DETECTED if enough else M.DETECTION_NOT_ASSESSED,
                                 f"codon inside the targets ({Path(targets.path).name}); not detected" if enough
                                 else shallow_words.format(codon_depth, min_depth), codon_depth, targets.path,
                                 SOURCE_TARGETS))
    return _frame(rows)


def _frame(rows: list[dict]) -> pd.DataFrame:
    columns = C.CALLS_COLUMNS + [C.CALL_TYPE, C.DETECTION, C.ALTERATION, C.GENE, C.SOURCE_GENE, C.STATUS_DETAIL]
    frame = pd.DataFrame.from_records(rows, columns=columns)
    frame[C.POS] = pd.array([pd.NA] * len(frame), dtype="Int64")
    for name in (C.DEPTH, C.ALT_DEPTH, C.VAF):
        frame[name] = pd.to_numeric(frame[name]).astype(float)
    frame[C.INPUT_LINE] = frame[C.INPUT_LINE].astype(np.int64)
    return frame


# --- cBioPortal gene panels ------------------------------------------------------------------
def shipped_gene_panels() -> dict[str, set[str]]:
    """The gene lists shipped in resources/gene_panels (MSK-IMPACT 341/410/468), by panel id."""
    folder = resources.files("krasannot.resources").joinpath("gene_panels")
    panels = {}
    for entry in folder.iterdir():
        if entry.name.startswith("data_gene_panel_") and entry.name.endswith(".txt"):
            with entry.open("r", encoding="utf-8") as handle:
                panel_id, genes = _parse_gene_panel(handle.read(), str(entry))
            panels[panel_id] = genes
    return panels


def _parse_gene_panel(text: str, path: str) -> tuple[str, set[str]]:
    fields = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip().lower()] = value.strip()
    if not fields.get("stable_id") or "gene_list" not in fields:
        raise InputFormatError("not a cBioPortal gene panel file (no stable_id: or gene_list: line)", path=path,
                               hint="data_gene_panel_<id>.txt: stable_id, description, gene_list (tab-separated)")
    return fields["stable_id"], {g for g in re.split(r"[\t ,]+", fields["gene_list"]) if g}


def looks_like_panel_matrix(path: str) -> bool:
    with _open_text(path) as handle:
        first = next((line for line in handle if line.strip() and not line.startswith("#")), "")
    return first.split("\t")[0].strip().upper() == "SAMPLE_ID"


def read_gene_panels(paths: list[str]) -> tuple[pd.DataFrame, dict[str, set[str]], str]:
    """cBioPortal files: a data_gene_panel_matrix.txt (SAMPLE_ID and a `mutations` column of panel ids) and
    any data_gene_panel_<id>.txt (stable_id, gene_list); the shipped MSK-IMPACT lists are known already.

    Returns the matrix (sample, panel), the gene lists by panel id, and the matrix path."""
    panels = shipped_gene_panels()
    matrix, matrix_path = None, ""
    for path in paths:
        try:
            if looks_like_panel_matrix(path):
                if matrix is not None:
                    raise InputFormatError("a second gene-panel matrix", path=path, hint="give one matrix per run")
                table = pd.read_csv(path, sep="\t", dtype=str, comment="#", keep_default_na=False)
                table.columns = [c.strip() for c in table.columns]
                column = next((c for c in table.columns if c.lower() == "mutations"), None)
                if column is None:
                    raise InputFormatError("the gene-panel matrix has no `mutations` column", path=path, line=1,
                                           hint="cBioPortal data_gene_panel_matrix.txt: SAMPLE_ID, mutations, ...")
                matrix = pd.DataFrame({C.SAMPLE: table[table.columns[0]].str.strip(),
                                       "panel": table[column].str.strip()})
                matrix_path = path
            else:
                with _open_text(path) as handle:
                    panel_id, genes = _parse_gene_panel(handle.read(), path)
                panels[panel_id] = genes
        except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
            raise InputFormatError(f"cannot read the gene-panel file ({exc})", path=path) from None
    if matrix is None:
        raise InputFormatError("no gene-panel matrix among the --gene-panel files", path=paths[0],
                               hint="add data_gene_panel_matrix.txt (SAMPLE_ID, mutations)")
    unknown = sorted(set(matrix["panel"]) - set(panels) - {"", "NA"})
    if unknown:
        line = int(np.flatnonzero(matrix["panel"].isin(unknown).to_numpy())[0]) + 2
        raise InputFormatError(f"panel {unknown[0]!r} has no gene list", path=matrix_path, line=line,
                               hint=f"add its data_gene_panel_{unknown[0].lower()}.txt to --gene-panel "
                                    f"(shipped: {', '.join(sorted(panels))})")
    return matrix, panels, matrix_path


def assessment_from_gene_panels(matrix: pd.DataFrame, panels: dict[str, set[str]], panel: Panel,
                                samples: list[str], matrix_path: str,
                                input_names: dict[str, str] | None = None) -> pd.DataFrame:
    """One gene-level not_detected row per sample and panel gene its panel lists (gene-level assessment:
    the gene counts as assayed over its whole coding sequence, as the panel's name says). `input_names`
    maps a sample to its name in the matrix where the two differ."""
    by_sample = dict(zip(matrix[C.SAMPLE], matrix["panel"]))
    input_names = input_names or {}
    rows = []
    for sample in samples:
        panel_id = by_sample.get(input_names.get(sample, sample), "")
        for tx in panel.transcripts:
            if tx.gene in panels.get(panel_id, ()):
                rows.append(_row(sample, tx.gene, canonical_contig(tx.chrom), tx.gene, M.DETECTION_NOT_DETECTED,
                                 f"gene listed by the sample's panel {panel_id} "
                                 f"({Path(matrix_path).name}); not detected in the assayed gene", np.inf,
                                 matrix_path, SOURCE_GENE_PANEL))
    return _frame(rows)
