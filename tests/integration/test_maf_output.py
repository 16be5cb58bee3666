"""annotate --format maf against vcf2maf + VEP output (../shared/validation/caller_vcfs, skipped without it).

* test_output.vep_isoforms.maf (GRCh37, vcf2maf's own test MAF): its panel rows, annotated by us
  from the MAF itself, must agree on Variant_Classification, HGVSc and HGVSp_Short. The one
  accepted difference is a row whose VEP transcript is not our panel transcript (MET
  ENST00000318493 is NM_001127500's isoform: c.3082G>C p.D1028H there, c.3028G>C p.D1010H on
  NM_000245); each is listed.
* both MAFs: our vcf2maf rules (Variant_Type and the allele columns from VCF alleles; the class
  from VEP's own consequence) reproduce every row, panel or not.
"""

import json
import re

import numpy as np
import pandas as pd
import pytest

import vep_sources as vs
from krasannot.cli import main
from krasannot.io.maf_writer import MAF_COLUMNS, _inframe, maf_alleles, variant_classification

CALLERS = vs.validation_dir() / "caller_vcfs"
ISOFORMS = CALLERS / "test_output.vep_isoforms.maf"
B38_MAF, B38_VCF = CALLERS / "test_b38_output.maf", CALLERS / "test_b38.vcf"


def _need(*paths):
    for path in paths:
        if not path.is_file():
            pytest.skip(f"shared validation data not found: {path}")


def read_maf(path):
    return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, comment="#")


def modern(hgvsc: str) -> str:
    """VEP's c.843delG / c.2331_2339dupGGG... written as c.843del / c.2331_2339dup."""
    return re.sub(r"(del|dup)[ACGTN]+$", r"\1", hgvsc)


def test_panel_rows_agree_with_vep_and_vcf2maf(tmp_path):
    _need(ISOFORMS)
    out = tmp_path / "ours.maf"
    assert main(["annotate", str(ISOFORMS), "--build", "GRCh37", "--out", str(out)]) == 0
    assert out.read_text().startswith("#version 2.4\nHugo_Symbol\tEntrez_Gene_Id\tCenter\tNCBI_Build\t")
    ours = read_maf(out)
    assert list(ours.columns[:len(MAF_COLUMNS)]) == MAF_COLUMNS
    assert {"hgvsp_short", "functional_class", "status"} <= set(ours.columns)  # our own columns follow

    vep = read_maf(ISOFORMS)
    vep["input_line"] = (np.arange(len(vep)) + 3).astype(str)  # the version line and the header come first
    panel_genes = set(vs.panel_transcript_ids("GRCh37"))
    vep_panel = vep[vep["Hugo_Symbol"].isin(panel_genes)]
    joined = vep_panel.merge(ours, on="input_line", suffixes=("_vep", ""))
    # every panel row is in our MAF but one: line 18 repeats line 15 (APC AAGA>GA, same sample), so it is
    # merged into it and counted as a duplicate record in the summary
    assert len(vep_panel) == 8 and len(joined) == 7
    assert set(vep_panel["input_line"]) - set(joined["input_line"]) == {"18"}
    summary = json.loads((tmp_path / "ours.summary.json").read_text())
    assert summary["rows_by_status"]["duplicate_record"] == 1
    assert ours.loc[ours["input_line"] == "15", "status_detail"].iloc[0].endswith(
        "(test_output.vep_isoforms.maf:15, test_output.vep_isoforms.maf:18)")

    ids = vs.panel_transcript_ids("GRCh37")
    ours_tx = joined.apply(lambda r: vs.accession(r["Transcript_ID_vep"]) in ids[r["Hugo_Symbol"]], axis=1)
    fields = ["Variant_Classification", "HGVSc", "HGVSp_Short"]
    same = pd.Series(True, index=joined.index)
    for field in fields:
        theirs = joined[f"{field}_vep"].map(modern) if field == "HGVSc" else joined[f"{field}_vep"]
        same &= theirs == joined[field]
    differ = joined[~same]
    print("\n" + differ[["Hugo_Symbol", "Transcript_ID_vep", "Transcript_ID"] + [f"{f}_vep" for f in fields]
                        + fields].to_string())
    assert (same | ~ours_tx).all(), differ[ours_tx[~same]].to_string()
    assert differ["Hugo_Symbol"].tolist() == ["MET"]
    assert differ[["HGVSc", "HGVSp_Short"]].values.tolist() == [["c.3028G>C", "p.D1010H"]]
    assert same.sum() == 6  # APC (ENST00000457016) and TP53 (ENST00000269305) name our CDS under other ids
    # the rows that agree include a splice-region synonymous change and three APC frameshifts
    tp53 = joined[joined["Hugo_Symbol"] == "TP53"].iloc[0]
    assert (tp53["Variant_Classification"], tp53["HGVSp_Short"]) == ("Splice_Region", "p.T125=")
    assert (joined["Variant_Classification"] == "Frame_Shift_Del").sum() == 3


