"""Each consequence class, with the expected strings worked out by hand from the CDS.

KRAS (minus strand) CDS starts ATG ACT GAA TAT AAA CTT GTG GTA GTT GGA GCT GGT GGC GTA...
codon 12 = GGT (c.34-36), codon 13 = GGC (c.37-39), codon 14 = GTA; exon 2 ends at c.111;
codon 60 = GGT (c.178-180), codon 61 = CAA (c.181-183); the stop TAA is c.565-567.
"""

import numpy as np
import pytest

from krasannot.reference.bundle import reverse_complement

COMPLEMENT = {"A": "T", "C": "G", "G": "C", "T": "A"}


def genomic(panels, build, gene, c):
    tx = panels[build].by_gene[gene]
    return int(tx.tx_to_genomic(np.array([tx.cds_tx_first + c - 1]))[0])


def kras_snv(panels, build, c, cds_alt):
    """VCF-style (chrom, pos, ref, alt) of a KRAS CDS substitution given in transcript orientation."""
    tx = panels[build].by_gene["KRAS"]
    return ("12", genomic(panels, build, "KRAS", c), COMPLEMENT[tx.cds[c - 1]], COMPLEMENT[cds_alt])


@pytest.mark.parametrize("build", ["GRCh37", "GRCh38"])
@pytest.mark.parametrize("c,alt,hgvsc,hgvsp,short,consequence", [
    (36, "C", "c.36T>C", "p.Gly12=", "p.G12=", "synonymous_variant"),
    (181, "T", "c.181C>T", "p.Gln61Ter", "p.Q61*", "stop_gained"),
    (1, "G", "c.1A>G", "p.Met1?", "p.M1?", "start_lost"),
    (565, "C", "c.565T>C", "p.Ter189GlnextTer8", "p.*189Qext*8", "stop_lost"),  # 3'UTR from the shipped region
    (111, "A", "c.111G>A", "p.Glu37=", "p.E37=", "splice_region_variant&synonymous_variant"),
])
def test_kras_single_base_classes(panels, annotate_rows, build, c, alt, hgvsc, hgvsp, short, consequence):
    row = annotate_rows(build, [kras_snv(panels, build, c, alt)]).iloc[0]
    assert (row["hgvsc"], row["hgvsp"], row["hgvsp_short"], row["consequence"]) == (hgvsc, hgvsp, short, consequence)


@pytest.mark.parametrize("build", ["GRCh37", "GRCh38"])
def test_splice_and_utr_positions(panels, annotate_rows, build):
    from krasannot.reference.regions import GeneRegionSequence

    exon2_last = genomic(panels, build, "KRAS", 111)   # minus strand: intron 2 lies below it
    exon3_first = genomic(panels, build, "KRAS", 112)
    cds1 = genomic(panels, build, "KRAS", 1)
    stop_last = genomic(panels, build, "KRAS", 567)
    named = [(exon2_last - 1, "111+1"), (exon2_last - 5, "111+5"), (exon3_first + 2, "112-2"),
             (exon3_first + 30, "112-30"),  # deep intronic, nearer exon 3
             (cds1 + 5, "-5"),              # exon 2 starts at c.-10
             (cds1 + 14, "-11-3"),          # exon 1 is all UTR
             (stop_last - 5, "*5"), (exon2_last - 3, "111+3"), (exon3_first + 10, "112-10")]
    # REF alleles are the genome's: the shipped KRAS region knows intron and UTR bases, and checks them
    region = GeneRegionSequence(build)
    rows, expected = [], []
    for pos, name in named:
        ref = region.fetch("12", pos, pos)
        alt = next(b for b in "ACGT" if b != ref)
        rows.append(("12", pos, ref, alt))
        expected.append(f"c.{name}{COMPLEMENT[ref]}>{COMPLEMENT[alt]}")
    out = annotate_rows(build, rows)
    assert (out["status"] == "annotated").all()
    assert out["hgvsc"].tolist() == expected
    assert out["consequence"].tolist() == ["splice_donor_variant", "splice_donor_5th_base_variant&intron_variant",
                                           "splice_acceptor_variant", "intron_variant",
                                           "5_prime_UTR_variant",
                                           "splice_region_variant&splice_polypyrimidine_tract_variant&intron_variant",
                                           "3_prime_UTR_variant", "splice_donor_region_variant&intron_variant",
                                           "splice_polypyrimidine_tract_variant&intron_variant"]
    assert out["intron"].tolist()[:4] == ["2/4", "2/4", "2/4", "2/4"]
    assert out["exon"].tolist()[4:7] == ["2/5", "", "5/5"]
    assert out["intron"].tolist()[5] == "1/4"
    assert (out["hgvsp"] == "").all()
    # a wrong intron REF is now caught, as in the CDS
    wrong = next(b for b in "ACGT" if b != rows[3][2])
    assert annotate_rows(build, [("12", rows[3][1], wrong, rows[3][3] if rows[3][3] != wrong else rows[3][2])]
                         ).iloc[0]["status"] == "ref_mismatch"


