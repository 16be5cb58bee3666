"""A corpus of hostile inputs, generated here, through `annotate` and `run`.

For every file: exit 0, or exit 2 with one line on stderr naming the problem; never exit 1, never
silent, never a traceback, and nothing left in the output folder when the command fails.
"""

import gzip
import json
import os
import subprocess
import sys

import pandas as pd
import pysam
import pytest

from krasannot.reference.builds import CONTIG_LENGTHS

FORMAT_LINES = ['##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
                '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">',
                '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">']
CONTIGS = [f"##contig=<ID=chr{c},length={n}>" for c, n in CONTIG_LENGTHS["GRCh38"].items()]
COLUMNS = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tTUMOUR"
G12C = "chr12\t25245351\t.\tC\tA\t.\tPASS\t.\tGT:AD:DP\t0/1:40,10:50"   # KRAS p.G12C (GRCh38)
TP53 = "chr17\t7675088\t.\tC\tT\t.\tPASS\t.\tGT:AD:DP\t0/1:30,30:60"    # TP53 p.R175H
FAR = "chr1\t1000000\t.\tA\tG\t.\tPASS\t.\tGT:AD:DP\t0/1:5,5:10"


def vcf_text(records, columns=COLUMNS, meta=(), contigs=True):
    lines = ["##fileformat=VCFv4.2", *FORMAT_LINES, *(CONTIGS if contigs else []), *meta, columns, *records]
    return "\n".join(lines) + "\n"


def maf_text(rows, header=None):
    header = header or ["Hugo_Symbol", "Chromosome", "Start_Position", "End_Position", "Reference_Allele",
                        "Tumor_Seq_Allele1", "Tumor_Seq_Allele2", "Tumor_Sample_Barcode", "NCBI_Build"]
    return "\n".join(["\t".join(header)] + ["\t".join(r) for r in rows]) + "\n"


MAF_ROW = ["KRAS", "12", "25245351", "25245351", "C", "C", "A", "P1", "GRCh38"]


def _bgzip_bytes(tmp_path, text):
    plain = tmp_path / "_plain.vcf"
    plain.write_text(text)
    packed = tmp_path / "_plain.vcf.gz"
    pysam.tabix_compress(str(plain), str(packed), force=True)
    data = packed.read_bytes()
    plain.unlink()
    packed.unlink()
    return data


