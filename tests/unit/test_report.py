"""Per-sample report: content, clinical order, determinism, path confinement, schema, annotated VCF."""

import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser

import jsonschema
import numpy as np
import pandas as pd
import pysam
import pytest

from krasannot import columns as C
from krasannot.cli import main
from krasannot.errors import InputFormatError, UsageError
from krasannot.evidence.kb import shipped_kb
from krasannot.evidence.levels import LEVELS
from krasannot.evidence.match import match_samples
from krasannot.report.render import (DISPLAY_NAMES, REPRODUCIBLE_RUN_TIME, build_report, confined_path, human,
                                     parse_citations, report_schema, sample_calls, sample_matches,
                                     write_sample_report)
from report_inputs import (DEMO, DEMO_VCF, PROVENANCE, annotate_demo, demo_matches, demo_summary, match_row,
                           summary_row)


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


# ---------------------------------------------------------------- every call type, negative results (issue 11)

CTDNA_HEADER = "sample\tgene\talteration\ttype\tvaf\tdepth\talt_depth\torigin\n"


def run_table(tmp_path, name, rows, sample, tumor_type, *extra):
    """`krasannot run` on a ctDNA call table; returns (exit code, report dict, html)."""
    table = tmp_path / f"{name}.tsv"
    table.write_text(CTDNA_HEADER + "".join("\t".join(row) + "\n" for row in rows))
    outdir = tmp_path / name
    code = main(["run", str(table), "--sample", sample, "--tumor-type", tumor_type, "--outdir", str(outdir),
                 "--reproducible", *extra])
    if code != 0:
        return code, None, None
    return (code, json.loads((outdir / f"{sample}.report.json").read_text()),
            (outdir / f"{sample}.report.html").read_text())


def test_sample_calls_turn_missing_values_of_every_dtype_into_empty_text():
    frame = pd.DataFrame({
        C.SAMPLE: pd.Series(["S", "S", "S"], dtype="category"), C.STATUS: ["annotated"] * 3,
        C.GENE: ["KRAS", "MET", "ALK"], C.CALL_TYPE: ["variant", "copy_number", "fusion"],
        C.DEPTH: pd.array([58, pd.NA, pd.NA], dtype="Int64"), C.VAF: pd.array([0.29, pd.NA, 0.01], dtype="Float64"),
        C.HOTSPOT: pd.array([True, pd.NA, False], dtype="boolean"), C.COPY_NUMBER: [np.nan, 9.0, np.nan],
        C.CN_STATE: pd.Series(["", "amplification", None], dtype="category"), C.FUSION_5P: [None, None, "EML4"]})
    calls = sample_calls(frame, "S")
    assert calls[C.DEPTH].tolist() == ["58", "", ""] and calls[C.VAF].tolist() == ["0.29", "", "0.01"]
    assert calls[C.HOTSPOT].tolist() == ["True", "", "False"] and calls[C.COPY_NUMBER].tolist() == ["", "9.0", ""]
    assert calls[C.CN_STATE].tolist() == ["", "amplification", ""] and calls[C.GENOTYPE].tolist() == ["", "", ""]


def test_run_reports_copy_number_fusion_and_depthless_calls(tmp_path):
    """The in-memory annotated table of `run` (nullable Int64 depth) with CNA, fusion and no-depth rows."""
    code, report, html = run_table(tmp_path, "mixed", [
        ["P1", "KRAS", "G12C", "SNV", "0.052", "2500", "130", "somatic"],
        ["P1", "KRAS", "KRAS amplification", "CNA", "", "", "", ""],
        ["P1", "ALK", "EML4-ALK", "fusion", "0.003", "", "", ""],
        ["P1", "STK11", "Q37*", "SNV", "0.04", "", "", ""]], "P1", "LUAD")
    assert code == 0
    calls = {c["label"]: c for c in report["key_findings"]["kras"]["calls"] + report["other_variants"]
             + report["key_findings"]["comutations"]["STK11"]["calls"]}
    assert (calls["KRAS p.G12C"]["depth"], calls["KRAS p.G12C"]["vaf"]) == (2500, 0.052)
    assert (calls["KRAS amplification"]["depth"], calls["KRAS amplification"]["vaf"]) == (None, None)
    assert (calls["EML4::ALK fusion"]["depth"], calls["EML4::ALK fusion"]["vaf"]) == (None, 0.003)
    assert (calls["STK11 p.Q37*"]["depth"], calls["STK11 p.Q37*"]["vaf"]) == (None, 0.04)
    assert report["result"]["panel_calls"] == 4 and report["result"]["records_outside_panel"] == 0
    assert "EML4::ALK fusion" in html and "KRAS amplification" in html