@pytest.mark.parametrize("build", ["GRCh37", "GRCh38"])
def test_kras_indels(panels, annotate_rows, build):
    c37 = genomic(panels, build, "KRAS", 37)
    c34 = genomic(panels, build, "KRAS", 34)
    c36 = genomic(panels, build, "KRAS", 36)
    rows = [
        ("12", c37 - 1, "CC", "C"),                              # delete c.37 or c.38 (GG): c.38del
        ("12", c36 - 1, "C", "CTGC"),                            # insert GCA between c.36 and c.37
        ("12", c34 - 3, "CACC", "C"),                            # delete GGT c.34-36 (one of two Gly codons)
    ]
    out = annotate_rows(build, rows)
    # GCA before c.37 (G) is CAG after it: the 3' rule moves the insertion one base on
    assert out["hgvsc"].tolist() == ["c.38del", "c.37_38insCAG", "c.36_38del"]
    assert out["hgvsp_short"].tolist() == ["p.G13Afs*2", "p.G12_G13insA", "p.G13del"]
    assert out["hgvsp"].tolist() == ["p.Gly13AlafsTer2", "p.Gly12_Gly13insAla", "p.Gly13del"]
    assert out["consequence"].tolist() == ["frameshift_variant", "inframe_insertion", "inframe_deletion"]


@pytest.mark.parametrize("build", ["GRCh37", "GRCh38"])
def test_egfr_exon20_duplication_plus_strand(panels, annotate_rows, build):
    # p.A767_V769dup = c.2300_2308dup; the VCF writes it left-aligned, HGVS shifts it 3'
    first, last = genomic(panels, build, "EGFR", 2300), genomic(panels, build, "EGFR", 2308)
    panel = panels[build]
    dup = panel.genome_bases("7", first, last)
    anchor = panel.genome_bases("7", first - 1, first - 1)
    row = annotate_rows(build, [("7", first - 1, anchor, anchor + dup)]).iloc[0]
    assert (row["hgvsc"], row["hgvsp_short"], row["consequence"]) == (
        "c.2300_2308dup", "p.A767_V769dup", "inframe_insertion")


@pytest.mark.parametrize("build", ["GRCh37", "GRCh38"])
def test_mnv_within_one_codon_is_one_allele(panels, annotate_rows, build):
    c35 = genomic(panels, build, "KRAS", 35)
    row = annotate_rows(build, [("12", c35, "CC", "AA")]).iloc[0]
    assert (row["hgvsc"], row["hgvsp_short"]) == ("c.34_35delinsTT", "p.G12F")


@pytest.mark.parametrize("build", ["GRCh37", "GRCh38"])
def test_same_codon_snvs_of_one_sample_are_merged_and_reported(panels, annotate_rows, build):
    c34, c35 = genomic(panels, build, "KRAS", 34), genomic(panels, build, "KRAS", 35)
    out = annotate_rows(build, [("12", c34, "C", "A"), ("12", c35, "C", "A")])
    assert out["status"].tolist() == ["merged_into_mnv", "merged_into_mnv", "annotated"]
    merged = out.iloc[2]
    assert (merged["hgvsc"], merged["hgvsp_short"], merged["ref"], merged["alt"]) == (
        "c.34_35delinsTT", "p.G12F", "CC", "AA")
    assert merged["mnv_merge"] == f"12:{c35}:C>A+12:{c34}:C>A"  # genomic order
    assert "merged into" in out.iloc[0]["status_detail"]


def _two_snvs(panels, **columns):
    import pandas as pd
    from krasannot.annotate.pipeline import annotate_calls
    calls = pd.DataFrame({"sample": ["S", "S"], "chrom": ["12", "12"], "pos": [25245351, 25245350],
                          "ref": ["C", "C"], "alt": ["A", "T"], **columns})
    return annotate_calls(calls, panels["GRCh38"])


