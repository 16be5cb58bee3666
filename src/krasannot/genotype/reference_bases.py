"""Forward-strand reference bases: from a FASTA where given (checked against the bundle), else the bundle's."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import BuildMismatchError, ReferenceDataError
from ..reference.builds import canonical_contig
from ..reference.bundle import Panel
from .reads import BASE_CODE


@dataclass
class ReferenceBases:
    """Forward-strand reference bases: from a FASTA where given, else the panel's known bases."""

    panel: Panel
    fasta: object = None
    fasta_names: dict = field(default_factory=dict)

    def bases(self, contig: str, start: int, end: int) -> str:
        if end < start:
            return ""
        if self.fasta is not None and contig in self.fasta_names:
            name = self.fasta_names[contig]
            length = self.fasta.get_reference_length(name)
            got = self.fasta.fetch(name, max(start - 1, 0), min(end, length)).upper()
            return "N" * max(0, 1 - start) + got + "N" * max(0, end - max(length, start - 1))
        return self.panel.genome_bases(contig, start, end)

    def codes(self, contig: str, start: int, end: int) -> np.ndarray:
        """Base codes (A C G T = 0..3, unknown 4) of start..end, without building a string per base."""
        if self.fasta is not None and contig in self.fasta_names:
            return BASE_CODE[np.frombuffer(self.bases(contig, start, end).encode("ascii"), dtype=np.uint8)]
        out = np.full(end - start + 1, 4, dtype=np.uint8)
        for tx in self.panel.by_contig.get(contig, []):
            lo, hi = max(start, tx.span_start), min(end, tx.span_start + len(tx.genome) - 1)
            if lo <= hi:
                known = BASE_CODE[np.frombuffer(tx.genome[lo - tx.span_start:hi - tx.span_start + 1]
                                                 .encode("ascii"), dtype=np.uint8)]
                target = out[lo - start:hi - start + 1]
                np.copyto(target, known, where=known < 4)
        return out


def reference_bases_for(panel: Panel, reference: str | None, hotspots: pd.DataFrame) -> ReferenceBases:
    """The reference bases to read; a FASTA must agree with the bundle at the hotspots it holds."""
    if not reference:
        return ReferenceBases(panel)
    import pysam

    try:
        fasta = pysam.FastaFile(reference)
    except (OSError, ValueError) as exc:
        raise ReferenceDataError(f"cannot open reference FASTA ({exc})", path=reference,
                                 hint="give a FASTA with a .fai index, or one pysam can index") from None
    bases = ReferenceBases(panel, fasta, {canonical_contig(n): n for n in fasta.references})
    for spot in hotspots[hotspots["in_panel"]].itertuples(index=False):
        name = bases.fasta_names.get(spot.contig)
        if name is None or fasta.get_reference_length(name) < spot.end:
            continue
        theirs, mine = bases.bases(spot.contig, spot.start, spot.end), panel.genome_bases(spot.contig, spot.start,
                                                                                          spot.end)
        if all(a != "N" and b != "N" for a, b in zip(theirs, mine)) and theirs != mine:
            raise BuildMismatchError(f"the FASTA reads {theirs} at {name}:{spot.start}-{spot.end} ({spot.hotspot}) "
                                     f"where {panel.build} has {mine}", path=reference,
                                     hint=f"is this a {panel.build} FASTA?")
    return bases
