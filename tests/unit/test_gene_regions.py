"""Intron and UTR bases: the shipped gene regions, a genome FASTA in their place, and the shift fixes.

The protein and c. names asserted here are VEP's/ClinVar's for the same variants (issue 13).
"""

import numpy as np
import pandas as pd
import pytest

from krasannot.annotate.pipeline import annotate_calls
from krasannot.cli import main
from krasannot.errors import ReferenceDataError
from krasannot.reference.bundle import Panel, load_bundled_panel, with_reference_sequence
from krasannot.reference.regions import GeneRegionSequence

COLUMNS = ["sample", "chrom", "pos", "ref", "alt"]


def genomic(panel, gene, c):
    tx = panel.by_gene[gene]
    return int(tx.tx_to_genomic(np.array([tx.cds_tx_first + c - 1]))[0])


def annotate(panel, rows):
    calls = pd.DataFrame([(f"S{i}", *r) for i, r in enumerate(rows)], columns=COLUMNS)
    return annotate_calls(calls, panel)


def fresh(build):
    """A panel of its own, so what a test fills is not shared with the session's."""
    return load_bundled_panel(build)


@pytest.mark.parametrize("build", ["GRCh37", "GRCh38"])
def test_new_stops_in_the_3prime_utr_are_counted(build):
    panel = fresh(build)
    region = GeneRegionSequence(build)
    tp53_1146 = genomic(panel, "TP53", 1146)      # minus strand: c.1146del is one genomic base
    brca2_10248 = genomic(panel, "BRCA2", 10248)  # plus strand
    tp53_1180 = genomic(panel, "TP53", 1180)      # the first base of the stop codon TGA
    rows = [("17", tp53_1146 - 1, region.fetch("17", tp53_1146 - 1, tp53_1146), region.fetch("17", tp53_1146 - 1,
                                                                                               tp53_1146 - 1)),
            ("13", brca2_10248 - 1, region.fetch("13", brca2_10248 - 1, brca2_10248),
             region.fetch("13", brca2_10248 - 1, brca2_10248 - 1)),
            ("17", tp53_1180, "A", "T")]          # c.1180T>A on the minus strand
    out = annotate(panel, rows)
    assert out["hgvsc"].tolist() == ["c.1146del", "c.10248del", "c.1180T>A"]
    assert out["hgvsp_short"].tolist() == ["p.K382Nfs*40", "p.K3416Nfs*11", "p.*394Rext*9"]
    assert out["hgvsp"].tolist()[2] == "p.Ter394ArgextTer9"


def test_unknown_new_stop_stays_unknown_without_sequence(panels):
    # NRAS has no shipped region: past its stop codon nothing is known
    panel = panels["GRCh37"]
    c = panel.by_gene["NRAS"].cds_length - 2   # first base of the stop codon TAA (minus strand)
    pos = genomic(panel, "NRAS", c)
    before = panel.genome_bases("1", pos, pos + 1)  # c.-1 and c. on the genome: deleting c.(stop - 1)
    out = annotate(panel, [("1", pos, panel.genome_bases("1", pos, pos), "G"), ("1", pos, before, before[0])])
    assert out["hgvsp_short"].tolist() == ["p.*190Qext*?", "p.M189Ifs*?"]
    assert out["consequence"].tolist() == ["stop_lost", "frameshift_variant"]


@pytest.mark.parametrize("form", ["vcf", "maf"])
def test_rb1_deletion_after_the_exon_gets_one_name_from_vcf_and_maf(tmp_path, form):
    """RB1 c.2520+1del (GRCh37): the VCF writes it 13:49047526 GG>G, a MAF 13:49047527 G>-.

    RB1 has no shipped region; the VCF's own REF shows c.2520+1 is G, so the 3' shift reaches it.
    (The issue gives 13:48955574, where GRCh37 reads CT: that is RB1 c.1690, not this variant.)
    """
    if form == "vcf":
        path = tmp_path / "rb1.vcf"
        path.write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
                        "13\t49047526\t.\tGG\tG\t.\tPASS\t.\n")
    else:
        path = tmp_path / "rb1.maf"
        path.write_text("Hugo_Symbol\tNCBI_Build\tChromosome\tStart_Position\tEnd_Position\tReference_Allele\t"
                        "Tumor_Seq_Allele1\tTumor_Seq_Allele2\tTumor_Sample_Barcode\n"
                        "RB1\tGRCh37\t13\t49047527\t49047527\tG\tG\t-\tT1\n")
    out = tmp_path / "out.tsv"
    assert main(["annotate", str(path), "--build", "GRCh37", "--out", str(out)]) == 0
    row = pd.read_csv(out, sep="\t", dtype=str, keep_default_na=False).iloc[0]
    assert (row["gene"], row["hgvsc"]) == ("RB1", "c.2520+1del")


