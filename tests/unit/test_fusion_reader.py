"""Fusion readers and VCF structural records: tiny inputs written inline, exact rows and errors asserted."""

import gzip

import pytest

from krasannot import columns as C
from krasannot import models as M
from krasannot.errors import InputFormatError, UsageError
from krasannot.io.fusions import read_fusions, sniff_fusions, structural_records_to_calls
from krasannot.io.vcf import read_vcf
from krasannot.reference.bundle import load_bundled_panel

SV = ("Sample_Id\tSite1_Hugo_Symbol\tSite1_Entrez_Gene_Id\tSite2_Hugo_Symbol\tSite2_Entrez_Gene_Id\tSV_Status\t"
      "Event_Info\tComments\n"
      "S1\tEML4\t0\tALK\t0\tSOMATIC\tEML4-ALK fusion\tin frame\n"
      "S2\tMET\t0\tMET\t\tSOMATIC\tMET-intragenic - Archer\tMET Exon 14 Skipping\n"
      "S3\tROS1\t0\t\t\tSOMATIC\tROS1 rearrangement\t\n"
      "S1\tEML4\t0\tALK\t0\tSOMATIC\tEML4-ALK fusion\tsecond isoform\n"
      "S4\tCCDC6\t0\tRET\t0\tGERMLINE\tCCDC6-RET fusion\t\n")

STAR = ("#FusionName\tJunctionReadCount\tSpanningFragCount\tSpliceType\tLeftGene\tLeftBreakpoint\tRightGene\t"
        "RightBreakpoint\tLargeAnchorSupport\tFFPM\n"
        "KIF5B--RET\t40\t12\tONLY_REF_SPLICE\tKIF5B^ENSG00000170759.12\tchr10:32017143:-\tRET^ENSG00000165731.19\t"
        "chr10:43114480:+\tYES_LDAS\t3.1\n"
        "KIF5B--RET\t5\t0\tONLY_REF_SPLICE\tKIF5B^ENSG00000170759.12\tchr10:32021100:-\tRET^ENSG00000165731.19\t"
        "chr10:43114480:+\tYES_LDAS\t0.3\n"
        "CD74--ROS1\t22\t9\tONLY_REF_SPLICE\tCD74^ENSG00000019582.15\tchr5:150404680:-\tROS1^ENSG00000047936.11\t"
        "chr6:117324415:-\tYES_LDAS\t1.9\n")

ARRIBA_HEAD = ("#gene1\tgene2\tstrand1(gene/fusion)\tstrand2(gene/fusion)\tbreakpoint1\tbreakpoint2\tsite1\tsite2\t"
               "type\tsplit_reads1\tsplit_reads2\tdiscordant_mates\tcoverage1\tcoverage2\tconfidence\t"
               "reading_frame\tdirection1\tdirection2\n")
ARRIBA = ARRIBA_HEAD + (
    # strands predicted: Arriba's order stands
    "EML4\tALK\t+/+\t-/-\t2:42522656\t2:29446394\tsplice-site\tsplice-site\tinversion\t20\t15\t8\t100\t90\thigh\t"
    "in-frame\tdownstream\tupstream\n"
    # not predicted: ALK (-) keeps its left (3') part, EML4 (+) its left (5') part -> swapped to EML4::ALK
    "ALK\tEML4\t-/.\t+/.\t2:29446394\t2:42522656\tsplice-site\tsplice-site\tinversion\t3\t2\t1\t40\t50\tlow\t"
    ".\tdownstream\tdownstream\n"
    # head-to-head: both keep their 5' ends, no fusion protein
    "KRAS\tEGFR\t-/.\t+/.\t12:25245000\t7:55200000\tintron\tintron\ttranslocation/5'-5'\t3\t2\t1\t40\t50\tmedium\t"
    ".\tupstream\tdownstream\n"
    # intergenic breakpoint
    "TPM3\tNTRK1(1200),PEAR1(3000)\t-/-\t./+\t1:154170400\t1:156843000\tCDS\tintergenic\ttranslocation\t3\t2\t1\t"
    "40\t50\tmedium\t.\tupstream\tdownstream\n")


