"""Per-sample report: content, clinical order, determinism, path confinement, schema, annotated VCF."""

import json
import os
import shutil
import subprocess

import jsonschema
import pandas as pd
import pysam
import pytest

from krasannot import columns as C
from krasannot.cli import main
from krasannot.errors import InputFormatError, UsageError
from krasannot.report.render import (REPRODUCIBLE_RUN_TIME, confined_path, parse_citations, report_schema,
                                     write_sample_report)
from report_inputs import (DEMO, DEMO_VCF, PROVENANCE, annotate_demo, demo_matches, demo_summary, summary_row)


@pytest.fixture(scope="module")
def annotated_path(tmp_path_factory):
    return annotate_demo(tmp_path_factory.mktemp("annotate"))


@pytest.fixture(scope="module")
def annotated(annotated_path):
    return pd.read_csv(annotated_path, sep="\t", dtype=str, keep_default_na=False)


def write(annotated, outdir, sample=DEMO, summary=None, matches=None, **kw):
    kw.setdefault("input_vcf", str(DEMO_VCF))
    kw.setdefault("reproducible", True)
    return write_sample_report(annotated, demo_matches() if matches is None else matches,
                               demo_summary() if summary is None else summary, sample=sample, tumor_type="LUAD",
                               specimen="tissue", build="GRCh38", outdir=outdir, provenance=PROVENANCE, **kw)


def test_report_content_json(annotated, tmp_path):
    written = write(annotated, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"{DEMO}{s}" for s in (".report.html", ".report.json", ".calls.tsv", ".matches.tsv", ".annotated.vcf.gz",
                               ".annotated.vcf.gz.tbi"))
    report = json.loads(written[".report.json"].read_text())
    assert report["sample"] == {"id": DEMO, "patient_id": None, "tumor_type": "LUAD", "specimen": "tissue",
                                "genome_build": "GRCh38"}
    assert report["qc"]["records_read"] == 8 and report["qc"]["calls_annotated"] == 5
    kras = report["key_findings"]["kras"]
    assert kras["status"] == "G12C" and kras["alleles"] == ["G12C"]
    assert [(c["hgvsp_short"], c["hgvsc"], c["vaf"], c["depth"]) for c in kras["calls"]] == [("p.G12C", "c.34G>T", 0.29, 58)]
    stk11 = report["key_findings"]["comutations"]["STK11"]
    assert stk11["status"] == "loss_of_function" and stk11["calls"][0]["hgvsp_short"] == "p.Q37*"
    assert report["key_findings"]["resistance_calls"][0]["label"] == "EGFR p.T790M"
    # matches: sensitive, resistant, prognostic, each in the matcher's order, grouped by level
    assert [(g["direction"], g["level"]) for g in report["matches"]] == [
        ("sensitive", "approved"), ("resistant", "resistance_clinical"), ("prognostic", "prognostic_clinical")]
    assert [m["therapy"] for m in report["matches"][0]["matches"]] == ["sotorasib", "adagrasib"]
    sotorasib = report["matches"][0]["matches"][0]
    assert sotorasib["citations"][:2] == [
        {"text": "PMID:34096690", "kind": "PMID", "url": "https://pubmed.ncbi.nlm.nih.gov/34096690/"},
        {"text": "NCT03600883", "kind": "NCT", "url": "https://clinicaltrials.gov/study/NCT03600883"}]
    assert sotorasib["citations"][2] == {"text": "FDA 2021-05-28", "kind": "other", "url": None}  # no drug named
    assert report["matches"][1]["matches"][0]["caveats"] == [
        "low VAF", "caller filter not PASS", "conflict: sensitive: osimertinib (clinical)"]
    assert report["provenance"]["run_time"] == REPRODUCIBLE_RUN_TIME
    assert report["provenance"]["variant_caller"] == ["krasannot demo (synthetic patient, GRCh38)"]
    # all five panel calls are in the box (KRAS, STK11, KEAP1, TP53, resistance EGFR): none left as "other"
    assert report["other_variants"] == []
    assert report["not_assessed"] == []
    jsonschema.validate(report, report_schema())


