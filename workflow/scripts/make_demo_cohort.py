#!/usr/bin/env python3
"""Write the bundled demo cohort (resources/demo/) from the bundled GRCh38 transcript panel.

Every variant is given as a protein change (KRAS p.G12C); its genomic position, REF and ALT
are computed here from the codon in the panel bundle, so no coordinate is typed by hand and
the REF bases always agree with the bundle. The output is deterministic (seeded) and small:

    python workflow/scripts/make_demo_cohort.py --outdir resources/demo

writes the sample sheet, bgzipped+indexed VCFs (Mutect2- and Strelka2-style), one ctDNA
table, one gene/copy-number TSV and one BAM (reads over the KRAS/NRAS/BRAF hotspot exons).
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pysam

from krasannot.models import CODON_TABLE
from krasannot.reference.builds import CONTIG_LENGTHS, GRCH38
from krasannot.reference.bundle import Panel, Transcript, load_bundled_panel, reverse_complement

SEED = 20260101
# the plasma sample as a ctDNA table (docs/ctdna.md); "mutect2" writes it as a VCF instead
PLASMA_WRITER = "ctdna"
BUILD = GRCH38
CONTIGS = [str(c) for c in range(1, 23)] + ["X", "Y"]
SHEET_COLUMNS = ["sample_id", "patient_id", "tumor_type", "specimen", "timepoint", "prior_therapies",
                 "build", "vcf", "maf", "bam", "ctdna", "cna", "fusions"]


@dataclass(frozen=True)
class Variant:
    """A protein change placed on the genome: 1-based forward-strand position, REF and ALT."""

    gene: str
    protein: str      # G12C, Q37*
    chrom: str        # without "chr"
    pos: int
    ref: str
    alt: str


def place_protein_change(panel: Panel, gene: str, change: str) -> Variant:
    """The single-base change of the codon that makes `change` (e.g. 'G12C', 'Q37*').

    Among the one-base changes of the reference codon that give the new amino acid, the
    first in codon order (then A<C<G<T) is taken, so the result is deterministic.
    """
    tx = panel.by_gene[gene]
    ref_aa, residue, new_aa = change[0], int(change[1:-1]), change[-1]
    codon_first = (residue - 1) * 3
    codon = tx.cds[codon_first:codon_first + 3]
    if CODON_TABLE.get(codon) != ref_aa:
        raise SystemExit(f"{gene} codon {residue} is {codon} ({CODON_TABLE.get(codon)}), not {ref_aa}")
    for offset in range(3):
        for base in "ACGT":
            changed = codon[:offset] + base + codon[offset + 1:]
            if base != codon[offset] and CODON_TABLE[changed] == new_aa:
                tx_pos = tx.cds_tx_first + codon_first + offset
                pos = int(tx.tx_to_genomic([tx_pos])[0])
                ref, alt = codon[offset], base
                if tx.strand == "-":
                    ref, alt = reverse_complement(ref), reverse_complement(alt)
                assert panel.genome_bases(tx.chrom, pos, pos) == ref, (gene, change, pos)
                return Variant(gene, change, tx.chrom, pos, ref, alt)
    raise SystemExit(f"no single-base change turns {gene} codon {residue} ({codon}) into {new_aa}")


def contig_header() -> list[str]:
    return [f"##contig=<ID=chr{c},length={CONTIG_LENGTHS[BUILD][c]}>" for c in CONTIGS]


def _sorted(variants: list[tuple[Variant, int, int]]) -> list[tuple[Variant, int, int]]:
    return sorted(variants, key=lambda v: (CONTIGS.index(v[0].chrom), v[0].pos))


def mutect2_vcf(sample: str, variants: list[tuple[Variant, int, int]]) -> str:
    """Mutect2-style tumour/normal VCF: GT:AD:AF:DP, ##tumor_sample names the tumour column.

    `variants` holds (variant, depth, alt_depth) of the tumour.
    """
    normal = f"{sample}-N"
    lines = ["##fileformat=VCFv4.2", "##source=Mutect2 (krasannot demo, synthetic)",
             '##FILTER=<ID=PASS,Description="All filters passed">',
             '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
             '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">',
             '##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fraction">',
             '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">',
             f"##tumor_sample={sample}", f"##normal_sample={normal}", *contig_header(),
             "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", normal, sample])]
    for v, depth, alt_depth in _sorted(variants):
        normal_depth = 60
        lines.append("\t".join([f"chr{v.chrom}", str(v.pos), ".", v.ref, v.alt, ".", "PASS", ".", "GT:AD:AF:DP",
                                f"0/0:{normal_depth},0:0.0:{normal_depth}",
                                f"0/1:{depth - alt_depth},{alt_depth}:{alt_depth / depth:.3f}:{depth}"]))
    return "\n".join(lines) + "\n"


def strelka_vcf(sample: str, variants: list[tuple[Variant, int, int]]) -> str:
    """Strelka2-style somatic SNV VCF: counts in AU/CU/GU/TU (tier1,tier2), no GT.

    Strelka2 names its columns NORMAL and TUMOR; here they are renamed to the sample ids, as
    pipelines do with `bcftools reheader`, and ##normal_sample names the normal, so the sample
    column of the annotated table is the sheet's sample id.
    """
    normal = f"{sample}-N"
    lines = ["##fileformat=VCFv4.1", "##source=strelka", "##source_version=2.9.10", f"##normal_sample={normal}",
             f"##content=strelka somatic snv calls (krasannot demo, synthetic: {sample})",
             '##FILTER=<ID=PASS,Description="All filters passed">',
             '##INFO=<ID=SOMATIC,Number=0,Type=Flag,Description="Somatic mutation">',
             '##INFO=<ID=QSS,Number=1,Type=Integer,Description="Quality score for any somatic snv">',
             '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth for tier1 (used+filtered)">',
             '##FORMAT=<ID=FDP,Number=1,Type=Integer,Description="Number of basecalls filtered">',
             '##FORMAT=<ID=SDP,Number=1,Type=Integer,Description="Number of reads with deletions spanning">',
             '##FORMAT=<ID=SUBDP,Number=1,Type=Integer,Description="Number of reads below the mapping quality">',
             '##FORMAT=<ID=AU,Number=2,Type=Integer,Description="Number of A alleles used in tiers 1,2">',
             '##FORMAT=<ID=CU,Number=2,Type=Integer,Description="Number of C alleles used in tiers 1,2">',
             '##FORMAT=<ID=GU,Number=2,Type=Integer,Description="Number of G alleles used in tiers 1,2">',
             '##FORMAT=<ID=TU,Number=2,Type=Integer,Description="Number of T alleles used in tiers 1,2">',
             *contig_header(),
             "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", normal, sample])]

    def counts(ref: str, alt: str, depth: int, alt_depth: int) -> str:
        by_base = {b: 0 for b in "ACGT"}
        by_base[ref] = depth - alt_depth
        by_base[alt] += alt_depth
        return ":".join(f"{by_base[b]},{by_base[b]}" for b in "ACGT")

    for v, depth, alt_depth in _sorted(variants):
        lines.append("\t".join([f"chr{v.chrom}", str(v.pos), ".", v.ref, v.alt, ".", "PASS", "SOMATIC;QSS=90",
                                "DP:FDP:SDP:SUBDP:AU:CU:GU:TU", f"60:0:0:0:{counts(v.ref, v.alt, 60, 0)}",
                                f"{depth}:0:0:0:{counts(v.ref, v.alt, depth, alt_depth)}"]))
    return "\n".join(lines) + "\n"


def write_bgzipped_vcf(text: str, path: Path) -> None:
    """bgzip + tabix index (pysam); the plain text goes through a temp file."""
    with tempfile.NamedTemporaryFile("w", suffix=".vcf", delete=False) as handle:
        handle.write(text)
    try:
        pysam.tabix_compress(handle.name, str(path), force=True)
        pysam.tabix_index(str(path), preset="vcf", force=True)
    finally:
        os.unlink(handle.name)


def ctdna_table(sample: str, rows: list[tuple[Variant, int, int]]) -> str:
    """A plasma ctDNA report in the native krasannot layout (docs/ctdna.md): one row per detected
    variant, named by gene and protein change as a liquid-biopsy report names it."""
    header = ["sample", "gene", "alteration", "type", "vaf", "depth", "alt_depth", "origin"]
    lines = ["\t".join(header)]
    for v, depth, alt_depth in _sorted(rows):
        lines.append("\t".join([sample, v.gene, f"p.{v.protein}", "SNV", f"{alt_depth / depth:.4f}", str(depth),
                                str(alt_depth), "somatic"]))
    return "\n".join(lines) + "\n"


def copy_number_tsv(sample: str, rows: list[tuple[str, float]]) -> str:
    """Gene-level absolute copy number: sample, gene, copy_number (ploidy 2 is neutral)."""
    return "sample\tgene\tcopy_number\n" + "".join(f"{sample}\t{gene}\t{cn:g}\n" for gene, cn in rows)


def hotspot_exon_segments(panel: Panel, gene_codons: dict[str, list[int]]) -> list[tuple[Transcript, int, int]]:
    """Coding part of each exon holding a hotspot codon: (transcript, genomic start, end), unique."""
    segments = set()
    for gene, codons in gene_codons.items():
        tx = panel.by_gene[gene]
        for codon in codons:
            tx_pos = tx.cds_tx_first + (codon - 1) * 3
            genomic = int(tx.tx_to_genomic([tx_pos])[0])
            for start, end in tx.exons_genomic:
                if start <= genomic <= end:
                    segments.add((gene, max(int(start), tx.cds_start), min(int(end), tx.cds_end)))
    return [(panel.by_gene[g], s, e) for g, s, e in sorted(segments)]


def write_wild_type_bam(panel: Panel, path: Path, sample: str, rng: random.Random, depth: int = 300,
                        read_length: int = 60) -> None:
    """Single-end reads drawn from the reference bases of the KRAS/NRAS (exons 2-4) and BRAF (exon 15)
    coding exons, about `depth`x at every hotspot codon; wild-type, with a 0.1% base-error rate."""
    segments = hotspot_exon_segments(panel, {"KRAS": [12, 13, 59, 61, 117, 146],
                                             "NRAS": [12, 13, 59, 61, 117, 146], "BRAF": [600]})
    header = {"HD": {"VN": "1.6", "SO": "coordinate"},
              "SQ": [{"SN": f"chr{c}", "LN": CONTIG_LENGTHS[BUILD][c]} for c in CONTIGS],
              "RG": [{"ID": sample, "SM": sample, "PL": "ILLUMINA"}],
              "CO": ["krasannot demo: synthetic wild-type reads over RAS/BRAF hotspot exons"]}
    reads = []
    for tx, start, end in segments:
        bases = panel.genome_bases(tx.chrom, start, end)
        assert "N" not in bases, (tx.gene, start, end)
        # reads overhanging the exon's coding part are cut at its edge (the bundle knows no intron
        # bases), so the depth is even up to the edges; cut reads shorter than 30 bases are dropped
        n_reads = depth * (len(bases) + read_length - 1) // read_length + depth // 2
        for i in range(n_reads):
            offset = rng.randrange(-read_length + 1, len(bases))
            first, last = max(offset, 0), min(offset + read_length, len(bases))
            if last - first < 30:
                continue
            seq = list(bases[first:last])
            for j in range(len(seq)):
                if rng.random() < 0.001:
                    seq[j] = rng.choice([b for b in "ACGT" if b != seq[j]])
            reads.append((f"chr{tx.chrom}", start + first, "".join(seq), rng.random() < 0.5, i, tx.gene))
    reads.sort(key=lambda r: (CONTIGS.index(r[0][3:]), r[1]))
    # written in coordinate order directly: no sort step, whose @PG line would carry local paths
    with pysam.AlignmentFile(str(path), "wb", header=header) as out:
        for n, (chrom, pos, seq, reverse, i, gene) in enumerate(reads):
            read = pysam.AlignedSegment(out.header)
            read.query_name = f"{gene}_{n:06d}"
            read.reference_id = out.header.get_tid(chrom)
            read.reference_start = pos - 1
            read.cigarstring = f"{len(seq)}M"
            read.query_sequence = seq
            read.query_qualities = pysam.qualitystring_to_array("F" * len(seq))
            read.mapping_quality = 60
            read.flag = 16 if reverse else 0
            read.set_tag("RG", sample)
            out.write(read)
    pysam.index(str(path))


def demo_samples(panel: Panel) -> list[dict]:
    """The cohort: each sample's sheet row and what to write for it."""
    def at(gene: str, change: str, depth: int, vaf: float) -> tuple[Variant, int, int]:
        return place_protein_change(panel, gene, change), depth, round(depth * vaf)

    def row(sample_id, patient_id, tumor_type, specimen="tissue", timepoint="baseline", prior=""):
        return {"sample_id": sample_id, "patient_id": patient_id, "tumor_type": tumor_type,
                "specimen": specimen, "timepoint": timepoint, "prior_therapies": prior, "build": BUILD}

    return [
        {**row("DEMO-LUAD-02", "DEMO-P02", "LUAD"), "writer": "mutect2",
         "variants": [at("KRAS", "G12C", 412, 0.31), at("STK11", "Q37*", 380, 0.58), at("TP53", "R273H", 350, 0.44)]},
        {**row("DEMO-LUAD-03", "DEMO-P03", "LUAD"), "writer": "strelka",
         "variants": [at("KRAS", "G12C", 520, 0.27), at("KEAP1", "Q75*", 460, 0.52)]},
        {**row("DEMO-LUAD-04", "DEMO-P04", "LUAD"), "writer": "mutect2",
         "variants": [at("KRAS", "G12D", 390, 0.22), at("TP53", "R248Q", 300, 0.35)]},
        {**row("DEMO-LUAD-05", "DEMO-P05", "LUAD"), "writer": "strelka",
         "variants": [at("EGFR", "L858R", 610, 0.38), at("TP53", "R175H", 420, 0.41)]},
        {**row("DEMO-COAD-01", "DEMO-P06", "COADREAD"), "writer": "mutect2",
         "variants": [at("KRAS", "G12C", 480, 0.36), at("APC", "R1450*", 400, 0.47), at("TP53", "R175H", 380, 0.51)]},
        {**row("DEMO-COAD-02", "DEMO-P07", "COADREAD"), "writer": "bam", "variants": []},
        {**row("DEMO-COAD-03", "DEMO-P08", "COADREAD"), "writer": "strelka",
         "variants": [at("BRAF", "V600E", 530, 0.33), at("TP53", "R273H", 330, 0.45)]},
        {**row("DEMO-PAAD-01", "DEMO-P09", "PAAD"), "writer": "mutect2",
         "variants": [at("KRAS", "G12C", 300, 0.18), at("TP53", "R248Q", 280, 0.21)]},
        {**row("DEMO-PAAD-02", "DEMO-P10", "PAAD"), "writer": "strelka",
         "variants": [at("KRAS", "G12D", 350, 0.16), at("CDKN2A", "R80*", 310, 0.30)]},
        # one patient, two timepoints: tissue before sotorasib, plasma at progression on it
        {**row("DEMO-LUAD-11-T0", "DEMO-P11", "LUAD"), "writer": "mutect2",
         "variants": [at("KRAS", "G12C", 450, 0.34), at("TP53", "R158H", 410, 0.40)]},
        {**row("DEMO-LUAD-11-T1", "DEMO-P11", "LUAD", "plasma", "progression", "sotorasib"), "writer": PLASMA_WRITER,
         "variants": [at("KRAS", "G12C", 5200, 0.061), at("KRAS", "Y96D", 5100, 0.024),
                      at("TP53", "R158H", 4800, 0.055)],
         "copy_number": [("MET", 9.0), ("KRAS", 2.0), ("EGFR", 2.0)]},
    ]