# name -> (file name, content as bytes or a function of tmp_path giving bytes)
CASES = {
    "plain_vcf": ("t.vcf", vcf_text([G12C, TP53, FAR])),
    "truncated_bgzip": ("t.vcf.gz", lambda tmp: _bgzip_bytes(tmp, vcf_text([G12C] * 2000))[:-28]),
    "truncated_gzip_mid_stream": ("t.vcf.gz", lambda tmp: gzip.compress(vcf_text([G12C] * 5000).encode())[:900]),
    "gzip_of_garbage": ("t.vcf.gz", gzip.compress(os.urandom(3000))),
    "binary_junk": ("junk.vcf", bytes(range(256)) * 20),
    "binary_junk_tsv": ("junk.tsv", b"\x00\x01\x02PK\x03\x04" + os.urandom(2000)),
    "empty_file": ("empty.vcf", b""),
    "bom_vcf": ("bom.vcf", b"\xef\xbb\xbf" + vcf_text([G12C]).encode()),
    "crlf_vcf": ("crlf.vcf", vcf_text([G12C, TP53]).replace("\n", "\r\n")),
    "bom_crlf_vcf": ("bomcrlf.vcf", b"\xef\xbb\xbf" + vcf_text([G12C]).replace("\n", "\r\n").encode()),
    "header_only_vcf": ("header.vcf", vcf_text([])),
    "header_only_no_newline": ("header2.vcf", vcf_text([]).rstrip("\n")),
    "sites_only_vcf": ("sites.vcf", vcf_text(["chr12\t25245351\t.\tC\tA\t.\tPASS\t."],
                                             columns="#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO")),
    "undeclared_info": ("undeclared.vcf", vcf_text([G12C.replace("\tPASS\t.\t", "\tPASS\tMYKEY=1;FLAGGY\t")])),
    "undeclared_format": ("undeclared_fmt.vcf", vcf_text(["chr12\t25245351\t.\tC\tA\t.\tPASS\t.\tGT:ZZ\t0/1:7"])),
    "non_utf8_info": ("latin1.vcf", vcf_text([G12C.replace("\tPASS\t.\t", "\tPASS\tNOTE=caf\udce9\t")]).encode(
        "utf-8", "surrogateescape")),
    "non_utf8_sample_name": ("latin1_sample.vcf", vcf_text([G12C], columns=COLUMNS.replace("TUMOUR", "Tum\udce9ur"))
                             .encode("utf-8", "surrogateescape")),
    "non_utf8_alt": ("latin1_alt.vcf", vcf_text([G12C, "chr12\t25245351\t.\tC\tA\udce9\t.\tPASS\t.\tGT\t0/1"])
                     .encode("utf-8", "surrogateescape")),
    "huge_info_20mb": ("huge.vcf", lambda tmp: vcf_text(
        [G12C.replace("\tPASS\t.\t", "\tPASS\tBIG=" + "A" * (20 << 20) + "\t")]).encode()),
    "twenty_alts": ("alts.vcf", vcf_text(["chr12\t25245351\t.\tC\t" + ",".join(
        ["A", "G", "T"] + [f"C{'A' * k}" for k in range(1, 18)]) + "\t.\tPASS\t.\tGT:AD\t0/1:" + ",".join(
        ["10"] * 21)])),
    "duplicate_records": ("dup.vcf", vcf_text([G12C, G12C, G12C])),
    "unsorted_records": ("unsorted.vcf", vcf_text([TP53, FAR, G12C])),
    "odd_contigs": ("contigs.vcf", vcf_text([G12C, "chr12_random\t100\t.\tA\tG\t.\tPASS\t.\tGT\t0/1",
                                            "chrUn_KI270742v1\t100\t.\tA\tG\t.\tPASS\t.\tGT\t0/1",
                                            "GL000220.1\t100\t.\tA\tG\t.\tPASS\t.\tGT\t0/1",
                                            "HLA-A*01:01:01:01\t100\t.\tA\tG\t.\tPASS\t.\tGT\t0/1"])),
    "pos_zero": ("pos0.vcf", vcf_text([G12C, "chr12\t0\t.\tC\tA\t.\tPASS\t.\tGT\t0/1"])),
    "pos_text": ("postext.vcf", vcf_text([G12C, "chr12\tabc\t.\tC\tA\t.\tPASS\t.\tGT\t0/1"])),
    "pos_beyond_contig": ("posfar.vcf", vcf_text([G12C, "chr12\t999999999\t.\tC\tA\t.\tPASS\t.\tGT\t0/1"])),
    "all_pos_text": ("allpostext.vcf", vcf_text([f"chr12\tx{i}\t.\tC\tA\t.\tPASS\t.\tGT\t0/1" for i in range(5)])),
    "ref_n": ("refn.vcf", vcf_text(["chr12\t25245351\t.\tN\tA\t.\tPASS\t.\tGT\t0/1"])),
    "ref_iupac": ("iupac.vcf", vcf_text(["chr12\t25245351\t.\tR\tA\t.\tPASS\t.\tGT\t0/1"])),
    "ref_lower_case": ("lower.vcf", vcf_text(["chr12\t25245351\t.\tc\ta\t.\tPASS\t.\tGT:AD\t0/1:40,10"])),
    "alt_star": ("star.vcf", vcf_text([G12C, "chr12\t25245351\t.\tC\t*\t.\tPASS\t.\tGT\t0/1"])),
    "text_in_ad": ("textad.vcf", vcf_text(["chr12\t25245351\t.\tC\tA\t.\tPASS\t.\tGT:AD:DP\t0/1:ten,five:many"])),
    "no_depth_no_gt": ("nogt.vcf", vcf_text(["chr12\t25245351\t.\tC\tA\t.\tPASS\t.\tDP\t."])),
    "space_separated": ("spaces.vcf", vcf_text([G12C.replace("\t", " ")])),
    "short_record": ("short.vcf", vcf_text([G12C, "chr12\t25245351\t.\tC"])),
    "tumor_normal_header": ("tn.vcf", vcf_text([G12C + "\t0/0:50,0:50"], columns=COLUMNS + "\tBLOOD",
                                               meta=["##tumor_sample=TUMOUR", "##normal_sample=BLOOD"])),
    "tumor_normal_unlabelled": ("tn2.vcf", vcf_text([G12C + "\t0/0:50,0:50"], columns=COLUMNS + "\tOTHER",
                                                    meta=['##INFO=<ID=SOMATIC,Number=0,Type=Flag,Description="s">'])),
    "hostile_sample_path": ("s1.vcf", vcf_text([G12C], columns=COLUMNS.replace("TUMOUR", "../x"))),
    "hostile_sample_script": ("s2.vcf", vcf_text([G12C], columns=COLUMNS.replace(
        "TUMOUR", "<script>alert(1)</script>"))),
    "hostile_sample_unicode": ("s3.vcf", vcf_text([G12C], columns=COLUMNS.replace("TUMOUR", "Échantillon‮α"))),
    "hostile_sample_tab": ("s4.vcf", vcf_text([G12C + "\t0/1:1,1:2"], columns=COLUMNS.replace("TUMOUR", "A\tB"))),
    "maf_ok": ("ok.maf", maf_text([MAF_ROW])),
    "maf_missing_columns": ("missing.maf", maf_text([MAF_ROW[:2] + MAF_ROW[3:]], header=[
        "Hugo_Symbol", "Chromosome", "End_Position", "Reference_Allele", "Tumor_Seq_Allele1", "Tumor_Seq_Allele2",
        "Tumor_Sample_Barcode", "NCBI_Build"])),
    "maf_bad_coordinate": ("badpos.maf", maf_text([MAF_ROW, ["KRAS", "12", "25,245,351x"] + MAF_ROW[3:]])),
    "maf_shifted_columns": ("shifted.maf", maf_text(
        [["KRAS", "12", "25245351", "25245351", "C", "C", "A", "P1", ""]] * 4, header=[
            "Hugo_Symbol", "Chromosome", "Start_Position", "End_Position", "Variant_Type", "Reference_Allele",
            "Tumor_Seq_Allele1", "Tumor_Seq_Allele2", "Tumor_Sample_Barcode"])),
    "maf_hostile_sample": ("hostile.maf", maf_text([MAF_ROW[:7] + ["<img src=x onerror=alert(1)>/../x", "GRCh38"]])),
    "maf_bom_crlf": ("bom.maf", b"\xef\xbb\xbf" + maf_text([MAF_ROW]).replace("\n", "\r\n").encode()),
    "ctdna_vaf_percent": ("c1.tsv", "gene\talteration\tvaf\nKRAS\tG12C\t5%\n"),
    "ctdna_vaf_decimal_comma": ("c2.tsv", "gene\talteration\tvaf\nKRAS\tG12C\t0,05\n"),
    "ctdna_vaf_negative": ("c3.tsv", "gene\talteration\tvaf\nKRAS\tG12C\t-0.05\n"),
    "ctdna_vaf_above_100_percent": ("c4.tsv", "gene\talteration\tvaf\nKRAS\tG12C\t150\n"),
    "ctdna_vaf_text": ("c5.tsv", "gene\talteration\tvaf\nKRAS\tG12C\tlow\n"),
    "ctdna_amplification_no_depth": ("c6.tsv", "gene\talteration\ttype\nKRAS\tamplification\tCNA\n"),
    "ctdna_sample_newline": ("c7.csv", 'sample,gene,alteration,vaf\n"S\nX",KRAS,G12C,0.1\n'),
    "ctdna_sample_tab_unicode": ("c8.csv", 'sample,gene,alteration,vaf\n"S\t../é<b>",KRAS,G12C,0.1\n'),
    "cnv_non_numeric": ("cn.tsv", "gene\tcopy_number\nKRAS\tmany\n"),
    "cnv_matrix_non_numeric": ("data_cna.txt", "Hugo_Symbol\tP1\nKRAS\thigh\n"),
    "unknown_tsv": ("unknown.tsv", "name\tvalue\nfoo\t1\n"),
    "near_maf_tsv": ("near.tsv", "Hugo_Symbol\tChromosome\tStart_Position\tTumor_Sample_Barcode\nKRAS\t12\t1\tP\n"),
    "csv_junk": ("junk.csv", "a,b,c\n1,2,3\n"),
}

