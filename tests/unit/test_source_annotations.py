"""Reading a VCF's own VEP CSQ / SnpEff ANN and setting it beside our annotation."""

import json

import pandas as pd
import pytest

from conftest import shared_dir
from krasannot.annotate.source import short_protein_change
from krasannot.cli import main
from krasannot.io.annotations import allele_entries, annotation_formats

VEP_HEADER = '##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from Ensembl VEP. ' \
             'Format: Allele|Consequence|SYMBOL|Feature|HGVSp|ALLELE_NUM|RefSeq">'
ANN_HEADER = "##INFO=<ID=ANN,Number=.,Type=String,Description=\"Functional annotations: 'Allele | Annotation | " \
             "Annotation_Impact | Gene_Name | Gene_ID | Feature_Type | Feature_ID | Transcript_BioType | Rank | " \
             "HGVS.c | HGVS.p' \">"


@pytest.mark.parametrize("written,short", [
    ("ENSP00000256078.4:p.Gly12Cys", "p.G12C"), ("p.Leu335%3D", "p.L335="), ("p.(Gln61Ter)", "p.Q61*"),
    ("ENSP1:p.Gly13ValfsTer5", "p.G13Vfs*5"), ("p.Glu746_Ala750del", "p.E746_A750del"), ("", ""),
])
def test_short_protein_change(written, short):
    assert short_protein_change(written) == short


def test_csq_and_ann_entries_for_each_allele():
    formats = annotation_formats([VEP_HEADER, ANN_HEADER])
    assert formats["CSQ"][:3] == ["Allele", "Consequence", "SYMBOL"] and formats["ANN"][3] == "Gene_Name"
    info = ("DP=9;CSQ=A|missense_variant|KRAS|ENST00000311936|ENSP1:p.Gly12Cys|1|NM_004985.5,"
            "T|missense_variant|KRAS|ENST00000311936|ENSP1:p.Gly12Ser|2|NM_004985.5;"
            "ANN=A|missense_variant|MODERATE|KRAS|ENSG1|transcript|NM_004985.5|protein_coding|2/5|c.34G>T|p.Gly12Cys")
    assert allele_entries(info, formats, "C", "T", 2) == [("KRAS", ("ENST00000311936", "NM_004985.5"), "ENSP1:p.Gly12Ser")]
    assert allele_entries(info, formats, "C", "A", 1) == [
        ("KRAS", ("ENST00000311936", "NM_004985.5"), "ENSP1:p.Gly12Cys"), ("KRAS", ("NM_004985.5",), "p.Gly12Cys")]
    # VEP without ALLELE_NUM writes an indel allele without the shared first base
    deletion = {"CSQ": ["Allele", "SYMBOL", "Feature", "HGVSp"]}
    assert allele_entries("CSQ=-|EGFR|ENST00000275493|p.Glu746_Ala750del", deletion, "AGGAATTAAGAGAAGC", "A", 1) == [
        ("EGFR", ("ENST00000275493",), "p.Glu746_Ala750del")]


def test_vcf_csq_is_set_beside_ours_and_compared(tmp_path):
    vcf = tmp_path / "vep.vcf"
    vcf.write_text("\n".join([
        "##fileformat=VCFv4.2", VEP_HEADER,
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO",
        "12\t25245351\t.\tC\tA\t.\tPASS\tCSQ=A|missense_variant|KRAS|ENST00000256078|ENSP2:p.Gly12Cys|1|NM_033360.4,"
        "A|missense_variant|KRAS|ENST00000311936|ENSP1:p.Gly12Cys|1|NM_004985.5",
        "17\t7675088\t.\tC\tT\t.\tPASS\tCSQ=T|missense_variant|TP53|ENST00000269305|ENSP3:p.Arg175Cys|1|NM_000546.6",
    ]) + "\n")
    out = tmp_path / "vep.tsv"
    assert main(["annotate", str(vcf), "--build", "GRCh38", "--out", str(out)]) == 0
    rows = pd.read_csv(out, sep="\t", dtype=str, keep_default_na=False)
    assert rows[["hgvsp_short", "source_hgvsp_short", "source_transcript"]].values.tolist() == [
        ["p.G12C", "p.G12C", "ENST00000311936,NM_004985.5"], ["p.R175H", "p.R175C", "ENST00000269305,NM_000546.6"]]
    summary = json.loads((tmp_path / "vep.summary.json").read_text())["source_protein_changes"]
    assert (summary["compared"], summary["agree"]) == (2, 1) and "TP53 ours p.R175H" in summary["disagreements"][0]


@pytest.mark.parametrize("name,build,compared", [("pcgr_grch37_vep85.vcf", "GRCh37", 4),
                                                  # Strelka: only the TUMOR column (the 2nd) is read
                                                  ("megsap_grch38_vep_csq.vcf", "GRCh38", 4)])
def test_real_vep_vcfs_agree_with_us(tmp_path, name, build, compared):
    path = shared_dir() / "validation" / "vep_vcf" / name
    if not path.is_file():
        pytest.skip(f"shared validation data not found: {path}")
    assert main(["annotate", str(path), "--build", build, "--out", str(tmp_path / "o.tsv")]) == 0
    summary = json.loads((tmp_path / "o.summary.json").read_text())["source_protein_changes"]
    assert summary["compared"] == compared and summary["agree"] == compared, summary["disagreements"]


def test_repeated_sample_names_stay_two_samples(tmp_path):
    vcf = tmp_path / "dup.vcf"
    vcf.write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tX\tX\n"
                   "12\t25245351\t.\tC\tA\t.\tPASS\t.\tGT:AD\t0/1:10,2\t0/1:10,10\n")
    assert main(["annotate", str(vcf), "--build", "GRCh38", "--out", str(tmp_path / "d.tsv")]) == 0
    rows = pd.read_csv(tmp_path / "d.tsv", sep="\t", dtype=str, keep_default_na=False)
    assert rows[["sample", "alt_depth"]].values.tolist() == [["X", "2"], ["X#2", "10"]]
