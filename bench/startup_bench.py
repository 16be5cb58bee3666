#!/usr/bin/env python
"""Benchmark start-up: what a krasannot command costs before, and around, its real work.

    python bench/startup_bench.py [--runs 11] [--krasannot PATH] [--sample DEMO-LUAD-02]

Each case is a krasannot command beside the peer it is measured against, all run as fresh processes,
interleaved (one of each per round, so machine load falls on every command alike); medians are reported:
  1. `krasannot --version`                              vs `python -c pass`              target <= 0.10 s
  2. one-record annotate (a KRAS G12C VCF, --build GRCh38) vs `python -c 'import numpy, pandas, pysam'`,
                                                           the import floor               target <= 1.25x
  3. `krasannot match` and 4. `krasannot run` on one demo sample (resources/demo), against the import floor.

One untimed round comes first, so every command finds its modules' compiled bytecode as an installed
package does: PYTHONDONTWRITEBYTECODE is left out of the commands' environment (it would make every run of a
source checkout compile krasannot's modules again, a cost no installed copy pays).

The interpreter is the one running this script and krasannot the one beside it (--krasannot to choose), so
the same script times another checkout: /other/checkout/.venv/bin/python bench/startup_bench.py.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEMO = Path(__file__).resolve().parents[1] / "resources" / "demo"
VERSION_TARGET_S = 0.10
ANNOTATE_TARGET_RATIO = 1.25
# KRAS c.34G>T (p.G12C) on GRCh38, with a contig length that says the build
ONE_RECORD_VCF = ("##fileformat=VCFv4.2\n##contig=<ID=chr12,length=133275309>\n"
                  "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n12\t25245351\t.\tC\tA\t.\tPASS\t.\n")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--runs", type=int, default=11, help="rounds; each runs every command once (default 11)")
    parser.add_argument("--krasannot", default=str(Path(sys.executable).with_name("krasannot")),
                        help="the krasannot executable (default: beside this Python)")
    parser.add_argument("--sample", default="DEMO-LUAD-02", help="demo sample of resources/demo/samples.tsv")
    return parser.parse_args(argv)


def demo_sample(sample: str) -> dict:
    with open(DEMO / "samples.tsv", newline="") as handle:
        rows = {row["sample_id"]: row for row in csv.DictReader(handle, delimiter="\t")}
    if sample not in rows or not rows[sample]["vcf"]:
        sys.exit(f"startup_bench: {sample}: not a VCF sample of {DEMO / 'samples.tsv'}")
    return rows[sample]


def commands(krasannot: str, work: Path, row: dict) -> dict[str, list[str]]:
    """name -> command line; the match input is prepared here, untimed."""
    python = sys.executable
    (work / "one.vcf").write_text(ONE_RECORD_VCF)
    vcf, sample, tumour = str(DEMO / row["vcf"]), row["sample_id"], row["tumor_type"]
    annotated = work / "sample.annotated.tsv"
    subprocess.run([krasannot, "annotate", vcf, "--build", row["build"], "--sample", sample, "--out",
                    str(annotated)], check=True, capture_output=True)
    return {
        "python -c pass": [python, "-c", "pass"],
        "krasannot --version": [krasannot, "--version"],
        "import floor (numpy, pandas, pysam)": [python, "-c", "import numpy, pandas, pysam"],
        "one-record annotate": [krasannot, "annotate", str(work / "one.vcf"), "--build", "GRCh38",
                                "--out", str(work / "one.annotated.tsv")],
        f"match {sample}": [krasannot, "match", str(annotated), "--sample", sample, "--tumor-type", tumour,
                            "--out", str(work / "sample.matches.tsv")],
        f"run {sample}": [krasannot, "run", vcf, "--sample", sample, "--build", row["build"], "--tumor-type",
                          tumour, "--outdir", str(work / "run"), "--reproducible"],
    }


def time_interleaved(cmds: dict[str, list[str]], runs: int) -> dict[str, list[float]]:
    """Seconds of each command per round, after one untimed round that writes bytecode and warms the disk cache."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    times: dict[str, list[float]] = {name: [] for name in cmds}
    for round_ in range(runs + 1):
        for name, cmd in cmds.items():
            start = time.perf_counter()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
            if round_:
                times[name].append(time.perf_counter() - start)
    return times


def report(medians: dict[str, float]) -> list[str]:
    names = list(medians)
    floor = medians["import floor (numpy, pandas, pysam)"]
    version = medians["krasannot --version"]
    annotate = medians["one-record annotate"]
    lines = [f"{name:40s} {seconds:7.3f} s" for name, seconds in medians.items()]
    lines += ["",
              f"--version: {version:.3f} s = {version / medians['python -c pass']:.1f}x `python -c pass` "
              f"(target <= {VERSION_TARGET_S:.2f} s: {'met' if version <= VERSION_TARGET_S else 'missed'})",
              f"one-record annotate: {annotate / floor:.2f}x the import floor "
              f"(target <= {ANNOTATE_TARGET_RATIO}x: {'met' if annotate / floor <= ANNOTATE_TARGET_RATIO else 'missed'})"]
    lines += [f"{name}: {medians[name] / floor:.2f}x the import floor" for name in names[4:]]
    return lines


def main(argv=None) -> int:
    args = parse_args(argv)
    row = demo_sample(args.sample)
    print(f"python {sys.executable}\nkrasannot {args.krasannot}\nload average before: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; {args.runs} interleaved runs, medians")
    with tempfile.TemporaryDirectory(prefix="startup_bench.") as tmp:
        times = time_interleaved(commands(args.krasannot, Path(tmp), row), args.runs)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    print("\n".join(report({name: statistics.median(t) for name, t in times.items()})))
    return 0


if __name__ == "__main__":
    sys.exit(main())