def write_case(tmp_path, name):
    file_name, content = CASES[name]
    data = content(tmp_path) if callable(content) else content
    path = tmp_path / "in" / file_name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path


def krasannot(*args):
    return subprocess.run([sys.executable, "-m", "krasannot.cli", *map(str, args)], capture_output=True,
                          text=True, errors="replace")


def assert_clean_outcome(result, outdir):
    assert result.returncode in (0, 2), f"exit {result.returncode}: {result.stderr[-2000:]}"
    assert "Traceback" not in result.stderr
    message = result.stderr.strip()
    assert message, "silent exit"
    if result.returncode == 2:
        assert len(message.splitlines()) == 1, message
        assert message.startswith("krasannot: error:"), message
        left = [p.name for p in outdir.rglob("*")] if outdir.exists() else []
        assert not left, f"left behind after a failure: {left}"
    else:
        assert not [p for p in outdir.rglob(".krasannot-*")], "temp files left behind"
        assert not [p for p in outdir.rglob("*.tmp")], "temp files left behind"


def test_the_corpus_has_forty_files():
    assert len(CASES) >= 40


@pytest.mark.parametrize("name", sorted(CASES))
def test_annotate_hostile_input(tmp_path, name):
    path = write_case(tmp_path, name)
    outdir = tmp_path / "out"
    result = krasannot("annotate", path, "--build", "auto", "--out", outdir / "x.tsv")
    assert_clean_outcome(result, outdir)
    EXPECTED_ANNOTATE.get(name, lambda *a: None)(result, outdir, path)


