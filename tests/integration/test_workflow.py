"""The Snakemake workflow: lint, dry run of the demo cohort, sample-sheet errors, cluster mode, real run.

Every run happens in a temporary working directory (its own config.yaml pointing at the
repository's demo sheet), so the checkout gets no results/, logs/ or .snakemake/.
"""

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]
SNAKEFILE = REPO / "Snakefile"
DEMO_SHEET = REPO / "resources" / "demo" / "samples.tsv"
SUBMIT = REPO / "tests" / "data" / "cluster" / "submit.sh"
BIN = Path(sys.executable).parent
SNAKEMAKE = BIN / "snakemake"
DEMO_SAMPLES = pd.read_csv(DEMO_SHEET, sep="\t", dtype=str, keep_default_na=False)


def _has_subcommand(name: str) -> bool:
    run = subprocess.run([str(BIN / "krasannot"), name, "--help"], capture_output=True, text=True)
    return run.returncode == 0


PIPELINE_SUBCOMMANDS = ("run", "genotype", "cohort", "compare")
MISSING_SUBCOMMANDS = [name for name in PIPELINE_SUBCOMMANDS if not _has_subcommand(name)]

pytestmark = pytest.mark.skipif(not SNAKEMAKE.exists(), reason="snakemake is not installed beside this Python")


def workdir_with_sheet(tmp_path: Path, sheet: Path = DEMO_SHEET) -> Path:
    """A working directory whose config.yaml is the repository's, with `sheet` as its sample sheet."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    config = (REPO / "config.yaml").read_text().replace("samples: resources/demo/samples.tsv", f"samples: {sheet}")
    assert f"samples: {sheet}" in config
    (tmp_path / "config.yaml").write_text(config)
    return tmp_path


def snakemake(workdir: Path, *args: str, timeout: int = 600, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(SNAKEMAKE), "-s", str(SNAKEFILE), *args], cwd=workdir, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})


def job_counts(output: str) -> dict[str, int]:
    """The 'Job stats' table of a (dry) run: rule -> number of jobs."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Job stats:"))
    counts = {}
    for line in lines[start + 3:]:
        parts = line.split()
        if len(parts) != 2 or not parts[1].isdigit():
            break
        counts[parts[0]] = int(parts[1])
    return counts


def test_lint_is_clean(tmp_path):
    run = snakemake(workdir_with_sheet(tmp_path), "--lint")
    assert run.returncode == 0, run.stderr + run.stdout
    assert "Congratulations, your workflow is in a good condition!" in run.stdout + run.stderr


def test_dry_run_of_the_demo_cohort_plans_every_stage_per_sample(tmp_path):
    run = snakemake(workdir_with_sheet(tmp_path), "-n", "--profile", str(REPO / "workflow" / "profiles" / "local"))
    assert run.returncode == 0, run.stderr + run.stdout
    counts = job_counts(run.stdout + run.stderr)
    n = len(DEMO_SAMPLES)
    assert n == 11
    # annotate, match and report of a sample are one job (one `krasannot run` process)
    assert counts == {"sample": n, "genotype": 1, "cohort": 1, "compare": 1, "all": 1, "total": n + 4}
    # the one longitudinal patient: baseline tissue before progression plasma
    assert "results/longitudinal/DEMO-P11/DEMO-P11.changes.html" in run.stdout + run.stderr
    assert not (tmp_path / "results").exists()


