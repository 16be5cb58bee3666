"""MAF reader: tiny MAFs written inline, real values asserted."""

import gzip
import math

import pandas as pd
import pytest

from krasannot import columns as C
from krasannot import models as M
from krasannot.annotate.pipeline import annotate_calls
from krasannot.errors import InputFormatError, UsageError
from krasannot.io.maf import (MAF_CALLS_COLUMNS,
                              looks_like_maf, read_maf)
from krasannot.reference.bundle import load_bundled_panel

HEADER = ["Hugo_Symbol", "NCBI_Build", "Chromosome", "Start_Position", "End_Position", "Variant_Classification",
          "Reference_Allele", "Tumor_Seq_Allele1", "Tumor_Seq_Allele2", "dbSNP_RS", "Tumor_Sample_Barcode",
          "t_depth", "t_ref_count", "t_alt_count", "HGVSp_Short", "Transcript_ID", "RefSeq"]
DEFAULTS = dict(Hugo_Symbol="KRAS", NCBI_Build="GRCh37", Chromosome="12", Start_Position="25398285",
                End_Position="25398285", Variant_Classification="Missense_Mutation", Reference_Allele="C",
                Tumor_Seq_Allele1="C", Tumor_Seq_Allele2="A", dbSNP_RS="", Tumor_Sample_Barcode="S1",
                t_depth="", t_ref_count="75", t_alt_count="25", HGVSp_Short="p.G12C",
                Transcript_ID="ENST00000256078", RefSeq="NM_033360.2")


def maf_text(rows, header=HEADER, comments=("#version 2.4",)):
    lines = list(comments) + ["\t".join(header)]
    lines += ["\t".join({**DEFAULTS, **row}.get(h, "") for h in header) for row in rows]
    return "\n".join(lines) + "\n"


def write(tmp_path, rows, name="in.maf", **kwargs):
    path = tmp_path / name
    path.write_text(maf_text(rows, **kwargs), encoding="utf-8")
    return str(path)


def one(tmp_path, **row):
    return read_maf(write(tmp_path, [row])).calls.iloc[0]


def test_snv_row_becomes_a_call_with_the_maf_values(tmp_path):
    read = read_maf(write(tmp_path, [dict(dbSNP_RS="rs121913529")]))
    assert list(read.calls.columns) == MAF_CALLS_COLUMNS
    call = read.calls.iloc[0]
    assert (call[C.SAMPLE], call[C.CHROM], call[C.POS], call[C.REF], call[C.ALT]) == ("S1", "12", 25398285, "C", "A")
    assert (call[C.VARIANT_ID], call[C.FILTER], call[C.SOURCE], call[C.STATUS]) == ("rs121913529", "", "maf", "")
    assert (call[C.SOURCE_HGVSP_SHORT], call[C.SOURCE_TRANSCRIPT], call[C.SOURCE_GENE]) == ("p.G12C", "ENST00000256078", "KRAS")
    assert read.n_records == 1 and read.builds == {"GRCh37"} and read.samples == ["S1"]
    assert read.checksum.startswith("sha256:") and len(read.checksum) == 7 + 64
    assert call[C.INPUT_FILE].endswith("in.maf")


def test_missing_dbsnp_is_a_dot_and_chr_prefix_is_kept(tmp_path):
    call = one(tmp_path, Chromosome="chr12")
    assert call[C.VARIANT_ID] == "." and call[C.CHROM] == "chr12"


def test_insertion_sits_at_the_base_after_the_gap(tmp_path):
    call = one(tmp_path, Start_Position="25398284", End_Position="25398285", Reference_Allele="-",
               Tumor_Seq_Allele1="-", Tumor_Seq_Allele2="TTT")
    assert (call[C.POS], call[C.REF], call[C.ALT], call[C.STATUS]) == (25398285, "", "TTT", "")


def test_deletion_keeps_start_position_and_empties_alt(tmp_path):
    call = one(tmp_path, Start_Position="25398284", Reference_Allele="CC", Tumor_Seq_Allele1="CC",
               Tumor_Seq_Allele2="-")
    assert (call[C.POS], call[C.REF], call[C.ALT]) == (25398284, "CC", "")


def test_alt_taken_from_allele1_when_allele2_is_the_reference(tmp_path):
    call = one(tmp_path, Tumor_Seq_Allele1="T", Tumor_Seq_Allele2="C")
    assert (call[C.REF], call[C.ALT]) == ("C", "T")


def test_counts_give_depth_alt_depth_and_vaf(tmp_path):
    calls = read_maf(write(tmp_path, [dict(t_ref_count="75", t_alt_count="25"),
                                      dict(t_depth="200", t_ref_count="150", t_alt_count="40")])).calls
    assert str(calls[C.DEPTH].dtype) == "Int64" and str(calls[C.ALT_DEPTH].dtype) == "Int64"
    assert calls[C.DEPTH].tolist() == [100, 200] and calls[C.ALT_DEPTH].tolist() == [25, 40]
    assert calls[C.VAF].tolist() == pytest.approx([0.25, 0.2])


