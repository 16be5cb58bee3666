"""Clinically central alleles: exact HGVS strings in both builds (coordinates from dbSNP/ClinVar)."""

import pytest

# gene, GRCh37 (chrom, pos, ref, alt), GRCh38 (chrom, pos, ref, alt), hgvsc, hgvsp, hgvsp_short
HOTSPOTS = [
    ("KRAS", ("12", 25398285, "C", "A"), ("12", 25245351, "C", "A"), "c.34G>T", "p.Gly12Cys", "p.G12C"),
    ("KRAS", ("12", 25398284, "C", "T"), ("12", 25245350, "C", "T"), "c.35G>A", "p.Gly12Asp", "p.G12D"),
    ("KRAS", ("12", 25398284, "C", "A"), ("12", 25245350, "C", "A"), "c.35G>T", "p.Gly12Val", "p.G12V"),
    ("KRAS", ("12", 25398281, "C", "T"), ("12", 25245347, "C", "T"), "c.38G>A", "p.Gly13Asp", "p.G13D"),
    ("KRAS", ("12", 25380275, "T", "G"), ("12", 25227341, "T", "G"), "c.183A>C", "p.Gln61His", "p.Q61H"),
    ("KRAS", ("12", 25380275, "T", "A"), ("12", 25227341, "T", "A"), "c.183A>T", "p.Gln61His", "p.Q61H"),
    ("KRAS", ("12", 25380276, "T", "A"), ("12", 25227342, "T", "A"), "c.182A>T", "p.Gln61Leu", "p.Q61L"),
    ("KRAS", ("12", 25378562, "C", "T"), ("12", 25225628, "C", "T"), "c.436G>A", "p.Ala146Thr", "p.A146T"),
    ("BRAF", ("7", 140453136, "A", "T"), ("7", 140753336, "A", "T"), "c.1799T>A", "p.Val600Glu", "p.V600E"),
    ("EGFR", ("7", 55259515, "T", "G"), ("7", 55191822, "T", "G"), "c.2573T>G", "p.Leu858Arg", "p.L858R"),
    ("EGFR", ("7", 55242464, "AGGAATTAAGAGAAGC", "A"), ("7", 55174771, "AGGAATTAAGAGAAGC", "A"),
     "c.2235_2249del", "p.Glu746_Ala750del", "p.E746_A750del"),
    ("TP53", ("17", 7578406, "C", "T"), ("17", 7675088, "C", "T"), "c.524G>A", "p.Arg175His", "p.R175H"),
]


@pytest.mark.parametrize("build", ["GRCh37", "GRCh38"])
@pytest.mark.parametrize("gene,b37,b38,hgvsc,hgvsp,short", HOTSPOTS, ids=[h[-1] + "-" + h[3] for h in HOTSPOTS])
def test_hotspot_protein_change(annotate_rows, build, gene, b37, b38, hgvsc, hgvsp, short):
    row = annotate_rows(build, [b37 if build == "GRCh37" else b38]).iloc[0]
    assert row["status"] == "annotated", row["status_detail"]
    assert (row["gene"], row["hgvsc"], row["hgvsp"], row["hgvsp_short"]) == (gene, hgvsc, hgvsp, short)


@pytest.mark.parametrize("build,chrom", [("GRCh38", "chr12"), ("GRCh38", "12"), ("GRCh37", "chr12")])
def test_chr_prefix_is_accepted(annotate_rows, build, chrom):
    pos = 25245351 if build == "GRCh38" else 25398285
    row = annotate_rows(build, [(chrom, pos, "C", "A")]).iloc[0]
    assert (row["hgvsp_short"], row["chrom"], row["contig"]) == ("p.G12C", chrom, "12")


def test_exon_deletion_in_other_representation_gives_same_protein(annotate_rows):
    # cancerhotspots writes the same deletion without an anchor base, one base to the right
    row = annotate_rows("GRCh38", [("7", 55174772, "GGAATTAAGAGAAGC", "-")]).iloc[0]
    assert (row["hgvsc"], row["hgvsp_short"]) == ("c.2235_2249del", "p.E746_A750del")
