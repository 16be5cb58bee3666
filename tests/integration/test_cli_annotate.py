"""The annotate command end to end: real files in, exact rows out, clear errors on bad input."""

import gzip
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pysam
import pytest

from krasannot.cli import main
from krasannot.reference.builds import CONTIG_LENGTHS
from krasannot.reference.bundle import bundled_panel_path, write_bundle

HEADER = ["##fileformat=VCFv4.2",
          '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
          '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">',
          '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">']
RECORDS_38 = [  # KRAS c.34 and c.35 written as two SNVs, TP53 R175H, one record far from the panel
    "chr12\t25245350\t.\tC\tA\t.\tPASS\t.\tGT:AD:DP\t0/1:40,10:50",
    "chr12\t25245351\t.\tC\tA\t.\tPASS\t.\tGT:AD:DP\t0/1:41,9:50",
    "chr17\t7675088\trs28934578\tC\tT\t.\tPASS\t.\tGT:AD:DP\t0/1:30,30:60",
    "chr1\t1000000\t.\tA\tG,T\t.\tPASS\t.\tGT:AD:DP\t1/2:5,5,5:15",
]


def write_vcf(path, records, build="GRCh38", sample="TUMOUR", contigs=True):
    lines = list(HEADER)
    if contigs:
        lines += [f"##contig=<ID=chr{c},length={n}>" for c, n in CONTIG_LENGTHS[build].items()]
    lines.append("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + sample)
    path.write_text("\n".join(lines + records) + "\n")
    return path


def run(*args):
    return subprocess.run([sys.executable, "-m", "krasannot.cli", *map(str, args)], capture_output=True, text=True)


def read_tsv(path):
    return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)


def test_annotate_plain_vcf_accounts_for_every_record(tmp_path):
    vcf = write_vcf(tmp_path / "t.vcf", RECORDS_38)
    out = tmp_path / "out" / "t.tsv"
    assert main(["annotate", str(vcf), "--build", "auto", "--out", str(out), "--list-outside"]) == 0
    rows = read_tsv(out)
    annotated = rows[rows.status == "annotated"]
    assert annotated[["gene", "hgvsc", "hgvsp_short"]].values.tolist() == [
        ["TP53", "c.524G>A", "p.R175H"], ["KRAS", "c.34_35delinsTT", "p.G12F"]]
    assert rows.loc[rows.gene == "TP53", ["id", "depth", "alt_depth", "vaf"]].values.tolist() == [
        ["rs28934578", "60", "30", "0.5"]]
    assert sorted(rows.status) == ["annotated", "annotated", "merged_into_mnv", "merged_into_mnv", "outside_panel"]
    outside = rows[rows.status == "outside_panel"].iloc[0]
    assert (outside["sample"], outside["chrom"], outside["pos"], outside["alt"]) == ("TUMOUR", "chr1", "1000000", "G,T")
    summary = json.loads((tmp_path / "out" / "t.summary.json").read_text())
    assert summary["genome_build"] == "GRCh38"
    assert summary["rows_by_status"] == {"annotated": 2, "merged_into_mnv": 2, "outside_panel": 1}
    assert summary["mnv_merges"] == ["chr12:25245350:C>A+chr12:25245351:C>A"]


def test_outside_panel_records_are_counted_and_listed_only_when_asked(tmp_path):
    vcf = write_vcf(tmp_path / "t.vcf", RECORDS_38)
    counted, listed = tmp_path / "counted.tsv", tmp_path / "listed.tsv"
    assert main(["annotate", str(vcf), "--build", "GRCh38", "--out", str(counted)]) == 0
    assert main(["annotate", str(vcf), "--build", "GRCh38", "--out", str(listed), "--list-outside"]) == 0
    without, with_rows = read_tsv(counted), read_tsv(listed)
    assert "outside_panel" not in set(without.status) and len(without) == 4
    assert with_rows[with_rows.status == "outside_panel"][["chrom", "pos"]].values.tolist() == [["chr1", "1000000"]]
    assert with_rows[with_rows.status != "outside_panel"].equals(without)
    # the summaries are the same either way: every record is accounted for
    summaries = [json.loads((tmp_path / f"{name}.summary.json").read_text()) for name in ("counted", "listed")]
    assert summaries[0]["rows_by_status"] == summaries[1]["rows_by_status"] == {
        "annotated": 2, "merged_into_mnv": 2, "outside_panel": 1}
    assert summaries[0]["records_read"] == 4 and summaries[0]["inputs"] == summaries[1]["inputs"]


