"""Count protein changes whose new stop is unknown (fs*? / ext*?) over the VEP agreement sources.

Run from the checkout:  python bench/unknown_new_stops.py
(the shared validation folder must be at ../shared or $KRASANNOT_SHARED). Prints one line per
source, and the TP53/BRCA2/CDKN2A frameshift rows with and without a new-stop length.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "integration"))

import vep_sources as vs  # noqa: E402
from krasannot.annotate.pipeline import annotate_calls  # noqa: E402
from krasannot.reference.bundle import load_bundled_panel  # noqa: E402

SOURCES = {
    "cancerhotspots_GRCh37": ("GRCh37", lambda: vs.load_cancerhotspots("GRCh37")),
    "cancerhotspots_GRCh38": ("GRCh38", lambda: vs.load_cancerhotspots("GRCh38")),
    "msk_lung_GRCh37": ("GRCh37", vs.load_msk_lung),
    "csf_ctdna_GRCh37": ("GRCh37", lambda: vs.load_maf("csf_ctdna/data_mutations.txt")),
    "pcgr_T001_GRCh37": ("GRCh37", lambda: vs.load_pcgr_vcf("GRCh37")),
    "pcgr_T001_GRCh38": ("GRCh38", lambda: vs.load_pcgr_vcf("GRCh38")),
}


def main() -> None:
    panels = {b: load_bundled_panel(b) for b in ("GRCh37", "GRCh38")}
    totals = {"fs*?": 0, "ext*?": 0}
    for name, (build, load) in SOURCES.items():
        calls = load()[["sample", "chrom", "pos", "ref", "alt"]]
        out = annotate_calls(calls, panels[build])
        short = out["hgvsp_short"].fillna("")
        unknown_fs = short.str.endswith("fs*?") | short.str.fullmatch(r"p\.[A-Z*]\d+fs")
        unknown_ext = short.str.endswith("ext*?")
        three = out["gene"].isin(["TP53", "BRCA2", "CDKN2A"]) & short.str.contains("fs")
        known_three = three & ~unknown_fs
        totals["fs*?"] += int(unknown_fs.sum())
        totals["ext*?"] += int(unknown_ext.sum())
        print(f"{name:24s} fs*? {int(unknown_fs.sum()):4d}  ext*? {int(unknown_ext.sum()):3d}  "
              f"TP53/BRCA2/CDKN2A frameshifts {int(three.sum()):3d}, with new-stop length {int(known_three.sum()):3d}")
    print(f"{'total':24s} fs*? {totals['fs*?']:4d}  ext*? {totals['ext*?']:3d}")
    print("every 1-base deletion in the last 300 CDS bases, and every SNV of the stop codon:")
    for build, panel in panels.items():
        for gene in ("TP53", "BRCA2", "CDKN2A", "KRAS", "NRAS"):
            out = annotate_calls(tail_changes(panel, gene), panel)
            short = out["hgvsp_short"].fillna("")
            fs, ext = int(short.str.contains("fs").sum()), int(short.str.contains("ext").sum())
            fs_unknown, ext_unknown = int(short.str.endswith("fs*?").sum()), int(short.str.endswith("ext*?").sum())
            print(f"  {build} {gene:7s} frameshifts {fs:3d} (fs*? {fs_unknown:3d}), "
                  f"stop-losses {ext:2d} (ext*? {ext_unknown:2d})")


def tail_changes(panel, gene: str):
    """VCF-style calls: each single-base deletion of the CDS's last 300 bases, each stop-codon SNV."""
    import numpy as np
    import pandas as pd

    tx = panel.by_gene[gene]
    rows = []
    for c in range(max(2, tx.cds_length - 300), tx.cds_length + 1):
        g = int(tx.tx_to_genomic(np.array([tx.cds_tx_first + c - 1]))[0])
        anchor = g - 1 if tx.strand == "+" else g + 1  # a neighbour in the same exon keeps it simple
        lo, hi = min(anchor, g), max(anchor, g)
        bases = panel.genome_bases(tx.chrom, lo, hi)
        if "N" not in bases:
            kept = bases[0] if lo == anchor else bases[1]  # the anchor stays, c. position c goes
            rows.append((f"d{c}", tx.chrom, lo, bases, kept))
        if c > tx.cds_length - 3:
            base = panel.genome_bases(tx.chrom, g, g)
            rows += [(f"s{c}{alt}", tx.chrom, g, base, alt) for alt in "ACGT" if alt != base]
    return pd.DataFrame(rows, columns=["sample", "chrom", "pos", "ref", "alt"])


if __name__ == "__main__":
    main()
