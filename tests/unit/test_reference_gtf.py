"""Bundles built from a GTF and a FASTA: transcript choice, coordinates, sequence, errors.

The genome is two 300 bp contigs of deterministic random bases with two designed genes
written into them:

PLUSG (contig 1, + strand), MANE transcript ENST00000000001 version 3, exons 41-70,
101-130, 161-200: 5'UTR 41-60, CDS 61-70 + 101-130 + 161-168 (KRAS codons 1-16,
MTEYKLVVVGAGGVGK), stop TAA 169-171, 3'UTR 172-200 (GTGACCCCC...: a frameshift at
codon 16 reads on into it and stops at its TGA). A second transcript,
ENST00000000002, is Ensembl_canonical with a longer CDS and must lose to MANE.

MINUSG (contig 2, - strand), canonical transcript ENST00000000010.2 (GENCODE style),
exons 250-201 and 120-61: 5'UTR 250-231, CDS 230-201 + 120-106 (GFP codons 1-15,
MSKGEELFTGVVPIL), stop TGA 105-103, 3'UTR 102-61. ENST00000000012.1 (protein coding,
longer CDS, untagged) must lose to the canonical one.

LNCG (contig 2) has only a lncRNA transcript.
"""

from __future__ import annotations

import gzip
import hashlib
import random

import pandas as pd
import pysam
import pytest

from krasannot.annotate.pipeline import annotate_calls
from krasannot.errors import InputFormatError, ReferenceDataError, UsageError
from krasannot.reference.bundle import load_bundle, reverse_complement
from krasannot.reference.gtf import build_bundle_from_gtf, parse_gene_list

CONTIG_LENGTH = 300
PLUS_CDS = "ATGACTGAATATAAACTTGTGGTAGTTGGAGCTGGTGGCGTAGGCAAG"   # 16 codons, no stop
PLUS_PROTEIN = "MTEYKLVVVGAGGVGK"
MINUS_CDS = "ATGAGTAAAGGAGAAGAACTTTTCACTGGAGTTGTCCCAATTCTT"        # 15 codons, no stop
MINUS_PROTEIN = "MSKGEELFTGVVPIL"
PLUS_EXONS = [(41, 70), (101, 130), (161, 200)]
MINUS_EXONS = [(201, 250), (61, 120)]                               # transcript order


def _background(seed: int) -> list[str]:
    rng = random.Random(seed)
    return [rng.choice("ACGT") for _ in range(CONTIG_LENGTH)]


def _place(contig: list[str], exons: list[tuple[int, int]], strand: str, mrna: str) -> None:
    """Write a transcript-orientation mRNA onto its exons (1-based, transcript order)."""
    assert sum(e - s + 1 for s, e in exons) == len(mrna)
    i = 0
    for start, end in exons:
        n = end - start + 1
        piece = mrna[i:i + n]
        if strand == "+":
            contig[start - 1:end] = list(piece)
        else:
            contig[start - 1:end] = list(reverse_complement(piece))
        i += n


def _genome() -> dict[str, str]:
    one, two = _background(11), _background(22)
    # 5'UTR 20, CDS 48, stop, 3'UTR 29 = 100 exonic bases
    _place(one, PLUS_EXONS, "+", "CAGCAGCAGCAGCAGCAGCA" + PLUS_CDS + "TAA" + "GTGACCCCCGGGGGCCCCCGGGGGCCCCC")
    # 5'UTR 20, CDS 45, stop, 3'UTR 42 = 110 exonic bases
    _place(two, MINUS_EXONS, "-", "GCAGCAGCAGCAGCAGCAGC" + MINUS_CDS + "TGA" + "ACACACACACGTGTGTGTGTACACACACACGTGTGTGTGTAC")
    return {"1": "".join(one), "2": "".join(two)}


GENOME = _genome()


def _row(chrom: str, feature: str, start: int, end: int, strand: str, frame: str, attributes: str) -> str:
    return "\t".join([chrom, "test", feature, str(start), str(end), ".", strand, frame, attributes])


PLUS_GENE = 'gene_id "ENSG00000000001"; gene_version "4"; gene_name "PLUSG"; gene_biotype "protein_coding";'
PLUS_TX1 = (PLUS_GENE + ' transcript_id "ENST00000000001"; transcript_version "3"; '
            'transcript_biotype "protein_coding"; tag "CCDS"; ccds_id "CCDS90001"; tag "basic"; '
            'tag "MANE_Select";')
