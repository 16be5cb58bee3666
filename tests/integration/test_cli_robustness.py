"""The command line as a new user meets it: negative results, one flag vocabulary, range checks,
output-path errors, inputs that do not belong together, hostile VCF values in the annotated VCF,
and staging folders left by killed runs."""

import argparse
import gzip
import json
import os
import shutil
import socket
import subprocess
import sys

import pandas as pd
import pysam
import pytest

from conftest import REPO
from krasannot.cli import build_parser, main

DEMO_VCF = REPO / "resources" / "demo" / "DEMO-LUAD-01.GRCh38.vcf"
HEADER = ["##fileformat=VCFv4.2", "##contig=<ID=chr12,length=133275309>", "##contig=<ID=chr1,length=248956422>",
          '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
          '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">',
          "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tTUMOUR"]
OUTSIDE = "chr1\t1000000\t.\tA\tG\t.\tPASS\t.\tGT:AD\t0/1:20,10"   # no panel gene near
KRAS_G12C = "chr12\t25245351\t.\tC\tA\t.\tPASS\t{info}\tGT:AD\t0/1:40,10"


def write_vcf(path, records, header=HEADER, encoding="utf-8"):
    path.write_bytes(("\n".join(header + records) + "\n").encode(encoding, "surrogateescape"))
    return path


def run_cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "krasannot.cli", *map(str, args)], capture_output=True,
                          text=True, cwd=REPO)


def one_line_error(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


# ---------------------------------------------------------------- negative results

def test_run_without_a_panel_call_reports_the_negative_result_and_tumour_agnostic_therapies(tmp_path):
    vcf = write_vcf(tmp_path / "neg.vcf", [OUTSIDE])
    code = main(["run", str(vcf), "--sample", "P1", "--tumor-type", "COADREAD", "--msi-high",
                 "--outdir", str(tmp_path / "out")])
    assert code == 0
    report = json.loads((tmp_path / "out" / "P1.report.json").read_text())
    assert report["qc"]["panel_calls"] == 0 and report["qc"]["records_read"] == 1
    assert report["key_findings"]["kras"]["status"] == "not_assessed"
    matched = {(m["therapy"], m["biomarker"]) for level in report["matches"] for m in level["matches"]
               if m["assessment"] == "matched"}
    assert ("pembrolizumab", "MSI-H") in matched  # tumour-agnostic evidence still applies
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        f"P1{s}" for s in (".report.html", ".report.json", ".calls.tsv", ".matches.tsv", ".annotated.vcf.gz",
                           ".annotated.vcf.gz.tbi", ".annotated.tsv", ".annotated.skipped.tsv",
                           ".annotated.summary.json", ".matches.samples.tsv"))


def test_annotate_match_report_carry_a_sample_without_a_panel_call(tmp_path):
    vcf = write_vcf(tmp_path / "neg.vcf", [OUTSIDE])
    annotated, matches = tmp_path / "a.tsv", tmp_path / "m.tsv"
    assert main(["annotate", str(vcf), "--out", str(annotated)]) == 0
    assert json.loads((tmp_path / "a.summary.json").read_text())["samples"] == ["TUMOUR"]
    assert main(["match", str(annotated), "--tumor-type", "LUAD", "--out", str(matches)]) == 0
    summary = pd.read_csv(tmp_path / "m.samples.tsv", sep="\t", dtype=str, keep_default_na=False)
    assert summary[["sample", "tumor_type", "kras_status"]].values.tolist() == [["TUMOUR", "LUAD", "not_assessed"]]
    assert main(["report", "--annotated", str(annotated), "--matches", str(matches), "--sample", "TUMOUR",
                 "--outdir", str(tmp_path / "r")]) == 0  # --tumor-type from the matches
    report = json.loads((tmp_path / "r" / "TUMOUR.report.json").read_text())
    assert report["sample"]["tumor_type"] == "LUAD" and report["qc"]["panel_calls"] == 0