def test_report_html_sections_in_clinical_order(annotated, tmp_path):
    html = write(annotated, tmp_path)[".report.html"].read_text()
    positions = [html.index(f'<section id="{s}">') for s in
                 ("sample", "key-findings", "matches", "other-variants", "not-assessed", "provenance")]
    assert positions == sorted(positions)
    assert '<span class="allele">KRAS G12C</span>' in html
    assert "c.34G&gt;T" in html and "VAF 29.0%" in html
    assert '<a href="https://pubmed.ncbi.nlm.nih.gov/34096690/" rel="noopener noreferrer">PMID:34096690</a>' in html
    assert '<a href="https://clinicaltrials.gov/study/NCT03785249"' in html
    assert "<strong>sotorasib</strong>" in html and "<strong>adagrasib</strong>" in html
    assert "2026.11" in html and "2026-11-21" in html
    # self-contained: no script, no external fetch, print CSS present
    assert "<script" not in html and "src=" not in html and "@import" not in html
    assert "@media print" in html
    # the raw input is not embedded: FORMAT fields of the VCF do not appear
    assert "GT:AD:AF:DP" not in html and "0/1:41,17" not in html


def test_not_assessed_kras_and_other_variants(annotated, tmp_path):
    summary = pd.DataFrame([summary_row(DEMO, kras="not_assessed", stk11="not_assessed", resistance="")])
    unclassified = annotated.assign(**{C.KRAS_ALLELE: "", C.COMUTATION: "", C.RESISTANCE: ""})
    matches = demo_matches().iloc[:1].assign(assessment="not_assessed", biomarker="KRAS wild_type")
    written = write(unclassified, tmp_path, summary=summary, matches=matches)
    report = json.loads(written[".report.json"].read_text())
    html = written[".report.html"].read_text()
    assert report["key_findings"]["kras"]["alleles"] == []
    assert "KRAS not assessed" in html and '<span class="allele">KRAS G12C' not in html
    regions = {r["region"]: r["reason"] for r in report["not_assessed"]}
    assert set(regions) == {"KRAS codons 12, 13 and 61", "STK11", "KRAS wild-type"}
    assert "wild-type is not claimed" in regions["KRAS codons 12, 13 and 61"]
    assert report["matches"][0]["matches"][0]["caveats"] == ["not assessed: the region was not assayed"]
    # unclassified calls are listed as other variants, with their protein change
    assert sorted(v["label"] for v in report["other_variants"]) == [
        "EGFR p.T790M", "KEAP1 p.G333C", "KRAS p.G12C", "STK11 p.Q37*", "TP53 p.R273H"]


def test_same_inputs_give_byte_identical_outputs(annotated, tmp_path):
    first, second = write(annotated, tmp_path / "a"), write(annotated, tmp_path / "b")
    for suffix in first:
        assert first[suffix].read_bytes() == second[suffix].read_bytes(), suffix
    # without --reproducible only provenance.run_time differs; HTML and TSV stay identical
    third = write(annotated, tmp_path / "c", reproducible=False)
    for suffix in (".report.html", ".calls.tsv", ".matches.tsv", ".annotated.vcf.gz"):
        assert first[suffix].read_bytes() == third[suffix].read_bytes(), suffix
    a, c = json.loads(first[".report.json"].read_text()), json.loads(third[".report.json"].read_text())
    assert c["provenance"].pop("run_time") != REPRODUCIBLE_RUN_TIME
    a["provenance"].pop("run_time")
    assert a == c


@pytest.mark.parametrize("sample", ["../evil", "a/b", "a\\b", ".hidden", "a\x00b", "x..y", "line\nbreak", ""])
def test_sample_ids_that_could_escape_the_outdir_are_refused(annotated, tmp_path, sample):
    outdir = tmp_path / "out"
    with pytest.raises(UsageError, match="cannot name an output file"):
        write(annotated, outdir, sample=sample)
    assert sorted(p.name for p in tmp_path.iterdir()) == [] or not any(outdir.iterdir())


