"""HGVS c. against VEP's HGVSc in real MAFs (GRCh37), on rows whose transcript is ours.

VEP (as run for these cohorts) writes the older forms c.843delG, c.171_172delCCinsTT and
c.2331_2339dupGGGCTCCCC; we write c.843del, c.171_172delinsTT and c.2331_2339dup, as
current HGVS recommends. The comparison drops the spelled-out bases, nothing else.

The one accepted difference: an indel whose 3' shift runs into bases krasannot does not hold
(introns of genes without a shipped region). VEP shifts it with the genome; we keep the
caller's position. Each such row is checked to be exactly that case, and listed. In the genes
with shipped intron/UTR sequence there is none (csf_ctdna's two BRCA2 exon-intron deletions and
the EGFR exon 20 duplication written in intron 19 differed before the regions shipped).
"""

import re

import pandas as pd
import pytest

import vep_sources as vs
from krasannot.annotate.normalize import trim_alleles
from krasannot.annotate.pipeline import annotate_calls
from krasannot.reference.regions import GeneRegionSequence

MAFS = ["lung_msk_mind_2020/data_mutations.txt", "csf_ctdna/data_mutations.txt"]


def modern(hgvsc: str) -> str:
    hgvsc = re.sub(r"del[ACGTN]+ins", "delins", hgvsc)
    return re.sub(r"(del|dup)[ACGTN]+$", r"\1", hgvsc)


def shift_needs_unknown_bases(panel, row) -> bool:
    """Is the base a 3' shift would have to compare next unknown (N) in the bundle?"""
    pos, ref, alt = trim_alleles(int(row.pos), row.ref, row.alt)
    if ref and alt:
        return False
    plus = panel.by_gene[row.src_gene].strand == "+"
    neighbour = pos + len(ref) if plus else pos - 1
    return panel.genome_bases(str(row.chrom), neighbour, neighbour) == "N"


@pytest.mark.parametrize("relative", MAFS)
def test_hgvsc_matches_vep_on_our_transcripts(panels, relative):
    path = vs.validation_dir() / relative
    if not path.is_file():
        pytest.skip(f"shared validation data not found: {path}")
    maf = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, comment="#")
    source = vs.load_maf(relative)
    source["expected"] = maf["HGVSc"].str.split(":").str[-1].map(modern).to_numpy()
    ours = annotate_calls(source[["sample", "chrom", "pos", "ref", "alt"]], panels["GRCh37"])
    ours = ours[ours["status"] == "annotated"].drop_duplicates("sample").set_index("sample")
    joined = source.set_index("sample").join(ours[["gene", "hgvsc"]], how="inner")
    ids = vs.panel_transcript_ids("GRCh37")
    ours_tx = joined.apply(lambda r: r.gene == r.src_gene and vs.accession(r.src_transcripts) in ids[r.src_gene],
                           axis=1)
    compared = joined[ours_tx & (joined["expected"] != "")]
    differ = compared[compared["hgvsc"] != compared["expected"]]
    blocked = pd.Series([shift_needs_unknown_bases(panels["GRCh37"], r) for r in differ.itertuples()],
                        index=differ.index, dtype=bool)
    print(f"\n{relative}: {len(compared)} compared, {len(compared) - len(differ)} agree, "
          f"{int(blocked.sum())} differ only by a 3' shift into unknown intron bases:")
    print(differ[blocked][["chrom", "src_pos", "src_gene", "expected", "hgvsc"]].to_string())
    assert len(compared) > 300
    with_region = set(GeneRegionSequence("GRCh37").genes)
    assert not differ[blocked]["src_gene"].isin(with_region).any()
    wrong = differ[~blocked]
    assert wrong.empty, wrong[["chrom", "src_pos", "src_ref", "src_alt", "src_gene", "expected", "hgvsc"]].to_string()
