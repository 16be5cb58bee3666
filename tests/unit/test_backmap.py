"""Back-mapping alteration text to genomic alleles: exact alleles, and the engine gives the change back."""

import pandas as pd
import pytest

from krasannot import columns as C
from krasannot.annotate.pipeline import annotate_calls
from krasannot.errors import InputFormatError
from krasannot.reference.backmap import (ACCEPTED_FORMS, KIND_BY_NAME, KIND_CDNA, KIND_GENOMIC, KIND_PROTEIN,
                                         back_map, codon_candidates, parse_codons, protein_short)

# build, gene column, text -> kind, (chrom, pos, ref, alt), the engine's hgvsp_short
# KRAS and BRAF are on the minus strand, EGFR and MET on the plus strand
PLACED = [
    ("GRCh38", "KRAS", "G12C", KIND_PROTEIN, ("12", 25245351, "C", "A"), "p.G12C"),
    ("GRCh37", "KRAS", "G12C", KIND_PROTEIN, ("12", 25398285, "C", "A"), "p.G12C"),
    ("GRCh38", "KRAS", "p.G12D", KIND_PROTEIN, ("12", 25245350, "C", "T"), "p.G12D"),
    ("GRCh37", "KRAS", "p.Gly12Asp", KIND_PROTEIN, ("12", 25398284, "C", "T"), "p.G12D"),
    ("GRCh38", "", "KRAS G13D", KIND_PROTEIN, ("12", 25245347, "C", "T"), "p.G13D"),
    ("GRCh37", "KRAS", "KRAS p.(Gly13Asp)", KIND_PROTEIN, ("12", 25398281, "C", "T"), "p.G13D"),
    ("GRCh38", "KRAS", "Q61H", KIND_PROTEIN, ("12", 25227341, "T", "G"), "p.Q61H"),
    ("GRCh37", "KRAS", "Q61H", KIND_PROTEIN, ("12", 25380275, "T", "G"), "p.Q61H"),
    ("GRCh38", "KRAS", "G12F", KIND_PROTEIN, ("12", 25245350, "CC", "AA"), "p.G12F"),
    ("GRCh37", "KRAS", "Q61*", KIND_PROTEIN, ("12", 25380277, "G", "A"), "p.Q61*"),
    ("GRCh38", "BRAF", "V600E", KIND_PROTEIN, ("7", 140753336, "A", "T"), "p.V600E"),
    ("GRCh37", "BRAF", "p.Val600Glu", KIND_PROTEIN, ("7", 140453136, "A", "T"), "p.V600E"),
    ("GRCh38", "EGFR", "L858R", KIND_PROTEIN, ("7", 55191822, "T", "G"), "p.L858R"),
    ("GRCh37", "EGFR", "T790M", KIND_PROTEIN, ("7", 55249071, "C", "T"), "p.T790M"),
    ("GRCh38", "EGFR", "p.E746_A750del", KIND_PROTEIN, ("7", 55174773, "GAATTAAGAGAAGCA", ""), "p.E746_A750del"),
    ("GRCh37", "EGFR", "A767_V769dup", KIND_PROTEIN, ("7", 55249010, "", "GCCAGCGTG"), "p.A767_V769dup"),
    ("GRCh38", "KRAS", "c.35G>T", KIND_CDNA, ("12", 25245350, "C", "A"), "p.G12V"),
    ("GRCh37", "KRAS", "c.34_35delinsTT", KIND_CDNA, ("12", 25398284, "CC", "AA"), "p.G12F"),
    ("GRCh38", "EGFR", "c.2235_2249del", KIND_CDNA, ("7", 55174772, "GGAATTAAGAGAAGC", ""), "p.E746_A750del"),
    ("GRCh37", "EGFR", "EGFR c.2235_2249del15", KIND_CDNA, ("7", 55242465, "GGAATTAAGAGAAGC", ""), "p.E746_A750del"),
    ("GRCh38", "EGFR", "c.2300_2308dup", KIND_CDNA, ("7", 55181318, "", "CCAGCGTGG"), "p.A767_V769dup"),
    ("GRCh37", "EGFR", "c.2310_2311insGGT", KIND_CDNA, ("7", 55249013, "", "GGT"), "p.D770_N771insG"),
    ("GRCh38", "KRAS", "c.36_38dup", KIND_CDNA, ("12", 25245347, "", "CCA"), "p.G13dup"),
    ("GRCh37", "BRAF", "c.1799T>A", KIND_CDNA, ("7", 140453136, "A", "T"), "p.V600E"),
    ("GRCh38", "", "chr12:25245351 C>A", KIND_GENOMIC, ("chr12", 25245351, "C", "A"), "p.G12C"),
    ("GRCh38", "", "12-25245350-C-T", KIND_GENOMIC, ("12", 25245350, "C", "T"), "p.G12D"),
    ("GRCh37", "", "chr12:g.25398284C>A", KIND_GENOMIC, ("chr12", 25398284, "C", "A"), "p.G12V"),
    ("GRCh37", "", "chr7:g.55242465_55242479del", KIND_GENOMIC, ("chr7", 55242465, "GGAATTAAGAGAAGC", ""),
     "p.E746_A750del"),
    ("GRCh38", "", "7:g.55181309_55181317dup", KIND_GENOMIC, ("7", 55181318, "", "CCAGCGTGG"), "p.A767_V769dup"),
]


