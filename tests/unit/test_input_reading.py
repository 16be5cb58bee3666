"""Reading edge cases: which column is the tumour, which reader takes a file, duplicate records, ctDNA VAFs."""

import pandas as pd
import pytest

from conftest import shared_dir
from krasannot import columns as C
from krasannot.annotate.normalize import merge_duplicate_calls
from krasannot.errors import InputFormatError, UsageError
from krasannot.io.ctdna import _vaf
from krasannot.io.inputs import read_any, sniff_format
from krasannot.io.vcf import choose_samples, read_header, tumor_and_normal
from krasannot.reference.builds import contig_limits

COLUMNS = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t"


def header_of(tmp_path, samples, *meta):
    path = tmp_path / "h.vcf"
    path.write_text("\n".join(["##fileformat=VCFv4.2", *meta, COLUMNS + "\t".join(samples)]) + "\n")
    return read_header(str(path))


@pytest.mark.parametrize("samples,meta,tumor,normal", [
    (["N1", "T1"], ["##tumor_sample=T1", "##normal_sample=N1"], "T1", "N1"),
    (["NORMAL", "TUMOR"], ["##SAMPLE=<ID=NORMAL,SampleName=NORMAL>", "##SAMPLE=<ID=TUMOR,SampleName=TUMOR>"],
     "TUMOR", "NORMAL"),
    (["blood", "lesion"], ["##SAMPLE=<ID=TUMOR,SampleName=lesion>"], "lesion", None),
    (["P1-N", "P1-T"], ['##GATKCommandLine=<ID=Mutect2,CommandLine="Mutect2 --tumor-sample P1-T '
                        '--normal-sample P1-N --output x.vcf">'], "P1-T", "P1-N"),
    (["a", "b"], ['##MuTect="analysis_type=MuTect tumor_sample_name=b normal_sample_name=a"'], "b", "a"),
    (["SomaticSample", "NormalSample"], [], "SomaticSample", "NormalSample"),
    (["tumor", "normal"], [], "tumor", "normal"),
    (["X", "X#2"], ["##source=strelka"], "X#2", "X"),    # Strelka writes NORMAL, then TUMOR
    (["N", "T"], ["##normal_sample=N"], "T", "N"),
    (["P1", "P2", "P3"], [], None, None),                 # a cohort: nothing to pick
])
def test_tumour_column_from_the_header(tmp_path, samples, meta, tumor, normal):
    header = header_of(tmp_path, samples, *meta)
    assert (header.tumor_sample, header.normal_sample) == (tumor, normal)
    if tumor:
        assert choose_samples(header, None) == [tumor]


def test_an_unlabelled_somatic_pair_asks_for_the_column(tmp_path):
    header = header_of(tmp_path, ["S_A", "S_B"], '##INFO=<ID=SOMATIC,Number=0,Type=Flag,Description="s">')
    with pytest.raises(UsageError) as error:
        choose_samples(header, None)
    assert "columns: S_A, S_B" in str(error.value) and "--input-sample NAME" in str(error.value)
    assert choose_samples(header, "S_B") == ["S_B"]
    # without a somatic mark, two columns are two samples (a cohort or a trio)
    assert choose_samples(header_of(tmp_path, ["S_A", "S_B"]), None) == ["S_A", "S_B"]


@pytest.mark.parametrize("name,tumor", [("caller_vcfs/mutect-example.vcf", "SomaticSample"),
                                        ("caller_vcfs/strelka-example.vcf", "TUMOR"),
                                        ("caller_vcfs/test_b37.vcf", "TUMOR"),
                                        ("caller_vcfs/test_b38.vcf", "TUMOR"),
                                        ("vep_vcf/megsap_grch38_vep_csq.vcf", "DX0000000_01#2")])
def test_real_tumour_normal_vcfs_pick_the_tumour(name, tumor):
    path = shared_dir() / "validation" / name
    if not path.is_file():
        pytest.skip(f"shared validation data not found: {path}")
    header = read_header(str(path))
    assert choose_samples(header, None) == [tumor]


def test_tumour_column_in_a_bcf_header(tmp_path):
    pysam = pytest.importorskip("pysam")
    header = header_of(tmp_path, ["NORMAL", "TUMOR"], "##contig=<ID=chr12,length=133275309>")
    bcf = tmp_path / "t.bcf"
    with pysam.VariantFile(str(tmp_path / "h.vcf")) as vcf, pysam.VariantFile(str(bcf), "wb", header=vcf.header):
        pass
    assert read_header(str(bcf)).tumor_sample == "TUMOR" == header.tumor_sample