@pytest.mark.parametrize("maf_path", [ISOFORMS, B38_MAF], ids=["isoforms_grch37", "b38"])
def test_variant_classification_follows_vcf2maf_on_vep_consequences(maf_path):
    _need(maf_path)
    vep = read_maf(maf_path)
    worst_first = vep["Consequence"].str.replace(",", "&")
    inframe = _inframe(vep["Reference_Allele"].to_numpy(), vep["Tumor_Seq_Allele2"].to_numpy())
    classes = variant_classification(worst_first, vep["Variant_Type"].to_numpy(), inframe)
    assert len(vep) >= 19 and (vep["Consequence"] != "").all()
    assert classes.tolist() == vep["Variant_Classification"].tolist()


def test_allele_columns_follow_vcf2maf_for_every_record():
    _need(B38_MAF, B38_VCF)
    records = [line.split("\t") for line in B38_VCF.read_text().splitlines() if not line.startswith("#")]
    pos = np.array([int(r[1]) for r in records])
    alleles = maf_alleles(pos, np.array([r[3] for r in records], dtype=object),
                          np.array([r[4] for r in records], dtype=object))
    vep = read_maf(B38_MAF)
    assert len(vep) == len(records) == 25
    for column in ("Start_Position", "End_Position", "Reference_Allele", "Tumor_Seq_Allele2", "Variant_Type"):
        assert [str(v) for v in alleles[column]] == vep[column].tolist(), column


def test_format_flag_and_suffix_choose_the_writer(tmp_path):
    vcf = tmp_path / "kras.vcf"
    vcf.write_text("##fileformat=VCFv4.2\n##FORMAT=<ID=GT,Number=1,Type=String,Description=\"GT\">\n"
                   "##FORMAT=<ID=AD,Number=R,Type=Integer,Description=\"AD\">\n"
                   "##FORMAT=<ID=DP,Number=1,Type=Integer,Description=\"DP\">\n"
                   "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tT1\n"
                   "12\t25398285\t.\tC\tA\t.\tPASS\t.\tGT:AD:DP\t0/1:60,40:100\n"
                   "12\t25398281\t.\tCC\tC\t.\tPASS\t.\tGT:AD:DP\t1/1:0,30:30\n")
    out = tmp_path / "calls.txt"
    assert main(["annotate", str(vcf), "--build", "GRCh37", "--format", "maf", "--out", str(out)]) == 0
    maf = read_maf(out)
    assert maf[["Hugo_Symbol", "Variant_Classification", "Variant_Type", "HGVSc", "HGVSp_Short",
                "Transcript_ID"]].values.tolist() == [
        ["KRAS", "Missense_Mutation", "SNP", "c.34G>T", "p.G12C", "ENST00000311936"],
        ["KRAS", "Frame_Shift_Del", "DEL", "c.38del", "p.G13Afs*2", "ENST00000311936"]]
    assert maf[["Start_Position", "End_Position", "Reference_Allele", "Tumor_Seq_Allele1", "Tumor_Seq_Allele2",
                "t_depth", "t_ref_count", "t_alt_count", "Tumor_Sample_Barcode"]].values.tolist() == [
        ["25398285", "25398285", "C", "C", "A", "100", "60", "40", "T1"],
        ["25398282", "25398282", "C", "-", "-", "30", "0", "30", "T1"]]
    assert (tmp_path / "calls.txt.summary.json").is_file()
    suffixed = tmp_path / "calls.maf"
    assert main(["annotate", str(vcf), "--build", "GRCh37", "--out", str(suffixed)]) == 0
    assert suffixed.read_text().startswith("#version 2.4\n") and (tmp_path / "calls.summary.json").is_file()
