"""Cohort summary: reads per-sample reports, writes cohort.html (inline SVG) and cohort.parquet."""

import io
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from conftest import REPO, shared_dir
from krasannot import columns as C
from krasannot.cli import build_parser, main
from krasannot.errors import UsageError
from krasannot.report.cohort import match_tier, write_cohort
from krasannot.report.render import write_sample_report
from report_inputs import PROVENANCE, annotate_demo, demo_matches, match_row, summary_row


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """Three samples from the real demo annotation: LUAD tissue G12C, LUAD plasma G12C, PAAD tissue G12D-like."""
    work = tmp_path_factory.mktemp("cohort")
    annotated = pd.read_csv(annotate_demo(work), sep="\t", dtype=str, keep_default_na=False)
    outdir = work / "reports"
    specs = [("S1", "LUAD", "tissue", "G12C", "loss_of_function"), ("S2", "LUAD", "plasma", "G12C", "wild_type"),
             ("S3", "PAAD", "tissue", "not_assessed", "not_assessed")]
    for sample, tumour, specimen, kras, stk11 in specs:
        calls = annotated.assign(sample=sample)
        if kras == "not_assessed":
            calls = calls[calls[C.GENE] != "KRAS"]
        matches = demo_matches(sample, tumour) if kras == "G12C" else demo_matches(sample, tumour).iloc[2:3]
        summary = pd.DataFrame([summary_row(sample, kras=kras, stk11=stk11, tumor_type=tumour)])
        write_sample_report(calls, matches, summary, sample=sample, tumor_type=tumour, specimen=specimen,
                            build="GRCh38", outdir=outdir / sample, provenance=PROVENANCE, reproducible=True)
    return outdir


def test_cohort_parquet_holds_calls_and_matches(reports, tmp_path):
    written = write_cohort([str(reports)], tmp_path, quiet=True)
    table = pd.read_parquet(written["parquet"])
    calls, matches = table[table["table"] == "calls"], table[table["table"] == "matches"]
    assert len(calls) == 5 + 5 + 4 and len(matches) == 4 + 4 + 1
    assert table[C.VAF].dtype == "float64"
    g12c = calls[calls[C.KRAS_ALLELE] == "G12C"]
    assert sorted(g12c[C.SAMPLE]) == ["S1", "S2"] and g12c[C.VAF].tolist() == [0.29, 0.29]
    assert dict(calls.groupby(C.SAMPLE)["specimen"].first()) == {"S1": "tissue", "S2": "plasma", "S3": "tissue"}
    sotorasib = matches[matches[C.THERAPY] == "sotorasib"]
    assert sorted(sotorasib[C.SAMPLE]) == ["S1", "S2"] and set(sotorasib[C.CITATIONS]) == {
        "PMID:34096690; NCT03600883; FDA 2021-05-28"}


def test_cohort_html_counts_and_plots(reports, tmp_path):
    html = write_cohort([str(reports)], tmp_path, quiet=True)["html"].read_text()
    assert "<script" not in html and html.count("<svg") == 4
    row = html[html.index("<tr><td>LUAD</td>"):].split("</tr>")[0]
    # LUAD: 2 samples, 2 KRAS mutant, 2 G12C, 1 G12C with STK11, 1 STK11 altered ...
    assert row.startswith('<tr><td>LUAD</td><td>2</td><td class="patients">2</td><td>2</td><td class="g12c">2</td>'
                          '<td>1</td><td class="stk11">1</td>')
    assert '<td class="approved-match">2 (2)</td>' in row
    assert "<title>S3 KRAS: not_assessed</title>" in html and "<title>S1 KRAS: G12C</title>" in html
    assert "plasma: 5 variants" in html and "tissue: 9 variants" in html
    assert "<title>LUAD, approved: 2 samples</title>" in html
    assert '<a href="../cohort0/reports/S1/S1.report.html">S1</a>' in html or 'S1/S1.report.html">S1</a>' in html