def test_symlinked_output_name_pointing_outside_is_refused(annotated, tmp_path):
    outdir = tmp_path / "out"
    outdir.mkdir()
    (outdir / f"{DEMO}.report.html").symlink_to(tmp_path / "elsewhere.html")
    with pytest.raises(UsageError, match="outside"):
        write(annotated, outdir)
    assert not (tmp_path / "elsewhere.html").exists()
    with pytest.raises(UsageError):
        confined_path(outdir, "../x.json")


def test_failure_leaves_no_output(annotated, tmp_path, monkeypatch):
    outdir = tmp_path / "out"
    with pytest.raises(InputFormatError, match="cannot read the VCF header"):
        write(annotated, outdir, input_vcf=str(tmp_path / "missing.vcf.gz"))
    assert not outdir.exists() or list(outdir.iterdir()) == []

    # a failure after the HTML, JSON and TSVs were staged: none of them reaches the outdir
    def failing_vcf(*args, **kwargs):
        raise InputFormatError("disk full", path="x.vcf.gz")

    monkeypatch.setattr("krasannot.report.vcf.write_annotated_vcf", failing_vcf)
    with pytest.raises(InputFormatError, match="disk full"):
        write(annotated, outdir)
    assert list(outdir.iterdir()) == []  # neither outputs nor the staging directory


def test_schema_rejects_a_report_without_schema_version(annotated, tmp_path):
    report = json.loads(write(annotated, tmp_path)[".report.json"].read_text())
    del report["schema_version"]
    with pytest.raises(jsonschema.ValidationError, match="schema_version"):
        jsonschema.validate(report, report_schema())


def test_citation_links_only_from_numbers():
    cited = parse_citations("PMID 34096690; nct03600883; javascript:alert(1); https://evil.example/x; PMID:12ab")
    assert [c["url"] for c in cited] == ["https://pubmed.ncbi.nlm.nih.gov/34096690/",
                                         "https://clinicaltrials.gov/study/NCT03600883", None, None, None]


def test_tsv_outputs_hold_only_the_sample(annotated, tmp_path):
    other = annotated.assign(sample="OTHER")
    matches = pd.concat([demo_matches(), demo_matches("OTHER")])
    written = write(pd.concat([annotated, other]), tmp_path, matches=matches)
    calls = pd.read_csv(written[".calls.tsv"], sep="\t", dtype=str, keep_default_na=False)
    assert list(calls.columns) == C.ANNOTATED_TSV_COLUMNS
    assert set(calls[C.SAMPLE]) == {DEMO} and len(calls) == 5  # outside-panel records left out
    matched = pd.read_csv(written[".matches.tsv"], sep="\t", dtype=str, keep_default_na=False)
    assert list(matched.columns) == C.MATCH_COLUMNS
    assert matched[C.THERAPY].tolist() == ["sotorasib", "adagrasib", "osimertinib", ""]


def test_annotated_vcf_keeps_every_record_and_annotates_panel_alleles(annotated, tmp_path):
    path = write(annotated, tmp_path)[".annotated.vcf.gz"]
    with pysam.VariantFile(str(path)) as vcf:
        assert "KA_HGVSP_SHORT" in vcf.header.info and vcf.header.info["KA_HGVSP_SHORT"].number == "A"
        records = list(vcf)
        assert len(records) == 8 and list(vcf.header.samples) == ["DEMO-LUAD-01-N", DEMO]
        by_pos = {(r.chrom, r.pos): r for r in records}
    kras = by_pos[("chr12", 25245351)]
    assert kras.info["KA_HGVSP_SHORT"] == ("p.G12C",) and kras.info["KA_KRAS_ALLELE"] == ("G12C",)
    assert kras.info["KA_HGVSC"] == ("c.34G>T",) and kras.samples[DEMO]["AD"] == (41, 17)
    assert by_pos[("chr7", 55181378)].info["KA_RESISTANCE"] == ("EGFR_TKI_resistance",)
    assert by_pos[("chr7", 55181378)].info["KA_CAVEATS"] == ("filtered&low_vaf",)
    assert "KA_GENE" not in by_pos[("chr1", 1014143)].info  # outside the panel
    assert (tmp_path / f"{DEMO}.annotated.vcf.gz.tbi").is_file()