def _outside_only(annotated, sample):
    return annotated[annotated[C.STATUS] == "outside_panel"].assign(**{C.SAMPLE: sample})


def test_negative_result_is_a_full_report(annotated, tmp_path):
    """No panel call: what was read, the regions assessed and the records outside them, no alteration found,
    KRAS/STK11/KEAP1/TP53 not assessed, and the tumour-agnostic matches that still apply."""
    samples = pd.DataFrame({C.SAMPLE: ["NEG"], C.TUMOR_TYPE: ["COADREAD"], "specimen": ["tissue"],
                            "prior_therapies": [[]], "msi_high": [True], "tmb": [np.nan]})
    matches = match_samples(pd.DataFrame(columns=C.ANNOTATED_TSV_COLUMNS), samples, shipped_kb())
    provenance = dict(PROVENANCE, records_read=3, rows_by_status={"outside_panel": 3}, build_reason="given")
    written = write_sample_report(_outside_only(annotated, "NEG"), matches, None, sample="NEG",
                                  tumor_type="COADREAD", specimen="tissue", build="GRCh38", outdir=tmp_path,
                                  provenance=provenance, reproducible=True)
    report = json.loads(written[".report.json"].read_text())
    jsonschema.validate(report, report_schema())
    result = report["result"]
    assert result["panel_calls"] == 0 and result["records_read"] == 3 and result["records_outside_panel"] == 3
    assert result["statement"].startswith("No alteration found in the panel genes (26 panel genes; "
                                          "3 records read, 3 outside these genes).")
    assert {"KRAS", "STK11", "KEAP1", "TP53", "NRAS", "BRAF"} <= set(result["panel_genes_read"])
    assert result["not_assessed"] == ["KRAS codons 12, 13 and 61", "STK11", "KEAP1", "TP53"]
    assert "pembrolizumab (approved)" in result["therapies"] and "nivolumab (approved)" in result["therapies"]
    assert not any("cetuximab" in t for t in result["therapies"])  # its RAS wild-type term was not assayed
    # options that need a test first come after every matched one, under their own heading
    needs = [g["needs_assay"] for g in report["matches"] if g["direction"] == "sensitive"]
    assert needs == sorted(needs) and needs[0] is False and needs[-1] is True
    assert {m["therapy"] for g in report["matches"] if g["needs_assay"] for m in g["matches"]} >= {
        "cetuximab", "panitumumab"}
    assert report["qc"]["panel_calls"] == 0 and report["other_variants"] == []
    regions = {r["region"] for r in report["not_assessed"]}
    assert {"KRAS codons 12, 13 and 61", "STK11", "KEAP1", "TP53"} <= regions
    html = written[".report.html"].read_text()
    assert html.index('<section id="result">') < html.index('<section id="sample">')
    statement = html[html.index('<p id="result-statement">'):].split("</p>")[0]
    assert "No alteration found in the panel genes." in statement
    assert "only if confirmed by an assay" in html
    assert "KRAS not assessed" in html and "Therapy matches that apply: " in html and "dostarlimab (approved)" in html
    assert "<td>3</td>" in html  # records outside the panel genes
    assert (tmp_path / "NEG.calls.tsv").read_text().count("\n") == 1  # header only


def test_negative_result_for_a_sample_absent_from_the_annotated_table(annotated, tmp_path):
    written = write_sample_report(annotated, pd.DataFrame(columns=C.MATCH_COLUMNS), None, sample="ABSENT",
                                  tumor_type="LUAD", specimen=None, build=None, outdir=tmp_path, provenance={},
                                  reproducible=True)
    report = json.loads(written[".report.json"].read_text())
    assert report["result"]["panel_calls"] == 0 and report["result"]["records_outside_panel"] is None
    assert report["result"]["statement"] == (
        "No alteration found in the panel genes (26 panel genes; records read not recorded, outside these "
        "genes not recorded). Not assessed: KRAS codons 12, 13 and 61, STK11, KEAP1, TP53 (the input does not "
        "show they were assayed, so wild-type is not claimed). No therapy match applies.")


