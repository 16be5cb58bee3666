"""SIGTERM (what SLURM and Kubernetes send) mid-way through `run` on a multi-million-record VCF:
exit 143 with one line, the output folder as it was (no staging folder, no partial file), and
`cohort` and a rerun work afterwards."""

import hashlib
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd

from conftest import REPO

N_RECORDS = 3_000_000
HEADER = ("##fileformat=VCFv4.2\n##contig=<ID=chr12,length=133275309>\n"
          '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">\n'
          "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tT\n")
KRAS_G12C = "chr12\t25245351\t.\tC\tA\t.\tPASS\t.\tAD\t40,10\n"


def write_big_vcf(path, n_records: int) -> None:
    """n_records SNVs on chr12 away from its panel genes, and one KRAS G12C, in order."""
    positions = np.sort(np.random.default_rng(11).choice(
        np.r_[1_000:25_000_000, 26_000_000:110_000_000], size=n_records - 1, replace=False))
    with open(path, "w") as handle:
        handle.write(HEADER)
        for part in (positions[positions < 25245351], None, positions[positions > 25245351]):
            if part is None:
                handle.write(KRAS_G12C)
                continue
            for chunk in np.array_split(part, 20):
                handle.write("".join(f"chr12\t{p}\t.\tA\tG\t.\tPASS\t.\tAD\t20,10\n" for p in chunk))


def snapshot(folder) -> dict:
    """Every entry of the folder (hidden ones included) with its content's checksum."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir" for p in folder.iterdir()}


def run_command(vcf, sample, outdir) -> list[str]:
    return [sys.executable, "-m", "krasannot.cli", "run", str(vcf), "--sample", sample, "--tumor-type", "LUAD",
            "--outdir", str(outdir)]


def _read_offset(pid: int, path) -> int:
    """How far the process has read into `path` (0 when it does not have it open)."""
    for fd in os.listdir(f"/proc/{pid}/fd"):
        if os.readlink(f"/proc/{pid}/fd/{fd}") == str(path):
            with open(f"/proc/{pid}/fdinfo/{fd}") as info:
                return int(next(line for line in info if line.startswith("pos:")).split()[1])
    return 0


def wait_until_reading(process: subprocess.Popen, vcf) -> None:
    """Until the process has read into the input (it is then mid-way, not starting or done)."""
    while process.poll() is None:
        try:
            if _read_offset(process.pid, vcf) > 0:
                return
        except (FileNotFoundError, ProcessLookupError, StopIteration):
            pass  # the process or its file descriptor went away while we looked
        time.sleep(0.005)
    raise AssertionError(f"run ended (exit {process.returncode}) before it was signalled")


def test_sigterm_mid_run_leaves_the_output_folder_as_it_was(tmp_path):
    small = tmp_path / "small.vcf"
    small.write_text(HEADER + KRAS_G12C)
    reports = tmp_path / "reports"
    assert subprocess.run(run_command(small, "OLD", reports), cwd=REPO, capture_output=True).returncode == 0
    before = snapshot(reports)

    big = tmp_path / "big.vcf"
    write_big_vcf(big, N_RECORDS)
    process = subprocess.Popen(run_command(big, "BIG", reports), cwd=REPO, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    wait_until_reading(process, big)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 143
    assert stderr.strip().splitlines() == [
        "krasannot: terminated (SIGTERM); temp files removed, no partial output left"]
    assert snapshot(reports) == before  # no .krasannot-report.*, no .NAME.tmp, no BIG.* file

    cohort = subprocess.run([sys.executable, "-m", "krasannot.cli", "cohort", str(reports), "--outdir",
                             str(tmp_path / "cohort"), "--quiet"], cwd=REPO, capture_output=True, text=True)
    assert cohort.returncode == 0, cohort.stderr
    assert pd.read_parquet(tmp_path / "cohort" / "cohort.parquet")["sample"].unique().tolist() == ["OLD"]

    rerun = subprocess.run(run_command(big, "BIG", reports), cwd=REPO, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    assert "3,000,000 records read" in rerun.stderr or f"{N_RECORDS:,} records read" in rerun.stderr
    calls = pd.read_csv(reports / "BIG.calls.tsv", sep="\t", dtype=str, keep_default_na=False)
    assert calls[["gene", "hgvsp_short"]].values.tolist() == [["KRAS", "p.G12C"]]
    assert not [name for name in snapshot(reports) if name.startswith(".")]
