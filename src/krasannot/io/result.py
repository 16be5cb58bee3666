"""What every reader returns: the calls table, plus what the run needs to account for its input."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

SKIPPED_COLUMNS = ["input_file", "input_line", "reason", "record"]


def empty_skipped() -> pd.DataFrame:
    return pd.DataFrame(columns=SKIPPED_COLUMNS)


@dataclass
class ReadResult:
    """One input file read into the calls table.

    Every input record ends up in `calls` (with a status where it cannot be annotated) or in
    `skipped` (input_file, input_line, reason, record: the raw line, cut to 200 characters),
    or is counted in `n_outside` (VCF records outside the panel, listed from a spool).
    """

    format: str                       # vcf, maf, ctdna, genotype, cna, seg, fusion, ...
    calls: pd.DataFrame               # columns.CALLS_COLUMNS (+ optional call columns)
    samples: list[str]
    n_records: int                    # data records read (lines, or VCF records)
    checksum: str                     # sha256 of the file (or an index fingerprint)
    skipped: pd.DataFrame = field(default_factory=empty_skipped)
    declared_build: str | None = None  # a build the file itself states (MAF NCBI_Build)
    contig_lengths: dict = field(default_factory=dict)
    n_outside: int = 0
    indexed: bool = False
    notes: list[str] = field(default_factory=list)
