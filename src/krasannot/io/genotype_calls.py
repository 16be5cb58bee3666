"""The CALLS.tsv that `krasannot genotype` writes, read back as a calls table (the caller is in krasannot.genotype)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import columns as C
from .. import models as M
from ..errors import InputFormatError
from ..files import file_sha256
from .result import ReadResult

SOURCE_BAM = "bam"

# extra columns of the genotyper's calls (beside columns.CALLS_COLUMNS)
HOTSPOT = "hotspot"
ALT_FORWARD, ALT_REVERSE, P_VALUE, LOD = "alt_forward", "alt_reverse", "p_value", "lod"
ANNOTATION_STATUS = "annotation_status"
GENOTYPE_EXTRA_COLUMNS = [ALT_FORWARD, ALT_REVERSE, P_VALUE, LOD, HOTSPOT]
# CALLS.tsv: `status` is the detection status there
GENOTYPE_TSV_COLUMNS = [C.SAMPLE, C.CHROM, C.POS, C.REF, C.ALT, C.GENE, C.HGVSP_SHORT, C.STATUS, C.ALT_DEPTH,
                        C.DEPTH, C.VAF, ALT_FORWARD, ALT_REVERSE, P_VALUE, LOD, HOTSPOT, C.TRANSCRIPT, C.HGVSC,
                        C.HGVSP, C.CONSEQUENCE, C.FILTER, C.CALL_TYPE, C.SOURCE, C.ALTERATION,
                        ANNOTATION_STATUS, C.STATUS_DETAIL, C.INPUT_FILE]


def looks_like_genotype_calls(header_line: str) -> bool:
    """True for the header of a CALLS.tsv written by `krasannot genotype`."""
    names = set(header_line.rstrip("\r\n").split("\t"))
    return {C.SAMPLE, C.CHROM, C.POS, C.REF, C.ALT, C.STATUS, C.ALT_DEPTH, C.DEPTH, C.VAF, ALT_FORWARD,
            ALT_REVERSE, P_VALUE, LOD}.issubset(names)


def read_genotype_calls(path: str) -> ReadResult:
    """Read a CALLS.tsv back into the calls table (status -> detection; gene and p. kept as source_*)."""
    try:
        with open(path, encoding="utf-8") as handle:
            header = handle.readline()
        table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputFormatError(f"cannot read the genotype calls ({exc})", path=path) from None
    if not looks_like_genotype_calls(header):
        raise InputFormatError("not a CALLS.tsv of krasannot genotype (columns missing)", path=path, line=1)
    bad = ~table[C.STATUS].isin(M.DETECTIONS)
    if bad.any():
        line = int(np.flatnonzero(bad.to_numpy())[0]) + 2
        raise InputFormatError(f"status {table[C.STATUS][bad].iloc[0]!r} is not one of "
                               f"{', '.join(M.DETECTIONS)}", path=path, line=line)
    pos = pd.to_numeric(table[C.POS], errors="coerce")
    if pos.isna().any():
        line = int(np.flatnonzero(pos.isna().to_numpy())[0]) + 2
        raise InputFormatError("pos is not a number", path=path, line=line)
    calls = pd.DataFrame({
        C.SAMPLE: table[C.SAMPLE], C.CHROM: table[C.CHROM], C.POS: pos.astype(np.int64),
        C.VARIANT_ID: ".", C.REF: table[C.REF], C.ALT: table[C.ALT], C.FILTER: table.get(C.FILTER, ""),
        C.DEPTH: pd.to_numeric(table[C.DEPTH], errors="coerce"),
        C.ALT_DEPTH: pd.to_numeric(table[C.ALT_DEPTH], errors="coerce"),
        C.VAF: pd.to_numeric(table[C.VAF], errors="coerce"), C.GENOTYPE: "", C.PHASE_SET: "",
        C.SOURCE: SOURCE_BAM, C.INPUT_FILE: path, C.INPUT_LINE: np.arange(2, len(table) + 2),
        C.DETECTION: table[C.STATUS], C.CALL_TYPE: table.get(C.CALL_TYPE, M.CALL_TYPE_VARIANT),
        C.ALTERATION: table.get(C.ALTERATION, ""),
        C.SOURCE_GENE: table.get(C.GENE, ""), C.SOURCE_TRANSCRIPT: table.get(C.TRANSCRIPT, ""),
        C.SOURCE_HGVSP_SHORT: table.get(C.HGVSP_SHORT, ""),
        ALT_FORWARD: pd.to_numeric(table[ALT_FORWARD], errors="coerce"),
        ALT_REVERSE: pd.to_numeric(table[ALT_REVERSE], errors="coerce"),
        P_VALUE: pd.to_numeric(table[P_VALUE], errors="coerce"), LOD: pd.to_numeric(table[LOD], errors="coerce"),
        HOTSPOT: table.get(HOTSPOT, ""),
    })
    return ReadResult(format="genotype", calls=calls, samples=sorted(calls[C.SAMPLE].unique()),
                      n_records=len(calls), checksum=file_sha256(path))