def test_annotated_vcf_from_calls_without_a_vcf(annotated, tmp_path):
    """A MAF-like input: records built from the calls; a MAF insertion (empty REF) gets an N anchor."""
    insertion = annotated[annotated[C.GENE] == "KRAS"].assign(
        **{C.POS: "25245352", C.REF: "", C.ALT: "GCC", C.HGVSP_SHORT: "p.G12_G13insA", C.KRAS_ALLELE: ""})
    calls = pd.concat([annotated, insertion])
    path = write(calls, tmp_path, input_vcf=None)[".annotated.vcf.gz"]
    with pysam.VariantFile(str(path)) as vcf:
        records = [(r.chrom, r.pos, r.ref, r.alts[0], r.info.get("KA_HGVSP_SHORT")) for r in vcf]
        assert vcf.header.contigs["chr12"].length == 133275309
    assert ("chr12", 25245351, "C", "A", ("p.G12C",)) in records
    assert ("chr12", 25245351, "N", "NGCC", ("p.G12_G13insA",)) in records
    assert len(records) == 6 and [r[0] for r in records] == ["chr7", "chr12", "chr12", "chr17", "chr19", "chr19"]


@pytest.mark.skipif(shutil.which("bcftools") is None, reason="bcftools not installed")
def test_bcftools_reads_and_indexes_the_annotated_vcf(annotated, tmp_path):
    path = write(annotated, tmp_path)[".annotated.vcf.gz"]
    view = subprocess.run(["bcftools", "view", "-H", str(path)], capture_output=True, text=True)
    assert view.returncode == 0 and len(view.stdout.splitlines()) == 8
    query = subprocess.run(["bcftools", "query", "-r", "chr12", "-f", "%POS %INFO/KA_HGVSP_SHORT %INFO/KA_GENE\n",
                            str(path)], capture_output=True, text=True)
    assert query.returncode == 0 and query.stdout == "25245351 p.G12C KRAS\n"
    index = subprocess.run(["bcftools", "index", "-f", str(path)], capture_output=True, text=True)
    assert index.returncode == 0 and (tmp_path / f"{DEMO}.annotated.vcf.gz.csi").is_file()


def test_cli_report_reads_files_beside_the_tables(annotated_path, tmp_path):
    matches_path = tmp_path / "matches.tsv"
    demo_matches().to_csv(matches_path, sep="\t", index=False)
    demo_summary().to_csv(tmp_path / "matches.samples.tsv", sep="\t", index=False)
    outdir = tmp_path / "report"
    assert main(["report", "--annotated", str(annotated_path), "--matches", str(matches_path), "--sample", DEMO,
                 "--tumor-type", "LUAD", "--outdir", str(outdir), "--specimen", "tissue", "--vcf", str(DEMO_VCF),
                 "--reproducible"]) == 0
    report = json.loads((outdir / f"{DEMO}.report.json").read_text())
    assert report["sample"]["genome_build"] == "GRCh38"  # from annotate's summary JSON
    assert report["qc"]["records_read"] == 8
    roles = [i["role"] for i in report["provenance"]["inputs"]]
    assert roles == ["input", "annotated", "matches", "vcf"]
    assert all(i["sha256"].startswith("sha256:") and "/" not in i["name"] for i in report["provenance"]["inputs"])
    assert report["key_findings"]["kras"]["status"] == "G12C"


def test_cli_report_bad_sample_is_exit_2(annotated_path, tmp_path, capsys):
    matches_path = tmp_path / "matches.tsv"
    demo_matches().to_csv(matches_path, sep="\t", index=False)
    demo_summary().to_csv(tmp_path / "matches.samples.tsv", sep="\t", index=False)
    code = main(["report", "--annotated", str(annotated_path), "--matches", str(matches_path), "--sample", "../x",
                 "--tumor-type", "LUAD", "--outdir", str(tmp_path / "o")])
    assert code == 2
    err = capsys.readouterr().err
    assert "cannot name an output file" in err and "Traceback" not in err
    assert not os.path.exists(tmp_path / "x.report.html")