def test_run_on_an_assayed_negative_ctdna_table(tmp_path):
    """KRAS/NRAS hotspots reported not detected: KRAS wild-type (assayed), no alteration found, MSI-H matches."""
    code, report, html = run_table(tmp_path, "neg", [
        ["P2", "KRAS/NRAS", "G12/G13/Q61 not detected", "not detected", "", "", "", ""]], "P2", "COADREAD",
        "--msi-high")
    assert code == 0
    assert report["result"]["panel_calls"] == 0 and report["key_findings"]["kras"]["status"] == "wild_type"
    assert "KRAS codons 12, 13 and 61" not in report["result"]["not_assessed"]
    assert report["result"]["statement"].startswith("No alteration found in the panel genes")
    assert "pembrolizumab (approved)" in report["result"]["therapies"]
    assert "KRAS wild-type" in html and "No alteration found in the panel genes." in html


# ---------------------------------------------------------------- resistance in context (issue 15)

def test_naive_luad_kras_g12d_shows_no_resistance(tmp_path):
    code, report, html = run_table(tmp_path, "g12d", [["S", "KRAS", "G12D", "SNV", "0.2", "800", "", ""]],
                                   "LUADG12D", "LUAD")
    assert code == 0 and report["key_findings"]["kras"]["alleles"] == ["G12D"]
    assert report["result"]["statement"].startswith("1 alteration found in the panel genes (26 panel genes; "
                                                    "1 record read, 0 outside these genes): KRAS p.G12D.")
    assert "<strong>1 alteration found in the panel genes.</strong>" in html
    assert report["key_findings"]["resistance"] == [] and report["key_findings"]["resistance_alterations"] == []
    assert report["key_findings"]["resistance_calls"] == []
    assert "resistant to" not in html and "resistance to" not in html.lower().replace("no resistance", "")
    assert "no resistance evidence applies to this sample" in html


def test_crc_kras_g12d_resistance_in_plain_words(tmp_path):
    code, report, html = run_table(tmp_path, "crc", [["S", "KRAS", "G12D", "SNV", "0.2", "800", "", ""]],
                                   "CRCG12D", "COADREAD")
    assert code == 0
    statements = report["key_findings"]["resistance_alterations"]
    assert "KRAS p.G12D: resistant to cetuximab in this tumour type (crc-ras-mutant-cetuximab-resistance, " \
           "resistance, standard-of-care evidence)" in statements
    assert [f["direction"] for f in report["key_findings"]["resistance"]] == ["resistant"] * len(statements)
    box = html[html.index('<dd id="resistance">'):].split("</dd>")[0]
    assert "resistant to cetuximab in this tumour type" in box and "resistant to panitumumab" in box
    assert '<span class="mono">crc-ras-mutant-cetuximab-resistance</span>' in box


def test_resistance_comes_from_matched_rows_only_and_prognostic_is_not_resistance(annotated, tmp_path):
    """A call tagged resistant without a matched resistant row says nothing; a not-assessed resistant row
    neither; a prognostic row with a therapy is shown as prognostic."""
    tagged = annotated.assign(**{C.RESISTANCE: "antiEGFR;G12Ci_acquired;ICI_poor_outcome"})
    common = dict(tumor_type="LUAD", tumor_type_match="on_label", evidence_tumor_types="LUAD")
    matches = pd.DataFrame([
        match_row(DEMO, level="resistance_clinical", therapy="sotorasib", direction="resistant",
                  assessment="not_assessed", biomarker="KRAS Y96D", evidence_id="r-not-assessed", **common),
        match_row(DEMO, level="prognostic_clinical", therapy="anti_PD1_PDL1", direction="prognostic",
                  assessment="matched", biomarker="STK11 loss_of_function", matched_calls="STK11 p.Q37* (VAF 0.42)",
                  evidence_id="luad-stk11-anti-pd1-prognostic", **common)], columns=C.MATCH_COLUMNS)
    written = write(tagged, tmp_path, matches=matches, summary=pd.DataFrame([summary_row(DEMO, resistance="")]))
    report = json.loads(written[".report.json"].read_text())
    findings = report["key_findings"]
    assert findings["resistance"] == [] and findings["resistance_calls"] == []
    assert [f["statement"] for f in findings["prognostic"]] == [
        "STK11 p.Q37*: prognostic for outcome on anti-PD-1/PD-L1 antibodies in this tumour type, not a "
        "resistance finding (luad-stk11-anti-pd1-prognostic, prognostic, clinical evidence)"]
    html = written[".report.html"].read_text()
    assert "resistant to" not in html and "no resistance evidence applies" in html
    assert '<dd id="prognostic">' in html
    for tag in ("antiEGFR", "G12Ci_acquired", "ICI_poor_outcome", "anti_PD1_PDL1"):
        assert tag not in html, tag
    # the tagged EGFR call is listed as an other variant, with no resistance label
    assert "EGFR p.T790M" in [v["label"] for v in report["other_variants"]]