@pytest.mark.parametrize("form", ["vcf", "maf"])
def test_smad4_exon_intron_deletion_shifts_3prime_through_the_region(tmp_path, form):
    """SMAD4 c.215_249+377del (GRCh37): the caller left-aligned it to c.212, 18:48573627 (VCF anchor)."""
    region = GeneRegionSequence("GRCh37")
    deleted = region.fetch("18", 48573628, 48573628 + 411)   # 412 bases
    anchor = region.fetch("18", 48573627, 48573627)
    if form == "vcf":
        path = tmp_path / "smad4.vcf"
        path.write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
                        f"18\t48573627\t.\t{anchor + deleted}\t{anchor}\t.\tPASS\t.\n")
    else:
        path = tmp_path / "smad4.maf"
        path.write_text("Hugo_Symbol\tNCBI_Build\tChromosome\tStart_Position\tEnd_Position\tReference_Allele\t"
                        "Tumor_Seq_Allele1\tTumor_Seq_Allele2\tTumor_Sample_Barcode\n"
                        f"SMAD4\tGRCh37\t18\t48573628\t{48573628 + 411}\t{deleted}\t{deleted}\t-\tT1\n")
    out = tmp_path / "out.tsv"
    assert main(["annotate", str(path), "--build", "GRCh37", "--out", str(out)]) == 0
    row = pd.read_csv(out, sep="\t", dtype=str, keep_default_na=False).iloc[0]
    assert (row["status"], row["hgvsc"]) == ("annotated", "c.215_249+377del")
    assert row["consequence"].startswith("splice_donor_variant")


def test_a_blocked_shift_never_moves_5prime_of_the_caller(panels):
    # without intron sequence, the SMAD4 deletion written at c.215 stays there (left-aligning it
    # to c.212 for the REF check must not leak into the name)
    region = GeneRegionSequence("GRCh37")
    cds_only = Panel(build="GRCh37", transcripts=panels["GRCh37"].transcripts)
    deleted = region.fetch("18", 48573631, 48573631 + 411)
    row = annotate(cds_only, [("18", 48573631, deleted, "-")]).iloc[0]
    assert row["hgvsc"] == "c.215_249+377del"


def test_intronic_and_utr_duplications_are_named_dup(panels):
    panel = panels["GRCh37"]
    region = GeneRegionSequence("GRCh37")
    # EGFR (plus strand) intron 19: an insertion repeating the base just before it
    c2284 = genomic(panel, "EGFR", 2284)
    pos = c2284 - 20
    before = region.fetch("7", pos - 1, pos - 1)
    # KRAS (minus strand) 5'UTR c.-5: inserting c.-5's base again, before it in transcript order
    kras_m5 = genomic(panel, "KRAS", 1) + 5
    utr_base = region.fetch("12", kras_m5, kras_m5)
    out = annotate(panel, [("7", pos, "-", before), ("12", kras_m5, "-", utr_base)])
    assert out["hgvsc"].tolist() == ["c.2284-21dup", "c.-5dup"]  # not c.2284-21_2284-20insC, c.-6_-5insG
    assert out["consequence"].tolist()[1] == "5_prime_UTR_variant"


def test_regions_are_read_only_for_genes_calls_touch():
    panel = fresh("GRCh38")
    kras = genomic(panel, "KRAS", 35)
    annotate(panel, [("12", kras, panel.genome_bases("12", kras, kras), "A")])
    assert set(panel._filled) == {"NM_004985.5"}
    assert panel.by_gene["TP53"].utr3 == ""  # the panel itself is never changed