def _unknown_message(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    assert sniff_format(str(path)) == "unknown"
    with pytest.raises(InputFormatError) as error:
        read_any(str(path), "unknown", sample=None, regions=[], use_index=False, on_outside=None)
    return str(error.value)


def test_no_reader_says_what_was_tried_and_what_the_nearest_lacks(tmp_path):
    message = _unknown_message(tmp_path, "m.txt", b"Hugo_Symbol\tChromosome\tStart_Position\tTumor_Sample_Barcode\n"
                                                  b"KRAS\t12\t1\tP\n")
    assert "nearest is MAF, whose header lacks column(s) Reference_Allele, Tumor_Seq_Allele2" in message
    assert "tried VCF/BCF, MAF, ctDNA table" in message and "##fileformat" not in message
    message = _unknown_message(tmp_path, "x.tsv", b"name\tvalue\nfoo\t1\n")
    assert "names no column of these formats ('name\\tvalue')" in message
    assert "binary content" in _unknown_message(tmp_path, "b.dat", bytes(range(256)) * 8)


def test_files_that_start_like_a_vcf_go_to_the_vcf_reader(tmp_path):
    for name, data in [("e.vcf", b""), ("bom.vcf", b"\xef\xbb\xbf##fileformat=VCFv4.2\n"),
                       ("c.vcf", b"#CHROM\tPOS\n")]:
        (tmp_path / name).write_bytes(data)
        assert sniff_format(str(tmp_path / name)) == "vcf"


def test_duplicate_calls_merge_into_the_first_with_a_note():
    calls = pd.DataFrame({C.SAMPLE: ["S", "S", "S", "S", "T"], C.CHROM: ["chr12", "12", "chr12", "chr12", "chr12"],
                          C.POS: [100, 100, 100, 101, 100], C.REF: ["c", "C", "C", "C", "C"],
                          C.ALT: ["a", "A", "A", "A", "A"], C.DEPTH: [10, 20, 30, 40, 50],
                          C.INPUT_FILE: ["/d/t.vcf"] * 5, C.INPUT_LINE: [3, 4, 9, 5, 6]})
    merged = merge_duplicate_calls(calls)
    kept = merged[merged[C.STATUS] != "duplicate_record"]
    assert kept[C.DEPTH].tolist() == [10, 40, 50]
    assert kept[C.STATUS_DETAIL].tolist() == ["merged 3 duplicate records (t.vcf:3, t.vcf:4, t.vcf:9)", "", ""]
    # the repeated copies stay, as rows that account for their records
    assert merged.loc[merged[C.STATUS] == "duplicate_record", C.STATUS_DETAIL].tolist() == [
        "duplicate of the call at t.vcf:3", "duplicate of the call at t.vcf:3"]
    unique = calls.iloc[3:]
    assert merge_duplicate_calls(unique) is unique  # nothing to merge: the same table


@pytest.mark.parametrize("values,expected", [(["5%"], [0.05]), (["0,05"], [0.05]), (["0.05", ""], [0.05, None]),
                                             (["12", "0.5"], [0.12, 0.005])])  # any value > 1: a percent column
def test_ctdna_vaf_values(values, expected):
    got = _vaf(values, "vaf", pd.Series(range(2, 2 + len(values))).to_numpy(), "t.tsv")
    assert [None if pd.isna(v) else round(v, 6) for v in got] == expected


@pytest.mark.parametrize("value,needle", [("-0.05", "outside 0-100%"), ("150", "outside 0-100%"),
                                          ("1,000,5", "not a number"), ("low", "not a number")])
def test_ctdna_vaf_refused_with_its_line(value, needle):
    with pytest.raises(InputFormatError) as error:
        _vaf(["0.1", value], "vaf", pd.Series([2, 3]).to_numpy(), "t.tsv")
    assert str(error.value).startswith("t.tsv:3: ") and needle in str(error.value)


def test_contig_limits_prefer_the_header():
    assert contig_limits({})["12"] == 133851895  # the longer of GRCh37/GRCh38
    assert contig_limits({"chr12": 133275309, "chr12_random": 5000})["12"] == 133275309
    assert contig_limits({"chr12_random": 5000})["12_random"] == 5000