def test_bgzipped_indexed_and_streamed_give_the_same_annotation(tmp_path):
    vcf = write_vcf(tmp_path / "t.vcf", RECORDS_38)
    gz = pysam.tabix_index(str(vcf), preset="vcf", force=True)  # writes t.vcf.gz + .tbi
    indexed, streamed = tmp_path / "i.tsv", tmp_path / "s.tsv"
    assert main(["annotate", gz, "--build", "GRCh38", "--out", str(indexed)]) == 0
    assert main(["annotate", gz, "--build", "GRCh38", "--out", str(streamed), "--no-index"]) == 0
    cols = ["chrom", "pos", "ref", "alt", "hgvsc", "hgvsp", "status"]
    a, b = read_tsv(indexed), read_tsv(streamed)
    assert a[a.status != "outside_panel"][cols].values.tolist() == b[b.status != "outside_panel"][cols].values.tolist()
    assert "outside_panel" not in set(a.status)  # the index skips them, and the summary says so
    assert json.loads((tmp_path / "i.summary.json").read_text())["inputs"][0]["indexed_panel_regions_only"] is True


def test_grch37_input_without_contig_lines_is_detected_from_ref_alleles(tmp_path):
    vcf = write_vcf(tmp_path / "b37.vcf", ["12\t25398285\t.\tC\tA\t.\tPASS\t.\tGT\t0/1",
                                           "7\t140453136\t.\tA\tT\t.\tPASS\t.\tGT\t0/1"], contigs=False)
    out = tmp_path / "b37.tsv"
    assert main(["annotate", str(vcf), "--out", str(out)]) == 0
    assert read_tsv(out).hgvsp_short.tolist() == ["p.G12C", "p.V600E"]
    assert json.loads((tmp_path / "b37.summary.json").read_text())["genome_build"] == "GRCh37"


def test_wrong_build_is_refused_with_the_likely_build(tmp_path):
    vcf = write_vcf(tmp_path / "b37.vcf", ["chr12\t25398285\t.\tC\tA\t.\tPASS\t.\tGT\t0/1"], build="GRCh37")
    out = tmp_path / "x.tsv"
    result = run("annotate", vcf, "--build", "GRCh38", "--out", out)
    assert result.returncode == 2
    assert "looks like GRCh37" in result.stderr and str(vcf) in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_wrong_build_from_ref_alleles_alone(tmp_path):
    # GRCh37 KRAS/BRAF calls without ##contig lines, annotated as GRCh38: their REF alleles sit on
    # GRCh37 panel bases and nothing falls in the GRCh38 panel, so the run is refused, not emptied
    records = ["12\t25398285\t.\tC\tA\t.\tPASS\t.\tGT\t0/1", "7\t140453136\t.\tA\tT\t.\tPASS\t.\tGT\t0/1"]
    vcf = write_vcf(tmp_path / "b37.vcf", records, contigs=False)
    result = run("annotate", vcf, "--build", "GRCh38", "--out", tmp_path / "x.tsv")
    assert result.returncode == 2 and "looks like GRCh37" in result.stderr
    assert not (tmp_path / "x.tsv").exists()


def test_one_wrong_ref_does_not_flip_the_detected_build(tmp_path):
    # GRCh38 calls (no ##contig) with one REF typo; a CDKN2A base that reads the same in both builds
    records = ["7\t140753336\t.\tA\tT\t.\tPASS\t.\tGT\t0/1", "9\t21968231\t.\tA\tG\t.\tPASS\t.\tGT\t0/1",
               "12\t25245351\t.\tC\tA\t.\tPASS\t.\tGT\t0/1", "17\t7675088\t.\tG\tT\t.\tPASS\t.\tGT\t0/1"]
    vcf = write_vcf(tmp_path / "b38.vcf", records, contigs=False)
    assert main(["annotate", str(vcf), "--out", str(tmp_path / "o.tsv")]) == 0
    rows = read_tsv(tmp_path / "o.tsv")
    assert rows["hgvsp_short"].tolist()[0] == "p.V600E" and "p.G12C" in rows["hgvsp_short"].tolist()
    assert rows.loc[rows.chrom == "17", "status"].item() == "ref_mismatch"
    assert json.loads((tmp_path / "o.summary.json").read_text())["genome_build"] == "GRCh38"