def test_genome_fasta_gives_the_same_answers_as_the_shipped_regions(tmp_path):
    """A FASTA holding the shipped regions' bases at their coordinates (N elsewhere) in place of
    the regions: every answer is the same."""
    build = "GRCh37"
    shipped = fresh(build)
    genes = ["STK11", "TP53", "CDKN2A"]
    subset = [shipped.by_gene[g] for g in genes]
    region = GeneRegionSequence(build)
    contigs = {}
    for tx in subset:
        for _, start, end in (r for r in region.regions[tx.chrom] if r[0] == tx.gene):
            contigs.setdefault(tx.chrom, []).append((start, end))
    fasta = tmp_path / "genome.fa"
    with open(fasta, "w") as handle:
        for chrom, spans in contigs.items():
            length = max(e for _, e in spans) + 5000
            seq = bytearray(b"N" * length)
            for start, end in spans:
                seq[start - 1:end] = region.fetch(chrom, start, end).encode()
            handle.write(f">chr{chrom}\n")
            handle.write("\n".join(seq[i:i + 100].decode() for i in range(0, length, 100)) + "\n")
    with_regions = Panel(build=build, transcripts=subset, sequence=(region,))
    with_fasta = with_reference_sequence(Panel(build=build, transcripts=subset), str(fasta))

    tp53_1146, tp53_1180 = genomic(shipped, "TP53", 1146), genomic(shipped, "TP53", 1180)
    stk11_exon1_last = int(shipped.by_gene["STK11"].exons[0, 1])
    fifth = region.fetch("19", stk11_exon1_last + 5, stk11_exon1_last + 5)
    cdkn2a_stop = genomic(shipped, "CDKN2A", shipped.by_gene["CDKN2A"].cds_length)
    rows = [("17", tp53_1146 - 1, region.fetch("17", tp53_1146 - 1, tp53_1146),
             region.fetch("17", tp53_1146 - 1, tp53_1146 - 1)),                    # fs*40
            ("17", tp53_1180, "A", "T"),                                           # ext*9
            ("19", stk11_exon1_last + 5, fifth, next(b for b in "ACGT" if b != fifth)),  # c.290+5
            ("19", stk11_exon1_last + 3, "-", region.fetch("19", stk11_exon1_last + 2, stk11_exon1_last + 2)),
            ("9", cdkn2a_stop - 30, "C" if region.fetch("9", cdkn2a_stop - 30, cdkn2a_stop - 30) != "C" else "G",
             "T"),                                                                 # a wrong 3'UTR REF
            ("19", stk11_exon1_last, region.fetch("19", stk11_exon1_last, stk11_exon1_last + 1),
             region.fetch("19", stk11_exon1_last, stk11_exon1_last))]              # 3' shift across the edge
    columns = ["status", "hgvsc", "hgvsp_short", "consequence"]
    a = annotate(with_regions, rows)[columns]
    b = annotate(with_fasta, rows)[columns]
    pd.testing.assert_frame_equal(a, b)
    assert a["hgvsp_short"].tolist()[:2] == ["p.K382Nfs*40", "p.*394Rext*9"]
    assert a["status"].tolist()[4] == "ref_mismatch"
    assert a["consequence"].tolist()[2] == "splice_donor_5th_base_variant&intron_variant"
    assert a["hgvsc"].tolist()[5].startswith("c.") and "+" in a["hgvsc"].tolist()[5]
    # without either, the same calls know less
    bare = annotate(Panel(build=build, transcripts=subset), rows)[columns]
    assert bare["hgvsp_short"].tolist()[1] == "p.*394Rext*?"
    assert bare["status"].tolist()[4] == "annotated"


def test_a_fasta_that_disagrees_with_the_panel_is_refused_when_read(tmp_path):
    shipped = fresh("GRCh38")
    tp53 = shipped.by_gene["TP53"]
    region = GeneRegionSequence("GRCh38")
    seq = bytearray(b"N" * (tp53.end + 2000))
    start, end = tp53.start - 500, tp53.end + 500
    seq[start - 1:end] = region.fetch("17", start + 1, end + 1).encode()  # every base one place off
    fasta = tmp_path / "wrong.fa"
    fasta.write_text(">17\n" + "\n".join(seq[i:i + 100].decode() for i in range(0, len(seq), 100)) + "\n")
    panel = with_reference_sequence(Panel(build="GRCh38", transcripts=[tp53]), str(fasta))
    pos = genomic(shipped, "TP53", 524)
    with pytest.raises(ReferenceDataError, match="is this a GRCh38 FASTA"):
        annotate(panel, [("17", pos, shipped.genome_bases("17", pos, pos), "A")])


