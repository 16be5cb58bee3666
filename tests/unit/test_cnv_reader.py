"""Copy-number readers: tiny inputs written inline, exact rows and error texts asserted."""

import gzip

import numpy as np
import pytest

from krasannot import columns as C
from krasannot import models as M
from krasannot.errors import InputFormatError, UsageError
from krasannot.io.cnv import (cn_state_from_copies, cn_state_from_log2, copy_number_genes, gene_loci,
                              read_copy_number, sniff_copy_number)

CNA = ("Hugo_Symbol\tEntrez_Gene_Id\tS1\tS2\n"
       "MET\t4233\t2\t0\n"
       "CDKN2A\t1029\t-2\t-1\n"
       "ZNF717\t100131827\t2\t2\n"
       "KRAS\t3845\tNA\t1\n")

SEG = ("ID\tchrom\tloc.start\tloc.end\tnum.mark\tseg.mean\n"
       "T1\t7\t116000000\t117000000\t50\t1.5\n"          # MET (GRCh38 116672390-116798386)
       "T1\tchr9\t21900000\t22000000\t10\t-2.1\n"        # CDKN2A
       "T1\t12\t25000000\t25227000\t10\t1.2\n"           # KRAS, first part
       "T1\t12\t25227001\t25300000\t10\t0.0\n"           # KRAS, second part
       "T2\t7\t100000000\t120000000\t900\t0.05\n")


def write(tmp_path, text, name="in.txt"):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return str(path)


def rows(result, *names):
    return [tuple(r) for r in result.calls[list(names)].itertuples(index=False, name=None)]


def test_cna_matrix_rows_and_accounting(tmp_path):
    path = write(tmp_path, CNA, "data_cna.txt")
    result = read_copy_number(path)
    assert result.format == "cna" and result.samples == ["S1", "S2"] and result.n_records == 4
    assert sorted(rows(result, C.SAMPLE, C.GENE, C.CN_STATE, C.INPUT_LINE)) == [
        ("S1", "CDKN2A", M.CN_DEEP_DELETION, 3), ("S1", "MET", M.CN_AMPLIFICATION, 2),
        ("S2", "CDKN2A", M.CN_SHALLOW_DELETION, 3), ("S2", "KRAS", M.CN_GAIN, 5)]
    assert set(result.calls[C.CALL_TYPE]) == {M.CALL_TYPE_COPY_NUMBER}
    assert set(result.calls[C.SOURCE]) == {"cna"} and set(result.calls[C.FILTER]) == {"PASS"}
    assert set(result.calls[C.INPUT_FILE]) == {path}
    assert "MET amplification" in set(result.calls[C.ALTERATION])
    assert result.notes == [f"{path}: 8 values read (4 genes x 2 samples): 4 rows, 1 neutral, "
                            "2 of 1 genes outside the copy-number list, 1 not profiled (NA)"]


def test_cna_matrix_one_sample_and_unknown_sample(tmp_path):
    path = write(tmp_path, CNA)
    result = read_copy_number(path, sample="S2")
    assert result.samples == ["S2"] and sorted(rows(result, C.GENE, C.CN_STATE)) == [
        ("CDKN2A", M.CN_SHALLOW_DELETION), ("KRAS", M.CN_GAIN)]
    with pytest.raises(UsageError, match="sample 'S9' is not in"):
        read_copy_number(path, sample="S9")


@pytest.mark.parametrize("value, message", [("high", "value 'high' of sample S1 is not a discrete copy-number level"),
                                            ("3", "value '3' of sample S1 is not a discrete copy-number level")])
def test_cna_matrix_bad_value_names_file_and_line(tmp_path, value, message):
    path = write(tmp_path, CNA.replace("MET\t4233\t2", f"MET\t4233\t{value}"))
    with pytest.raises(InputFormatError) as error:
        read_copy_number(path)
    assert str(error.value).startswith(f"{path}:2: {message}")