def test_annotate_sample_names_the_id_and_input_sample_the_column(tmp_path):
    vcf = write_vcf(tmp_path / "t.vcf", [KRAS_G12C.format(info=".")])
    out = tmp_path / "a.tsv"
    assert main(["annotate", str(vcf), "--input-sample", "TUMOUR", "--sample", "PATIENT-7", "--out", str(out)]) == 0
    rows = pd.read_csv(out, sep="\t", dtype=str, keep_default_na=False)
    assert rows[["sample", "hgvsp_short"]].values.tolist() == [["PATIENT-7", "p.G12C"]]
    assert json.loads((tmp_path / "a.summary.json").read_text())["samples"] == ["PATIENT-7"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.skipped.tsv", "a.summary.json", "a.tsv", "t.vcf"]
    result = run_cli("annotate", vcf, "--input-sample", "NOPE", "--out", tmp_path / "b.tsv")
    assert result.returncode == 2 and "TUMOUR" in one_line_error(result)
    result = run_cli("annotate", vcf, "--sample-id", "X", "--out", tmp_path / "c.tsv")  # the old name is gone
    assert result.returncode == 2 and "--sample-id" in result.stderr


def test_multi_sample_input_needs_input_sample_before_an_id(tmp_path):
    header = HEADER[:-1] + ["#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tP1\tP2"]
    vcf = write_vcf(tmp_path / "two.vcf", ["chr12\t25245351\t.\tC\tA\t.\tPASS\t.\tGT:AD\t0/1:40,10\t0/1:30,12"],
                    header=header)
    result = run_cli("run", vcf, "--sample", "S1", "--tumor-type", "LUAD", "--outdir", tmp_path / "o")
    line = one_line_error(result)
    assert result.returncode == 2 and "P1, P2" in line and "--input-sample" in line
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())
    result = run_cli("run", vcf, "--sample", "S1", "--input-sample", "P2", "--tumor-type", "LUAD",
                     "--outdir", tmp_path / "o")
    assert result.returncode == 0, result.stderr
    calls = pd.read_csv(tmp_path / "o" / "S1.calls.tsv", sep="\t", dtype=str, keep_default_na=False)
    assert calls[["sample", "hgvsp_short", "alt_depth"]].values.tolist() == [["S1", "p.G12C", "12"]]


# ---------------------------------------------------------------- flags

def _actions(parser: argparse.ArgumentParser, path=()):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _actions(sub, path + (name,))
        elif not isinstance(action, (argparse._HelpAction, argparse._VersionAction)):
            yield " ".join(path), action


def test_every_option_has_help_and_folders_are_outdir():
    undocumented = [f"{cmd} {a.option_strings or a.dest}" for cmd, a in _actions(build_parser()) if not a.help]
    assert undocumented == []
    for cmd, action in _actions(build_parser()):
        if "--out" in action.option_strings:  # --out is always a file
            assert "folder" not in action.help and "directory" not in action.help, (cmd, action.help)
        if "--outdir" in action.option_strings:
            assert "folder" in action.help or "directory" in action.help, (cmd, action.help)
    sample_flags = {cmd for cmd, a in _actions(build_parser()) if "--sample" in a.option_strings}
    assert {"annotate", "run", "match", "report", "genotype", "compare"} <= sample_flags
    assert not [cmd for cmd, a in _actions(build_parser()) if {"--sample-id", "--samples"} & set(a.option_strings)]