def write(tmp_path, text, name="in.tsv"):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return str(path)


def rows(frame, *names):
    return [tuple(r) for r in frame[list(names)].itertuples(index=False, name=None)]


def test_cbioportal_sv_rows_skips_and_duplicates(tmp_path):
    path = write(tmp_path, SV, "data_sv.txt")
    result = read_fusions(path)
    assert result.format == "sv" and result.n_records == 5
    assert rows(result.calls, C.SAMPLE, C.FUSION_5P, C.FUSION_3P, C.ALTERATION, C.GENE, C.ORIGIN, C.INPUT_LINE) == [
        ("S1", "EML4", "ALK", "EML4::ALK", "ALK", "somatic", 2),
        ("S4", "CCDC6", "RET", "CCDC6::RET", "RET", "germline", 6)]
    assert set(result.calls[C.CALL_TYPE]) == {M.CALL_TYPE_FUSION} and set(result.calls[C.SOURCE]) == {"sv"}
    assert result.calls[C.STATUS_DETAIL].str.contains("does not state the orientation").all()
    assert rows(result.skipped, "input_line", "reason") == [
        (3, "intragenic rearrangement, not a fusion: MET (MET-intragenic - Archer)"),
        (4, "only one partner gene, not read as a fusion: ROS1 (ROS1 rearrangement)"),
        (5, "same fusion as line 2: EML4::ALK")]
    assert result.skipped["record"].iloc[0].startswith("S2\tMET\t0\tMET")
    # every row accounted for
    assert len(result.calls) + len(result.skipped) == result.n_records


def test_cbioportal_sv_one_sample(tmp_path):
    path = write(tmp_path, SV, "data_sv.txt")
    assert rows(read_fusions(path, sample="S4").calls, C.ALTERATION) == [("CCDC6::RET",)]
    with pytest.raises(UsageError, match="sample 'S9' is not in"):
        read_fusions(path, sample="S9")


def test_driver_kept_only_in_its_active_position(tmp_path):
    text = ("Sample_Id\tSite1_Hugo_Symbol\tSite2_Hugo_Symbol\tSV_Status\n"
            "S1\tROS1\tEYS\tSOMATIC\nS1\tFGFR3\tTACC3\tSOMATIC\nS1\tCD74\tNRG1\tSOMATIC\n")
    result = read_fusions(write(tmp_path, text, "data_sv.txt"))
    assert rows(result.calls, C.ALTERATION, C.GENE) == [("ROS1::EYS", "EYS"), ("FGFR3::TACC3", "FGFR3"),
                                                         ("CD74::NRG1", "NRG1")]


def test_legacy_fusion_file_lists_each_fusion_once(tmp_path):
    text = ("Hugo_Symbol\tEntrez_Gene_Id\tCenter\tTumor_Sample_Barcode\tFusion\tDNA_support\tRNA_support\tMethod\tFrame\n"
            "ALK\t238\tc\tS1\tEML4-ALK fusion\tyes\tno\tx\tin-frame\n"
            "EML4\t27436\tc\tS1\tEML4-ALK fusion\tyes\tno\tx\tin-frame\n"
            "HLA-A\t3105\tc\tS2\tHLA-A-ROS1 fusion\tyes\tno\tx\tin-frame\n"
            "RET\t5979\tc\tS3\tRET-intragenic\tyes\tno\tx\t\n")
    result = read_fusions(write(tmp_path, text, "data_fusions.txt"))
    assert result.format == "fusion_legacy"
    assert rows(result.calls, C.SAMPLE, C.ALTERATION, C.INPUT_LINE) == [("S1", "EML4::ALK", 2), ("S2", "HLA-A::ROS1", 4)]
    assert rows(result.skipped, "input_line", "reason") == [
        (3, "same fusion as line 2: EML4::ALK"), (5, "intragenic rearrangement, not a fusion: RET (RET-intragenic)")]


