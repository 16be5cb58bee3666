"""ctDNA call tables: inline tables in every layout, the engine's protein change, and every bad input."""

import gzip
import math

import pytest

from krasannot import columns as C
from krasannot import models as M
from krasannot.annotate.pipeline import annotate_calls
from krasannot.errors import InputFormatError, UsageError
from krasannot.io.ctdna import CTDNA_CALLS_COLUMNS, read_ctdna, sniff_ctdna
from krasannot.reference.backmap import ACCEPTED_FORMS

NATIVE = """\
sample\tgene\talteration\ttype\tvaf\tdepth\talt_depth\torigin
P1\tKRAS\tG12C\tSNV\t0.052\t2500\t130\tsomatic
P1\tKRAS\tKRAS p.G13D\t\t0.004\t\t\t
P1\tKRAS\tQ61H\tSNV\t0.01\t\t\t
P1\tBRAF\tV600E\t\t0.02\t\t\t
P1\tEGFR\tL858R\tSNV\t0.031\t\t\t
P1\tEGFR\tEGFR exon 19 deletion\tindel\t0.012\t\t\t
P1\tMET\tMET amplification\tCNA\t\t\t\t
P1\tALK\tEML4-ALK\tfusion\t0.003\t\t\t
P1\tKRAS/NRAS\tG12/G13/Q61 not detected\t\t\t\t\t
P1\tTP53\tc.524G>A\t\t0.2\t\t\tgermline
"""