PLUS_TX2 = (PLUS_GENE + ' transcript_id "ENST00000000002"; transcript_version "1"; '
            'transcript_biotype "protein_coding"; tag "basic"; tag "Ensembl_canonical";')
MINUS_GENE = 'gene_id "ENSG00000000010.5"; gene_type "protein_coding"; gene_name "MINUSG"; level 2;'
MINUS_TX = (MINUS_GENE + ' transcript_id "ENST00000000010.2"; transcript_type "protein_coding"; '
            'transcript_name "MINUSG-201"; level 2; ccdsid "CCDS90002.1"; '
            'db_xref "RefSeq:NM_000010.2"; tag "basic"; tag "Ensembl_canonical";')
MINUS_LONG = (MINUS_GENE + ' transcript_id "ENST00000000012.1"; transcript_type "protein_coding"; level 2;')
MINUS_RI = (MINUS_GENE + ' transcript_id "ENST00000000011.1"; transcript_type "retained_intron"; level 2;')
LNC = ('gene_id "ENSG00000000020.1"; gene_type "lncRNA"; gene_name "LNCG"; '
       'transcript_id "ENST00000000020.1"; transcript_type "lncRNA";')


def gtf_lines(c1: str = "1", c2: str = "2", stop_lines: bool = True) -> list[str]:
    lines = [
        "#!genome-build test",
        "#!genome-version test",
        _row(c1, "gene", 41, 260, "+", ".", PLUS_GENE),
        # the canonical-but-not-MANE transcript first: file order must not matter
        _row(c1, "transcript", 41, 260, "+", ".", PLUS_TX2),
        _row(c1, "exon", 41, 70, "+", ".", PLUS_TX2 + ' exon_number "1";'),
        _row(c1, "CDS", 61, 70, "+", "0", PLUS_TX2 + ' exon_number "1";'),
        _row(c1, "exon", 101, 130, "+", ".", PLUS_TX2 + ' exon_number "2";'),
        _row(c1, "CDS", 101, 130, "+", "2", PLUS_TX2 + ' exon_number "2";'),
        _row(c1, "exon", 161, 260, "+", ".", PLUS_TX2 + ' exon_number "3";'),
        _row(c1, "CDS", 161, 250, "+", "2", PLUS_TX2 + ' exon_number "3";'),
        _row(c1, "transcript", 41, 200, "+", ".", PLUS_TX1),
        _row(c1, "exon", 41, 70, "+", ".", PLUS_TX1 + ' exon_number "1";'),
        _row(c1, "five_prime_utr", 41, 60, "+", ".", PLUS_TX1),
        _row(c1, "CDS", 61, 70, "+", "0", PLUS_TX1 + ' exon_number "1";'),
        _row(c1, "start_codon", 61, 63, "+", "0", PLUS_TX1 + ' exon_number "1";'),
        _row(c1, "exon", 101, 130, "+", ".", PLUS_TX1 + ' exon_number "2";'),
        _row(c1, "CDS", 101, 130, "+", "2", PLUS_TX1 + ' exon_number "2";'),
        _row(c1, "exon", 161, 200, "+", ".", PLUS_TX1 + ' exon_number "3";'),
        _row(c1, "CDS", 161, 168, "+", "2", PLUS_TX1 + ' exon_number "3";'),
        _row(c1, "stop_codon", 169, 171, "+", "0", PLUS_TX1 + ' exon_number "3";'),
        _row(c1, "three_prime_utr", 172, 200, "+", ".", PLUS_TX1),
        # GENCODE style, minus strand: features listed 5' to 3' of the transcript
        _row(c2, "gene", 61, 250, "-", ".", MINUS_GENE),
        _row(c2, "transcript", 61, 250, "-", ".", MINUS_TX),
        _row(c2, "exon", 201, 250, "-", ".", MINUS_TX + " exon_number 1;"),
        _row(c2, "CDS", 201, 230, "-", "0", MINUS_TX + " exon_number 1;"),
        _row(c2, "start_codon", 228, 230, "-", "0", MINUS_TX + " exon_number 1;"),
        _row(c2, "exon", 61, 120, "-", ".", MINUS_TX + " exon_number 2;"),
        _row(c2, "CDS", 106, 120, "-", "0", MINUS_TX + " exon_number 2;"),
        _row(c2, "stop_codon", 103, 105, "-", "0", MINUS_TX + " exon_number 2;"),
        _row(c2, "UTR", 231, 250, "-", ".", MINUS_TX + " exon_number 1;"),
        _row(c2, "UTR", 61, 102, "-", ".", MINUS_TX + " exon_number 2;"),
        _row(c2, "transcript", 61, 250, "-", ".", MINUS_LONG),
        _row(c2, "exon", 61, 250, "-", ".", MINUS_LONG + " exon_number 1;"),
        _row(c2, "CDS", 70, 240, "-", "0", MINUS_LONG + " exon_number 1;"),
        _row(c2, "transcript", 61, 250, "-", ".", MINUS_RI),
        _row(c2, "exon", 61, 250, "-", ".", MINUS_RI + " exon_number 1;"),
        _row(c2, "gene", 260, 290, "+", ".", LNC),
        _row(c2, "transcript", 260, 290, "+", ".", LNC),
        _row(c2, "exon", 260, 290, "+", ".", LNC + " exon_number 1;"),
    ]
    if not stop_lines:
        lines = [line for line in lines if "\tstop_codon\t" not in line]
    return lines


