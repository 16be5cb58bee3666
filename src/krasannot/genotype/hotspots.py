"""The hotspot list placed on the genome, and the fetch windows that read each region once."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ReferenceDataError
from ..io.genotype_calls import HOTSPOT
from ..reference.builds import canonical_contig
from ..reference.bundle import Panel, translate

WINDOW_GAP = 300        # hotspots closer than this share one fetch
CODON_KIND, REGION_KIND = "codon", "indel_region"


def hotspots_path() -> Path:
    return Path(str(resources.files("krasannot.resources").joinpath("hotspots", "hotspots.tsv")))


def load_hotspots(panel: Panel, path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Place the hotspot list (protein terms) on the genome of `panel`'s build.

    Genes of the bundle are placed through their transcript; others (AKT1) need the build's
    coordinates, strand and reference codon in the list. Returns one row per hotspot with
    contig, start, end (forward, 1-based), strand, transcript, ref_codon (transcript
    orientation; codons only) and in_panel.
    """
    path = str(path or hotspots_path())
    try:
        table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError) as exc:
        raise ReferenceDataError(f"cannot read the hotspot list ({exc})", path=path) from None
    prefix = panel.build.lower()
    rows = []
    for line, row in enumerate(table.to_dict("records"), start=2):
        first, last = int(row["residue_first"]), int(row["residue_last"])
        tx = panel.by_gene.get(row["gene"])
        placed = {"gene": row["gene"], HOTSPOT: f"{row['gene']} {row['hotspot']}", "kind": row["kind"],
                  "residue": row["hotspot"] if row["kind"] == CODON_KIND else f"{first}-{last}",
                  "residue_first": first, "residue_last": last, "ref_aa": row["ref_aa"],
                  "in_panel": tx is not None}
        if tx is not None:
            _check_against_bundle(tx, row, first, last, path, line)
            cds_first = tx.cds_tx_first + 3 * (first - 1)
            genomic = tx.tx_to_genomic(np.arange(cds_first, cds_first + 3 * (last - first + 1)))
            placed.update(contig=tx.chrom, start=int(genomic.min()), end=int(genomic.max()), strand=tx.strand,
                          transcript=tx.transcript,
                          ref_codon=tx.cds[3 * (first - 1):3 * first] if row["kind"] == CODON_KIND else "")
            if row["kind"] == CODON_KIND and int(genomic.max() - genomic.min()) != 2:
                raise ReferenceDataError(f"{placed[HOTSPOT]}: the codon is split by an intron", path=path, line=line)
        else:
            if not row.get(f"{prefix}_start"):
                raise ReferenceDataError(f"{placed[HOTSPOT]}: not in the {panel.build} bundle and no {prefix} "
                                         "coordinates in the hotspot list", path=path, line=line)
            placed.update(contig=canonical_contig(row[f"{prefix}_chrom"]), start=int(row[f"{prefix}_start"]),
                          end=int(row[f"{prefix}_end"]), strand=row["strand"], transcript=row["transcript"],
                          ref_codon=row["ref_codon"])
            if row["kind"] != CODON_KIND or placed["end"] - placed["start"] != 2 \
                    or translate(row["ref_codon"]) != row["ref_aa"]:
                raise ReferenceDataError(f"{placed[HOTSPOT]}: a hotspot outside the bundle must be one codon "
                                         f"whose ref_codon encodes ref_aa", path=path, line=line)
        rows.append(placed)
    return pd.DataFrame(rows)


def _check_against_bundle(tx, row: dict, first: int, last: int, path: str, line: int) -> None:
    """A typo in the list must fail loudly: the residue's amino acid, or the region's exon, must fit."""
    name = f"{row['gene']} {row['hotspot']}"
    if row["kind"] == CODON_KIND:
        if first != last or tx.protein[first - 1:first] != row["ref_aa"]:
            raise ReferenceDataError(f"{name}: {tx.transcript} has {tx.protein[first - 1:first]!r} at residue "
                                     f"{first}, the list says {row['ref_aa']!r}", path=path, line=line)
    elif row["kind"] == REGION_KIND:
        exon = int(row["exon"])
        lo, hi = sorted(tx.exons[exon - 1])
        tx_pos = tx.genomic_to_tx(np.array([lo, hi]))
        cds = np.sort(tx_pos - tx.cds_tx_first + 1)
        residues = ((cds[0] + 2) // 3, cds[1] // 3)  # codons wholly inside the exon
        if not residues[0] <= first <= last <= residues[1]:
            raise ReferenceDataError(f"{name}: exon {exon} of {tx.transcript} encodes residues "
                                     f"{residues[0]}-{residues[1]}, the list says {first}-{last}",
                                     path=path, line=line)
    else:
        raise ReferenceDataError(f"{name}: unknown kind {row['kind']!r}", path=path, line=line,
                                 hint=f"use {CODON_KIND} or {REGION_KIND}")


def fetch_windows(hotspots: pd.DataFrame, gap: int = WINDOW_GAP) -> pd.DataFrame:
    """Merge hotspots closer than `gap` into fetch windows: each read is then fetched once."""
    frame = hotspots.sort_values(["contig", "start"]).reset_index()
    if frame.empty:
        return pd.DataFrame(columns=["contig", "start", "end", "members"])
    contig, start, end = frame["contig"].to_numpy(), frame["start"].to_numpy(), frame["end"].to_numpy()
    same_contig = np.r_[False, contig[1:] == contig[:-1]]
    # furthest end so far on the contig: a running maximum, each contig lifted above the ones before
    lift = np.cumsum(~same_contig).astype(np.int64) << 32
    reach = np.maximum.accumulate(lift + end) - lift
    new = ~same_contig | (start > np.r_[0, reach[:-1]] + gap)
    first = np.flatnonzero(new)
    window = np.cumsum(new) - 1
    members = frame["index"].to_numpy()
    return pd.DataFrame({"contig": frame["contig"].iloc[first].to_numpy(),
                         "start": np.minimum.reduceat(start, first), "end": np.maximum.reduceat(end, first),
                         "members": [members[window == w].tolist() for w in range(len(first))]})