def test_missing_or_non_numeric_counts_stay_missing(tmp_path):
    calls = read_maf(write(tmp_path, [dict(t_ref_count="", t_alt_count=""),
                                      dict(t_ref_count="NA", t_alt_count="7"),
                                      dict(t_ref_count="0", t_alt_count="0")])).calls
    assert calls[C.DEPTH].isna().tolist() == [True, True, False]
    assert calls[C.ALT_DEPTH].isna().tolist() == [True, False, False]
    assert calls[C.ALT_DEPTH].iloc[1] == 7 and calls[C.DEPTH].iloc[2] == 0
    assert all(math.isnan(v) for v in calls[C.VAF])  # no depth, or a depth of 0: no VAF


def test_counts_absent_from_the_header_are_missing(tmp_path):
    header = [h for h in HEADER if h not in ("t_depth", "t_ref_count", "t_alt_count")]
    call = read_maf(write(tmp_path, [{}], header=header)).calls.iloc[0]
    assert pd.isna(call[C.DEPTH]) and pd.isna(call[C.ALT_DEPTH]) and math.isnan(call[C.VAF])


def test_input_lines_count_comment_blank_and_header_lines(tmp_path):
    path = tmp_path / "in.maf"
    text = maf_text([dict(Tumor_Sample_Barcode="A"), dict(Tumor_Sample_Barcode="B")],
                    comments=("#version 2.4", "#filedate 2024", ""))
    path.write_text(text + "\n" + "\t".join({**DEFAULTS, "Tumor_Sample_Barcode": "C"}[h] for h in HEADER) + "\n")
    read = read_maf(str(path))
    # lines: 1-2 comments, 3 blank, 4 header, 5-6 rows, 7 blank, 8 row
    assert read.calls[C.INPUT_LINE].tolist() == [5, 6, 8]
    assert read.samples == ["A", "B", "C"] and read.n_records == 3


def test_no_comment_line_and_crlf(tmp_path):
    path = tmp_path / "in.maf"
    path.write_bytes(maf_text([{}, {}], comments=()).replace("\n", "\r\n").encode())
    calls = read_maf(str(path)).calls
    assert calls[C.INPUT_LINE].tolist() == [2, 3] and calls[C.SOURCE_GENE].tolist() == ["KRAS", "KRAS"]
    assert calls[C.DEPTH].tolist() == [100, 100]


def test_gzipped_maf(tmp_path):
    path = tmp_path / "in.maf.gz"
    path.write_bytes(gzip.compress(maf_text([{}, dict(Tumor_Seq_Allele2="T")]).encode()))
    calls = read_maf(str(path)).calls
    assert calls[C.ALT].tolist() == ["A", "T"] and calls[C.INPUT_LINE].tolist() == [3, 4]


def test_invalid_alleles_are_kept_with_a_status_and_bad_positions_skipped(tmp_path):
    read = read_maf(write(tmp_path, [{}, dict(Start_Position=""), dict(Start_Position="12x"),
                                     dict(Tumor_Seq_Allele2="rs123"), dict(Tumor_Seq_Allele2=""),
                                     dict(Reference_Allele="-", Tumor_Seq_Allele1="-", Tumor_Seq_Allele2="-"),
                                     dict(Variant_Classification="Translocation"), dict(Start_Position="0"),
                                     dict(Start_Position="999999999")]))
    calls = read.calls
    assert calls[C.STATUS].tolist() == ["", *[M.STATUS_INVALID_ALLELE] * 3, ""]
    assert calls[C.POS].tolist()[0] == 25398285 and calls[C.INPUT_LINE].tolist() == [3, 6, 7, 8, 9]
    # a row without a position is no call: skipped, with its line and reason (the MAF says GRCh37)
    assert read.skipped[["input_line", "reason"]].values.tolist() == [
        [4, "Start_Position '' is not a position"], [5, "Start_Position '12x' is not a position"],
        [10, "Start_Position 0: positions start at 1"],
        [11, "Start_Position 999999999 is beyond the end of chromosome 12 (133,851,895 bp)"]]
    assert read.n_records == 9 and not read.warnings


def test_sample_filter(tmp_path):
    path = write(tmp_path, [dict(Tumor_Sample_Barcode=s) for s in ("A", "B", "A", "C")])
    read = read_maf(path, sample="A")
    assert read.calls[C.SAMPLE].tolist() == ["A", "A"] and read.calls[C.INPUT_LINE].tolist() == [3, 5]
    assert read.samples == ["A"] and read.n_records == 4
    with pytest.raises(UsageError) as err:
        read_maf(path, sample="Z")
    assert "sample 'Z' is not in" in str(err.value) and "samples in the file: A, B, C" in str(err.value)