def write_gtf(path, lines: list[str], compress: bool = False):
    text = "\n".join(lines) + "\n"
    if compress:
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def write_fasta(path, names: dict[str, str] | None = None, index: bool = True):
    """FASTA of GENOME; `names` renames contigs (1 -> chr1) or drops them (1 -> None)."""
    names = names or {}
    with open(path, "w") as handle:
        for contig, seq in GENOME.items():
            name = names.get(contig, contig)
            if name is None:
                continue
            handle.write(f">{name}\n")
            for i in range(0, len(seq), 60):
                handle.write(seq[i:i + 60] + "\n")
    if index:
        pysam.faidx(str(path))
    return path


@pytest.fixture
def gtf(tmp_path):
    return write_gtf(tmp_path / "test.gtf", gtf_lines())


@pytest.fixture
def fasta(tmp_path):
    return write_fasta(tmp_path / "test.fa")


def build(tmp_path, gtf_path, fasta_path, genes=("PLUSG", "MINUSG"), **kwargs):
    out = tmp_path / "out" / "test.bundle.json"
    n = build_bundle_from_gtf(str(gtf_path), str(fasta_path), list(genes), "GRCh38", str(out), **kwargs)
    return n, out


def check_panel(out) -> None:
    """The values every correct build of PLUSG and MINUSG must give."""
    panel = load_bundle(out)
    assert panel.build == "GRCh38"
    plus, minus = panel.by_gene["PLUSG"], panel.by_gene["MINUSG"]

    assert plus.transcript == "ENST00000000001.3"
    assert plus.chrom == "1" and plus.strand == "+"
    assert plus.exons.tolist() == [[41, 70], [101, 130], [161, 200]]
    assert (plus.cds_start, plus.cds_end) == (61, 171)
    assert plus.protein == PLUS_PROTEIN
    assert plus.cds == PLUS_CDS + "TAA"
    assert plus.aliases == ["ENST00000000001", "ENSG00000000001", "CCDS90001"]

    assert minus.transcript == "ENST00000000010.2"
    assert minus.chrom == "2" and minus.strand == "-"
    assert minus.exons.tolist() == [[201, 250], [61, 120]]
    assert (minus.cds_start, minus.cds_end) == (103, 230)
    assert minus.protein == MINUS_PROTEIN
    assert minus.cds == MINUS_CDS + "TGA"
    assert minus.aliases == ["ENST00000000010", "ENSG00000000010.5", "CCDS90002.1", "NM_000010.2"]


# --- building --------------------------------------------------------------------------------
def test_build_chooses_mane_then_canonical_and_stores_cds_with_stop(tmp_path, gtf, fasta):
    n, out = build(tmp_path, gtf, fasta)
    assert n == 2
    check_panel(out)