def write_cohort(outdir: Path, seed: int = SEED) -> list[dict]:
    """Write every demo input and the sample sheet into `outdir`; returns the sheet rows."""
    panel = load_bundled_panel(BUILD)
    rng = random.Random(seed)
    outdir.mkdir(parents=True, exist_ok=True)
    rows = []
    for sample in demo_samples(panel):
        sid, writer = sample["sample_id"], sample["writer"]
        row = {k: sample.get(k, "") for k in SHEET_COLUMNS}
        if writer in ("mutect2", "strelka"):
            text = (mutect2_vcf if writer == "mutect2" else strelka_vcf)(sid, sample["variants"])
            write_bgzipped_vcf(text, outdir / f"{sid}.vcf.gz")
            row["vcf"] = f"{sid}.vcf.gz"
        elif writer == "ctdna":
            (outdir / f"{sid}.ctdna.tsv").write_text(ctdna_table(sid, sample["variants"]), encoding="utf-8")
            row["ctdna"] = f"{sid}.ctdna.tsv"
        elif writer == "bam":
            write_wild_type_bam(panel, outdir / f"{sid}.bam", sid, rng)
            row["bam"] = f"{sid}.bam"
        if sample.get("copy_number"):
            (outdir / f"{sid}.cn.tsv").write_text(copy_number_tsv(sid, sample["copy_number"]), encoding="utf-8")
            row["cna"] = f"{sid}.cn.tsv"
        rows.append(row)
    sheet = "\t".join(SHEET_COLUMNS) + "\n" + "".join("\t".join(r[c] for c in SHEET_COLUMNS) + "\n" for r in rows)
    (outdir / "samples.tsv").write_text(sheet, encoding="utf-8")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outdir", default="resources/demo", help="where to write (default: resources/demo)")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    rows = write_cohort(Path(args.outdir), args.seed)
    total = sum(f.stat().st_size for f in Path(args.outdir).iterdir() if f.is_file())
    print(f"{args.outdir}: {len(rows)} samples, {total / 1024:.0f} kB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