def test_header_only_gives_no_calls_and_quotes_are_plain_text(tmp_path):
    assert read_maf(write(tmp_path, [])).calls.shape == (0, len(MAF_CALLS_COLUMNS))
    path = tmp_path / "q.maf"  # a stray quote must not join two rows into one
    path.write_bytes(b"\xef\xbb\xbf" + maf_text([dict(Tumor_Sample_Barcode='"S1'), dict(Hugo_Symbol='"EGFR')]).encode())
    calls = read_maf(str(path)).calls
    assert calls[C.SAMPLE].tolist() == ['"S1', "S1"] and calls[C.SOURCE_GENE].tolist() == ["KRAS", '"EGFR']


def test_looks_like_maf():
    text = maf_text([{}]).splitlines(keepends=True)
    assert looks_like_maf(text) and looks_like_maf(text[1:])
    assert not looks_like_maf(["##fileformat=VCFv4.2\n", "#CHROM\tPOS\tID\tREF\tALT\n"])
    assert not looks_like_maf(["Hugo_Symbol\tChromosome\tStart_Position\n"])


# --- errors --------------------------------------------------------------------------------
def raises(path, fragment, line=None, **kwargs):
    with pytest.raises(InputFormatError) as err:
        read_maf(str(path), **kwargs)
    assert fragment in str(err.value) and err.value.hint
    assert err.value.path == str(path) and err.value.line == line
    return err.value


def test_file_not_found(tmp_path):
    raises(tmp_path / "nope.maf", "file not found")


def test_empty_file(tmp_path):
    (tmp_path / "e.maf").write_text("")
    raises(tmp_path / "e.maf", "file is empty")


def test_comment_lines_only(tmp_path):
    (tmp_path / "c.maf").write_text("#version 2.4\n\n")
    raises(tmp_path / "c.maf", "no header line after the # comment lines", line=2)


def test_missing_required_columns(tmp_path):
    header = [h for h in HEADER if h not in ("Start_Position", "Tumor_Sample_Barcode")]
    err = raises(write(tmp_path, [{}], header=header), "missing required MAF column(s): Start_Position, "
                 "Tumor_Sample_Barcode", line=2)
    assert "Hugo_Symbol, Chromosome, Start_Position, Reference_Allele" in err.hint


def test_truncated_gzip(tmp_path):
    path = tmp_path / "t.maf.gz"
    path.write_bytes(gzip.compress(maf_text([{}] * 50).encode())[:-30])
    raises(path, "truncated gzip file")


def test_non_utf8_names_the_line(tmp_path):
    path = tmp_path / "bad.maf"
    path.write_bytes(maf_text([{}, dict(Hugo_Symbol="K\xe9RAS")]).encode("latin-1"))
    raises(path, "not valid UTF-8", line=4)


def test_wrong_number_of_fields_names_the_line(tmp_path):
    path = tmp_path / "short.maf"
    text = maf_text([{}, {}, {}]).splitlines()
    text[3] += "\textra"
    text[4] = text[4].rsplit("\t", 2)[0]
    path.write_text("\n".join(text) + "\n")
    raises(path, f"row has {len(HEADER) + 1} tab-separated fields, the header names {len(HEADER)}", line=4)
    text[3] = text[3].rsplit("\t", 1)[0]
    path.write_text("\n".join(text) + "\n")
    raises(path, f"row has {len(HEADER) - 2} tab-separated fields", line=5)


def test_mixed_builds(tmp_path):
    path = write(tmp_path, [{}, {}, dict(NCBI_Build="hg38")])
    raises(path, "mixed genome builds in NCBI_Build: GRCh37 (2 rows), GRCh38 (1 rows)", line=5)


def test_bare_build_numbers_are_read(tmp_path):
    assert read_maf(write(tmp_path, [dict(NCBI_Build="37")])).builds == {"GRCh37"}


# --- end to end ------------------------------------------------------------------------------
def test_annotated_protein_changes(tmp_path):
    path = write(tmp_path, [
        {},  # KRAS G12C
        dict(Hugo_Symbol="EGFR", Chromosome="7", Start_Position="55242465", End_Position="55242479",
             Reference_Allele="GGAATTAAGAGAAGC", Tumor_Seq_Allele1="GGAATTAAGAGAAGC", Tumor_Seq_Allele2="-",
             Variant_Classification="In_Frame_Del", Tumor_Sample_Barcode="S2", HGVSp_Short="p.E746_A750del"),
    ])
    annotated = annotate_calls(read_maf(path).calls, load_bundled_panel("GRCh37"))
    by_gene = annotated.set_index(C.GENE)
    assert by_gene.loc["KRAS", C.HGVSP_SHORT] == "p.G12C"
    assert by_gene.loc["EGFR", C.HGVSP_SHORT] == "p.E746_A750del"
    assert set(annotated[C.STATUS]) == {M.STATUS_ANNOTATED}