def test_cohort_is_deterministic(reports, tmp_path):
    first = write_cohort([str(reports)], tmp_path / "a", quiet=True)
    second = write_cohort([str(reports)], tmp_path / "b", quiet=True)
    assert first["html"].read_bytes() == second["html"].read_bytes()
    assert pd.read_parquet(first["parquet"]).equals(pd.read_parquet(second["parquet"]))


def test_progress_on_stderr_and_quiet(reports, tmp_path):
    stream = io.StringIO()
    write_cohort([str(reports)], tmp_path / "p", stream=stream)
    lines = stream.getvalue().splitlines()
    assert lines[0] == "cohort: 1/3 samples" and "cohort: 3/3 samples" in lines
    assert lines[-1].startswith("cohort: 3 samples, 14 calls, 9 matches")
    result = subprocess.run([sys.executable, "-m", "krasannot.cli", "cohort", str(reports), "--outdir",
                             str(tmp_path / "q"), "--quiet"], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0 and result.stderr == ""
    assert (tmp_path / "q" / "cohort.parquet").is_file()


def test_duplicate_sample_and_empty_dir_are_refused(reports, tmp_path):
    copy = shutil.copytree(reports / "S1", tmp_path / "copy_of_S1")
    with pytest.raises(UsageError, match="two reports"):
        write_cohort([str(reports / "S1"), str(copy)], tmp_path / "x", quiet=True)
    assert not (tmp_path / "x" / "cohort.html").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["cohort", str(empty), "--outdir", str(tmp_path / "y")]) == 2


# ---------------------------------------------------------------- real cohort (lung_msk_mind_2020)

# protein-altering MAF classes: classify calls each of them an STK11 co-mutation (in-frame ones included)
NON_SILENT_STK11 = {"Missense_Mutation", "Nonsense_Mutation", "Frame_Shift_Del", "Frame_Shift_Ins", "Splice_Site",
                    "Nonstop_Mutation", "Translation_Start_Site", "In_Frame_Del", "In_Frame_Ins"}


def _has_subcommand(name: str) -> bool:
    parser = build_parser()
    return any(name in (getattr(a, "choices", None) or {}) for a in parser._actions)


@pytest.mark.skipif(not (shared_dir() / "validation" / "lung_msk_mind_2020").is_dir(), reason="../shared absent")
def test_lung_msk_cohort_counts_match_the_source_maf(tmp_path):
    if not _has_subcommand("match"):
        pytest.skip("krasannot match is not built yet")
    from krasannot.annotate.classify import summarize_samples

    study = shared_dir() / "validation" / "lung_msk_mind_2020"
    annotated_path, matches_path = tmp_path / "lung.tsv", tmp_path / "lung.matches.tsv"
    assert main(["annotate", str(study / "data_mutations.txt"), str(study / "data_cna.txt"), str(study / "data_sv.txt"),
                 "--build", "GRCh37", "--out", str(annotated_path)]) == 0
    assert main(["match", str(annotated_path), "--tumor-type", "LUAD", "--out", str(matches_path)]) == 0
    annotated = pd.read_csv(annotated_path, sep="\t", dtype=str, keep_default_na=False)
    matches = pd.read_csv(matches_path, sep="\t", dtype=str, keep_default_na=False)
    summary = summarize_samples(annotated)
    reports = tmp_path / "reports"
    panel_samples = sorted(s for s in set(annotated[C.SAMPLE]) if "," not in s)
    for sample in panel_samples:
        write_sample_report(annotated, matches, summary, sample=sample, tumor_type="LUAD", specimen="tissue",
                            build="GRCh37", outdir=reports, provenance={}, reproducible=True)
    table = pd.read_parquet(write_cohort([str(reports)], tmp_path / "cohort", quiet=True)["parquet"])
    calls, matched = table[table["table"] == "calls"], table[table["table"] == "matches"]

    maf = pd.read_csv(study / "data_mutations.txt", sep="\t", dtype=str, comment="#", keep_default_na=False)
    g12c_expected = set(maf.loc[(maf.Hugo_Symbol == "KRAS") & (maf.HGVSp_Short == "p.G12C"), "Tumor_Sample_Barcode"])
    stk11_expected = set(maf.loc[(maf.Hugo_Symbol == "STK11") & maf.Variant_Classification.isin(NON_SILENT_STK11),
                                 "Tumor_Sample_Barcode"])
    g12c = set(calls.loc[calls[C.KRAS_ALLELE] == "G12C", C.SAMPLE])
    stk11 = set(calls.loc[(calls[C.GENE] == "STK11") & (calls[C.CALL_TYPE] == "variant")
                          & calls[C.COMUTATION].isin(["missense", "loss_of_function"]), C.SAMPLE])
    assert len(g12c_expected) == 40 and g12c == g12c_expected
    assert len(stk11_expected) == 51 and stk11 == stk11_expected
    assert len(g12c & stk11) == len(g12c_expected & stk11_expected)
    g12c_drugs = matched[matched[C.THERAPY].str.contains("sotorasib|adagrasib") & (matched[C.DIRECTION] == "sensitive")]
    assert set(g12c_drugs[C.SAMPLE]) == g12c_expected


