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
    or is counted in `n_outside` (VCF records outside the panel, listed from a spool) or in
    `n_other_samples` (rows of a cohort file that belong to samples not read).
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
    n_other_samples: int = 0          # records of samples not read (a cohort file read for one sample)
    indexed: bool = False
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # notes a person should see on stderr as well


def read_notes(path: str, n_records: int, skipped: pd.DataFrame, n_not_utf8: int = 0) -> tuple[list[str], list[str]]:
    """(notes, warnings) about what a reader skipped: one line per kind of reason (the reason with its
    numbers and quoted values left out), and a warning where one kind takes most records of a file
    (a shifted header, a wrong file), which a person should hear about on stderr too."""
    notes, warnings = [], []
    if len(skipped):
        kinds = skipped["reason"].astype(str).str.replace(r"'[^']*'|\d[\d,.]*", "#", regex=True)
        for kind, count in kinds.value_counts().items():
            first = skipped[(kinds == kind).to_numpy()].iloc[0]
            where = f" at line {int(first['input_line'])}" if pd.notna(first["input_line"]) else ""
            text = f"{count:,} of {n_records:,} records skipped, e.g. {first['reason']}{where}"
            notes.append(text)
            if n_records >= 3 and count > n_records / 2:
                warnings.append(f"most records of the file fail the same way: {text}")
    if n_not_utf8:
        notes.append(f"{n_not_utf8:,} records carry bytes that are not UTF-8 in INFO/FORMAT; they are read as U+FFFD")
    return notes, warnings
