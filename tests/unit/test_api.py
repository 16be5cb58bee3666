"""The Python API gives what the command line writes, writes nothing unless asked, and the README's example runs."""

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from krasannot import api
from krasannot import columns as C
from krasannot.cli import main
from krasannot.errors import UsageError

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "resources" / "demo"
VCF = DEMO / "DEMO-LUAD-01.GRCh38.vcf"   # plain VCF with records outside the panel (listed from a temp file)


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_annotate_and_match_give_the_tables_the_cli_writes(tmp_path):
    cli, api_out = tmp_path / "cli", tmp_path / "api"
    assert main(["annotate", str(VCF), "--out", str(cli / "a.tsv"), "--reproducible"]) == 0
    assert main(["match", str(cli / "a.tsv"), "--tumor-type", "LUAD", "--prior-therapy", "sotorasib",
                 "--out", str(cli / "m.tsv")]) == 0
    with api.annotate(VCF, reproducible=True) as annotation:
        matched = api.match(annotation, tumor_type="LUAD", prior_therapy="sotorasib")
        annotation.write(api_out / "a.tsv")
        matched.write(api_out / "m.tsv")
    written = _files(cli)
    assert sorted(written) == ["a.skipped.tsv", "a.summary.json", "a.tsv", "m.samples.tsv", "m.tsv"]
    assert written == _files(api_out)
    # the frames themselves: the CLI's table read back holds the API's calls and matches
    table = pd.read_csv(cli / "a.tsv", sep="\t", dtype=str, keep_default_na=False)
    annotated = annotation.annotated
    assert (table.loc[table[C.STATUS] == "annotated", [C.GENE, C.HGVSP_SHORT]].values.tolist()
            == annotated.loc[annotated[C.STATUS] == "annotated", [C.GENE, C.HGVSP_SHORT]].values.tolist())
    assert (table[C.STATUS] == "outside_panel").sum() == 0  # counted, listed only with list_outside
    assert annotation.summary["rows_by_status"]["outside_panel"] == 3
    cli_matches = pd.read_csv(cli / "m.tsv", sep="\t", dtype=str, keep_default_na=False)
    assert cli_matches[[C.THERAPY, C.LEVEL]].values.tolist() == matched.matches[[C.THERAPY, C.LEVEL]].values.tolist()
    assert len(matched.matches) == matched.summary["matches"] > 0
    assert matched.samples.at[0, C.KRAS_STATUS] == "G12C"


def test_list_outside_lists_what_the_cli_lists(tmp_path):
    cli, api_out = tmp_path / "cli", tmp_path / "api"
    assert main(["annotate", str(VCF), "--out", str(cli / "a.tsv"), "--reproducible", "--list-outside"]) == 0
    with api.annotate(VCF, reproducible=True, list_outside=True) as annotation:
        annotation.write(api_out / "a.tsv")
    assert _files(cli) == _files(api_out)
    table = pd.read_csv(cli / "a.tsv", sep="\t", dtype=str, keep_default_na=False)
    assert (table[C.STATUS] == "outside_panel").sum() == annotation.summary["rows_by_status"]["outside_panel"] == 3


def test_run_and_report_write_what_the_cli_writes(tmp_path):
    sample = "DEMO-LUAD-02"
    vcf = DEMO / f"{sample}.vcf.gz"
    assert main(["run", str(vcf), "--sample", sample, "--tumor-type", "LUAD", "--outdir", str(tmp_path / "cli"),
                 "--reproducible"]) == 0
    with api.run(vcf, sample=sample, tumor_type="LUAD", reproducible=True) as result:
        result.write(tmp_path / "api")
    assert len(_files(tmp_path / "cli")) == 10 and _files(tmp_path / "cli") == _files(tmp_path / "api")
    # report from the files annotate and match wrote, as `krasannot report`
    with api.annotate(vcf, sample=sample) as annotation:
        annotation.write(tmp_path / "steps" / "a.tsv")
    api.match(tmp_path / "steps" / "a.tsv", tumor_type="LUAD").write(tmp_path / "steps" / "m.tsv")
    args = ["--annotated", str(tmp_path / "steps" / "a.tsv"), "--matches", str(tmp_path / "steps" / "m.tsv"),
            "--sample", sample, "--vcf", str(vcf), "--reproducible"]
    assert main(["report", *args, "--outdir", str(tmp_path / "report-cli")]) == 0
    report = api.report(tmp_path / "steps" / "a.tsv", tmp_path / "steps" / "m.tsv", sample=sample, vcf=str(vcf),
                              reproducible=True)
    report.write(tmp_path / "report-api")
    assert _files(tmp_path / "report-cli") == _files(tmp_path / "report-api")
    assert report.report["sample"]["id"] == sample and "<html" in report.html.lower()