def test_cohort_counts_approved_apart_from_investigational_and_patients_apart_from_samples(tmp_path):
    """Patient A has two timepoints with an on-label approved match; B only investigational matches (not a
    therapy match); C another tumour type's approval only; D an approved drug but not assessed; E nothing."""
    def row(sample, level, match="on_label", assessment="matched", direction="sensitive"):
        return match_row(sample, level=level, therapy=f"drug-{level}", direction=direction, tumor_type="LUAD",
                         tumor_type_match=match, assessment=assessment, evidence_id=f"e-{level}")

    specs = {"A-T0": ("PA", [row("A-T0", "approved"), row("A-T0", "investigational")]),
             "A-T1": ("PA", [row("A-T1", "guideline", match="ancestor")]),
             "B": ("PB", [row("B", "investigational"), row("B", "investigational", match="off_label")]),
             "C": ("PC", [row("C", "other_tumor_type", match="off_label"), row("C", "approved", match="off_label")]),
             "D": ("PD", [row("D", "approved", assessment="not_assessed"),
                          row("D", "resistance_standard", direction="resistant")]),
             "E": (None, [])}
    outdir = tmp_path / "reports"
    for sample, (patient, rows) in specs.items():
        matches = pd.DataFrame(rows, columns=C.MATCH_COLUMNS)
        write_sample_report(pd.DataFrame(columns=C.ANNOTATED_TSV_COLUMNS), matches, None, sample=sample,
                            tumor_type="LUAD", specimen="tissue", build="GRCh38", outdir=outdir / sample,
                            provenance=PROVENANCE, reproducible=True, patient_id=patient)
    written = write_cohort([str(outdir)], tmp_path / "cohort", quiet=True)
    html = written["html"].read_text()
    assert "6 samples from 5 patients" in html  # E, with no patient id, is its own patient
    row_html = html[html.index("<tr><td>LUAD</td>"):].split("</tr>")[0]
    assert '<td>6</td><td class="patients">5</td>' in row_html
    assert '<td class="approved-match">2 (1)</td>' in row_html
    assert '<td class="other-match">1 (1)</td>' in row_html
    assert '<td class="investigational-only">1 (1)</td>' in row_html
    samples = pd.DataFrame({C.SAMPLE: list(specs)})
    all_matches = pd.DataFrame([r for _, rows in specs.values() for r in rows], columns=C.MATCH_COLUMNS)
    assert match_tier(samples, all_matches).tolist() == [
        "approved_guideline", "approved_guideline", "investigational_only", "clinical_or_other_tumour", "none",
        "none"]
    assert "<td>PA</td>" in html and "investigational only" in html
