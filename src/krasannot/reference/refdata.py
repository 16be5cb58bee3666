"""Convert ../shared/refdata/panel_transcripts.json into the project's bundle files.

    krasannot reference from-refdata PANEL_TRANSCRIPTS.json OUTDIR

writes OUTDIR/GRCh37.bundle.json and OUTDIR/GRCh38.bundle.json. Each transcript keeps its
exons, CDS span and protein, and its CDS bases as the genome reads them (`cds_genome`),
stored as forward-strand `sequence` blocks. The conversion fails if those bases do not
translate to the recorded protein (bar the positions the source lists as
genome/transcript differences).
"""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

import numpy as np

from ..errors import ReferenceDataError
from .builds import BUILDS
from .bundle import Transcript, reverse_complement, translate, write_bundle


def _identifiers(text: str) -> tuple[str, list[str]]:
    """Primary RefSeq accession and the identifiers of the same CDS named in a refdata label.

    Labels also name sibling isoforms ("LRG_11t2 = NM_058195.3 (p14ARF) not extracted"):
    only other versions of the primary accession, the first LRG transcript and Ensembl
    ids count as aliases, so another isoform's id never matches this transcript.
    """
    refseq = re.findall(r"\bNM_\d+\.\d+", text)
    if not refseq:
        raise ReferenceDataError(f"no RefSeq NM_ accession in transcript label {text[:60]!r}")
    primary = refseq[0]
    base = primary.split(".")[0]
    versions = [r for r in refseq[1:] if r.split(".")[0] == base and r != primary]
    lrg = re.findall(r"\bLRG_\d+t\d+", text)[:1]
    ensembl = re.findall(r"\bENST\d+(?:\.\d+)?", text)
    return primary, list(dict.fromkeys(versions + lrg + ensembl))


def cds_blocks(exons: list, strand: str, cds_start: int, cds_end: int, cds_genome: str) -> list:
    """Forward-strand [start, bases] blocks of the CDS, from the CDS in transcript orientation."""
    model = Transcript(gene="", transcript="", chrom="", strand=strand, exons=exons,
                       cds_start=cds_start, cds_end=cds_end, protein="")
    if model.cds_length != len(cds_genome):
        raise ReferenceDataError(f"exon-derived CDS length {model.cds_length} != cds_genome length "
                                 f"{len(cds_genome)}")
    genomic = model.tx_to_genomic(np.arange(model.cds_tx_first, model.cds_tx_last + 1))
    forward = cds_genome if strand == "+" else reverse_complement(cds_genome)
    positions = genomic if strand == "+" else genomic[::-1]
    # split where consecutive CDS bases are not adjacent in the genome (introns)
    breaks = np.flatnonzero(np.diff(positions) != 1) + 1
    blocks = []
    for lo, hi in zip(np.concatenate([[0], breaks]), np.concatenate([breaks, [len(positions)]])):
        blocks.append([int(positions[lo]), forward[lo:hi]])
    return blocks


def records_from_refdata(data: dict, build: str) -> list[dict]:
    records = []
    for gene, entry in sorted(data["genes"].items()):
        b = entry["builds"][build]
        transcript, aliases = _identifiers(entry["transcript"])
        cds_genome = b["cds_genome"].upper()
        protein = entry["protein"]
        translated = translate(cds_genome)
        differing = {d["c"] for d in b.get("cds_genome_vs_transcript", [])}
        allowed_codons = {(c - 1) // 3 for c in differing}
        bad = [i for i, (a, p) in enumerate(zip(translated, protein + "*")) if a != p and i not in allowed_codons]
        if bad or len(translated) != len(protein) + 1:
            raise ReferenceDataError(f"{gene} {build}: cds_genome does not translate to the protein "
                                     f"(codons {bad[:5]})")
        records.append({
            "gene": gene, "transcript": transcript, "aliases": aliases, "chrom": b["chrom"],
            "strand": b["strand"], "exons": b["exons"], "cds_start": b["cds_start"], "cds_end": b["cds_end"],
            "sequence": cds_blocks(b["exons"], b["strand"], b["cds_start"], b["cds_end"], cds_genome),
            "protein": protein,
        })
    return records


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    source, outdir = Path(argv[0]), Path(argv[1])
    import json

    raw = source.read_bytes()
    data = json.loads(raw)
    digest = hashlib.sha256(raw).hexdigest()
    for build in BUILDS:
        records = records_from_refdata(data, build)
        write_bundle(outdir / f"{build}.bundle.json", build,
                     f"shared/refdata/panel_transcripts.json sha256:{digest}", records)
        print(f"{outdir / f'{build}.bundle.json'}: {len(records)} transcripts")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