# ---------------------------------------------------------------- no internal identifiers in the HTML

class _Text(HTMLParser):
    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.parts = []
        self.feed(html)

    def handle_data(self, data):
        self.parts.append(data)

    def handle_starttag(self, tag, attrs):
        self.parts += [v for k, v in attrs if k not in ("class", "id", "href") and v]


def internal_ids() -> set[str]:
    kb = shipped_kb()
    ids = set(kb.drug_classes) | {e.resistance_tag for e in kb.entries if e.resistance_tag}
    ids |= {level for level in LEVELS if "_" in level}
    ids |= {c for e in kb.entries for c in e.caveats if re.fullmatch(r"[A-Za-z0-9]+(_[A-Za-z0-9]+)+", c)}
    ids |= {key for key in DISPLAY_NAMES if "_" in key or not key.islower()}
    ids |= {t for e in kb.entries for t in e.tumor_types if "_" in t}
    return ids


def test_html_shows_no_internal_identifier(tmp_path):
    """Scenarios whose matches carry every kind of id (levels, classes, tags, caveat codes, seed citations,
    off-label, progressed-on): none of the ids reaches the text a reader sees."""
    rows = [["S", "KRAS", "G12C", "SNV", "0.3", "900", "", ""], ["S", "STK11", "Q37*", "SNV", "0.3", "", "", ""],
            ["S", "KRAS", "Y96D", "SNV", "0.02", "", "", ""], ["S", "MET", "MET amplification", "CNA", "", "", "", ""],
            ["S", "TP53", "R273H", "SNV", "0.004", "", "", ""],
            ["S", "EGFR", "L858R", "SNV", "0.3", "", "", ""]]  # off-label EGFR TKIs in PAAD
    texts, levels = [], set()
    for i, (tumour, extra) in enumerate((("COADREAD", ["--prior-therapy", "sotorasib"]), ("PAAD", []),
                                         ("LUAD", ["--specimen", "plasma", "--prior-therapy", "sotorasib"]),
                                         ("PAAD", ["--msi-high", "--tmb", "12"]))):
        code, report, html = run_table(tmp_path, f"s{i}", rows, f"S{i}{tumour}", tumour, *extra)
        assert code == 0
        texts.append(" ".join(_Text(html).parts))
        levels |= {g["level"] for g in report["matches"]}
    assert {"resistance_standard", "resistance_clinical", "other_tumor_type", "investigational"} <= levels
    text = "\n".join(texts)
    assert "seed paper" in text and "off-label" in text and "any solid tumour (tumour-agnostic)" in text
    ids = internal_ids()
    assert {"anti_PD1_PDL1", "KRAS_G12C_inhibitor", "anti_EGFR", "G12Ci_acquired", "antiEGFR", "ICI_poor_outcome",
            "resistance_standard", "other_tumor_type", "possible_clonal_haematopoiesis", "off_label"} <= ids
    leaked = sorted(i for i in ids if re.search(rf"(?<![\w-]){re.escape(i)}(?![\w-])", text))
    assert leaked == []
    assert "seed 0" not in text
    # no underscore anywhere but in paths and URLs (matched first: a URL's query may follow a .json), file names
    # and checksums
    assert "_" not in re.sub(r"\S*/\S*|\S+\.(tsv|json)\b|sha256:\S+|\b[NX][MR]_\d+\.\d+", "", text)