def test_star_fusion_left_is_5prime_and_isoforms_collapse(tmp_path):
    path = write(tmp_path, STAR, "star-fusion.fusion_predictions.tsv")
    result = read_fusions(path, sample="LUAD-7")
    assert result.format == "star_fusion"
    assert rows(result.calls, C.SAMPLE, C.FUSION_5P, C.FUSION_3P, C.GENE, C.CHROM, C.POS, C.INPUT_LINE) == [
        ("LUAD-7", "KIF5B", "RET", "RET", "chr10", 32017143, 2), ("LUAD-7", "CD74", "ROS1", "ROS1", "chr5", 150404680, 4)]
    assert rows(result.skipped, "input_line", "reason") == [(3, "same fusion as line 2: KIF5B::RET")]


def test_star_fusion_default_sample_is_the_file_name(tmp_path):
    result = read_fusions(write(tmp_path, STAR, "P12.star.tsv"))
    assert set(result.calls[C.SAMPLE]) == {"P12.star"}


def test_arriba_orientation_from_strands_and_directions(tmp_path):
    result = read_fusions(write(tmp_path, ARRIBA, "fusions.tsv"), sample="T")
    assert result.format == "arriba"
    assert rows(result.calls, C.FUSION_5P, C.FUSION_3P, C.FILTER, C.CHROM, C.POS, C.INPUT_LINE) == [
        ("EML4", "ALK", "PASS", "2", 42522656, 2)]
    assert rows(result.skipped, "input_line", "reason") == [
        (3, "same fusion as line 2: EML4::ALK"),
        (4, "no 5'->3' orientation: strands and directions do not order KRAS and EGFR"),
        (5, "intergenic breakpoint, not a gene fusion: TPM3 / NTRK1(1200),PEAR1(3000)")]


def test_arriba_unpredicted_row_is_swapped_and_low_confidence_filtered(tmp_path):
    rows_only = ARRIBA_HEAD + ARRIBA.splitlines(keepends=True)[2]
    result = read_fusions(write(tmp_path, rows_only, "fusions.tsv"), sample="T")
    assert rows(result.calls, C.FUSION_5P, C.FUSION_3P, C.FILTER, C.POS) == [
        ("EML4", "ALK", "arriba_low_confidence", 42522656)]


@pytest.mark.parametrize("text, message", [
    ("#FusionName\tLeftGene\tLeftBreakpoint\tRightBreakpoint\nA--B\tA^1\tchr1:5:+\tchr2:9:+\n",
     ":1: not a fusion file I know"),
    (SV.replace("S4\tCCDC6\t0\tRET", "S4\tCCDC6\t0"), ":6: row has 7 tab-separated fields, the header names 8")])