@pytest.mark.parametrize("args,words", [
    (["run", "x.vcf", "--sample", "S", "--tumor-type", "LUAD", "--outdir", "o", "--tmb", "-5"], "at least 0"),
    (["match", "a.tsv", "--tumor-type", "LUAD", "--out", "m.tsv", "--tmb", "nan"], "not a finite number"),
    (["match", "a.tsv", "--tumor-type", "LUAD", "--out", "m.tsv", "--tmb", "ten"], "not a number"),
    (["genotype", "x.bam", "--out", "c.tsv", "--min-mapq", "-1"], "at least 0"),
    (["genotype", "x.bam", "--out", "c.tsv", "--min-baseq", "2.5"], "not an integer"),
    (["compare", "a", "b", "--matches", "c", "d", "--patient", "P", "--outdir", "o", "--min-vaf-rise", "2"],
     "between 0 and 1"),
    (["compare", "a", "b", "--matches", "c", "d", "--patient", "P", "--outdir", "o", "--min-vaf-fold", "0.5"],
     "at least 1"),
])
def test_numbers_out_of_range_are_refused(args, words, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2 and words in capsys.readouterr().err


def test_compare_takes_outdir_and_sample(tmp_path):
    help_text = run_cli("compare", "--help").stdout
    assert "--outdir" in help_text and "--sample SAMPLES" in help_text and "--samples" not in help_text


# ---------------------------------------------------------------- output paths

def test_output_path_problems_are_usage_errors(tmp_path):
    vcf = write_vcf(tmp_path / "t.vcf", [KRAS_G12C.format(info=".")])
    (tmp_path / "a_folder").mkdir()
    (tmp_path / "a_file").write_text("x")
    cases = [
        (["annotate", vcf, "--out", tmp_path / "a_folder"], "is a folder, not a file"),
        (["annotate", vcf, "--out", tmp_path / "a_file" / "o.tsv"], "is a file, not a folder"),
        (["run", vcf, "--sample", "S", "--tumor-type", "LUAD", "--outdir", tmp_path / "a_file"],
         "is a file, not a folder"),
        (["run", vcf, "--sample", "S", "--tumor-type", "LUAD", "--outdir", "/proc/krasannot-no/such"],
         "cannot create the folder"),
    ]
    for args, words in cases:
        result = run_cli(*args)
        assert result.returncode == 2 and words in one_line_error(result), (args, result.stderr)
    assert (tmp_path / "a_file").read_text() == "x" and list((tmp_path / "a_folder").iterdir()) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_unwritable_outdir_is_a_usage_error(tmp_path):
    vcf = write_vcf(tmp_path / "t.vcf", [KRAS_G12C.format(info=".")])
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    result = run_cli("run", vcf, "--sample", "S", "--tumor-type", "LUAD", "--outdir", locked)
    assert result.returncode == 2 and "not writable" in one_line_error(result)


# ---------------------------------------------------------------- report: inputs that belong together

@pytest.fixture(scope="module")
def matched_demo(tmp_path_factory):
    work = tmp_path_factory.mktemp("demo")
    annotated, matches = work / "a.tsv", work / "m.tsv"
    assert main(["annotate", str(DEMO_VCF), "--out", str(annotated)]) == 0
    assert main(["match", str(annotated), "--tumor-type", "NSCLC", "--specimen", "plasma",
                 "--prior-therapy", "sotorasib", "--out", str(matches)]) == 0
    return annotated, matches


def test_matches_record_what_they_were_made_for(matched_demo):
    _, matches = matched_demo
    summary = pd.read_csv(matches.with_name("m.samples.tsv"), sep="\t", dtype=str, keep_default_na=False)
    assert summary[["sample", "tumor_type", "specimen", "prior_therapies"]].values.tolist() == [
        ["DEMO-LUAD-01", "NSCLC", "plasma", "sotorasib"]]


@pytest.mark.parametrize("extra,words", [
    (["--sample", "DEMO-LUAD-01", "--tumor-type", "COADREAD"], "--tumor-type COADREAD but the matches"),
    (["--sample", "DEMO-LUAD-01", "--tumor-type", "NSCLC", "--specimen", "tissue"], "made for plasma"),
    (["--sample", "SOMEONE-ELSE", "--tumor-type", "NSCLC"], "samples there: DEMO-LUAD-01"),
])
def test_report_refuses_inputs_that_do_not_belong_together(matched_demo, tmp_path, extra, words):
    annotated, matches = matched_demo
    result = run_cli("report", "--annotated", annotated, "--matches", matches, "--outdir", tmp_path / "r", *extra)
    assert result.returncode == 2 and words in one_line_error(result)
    assert not (tmp_path / "r").exists()


def test_report_takes_the_tumour_type_the_matches_were_made_for(matched_demo, tmp_path):
    annotated, matches = matched_demo
    assert main(["report", "--annotated", str(annotated), "--matches", str(matches), "--sample", "DEMO-LUAD-01",
                 "--tumor-type", "nsclc", "--outdir", str(tmp_path / "r")]) == 0
    report = json.loads((tmp_path / "r" / "DEMO-LUAD-01.report.json").read_text())
    assert report["sample"]["tumor_type"] == "NSCLC" and report["key_findings"]["kras"]["status"] == "G12C"


# ---------------------------------------------------------------- the annotated VCF and hostile values

def _kras_info(annotated_vcf) -> bytes:
    with gzip.open(annotated_vcf, "rb") as handle:
        records = [line for line in handle.read().splitlines() if not line.startswith(b"#")]
    assert len(records) == 2
    with pysam.TabixFile(str(annotated_vcf), encoding="latin-1") as indexed:  # indexed: the panel record is found through the index
        assert len(list(indexed.fetch("chr12", 25245350, 25245351))) == 1
    return next(r for r in records if r.startswith(b"chr12\t")).split(b"\t")[7]


@pytest.mark.parametrize("info", ["UNDECLARED=1;ALSO_UNDECLARED", "BIG=" + "A" * 5_000_000])
def test_run_copies_undeclared_and_huge_info_into_the_annotated_vcf(tmp_path, info):
    vcf = write_vcf(tmp_path / "h.vcf", [KRAS_G12C.format(info=info), OUTSIDE])
    result = run_cli("run", vcf, "--sample", "S1", "--tumor-type", "LUAD", "--outdir", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert _kras_info(tmp_path / "out" / "S1.annotated.vcf.gz").startswith(info.encode() + b";KA_GENE=KRAS;")
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]


def test_non_utf8_info_is_a_message_or_copied_as_bytes(tmp_path):
    from krasannot.report.vcf import write_annotated_vcf

    info = "NOTE=caf\udce9"  # a Latin-1 byte: not UTF-8
    vcf = write_vcf(tmp_path / "h.vcf", [KRAS_G12C.format(info=info), OUTSIDE], encoding="utf-8")
    result = run_cli("run", vcf, "--sample", "S1", "--tumor-type", "LUAD", "--outdir", tmp_path / "out")
    assert result.returncode == 0 or (result.returncode == 2 and "UTF-8" in one_line_error(result))
    assert not (tmp_path / "out").exists() or not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]
    # the writer itself copies the bytes: annotate a clean copy, write the annotated VCF of the raw one
    clean = write_vcf(tmp_path / "clean.vcf", [KRAS_G12C.format(info="NOTE=cafe"), OUTSIDE])
    assert main(["annotate", str(clean), "--out", str(tmp_path / "a.tsv")]) == 0
    calls = pd.read_csv(tmp_path / "a.tsv", sep="\t", dtype=str, keep_default_na=False)
    calls = calls[calls["status"] != "outside_panel"]  # the report's panel calls
    counts = write_annotated_vcf(calls, "TUMOUR", tmp_path / "x.vcf.gz", input_vcf=str(vcf))
    assert counts == {"records": 2, "annotated_records": 1}
    assert _kras_info(tmp_path / "x.vcf.gz").startswith(b"NOTE=caf\xe9;KA_GENE=KRAS;")