def test_human_names_for_ids_and_fallback():
    assert human("anti_PD1_PDL1") == "anti-PD-1/PD-L1 antibodies"  # the evidence base's class name
    assert human("resistance_standard") == "resistance, standard-of-care evidence"
    assert human("G12Ci_acquired") == "acquired resistance to KRAS G12C inhibitors"
    assert human("some_new_class") == "some new class"
    assert human("progressed on anti_EGFR (cetuximab)") == "progressed on anti-EGFR antibodies (cetuximab)"
    assert human("approved for antiEGFR use") == "approved for resistance to anti-EGFR antibodies use"
    assert human("") == "" and human(None) == ""


# ---------------------------------------------------------------- citations as links

def test_every_citation_kind_is_a_link_from_a_validated_id():
    cited = parse_citations(
        "PMID:34096690; NCT03600883 (CodeBreaK 100); doi:10.1056/NEJMoa1908075; "
        "FDA LUMAKRAS (sotorasib) label 2021-05-28; FDA OPDIVO (nivolumab) and YERVOY (ipilimumab) labels; "
        "FDA VECTIBIX label; seed 003_d1f951adf0b552d3; guideline NCCN Guidelines: Colon Cancer; "
        "URL https://example.org/x; doi:10.1000/a\"><b>; doi:10.1000/a b; doi:10.12/short; "
        "NCT0360088; NCT036008831; javascript:alert(1)")
    assert [(c["kind"], c["url"]) for c in cited] == [
        ("PMID", "https://pubmed.ncbi.nlm.nih.gov/34096690/"),
        ("NCT", "https://clinicaltrials.gov/study/NCT03600883"),
        ("DOI", "https://doi.org/10.1056/NEJMoa1908075"),
        ("FDA", "https://dailymed.nlm.nih.gov/dailymed/search.cfm?query=sotorasib"),
        ("FDA", "https://dailymed.nlm.nih.gov/dailymed/search.cfm?query=nivolumab"),
        ("FDA", "https://dailymed.nlm.nih.gov/dailymed/search.cfm?query=VECTIBIX"),
        ("seed", None), ("other", None), ("other", None),
        ("DOI", "https://doi.org/10.1000/a%22%3E%3Cb%3E"),  # quotes and brackets percent-encoded
        ("other", None), ("other", None), ("other", None), ("other", None), ("other", None)]
    assert cited[1]["text"] == "NCT03600883 (CodeBreaK 100)"
    assert cited[6]["text"].startswith("seed paper: Tang et al., World J Gastroenterol")
    schema = report_schema()["$defs"]["citation"]
    for citation in cited:
        jsonschema.validate(citation, schema)


def test_citation_links_in_the_html(annotated, tmp_path):
    matches = demo_matches().assign(**{C.CITATIONS: [
        "PMID:34096690; NCT03600883 (CodeBreaK 100); FDA LUMAKRAS (sotorasib) label 2021-05-28",
        "doi:10.1056/NEJMoa2204619; FDA KRAZATI (adagrasib) label", "PMID:28126333", "PMID:29773717"]})
    html = write(annotated, tmp_path, matches=matches)[".report.html"].read_text()
    for url, text in (("https://clinicaltrials.gov/study/NCT03600883", "NCT03600883 (CodeBreaK 100)"),
                      ("https://doi.org/10.1056/NEJMoa2204619", "doi:10.1056/NEJMoa2204619"),
                      ("https://dailymed.nlm.nih.gov/dailymed/search.cfm?query=adagrasib",
                       "FDA KRAZATI (adagrasib) label")):
        assert f'<a href="{url}" rel="noopener noreferrer">{text}</a>' in html


# ---------------------------------------------------------------- rank order

