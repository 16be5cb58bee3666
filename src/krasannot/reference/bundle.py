"""Transcript bundles: the panel's transcript models and the genomic bases we know.

A bundle is one JSON file per genome build (format below). It is small (about 100 kB
for the 26-gene panel), versioned, and loads in milliseconds:

    {"format": "krasannot-transcript-bundle", "format_version": 1, "build": "GRCh38",
     "source": "...", "transcripts": [
        {"gene": "KRAS", "transcript": "NM_004985.5", "aliases": ["ENST00000311936", "LRG_344t1"],
         "chrom": "12", "strand": "-",
         "exons": [[25250751, 25250929], ...],      # 1-based inclusive, transcript order
         "cds_start": 25209795, "cds_end": 25245384, # genomic CDS span, stop codon included
         "sequence": [[25209795, "TTACATAA..."], ...], # forward-strand bases, 1-based block starts
         "protein": "MTEYKLVVVGAG..."}]}

`sequence` holds only what the source knows: the CDS exons for the shipped panel, exons
plus flanks for a bundle built from GTF+FASTA. Unknown bases read as N, and nothing is
checked or shifted across an N.

Intron and UTR bases come from sequence sources (`regions.py`): the shipped gene regions
for the bundled panel, a genome FASTA with `with_reference_sequence`. A transcript is filled
from them only when a call comes near it (`Panel.filled_for`).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from ..errors import ReferenceDataError
from ..models import CODON_TABLE
from .builds import BUILDS, canonical_contig
from .regions import GeneRegionSequence, GenomeFastaSequence, SequenceSource

BUNDLE_FORMAT = "krasannot-transcript-bundle"
BUNDLE_FORMAT_VERSION = 1
SEQUENCE_FLANK = 1000  # bases either side of a transcript filled from a sequence source
_COMPLEMENT = str.maketrans("ACGTNacgtn", "TGCANtgcan")


def reverse_complement(seq: str) -> str:
    return seq.translate(_COMPLEMENT)[::-1]


def translate(cds: str) -> str:
    """Translate codon by codon; a codon with N (or any non-ACGT) is X."""
    return "".join(CODON_TABLE.get(cds[i:i + 3], "X") for i in range(0, len(cds) - len(cds) % 3, 3))


def translate_to_stop(seq: str, chunk: int = 120) -> str:
    """Translate up to and including the first stop codon (or to the end if there is none)."""
    out = []
    for start in range(0, len(seq) - len(seq) % 3, chunk * 3):
        peptide = translate(seq[start:start + chunk * 3])
        stop = peptide.find("*")
        if stop >= 0:
            out.append(peptide[:stop + 1])
            break
        out.append(peptide)
    return "".join(out)


@dataclass
class Transcript:
    """One transcript model with derived coordinate tables (all genomic, 1-based)."""

    gene: str
    transcript: str
    chrom: str
    strand: str
    exons: np.ndarray            # (n, 2) in transcript order
    cds_start: int
    cds_end: int
    protein: str
    aliases: list[str] = field(default_factory=list)
    span_start: int = 0          # first base of `genome`
    genome: str = ""             # forward-strand bases over the span, N where unknown

    def __post_init__(self) -> None:
        self.exons = np.asarray(self.exons, dtype=np.int64).reshape(-1, 2)
        lengths = self.exons[:, 1] - self.exons[:, 0] + 1
        # transcript coordinate (1-based) of each exon's first base in transcript order
        self.exon_tx_first = np.concatenate([[1], 1 + np.cumsum(lengths)[:-1]])
        self.tx_length = int(lengths.sum())
        order = np.argsort(self.exons[:, 0])
        self.exons_genomic = self.exons[order]          # ascending genomic order
        self.exon_number_genomic = order + 1            # exon number of each, in that order
        self.exon_tx_first_genomic = self.exon_tx_first[order]
        self.start = int(self.exons[:, 0].min())
        self.end = int(self.exons[:, 1].max())
        self.cds_tx_first = int(self.genomic_to_tx(np.array([self.cds_start if self.strand == "+"
                                                                 else self.cds_end]))[0])
        self.cds_tx_last = int(self.genomic_to_tx(np.array([self.cds_end if self.strand == "+"
                                                                else self.cds_start]))[0])
        self.cds_length = self.cds_tx_last - self.cds_tx_first + 1
        self.cds = self.tx_sequence(self.cds_tx_first, self.cds_tx_last)
        # bases after the stop codon, for frameshifts and stop-loss extensions
        self.utr3 = self.tx_sequence(self.cds_tx_last + 1, self.tx_length).split("N")[0]
        self._cds_protein: str | None = None

    @property
    def cds_protein(self) -> str:
        """Translation of the CDS as the genome reads it, stop included (computed once)."""
        if self._cds_protein is None:
            self._cds_protein = translate(self.cds)
        return self._cds_protein

    @property
    def n_exons(self) -> int:
        return len(self.exons)

    def genomic_to_tx(self, positions: np.ndarray) -> np.ndarray:
        """Transcript coordinate of exonic genomic positions; 0 where not exonic."""
        positions = np.asarray(positions, dtype=np.int64)
        idx = np.searchsorted(self.exons_genomic[:, 0], positions, side="right") - 1
        idx_c = np.clip(idx, 0, len(self.exons_genomic) - 1)
        starts = self.exons_genomic[idx_c, 0]
        ends = self.exons_genomic[idx_c, 1]
        exonic = (idx >= 0) & (positions <= ends)
        if self.strand == "+":
            tx = self.exon_tx_first_genomic[idx_c] + (positions - starts)
        else:
            tx = self.exon_tx_first_genomic[idx_c] + (ends - positions)
        return np.where(exonic, tx, 0)

    def tx_to_genomic(self, tx_positions: np.ndarray) -> np.ndarray:
        """Genomic position of transcript coordinates (1..tx_length)."""
        tx_positions = np.asarray(tx_positions, dtype=np.int64)
        idx = np.searchsorted(self.exon_tx_first, tx_positions, side="right") - 1
        offset = tx_positions - self.exon_tx_first[idx]
        if self.strand == "+":
            return self.exons[idx, 0] + offset
        return self.exons[idx, 1] - offset

    def genome_bases(self, start: int, end: int) -> str:
        """Forward-strand bases start..end (1-based inclusive); N outside what we know."""
        if end < start:
            return ""
        lo, hi = start - self.span_start, end - self.span_start + 1
        inside = self.genome[max(lo, 0):max(min(hi, len(self.genome)), 0)]
        return "N" * max(0, min(-lo, end - start + 1)) + inside + "N" * max(0, hi - max(len(self.genome), lo))

    def tx_sequence(self, first: int, last: int) -> str:
        """Transcript-orientation bases of transcript coordinates first..last."""
        if last < first:
            return ""
        index = self.tx_to_genomic(np.arange(first, last + 1)) - self.span_start
        genome = np.frombuffer(self.genome.encode("ascii"), dtype=np.uint8)
        inside = (index >= 0) & (index < len(genome))
        out = np.full(len(index), ord("N"), dtype=np.uint8)
        out[inside] = genome[index[inside]]
        bases = out.tobytes().decode("ascii")
        return bases if self.strand == "+" else bases.translate(_COMPLEMENT)


@dataclass
class Panel:
    """All transcripts of one build, with per-contig lookup.

    `sequence` lists where intron and UTR bases come from, first source first; `filled_for`
    fills the transcripts a set of calls touches, once per panel (the cache is shared by
    the panels it returns).
    """

    build: str
    transcripts: list[Transcript]
    source: str = ""
    path: str = ""
    sequence: tuple[SequenceSource, ...] = ()
    _filled: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.by_contig: dict[str, list[Transcript]] = {}
        for tx in self.transcripts:
            self.by_contig.setdefault(tx.chrom, []).append(tx)
        self.by_gene = {tx.gene: tx for tx in self.transcripts}

    def regions(self) -> list[tuple[str, int, int]]:
        """(contig, start, end) of every transcript, sorted."""
        return sorted((tx.chrom, tx.start, tx.end) for tx in self.transcripts)

    def genome_bases(self, contig: str, start: int, end: int) -> str:
        """Known forward-strand bases from any transcript covering the range; N elsewhere."""
        best = "N" * max(0, end - start + 1)
        for tx in self.by_contig.get(contig, []):
            if tx.span_start <= end and start <= tx.span_start + len(tx.genome) - 1:
                bases = tx.genome_bases(start, end)
                best = "".join(b if b != "N" else a for a, b in zip(best, bases))
        return best

    def filled_for(self, contigs: np.ndarray, positions: np.ndarray) -> "Panel":
        """This panel with every transcript within SEQUENCE_FLANK of a call filled from `sequence`."""
        if not self.sequence or len(positions) == 0:
            return self
        contigs, positions = np.asarray(contigs), np.asarray(positions, dtype=np.int64)
        for tx in self.transcripts:
            if tx.transcript in self._filled or not any(s.covers(tx.chrom, tx.start, tx.end) for s in self.sequence):
                continue
            near = ((contigs == tx.chrom) & (positions >= tx.start - SEQUENCE_FLANK)
                    & (positions <= tx.end + SEQUENCE_FLANK))
            if near.any():
                self._filled[tx.transcript] = fill_transcript(tx, self.sequence, self.build)
        if not self._filled:
            return self
        return Panel(build=self.build, source=self.source, path=self.path, sequence=self.sequence,
                     transcripts=[self._filled.get(tx.transcript, tx) for tx in self.transcripts],
                     _filled=self._filled)


def fill_transcript(tx: Transcript, sources: tuple[SequenceSource, ...], build: str) -> Transcript:
    """The transcript with its span (plus flanks) read from the sources where the bundle has N.

    A source that disagrees with a known base is of another build (or broken): refused.
    """
    lo = max(1, min(tx.start - SEQUENCE_FLANK, tx.span_start))
    hi = max(tx.end + SEQUENCE_FLANK, tx.span_start + len(tx.genome) - 1)
    known = np.frombuffer(tx.genome_bases(lo, hi).encode("ascii"), dtype=np.uint8).copy()
    unknown = ord("N")
    for source in sources:
        if not source.covers(tx.chrom, lo, hi):
            continue
        if source.is_genome and source.lengths[tx.chrom] < tx.end:
            raise ReferenceDataError(f"contig {source.contigs[tx.chrom]} is {source.lengths[tx.chrom]} bp long, "
                                     f"but {tx.gene} ends at {tx.end} in {build}", path=source.path,
                                     hint=f"is this a {build} FASTA?")
        got = np.frombuffer(source.fetch(tx.chrom, lo, hi).encode("ascii"), dtype=np.uint8)
        clash = np.flatnonzero((known != unknown) & (got != unknown) & (known != got))
        if len(clash):
            at = int(clash[0])
            raise ReferenceDataError(f"{source.name} reads {chr(got[at])} at {tx.chrom}:{lo + at} where the "
                                     f"{build} panel ({tx.gene}) has {chr(known[at])}", path=source.path,
                                     hint=f"is this a {build} FASTA?")
        known = np.where(known == unknown, got, known)
    return Transcript(gene=tx.gene, transcript=tx.transcript, chrom=tx.chrom, strand=tx.strand, exons=tx.exons,
                      cds_start=tx.cds_start, cds_end=tx.cds_end, protein=tx.protein, aliases=tx.aliases,
                      span_start=lo, genome=known.tobytes().decode("ascii"))


def _genome_from_blocks(blocks: list, span_start: int, span_end: int) -> str:
    buffer = bytearray(b"N" * (span_end - span_start + 1))
    for block_start, seq in blocks:
        lo = int(block_start) - span_start
        if lo < 0 or lo + len(seq) > len(buffer):
            raise ReferenceDataError(f"sequence block at {block_start} lies outside the transcript span")
        buffer[lo:lo + len(seq)] = seq.upper().encode("ascii")
    return buffer.decode("ascii")


def transcript_from_record(record: dict) -> Transcript:
    exons = np.asarray(record["exons"], dtype=np.int64)
    blocks = record.get("sequence", [])
    span_start = int(min([exons.min()] + [int(s) for s, _ in blocks]))
    span_end = int(max([exons.max()] + [int(s) + len(q) - 1 for s, q in blocks]))
    return Transcript(gene=record["gene"], transcript=record["transcript"],
                      chrom=canonical_contig(record["chrom"]), strand=record["strand"],
                      exons=exons, cds_start=int(record["cds_start"]), cds_end=int(record["cds_end"]),
                      protein=record.get("protein", ""), aliases=list(record.get("aliases", [])),
                      span_start=span_start, genome=_genome_from_blocks(blocks, span_start, span_end))


def validate_bundle(data: dict, path: str) -> None:
    if data.get("format") != BUNDLE_FORMAT:
        raise ReferenceDataError("not a krasannot transcript bundle", path=path)
    if data.get("format_version") != BUNDLE_FORMAT_VERSION:
        raise ReferenceDataError(f"bundle format_version {data.get('format_version')} is not supported",
                                 path=path, hint=f"this krasannot reads version {BUNDLE_FORMAT_VERSION}")
    required = ("gene", "transcript", "chrom", "strand", "exons", "cds_start", "cds_end")
    for i, record in enumerate(data.get("transcripts", [])):
        missing = [k for k in required if k not in record]
        if missing:
            raise ReferenceDataError(f"transcript #{i + 1} lacks {', '.join(missing)}", path=path)
        if record["strand"] not in "+-":
            raise ReferenceDataError(f"transcript {record['transcript']}: strand must be + or -", path=path)


def load_bundle(path: str | os.PathLike) -> Panel:
    """Read a bundle file written by write_bundle."""
    path = str(path)
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        raise ReferenceDataError("bundle file not found", path=path) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ReferenceDataError(f"bundle is not valid JSON ({exc})", path=path) from None
    validate_bundle(data, path)
    return Panel(build=data["build"], source=data.get("source", ""), path=path,
                 transcripts=[transcript_from_record(r) for r in data["transcripts"]])


def bundled_panel_path(build: str) -> Path:
    """Path of the panel bundle shipped with the package."""
    if build not in BUILDS:
        raise ReferenceDataError(f"no bundled panel for build {build!r}", hint="use GRCh37 or GRCh38")
    return Path(str(resources.files("krasannot.resources").joinpath("panel", f"{build}.bundle.json")))


def load_bundled_panel(build: str) -> Panel:
    """The shipped panel, with the shipped gene regions as its source of intron and UTR bases."""
    panel = load_bundle(bundled_panel_path(build))
    panel.sequence = (GeneRegionSequence(build),)
    panel.source += "; intron and UTR bases of " + ", ".join(panel.sequence[0].genes) + " from the shipped gene regions"
    return panel


class PanelsByBuild(Mapping):
    """Transcript panels by build, each read on first use: a run reads the panel of the build it uses,
    and the other build's only where a check consults it (the wrong-build check, a REF mismatch).

    With `custom` (a bundle from `krasannot reference build`), that panel is the only one.
    """

    def __init__(self, custom: Panel | None = None) -> None:
        self._builds = (custom.build,) if custom else BUILDS
        self._loaded = {custom.build: custom} if custom else {}

    def __getitem__(self, build: str) -> Panel:
        if build not in self._builds:
            raise KeyError(build)
        if build not in self._loaded:
            self._loaded[build] = load_bundled_panel(build)
        return self._loaded[build]

    def __iter__(self):
        return iter(self._builds)

    def __len__(self) -> int:
        return len(self._builds)

    def first(self) -> Panel:
        """The panel to use when no build could be told (the first build's)."""
        return self[self._builds[0]]

    def lazy_other(self, build: str) -> "Panel | None":
        """The panel of the build other than `build`, read when first used; None when there is none."""
        other = next((b for b in self._builds if b != build), None)
        return None if other is None else _PanelOnFirstUse(self, other)


class _PanelOnFirstUse:
    """Stands for a panel of `panels` and reads it when anything but its build is asked for."""

    def __init__(self, panels: PanelsByBuild, build: str) -> None:
        self.build = build
        self._panels = panels

    def __getattr__(self, name: str):
        return getattr(self._panels[self.build], name)


def write_bundle(path: str | os.PathLike, build: str, source: str, records: list[dict]) -> None:
    """Write records (dicts in the bundle's transcript format) atomically."""
    data = {"format": BUNDLE_FORMAT, "format_version": BUNDLE_FORMAT_VERSION, "build": build,
            "source": source, "transcripts": records}
    validate_bundle(data, str(path))
    for record in records:  # fail now, not when a user loads it
        transcript_from_record(record)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, separators=(",", ":"))
        handle.write("\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def with_reference_sequence(panel: Panel, fasta_path: str) -> Panel:
    """The panel reading its unknown bases from a genome FASTA first (then from its own sources).

    The FASTA is opened and its contig lengths checked now; each transcript's bases are read
    when a call first needs them, and refused there if they disagree with the panel's.
    """
    fasta = GenomeFastaSequence(fasta_path)
    absent = []
    for tx in panel.transcripts:
        if not fasta.covers(tx.chrom):  # a partial FASTA: what the bundle (and regions) know is kept
            absent.append(tx.gene)
        elif fasta.lengths[tx.chrom] < tx.end:
            raise ReferenceDataError(f"contig {fasta.contigs[tx.chrom]} is {fasta.lengths[tx.chrom]} bp long, "
                                     f"but {tx.gene} ends at {tx.end} in {panel.build}", path=fasta_path,
                                     hint=f"is this a {panel.build} FASTA?")
    source = panel.source + f"; sequence from {fasta_path}"
    if absent:
        source += " (not in it, bundle bases kept: " + ", ".join(absent) + ")"
    return Panel(build=panel.build, transcripts=list(panel.transcripts), source=source, path=panel.path,
                 sequence=(fasta,) + tuple(panel.sequence))