def test_bundle_file_records_exons_flanked_sequence_and_source(tmp_path, gtf, fasta):
    import json

    _, out = build(tmp_path, gtf, fasta)
    data = json.loads(out.read_text())
    assert [r["gene"] for r in data["transcripts"]] == ["MINUSG", "PLUSG"]
    plus = next(r for r in data["transcripts"] if r["gene"] == "PLUSG")
    minus = next(r for r in data["transcripts"] if r["gene"] == "MINUSG")
    # each exon widened by 10 bases, ascending genomic order, forward strand
    one, two = GENOME["1"], GENOME["2"]
    assert plus["sequence"] == [[31, one[30:80]], [91, one[90:140]], [151, one[150:210]]]
    assert minus["sequence"] == [[51, two[50:130]], [191, two[190:260]]]
    assert minus["exons"] == [[201, 250], [61, 120]]
    gtf_sha = hashlib.sha256(gtf.read_bytes()).hexdigest()
    fasta_sha = hashlib.sha256(fasta.read_bytes()).hexdigest()
    assert data["source"] == f"GTF test.gtf sha256:{gtf_sha}; FASTA test.fa sha256:{fasta_sha}; flank 10"

    # the flank makes intron bases next to the exons known, and nothing further
    panel = load_bundle(out)
    assert panel.genome_bases("1", 71, 80) == one[70:80]
    assert panel.genome_bases("1", 81, 90) == "N" * 10
    assert panel.by_gene["PLUSG"].utr3 == one[171:200]     # exonic 3'UTR only


def test_flank_is_clipped_to_the_contig_and_overlapping_blocks_merge(tmp_path, gtf, fasta):
    import json

    _, out = build(tmp_path, gtf, fasta, genes=["MINUSG"], flank=70)
    minus = json.loads(out.read_text())["transcripts"][0]
    assert minus["sequence"] == [[1, GENOME["2"]]]          # 61-70=-9 -> 1, 250+70=320 -> 300
    assert load_bundle(out).by_gene["MINUSG"].cds == MINUS_CDS + "TGA"


@pytest.mark.parametrize("gtf_prefix,fasta_prefix", [("chr", ""), ("", "chr"), ("chr", "chr")])
def test_chr_prefixes_may_differ_between_gtf_and_fasta(tmp_path, gtf_prefix, fasta_prefix):
    gtf = write_gtf(tmp_path / "t.gtf", gtf_lines(gtf_prefix + "1", gtf_prefix + "2"))
    fasta = write_fasta(tmp_path / "t.fa", {"1": fasta_prefix + "1", "2": fasta_prefix + "2"})
    _, out = build(tmp_path, gtf, fasta)
    check_panel(out)


def test_gzipped_gtf_and_unindexed_fasta(tmp_path):
    gtf = write_gtf(tmp_path / "t.gtf.gz", gtf_lines(), compress=True)
    fasta = write_fasta(tmp_path / "t.fa", index=False)
    _, out = build(tmp_path, gtf, fasta)
    check_panel(out)


def test_gtf_without_stop_codon_lines_takes_the_following_stop(tmp_path, fasta):
    gtf = write_gtf(tmp_path / "t.gtf", gtf_lines(stop_lines=False))
    _, out = build(tmp_path, gtf, fasta)
    check_panel(out)


def test_without_tags_the_longest_complete_cds_wins_ties_to_lowest_id(tmp_path, fasta):
    gene = 'gene_id "ENSG00000000030"; gene_name "FALLG";'
    lines = []
    for tid, biotype in [("ENST00000000032", "protein_coding"), ("ENST00000000031", "protein_coding"),
                         ("ENST00000000030", "nonsense_mediated_decay")]:
        attrs = f'{gene} transcript_id "{tid}"; transcript_biotype "{biotype}";'
        for (s, e), (cs, ce), frame in zip(PLUS_EXONS, [(61, 70), (101, 130), (161, 168)], "022"):
            lines.append(_row("1", "exon", s, e, "+", ".", attrs))
            lines.append(_row("1", "CDS", cs, ce if tid != "ENST00000000030" else e, "+", frame, attrs))
        lines.append(_row("1", "stop_codon", 169, 171, "+", "0", attrs))
    gtf = write_gtf(tmp_path / "t.gtf", lines)
    _, out = build(tmp_path, gtf, fasta, genes=["FALLG"])
    tx = load_bundle(out).by_gene["FALLG"]
    assert tx.transcript == "ENST00000000031"      # NMD has the longest CDS but is not protein_coding
    assert tx.protein == PLUS_PROTEIN