def test_same_codon_snvs_from_different_clones_stay_apart(panels):
    # a G12C patient with an acquired subclonal G12D: two alleles, never one "G12Y"
    out = _two_snvs(panels, vaf=[0.31, 0.04])
    assert out["hgvsp_short"].tolist() == ["p.G12C", "p.G12D"]
    assert out["status"].tolist() == ["annotated", "annotated"]
    assert "0.040 vs 0.310 suggest different clones" in out["status_detail"].iloc[0]


@pytest.mark.parametrize("genotypes,merged", [(["0|1", "0|1"], True), (["0|1", "1|0"], False)])
def test_phasing_decides_whether_same_codon_snvs_merge(panels, genotypes, merged):
    out = _two_snvs(panels, vaf=[0.30, 0.05], genotype=genotypes, phase_set=["25245350", "25245350"])
    if merged:
        assert out["hgvsp_short"].tolist() == ["", "", "p.G12Y"]
        assert "phased in cis" in out["status_detail"].iloc[2]
    else:
        assert out["hgvsp_short"].tolist() == ["p.G12C", "p.G12D"]
        assert "phased in trans" in out["status_detail"].iloc[0]


def test_merged_call_passes_only_if_every_part_passed(panels):
    out = _two_snvs(panels, vaf=[0.30, 0.29], filter=["PASS", "weak_evidence"])
    assert (out["hgvsp_short"].iloc[2], out["filter"].iloc[2]) == ("p.G12Y", "weak_evidence")


def test_snvs_of_different_samples_are_not_merged(panels):
    import pandas as pd
    from krasannot.annotate.pipeline import annotate_calls
    calls = pd.DataFrame([("A", "12", 25245351, "C", "A"), ("B", "12", 25245350, "C", "A")],
                         columns=["sample", "chrom", "pos", "ref", "alt"])
    out = annotate_calls(calls, panels["GRCh38"])
    assert out["hgvsp_short"].tolist() == ["p.G12C", "p.G12V"]


@pytest.mark.parametrize("build", ["GRCh37", "GRCh38"])
def test_cross_codon_change_is_trimmed_to_the_changed_residue(panels, annotate_rows, build):
    # c.180_181TC>CT: codon 60 GGT->GGC keeps Gly60, codon 61 CAA->TAA is a stop
    c180, c181 = genomic(panels, build, "KRAS", 180), genomic(panels, build, "KRAS", 181)
    row = annotate_rows(build, [("12", c181, reverse_complement("TC"), reverse_complement("CT"))]).iloc[0]
    assert c181 == c180 - 1
    assert (row["hgvsc"], row["hgvsp"], row["hgvsp_short"], row["consequence"]) == (
        "c.180_181delinsCT", "p.Gln61Ter", "p.Q61*", "stop_gained")


@pytest.mark.parametrize("build", ["GRCh37", "GRCh38"])
def test_braf_minus_strand_two_codon_delins(panels, annotate_rows, build):
    # BRAF c.1798_1799GT>AA: V600K (codon 600 GTG -> AAG)
    c1799 = genomic(panels, build, "BRAF", 1799)
    row = annotate_rows(build, [("7", c1799, "AC", "TT")]).iloc[0]
    assert (row["hgvsc"], row["hgvsp_short"]) == ("c.1798_1799delinsAA", "p.V600K")


def test_ref_mismatch_is_reported_not_annotated(annotate_rows):
    row = annotate_rows("GRCh38", [("12", 25245351, "G", "A")]).iloc[0]
    assert row["status"] == "ref_mismatch"
    assert row["hgvsp_short"] == ""
    assert "REF G at 12:25245351 is C in GRCh38" in row["status_detail"]


def test_unusable_alleles_get_a_reason(annotate_rows):
    out = annotate_rows("GRCh38", [("12", 25245351, "C", "<DEL>"), ("12", 25245351, "C", "*"),
                                   ("12", 25245351, "C", "Z"), ("1", 1000, "A", "T"), ("chrM", 100, "A", "T")])
    assert out["status"].tolist() == ["symbolic_allele", "no_alt", "invalid_allele", "outside_panel", "outside_panel"]
    assert out["contig"].tolist()[-1] == "MT"


