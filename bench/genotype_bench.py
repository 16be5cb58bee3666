"""Time `krasannot genotype` against `bcftools mpileup` on the same generated BAM and hotspot positions.

The BAM (seeded, GRCh38 contig lengths) holds overlapping read pairs over every hotspot window of
the hotspot list (from `--flank` bases before a window to `--flank` after it), with bundle bases where
the bundle knows them and random bases elsewhere, and a 3% KRAS G12D. bcftools is restricted (-R) to
the same hotspot intervals, counts with the same MAPQ/base-quality thresholds (-q 20 -Q 20), no depth
cap (-d) and no BAQ (no reference: --no-reference), and writes AD/ADF/ADR: per-position counts only,
where krasannot also reads codon alleles, indels, the background model and the tests. The commands
run `--repeats` times in rotation (A B A B ...) and each one's median is reported, with the load average.

    .venv/bin/python bench/genotype_bench.py --workdir /tmp/gb --reads 1000000 --repeats 5
    # the deep ctDNA-like case: 10M reads, about 20,000x at the hotspots
    .venv/bin/python bench/genotype_bench.py --workdir /tmp/gb --reads 10000000 --flank 1250 --repeats 5
    # before/after: also time another checkout's krasannot (its venv's python)
    .venv/bin/python bench/genotype_bench.py --workdir /tmp/gb --also ../main/.venv/bin/python
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
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


def make_bam(path: Path, n_reads: int, flank: int = 250, seed: int = 7) -> Path:
    """Seeded pairs over the hotspot windows (GRCh38), written window by window, then sorted and indexed."""
    rng = np.random.default_rng(seed)
    panel = load_bundled_panel("GRCh38")
    hotspots = G.load_hotspots(panel)
    windows = G.fetch_windows(hotspots)
    contigs = sorted(set(windows["contig"]), key=lambda c: (len(c), c))
    header = {"HD": {"VN": "1.6", "SO": "unsorted"},
              "SQ": [{"SN": c, "LN": CONTIG_LENGTHS["GRCh38"][c]} for c in contigs],
              "RG": [{"ID": "bench", "SM": "BENCH"}]}
    g12 = hotspots.set_index(G.HOTSPOT).loc["KRAS G12"]
    per_window = n_reads // 2 // len(windows)
    quality = pysam.qualitystring_to_array("I" * READ_LENGTH)
    unsorted = path.with_suffix(".unsorted.bam")
    with pysam.AlignmentFile(str(unsorted), "wb", header=header) as out:
        for w, window in enumerate(windows.itertuples(index=False)):
            lo, hi = window.start - flank, window.end + flank
            known = panel.genome_bases(window.contig, lo, hi + READ_LENGTH)
            random_bases = np.array(list("ACGT"))[rng.integers(0, 4, len(known))]
            genome = "".join(k if k != "N" else r for k, r in zip(known, random_bases))
            starts = np.sort(rng.integers(lo, hi, per_window))
            insert = rng.integers(120, 200, per_window)
            ref_id = contigs.index(window.contig)
            for i, (start, size) in enumerate(zip(starts.tolist(), insert.tolist())):
                seq1 = genome[start - lo:start - lo + READ_LENGTH]
                mate = min(start + size - READ_LENGTH, hi)
                seq2 = genome[mate - lo:mate - lo + READ_LENGTH]
                if window.contig == g12["contig"] and i % 33 == 0:  # a 3% G12D
                    offset = g12["start"] - start
                    if 0 <= offset <= READ_LENGTH - 3:
                        seq1 = seq1[:offset] + reverse_complement("GAT") + seq1[offset + 3:]
                name = f"w{w}r{i}"
                for flag, position, seq, other in ((99, start, seq1, mate), (147, mate, seq2, start)):
                    read = pysam.AlignedSegment()
                    read.query_name, read.flag, read.reference_id = name, flag, ref_id
                    read.reference_start, read.mapping_quality = position - 1, 60
                    read.query_sequence, read.cigartuples = seq, [(0, READ_LENGTH)]
                    read.next_reference_id, read.next_reference_start = ref_id, other - 1
                    read.query_qualities = quality
                    out.write(read)
    pysam.sort("-m", "1G", "-o", str(path), str(unsorted))
    unsorted.unlink()
    pysam.index(str(path))
    with open(path.with_suffix(".regions.tsv"), "w") as handle:
        for spot in hotspots.itertuples(index=False):
            handle.write(f"{spot.contig}\t{spot.start}\t{spot.end}\n")
    return path


def krasannot_command(python: str, bam: Path, out: Path) -> list[str]:
    return [python, "-c", "from krasannot.cli import main; raise SystemExit(main())", "genotype", str(bam),
            "--build", "GRCh38", "--out", str(out)]


def bcftools_command(bam: Path, out: Path) -> list[str]:
    return ["bcftools", "mpileup", "--no-reference", "-R", str(bam.with_suffix(".regions.tsv")), "-q", "20",
            "-Q", "20", "-d", "1000000", "-a", "AD,ADF,ADR", "-Ou", "-o", str(out), str(bam)]


def seconds(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def reads_in_windows(bam: Path) -> int:
    hotspots = G.load_hotspots(load_bundled_panel("GRCh38"))
    with pysam.AlignmentFile(str(bam)) as handle:
        return sum(handle.count(w.contig, w.start - 1, w.end) for w in G.fetch_windows(hotspots).itertuples())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", default="/tmp/krasannot-genotype-bench")
    parser.add_argument("--reads", type=int, default=1_000_000)
    parser.add_argument("--flank", type=int, default=250, help="bases of reads before and after each window")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--also", metavar="PYTHON", help="another checkout's venv python to time as well (before)")
    args = parser.parse_args(argv)
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    bam = workdir / f"bench_{args.reads}_{args.flank}.bam"
    if not bam.exists():
        started = time.perf_counter()
        make_bam(bam, args.reads, args.flank)
        print(f"generated {bam} ({args.reads:,} reads) in {time.perf_counter() - started:.1f} s")
    print(f"{reads_in_windows(bam):,} reads in the hotspot windows")
    commands = {"krasannot genotype": krasannot_command(sys.executable, bam, workdir / "CALLS.tsv")}
    if args.also:
        commands["krasannot genotype (--also)"] = krasannot_command(args.also, bam, workdir / "CALLS.also.tsv")
    if shutil.which("bcftools"):
        commands["bcftools mpileup -R hotspots"] = bcftools_command(bam, workdir / "mpileup.bcf")
    else:
        print("bcftools not found: timing krasannot only (apt-get install bcftools for the comparison)")
    times = {name: [] for name in commands}
    for _ in range(args.repeats):
        for name, command in commands.items():
            times[name].append(seconds(command))
    print(f"load average {os.getloadavg()[0]:.2f} (1 min) on {os.cpu_count()} cores; medians of {args.repeats} "
          f"interleaved runs (whole commands, Python start-up included):")
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, median in medians.items():
        print(f"  {name}: {median:.2f} s  (runs: {', '.join(f'{t:.2f}' for t in times[name])})")
    if "bcftools mpileup -R hotspots" in medians:
        ratio = medians["bcftools mpileup -R hotspots"] / medians["krasannot genotype"]
        print(f"ratio bcftools / krasannot: {ratio:.2f}x (above 1: krasannot is faster)")
    if "krasannot genotype (--also)" in medians:
        ratio = medians["krasannot genotype (--also)"] / medians["krasannot genotype"]
        print(f"ratio --also / krasannot: {ratio:.2f}x (above 1: this checkout is faster)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