# --- errors ------------------------------------------------------------------------------------
def test_missing_gene_is_named_with_a_suggestion(tmp_path, gtf, fasta):
    with pytest.raises(ReferenceDataError) as info:
        build(tmp_path, gtf, fasta, genes=["PLUSG", "PLUSGG", "NOSUCHGENE"])
    text = str(info.value)
    assert "PLUSGG (did you mean PLUSG?)" in text
    assert "NOSUCHGENE" in text and str(gtf) in text


def test_gene_without_protein_coding_transcript(tmp_path, gtf, fasta):
    with pytest.raises(ReferenceDataError, match=r"LNCG has no protein-coding transcript.*lncRNA") as info:
        build(tmp_path, gtf, fasta, genes=["LNCG"])
    assert info.value.line == 37         # the gene line


@pytest.mark.parametrize("bad,message", [
    ("1\ttest\texon\t41\t70\t.\t+\t.", "8 tab-separated fields"),
    ("1 test exon 41 70 . + . gene_name \"PLUSG\";", "1 tab-separated fields"),
    (_row("1", "exon", "4x1", 70, "+", ".", PLUS_TX1), "must be integers"),
])
def test_malformed_line_is_named_by_number(tmp_path, fasta, bad, message):
    lines = gtf_lines()
    lines.insert(6, bad)                 # becomes line 7
    gtf = write_gtf(tmp_path / "t.gtf", lines)
    with pytest.raises(ReferenceDataError, match=message) as info:
        build(tmp_path, gtf, fasta)
    assert info.value.line == 7
    assert "t.gtf:7: malformed GTF line" in str(info.value)


def test_contig_missing_from_fasta(tmp_path, gtf):
    fasta = write_fasta(tmp_path / "t.fa", {"2": None})
    build(tmp_path, gtf, fasta, genes=["PLUSG"])   # contig 1 is there
    with pytest.raises(ReferenceDataError, match=r"contig 2 of MINUSG \(GTF line 23\) is not in the FASTA"):
        build(tmp_path, gtf, fasta, genes=["MINUSG"])