def test_bad_sample_sheet_is_refused_with_line_and_column_before_anything_runs(tmp_path):
    demo = DEMO_SHEET.parent
    header = "sample_id\tpatient_id\ttumor_type\tspecimen\ttimepoint\tprior_therapies\tbuild\tvcf\tbam\n"
    rows = [
        f"S1\tP1\tLUAD\ttissue\tbaseline\t\tGRCh38\t{demo}/DEMO-LUAD-02.vcf.gz\t\n",      # line 2: fine
        f"S1\tP2\tLUAD\ttissue\tbaseline\t\tGRCh38\t{demo}/DEMO-LUAD-03.vcf.gz\t\n",      # line 3: repeats S1
        f"../x\tP3\tLUAD\ttissue\tbaseline\t\tGRCh38\t{demo}/DEMO-LUAD-04.vcf.gz\t\n",    # line 4: unsafe id
        f"S4\tP4\tLUAD\tblood\tbaseline\t\tGRCh38\t{demo}/DEMO-LUAD-05.vcf.gz\t\n",       # line 5: specimen
        "S5\tP5\tPAAD\ttissue\tbaseline\t\tGRCh38\t\t\n",                                  # line 6: no input
        "S6\tP6\tLUNG_X\ttissue\tbaseline\t\thg38\tmissing.vcf.gz\t\n",                     # line 7: build
    ]
    sheet = tmp_path / "sheet" / "samples.tsv"
    sheet.parent.mkdir()
    sheet.write_text(header + "".join(rows))
    run = snakemake(workdir_with_sheet(tmp_path, sheet), "--cores", "1")
    assert run.returncode != 0
    text = run.stdout + run.stderr
    assert f"{sheet} line 4 (sample ../x), column sample_id: '../x' is not a safe id" in text
    assert f"{sheet} line 5 (sample S4), column specimen: 'blood' is not one of tissue, plasma" in text
    assert f"{sheet} line 6 (sample S5): no input file; fill at least one of the columns vcf, maf, bam" in text
    assert f"{sheet} line 7 (sample S6), column build: 'hg38' is not one of GRCh37, GRCh38, auto" in text
    assert "Traceback" not in text
    assert not (tmp_path / "results").exists() and not (tmp_path / "logs").exists()

    # with the row errors fixed, the sheet-wide checks: repeated id, missing file (relative to the sheet)
    rows[2], rows[3], rows[4] = (rows[2].replace("../x", "S3"), rows[3].replace("blood", "plasma"),
                                 rows[4].replace("\t\t\n", f"\t{demo}/DEMO-LUAD-02.vcf.gz\t\n"))
    rows[5] = rows[5].replace("hg38", "GRCh38")
    sheet.write_text(header + "".join(rows))
    run = snakemake(workdir_with_sheet(tmp_path, sheet), "--cores", "1")
    text = run.stdout + run.stderr
    assert run.returncode != 0
    assert f"{sheet} lines 2, 3, column sample_id: 'S1' is used more than once" in text
    assert (f"{sheet} line 7 (sample S6), column vcf: missing.vcf.gz not found "
            f"(looked for {sheet.parent / 'missing.vcf.gz'}") in text
    assert f"{sheet} line 7 (sample S6), column tumor_type: unknown tumour type 'LUNG_X'" in text
    assert not (tmp_path / "results").exists()


@pytest.mark.skipif(bool({"run", "genotype"} & set(MISSING_SUBCOMMANDS)),
                    reason="krasannot run/genotype not available")
def test_cluster_mode_submits_every_sample_through_the_submit_script(tmp_path):
    """cluster-generic executor plugin, with a submit script that runs each job as its own process."""
    pytest.importorskip("snakemake_executor_plugin_cluster_generic")
    workdir = workdir_with_sheet(tmp_path / "work")
    submissions = tmp_path / "submissions" / "jobs.tsv"
    submissions.parent.mkdir()
    targets = [f"results/annotate/{s}/{s}.annotated.tsv" for s in DEMO_SAMPLES["sample_id"]]
    run = snakemake(workdir, "--executor", "cluster-generic",
                    "--cluster-generic-submit-cmd", f"{SUBMIT} {{rule}} '{{wildcards}}'",
                    "--jobs", "6", "--latency-wait", "30", *targets,
                    env={"KRASANNOT_SUBMIT_LOG": str(submissions)})
    assert run.returncode == 0, run.stderr[-3000:]
    jobs = pd.read_csv(submissions, sep="\t", header=None, names=["jobid", "rule", "wildcards", "jobscript"],
                       dtype=str, keep_default_na=False)
    # each job ran through the submit script: one job per sample, the BAM sample's genotype job first
    sample_jobs = jobs[jobs["rule"] == "sample"]
    assert sorted(sample_jobs["wildcards"]) == sorted(f"sample={s}" for s in DEMO_SAMPLES["sample_id"])
    assert list(jobs.loc[jobs["rule"] == "genotype", "wildcards"]) == ["sample=DEMO-COAD-02"]
    assert jobs["jobid"].is_unique
    for target in targets:
        assert (workdir / target).stat().st_size > 0
    # separate processes: each job wrote its own output file beside the submission log
    assert all((submissions.parent / f"{j}.out").exists() for j in jobs["jobid"])


@pytest.mark.skipif(bool(MISSING_SUBCOMMANDS),
                    reason=f"krasannot subcommands not available yet: {', '.join(MISSING_SUBCOMMANDS)}")