def test_report_from_files_shows_resistance_in_context_as_run_does(tmp_path):
    """Prior sotorasib: the three-step path labels KRAS Y96D and MET amplification as `run` does."""
    sample = "DEMO-LUAD-11-T1"
    inputs = [str(DEMO / f"{sample}.ctdna.tsv"), str(DEMO / f"{sample}.cn.tsv")]
    context = ["--tumor-type", "LUAD", "--specimen", "plasma", "--prior-therapy", "sotorasib"]
    assert main(["run", *inputs, "--sample", sample, *context, "--build", "GRCh38", "--reproducible",
                 "--outdir", str(tmp_path / "run")]) == 0
    steps = tmp_path / "steps"
    assert main(["annotate", *inputs, "--sample", sample, "--specimen", "plasma", "--build", "GRCh38",
                 "--reproducible", "--out", str(steps / "a.tsv")]) == 0
    assert main(["match", str(steps / "a.tsv"), *context, "--out", str(steps / "m.tsv")]) == 0
    assert main(["report", "--annotated", str(steps / "a.tsv"), "--matches", str(steps / "m.tsv"), "--sample", sample,
                 "--reproducible", "--outdir", str(tmp_path / "report")]) == 0
    calls = (tmp_path / "report" / f"{sample}.calls.tsv").read_text(encoding="utf-8")
    assert calls == (tmp_path / "run" / f"{sample}.calls.tsv").read_text(encoding="utf-8")
    table = pd.read_csv(tmp_path / "report" / f"{sample}.calls.tsv", sep="\t", dtype=str, keep_default_na=False)
    resistant = table.loc[table[C.RESISTANCE].str.contains("resistant to sotorasib"), C.GENE].tolist()
    assert sorted(resistant) == ["KRAS", "MET"]
    # the specimen defaults to the one the matches were made for, as the tumour type does
    report = (tmp_path / "report" / f"{sample}.report.json").read_text(encoding="utf-8")
    assert '"specimen": "plasma"' in report


def test_genotype_writes_what_the_cli_writes(tmp_path):
    bam = DEMO / "DEMO-COAD-02.bam"
    assert main(["genotype", str(bam), "--build", "GRCh38", "--out", str(tmp_path / "cli" / "CALLS.tsv")]) == 0
    result = api.genotype(bam, build="GRCh38")
    assert result.build == "GRCh38" and len(result.annotated) and len(result.coverage)
    written = result.write(tmp_path / "api" / "CALLS.tsv")
    assert sorted(p.name for p in written.values()) == ["CALLS.coverage.tsv", "CALLS.tsv"]
    assert _files(tmp_path / "cli") == _files(tmp_path / "api")


def test_nothing_is_written_unless_asked(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # TMPDIR is read again
    with api.annotate(VCF) as annotation:
        matched = api.match(annotation, tumor_type="LUAD")
        report = api.report(annotation, matched, sample="DEMO-LUAD-01")
    with api.run(VCF, sample="DEMO-LUAD-01", tumor_type="LUAD") as result:
        pass
    assert report.report["sample"]["id"] == "DEMO-LUAD-01" and len(result.matches.matches) == len(matched.matches)
    assert list(tmp_path.iterdir()) == []


def test_api_refuses_what_the_cli_refuses():
    with pytest.raises(UsageError, match="unknown tumour type"):
        api.run(VCF, sample="S", tumor_type="LUNG-ISH")
    with api.annotate(VCF) as annotation:
        with pytest.raises(UsageError, match="unknown drug or drug class"):
            api.match(annotation, tumor_type="LUAD", prior_therapy=["sotorasibb"])
        with pytest.raises(UsageError, match="not in the annotated table"):
            api.match(annotation, tumor_type="LUAD", sample="OTHER")


def test_readme_python_example_runs(tmp_path):
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    assert len(blocks) == 1
    (tmp_path / "resources").symlink_to(REPO / "resources")  # the example's paths are the checkout's
    (tmp_path / "example.py").write_text(blocks[0], encoding="utf-8")
    result = subprocess.run([sys.executable, "example.py"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "GRCh38" in result.stdout and "p.G12C" in result.stdout and "sotorasib" in result.stdout
    out = tmp_path / "demo-api"
    assert {p.name for p in out.iterdir()} >= {"DEMO-LUAD-01.annotated.tsv", "DEMO-LUAD-01.matches.tsv", "report", "run"}
    assert (out / "run" / "DEMO-LUAD-01.report.html").is_file() and (out / "report" / "DEMO-LUAD-01.report.json").is_file()


def test_import_and_help_stay_light():
    code = ("import sys, krasannot.cli\n"
            "try:\n    krasannot.cli.main(['annotate', '--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('numpy', 'pandas', 'pysam', 'krasannot.api') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
