"""Genomic bases beyond the bundle's CDS: the shipped gene regions, or the user's genome FASTA.

A sequence source answers one question: the forward-strand bases of contig:start-end, N
where it does not know them. A Panel fills a transcript from its sources only when a call
touches it (`Panel.filled_for`), so loading costs nothing for genes no call reaches.

Two sources plug into the same place:

* `GeneRegionSequence`: `resources/regions/gene_regions.<build>.fa.gz` (bgzipped, indexed),
  intron + UTR sequence of the genes listed in `resources/regions/regions.tsv`;
* `GenomeFastaSequence`: any genome FASTA pysam can read (chr12 or 12 naming).
"""

from __future__ import annotations

import csv
import gzip
import zlib
from abc import ABC, abstractmethod
from importlib import resources
from pathlib import Path

from ..errors import ReferenceDataError
from .builds import canonical_contig


def _open_fasta(path: str):
    import pysam

    try:
        return pysam.FastaFile(path)
    except (OSError, ValueError) as exc:
        raise ReferenceDataError(f"cannot open reference FASTA ({exc})", path=path,
                                 hint="give a FASTA with a .fai index, or one pysam can index") from None


class _SmallFasta:
    """A small indexed FASTA (plain or gzipped, with its .fai) held in memory: the shipped gene regions are
    0.76 MB, inflated in 4 ms, where loading htslib to read them costs more than that."""

    def __init__(self, path: str) -> None:
        try:
            with open(path + ".fai", encoding="ascii") as handle:
                rows = [line.rstrip("\n").split("\t") for line in handle if line.strip()]
            self.index = {name: (int(length), int(offset), int(bases), int(width))
                          for name, length, offset, bases, width, *_ in rows}
            with open(path, "rb") as handle:
                raw = handle.read()
            self.data = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
        except (OSError, EOFError, ValueError, UnicodeDecodeError, zlib.error) as exc:
            raise ReferenceDataError(f"cannot read the gene-region FASTA or its .fai ({exc})", path=path,
                                     hint="reinstall krasannot, or rebuild the folder's FASTA and index") from None

    def fetch(self, name: str, start: int, end: int) -> str:
        """Bases start..end-1 (0-based, end exclusive) of record `name`, as pysam's FastaFile.fetch."""
        length, offset, bases, width = self.index[name]
        start, end = max(start, 0), min(end, length)
        if end <= start:
            return ""
        first = offset + start // bases * width + start % bases
        last = offset + (end - 1) // bases * width + (end - 1) % bases
        return self.data[first:last + 1].replace(b"\n", b"").replace(b"\r", b"").decode("ascii")


class SequenceSource(ABC):
    """Forward-strand genome bases, N where unknown: the shipped gene regions or a genome FASTA."""

    name = ""
    is_genome = False   # a whole-genome FASTA: a disagreement with the panel means another build

    @abstractmethod
    def covers(self, contig: str, start: int = 1, end: int = 2**62) -> bool:
        """Does the source hold any base of contig:start-end?"""

    @abstractmethod
    def fetch(self, contig: str, start: int, end: int) -> str:
        """Bases contig:start-end (1-based, inclusive), N outside what the source holds."""


class GeneRegionSequence(SequenceSource):
    """The gene regions shipped with krasannot (or a folder of the same layout) for one build."""

    def __init__(self, build: str, directory: str | Path | None = None) -> None:
        folder = Path(directory) if directory else Path(str(resources.files("krasannot.resources") / "regions"))
        self.build = build
        self.path = str(folder / f"gene_regions.{build}.fa.gz")
        self.name = f"gene regions ({Path(self.path).name})"
        self._fasta = None
        self.regions: dict[str, list[tuple[str, int, int]]] = {}  # contig -> (record, start, end)
        index = folder / "regions.tsv"
        if not index.is_file():
            return
        with open(index, encoding="utf-8") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                if row["build"] == build:
                    self.regions.setdefault(canonical_contig(row["chrom"]), []).append(
                        (row["gene"], int(row["start"]), int(row["end"])))

    @property
    def genes(self) -> list[str]:
        return sorted(name for spans in self.regions.values() for name, _, _ in spans)

    def covers(self, contig: str, start: int = 1, end: int = 2**62) -> bool:
        return any(lo <= end and start <= hi for _, lo, hi in self.regions.get(contig, []))

    def fetch(self, contig: str, start: int, end: int) -> str:
        out = bytearray(b"N" * max(0, end - start + 1))
        for record, lo, hi in self.regions.get(contig, []):
            a, b = max(start, lo), min(end, hi)
            if a > b:
                continue
            if self._fasta is None:  # opened on first use: a run that needs no region never reads the file
                self._fasta = _SmallFasta(self.path)
            out[a - start:b - start + 1] = self._fasta.fetch(record, a - lo, b - lo + 1).upper().encode("ascii")
        return out.decode("ascii")


class GenomeFastaSequence(SequenceSource):
    """A genome FASTA of the panel's build (contigs named 12 or chr12)."""

    is_genome = True

    def __init__(self, path: str) -> None:
        self.path = self.name = str(path)
        self._fasta = _open_fasta(self.path)
        self.contigs = {canonical_contig(name): name for name in self._fasta.references}
        self.lengths = {canonical_contig(n): length for n, length in zip(self._fasta.references, self._fasta.lengths)}

    def covers(self, contig: str, start: int = 1, end: int = 2**62) -> bool:
        return contig in self.contigs

    def fetch(self, contig: str, start: int, end: int) -> str:
        name = self.contigs.get(contig)
        if name is None or end < start:
            return "N" * max(0, end - start + 1)
        length = self.lengths[contig]
        a, b = max(start, 1), min(end, length)
        inside = self._fasta.fetch(name, a - 1, b).upper() if a <= b else ""
        return "N" * (a - start) + inside + "N" * max(0, end - max(b, a - 1))