def test_demo_cohort_runs_end_to_end(tmp_path):
    workdir = workdir_with_sheet(tmp_path)
    run = snakemake(workdir, "--cores", "2")
    assert run.returncode == 0, run.stderr[-5000:]
    for sample in DEMO_SAMPLES["sample_id"]:
        for suffix in (".report.html", ".report.json", ".calls.tsv", ".matches.tsv"):
            path = workdir / "results" / "report" / sample / f"{sample}{suffix}"
            assert path.stat().st_size > 0, path
        # the annotate and match steps' files where they always were, and nothing else in the report folder
        for path in (f"annotate/{sample}/{sample}.annotated.tsv", f"annotate/{sample}/{sample}.annotated.summary.json",
                     f"annotate/{sample}/{sample}.annotated.skipped.tsv", f"match/{sample}/{sample}.matches.tsv",
                     f"match/{sample}/{sample}.matches.samples.tsv"):
            assert (workdir / "results" / path).stat().st_size > 0, path
        assert (workdir / "results" / "match" / sample / f"{sample}.matches.tsv").read_bytes() == (
            workdir / "results" / "report" / sample / f"{sample}.matches.tsv").read_bytes()
        assert sorted(p.name for p in (workdir / "results" / "report" / sample).iterdir()) == sorted(
            f"{sample}{suffix}" for suffix in (".report.html", ".report.json", ".calls.tsv", ".matches.tsv",
                                               ".annotated.vcf.gz", ".annotated.vcf.gz.tbi"))
        assert (workdir / "logs" / "sample" / f"{sample}.log").exists()
    for name in ("cohort.html", "cohort.parquet"):
        assert (workdir / "results" / "cohort" / name).stat().st_size > 0
    cohort = pd.read_parquet(workdir / "results" / "cohort" / "cohort.parquet")
    cells = set(cohort.astype(str).to_numpy().ravel())
    assert set(DEMO_SAMPLES["sample_id"]) <= cells

    changes = pd.read_csv(workdir / "results" / "longitudinal" / "DEMO-P11" / "DEMO-P11.changes.tsv", sep="\t",
                          dtype=str, keep_default_na=False).set_index("alteration")
    for alteration in ("KRAS p.Y96D", "MET amplification"):
        assert changes.loc[alteration, "change"] == "new"
        assert "sotorasib" in changes.loc[alteration, "resistance_therapy"].split("; ")
    assert "KRAS p.G12C" not in changes.index  # present at both timepoints, falling in plasma
    html = (workdir / "results" / "longitudinal" / "DEMO-P11" / "DEMO-P11.changes.html").read_text()
    assert "KRAS p.Y96D" in html and "MET amplification" in html

    wild_type = (workdir / "results" / "report" / "DEMO-COAD-02" / "DEMO-COAD-02.report.json").read_text()
    assert '"wild_type"' in wild_type

    # the sheet's prior sotorasib puts the acquired resistance on the calls themselves, in the report
    calls = pd.read_csv(workdir / "results" / "report" / "DEMO-LUAD-11-T1" / "DEMO-LUAD-11-T1.calls.tsv", sep="\t",
                        dtype=str, keep_default_na=False).set_index("hgvsp_short")
    assert "resistant to sotorasib (g12ci-acquired-kras-switch-ii-sotorasib" in calls.loc["p.Y96D", "resistance"]
    key_findings = (workdir / "results" / "match" / "DEMO-LUAD-11-T1" / "DEMO-LUAD-11-T1.matches.samples.tsv").read_text()
    assert "KRAS p.Y96D" in key_findings and "MET amplification" in key_findings and "sotorasib" in key_findings

    # a report job killed by SIGKILL leaves its staging folder: cohort (rerun) never reads it
    report_dir = workdir / "results" / "report" / "DEMO-COAD-02"
    stale = report_dir / ".krasannot-report.k2j4x9"
    stale.mkdir()
    for suffix in (".report.json", ".calls.tsv", ".matches.tsv"):
        (stale / f"out{suffix}").write_bytes((report_dir / f"DEMO-COAD-02{suffix}").read_bytes())
    rerun = snakemake(workdir, "--cores", "1", "--forcerun", "cohort")
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    again = pd.read_parquet(workdir / "results" / "cohort" / "cohort.parquet")
    assert sorted(again.loc[again["table"] == "calls", "sample"].unique()) == sorted(
        cohort.loc[cohort["table"] == "calls", "sample"].unique())


def test_demo_cohort_is_regenerated_identically_from_the_bundle(tmp_path):
    """workflow/scripts/make_demo_cohort.py is seeded: the same sheet, tables, VCF records and reads."""
    import gzip

    import pysam

    run = subprocess.run([sys.executable, str(REPO / "workflow" / "scripts" / "make_demo_cohort.py"),
                          "--outdir", str(tmp_path)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    demo = DEMO_SHEET.parent
    made = sorted(p.name for p in tmp_path.iterdir())
    assert made == sorted(p.name for p in demo.iterdir() if p.name not in ("README.md", "DEMO-LUAD-01.GRCh38.vcf"))
    for name in made:
        if name.endswith((".tsv",)):
            assert (tmp_path / name).read_text() == (demo / name).read_text(), name
        elif name.endswith(".vcf.gz"):
            assert gzip.open(tmp_path / name, "rt").read() == gzip.open(demo / name, "rt").read(), name
        elif name.endswith(".bam"):
            def reads(path):
                with pysam.AlignmentFile(str(path)) as bam:
                    return [(r.reference_name, r.reference_start, r.query_sequence) for r in bam]
            assert reads(tmp_path / name) == reads(demo / name)
    assert sum(p.stat().st_size for p in demo.iterdir()) < 2_000_000