@pytest.mark.parametrize("build,gene,text,kind,allele,hgvsp_short", PLACED)
def test_alteration_is_placed_and_the_engine_gives_the_change_back(panels, build, gene, text, kind, allele,
                                                                     hgvsp_short):
    mapped = back_map(text, gene, panels[build])
    assert mapped.kind == kind
    assert (mapped.chrom, mapped.pos, mapped.ref, mapped.alt) == allele
    calls = pd.DataFrame([dict(sample="S", chrom=mapped.chrom, pos=mapped.pos, ref=mapped.ref, alt=mapped.alt)])
    annotated = annotate_calls(calls, panels[build])
    assert annotated[C.HGVSP_SHORT].tolist() == [hgvsp_short]
    if kind == KIND_PROTEIN:  # a protein input comes back as itself
        assert mapped.hgvsp_short == hgvsp_short


def test_one_snv_gives_the_change_and_the_note_says_so(panels):
    mapped = back_map("G12C", "KRAS", panels["GRCh38"])
    assert mapped.note == "protein-level input; back-mapped to the only single-base change, c.34G>T"
    assert (mapped.gene, mapped.alteration) == ("KRAS", "KRAS G12C")


def test_two_snvs_give_q61h_the_first_is_shown_and_both_are_named(panels):
    mapped = back_map("Q61H", "KRAS", panels["GRCh37"])
    assert mapped.note == ("protein-level input; genomic allele is one of c.183A>C, c.183A>T "
                           "(single-base changes); c.183A>C shown")


def test_g12f_needs_two_bases(panels):
    mapped = back_map("G12F", "KRAS", panels["GRCh37"])
    assert mapped.note == ("protein-level input; genomic allele is one of c.34_35delinsTT "
                           "(no single-base change gives it; fewest-base changes); c.34_35delinsTT shown")


def test_codon_candidates_are_ordered_fewest_bases_then_position(panels):
    kras = panels["GRCh38"].by_gene["KRAS"]
    assert codon_candidates(kras, 61, "H") == [(183, "C"), (183, "T")]
    assert codon_candidates(kras, 12, "C") == [(34, "T")]
    assert codon_candidates(kras, 12, "F") == [(34, "TT")]


def test_splice_donor_in_cdna_notation_is_placed_in_the_intron(panels):
    mapped = back_map("c.3028+1G>A", "MET", panels["GRCh38"])  # MET exon 14 donor on NM_000245 (MANE)
    assert (mapped.chrom, mapped.pos, mapped.ref, mapped.alt) == ("7", 116771990, "G", "A")
    calls = pd.DataFrame([dict(sample="S", chrom="7", pos=mapped.pos, ref="G", alt="A")])
    annotated = annotate_calls(calls, panels["GRCh38"])
    assert annotated[[C.HGVSC, C.CONSEQUENCE]].values.tolist() == [["c.3028+1G>A", "splice_donor_variant"]]