def test_annotated_vcf_of_an_unsorted_input_is_sorted(tmp_path):
    vcf = write_vcf(tmp_path / "u.vcf", [KRAS_G12C.format(info="."), OUTSIDE, "chr1\t500\t.\tA\tC\t.\tPASS\t.\tGT:AD\t0/1:9,9"])
    assert main(["run", str(vcf), "--sample", "S1", "--tumor-type", "LUAD", "--outdir", str(tmp_path / "o")]) == 0
    with pysam.VariantFile(str(tmp_path / "o" / "S1.annotated.vcf.gz")) as out:
        assert [(r.chrom, r.pos) for r in out] == [("chr1", 500), ("chr1", 1000000), ("chr12", 25245351)]
        assert "records sorted by krasannot" in str(out.header)


# ---------------------------------------------------------------- staging folders

def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_rerun_removes_its_own_stale_staging_folders_and_cohort_ignores_them(tmp_path):
    vcf = write_vcf(tmp_path / "t.vcf", [KRAS_G12C.format(info=".")])
    out = tmp_path / "reports" / "S1"
    assert main(["run", str(vcf), "--sample", "S1", "--tumor-type", "LUAD", "--outdir", str(out)]) == 0
    # what a SIGKILL leaves: a staging folder holding a complete-looking report of another name
    stale = out / f".krasannot-report.{socket.gethostname()}-{_dead_pid()}.abc123"
    legacy = out / ".krasannot-report.k2j4x9"   # an older version's, just killed: left for a day
    for folder in (stale, legacy):
        folder.mkdir()
        for name in ("out.report.json", "out.calls.tsv", "out.matches.tsv"):
            shutil.copy(out / f"S1{name[3:]}", folder / name)
    assert main(["cohort", str(tmp_path / "reports"), "--outdir", str(tmp_path / "cohort"), "--quiet"]) == 0
    samples = pd.read_parquet(tmp_path / "cohort" / "cohort.parquet")["sample"].unique().tolist()
    assert samples == ["S1"]
    assert main(["run", str(vcf), "--sample", "S1", "--tumor-type", "LUAD", "--outdir", str(out)]) == 0
    assert not stale.exists() and legacy.exists()
    os.utime(legacy, (0, 0))  # a day and more old: abandoned
    assert main(["run", str(vcf), "--sample", "S1", "--tumor-type", "LUAD", "--outdir", str(out)]) == 0
    assert not legacy.exists()