def test_cna_matrix_short_row_and_missing_gene_column(tmp_path):
    path = write(tmp_path, CNA.replace("KRAS\t3845\tNA\t1", "KRAS\t3845\tNA"))
    with pytest.raises(InputFormatError, match=r":5: row has 3 tab-separated fields, the header names 4"):
        read_copy_number(path)
    path = write(tmp_path, "Entrez_Gene_Id\tS1\n4233\t2\n")
    with pytest.raises(InputFormatError) as error:
        read_copy_number(path)
    assert str(error.value).startswith(f"{path}:1: missing the Hugo_Symbol column")


def test_non_utf8_and_truncated_gzip_and_missing_file(tmp_path):
    path = write(tmp_path, CNA.encode("utf-8").replace(b"ZNF717", b"ZNF\xff717"))
    with pytest.raises(InputFormatError) as error:
        read_copy_number(path)
    assert str(error.value).startswith(f"{path}:4: line is not valid UTF-8")
    packed = gzip.compress(CNA.encode("utf-8") * 50)
    path = write(tmp_path, packed[: len(packed) // 2], "cna.txt.gz")
    with pytest.raises(InputFormatError, match="truncated gzip file"):
        read_copy_number(path)
    with pytest.raises(InputFormatError, match="file not found"):
        read_copy_number(str(tmp_path / "absent.txt"))


def test_gzipped_matrix_reads_like_plain(tmp_path):
    path = write(tmp_path, gzip.compress(CNA.encode("utf-8")), "data_cna.txt.gz")
    assert len(read_copy_number(path).calls) == 4


def test_segments_map_to_genes_with_weighted_log2(tmp_path):
    path = write(tmp_path, SEG, "cohort.seg")
    result = read_copy_number(path, build="GRCh38")
    assert result.format == "seg" and result.samples == ["T1", "T2"]
    found = sorted(rows(result, C.SAMPLE, C.GENE, C.CN_STATE, C.CN_LOG2, C.INPUT_LINE))
    # KRAS (25205246..25250936 in the loci; bundle span 25209431..) : weighted mean of 1.2 and 0.0
    kras = gene_loci("GRCh38").set_index("gene").loc["KRAS"]
    first = 25227000 - kras["start"] + 1
    second = kras["end"] - 25227001 + 1
    kras_log2 = round((1.2 * first + 0.0 * second) / (first + second), 4)
    assert found == sorted([("T1", "CDKN2A", M.CN_DEEP_DELETION, -2.1, 3), ("T1", "MET", M.CN_AMPLIFICATION, 1.5, 2),
                            ("T1", "KRAS", M.CN_GAIN if kras_log2 < 1.0 else M.CN_AMPLIFICATION, kras_log2,
                             4 if first >= second else 5)])
    n_genes = len(copy_number_genes())
    assert f"{2 * n_genes} gene values" in result.notes[0] and "3 rows" in result.notes[0]


def test_segments_need_a_build_and_numbers(tmp_path):
    path = write(tmp_path, SEG, "cohort.seg")
    with pytest.raises(UsageError, match="cannot tell the genome build of a segment file"):
        read_copy_number(path)
    path = write(tmp_path, SEG.replace("\t-2.1", "\tdeep"), "bad.seg")
    with pytest.raises(InputFormatError) as error:
        read_copy_number(path, build="GRCh38")
    assert str(error.value).startswith(f"{path}:3: seg.mean 'deep' is not a number")


def test_gene_cn_table_states_and_unknown_genes(tmp_path):
    text = ("sample\tgene\tcopy_number\tcn_state\tlog2\n"
            "P1\tERBB2\t12\t\t\n"
            "P1\tCDKN2A\t\tdeep_deletion\t\n"
            "P1\tEGFR\t\t\t0.1\n"
            "P1\tMYC\t\t\t1.3\n"
            "P1\tNOTAGENE\t40\t\t\n")
    path = write(tmp_path, text, "P1.cn.tsv")
    result = read_copy_number(path)
    assert result.format == "cn_tsv"
    assert rows(result, C.SAMPLE, C.GENE, C.CN_STATE, C.COPY_NUMBER, C.CN_LOG2, C.INPUT_LINE) == [
        ("P1", "ERBB2", M.CN_AMPLIFICATION, 12.0, pytest.approx(np.nan, nan_ok=True), 2),
        ("P1", "CDKN2A", M.CN_DEEP_DELETION, pytest.approx(np.nan, nan_ok=True), pytest.approx(np.nan, nan_ok=True), 3),
        ("P1", "MYC", M.CN_AMPLIFICATION, pytest.approx(np.nan, nan_ok=True), 1.3, 5)]
    assert result.notes == [f"{path}: 5 rows read: 3 calls, 1 neutral, 1 genes outside the copy-number list"]


def test_gene_cn_table_without_sample_column_takes_the_given_sample(tmp_path):
    path = write(tmp_path, "gene\tcopy_number\nMET\t7\n", "x.tsv")
    assert rows(read_copy_number(path, sample="PT-9"), C.SAMPLE, C.GENE, C.CN_STATE) == [
        ("PT-9", "MET", M.CN_AMPLIFICATION)]


@pytest.mark.parametrize("line, message", [
    ("P1\tMET\tseven\t\t", "copy_number 'seven' is not a number"),
    ("P1\tMET\t\tamplified\t", "cn_state 'amplified' is not one of amplification, gain"),
    ("P1\tMET\t\t\t", "row has no copy_number, cn_state or log2 value")])
def test_gene_cn_table_bad_rows(tmp_path, line, message):
    path = write(tmp_path, "sample\tgene\tcopy_number\tcn_state\tlog2\n" + line + "\n", "bad.tsv")
    with pytest.raises(InputFormatError) as error:
        read_copy_number(path)
    assert str(error.value).startswith(f"{path}:2: {message}")


def test_unknown_layout_is_refused(tmp_path):
    path = write(tmp_path, "a\tb\n1\t2\n")
    with pytest.raises(InputFormatError, match="not a copy-number file I know"):
        read_copy_number(path)


def test_sniffer_names_each_layout():
    assert sniff_copy_number(CNA.splitlines()) == "cna"
    assert sniff_copy_number(SEG.splitlines()) == "seg"
    assert sniff_copy_number(["sample\tgene\tcn_state", "S\tMET\tgain"]) == "cn_tsv"
    # a MAF is not copy number; a continuous matrix is claimed, and the reader says why it cannot read it
    assert sniff_copy_number(["Hugo_Symbol\tS1", "MET\t0.73"]) == "cna"
    assert sniff_copy_number(["Hugo_Symbol\tChromosome\tStart_Position\tTumor_Sample_Barcode"]) is None
    assert sniff_copy_number(["##fileformat=VCFv4.2", "#CHROM\tPOS"]) is None


def test_thresholds_at_their_edges():
    assert list(cn_state_from_log2(np.array([-1.2, -1.19, -0.25, -0.24, 0.19, 0.2, 0.99, 1.0, np.nan]))) == [
        M.CN_DEEP_DELETION, M.CN_SHALLOW_DELETION, M.CN_SHALLOW_DELETION, M.CN_NEUTRAL, M.CN_NEUTRAL, M.CN_GAIN,
        M.CN_GAIN, M.CN_AMPLIFICATION, ""]
    assert list(cn_state_from_copies(np.array([0, 1, 2, 3, 4.9, 5, 40]))) == [
        M.CN_DEEP_DELETION, M.CN_SHALLOW_DELETION, M.CN_NEUTRAL, M.CN_GAIN, M.CN_GAIN, M.CN_AMPLIFICATION,
        M.CN_AMPLIFICATION]


def test_gene_loci_hold_known_positions_in_both_builds():
    # KRAS c.35 (G12) and EGFR c.2573 (L858R) in each build, from the bundle's own transcripts
    for build, gene, chrom, pos in [("GRCh38", "KRAS", "12", 25245350), ("GRCh37", "KRAS", "12", 25398284),
                                    ("GRCh38", "EGFR", "7", 55191822), ("GRCh37", "EGFR", "7", 55259515)]:
        locus = gene_loci(build).set_index("gene").loc[gene]
        assert locus["chrom"] == chrom and locus["start"] <= pos <= locus["end"]
    assert set(gene_loci("GRCh37")["gene"]) == set(gene_loci("GRCh38")["gene"])
    assert {"KRAS", "MET", "ERBB2", "EGFR", "CDKN2A", "PTEN"} <= copy_number_genes()