def test_truncated_gzip(tmp_path, fasta):
    data = gzip.compress(("\n".join(gtf_lines()) + "\n").encode())
    gtf = tmp_path / "t.gtf.gz"
    gtf.write_bytes(data[:len(data) // 2])
    with pytest.raises(ReferenceDataError, match="truncated"):
        build(tmp_path, gtf, fasta)


def test_cds_not_a_multiple_of_three(tmp_path, fasta):
    lines = [line.replace("\t161\t168\t", "\t161\t169\t") if "ENST00000000001" in line else line
             for line in gtf_lines()]
    lines = [line.replace("\t169\t171\t", "\t170\t172\t") for line in lines]
    gtf = write_gtf(tmp_path / "t.gtf", lines)
    with pytest.raises(ReferenceDataError, match="CDS length 52 .* not a multiple of 3"):
        build(tmp_path, gtf, fasta)


def test_fasta_of_another_sequence_fails_the_translation_check(tmp_path, gtf):
    fasta = tmp_path / "t.fa"
    fasta.write_text(">1\n" + "".join(_background(99)) + "\n>2\n" + GENOME["2"] + "\n")
    with pytest.raises(ReferenceDataError, match="PLUSG transcript ENST00000000001.3"):
        build(tmp_path, gtf, fasta)


def test_missing_files(tmp_path, gtf, fasta):
    with pytest.raises(ReferenceDataError, match="GTF file not found"):
        build(tmp_path, tmp_path / "nope.gtf", fasta)
    with pytest.raises(ReferenceDataError, match="FASTA file not found"):
        build(tmp_path, gtf, tmp_path / "nope.fa")


# --- gene lists --------------------------------------------------------------------------------
def test_parse_gene_list_from_text_and_file(tmp_path):
    assert parse_gene_list("KRAS, NRAS,KRAS,,HLA-A") == ["KRAS", "NRAS", "HLA-A"]
    path = tmp_path / "genes.txt"
    path.write_text("# panel\nKRAS\n\nNRAS  # second\nBRAF\n")
    assert parse_gene_list(str(path)) == ["KRAS", "NRAS", "BRAF"]
    with pytest.raises(InputFormatError, match="not found"):
        parse_gene_list(str(tmp_path / "missing.txt"))
    path.write_text("KRAS\nNR\"AS\n")
    with pytest.raises(InputFormatError) as info:
        parse_gene_list(str(path))
    assert info.value.line == 2
    with pytest.raises(UsageError):
        parse_gene_list(" , ")


# --- end to end: the engine on the built bundle ---------------------------------------------------
def _annotate(out, chrom: str, pos: int, ref: str, alt: str) -> pd.Series:
    calls = pd.DataFrame({"sample": ["S1"], "chrom": [chrom], "pos": [pos], "ref": [ref], "alt": [alt]})
    result = annotate_calls(calls, load_bundle(out))
    assert len(result) == 1
    return result.iloc[0]


@pytest.mark.parametrize("chrom,pos,ref,alt,transcript,hgvsc,hgvsp,hgvsp_short,consequence", [
    # PLUSG codon 12 GGT (c.34-36, exon 2 at 124-126): c.35G>T makes GTT
    ("1", 125, "G", "T", "ENST00000000001.3", "c.35G>T", "p.Gly12Val", "p.G12V", "missense_variant"),
    ("chr1", 61, "A", "G", "ENST00000000001.3", "c.1A>G", "p.Met1?", "p.M1?", "start_lost"),
    # PLUSG codon 16 AAG (c.46-48 at 166-168): deleting one A (3'-shifted: c.47del) reads
    # AGT AAG TGA through the stop TAA into the 3'UTR GTGA...: Ser Lys Ter
    ("1", 165, "CA", "C", "ENST00000000001.3", "c.47del", "p.Lys16SerfsTer3", "p.K16Sfs*3",
     "frameshift_variant"),
    # MINUSG codon 14 ATT (c.40-42 at 111-109 on the reverse strand): c.41T>C makes ACT
    ("2", 110, "A", "G", "ENST00000000010.2", "c.41T>C", "p.Ile14Thr", "p.I14T", "missense_variant"),
    # MINUSG codon 9 ACT (c.25-27 at 206-204): c.26C>A makes AAT
    ("2", 205, "G", "T", "ENST00000000010.2", "c.26C>A", "p.Thr9Asn", "p.T9N", "missense_variant"),
    # MINUSG stop TGA (c.46-48 at 105-103): c.48A>G makes TGG (Trp); the 3'UTR read on has no stop
    ("2", 103, "T", "C", "ENST00000000010.2", "c.48A>G", "p.Ter16TrpextTer?", "p.*16Wext*?", "stop_lost"),
])
def test_annotate_calls_on_the_built_bundle(tmp_path, gtf, fasta, chrom, pos, ref, alt, transcript,
                                           hgvsc, hgvsp, hgvsp_short, consequence):
    _, out = build(tmp_path, gtf, fasta)
    row = _annotate(out, chrom, pos, ref, alt)
    assert row["status"] == "annotated", row["status_detail"]
    assert row["transcript"] == transcript
    assert row["hgvsc"] == hgvsc
    assert (row["hgvsp"], row["hgvsp_short"]) == (hgvsp, hgvsp_short)
    assert row["consequence"].split("&")[0] == consequence


def test_annotate_splice_donor_bases_come_from_the_flank(tmp_path, gtf, fasta):
    _, out = build(tmp_path, gtf, fasta)
    # PLUSG intron 1 starts at 71 (c.10+1); MINUSG intron 1 starts at 200 (c.30+1, reverse strand)
    plus_base, minus_base = GENOME["1"][70], GENOME["2"][199]
    plus_alt = "A" if plus_base != "A" else "C"
    minus_alt = "A" if minus_base != "A" else "C"
    row = _annotate(out, "1", 71, plus_base, plus_alt)
    assert row["status"] == "annotated"
    assert row["hgvsc"] == f"c.10+1{plus_base}>{plus_alt}"
    assert row["consequence"].startswith("splice_donor_variant")
    assert row["intron"] == "1/2"
    row = _annotate(out, "2", 200, minus_base, minus_alt)
    assert row["status"] == "annotated"
    assert row["hgvsc"] == f"c.30+1{reverse_complement(minus_base)}>{reverse_complement(minus_alt)}"
    assert row["consequence"].startswith("splice_donor_variant")
    # a wrong REF inside the flank is caught
    wrong = "G" if plus_base != "G" else "T"
    row = _annotate(out, "1", 71, wrong, "A" if wrong != "A" else "C")
    assert row["status"] == "ref_mismatch"
    assert f"is {plus_base} in GRCh38" in row["status_detail"]
