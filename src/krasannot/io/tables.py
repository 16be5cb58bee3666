"""Writing the annotated table and the other TSVs (atomically, through krasannot.files), and reading the
annotated table back."""

from __future__ import annotations

import os
from typing import Iterator

import pandas as pd

from .. import columns as C
from .. import models as M
from ..errors import UsageError
from ..files import atomic_output, line_aligned


def _spooled(spool, size: int = 8 << 20) -> Iterator[bytes]:
    spool.seek(0)
    while chunk := spool.read(size):
        yield chunk


def write_annotated_tsv(annotated: pd.DataFrame, path: str | os.PathLike, raw_outside: list | None = None) -> None:
    """Write the annotated table, then raw outside-panel records (CHROM..ALT lines) in the same layout.

    `raw_outside` lists (spool, sample, source) per VCF: a spooled file of "CHROM\tPOS\tID\tREF\tALT"
    lines. Raw rows carry only sample, CHROM..ALT, status and source: a whole genome has millions
    of them, and the input's path is in the summary once rather than on every line.
    """
    frame = annotated.reindex(columns=C.ANNOTATED_TSV_COLUMNS)
    with atomic_output(path, "wb") as handle:
        handle.write(frame.to_csv(sep="\t", index=False, na_rep="", lineterminator="\n").encode("utf-8"))
        after_alt = C.ANNOTATED_TSV_COLUMNS[C.ANNOTATED_TSV_COLUMNS.index(C.ALT) + 1:]
        for spool, raw_sample, raw_source in raw_outside or []:
            cells = [""] * len(after_alt)
            cells[after_alt.index(C.STATUS)] = M.STATUS_OUTSIDE_PANEL
            cells[after_alt.index(C.SOURCE)] = raw_source
            suffix = ("\t" + "\t".join(cells) + "\n").encode("utf-8")
            prefix = (_quoted(raw_sample) + "\t").encode("utf-8")
            for chunk in line_aligned(_spooled(spool)):
                body = chunk[:-1] if chunk.endswith(b"\n") else chunk
                handle.write(prefix)
                handle.write(body.replace(b"\n", suffix + prefix))
                handle.write(suffix)


def _quoted(field: str) -> str:
    """A field quoted the way pandas quotes the table's other rows, so the file reads back as one table."""
    return f'"{field.replace(chr(34), 2 * chr(34))}"' if any(c in field for c in '"\t\n\r') else field


def write_tsv(table: pd.DataFrame, path: str | os.PathLike) -> None:
    """A table as TSV, header and all, even when it has no rows (skipped rows: nothing was skipped)."""
    with atomic_output(path) as handle:
        table.to_csv(handle, sep="\t", index=False, lineterminator="\n")


def read_annotated_tsv(path: str | os.PathLike) -> pd.DataFrame:
    """An annotated TSV back into a table: every cell text ('' where empty), every annotated column present.

    pyarrow's CSV reader parses a cohort's table several times faster than pandas' own and gives the same
    table; a file it refuses (a row with fewer cells than the header) is read by pandas as before.
    """
    def read(engine: str) -> pd.DataFrame:
        return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, encoding="utf-8", engine=engine)

    try:
        try:
            table = read("pyarrow")
        except pd.errors.ParserError:
            table = read("c")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise UsageError(f"{path}: cannot read the annotated table: {exc}",
                         hint="give the TSV that 'krasannot annotate' wrote") from None
    missing = [c for c in (C.SAMPLE, C.GENE, C.STATUS, C.HGVSP_SHORT, C.CONSEQUENCE) if c not in table]
    if missing:
        raise UsageError(f"{path}: not an annotated table (no {', '.join(missing)} column)",
                         hint="give the TSV that 'krasannot annotate' wrote")
    return table.reindex(columns=list(dict.fromkeys(list(table) + C.ANNOTATED_TSV_COLUMNS)), fill_value="")