def test_no_call_in_either_panel_needs_no_build(tmp_path):
    vcf = write_vcf(tmp_path / "far.vcf", ["1\t1000000\t.\tA\tG\t.\tPASS\t.\tGT\t0/1"], contigs=False)
    assert main(["annotate", str(vcf), "--out", str(tmp_path / "far.tsv"), "--list-outside"]) == 0
    assert read_tsv(tmp_path / "far.tsv")["status"].tolist() == ["outside_panel"]
    summary = json.loads((tmp_path / "far.summary.json").read_text())
    assert summary["genome_build"] is None and summary["rows_by_status"] == {"outside_panel": 1}


@pytest.mark.parametrize("problem,needle,line", [
    ("truncated_gzip", "truncated gzip", None),
    ("truncated_bgzf_at_block_edge", "truncated gzip", None),
    ("short_record", "needs at least 8", 7),
    ("no_header", "#CHROM", None),
    ("missing", "file not found", None),
    ("bcf", "cannot read this BCF", None),
])
def test_bad_input_gets_one_clear_line_and_no_output(tmp_path, problem, needle, line):
    path = tmp_path / "bad.vcf"
    good = write_vcf(tmp_path / "good.vcf", RECORDS_38[:1], contigs=False)
    text = good.read_bytes()
    if problem == "truncated_gzip":
        path = tmp_path / "bad.vcf.gz"
        data = gzip.compress(text * 50)
        path.write_bytes(data[: len(data) // 2])
    elif problem == "truncated_bgzf_at_block_edge":
        path = tmp_path / "bad.vcf.gz"
        pysam.tabix_compress(str(good), str(path))
        path.write_bytes(path.read_bytes()[:-28])  # drop the bgzip EOF block
    elif problem == "short_record":
        path.write_bytes(text + b"chr12\t25245350\t.\tC\tA\n")
    elif problem == "no_header":
        path.write_bytes(b"##fileformat=VCFv4.2\nchr12\t1\t.\tC\tA\t.\tPASS\t.\n")
    elif problem == "missing":
        path = tmp_path / "nope.vcf"
    elif problem == "bcf":
        path = tmp_path / "bad.bcf"
        with pysam.BGZFile(str(path), "wb") as handle:
            handle.write(b"BCF\x02\x02" + b"\x00" * 64)
    out = tmp_path / "out.tsv"
    result = run("annotate", path, "--build", "GRCh38", "--out", out)
    assert result.returncode == 2, result.stderr
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1 and "Traceback" not in message
    assert needle in message and str(path) in message
    if line:
        assert f"{path}:{line}:" in message
    assert not out.exists() and not list(tmp_path.glob(".out.tsv*"))


@pytest.mark.parametrize("problem,extra,reason", [
    ("bad_pos", b"chr12\tx12\t.\tC\tA\t.\tPASS\t.\tGT\t0/1\n", "POS 'x12' is not a positive integer"),
    ("pos_beyond_contig", b"chr12\t999999999\t.\tC\tA\t.\tPASS\t.\tGT\t0/1\n",
     "POS 999,999,999 is beyond the end of chr12 (133,851,895 bp)"),  # no ##contig: the longer build's length
    ("not_utf8_outside_panel", b"chr1\t1000\tcaf\xe9\tA\tT\t.\tPASS\t.\tGT\t0/1\n",
     "CHROM, POS, ID, REF or ALT is not valid UTF-8"),
    ("not_utf8_in_panel", b"chr12\t25245350\t.\tC\tA\xe9\t.\tPASS\t.\tGT\t0/1\n",
     "CHROM, POS, ID, REF or ALT is not valid UTF-8"),
])
def test_a_bad_record_is_skipped_with_its_reason_and_line(tmp_path, problem, extra, reason):
    good = write_vcf(tmp_path / "good.vcf", RECORDS_38[:1], contigs=False)
    path = tmp_path / "bad.vcf"
    path.write_bytes(good.read_bytes() + extra)
    assert main(["annotate", str(path), "--build", "GRCh38", "--out", str(tmp_path / "o.tsv")]) == 0
    rows = read_tsv(tmp_path / "o.tsv")
    assert rows[["pos", "status"]].values.tolist() == [["25245350", "annotated"]]
    skipped = read_tsv(tmp_path / "o.skipped.tsv")
    assert skipped[["input_line", "reason"]].values.tolist() == [["7", reason]]
    notes = json.loads((tmp_path / "o.summary.json").read_text())["inputs"][0]["notes"]
    assert notes == [f"1 of 2 records skipped, e.g. {reason} at line 7"]


def test_non_utf8_info_is_read_with_a_note(tmp_path):
    good = write_vcf(tmp_path / "good.vcf", RECORDS_38[:1], contigs=False)
    path = tmp_path / "latin1.vcf"
    path.write_bytes(good.read_bytes().replace(b"\tPASS\t.", b"\tPASS\tNOTE=caf\xe9"))
    assert main(["annotate", str(path), "--build", "GRCh38", "--out", str(tmp_path / "o.tsv")]) == 0
    assert read_tsv(tmp_path / "o.tsv").hgvsp_short.tolist() == ["p.G12V"]
    notes = json.loads((tmp_path / "o.summary.json").read_text())["inputs"][0]["notes"]
    assert notes == ["1 records carry bytes that are not UTF-8 in INFO/FORMAT; they are read as U+FFFD"]


def test_unknown_build_and_unknown_sample_are_usage_errors(tmp_path):
    vcf = write_vcf(tmp_path / "t.vcf", RECORDS_38[:1])
    result = run("annotate", vcf, "--build", "hg42", "--out", tmp_path / "o.tsv")
    assert result.returncode == 2 and "unknown genome build 'hg42'" in result.stderr
    result = run("annotate", vcf, "--input-sample", "NOPE", "--out", tmp_path / "o.tsv")
    assert result.returncode == 2 and "samples in the file: TUMOUR" in result.stderr


def test_multi_sample_vcf_gives_calls_per_carrier(tmp_path):
    lines = list(HEADER) + ["#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tP1\tP2\tP3",
                            "12\t25245351\t.\tC\tA\t.\tPASS\t.\tGT:AD\t0/1:10,5\t0/0:20,0\t0/1:8,8",
                            "12\t25245351\t.\tC\tT\t.\tPASS\t.\tGT:AD\t0/0:10,0\t./.:.\t0/0:8,0"]
    vcf = tmp_path / "cohort.vcf"
    vcf.write_text("\n".join(lines) + "\n")
    out = tmp_path / "c.tsv"
    assert main(["annotate", str(vcf), "--build", "GRCh38", "--out", str(out)]) == 0
    rows = read_tsv(out)
    assert rows[["sample", "hgvsp_short", "vaf", "status"]].values.tolist() == [
        ["P1", "p.G12C", "0.3333333333333333", "annotated"], ["P3", "p.G12C", "0.5", "annotated"],
        ["P1,P2,P3", "", "", "not_carried"]]  # a site no sample carries is still listed


def test_reference_fasta_is_used_for_sequence(tmp_path, panels):
    # a FASTA holding the true bases of KRAS exon 2 (GRCh38) at their coordinates, N elsewhere
    tx = panels["GRCh38"].by_gene["KRAS"]
    length = tx.end + 2000
    seq = bytearray(b"N" * length)
    known = tx.genome
    seq[tx.span_start - 1: tx.span_start - 1 + len(known)] = known.encode()
    fasta = tmp_path / "chr12.fa"
    fasta.write_text(">chr12\n" + "\n".join(seq[i:i + 60].decode() for i in range(0, length, 60)) + "\n")
    # a one-gene bundle, so the FASTA needs only chr12 up to KRAS
    shipped = json.loads(bundled_panel_path("GRCh38").read_text())
    bundle = tmp_path / "kras.bundle.json"
    write_bundle(bundle, "GRCh38", "test", [t for t in shipped["transcripts"] if t["gene"] == "KRAS"])
    vcf = write_vcf(tmp_path / "t.vcf", ["chr12\t25245351\t.\tC\tA\t.\tPASS\t.\tGT:AD:DP\t0/1:40,10:50"], contigs=False)
    out = tmp_path / "f.tsv"
    assert main(["annotate", str(vcf), "--build", "GRCh38", "--bundle", str(bundle), "--reference", str(fasta),
                 "--out", str(out)]) == 0
    assert read_tsv(out).hgvsp_short.tolist() == ["p.G12C"]
    summary = json.loads((tmp_path / "f.summary.json").read_text())
    assert "sequence from" in summary["transcript_bundle"]["source"]
    # a FASTA that disagrees with the panel is refused: it is of another build
    seq[tx.span_start - 1: tx.span_start - 1 + len(known)] = known.translate(str.maketrans("ACGT", "CATG")).encode()
    wrong = tmp_path / "wrong.fa"
    wrong.write_text(">chr12\n" + "\n".join(seq[i:i + 60].decode() for i in range(0, length, 60)) + "\n")
    result = run("annotate", vcf, "--build", "GRCh38", "--bundle", bundle, "--reference", wrong, "--out", out)
    assert result.returncode == 2 and "is this a GRCh38 FASTA?" in result.stderr


def test_console_script_is_installed():
    exe = shutil.which("krasannot", path=str(Path(sys.executable).parent))
    assert exe is not None
    result = subprocess.run([exe, "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("krasannot ")


def test_indexed_read_fetches_repeated_records_and_long_deletions_once(tmp_path):
    records = ["chr12\t25245351\t.\tC\tA\t.\tPASS\t.\tGT:AD:DP\t0/1:40,10:50",
               "chr12\t25245351\t.\tC\tA\t.\tPASS\t.\tGT:AD:DP\t0/1:30,20:50",   # the caller wrote it twice
               "chr17\t7675088\t.\tC\tT\t.\tPASS\t.\tGT:AD:DP\t0/1:30,30:60"]
    vcf = write_vcf(tmp_path / "dup.vcf", records)
    gz = pysam.tabix_index(str(vcf), preset="vcf", force=True)
    out = tmp_path / "dup.tsv"
    assert main(["annotate", gz, "--build", "GRCh38", "--out", str(out)]) == 0
    # fetched once each, then merged into one call with a note (the first record's counts)
    rows = read_tsv(out)
    assert rows.loc[rows.status == "annotated", ["hgvsp_short", "alt_depth", "status_detail"]].values.tolist() == [
        ["p.G12C", "10", "merged 2 duplicate records (dup.vcf.gz, dup.vcf.gz)"], ["p.R175H", "30", ""]]
    assert rows.loc[rows.status == "duplicate_record", "status_detail"].tolist() == [
        "duplicate of the call at dup.vcf.gz"]
    summary = json.loads((tmp_path / "dup.summary.json").read_text())
    assert summary["inputs"][0]["checksum"].startswith("size:")


def test_tiny_blocks_give_the_same_rows_and_line_numbers(tmp_path, monkeypatch):
    """Headers and records that straddle decompression blocks: same output, same line numbers."""
    import krasannot.io.vcf as vcf_module

    odd = "chr12\t25245351\t.\tC\tZ\t.\tPASS\t.\tGT:AD:DP\t0/1:4,4:8"  # the 3rd record: line 33
    vcf = write_vcf(tmp_path / "t.vcf", RECORDS_38[:2] + [odd] + RECORDS_38[2:])
    gz = pysam.tabix_index(str(vcf), preset="vcf", force=True)
    assert main(["annotate", gz, "--no-index", "--out", str(tmp_path / "big.tsv")]) == 0
    monkeypatch.setattr(vcf_module, "BLOCK_BYTES", 37)
    assert main(["annotate", gz, "--no-index", "--out", str(tmp_path / "tiny.tsv")]) == 0
    big, tiny = read_tsv(tmp_path / "big.tsv"), read_tsv(tmp_path / "tiny.tsv")
    assert big.drop(columns="input_file").equals(tiny.drop(columns="input_file"))
    assert tiny.loc[tiny.alt == "Z", ["status", "input_line"]].values.tolist() == [["invalid_allele", "33"]]


def test_allele_the_sample_does_not_carry_is_not_a_call(tmp_path):
    # a multi-allelic site where the tumour carries only T (GT 0/2), and a 0/0 record
    records = ["chr12\t25245350\t.\tC\tT\t.\tPASS\t.\tGT:AD\t0/0:40,0",
               "chr12\t25245351\t.\tC\tA,T\t.\tPASS\t.\tGT:AD\t0/2:30,0,12"]
    vcf = write_vcf(tmp_path / "gt.vcf", records)
    assert main(["annotate", str(vcf), "--out", str(tmp_path / "gt.tsv")]) == 0
    rows = read_tsv(tmp_path / "gt.tsv")
    assert rows[["alt", "hgvsp_short", "status"]].values.tolist() == [
        ["T", "", "not_carried"], ["A", "", "not_carried"], ["T", "p.G12S", "annotated"]]


def test_header_only_vcf_without_final_line_break(tmp_path):
    vcf = tmp_path / "h.vcf"
    vcf.write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO")
    assert main(["annotate", str(vcf), "--out", str(tmp_path / "h.tsv")]) == 0
    assert read_tsv(tmp_path / "h.tsv").empty



def test_annotate_reads_a_maf_and_compares_its_protein_changes(tmp_path):
    header = ["Hugo_Symbol", "NCBI_Build", "Chromosome", "Start_Position", "Reference_Allele", "Tumor_Seq_Allele1",
              "Tumor_Seq_Allele2", "Tumor_Sample_Barcode", "t_ref_count", "t_alt_count", "HGVSp_Short",
              "Transcript_ID"]
    rows = [["KRAS", "GRCh37", "12", "25398285", "C", "C", "A", "P1", "30", "10", "p.G12C", "ENST00000256078"],
            ["EGFR", "GRCh37", "7", "55242465", "GGAATTAAGAGAAGC", "GGAATTAAGAGAAGC", "-", "P2", "20", "20",
             "p.E746_A750del", "ENST00000275493"],
            ["TP53", "GRCh37", "17", "7578406", "C", "C", "T", "P2", "10", "10", "p.R175C", "ENST00000269305"],
            ["ARID1A", "GRCh37", "1", "27101374", "G", "G", "T", "P1", "5", "5", "p.Q1552H", "ENST00000324856"]]
    maf = tmp_path / "cohort.maf"
    maf.write_text("#version 2.4\n" + "\n".join("\t".join(r) for r in [header] + rows) + "\n")
    out = tmp_path / "cohort.tsv"
    assert main(["annotate", str(maf), "--out", str(out)]) == 0
    got = read_tsv(out)
    assert got[["sample", "hgvsp_short", "vaf", "source_hgvsp_short", "status"]].values.tolist() == [
        ["P1", "p.G12C", "0.25", "p.G12C", "annotated"], ["P2", "p.E746_A750del", "0.5", "p.E746_A750del", "annotated"],
        ["P2", "p.R175H", "0.5", "p.R175C", "annotated"], ["P1", "", "0.5", "p.Q1552H", "outside_panel"]]
    summary = json.loads((tmp_path / "cohort.summary.json").read_text())
    assert (summary["inputs"][0]["format"], summary["genome_build"]) == ("maf", "GRCh37")
    assert summary["source_protein_changes"]["compared"] == 3 and summary["source_protein_changes"]["agree"] == 2
    assert summary["source_protein_changes"]["disagreements"][0].startswith("P2 TP53 ours p.R175H")


@pytest.mark.parametrize("indexed", [False, True])
def test_bcf_gives_the_same_rows_as_its_vcf(tmp_path, indexed):
    vcf = write_vcf(tmp_path / "t.vcf", RECORDS_38[:2] + RECORDS_38[1:3])  # chr12:25245351 written twice
    bcf = tmp_path / "t.bcf"
    with pysam.VariantFile(str(vcf)) as source, pysam.VariantFile(str(bcf), "wb", header=source.header) as sink:
        for record in source:
            sink.write(record)
    if indexed:  # pysam writes BCF but does not index it: bcftools is the cross-check tool here
        if shutil.which("bcftools") is None:
            pytest.skip("bcftools is not installed")
        subprocess.run(["bcftools", "index", str(bcf)], check=True)
    assert main(["annotate", str(vcf), "--out", str(tmp_path / "v.tsv")]) == 0
    assert main(["annotate", str(bcf), "--out", str(tmp_path / "b.tsv")]) == 0
    cols = ["sample", "chrom", "pos", "ref", "alt", "hgvsc", "hgvsp_short", "status", "depth", "alt_depth", "vaf"]
    assert read_tsv(tmp_path / "b.tsv")[cols].equals(read_tsv(tmp_path / "v.tsv")[cols])
    summary = json.loads((tmp_path / "b.summary.json").read_text())["inputs"][0]
    assert summary["indexed_panel_regions_only"] is indexed