# ---------------------------------------------------------------- progress

def test_progress_on_a_terminal_and_quiet_otherwise(tmp_path):
    import pty

    vcf = write_vcf(tmp_path / "t.vcf", [KRAS_G12C.format(info="."), OUTSIDE])
    command = [sys.executable, "-m", "krasannot.cli", "run", str(vcf), "--sample", "S1", "--tumor-type", "LUAD",
               "--outdir", str(tmp_path / "o")]
    leader, follower = pty.openpty()
    with subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=follower) as process:
        os.close(follower)
        seen = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal closed: the process is done
                break
            if not chunk:
                break
            seen += chunk
    os.close(leader)
    assert process.returncode == 0
    lines = seen.decode().replace("\r", "").splitlines()
    assert lines[:4] == [f"krasannot: reading {vcf} (vcf)", f"krasannot: {vcf}: 2 records read",
                         "krasannot: annotating 1 call(s) in the panel regions", "krasannot: matching and writing the report"], lines
    piped = run_cli(*command[3:])
    assert piped.returncode == 0 and len(piped.stderr.strip().splitlines()) == 1  # the closing line only


def test_internal_error_is_one_line_and_debug_shows_the_traceback(tmp_path, monkeypatch, capsys):
    def broken(args):
        raise RuntimeError("first line\nsecond line")

    monkeypatch.setattr("krasannot.cli.cmd_annotate", broken)
    args = ["annotate", str(DEMO_VCF), "--out", str(tmp_path / "a.tsv")]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error: RuntimeError: first line second line" in err
    with pytest.raises(RuntimeError):
        main(["--debug", *args])


@pytest.mark.skipif(shutil.which("bcftools") is None, reason="bcftools not installed")
@pytest.mark.parametrize("output_type", ["b", "u"])  # compressed and uncompressed BCF
def test_run_on_a_bcf_writes_its_records_into_the_annotated_vcf(tmp_path, output_type):
    bcf = tmp_path / "demo.bcf"
    subprocess.run(["bcftools", "view", f"-O{output_type}", "-o", str(bcf), str(DEMO_VCF)], check=True)
    assert main(["run", str(bcf), "--sample", "D1", "--tumor-type", "LUAD", "--outdir", str(tmp_path / "o")]) == 0
    with pysam.VariantFile(str(tmp_path / "o" / "D1.annotated.vcf.gz")) as vcf:
        records = list(vcf)
        assert len(records) == 8 and list(vcf.header.samples) == ["DEMO-LUAD-01-N", "DEMO-LUAD-01"]
    kras = next(r for r in records if r.pos == 25245351)
    assert kras.info["KA_HGVSP_SHORT"] == ("p.G12C",) and kras.samples["DEMO-LUAD-01"]["AD"] == (41, 17)