@pytest.mark.parametrize("name", sorted(CASES))
def test_run_hostile_input(tmp_path, name):
    path = write_case(tmp_path, name)
    outdir = tmp_path / "out"
    result = krasannot("run", path, "--sample", "S1", "--tumor-type", "LUAD", "--build", "auto", "--outdir", outdir)
    assert_clean_outcome(result, outdir)


# --- what the reading side must give, beyond a clean exit ----------------------------------------
def _rows(outdir):
    return pd.read_csv(outdir / "x.tsv", sep="\t", dtype=str, keep_default_na=False)


def _skipped(outdir):
    return pd.read_csv(outdir / "x.skipped.tsv", sep="\t", dtype=str, keep_default_na=False)


def _summary(outdir):
    return json.loads((outdir / "x.summary.json").read_text())


def _exit(code, *needles):
    def check(result, outdir, path):
        assert result.returncode == code, result.stderr
        for needle in needles:
            assert needle in result.stderr, result.stderr
    return check


def _g12c_read(result, outdir, path):
    assert result.returncode == 0, result.stderr
    rows = _rows(outdir)
    assert "p.G12C" in set(rows.loc[rows.status == "annotated", "hgvsp_short"]), rows


def _skip(reason):
    def check(result, outdir, path):
        _g12c_read(result, outdir, path)
        skipped = _skipped(outdir)
        assert list(skipped.reason) == [reason]
        assert skipped.input_line.tolist() == [str(len(vcf_text([G12C]).splitlines()) + 1)]
    return check


def _duplicates(result, outdir, path):
    rows = _rows(outdir)
    kras = rows[rows.hgvsp_short == "p.G12C"]
    assert len(kras) == 1
    assert kras.status_detail.iloc[0].startswith("merged 3 duplicate records (dup.vcf:")


def _no_depth(result, outdir, path):
    rows = _rows(outdir)
    kras = rows[rows.hgvsp_short == "p.G12C"]
    assert kras[["depth", "alt_depth", "vaf"]].values.tolist() == [["", "", ""]]


def _invalid(result, outdir, path):
    rows = _rows(outdir)
    assert rows.status.tolist() == ["invalid_allele"] and "A, C, G, T" in rows.status_detail.iloc[0]


def _twenty(result, outdir, path):
    rows = _rows(outdir)
    assert len(rows) == 20 and "p.G12C" in set(rows.hgvsp_short)


