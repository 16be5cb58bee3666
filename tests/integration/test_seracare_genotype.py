"""`krasannot genotype` on the SeraCare 5% cfDNA reference standard (GRCh37, collapsed reads)."""

import numpy as np
import pandas as pd
import pysam
import pytest

from conftest import shared_dir
from krasannot import columns as C
from krasannot.genotype import caller as G

BAM = shared_dir() / "validation" / "seracare_ctdna" / "seracare_5pct.bam"
HOTSPOTS_TSV = shared_dir() / "validation" / "cancerhotspots"

pytestmark = pytest.mark.skipif(not BAM.exists(), reason="../shared/validation/seracare_ctdna is absent")

# the spikes the issue names (gene, protein change); exon 19 deletions are three distinct alleles here
EXPECTED = {("KRAS", "p.G12D"), ("KRAS", "p.G12C"), ("KRAS", "p.Q61H"), ("EGFR", "p.L858R"), ("EGFR", "p.T790M"),
            ("BRAF", "p.V600E"), ("NRAS", "p.Q61R"), ("PIK3CA", "p.H1047R"), ("AKT1", "p.E17K")}
EXON19 = {"p.E746_A750del", "p.L747_P753delinsS", "p.S752_I759del"}
# also spiked into the SeraCare standard (shared/validation/README.md: "ERBB2 insertion")
ERBB2_SPIKE = ("ERBB2", "p.Y772_A775dup")


@pytest.fixture(scope="module")
def genotyped(panels):
    calls, coverage = G.genotype_alignments(str(BAM), panels["GRCh37"], specimen="plasma")
    return G.annotate_genotype_calls(calls, panels["GRCh37"], panels["GRCh38"]), coverage


def pileup_vaf(chrom: str, pos: int, alt: str) -> float:
    """VAF at one base as pysam's own pileup counts it (all reads with base quality >= 20)."""
    with pysam.AlignmentFile(str(BAM)) as handle:
        counts = np.array(handle.count_coverage(chrom, pos - 1, pos, quality_threshold=20))[:, 0]
    return counts["ACGT".index(alt)] / counts.sum()


def test_spikes_detected_and_nothing_else(genotyped):
    annotated, _ = genotyped
    detected = annotated[annotated[C.DETECTION] == "detected"]
    found = set(zip(detected[C.GENE], detected[C.HGVSP_SHORT]))
    assert EXPECTED <= found
    assert {p for g, p in found if g == "EGFR"} & EXON19 == EXON19
    assert found - EXPECTED - {("EGFR", p) for p in EXON19} == {ERBB2_SPIKE}
    assert (detected[C.FILTER] == "PASS").all()
    g12 = detected.set_index(C.HGVSP_SHORT)
    assert g12.loc["p.G12D", C.VAF] == pytest.approx(0.049, abs=0.015)
    assert g12.loc["p.G12C", C.VAF] == pytest.approx(0.039, abs=0.015)
    assert g12.loc["p.Q61H", C.VAF] == pytest.approx(0.053, abs=0.015)


def test_snv_vafs_agree_with_pysam_pileup(genotyped):
    annotated, _ = genotyped
    detected = annotated[(annotated[C.DETECTION] == "detected") & (annotated[C.REF].str.len() == 3)]
    assert len(detected) == 9
    for _, row in detected.iterrows():
        changed = [i for i in range(3) if row[C.REF][i] != row[C.ALT][i]]
        assert len(changed) == 1
        position = int(row[C.POS]) + changed[0]
        expected = pileup_vaf(str(row[C.CHROM]), position, row[C.ALT][changed[0]])
        assert abs(row[C.VAF] - expected) <= 0.015, (row[C.HGVSP_SHORT], row[C.VAF], expected)
        assert row[G.ALT_FORWARD] > 0 and row[G.ALT_REVERSE] > 0


def test_deletion_vafs_agree_with_pysam_pileup(genotyped):
    annotated, _ = genotyped
    deletions = annotated[annotated[C.HGVSP_SHORT].isin(EXON19)]
    with pysam.AlignmentFile(str(BAM)) as handle:
        for _, row in deletions.iterrows():
            first, length = int(row[C.POS]) + 1, len(row[C.REF]) - 1
            for column in handle.pileup(str(row[C.CHROM]), first - 2, first - 1, truncate=True,
                                        min_base_quality=0, stepper="nofilter"):
                reads = [r for r in column.pileups]
                carrying = sum(1 for r in reads if r.indel == -length)
                assert abs(row[C.VAF] - carrying / len(reads)) <= 0.015, (row[C.HGVSP_SHORT], carrying, len(reads))


def test_wild_type_hotspots_state_a_limit_of_detection(genotyped):
    annotated, coverage = genotyped
    assessed = annotated[annotated[C.DETECTION] == "not_detected"]
    assert len(assessed) > 50
    assert assessed[G.LOD].between(0.001, 0.02).all()
    assert (assessed[C.DEPTH] >= G.MIN_DEPTH["plasma"]).all()
    by_hotspot = coverage.set_index(G.HOTSPOT)
    assert by_hotspot.loc["KRAS G12", "depth_min"] > 1000 and by_hotspot.loc["KRAS G12", "assessed"] == "yes"
    # KRAS codon 146 is not in this capture: not assessed, never called wild-type
    assert by_hotspot.loc["KRAS A146", "assessed"] == "no"
    assert set(annotated.loc[annotated[G.HOTSPOT] == "KRAS A146", C.DETECTION]) == {"not_assessed"}


@pytest.mark.parametrize("build,pos", [("GRCh37", 105246551), ("GRCh38", 104780214)])
def test_akt1_codon_matches_cancerhotspots_and_reads(panels, build, pos):
    table = pd.read_csv(HOTSPOTS_TSV / f"cancerhotspots_v2_{build}.tsv", sep="\t", header=None, dtype=str)
    e17k = table[(table[4] == "AKT1") & (table[6] == "E17K")]
    assert e17k[[0, 1, 2, 3]].values.tolist() == [["14", str(pos), "C", "T"]]
    akt1 = G.load_hotspots(panels[build]).set_index(G.HOTSPOT).loc["AKT1 E17"]
    assert (akt1["start"], akt1["end"], akt1["strand"]) == (pos - 2, pos, "-")
    if build == "GRCh37":  # the reads' majority bases are the reference codon CTC
        with pysam.AlignmentFile(str(BAM)) as handle:
            counts = np.array(handle.count_coverage("14", pos - 3, pos))
        assert "".join("ACGT"[i] for i in counts.argmax(axis=0)) == "CTC"