def test_exon_level_text_is_a_by_name_call(panels):
    mapped = back_map("EGFR exon 19 deletion", "EGFR", panels["GRCh38"])
    assert (mapped.kind, mapped.pos, mapped.gene, mapped.alteration) == (KIND_BY_NAME, None, "EGFR",
                                                                          "EGFR exon 19 deletion")
    assert mapped.note == "exon-level alteration: names no single allele, kept by name"
    assert back_map("exon 20 insertion", "ERBB2", panels["GRCh37"]).alteration == "ERBB2 exon 20 insertion"


def test_frameshift_is_kept_by_name(panels):
    mapped = back_map("p.G13fs", "KRAS", panels["GRCh38"])
    assert (mapped.kind, mapped.pos, mapped.alteration) == (KIND_BY_NAME, None, "KRAS p.G13fs")


def test_gene_outside_the_bundle_is_kept_by_name(panels):
    mapped = back_map("R132H", "IDH1", panels["GRCh38"])
    assert (mapped.kind, mapped.in_bundle, mapped.hgvsp_short) == (KIND_BY_NAME, False, "p.R132H")
    assert mapped.note == "IDH1 is not in the GRCh38 transcript bundle: kept by name, not placed"


def test_protein_short_and_codons(panels):
    assert [protein_short(t) for t in ("p.Gly12Cys", "G12C", "R171X", "p.Glu746_Ala750del", "exon 19")] == [
        "p.G12C", "p.G12C", "p.R171*", "p.E746_A750del", ""]
    kras = panels["GRCh38"].by_gene["KRAS"]
    assert parse_codons("G12/G13/Q61", kras) == ["G12", "G13", "Q61"]
    assert parse_codons("12, 13 and 146", kras) == ["G12", "G13", "A146"]
    assert parse_codons("G12C", kras) == []


# --- bad input: one clear message naming the file and line ----------------------------------
def _message(panels, text, gene="KRAS", build="GRCh38"):
    with pytest.raises(InputFormatError) as caught:
        back_map(text, gene, panels[build], path="plasma.tsv", line=7)
    return str(caught.value)


def test_unknown_syntax_names_the_text_and_the_accepted_forms(panels):
    assert _message(panels, "G12 something") == ("plasma.tsv:7: unknown alteration syntax 'G12 something' "
                                                 f"(accepted forms: {ACCEPTED_FORMS})")


def test_wrong_reference_residue_is_refused(panels):
    assert _message(panels, "A12C") == ("plasma.tsv:7: KRAS residue 12 is G in NM_004985.5, not A: 'KRAS A12C' "
                                        "(check the gene and the protein change (is it on another isoform?))")


def test_gene_column_and_text_must_agree(panels):
    assert _message(panels, "NRAS Q61K") == ("plasma.tsv:7: the gene column says KRAS but the alteration "
                                             "'NRAS Q61K' names NRAS (correct the gene or the alteration)")


def test_exon_beyond_the_transcript_is_refused(panels):
    assert _message(panels, "exon 30 deletion", gene="EGFR") == (
        "plasma.tsv:7: EGFR has exons 1-28 in NM_005228.3, not exon 30: 'exon 30 deletion' "
        "(check the gene and the exon number)")


def test_deletion_length_must_fit_the_span(panels):
    assert _message(panels, "c.2235_2249del14", gene="EGFR") == (
        "plasma.tsv:7: a deletion of 14 bases but the span covers 15: 'EGFR c.2235_2249del14' "
        "(check the positions and the length)")


def test_intron_offset_must_start_at_an_exon_edge(panels):
    assert _message(panels, "c.3082+1G>A", gene="MET") == (
        "plasma.tsv:7: c.3082+1 is not intronic: c.3082 is not at an exon edge of NM_000245.3: "
        "'MET c.3082+1G>A' (check the gene and the c. position)")


def test_protein_change_without_a_gene_is_refused(panels):
    assert _message(panels, "G12C", gene="") == ("plasma.tsv:7: alteration 'G12C' needs a gene (fill the gene "
                                                 "column, or write the gene before the change (KRAS G12C))")