def _sample(name):
    def check(result, outdir, path):
        assert result.returncode == 0, result.stderr
        assert set(_rows(outdir)["sample"]) == {name}
    return check


def _ctdna_vaf(value):
    def check(result, outdir, path):
        assert result.returncode == 0, result.stderr
        rows = _rows(outdir)
        assert rows.loc[rows.hgvsp_short == "p.G12C", "vaf"].astype(float).tolist() == [value]
    return check


def _shifted(result, outdir, path):
    assert result.returncode == 0
    assert "warning" in result.stderr and "one left of the header" in result.stderr
    assert any("one left of the header" in n for n in _summary(outdir)["inputs"][0]["notes"])


def _maf_bad_coordinate(result, outdir, path):
    _g12c_read(result, outdir, path)
    assert _skipped(outdir)[["input_line", "reason"]].values.tolist() == [
        ["3", "Start_Position '25,245,351x' is not a position"]]


EXPECTED_ANNOTATE = {
    "plain_vcf": _g12c_read, "bom_vcf": _g12c_read, "crlf_vcf": _g12c_read, "bom_crlf_vcf": _g12c_read,
    "unsorted_records": _g12c_read, "odd_contigs": _g12c_read, "ref_lower_case": _g12c_read,
    "alt_star": _g12c_read, "undeclared_info": _g12c_read, "non_utf8_info": _g12c_read,
    "huge_info_20mb": _g12c_read, "maf_ok": _g12c_read, "maf_bom_crlf": _g12c_read,
    "header_only_vcf": _exit(0), "header_only_no_newline": _exit(0),
    "sites_only_vcf": lambda *a: (_g12c_read(*a), _no_depth(*a)),
    "text_in_ad": lambda *a: (_g12c_read(*a), _no_depth(*a)),
    "no_depth_no_gt": lambda *a: (_g12c_read(*a), _no_depth(*a)),
    "duplicate_records": lambda *a: (_g12c_read(*a), _duplicates(*a)),
    "pos_zero": _skip("POS 0: VCF positions start at 1"),
    "pos_text": _skip("POS 'abc' is not a positive integer"),
    "pos_beyond_contig": _skip("POS 999,999,999 is beyond the end of chr12 (133,275,309 bp)"),
    "all_pos_text": _exit(0, "warning", "most records of the file fail the same way"),
    "non_utf8_alt": _skip("CHROM, POS, ID, REF or ALT is not valid UTF-8"),
    "ref_n": _invalid, "ref_iupac": _invalid, "twenty_alts": _twenty,
    "tumor_normal_header": _sample("TUMOUR"),
    "tumor_normal_unlabelled": _exit(2, "TUMOUR, OTHER", "--input-sample"),
    "hostile_sample_path": _sample("../x"), "hostile_sample_script": _sample("<script>alert(1)</script>"),
    "hostile_sample_unicode": _sample("Échantillon‮α"),
    "empty_file": _exit(2, "file is empty"), "truncated_bgzip": _exit(2, "truncated gzip"),
    "truncated_gzip_mid_stream": _exit(2, "truncated gzip"),
    "binary_junk": _exit(2, "binary"), "binary_junk_tsv": _exit(2, "binary"),
    "maf_missing_columns": _exit(2, "Start_Position"), "maf_bad_coordinate": _maf_bad_coordinate,
    "maf_shifted_columns": _shifted,
    "ctdna_vaf_percent": _ctdna_vaf(0.05), "ctdna_vaf_decimal_comma": _ctdna_vaf(0.05),
    "ctdna_vaf_negative": _exit(2, ":2:", "outside 0-100%"),
    "ctdna_vaf_above_100_percent": _exit(2, ":2:", "outside 0-100%"),
    "ctdna_vaf_text": _exit(2, ":2:", "not a number"),
    "cnv_non_numeric": _exit(2, ":2:", "not a number"), "cnv_matrix_non_numeric": _exit(2, ":2:"),
    "unknown_tsv": _exit(2, "no reader recognises", "tried VCF/BCF, MAF"),
    "near_maf_tsv": _exit(2, "nearest is MAF", "Reference_Allele, Tumor_Seq_Allele2"),
    "csv_junk": _exit(2, "no reader recognises"),
}