@pytest.mark.parametrize("build", ["GRCh37", "GRCh38"])
def test_two_base_inversion_is_inv_and_still_l858r(panels, annotate_rows, build):
    # EGFR c.2572_2573CT>AG (the reverse complement): codon 858 CTG -> AGG
    c2572 = genomic(panels, build, "EGFR", 2572)
    row = annotate_rows(build, [("7", c2572, "CT", "AG")]).iloc[0]
    assert (row["hgvsc"], row["hgvsp_short"]) == ("c.2572_2573inv", "p.L858R")


def test_intron_edge_insertion_shifts_into_the_exon_when_intron_bases_are_known(panels):
    """csf_ctdna row 7:55248980 ins TCCAGGAAGCCT (GRCh37): VEP says c.2284-5_2290dup, p.A763_Y764insFQEA.

    The shipped EGFR gene region knows intron 19's last bases, so the insertion shifts into exon 20;
    a panel without intron sequence keeps the caller's intronic position.
    """
    import pandas as pd
    from krasannot.annotate.pipeline import annotate_calls
    from krasannot.reference.bundle import Panel

    panel = panels["GRCh37"]
    # MAF Start_Position 55248980 is the base before the insertion; ref "" inserts before pos
    calls = pd.DataFrame([("S", "7", 55248981, "-", "TCCAGGAAGCCT")], columns=["sample", "chrom", "pos", "ref", "alt"])
    row = annotate_calls(calls, panel).iloc[0]
    assert (row["hgvsc"], row["hgvsp_short"]) == ("c.2284-5_2290dup", "p.A763_Y764insFQEA")

    cds_only = Panel(build="GRCh37", transcripts=panel.transcripts)  # no sequence source
    exon20_first = genomic(panels, "GRCh37", "EGFR", 2284)
    assert cds_only.genome_bases("7", exon20_first - 5, exon20_first + 6) == "NNNNNGAAGCCT"
    row = annotate_calls(calls, cds_only).iloc[0]
    assert (row["hgvsc"], row["hgvsp_short"]) == ("c.2284-6_2284-5insTCCAGGAAGCCT", "")


def test_ref_mismatch_names_the_build_the_allele_fits(panels, annotate_rows):
    # CDKN2A lies one base apart in the two builds, so one coordinate holds a known base in both
    b37, b38 = panels["GRCh37"].by_gene["CDKN2A"], panels["GRCh38"].by_gene["CDKN2A"]
    pos = next(p for p in range(b38.cds_start, b38.cds_end)
               if "N" not in (b37.genome_bases(p, p) + b38.genome_bases(p, p))
               and b37.genome_bases(p, p) != b38.genome_bases(p, p))
    grch37_base = b37.genome_bases(pos, pos)
    alt = "A" if grch37_base != "A" else "C"
    row = annotate_rows("GRCh38", [("9", pos, grch37_base, alt)]).iloc[0]
    assert row["status"] == "ref_mismatch"
    assert "it matches GRCh37: was the input called on GRCh37?" in row["status_detail"]


def test_same_codon_snvs_split_by_an_intron_are_read_together(panels):
    # KRAS codon 97 (AGA) spans exons 3 and 4: c.289A>C + c.291A>C make CGC, still Arg
    import pandas as pd
    from krasannot.annotate.pipeline import annotate_calls
    c289, c291 = genomic(panels, "GRCh38", "KRAS", 289), genomic(panels, "GRCh38", "KRAS", 291)
    calls = pd.DataFrame([("S", "12", c289, "T", "G"), ("S", "12", c291, "T", "G")],
                         columns=["sample", "chrom", "pos", "ref", "alt"])
    out = annotate_calls(calls, panels["GRCh38"])
    assert out["hgvsp_short"].tolist() == ["p.R97=", "p.R97S"]  # each alone; together still Arg
    assert all("across an exon junction, not merged" in d and "together: p.R97=" in d for d in out["status_detail"])


def test_low_vaf_call_is_not_merged_with_noise_beside_it(panels):
    # SeraCare-like ctDNA: KRAS G12D at 4.5% and a 2-read artefact in the same codon
    out = _two_snvs(panels, vaf=[2 / 2900, 0.045])
    assert out["hgvsp_short"].tolist() == ["p.G12C", "p.G12D"]
    assert "suggest different clones" in out["status_detail"].iloc[1]