def test_annotate_reference_flag_gives_the_shipped_regions_answers(tmp_path):
    """End to end: `annotate --reference` with a chr19 FASTA that holds only the STK11 region (N elsewhere)."""
    build = "GRCh37"
    panel = fresh(build)
    region = GeneRegionSequence(build)
    stk11 = panel.by_gene["STK11"]
    (_, start, end), = [r for r in region.regions["19"] if r[0] == "STK11"]
    length = max(tx.end for tx in panel.by_contig["19"]) + 1000   # KEAP1 lies further along chr19
    seq = bytearray(b"N" * length)
    seq[start - 1:end] = region.fetch("19", start, end).encode()
    fasta = tmp_path / "chr19.fa"
    with open(fasta, "wb") as handle:
        handle.write(b">chr19\n" + b"\n".join(seq[i:i + 1000] for i in range(0, length, 1000)) + b"\n")

    exon1_last = int(stk11.exons[0, 1])
    near_end = genomic(panel, "STK11", stk11.cds_length - 10)
    fifth = region.fetch("19", exon1_last + 5, exon1_last + 5)
    intronic = region.fetch("19", exon1_last + 40, exon1_last + 40)
    wrong = next(b for b in "ACGT" if b != intronic)
    records = [(exon1_last + 5, fifth, next(b for b in "ACGT" if b != fifth)),          # c.290+5
               (near_end - 1, region.fetch("19", near_end - 1, near_end),
                region.fetch("19", near_end - 1, near_end - 1)),
               (exon1_last + 40, wrong, next(b for b in "ACGT" if b not in (wrong, intronic)))]  # REF checked
    vcf = tmp_path / "stk11.vcf"
    vcf.write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
                   + "".join(f"19\t{p}\t.\t{r}\t{a}\t.\tPASS\t.\n" for p, r, a in records))
    outs = {}
    for name, extra in (("shipped", []), ("fasta", ["--reference", str(fasta)])):
        out = tmp_path / f"{name}.tsv"
        assert main(["annotate", str(vcf), "--build", build, "--out", str(out), *extra]) == 0
        outs[name] = pd.read_csv(out, sep="\t", dtype=str, keep_default_na=False)
    columns = ["status", "hgvsc", "hgvsp_short", "consequence"]
    pd.testing.assert_frame_equal(outs["shipped"][columns], outs["fasta"][columns])
    assert outs["fasta"]["consequence"].tolist()[0] == "splice_donor_5th_base_variant&intron_variant"
    assert "fs*?" not in outs["fasta"]["hgvsp_short"].tolist()[1] and "fs*" in outs["fasta"]["hgvsp_short"].tolist()[1]
    assert outs["fasta"]["status"].tolist()[2] == "ref_mismatch"


@pytest.mark.parametrize("build", ["GRCh37", "GRCh38"])
def test_gene_region_bases_read_without_htslib_are_htslib_s(build):
    """The shipped gene regions are read from memory (no htslib): every record's bases, line ends and
    edges included, are the ones pysam's FastaFile reads."""
    import pysam

    region = GeneRegionSequence(build)
    _, kras_start, _ = region.regions["12"][0]
    region.fetch("12", kras_start, kras_start)  # opens the file
    ours = region._fasta
    rng = np.random.default_rng(5)
    with pysam.FastaFile(region.path) as fasta:
        for name, length in zip(fasta.references, fasta.lengths):
            assert ours.fetch(name, 0, length) == fasta.fetch(name, 0, length)
            for start in list(rng.integers(0, length, 200)) + [0, 59, 60, 61, length - 1]:
                end = int(start) + int(rng.integers(1, 300))
                assert ours.fetch(name, int(start), end) == fasta.fetch(name, int(start), min(end, length))