def test_bad_fusion_files_name_file_and_line(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(InputFormatError) as error:
        read_fusions(path)
    assert str(error.value).startswith(path + message)


def test_non_utf8_and_truncated_gzip(tmp_path):
    path = write(tmp_path, SV.encode("utf-8").replace(b"CCDC6", b"CCDC\xe96"))
    with pytest.raises(InputFormatError) as error:
        read_fusions(path)
    assert str(error.value).startswith(f"{path}:6: line is not valid UTF-8")
    packed = gzip.compress(SV.encode("utf-8") * 40)
    path = write(tmp_path, packed[:-30], "data_sv.txt.gz")
    with pytest.raises(InputFormatError, match="truncated gzip file"):
        read_fusions(path)


def test_sniffer_names_each_layout():
    assert sniff_fusions(SV.splitlines()) == "sv"
    assert sniff_fusions(STAR.splitlines()) == "star_fusion"
    assert sniff_fusions(ARRIBA.splitlines()) == "arriba"
    assert sniff_fusions(["Hugo_Symbol\tTumor_Sample_Barcode\tFusion"]) == "fusion_legacy"
    assert sniff_fusions(["Hugo_Symbol\tS1", "MET\t2"]) is None


VCF = """##fileformat=VCFv4.2
##contig=<ID=chr2,length=242193529>
##contig=<ID=chr7,length=159345973>
##contig=<ID=chr9,length=138394717>
##contig=<ID=chr12,length=133275309>
#CHROM	POS	ID	REF	ALT	QUAL	FILTER	INFO	FORMAT	TUMOR
chr2	29223500	bnd1	G	G]chr2:42291000]	.	PASS	SVTYPE=BND;MATEID=bnd2	GT	0/1
chr2	42291000	bnd2	T	T]chr2:29223500]	.	PASS	SVTYPE=BND;MATEID=bnd1	GT	0/1
chr7	116000000	amp1	N	<AMP>	.	PASS	SVTYPE=AMP;END=117000000	GT:CN	0/1:9
chr9	21900000	del1	N	<DEL>	.	PASS	SVTYPE=DEL;END=22000000	GT	1/1
chr9	5000000	inv1	N	<INV>	.	PASS	SVTYPE=INV;END=5100000	GT	0/1
chr12	25000000	cnv1	N	<CNV>	.	LowQual	SVTYPE=CNV;END=25300000	GT:CN	0/1:3
chr12	25245350	.	C	A	.	PASS	.	GT	0/1
"""


def test_vcf_structural_records_become_copy_number_and_fusion_calls(tmp_path):
    path = write(tmp_path, VCF, "sv.vcf")
    # panel regions as annotate passes them: the structural records outside them are still read
    vcf = read_vcf(path, regions=load_bundled_panel("GRCh38").regions())
    assert vcf.n_outside == 0 and len(vcf.calls) == 7
    rest, gene_level, skipped = structural_records_to_calls(vcf.calls, "GRCh38")
    assert rows(rest, C.CHROM, C.POS, C.ALT) == [("chr12", 25245350, "A")]
    assert "sv_info" not in rest
    assert sorted(rows(gene_level, C.CALL_TYPE, C.GENE, C.CN_STATE, C.FUSION_5P, C.FUSION_3P, C.FILTER,
                       C.INPUT_LINE, C.VARIANT_ID), key=str) == sorted([
        (M.CALL_TYPE_COPY_NUMBER, "MET", M.CN_AMPLIFICATION, "", "", "PASS", 9, "amp1"),
        (M.CALL_TYPE_COPY_NUMBER, "CDKN2A", M.CN_DEEP_DELETION, "", "", "PASS", 10, "del1"),
        (M.CALL_TYPE_COPY_NUMBER, "KRAS", M.CN_GAIN, "", "", "LowQual", 12, "cnv1"),
        (M.CALL_TYPE_FUSION, "ALK", "", "EML4", "ALK", "PASS", 7, "bnd1")], key=str)
    assert gene_level.loc[gene_level[C.GENE] == "MET", C.COPY_NUMBER].tolist() == [9.0]
    assert gene_level.loc[gene_level[C.GENE] == "ALK", C.ALTERATION].tolist() == ["EML4::ALK"]
    assert rows(skipped, "input_line", "reason") == [
        (11, "structural record <INV> is read neither as copy number nor as a fusion"),
        (8, "same fusion as line 7: EML4::ALK")]


def test_vcf_breakend_with_one_listed_driver_and_head_to_head(tmp_path):
    text = VCF.split("#CHROM")[0] + VCF.splitlines()[5] + "\n" + (
        # ALK (-) keeps its left (3') part; the partner lies in no listed gene
        "chr2\t29223500\tb1\tG\tG]chr2:100000000]\t.\tPASS\tSVTYPE=BND\tGT\t0/1\n"
        # EML4 (+) keeps its left (5') part and ALK (-) its right (5') part: no fusion protein
        "chr2\t42291000\tb2\tT\tT[chr2:29223500[\t.\tPASS\tSVTYPE=BND\tGT\t0/1\n")
    vcf = read_vcf(write(tmp_path, text, "bnd.vcf"))
    _, gene_level, skipped = structural_records_to_calls(vcf.calls, "GRCh38")
    assert rows(gene_level, C.FUSION_5P, C.FUSION_3P, C.ALTERATION) == [("", "ALK", "?::ALK")]
    assert rows(skipped, "reason") == [("no 5'->3' fusion: EML4 and ALK both keep their 5' ends",)]
