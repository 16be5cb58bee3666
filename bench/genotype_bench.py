"""Time `krasannot genotype` against `bcftools mpileup` on the same generated BAM and hotspot positions.

The BAM (seeded, GRCh38 contig lengths) holds overlapping read pairs over every hotspot window
of the hotspot list, with bundle bases where the bundle knows them and random bases elsewhere,
and a 3% KRAS G12D. bcftools is restricted (-R) to the same hotspot intervals, counts with the
same MAPQ/base-quality thresholds (-q 20 -Q 20), no depth cap (-d) and no BAQ (no reference:
--no-reference), and writes AD/ADF/ADR: per-position counts only, where krasannot also reads
codon alleles, indels, the background model and the tests. Both run `--repeats` times in
rotation; the best time of each is compared.

    .venv/bin/python bench/genotype_bench.py --workdir /tmp/gb --reads 1000000 --repeats 3
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pysam

from krasannot.genotype import caller as G
from krasannot.reference.builds import CONTIG_LENGTHS
from krasannot.reference.bundle import load_bundled_panel, reverse_complement

READ_LENGTH = 100


def make_bam(path: Path, n_reads: int, seed: int = 7) -> Path:
    """Seeded pairs over the hotspot windows (GRCh38); returns the indexed BAM's path."""
    rng = np.random.default_rng(seed)
    panel = load_bundled_panel("GRCh38")
    hotspots = G.load_hotspots(panel)
    windows = G.fetch_windows(hotspots)
    contigs = sorted(set(windows["contig"]), key=lambda c: (len(c), c))
    header = {"HD": {"VN": "1.6", "SO": "coordinate"},
              "SQ": [{"SN": c, "LN": CONTIG_LENGTHS["GRCh38"][c]} for c in contigs],
              "RG": [{"ID": "bench", "SM": "BENCH"}]}
    g12 = hotspots.set_index(G.HOTSPOT).loc["KRAS G12"]
    per_window = n_reads // 2 // len(windows)
    records = []
    for w, window in enumerate(windows.itertuples(index=False)):
        lo, hi = window.start - 250, window.end + 250
        known = panel.genome_bases(window.contig, lo, hi + READ_LENGTH)
        random_bases = np.array(list("ACGT"))[rng.integers(0, 4, len(known))]
        genome = "".join(k if k != "N" else r for k, r in zip(known, random_bases))
        starts = np.sort(rng.integers(lo, hi, per_window))
        insert = rng.integers(120, 200, per_window)
        for i, (start, size) in enumerate(zip(starts, insert)):
            seq1 = genome[start - lo:start - lo + READ_LENGTH]
            mate = min(start + size - READ_LENGTH, hi)
            seq2 = genome[mate - lo:mate - lo + READ_LENGTH]
            if window.contig == g12["contig"] and i % 33 == 0:  # a 3% G12D
                offset = g12["start"] - start
                if 0 <= offset <= READ_LENGTH - 3:
                    seq1 = seq1[:offset] + reverse_complement("GAT") + seq1[offset + 3:]
            name = f"w{w}r{i}"
            records.append((contigs.index(window.contig), int(start), name, 99, seq1, int(mate)))
            records.append((contigs.index(window.contig), int(mate), name, 147, seq2, int(start)))
    records.sort()
    quality = pysam.qualitystring_to_array("I" * READ_LENGTH)
    with pysam.AlignmentFile(str(path), "wb", header=header) as out:
        for ref_id, start, name, flag, seq, mate in records:
            read = pysam.AlignedSegment()
            read.query_name, read.flag, read.reference_id = name, flag, ref_id
            read.reference_start, read.mapping_quality = start - 1, 60
            read.query_sequence, read.cigartuples = seq, [(0, READ_LENGTH)]
            read.next_reference_id, read.next_reference_start = ref_id, mate - 1
            read.query_qualities = quality
            out.write(read)
    pysam.index(str(path))
    regions = path.with_suffix(".regions.tsv")
    with open(regions, "w") as handle:
        for spot in hotspots.itertuples(index=False):
            handle.write(f"{spot.contig}\t{spot.start}\t{spot.end}\n")
    return path


def time_krasannot(bam: Path, out: Path) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "from krasannot.cli import main; raise SystemExit(main())", "genotype",
                    str(bam), "--build", "GRCh38", "--out", str(out)], check=True, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def time_bcftools(bam: Path, out: Path) -> float:
    started = time.perf_counter()
    subprocess.run(["bcftools", "mpileup", "--no-reference", "-R", str(bam.with_suffix(".regions.tsv")),
                    "-q", "20", "-Q", "20", "-d", "1000000", "-a", "AD,ADF,ADR", "-Ou", "-o", str(out), str(bam)],
                   check=True, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", default="/tmp/krasannot-genotype-bench")
    parser.add_argument("--reads", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    bam = workdir / f"bench_{args.reads}.bam"
    if not bam.exists():
        started = time.perf_counter()
        make_bam(bam, args.reads)
        print(f"generated {bam} ({args.reads:,} reads) in {time.perf_counter() - started:.1f} s")
    have_bcftools = shutil.which("bcftools") is not None
    if not have_bcftools:
        print("bcftools not found: timing krasannot only (apt-get install bcftools for the comparison)")
    ours, theirs = [], []
    for _ in range(args.repeats):
        ours.append(time_krasannot(bam, workdir / "CALLS.tsv"))
        if have_bcftools:
            theirs.append(time_bcftools(bam, workdir / "mpileup.bcf"))
    print(f"krasannot genotype: best {min(ours):.2f} s of {len(ours)} (whole command, Python start-up included)")
    if have_bcftools:
        print(f"bcftools mpileup -R hotspots: best {min(theirs):.2f} s of {len(theirs)}")
        print(f"ratio bcftools / krasannot: {min(theirs) / min(ours):.2f}x (above 1: krasannot is faster)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