def write(tmp_path, text, name="plasma.tsv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return str(path)


def read(tmp_path, panels, text, build="GRCh38", name="plasma.tsv", **kwargs):
    return read_ctdna(write(tmp_path, text, name), panels[build], **kwargs)


def errors(tmp_path, panels, text, name="plasma.tsv", **kwargs):
    path = write(tmp_path, text, name) if isinstance(text, (str, bytes)) else text
    with pytest.raises(InputFormatError) as caught:
        read_ctdna(path, panels["GRCh38"], **kwargs)
    return str(caught.value).replace(str(tmp_path) + "/", "")


def test_native_table_gives_one_call_per_row_with_its_kind(tmp_path, panels):
    result = read(tmp_path, panels, NATIVE)
    calls = result.calls
    assert list(calls.columns) == CTDNA_CALLS_COLUMNS
    assert (result.format, result.n_records, result.samples) == ("ctdna", 10, ["P1"])
    assert result.checksum.startswith("sha256:") and len(result.skipped) == 0
    g12c = calls.iloc[0]
    assert (g12c[C.CHROM], g12c[C.POS], g12c[C.REF], g12c[C.ALT]) == ("12", 25245351, "C", "A")
    assert (g12c[C.VAF], g12c[C.DEPTH], g12c[C.ALT_DEPTH], g12c[C.ORIGIN]) == (0.052, 2500, 130, "somatic")
    assert (g12c[C.SOURCE], g12c[C.INPUT_LINE], g12c[C.SOURCE_HGVSP_SHORT]) == ("ctdna", 2, "p.G12C")
    exon19 = calls.iloc[5]
    assert (exon19[C.CALL_TYPE], exon19[C.GENE], exon19[C.ALTERATION]) == ("variant", "EGFR", "EGFR exon 19 deletion")
    assert exon19[C.POS] is pd_na()
    met = calls.iloc[6]
    assert (met[C.CALL_TYPE], met[C.GENE], met[C.CN_STATE]) == ("copy_number", "MET", "amplification")
    fusion = calls.iloc[7]
    assert (fusion[C.CALL_TYPE], fusion[C.FUSION_5P], fusion[C.FUSION_3P], fusion[C.GENE], fusion[C.ALTERATION]) == (
        "fusion", "EML4", "ALK", "ALK", "EML4::ALK")
    wild_type = calls.iloc[8:14]
    assert wild_type[C.ALTERATION].tolist() == ["KRAS G12", "KRAS G13", "KRAS Q61", "NRAS G12", "NRAS G13",
                                                "NRAS Q61"]
    assert set(wild_type[C.DETECTION]) == {"not_detected"} and wild_type[C.POS].isna().all()
    assert set(wild_type[C.INPUT_LINE]) == {10}
    tp53 = calls.iloc[14]
    assert (tp53[C.POS], tp53[C.ORIGIN], tp53[C.STATUS_DETAIL]) == (7675088, "germline", "cDNA input on NM_000546.5")


def pd_na():
    import pandas as pd
    return pd.NA


@pytest.mark.parametrize("build", ["GRCh37", "GRCh38"])
def test_engine_gives_back_the_protein_change_of_every_protein_row(tmp_path, panels, build):
    calls = read(tmp_path, panels, NATIVE, build=build).calls
    annotated = annotate_calls(calls, panels[build])
    protein_rows = annotated[annotated[C.SOURCE_HGVSP_SHORT] != ""]
    assert sorted(protein_rows[C.HGVSP_SHORT]) == ["p.G12C", "p.G13D", "p.L858R", "p.Q61H", "p.V600E"]
    assert (protein_rows[C.HGVSP_SHORT] == protein_rows[C.SOURCE_HGVSP_SHORT]).all()
    tp53 = annotated[annotated[C.GENE] == "TP53"].iloc[0]
    assert (tp53[C.HGVSC], tp53[C.HGVSP_SHORT]) == ("c.524G>A", "p.R175H")
    assert set(annotated[C.STATUS]) == {M.STATUS_ANNOTATED}
    by_kind = annotated.set_index(C.ALTERATION)
    assert by_kind.loc["MET amplification", C.CONSEQUENCE] == "transcript_amplification"
    assert by_kind.loc["EML4::ALK", C.CONSEQUENCE] == "gene_fusion"


def test_single_gene_not_detected_row_states_wild_type(tmp_path, panels):
    calls = read(tmp_path, panels, "gene,alteration\nKRAS,not detected\nKRAS,G12C not detected\n").calls
    assert calls[[C.GENE, C.ALTERATION, C.DETECTION]].values.tolist() == [
        ["KRAS", "KRAS", "not_detected"], ["KRAS", "KRAS G12C", "not_detected"]]
    assert calls[C.POS].tolist()[1] == 25245351  # a named allele not detected keeps its allele
    assert calls[C.SAMPLE].tolist() == ["plasma", "plasma"]  # no sample column: the file name


def test_type_column_not_detected_and_zero_alt_reads(tmp_path, panels):
    table = "gene,alteration,type,depth,alt_depth\nKRAS,,not detected,,\nKRAS,G12D,SNV,3000,0\n"
    calls = read(tmp_path, panels, table, name="s.csv").calls
    assert calls[C.DETECTION].tolist() == ["not_detected", "not_detected"]
    assert calls[C.VAF].tolist()[1] == 0.0


def test_percent_columns_and_values(tmp_path, panels):
    by_name = read(tmp_path, panels, "gene\talteration\tpercent_cfdna\nKRAS\tG12C\t5.2\nKRAS\tG12D\t0.4\n").calls
    assert by_name[C.VAF].tolist() == pytest.approx([0.052, 0.004])
    by_value = read(tmp_path, panels, "gene\talteration\tvaf\nKRAS\tG12C\t12.5\nKRAS\tG12D\t0.8\n").calls
    assert by_value[C.VAF].tolist() == pytest.approx([0.125, 0.008])  # a value > 1: the column is in percent
    fractions = read(tmp_path, panels, "gene\talteration\tvaf\nKRAS\tG12C\t0.4%\nKRAS\tG12D\t0.8\n").calls
    assert fractions[C.VAF].tolist() == pytest.approx([0.004, 0.8])
    from_counts = read(tmp_path, panels, "gene\talteration\tdepth\talt_depth\nKRAS\tG12C\t2000\t50\n").calls
    assert from_counts[C.VAF].tolist() == [0.025]


def test_csv_with_bom_crlf_quotes_and_gzip(tmp_path, panels):
    text = '\ufeffsample,gene,alteration,vaf\r\nP2,KRAS,"KRAS G12C",0.1\r\nP2,MET,"MET amplification",\r\n'
    plain = read(tmp_path, panels, text, name="p.csv").calls
    packed = read_ctdna(write(tmp_path, gzip.compress(text.encode("utf-8")), "p.csv.gz"), panels["GRCh38"]).calls
    for calls in (plain, packed):
        assert calls[[C.SAMPLE, C.POS, C.CN_STATE]].values.tolist() == [["P2", 25245351, ""], ["P2", pd_na(),
                                                                                          "amplification"]]


def test_guardant360_style_layout(tmp_path, panels):
    text = ("Gene\tAlteration\tcDNA\t% cfDNA\tType\n"
            "KRAS\tG12C\tc.34G>T\t5.2\tSNV\n"
            "KRAS\tQ61H\tc.183A>T\t0.3\tSNV\n"
            "MET\tAmplification\t\t\tCNA\n")
    assert sniff_ctdna(text.splitlines()) == "guardant360-style"
    result = read(tmp_path, panels, text)
    calls = result.calls
    # the cDNA places the allele: c.183A>T, not the representative c.183A>C a protein alone would give
    assert calls[[C.POS, C.REF, C.ALT]].values.tolist()[:2] == [[25245351, "C", "A"], [25227341, "T", "A"]]
    assert calls[C.VAF].tolist()[:2] == pytest.approx([0.052, 0.003]) and math.isnan(calls[C.VAF].tolist()[2])
    assert calls[C.SOURCE_HGVSP_SHORT].tolist() == ["p.G12C", "p.Q61H", ""]
    assert calls[C.CN_STATE].tolist() == ["", "", "amplification"]
    assert result.notes[0].startswith("ctDNA layout guardant360-style;")
    annotated = annotate_calls(calls, panels["GRCh38"])
    assert annotated[C.HGVSP_SHORT].tolist()[:2] == ["p.G12C", "p.Q61H"]


def test_foundationone_liquid_style_layout(tmp_path, panels):
    text = "gene,alteration,variant-allele-fraction\nEGFR,L858R,0.021\nEGFR,T790M,1.5\nERBB2,amplification,\n"
    assert sniff_ctdna(text.splitlines()) == "foundationone-liquid-style"
    calls = read(tmp_path, panels, text, name="f1.csv").calls
    assert calls[C.VAF].tolist()[:2] == pytest.approx([0.00021, 0.015])  # 1.5 > 1: the column is in percent
    assert calls[C.CN_STATE].tolist() == ["", "", "amplification"]


def test_megsap_monitoring_layout(tmp_path, panels):
    text = ("CHROM\tPOS\tREF\tALT\tDP_HQ\tREF_COUNT\tALT_COUNT\tAF\tFILTER\n"
            "chr12\t25245350\tC\tT\t4381\t4371\t10\t0.002283\tNA\n"
            "chr12\t25245351\tC\tA\t3605\t3605\t0\t0\tLow_AF\n")
    assert sniff_ctdna(text.splitlines()) == "megsap-cfdna-monitoring"
    calls = read(tmp_path, panels, text, name="cf1_monitoring.tsv").calls
    assert calls[[C.CHROM, C.POS, C.DEPTH, C.ALT_DEPTH, C.FILTER, C.DETECTION]].values.tolist() == [
        ["chr12", 25245350, 4381, 10, "", "detected"], ["chr12", 25245351, 3605, 0, "Low_AF", "not_detected"]]
    assert calls[C.SAMPLE].tolist() == ["cf1_monitoring"] * 2


def test_sniff_refuses_other_tables():
    assert sniff_ctdna(["#version 2.4", "Hugo_Symbol\tChromosome\tStart_Position"]) is None
    assert sniff_ctdna(["##fileformat=VCFv4.2", "#CHROM\tPOS\tID\tREF\tALT"]) is None
    assert sniff_ctdna(["gene\tcopy_number", "MET\t8"]) is None
    assert sniff_ctdna(["# a comment", "", "sample,gene,alteration,vaf"]) == "krasannot-ctdna"


def test_copy_number_words_and_fusion_without_partner(tmp_path, panels):
    text = ("gene\talteration\ttype\tcopy_number\n"
            "CDKN2A\tloss\tCNA\t\n"
            "PTEN\tPTEN homozygous deletion\t\t\n"
            "ERBB2\tamplification (CN 6.4)\t\t\n"
            "MET\t\tamplification\t3.1\n"
            "RET\tRET fusion\t\t\n"
            "ROS1\tCD74::ROS1\t\t\n")
    calls = read(tmp_path, panels, text).calls
    assert calls[C.CN_STATE].tolist()[:4] == ["shallow_deletion", "deep_deletion", "amplification", "amplification"]
    assert calls[C.COPY_NUMBER].tolist()[2:4] == [6.4, 3.1]
    assert calls[C.STATUS_DETAIL].tolist()[0] == ("'loss' read as shallow_deletion; write homozygous deletion "
                                                  "for a two-copy loss")
    assert calls[[C.CALL_TYPE, C.FUSION_5P, C.FUSION_3P, C.GENE]].values.tolist()[4:] == [
        ["fusion", "", "", "RET"], ["fusion", "CD74", "ROS1", "ROS1"]]


def test_sample_choice_and_skipped_rows(tmp_path, panels):
    text = ("sample\tgene\talteration\ttype\n"
            "P1\tKRAS\tG12C\tSNV\n"
            "P2\tKRAS\tG12D\tSNV\n"
            "P1\t\tMSI-High\tMSI\n"
            "\t\t\t\n")
    result = read(tmp_path, panels, text, sample="P1")
    assert result.calls[C.ALTERATION].tolist() == ["KRAS G12C"]
    assert result.skipped[["input_line", "reason"]].values.tolist() == [
        [3, "sample P2, not P1 (--sample)"], [4, "type 'MSI' is not a gene alteration"], [5, "empty row"]]
    assert result.n_records == 4 == len(result.calls) + len(result.skipped)  # every row accounted for
    with pytest.raises(UsageError) as caught:
        read(tmp_path, panels, text, sample="P9")
    assert str(caught.value).endswith("(samples in the file: P1, P2, plasma)")


def test_gene_outside_the_bundle_is_an_outside_panel_call(tmp_path, panels):
    calls = read(tmp_path, panels, "gene\talteration\nIDH1\tR132H\n").calls
    assert calls[[C.GENE, C.STATUS, C.SOURCE_HGVSP_SHORT]].values.tolist() == [["IDH1", "outside_panel", "p.R132H"]]
    annotated = annotate_calls(calls, panels["GRCh38"])
    assert annotated[C.STATUS].tolist() == ["outside_panel"]


# --- bad input: one line naming the file, the line and what to do -----------------------------
def test_unknown_alteration_syntax(tmp_path, panels):
    assert errors(tmp_path, panels, "gene\talteration\nKRAS\tG12C\nKRAS\tcodon twelve\n") == (
        f"plasma.tsv:3: unknown alteration syntax 'codon twelve' (accepted forms: {ACCEPTED_FORMS})")


def test_missing_gene_column(tmp_path, panels):
    assert errors(tmp_path, panels, "sample\talteration\tvaf\nP1\tKRAS G12C\t0.1\n") == (
        "plasma.tsv:1: missing required ctDNA column(s): gene (a ctDNA table needs columns gene and alteration "
        "(see docs/ctdna.md); is the separator a tab or a comma?)")


def test_non_utf8_bytes(tmp_path, panels):
    data = "gene\talteration\nKRAS\tG12C\n".encode() + b"KRAS\tG12D \xe9\n"
    assert errors(tmp_path, panels, data) == "plasma.tsv:3: line is not valid UTF-8 (re-encode the file as UTF-8)"


def test_truncated_gzip(tmp_path, panels):
    data = gzip.compress(NATIVE.encode("utf-8"))
    assert errors(tmp_path, panels, data[:len(data) // 2], name="plasma.tsv.gz") == (
        "plasma.tsv.gz: truncated gzip file: the compressed data ends early "
        "(the file is incomplete; copy it again or re-create it)")


def test_row_with_wrong_field_count(tmp_path, panels):
    assert errors(tmp_path, panels, "gene\talteration\tvaf\nKRAS\tG12C\n") == (
        "plasma.tsv:2: row has 2 tab-separated fields, the header names 3 (is the file truncated or edited by hand?)")


def test_unknown_type_bad_vaf_and_bad_counts(tmp_path, panels):
    assert errors(tmp_path, panels, "gene\talteration\ttype\nKRAS\tG12C\tmethylation\n") == (
        "plasma.tsv:2: type 'methylation' is not known (accepted types: SNV, MNV, indel, CNA (amplification, "
        "gain, loss, homozygous deletion), fusion, not detected (or leave it empty))")
    assert errors(tmp_path, panels, "gene\talteration\tvaf\nKRAS\tG12C\t<0.1\n") == (
        "plasma.tsv:2: vaf value '<0.1' is not a number (write a fraction (0.052) or a percent (5.2%))")
    assert errors(tmp_path, panels, "gene\talteration\tvaf\nKRAS\tG12C\t120%\n") == (
        "plasma.tsv:2: vaf value '120%' is outside 0-100% (write a fraction (0.052) or a percent (5.2%))")
    assert errors(tmp_path, panels, "gene\talteration\tdepth\talt_depth\nKRAS\tG12C\t100\t150\n") == (
        "plasma.tsv:2: alt_depth 150 exceeds depth 100 (check the read counts)")


def test_gene_disagreements_and_empty_file(tmp_path, panels):
    assert errors(tmp_path, panels, "gene\talteration\ttype\nKRAS\tEML4-ALK\tfusion\n") == (
        "plasma.tsv:2: the gene column says KRAS but the fusion 'EML4-ALK' joins EML4 and ALK "
        "(correct the gene or the fusion)")
    assert errors(tmp_path, panels, "gene\talteration\nKRAS\tNRAS not detected\n") == (
        "plasma.tsv:2: the gene column says KRAS but the alteration 'NRAS not detected' names NRAS "
        "(correct the gene or the alteration)")
    assert errors(tmp_path, panels, "\n\n") == (
        "plasma.tsv: file is empty (give a ctDNA table with a header line and rows)")


def test_both_vaf_and_percent_columns_are_refused(tmp_path, panels):
    assert errors(tmp_path, panels, "gene\talteration\tvaf\tpercent_cfdna\nKRAS\tG12C\t0.1\t10\n") == (
        "plasma.tsv:1: both 'vaf' and 'percent_cfdna' give the allele fraction (keep one of them)")