def test_matches_keep_the_rank_order_within_each_direction(annotated, tmp_path):
    common = dict(tumor_type="LUAD", tumor_type_match="on_label", assessment="matched", evidence_tumor_types="LUAD")
    rows = [match_row(DEMO, level="approved", therapy="sotorasib", direction="sensitive", rank="2", **common),
            match_row(DEMO, level="prognostic_clinical", therapy="", direction="prognostic", rank="5", **common),
            match_row(DEMO, level="resistance_clinical", therapy="erlotinib", direction="resistant", rank="4",
                      **common),
            match_row(DEMO, level="approved", therapy="osimertinib", direction="sensitive", rank="1", **common),
            match_row(DEMO, level="investigational", therapy="adagrasib", direction="sensitive", rank="3", **common)]
    matches = pd.DataFrame(rows, columns=C.MATCH_COLUMNS)
    ordered = sample_matches(matches, DEMO)
    assert ordered[C.THERAPY].tolist() == ["osimertinib", "sotorasib", "adagrasib", "erlotinib", ""]
    report = json.loads(write(annotated, tmp_path, matches=matches)[".report.json"].read_text())
    assert [(g["direction"], g["level"], [m["therapy"] for m in g["matches"]], [m["rank"] for m in g["matches"]])
            for g in report["matches"]] == [
        ("sensitive", "approved", ["osimertinib", "sotorasib"], [1, 2]),
        ("sensitive", "investigational", ["adagrasib"], [3]),
        ("resistant", "resistance_clinical", ["erlotinib"], [4]), ("prognostic", "prognostic_clinical", [""], [5])]
    assert [[m["position"] for m in g["matches"]] for g in report["matches"]] == [[1, 2], [3], [1], [1]]
    html = (tmp_path / f"{DEMO}.report.html").read_text()
    assert "Ordered by rank within each direction" in html
    assert html.index("<strong>osimertinib</strong>") < html.index("<strong>sotorasib</strong>") < html.index(
        "<strong>adagrasib</strong>") < html.index("<strong>erlotinib</strong>")
    # an older table without the column: the matcher's arrival order within each direction
    older = sample_matches(matches.drop(columns="rank"), DEMO)
    assert older[C.THERAPY].tolist() == ["sotorasib", "osimertinib", "adagrasib", "erlotinib", ""]


def test_build_report_takes_a_patient_id(annotated):
    report = build_report(sample_calls(annotated, DEMO), sample_matches(demo_matches(), DEMO), {}, sample=DEMO,
                          tumor_type="LUAD", specimen=None, build="GRCh38", provenance={}, patient_id="P-7")
    assert report["sample"]["patient_id"] == "P-7"


def test_synonymous_and_non_coding_calls_are_not_alterations(annotated, tmp_path):
    silent = annotated.assign(**{C.FUNCTIONAL_CLASS: ["synonymous" if g == "TP53" else "non_coding" if g == "KEAP1"
                                                      else c for g, c in zip(annotated[C.GENE],
                                                                             annotated[C.FUNCTIONAL_CLASS])]})
    report = json.loads(write(silent, tmp_path)[".report.json"].read_text())
    assert report["result"]["panel_calls"] == 3
    assert report["result"]["statement"].startswith(
        "3 alterations found in the panel genes (26 panel genes; 8 records read, outside these genes not "
        "recorded): EGFR p.T790M, KRAS p.G12C, STK11 p.Q37*. 2 synonymous or non-coding variants listed below.")


def test_citation_notes_with_semicolons_stay_whole():
    cited = parse_citations("seed 003_x (Tang et al., World J Gastroenterol 2023;29(6)); PMID:1;NCT03600883")
    assert [(c["kind"], c["text"]) for c in cited] == [
        ("seed", "seed paper: Tang et al., World J Gastroenterol 2023;29(6)"), ("PMID", "PMID:1"),
        ("NCT", "NCT03600883")]


def test_compiled_templates_are_kept_and_give_the_same_report(annotated, tmp_path, monkeypatch):
    """The report templates compiled once are kept in the cache folder and reused; a cache that cannot be
    made changes nothing but the time it takes."""
    from krasannot.report import render

    def html(cache, outdir):
        monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
        render.template_environment.cache_clear()  # a new process: the environment is built again
        return write(annotated, outdir)[".report.html"].read_text()

    try:
        first = html(tmp_path / "cache", tmp_path / "a")
        folder = tmp_path / "cache" / "krasannot" / "templates"
        kept = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
        assert kept and all(name.startswith("report-") and name.endswith(".cache") for name in kept)
        again = html(tmp_path / "cache", tmp_path / "b")
        (tmp_path / "file").write_text("not a folder")
        without = html(tmp_path / "file", tmp_path / "c")  # the cache folder cannot be made under a file
    finally:
        render.template_environment.cache_clear()
    assert first == again == without
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == kept  # read, not written again
