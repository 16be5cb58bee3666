#!/usr/bin/env python
"""Benchmark `krasannot annotate` against bcftools, cyvcf2, a plain Python parse and snpEff.

    python bench/annotate_bench.py [--records 1000000] [--repeats 3] [--workdir DIR] [--build GRCh38]
                                   [--cohort-records 2000] [--scale 4] [--cases plain,mutect2,cohort,indexed]

Cases (each a bgzipped file, timed with and without its tabix index):
  plain     one sample, GT:AD:DP (short lines): every peer, and the 1-record start-up runs
  mutect2   tumour + normal columns, Mutect2's INFO and GT:AD:AF:DP:F1R2:F2R1:FAD:SB (long lines)
  cohort    1,000 samples x --cohort-records records (very long lines, few records)
  indexed   the plain file and one SCALE x its size (same panel records): is the indexed path flat?

Steps (one function each):
  1. make_vcf          seeded synthetic VCFv4.2: genome-wide background on 1-22/X plus ~0.3 % of
                       records inside the panel transcripts (half in CDS, with the true bases).
  2. build_peers       a reference FASTA, a GFF3 (bcftools csq) and a snpEff database built from
                       the same panel bundle, each verified to annotate before anything is timed.
  3. time_rotation     every tool once per round, round after round (A B C .. A B C ..), median;
                       whole commands (start-up included), peak RSS of each from GNU time.
  4. print_table       median seconds, peak MB, file records/s, peer_time / krasannot_time, and
                       krasannot's time as a multiple of `bcftools view -H`.

The reference is synthetic where the bundle does not know the genome: each panel chromosome is
N from end to end except for the transcript spans (+/- FLANK), which hold the bundle's known
bases (CDS) and seeded random bases elsewhere. The panel records take their REF from that same
sequence, so every peer sees a VCF that agrees with its FASTA, and krasannot sees true CDS bases
(it checks REF only where the bundle knows the base). Background records lie outside the panel
spans, on N (or on chromosomes that are not in the FASTA at all), so no peer checks their REF.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from krasannot.reference.bundle import Panel, load_bundled_panel
from krasannot.reference.builds import CONTIG_LENGTHS

SEED = 20240611
PANEL_FRACTION = 0.003        # share of records inside panel transcript spans
CDS_SHARE = 0.5               # of those, share placed on CDS bases
FLANK = 2000                  # synthetic reference bases kept around each transcript span
BACKGROUND_CONTIGS = [str(i) for i in range(1, 23)] + ["X"]
HEADER_CONTIGS = BACKGROUND_CONTIGS + ["Y", "MT"]
SNPEFF_JAR = "/usr/share/java/snpeff.jar"
SNPEFF_SYSTEM_CONFIG = "/etc/snpeff/snpEff.config"
BASES = np.array(list("ACGT"))
VENV_BIN = Path(sys.executable).parent


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run(cmd, **kwargs) -> subprocess.CompletedProcess:
    """Run a command (list, or str for the shell); raise with its stderr tail if it fails."""
    result = subprocess.run(cmd, shell=isinstance(cmd, str), capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"command failed ({result.returncode}): {cmd}\n{result.stderr[-2000:]}")
    return result


# ---------------------------------------------------------------------------------------------
# 1. synthetic reference over the panel spans, and the VCF
# ---------------------------------------------------------------------------------------------

@dataclass
class SyntheticReference:
    """Per chromosome: merged (start, bytes) blocks of forward-strand bases, 1-based starts."""

    blocks: dict[str, list[tuple[int, bytearray]]] = field(default_factory=dict)

    def bases(self, chrom: str, start: int, end: int) -> str:
        for block_start, seq in self.blocks.get(chrom, []):
            if block_start <= start and end < block_start + len(seq):
                return seq[start - block_start:end - block_start + 1].decode()
        raise KeyError(f"{chrom}:{start}-{end} is outside the synthetic reference")


def make_synthetic_reference(panel: Panel, rng: np.random.Generator) -> SyntheticReference:
    """Known bundle bases at their true coordinates, seeded random bases where unknown."""
    # the shipped gene regions' true intron/UTR bases too: krasannot checks REF alleles there
    panel = panel.filled_for(np.array([tx.chrom for tx in panel.transcripts]),
                             np.array([tx.start for tx in panel.transcripts]))
    ref = SyntheticReference()
    for chrom in sorted(panel.by_contig):
        spans = sorted((tx.start - FLANK, tx.end + FLANK) for tx in panel.by_contig[chrom])
        merged: list[list[int]] = []
        for start, end in spans:  # transcripts can overlap; one block per merged span
            if merged and start <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        blocks = []
        for start, end in merged:
            seq = bytearray(BASES[rng.integers(0, 4, end - start + 1)].astype("S1").tobytes())
            for tx in panel.by_contig[chrom]:
                if not start <= tx.span_start <= end:
                    continue
                known = np.frombuffer(tx.genome.encode(), dtype=np.uint8)
                mask = known != ord("N")
                offset = tx.span_start - start
                view = np.frombuffer(seq, dtype=np.uint8)[offset:offset + len(known)]
                view[mask] = known[mask]  # writes through: frombuffer on a bytearray shares memory
            blocks.append((start, seq))
        ref.blocks[chrom] = blocks
    return ref


def random_seq(rng: np.random.Generator, length: int) -> str:
    return "".join(BASES[rng.integers(0, 4, length)])


def other_base(rng: np.random.Generator, base: str) -> str:
    choices = [b for b in "ACGT" if b != base]
    return choices[rng.integers(0, 3)]


def alleles_for(rng: np.random.Generator, kind: int, ref_at) -> tuple[str, str, str]:
    """(REF, ALT, GT) for one record. kind: 0 SNV, 1 deletion, 2 insertion, 3 multi-allelic SNV.

    ref_at(length) returns the reference bases from POS on (random for background records).
    """
    if kind == 1:
        ref = ref_at(int(rng.integers(2, 7)))
        return ref, ref[0], "0/1"
    if kind == 2:
        ref = ref_at(1)
        return ref, ref + random_seq(rng, int(rng.integers(1, 6))), "0/1"
    ref = ref_at(1)
    alt = other_base(rng, ref)
    if kind == 3:
        second = [b for b in "ACGT" if b not in (ref, alt)][rng.integers(0, 2)]
        return ref, f"{alt},{second}", "1/2"
    return ref, alt, ("1/1" if rng.random() < 0.3 else "0/1")


def allele_kinds(rng: np.random.Generator, n: int) -> np.ndarray:
    # ~85 % SNV, 6 % deletions, 6 % insertions, 3 % multi-allelic
    return rng.choice(4, size=n, p=[0.85, 0.06, 0.06, 0.03])


def background_positions(rng: np.random.Generator, n: int, build: str, panel: Panel) -> dict[str, np.ndarray]:
    """n positions spread over 1-22/X by length, none inside a panel span (+/- FLANK)."""
    lengths = np.array([CONTIG_LENGTHS[build][c] for c in BACKGROUND_CONTIGS], dtype=np.int64)
    counts = rng.multinomial(n, lengths / lengths.sum())
    out = {}
    for chrom, length, count in zip(BACKGROUND_CONTIGS, lengths, counts):
        spans = np.array([(tx.start - FLANK, tx.end + FLANK + 10) for tx in panel.by_contig.get(chrom, [])],
                         dtype=np.int64).reshape(-1, 2)
        pos = np.empty(0, dtype=np.int64)
        while len(pos) < count:  # draw, drop panel spans and duplicates, top up
            draw = rng.integers(100, length - 100, count - len(pos) + 16)
            inside = ((draw[:, None] >= spans[:, 0]) & (draw[:, None] <= spans[:, 1])).any(axis=1)
            pos = np.unique(np.concatenate([pos, draw[~inside]]))
        out[chrom] = np.sort(rng.choice(pos, count, replace=False)) if len(pos) > count else pos
    return out


def hotspot_records(panel: Panel) -> list[tuple[str, int, str, str, str]]:
    """KRAS G12D (c.35G>A) and BRAF V600E (c.1799T>A), placed from the bundle (not hard-coded)."""
    out = []
    comp = {"A": "T", "C": "G", "G": "C", "T": "A"}
    for gene, c_pos, c_alt in (("KRAS", 35, "A"), ("BRAF", 1799, "A")):
        tx = panel.by_gene.get(gene)
        if tx is None:
            continue
        pos = int(tx.tx_to_genomic(np.array([tx.cds_tx_first + c_pos - 1]))[0])
        ref = tx.genome_bases(pos, pos)
        alt = c_alt if tx.strand == "+" else comp[c_alt]
        out.append((tx.chrom, pos, ref, alt, "0/1"))
    return out


def panel_records(rng: np.random.Generator, n: int, panel: Panel, ref: SyntheticReference):
    """n records inside transcript spans: CDS_SHARE on CDS bases (true REF), the rest anywhere in
    the span (REF from the synthetic reference: true where known, random where not)."""
    txs = panel.transcripts
    n_cds = int(round(n * CDS_SHARE))
    records = list(hotspot_records(panel))
    # CDS positions: pick a transcript by CDS length, then a CDS base
    cds_len = np.array([tx.cds_length for tx in txs], dtype=float)
    span_len = np.array([tx.end - tx.start + 1 for tx in txs], dtype=float)
    picks = [(i, True) for i in rng.choice(len(txs), n_cds, p=cds_len / cds_len.sum())]
    picks += [(i, False) for i in rng.choice(len(txs), n - n_cds - len(records), p=span_len / span_len.sum())]
    kinds = allele_kinds(rng, len(picks))
    for (i, in_cds), kind in zip(picks, kinds):
        tx = txs[i]
        if in_cds:
            c = int(rng.integers(tx.cds_tx_first, tx.cds_tx_last + 1))
            pos = int(tx.tx_to_genomic(np.array([c]))[0])
        else:
            pos = int(rng.integers(tx.start, tx.end + 1))
        r, a, gt = alleles_for(rng, int(kind), lambda k, p=pos, ch=tx.chrom: ref.bases(ch, p, p + k - 1))
        records.append((tx.chrom, pos, r, a, gt))
    return records


# file styles: "plain" (one sample, GT:AD:DP), "mutect2" (tumour + normal columns, Mutect2's INFO and
# FORMAT), "cohort" (COHORT_SAMPLES samples, GT:AD:DP, most of them 0/0)
STYLES = ("plain", "mutect2", "cohort")
COHORT_SAMPLES = 1000
MUTECT2_META = [
    "##source=Mutect2", "##tumor_sample=TUMOR", "##normal_sample=NORMAL",
    '##GATKCommandLine=<ID=Mutect2,CommandLine="Mutect2 --tumor-sample TUMOR --normal-sample NORMAL",Version="4.2.6.1">',
    '##FILTER=<ID=weak_evidence,Description="Mutation does not meet likelihood threshold">',
    '##INFO=<ID=AS_SB_TABLE,Number=1,Type=String,Description="Allele-specific forward/reverse read counts">',
    '##INFO=<ID=ECNT,Number=1,Type=Integer,Description="Number of events in this haplotype">',
    '##INFO=<ID=GERMQ,Number=1,Type=Integer,Description="Phred-scaled quality that alt alleles are not germline">',
    '##INFO=<ID=MBQ,Number=R,Type=Integer,Description="median base quality by allele">',
    '##INFO=<ID=MFRL,Number=R,Type=Integer,Description="median fragment length by allele">',
    '##INFO=<ID=MMQ,Number=R,Type=Integer,Description="median mapping quality by allele">',
    '##INFO=<ID=MPOS,Number=A,Type=Integer,Description="median distance from end of read">',
    '##INFO=<ID=NALOD,Number=A,Type=Float,Description="Negative log 10 odds of artifact in normal">',
    '##INFO=<ID=NLOD,Number=A,Type=Float,Description="Normal log 10 likelihood ratio of diploid het or hom alt">',
    '##INFO=<ID=POPAF,Number=A,Type=Float,Description="negative log 10 population allele frequencies">',
    '##INFO=<ID=TLOD,Number=A,Type=Float,Description="Log 10 likelihood ratio score of variant existing">',
    '##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fractions of alternate alleles in the tumor">',
    '##FORMAT=<ID=F1R2,Number=R,Type=Integer,Description="Count of reads in F1R2 pair orientation">',
    '##FORMAT=<ID=F2R1,Number=R,Type=Integer,Description="Count of reads in F2R1 pair orientation">',
    '##FORMAT=<ID=FAD,Number=R,Type=Integer,Description="Count of fragments supporting each allele">',
    '##FORMAT=<ID=SB,Number=4,Type=Integer,Description="Per-sample component statistics for strand bias">',
]


def vcf_header(build: str, style: str = "plain") -> str:
    samples = {"plain": ["TUMOR"], "mutect2": ["TUMOR", "NORMAL"],
               "cohort": [f"S{i:04d}" for i in range(1, COHORT_SAMPLES + 1)]}[style]
    lines = ["##fileformat=VCFv4.2", f"##reference={build}",
             "##source=krasannot-bench (synthetic, seeded)",
             '##INFO=<ID=DP,Number=1,Type=Integer,Description="Total depth">',
             '##FILTER=<ID=PASS,Description="All filters passed">',
             '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
             '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">',
             '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">']
    lines += MUTECT2_META if style == "mutect2" else []
    lines += [f"##contig=<ID={c},length={CONTIG_LENGTHS[build][c]}>" for c in HEADER_CONTIGS]
    lines.append("\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", *samples]))
    return "\n".join(lines) + "\n"


def _allelic_depths(gt: str, dp: int, alt_d: int) -> str:
    if gt == "1/2":
        return f"{dp - 2 * alt_d if dp > 2 * alt_d else 0},{alt_d},{alt_d}"
    if gt == "1/1":
        return f"0,{dp}"
    return f"{dp - alt_d},{alt_d}"


def _mutect2_columns(rng: np.random.Generator, alt: str, gt: str, dp: int, alt_d: int) -> str:
    """QUAL .. NORMAL of a Mutect2 record: tumour GT:AD:AF:DP:F1R2:F2R1:FAD:SB, normal the same at ~0 VAF."""
    n_alt = alt.count(",") + 1
    tumour_ad = [int(x) for x in _allelic_depths(gt, dp, alt_d).split(",")]
    normal_dp = int(rng.integers(15, 80))
    normal_ad = [normal_dp] + [0] * n_alt
    def sample(ad: list[int]) -> str:
        depth = sum(ad)
        af = ",".join(f"{(x + 0.5) / (depth + 1):.3f}" for x in ad[1:])
        f1r2 = ",".join(str(x // 2) for x in ad)
        f2r1 = ",".join(str(x - x // 2) for x in ad)
        sb = f"{ad[0] // 2},{ad[0] - ad[0] // 2},{sum(ad[1:]) // 2},{sum(ad[1:]) - sum(ad[1:]) // 2}"
        genotype = gt if ad is tumour_ad else "0/0"
        return f"{genotype}:{','.join(map(str, ad))}:{af}:{depth}:{f1r2}:{f2r1}:{','.join(map(str, ad))}:{sb}"
    tlod = ",".join(f"{rng.uniform(6, 300):.2f}" for _ in range(n_alt))
    per_alt = lambda fmt: ",".join(fmt() for _ in range(n_alt))
    info = (f"AS_SB_TABLE={tumour_ad[0] // 2},{tumour_ad[0] - tumour_ad[0] // 2}|{alt_d // 2},{alt_d - alt_d // 2};"
            f"DP={dp + normal_dp};ECNT={int(rng.integers(1, 4))};GERMQ={int(rng.integers(1, 94))};"
            f"MBQ=20,{int(rng.integers(20, 40))};MFRL=165,{int(rng.integers(140, 200))};MMQ=60,60;"
            f"MPOS={per_alt(lambda: str(int(rng.integers(5, 50))))};NALOD={per_alt(lambda: f'{rng.uniform(0.5, 3):.2f}')};"
            f"NLOD={per_alt(lambda: f'{rng.uniform(2, 20):.2f}')};POPAF={per_alt(lambda: f'{rng.uniform(1, 6):.2f}')};"
            f"TLOD={tlod}")
    filt = "PASS" if rng.random() < 0.7 else "weak_evidence"
    return f".\t{filt}\t{info}\tGT:AD:AF:DP:F1R2:F2R1:FAD:SB\t{sample(tumour_ad)}\t{sample(normal_ad)}"


def _cohort_columns(rng: np.random.Generator, gt: str, dp: int, alt_d: int) -> str:
    """QUAL .. last sample of a cohort record: ~2 % of the samples carry the allele, the rest are 0/0."""
    carriers = rng.random(COHORT_SAMPLES) < 0.02
    depths = rng.integers(20, 120, COHORT_SAMPLES).tolist()
    cells = [f"{gt}:{_allelic_depths(gt, d, max(1, d // 3))}:{d}" if carrier else f"0/0:{d},0:{d}"
             for carrier, d in zip(carriers.tolist(), depths)]
    return f"{int(rng.integers(30, 3000))}\tPASS\tDP={sum(depths)}\tGT:AD:DP\t" + "\t".join(cells)


def format_records(rng: np.random.Generator, records: list[tuple[str, int, str, str, str]],
                   style: str = "plain") -> list[str]:
    """VCF lines with random but self-consistent AD/DP, in the file style's columns."""
    n = len(records)
    depth = rng.integers(20, 400, n)
    vaf = rng.uniform(0.05, 0.6, n)
    qual = rng.integers(30, 3000, n)
    lines = []
    for (chrom, pos, ref, alt, gt), dp, f, q in zip(records, depth.tolist(), vaf.tolist(), qual.tolist()):
        alt_d = max(1, int(dp * f))
        if style == "mutect2":
            rest = _mutect2_columns(rng, alt, gt, dp, alt_d)
        elif style == "cohort":
            rest = _cohort_columns(rng, gt, dp, alt_d)
        else:
            rest = f"{q}\tPASS\tDP={dp}\tGT:AD:DP\t{gt}:{_allelic_depths(gt, dp, alt_d)}:{dp}"
        lines.append(f"{chrom}\t{pos}\t.\t{ref}\t{alt}\t{rest}\n")
    return lines


def make_vcf(path: Path, n_records: int, build: str, panel: Panel, ref: SyntheticReference,
             seed: int, n_panel: int | None = None, style: str = "plain") -> dict:
    """Write a sorted, bgzipped VCF and return counts. Written contig by contig through bgzip.

    Panel records are drawn first, so the same seed and n_panel give the same panel records
    whatever n_records is (the fixed-panel scale file relies on this)."""
    rng = np.random.default_rng(seed)
    if n_panel is None:
        n_panel = int(round(n_records * PANEL_FRACTION))
    n_panel = max(n_panel, 10)  # the hotspots and a few more, however small the file
    by_chrom: dict[str, list] = {}
    for rec in panel_records(rng, n_panel, panel, ref):
        by_chrom.setdefault(rec[0], []).append(rec)
    background = background_positions(rng, n_records - n_panel, build, panel)
    written = 0
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as out:
        bgzip = subprocess.Popen(["bgzip", "-@", str(os.cpu_count() or 1), "-c"], stdin=subprocess.PIPE, stdout=out)
        bgzip.stdin.write(vcf_header(build, style).encode())
        for chrom in BACKGROUND_CONTIGS:
            positions = background[chrom]
            kinds = allele_kinds(rng, len(positions))
            # background REF is random: nothing downstream knows these bases
            recs = [(chrom, p, *alleles_for(rng, k, lambda length: random_seq(rng, length)))
                    for p, k in zip(positions.tolist(), kinds.tolist())]
            recs += by_chrom.get(chrom, [])
            recs.sort(key=lambda r: r[1])
            bgzip.stdin.write("".join(format_records(rng, recs, style)).encode())
            written += len(recs)
        bgzip.stdin.close()
        if bgzip.wait() != 0:
            raise RuntimeError("bgzip failed")
    os.replace(tmp, path)
    return {"records": written, "panel_records": n_panel, "panel_cds_records": int(round(n_panel * CDS_SHARE))}


def index_and_copy(vcf: Path, noindex_dir: Path) -> Path:
    """tabix-index the VCF; a copy in another directory (no .tbi beside it) for the no-index run."""
    run(["tabix", "-f", "-p", "vcf", str(vcf)])
    noindex_dir.mkdir(parents=True, exist_ok=True)
    copy = noindex_dir / vcf.name
    shutil.copyfile(vcf, copy)
    for suffix in (".tbi", ".csi"):
        Path(str(copy) + suffix).unlink(missing_ok=True)
    return copy


def count_in_regions(vcf: Path, regions: str) -> int:
    out = run(f"bcftools view -H -r {regions} {vcf} | wc -l")
    return int(out.stdout.strip())


def one_record_vcf(out: Path, build: str, panel: Panel) -> Path:
    """A 1-record VCF (KRAS G12D) to measure a tool's fixed start-up cost."""
    rec = hotspot_records(panel)[:1]
    text = vcf_header(build) + "".join(format_records(np.random.default_rng(1), rec))
    with open(out, "wb") as handle:  # bgzip, like any real input
        subprocess.run(["bgzip", "-c"], input=text.encode(), stdout=handle, check=True)
    return out


def scale_vcf(src_records: int, scale: int, build: str, panel: Panel, ref: SyntheticReference,
              workdir: Path, mode: str) -> tuple[Path, dict]:
    """A scale x larger file.

    fixed:        same seed and the very same panel records as the base file, scale x the
                  background: isolates the cost of file size (what the index should make flat).
    proportional: same densities (scale x the panel records too, different seed), like a
                  bigger sample of the same kind: the indexed path then grows with panel records."""
    n = src_records * scale
    if mode == "fixed":
        n_panel, seed = int(round(src_records * PANEL_FRACTION)), SEED
    else:
        n_panel, seed = int(round(n * PANEL_FRACTION)), SEED + scale
    path = workdir / f"synthetic_{n}_p{n_panel}_s{seed}.vcf.gz"
    stamp = Path(str(path) + ".json")
    if path.exists() and stamp.exists():
        return path, json.loads(stamp.read_text())
    t0 = time.perf_counter()
    counts = make_vcf(path, n, build, panel, ref, seed, n_panel)
    stamp.write_text(json.dumps(counts))
    log(f"generated {counts['records']:,} records ({mode} panel) in {time.perf_counter() - t0:.1f}s -> {path}")
    return path, counts


# ---------------------------------------------------------------------------------------------
# 2. peer inputs: FASTA, GFF3 (bcftools csq), snpEff database
# ---------------------------------------------------------------------------------------------

def tx_segments(tx, first: int, last: int) -> list[tuple[int, int]]:
    """Genomic (start, end) pieces of transcript coordinates first..last, in transcript order."""
    out = []
    for (e_start, e_end), tx_first in zip(tx.exons.tolist(), tx.exon_tx_first.tolist()):
        tx_last = tx_first + (e_end - e_start)
        lo, hi = max(first, tx_first), min(last, tx_last)
        if lo > hi:
            continue
        if tx.strand == "+":
            out.append((e_start + lo - tx_first, e_start + hi - tx_first))
        else:
            out.append((e_end - (hi - tx_first), e_end - (lo - tx_first)))
    return out


def cds_with_phase(tx, first: int, last: int) -> list[tuple[int, int, int]]:
    """CDS pieces with GFF3 phase (bases to skip before the next codon starts)."""
    done = 0
    out = []
    for start, end in tx_segments(tx, first, last):
        out.append((start, end, (3 - done % 3) % 3))
        done += end - start + 1
    return out


def write_fasta(path: Path, panel: Panel, ref: SyntheticReference, build: str) -> None:
    """Full-length chromosomes, N except the synthetic spans; bgzip + .fai/.gzi.

    N compresses to almost nothing, so ~3.1 Gb of sequence makes a ~15 MB file."""
    width = 60
    tmp = path.with_suffix(".tmp.gz")
    with open(tmp, "wb") as out:
        bgzip = subprocess.Popen(["bgzip", "-@", str(os.cpu_count() or 1), "-l", "1", "-c"],
                                 stdin=subprocess.PIPE, stdout=out)
        for chrom in HEADER_CONTIGS:  # every contig: csq stops at a record on a contig it lacks
            length = CONTIG_LENGTHS[build][chrom]
            seq = np.full(length, ord("N"), dtype=np.uint8)
            for start, block in ref.blocks.get(chrom, []):
                seq[start - 1:start - 1 + len(block)] = np.frombuffer(block, dtype=np.uint8)
            rows = -(-length // width)
            padded = np.full(rows * width, 0, dtype=np.uint8)
            padded[:length] = seq
            lines = np.concatenate([padded.reshape(rows, width), np.full((rows, 1), ord("\n"), np.uint8)], axis=1)
            body = lines.tobytes()
            tail = length % width  # drop the padding of the last line
            if tail:
                body = body[:-(width + 1)] + body[-(width + 1):-(width + 1 - tail)] + b"\n"
            bgzip.stdin.write(f">{chrom}\n".encode())
            bgzip.stdin.write(body)
        bgzip.stdin.close()
        if bgzip.wait() != 0:
            raise RuntimeError("bgzip failed on the FASTA")
    os.replace(tmp, path)
    run(["samtools", "faidx", str(path)])


def write_gff3(path: Path, panel: Panel) -> None:
    """Ensembl-style GFF3, the dialect bcftools csq parses (ID=gene:/transcript:, biotype=)."""
    lines = ["##gff-version 3"]
    for tx in sorted(panel.transcripts, key=lambda t: (HEADER_CONTIGS.index(t.chrom), t.start)):
        c, s, tid = tx.chrom, tx.strand, tx.transcript
        lines.append(f"{c}\tbench\tgene\t{tx.start}\t{tx.end}\t.\t{s}\t.\t"
                     f"ID=gene:{tx.gene};Name={tx.gene};biotype=protein_coding")
        lines.append(f"{c}\tbench\tmRNA\t{tx.start}\t{tx.end}\t.\t{s}\t.\t"
                     f"ID=transcript:{tid};Parent=gene:{tx.gene};Name={tx.gene}-{tid};biotype=protein_coding")
        for start, end in sorted(tx.exons.tolist()):
            lines.append(f"{c}\tbench\texon\t{start}\t{end}\t.\t{s}\t.\tParent=transcript:{tid}")
        # Ensembl's CDS includes the stop codon, like the bundle's cds_start/cds_end
        for start, end, phase in cds_with_phase(tx, tx.cds_tx_first, tx.cds_tx_last):
            lines.append(f"{c}\tbench\tCDS\t{start}\t{end}\t.\t{s}\t{phase}\tID=CDS:{tid};Parent=transcript:{tid}")
        for kind, (first, last) in (("five_prime_UTR", (1, tx.cds_tx_first - 1)),
                                    ("three_prime_UTR", (tx.cds_tx_last + 1, tx.tx_length))):
            for start, end in tx_segments(tx, first, last):
                lines.append(f"{c}\tbench\t{kind}\t{start}\t{end}\t.\t{s}\t.\tParent=transcript:{tid}")
    path.write_text("\n".join(lines) + "\n")


def write_gtf(path: Path, panel: Panel) -> None:
    """GTF2.2 for `snpEff build -gtf22`: CDS without the stop codon, stop_codon separately."""
    lines = []
    for tx in sorted(panel.transcripts, key=lambda t: (HEADER_CONTIGS.index(t.chrom), t.start)):
        c, s = tx.chrom, tx.strand
        attrs = (f'gene_id "{tx.gene}"; transcript_id "{tx.transcript}"; gene_name "{tx.gene}"; '
                 f'gene_biotype "protein_coding"; transcript_biotype "protein_coding";')
        for start, end in tx_segments(tx, 1, tx.tx_length):
            lines.append(f"{c}\tbench\texon\t{start}\t{end}\t.\t{s}\t.\t{attrs}")
        for start, end, phase in cds_with_phase(tx, tx.cds_tx_first, tx.cds_tx_last - 3):
            lines.append(f"{c}\tbench\tCDS\t{start}\t{end}\t.\t{s}\t{phase}\t{attrs}")
        for kind, first in (("start_codon", tx.cds_tx_first), ("stop_codon", tx.cds_tx_last - 2)):
            for start, end in tx_segments(tx, first, first + 2):
                lines.append(f"{c}\tbench\t{kind}\t{start}\t{end}\t.\t{s}\t.\t{attrs}")
    path.write_text("\n".join(lines) + "\n")


def snpeff_cmd(config: Path, *args: str, xmx: str = "4g") -> list[str]:
    return ["java", f"-Xmx{xmx}", "-jar", SNPEFF_JAR, *args[:1], "-c", str(config), *args[1:]]


def build_snpeff(peer_dir: Path, fasta: Path, panel: Panel, build: str) -> tuple[Path, str]:
    """Custom config (the system one, with our data dir and genome) + `snpEff build -gtf22`."""
    genome = f"{build}_krasannot_panel"
    data_dir = peer_dir / "snpeff_data"
    gdir = data_dir / genome
    gdir.mkdir(parents=True, exist_ok=True)
    write_gtf(gdir / "genes.gtf", panel)
    # snpEff reads gzip (bgzip is multi-member gzip, which java's GZIPInputStream reads fine)
    target = gdir / "sequences.fa.gz"
    target.unlink(missing_ok=True)
    os.symlink(fasta.resolve(), target)
    config = peer_dir / "snpEff.config"
    system = Path(SNPEFF_SYSTEM_CONFIG).read_text().splitlines()
    kept = [line for line in system if not line.strip().startswith("data.dir")]
    config.write_text(f"data.dir = {data_dir}\n" + "\n".join(kept)
                      + f"\n{genome}.genome : krasannot panel {build} (benchmark)\n")
    run(snpeff_cmd(config, "build", "-gtf22", "-noCheckCds", "-noCheckProtein", "-noLog", genome, xmx="8g"))
    if not (gdir / "snpEffectPredictor.bin").exists():
        raise RuntimeError("snpEff build wrote no snpEffectPredictor.bin")
    return config, genome


def build_peers(workdir: Path, panel: Panel, ref: SyntheticReference, build: str) -> dict:
    """FASTA + GFF3 + snpEff db, cached in workdir/peers_<build> (they depend only on the panel)."""
    peer_dir = workdir / f"peers_{build}_s{SEED}"
    peer_dir.mkdir(parents=True, exist_ok=True)
    fasta, gff = peer_dir / "panel_chroms.fa.gz", peer_dir / "panel.gff3"
    stamp = peer_dir / "done.json"
    if stamp.exists():
        info = json.loads(stamp.read_text())
        return {"fasta": fasta, "gff": gff, "snpeff_config": Path(info["snpeff_config"]),
                "snpeff_genome": info["snpeff_genome"], "snpeff_error": info.get("snpeff_error")}
    t0 = time.perf_counter()
    write_fasta(fasta, panel, ref, build)
    write_gff3(gff, panel)
    log(f"FASTA + GFF3 written in {time.perf_counter() - t0:.1f}s "
        f"({fasta.stat().st_size / 1e6:.1f} MB bgzipped)")
    t0 = time.perf_counter()
    snpeff_error = None
    config, genome = peer_dir / "snpEff.config", f"{build}_krasannot_panel"
    try:
        config, genome = build_snpeff(peer_dir, fasta, panel, build)
        log(f"snpEff database built in {time.perf_counter() - t0:.1f}s")
    except (RuntimeError, OSError) as exc:
        snpeff_error = f"snpEff build failed: {exc}"
        log(snpeff_error)
    stamp.write_text(json.dumps({"snpeff_config": str(config), "snpeff_genome": genome,
                                 "snpeff_error": snpeff_error}))
    return {"fasta": fasta, "gff": gff, "snpeff_config": config, "snpeff_genome": genome,
            "snpeff_error": snpeff_error}


def verify_peers(peers: dict, probe_vcf: Path) -> dict[str, str | None]:
    """Each peer must annotate the panel probe (KRAS G12D etc.); returns tool -> error or None."""
    problems: dict[str, str | None] = {}
    try:
        out = run(["bcftools", "csq", "-p", "a", "-f", str(peers["fasta"]), "-g", str(peers["gff"]),
                   str(probe_vcf)]).stdout
        body = [l for l in out.splitlines() if not l.startswith("#")]
        with_bcsq = [l for l in body if "BCSQ=" in l]
        kras = [l for l in with_bcsq if "|KRAS|" in l]
        if not kras:
            raise RuntimeError(f"no BCSQ for KRAS records ({len(with_bcsq)}/{len(body)} records have BCSQ)")
        g12d = [l.split("BCSQ=")[1].split(";")[0].split("\t")[0] for l in kras if "12G>12D" in l]
        log(f"bcftools csq OK: {len(with_bcsq)}/{len(body)} probe records have BCSQ; "
            f"KRAS G12D -> {g12d[0] if g12d else 'NOT FOUND'}")
        problems["csq"] = None if g12d else "bcftools csq did not call KRAS G12D as 12G>12D"
    except RuntimeError as exc:
        problems["csq"] = f"bcftools csq does not annotate: {exc}"
    if peers.get("snpeff_error"):
        problems["snpeff"] = peers["snpeff_error"]
    else:
        try:
            out = run(snpeff_cmd(peers["snpeff_config"], "ann", "-nostats", "-noLog",
                                 peers["snpeff_genome"], str(probe_vcf))).stdout
            body = [l for l in out.splitlines() if not l.startswith("#")]
            with_ann = [l for l in body if "ANN=" in l]
            g12d = [l for l in with_ann if "|KRAS|" in l and "p.Gly12Asp" in l]
            log(f"snpEff OK: {len(with_ann)}/{len(body)} probe records have ANN; KRAS G12D -> "
                + ("p.Gly12Asp" if g12d else "NOT FOUND"))
            problems["snpeff"] = None if g12d else "snpEff did not call KRAS G12D as p.Gly12Asp"
        except RuntimeError as exc:
            problems["snpeff"] = f"snpEff does not annotate: {exc}"
    return problems


# ---------------------------------------------------------------------------------------------
# 3. timing
# ---------------------------------------------------------------------------------------------

PLAIN_PARSE = """
import gzip, sys
n = 0
with gzip.open(sys.argv[1], "rb") as handle:
    for line in handle:
        if line[:1] != b"#":
            chrom, pos, vid, ref, alt = line.split(b"\\t", 5)[:5]
            n += 1
print(n)
"""

CYVCF2_LOOP = """
import sys
from cyvcf2 import VCF
n = 0
for v in VCF(sys.argv[1]):
    chrom, pos, ref, alt = v.CHROM, v.POS, v.REF, v.ALT
    n += 1
print(n)
"""


@dataclass
class Tool:
    name: str
    cmd: str                    # shell command; output goes to /dev/null or a scratch file
    kind: str = "peer"          # peer | krasannot | reader
    note: str = ""
    error: str | None = None    # set when the tool cannot run: reported instead of a number
    times: list[float] = field(default_factory=list)
    peak_rss_kb: list[int] = field(default_factory=list)  # per run: the largest process of the command

    @property
    def median(self) -> float | None:
        return statistics.median(self.times) if self.times and not self.error else None

    @property
    def median_rss_mb(self) -> float | None:
        return statistics.median(self.peak_rss_kb) / 1024 if self.peak_rss_kb and not self.error else None


def krasannot_fingerprint() -> str:
    """git HEAD + hash of the package sources: the code being timed is a moving target."""
    import hashlib
    import krasannot
    root = Path(krasannot.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + path.read_bytes())
    head = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True).stdout.strip() or "no git"
    dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--", str(root)],
                           capture_output=True, text=True).stdout.strip()
    return f"{head}{'+dirty' if dirty else ''} src-sha256:{digest.hexdigest()[:12]}"


def krasannot_help() -> tuple[str | None, str]:
    """(help text or None, error)."""
    exe = VENV_BIN / "krasannot"
    if not exe.exists():
        return None, f"{exe} does not exist"
    res = subprocess.run([str(exe), "annotate", "--help"], capture_output=True, text=True)
    if res.returncode != 0 or "--out" not in res.stdout:
        return None, ("`krasannot annotate --help` failed: "
                      + (res.stderr.strip().splitlines() or ["(no stderr)"])[-1])
    return res.stdout, ""


def make_tools(case: str, vcf: Path, noindex_vcf: Path, one_vcf: Path | None, peers: dict, problems: dict,
               regions: str, build: str, scratch: Path, help_text: str | None) -> list[Tool]:
    """Every tool as a whole command (start-up included). `one_vcf` adds the 1-record start-up runs and snpEff."""
    fa, gff = peers["fasta"], peers["gff"]
    ka = VENV_BIN / "krasannot"
    out = f"{scratch}/ka_{case}"
    tools = [
        Tool("bgzip -dc", f"bgzip -dc {vcf} > /dev/null", "reader"),
        Tool("bcftools view -H", f"bcftools view -H {vcf} > /dev/null", "reader"),
        Tool("python gzip line split", f"{sys.executable} -c '{PLAIN_PARSE}' {vcf} > /dev/null", "reader"),
        Tool("cyvcf2 record loop", f"{sys.executable} -c '{CYVCF2_LOOP}' {vcf} > /dev/null", "reader"),
        Tool("bcftools csq (whole file)", f"bcftools csq -p a -f {fa} -g {gff} {vcf} -Ou > /dev/null",
             error=problems.get("csq")),
        Tool("bcftools csq -r panel (index)", f"bcftools csq -p a -f {fa} -g {gff} -r {regions} {vcf} -Ou > /dev/null",
             error=problems.get("csq"), note="index jump"),
        Tool("krasannot (no index)", f"{ka} annotate {noindex_vcf} --build {build} --out {out}_noindex.tsv",
             "krasannot"),
        Tool("krasannot (index)", f"{ka} annotate {vcf} --build {build} --out {out}_index.tsv",
             "krasannot", note="index jump"),
    ]
    if help_text and "--list-outside" in help_text:
        tools.append(Tool("krasannot --list-outside (no index)",
                          f"{ka} annotate {noindex_vcf} --build {build} --list-outside --out {out}_listed.tsv",
                          "krasannot", note="a row per record"))
    if one_vcf is not None:
        snpeff = " ".join(snpeff_cmd(peers["snpeff_config"], "ann", "-nostats", "-noLog", peers["snpeff_genome"]))
        tools += [
            Tool("snpEff (whole file)", f"{snpeff} {vcf} > /dev/null", error=problems.get("snpeff")),
            Tool("snpEff start-up (1 record)", f"{snpeff} {one_vcf} > /dev/null", error=problems.get("snpeff"),
                 note="fixed cost"),
            Tool("krasannot start-up (1 record)", f"{ka} annotate {one_vcf} --build {build} --out {out}_one.tsv",
                 "krasannot", note="fixed cost"),
        ]
    return tools


def wait_for_quiet(max_wait: float, threshold: float = 0.7) -> None:
    """On a shared machine, wait (up to max_wait s) for the 1-min load average to settle."""
    deadline = time.monotonic() + max_wait
    while os.getloadavg()[0] > threshold and time.monotonic() < deadline:
        log(f"load average {os.getloadavg()[0]:.2f} > {threshold}; waiting")
        time.sleep(15)


def run_measured(cmd: str, scratch: Path) -> tuple[float, int, int, str]:
    """(wall seconds, exit code, peak RSS in KB, stderr) of one shell command.

    The peak is GNU time's %M: the largest process of the command. (The rusage of a child of this
    process would not do: Linux counts a forked child's copy of this big process before its exec.)"""
    with tempfile.TemporaryDirectory(dir=scratch) as tmp:
        rss = Path(tmp) / "rss"
        t0 = time.perf_counter()
        res = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", str(rss), "sh", "-c", cmd],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        elapsed = time.perf_counter() - t0
        peak = rss.read_text().strip().splitlines()[-1] if rss.exists() else ""
        return elapsed, res.returncode, int(peak) if peak.isdigit() else 0, res.stderr


def time_rotation(tools: list[Tool], repeats: int, scratch: Path) -> None:
    """Round-robin so drift (cache, thermal, other load) hits every tool alike."""
    for stale in scratch.glob("ka_*"):  # so a failed run cannot show an older run's summary
        stale.unlink()
    for round_no in range(1, repeats + 1):
        for tool in tools:
            if tool.error:
                continue
            elapsed, returncode, peak_kb, stderr = run_measured(tool.cmd, scratch)
            if returncode != 0:
                tail = (stderr.strip().splitlines() or ["(no stderr)"])[-1]
                tool.error = f"exit {returncode}: {tail}"
                log(f"{tool.name} failed: {tool.error}")
                continue
            tool.times.append(elapsed)
            tool.peak_rss_kb.append(peak_kb)
            log(f"round {round_no}/{repeats} {tool.name}: {elapsed:.2f}s, peak RSS {peak_kb / 1024:.0f} MB")


# ---------------------------------------------------------------------------------------------
# 4. report
# ---------------------------------------------------------------------------------------------

def print_table(title: str, tools: list[Tool], n_records: int) -> None:
    """Median wall time and peak RSS per tool; peer_time / krasannot_time (>1: krasannot faster)."""
    by_name = {t.name: t for t in tools}
    ka_no = by_name.get("krasannot (no index)")
    ka_ix = by_name.get("krasannot (index)")
    base_no = ka_no.median if ka_no else None
    base_ix = ka_ix.median if ka_ix else None
    print(f"\n{title}")
    header = (f"{'tool':<38}{'median s':>9}{'peak MB':>9}{'file rec/s':>12}{'peer/ka(no idx)':>17}"
              f"{'peer/ka(idx)':>14}  runs")
    print(header)
    print("-" * len(header))
    for t in tools:
        if t.error or t.median is None:
            print(f"{t.name:<38}{'n/a':>9}  NOT MEASURED: {t.error or 'no successful run'}")
            continue
        rate = "" if "1 record" in t.name else f"{n_records / t.median:,.0f}"
        ratio = lambda base: f"{t.median / base:.2f}x" if base else "n/a"
        print(f"{t.name:<38}{t.median:>9.2f}{t.median_rss_mb:>9.0f}{rate:>12}{ratio(base_no):>17}"
              f"{ratio(base_ix):>14}  " + " ".join(f"{x:.2f}" for x in t.times))
    view = by_name.get("bcftools view -H")
    if view and view.median and base_no:
        print(f"krasannot (no index) takes {base_no / view.median:.2f}x the time of `bcftools view -H` "
              f"({base_no:.2f}s vs {view.median:.2f}s, start-up included)")


def print_krasannot_outputs(scratch: Path, stems: tuple[str, ...]) -> None:
    """What krasannot did: records read and rows by status, from its .summary.json."""
    for stem in stems:
        summary = scratch / f"{stem}.summary.json"
        if not summary.exists():
            continue
        data = json.loads(summary.read_text())
        rows = data.get("rows_by_status", {})
        indexed = [i.get("indexed_panel_regions_only") for i in data.get("inputs", [])]
        print(f"{stem}: records_read={data.get('records_read'):,} (indexed: {indexed}), rows_by_status="
              + ", ".join(f"{k}={v:,}" for k, v in rows.items()))


def measure_case(case: str, title: str, vcf: Path, noindex: Path, n_records: int, one_vcf: Path | None,
                 peers: dict, problems: dict, regions: str, build: str, scratch: Path, help_text: str | None,
                 repeats: int, wait_quiet: float, keep: set[str] | None = None) -> list[Tool]:
    """Time one input file's tools (rotated rounds) and print their table."""
    tools = [t for t in make_tools(case, vcf, noindex, one_vcf, peers, problems, regions, build, scratch, help_text)
             if keep is None or t.name in keep]
    wait_for_quiet(wait_quiet)
    code_before, load_before = krasannot_fingerprint(), os.getloadavg()[0]
    time_rotation(tools, repeats, scratch)
    code_after, load_after = krasannot_fingerprint(), os.getloadavg()[0]
    n_in_panel = count_in_regions(vcf, regions)
    print(f"\n== {title}: {vcf.name} ({vcf.stat().st_size / 1e6:.1f} MB bgzipped), {n_records:,} records, "
          f"{n_in_panel:,} in panel transcript spans; 1-min load average {load_before:.2f} before / "
          f"{load_after:.2f} after")
    if code_after.split()[-1] != code_before.split()[-1]:
        print(f"WARNING: krasannot code changed to {code_after} during the timed rounds, numbers mix versions")
    print_table(f"median of {repeats} rotated rounds; ratio = peer_time / krasannot_time (>1: krasannot faster)",
                tools, n_records)
    print_krasannot_outputs(scratch, tuple(f"ka_{case}_{kind}" for kind in ("noindex", "index", "listed")))
    return tools


# ---------------------------------------------------------------------------------------------

def panel_region_string(panel: Panel) -> str:
    return ",".join(f"{c}:{s}-{e}" for c, s, e in panel.regions())


def prepare_input(workdir: Path, n_records: int, build: str, panel: Panel, ref: SyntheticReference,
                  seed: int, style: str = "plain") -> tuple[Path, Path, dict]:
    name = "synthetic" if style == "plain" else f"synthetic_{style}"
    vcf = workdir / f"{name}_{n_records}_p{int(round(n_records * PANEL_FRACTION))}_s{seed}.vcf.gz"
    stamp = Path(str(vcf) + ".json")
    if vcf.exists() and stamp.exists():
        counts = json.loads(stamp.read_text())
        log(f"reusing {vcf}")
    else:
        t0 = time.perf_counter()
        counts = make_vcf(vcf, n_records, build, panel, ref, seed, style=style)
        stamp.write_text(json.dumps(counts))
        log(f"generated {counts['records']:,} records in {time.perf_counter() - t0:.1f}s -> {vcf}")
    noindex = index_and_copy(vcf, workdir / "noindex")
    return vcf, noindex, counts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=1_000_000, help="records of the plain and Mutect2-style files")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "krasannot_bench")
    ap.add_argument("--build", default="GRCh38", choices=sorted(CONTIG_LENGTHS))
    ap.add_argument("--cohort-records", type=int, default=2000,
                    help=f"records of the cohort file ({COHORT_SAMPLES:,} samples; 0 leaves the case out)")
    ap.add_argument("--scale", type=int, default=4,
                    help="the indexed case at a second size: the plain file's panel records + SCALE x its "
                         "background (fixed), or SCALE x everything (proportional); 0 or 1 leaves it out")
    ap.add_argument("--scale-panel", choices=("fixed", "proportional"), default="fixed")
    ap.add_argument("--cases", default="plain,mutect2,cohort,indexed",
                    help="comma-separated subset of plain, mutect2, cohort, indexed")
    ap.add_argument("--wait-quiet", type=float, default=0, metavar="SECONDS",
                    help="before timing, wait up to SECONDS for the load average to drop below 0.7")
    args = ap.parse_args(argv)
    cases = set(args.cases.split(","))

    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    scratch = workdir / "out"
    scratch.mkdir(exist_ok=True)
    build = args.build
    panel = load_bundled_panel(build)
    ref = make_synthetic_reference(panel, np.random.default_rng(SEED))
    regions = panel_region_string(panel)

    vcf, noindex, counts = prepare_input(workdir, args.records, build, panel, ref, SEED)
    one_vcf = one_record_vcf(workdir / "one_record.vcf.gz", build, panel)
    peers = build_peers(workdir, panel, ref, build)
    probe = workdir / "panel_probe.vcf.gz"
    run(f"bcftools view -r {regions} {vcf} -Oz -o {probe}")  # the panel records only, for verification
    problems = verify_peers(peers, probe)

    help_text, help_error = krasannot_help()
    if help_text is None:
        log(f"krasannot CLI not usable yet ({help_error}); timing it anyway")
    flags = sorted({w.split("=")[0].rstrip(",") for w in (help_text or "").split() if w.startswith("--")})
    print(f"\nkrasannot annotate benchmark ({build}), {time.strftime('%Y-%m-%d %H:%M')}")
    print(f"machine: {os.cpu_count()} cores (usable: {len(os.sched_getaffinity(0))}), python {sys.version.split()[0]}, "
          f"{run(['bcftools', '--version']).stdout.splitlines()[0]}, snpEff {SNPEFF_JAR}")
    print(f"krasannot code: {krasannot_fingerprint()}; seed {SEED}; times are whole commands, start-up included; "
          "peak MB is the largest process of the command (GNU time %M)")
    print(f"krasannot annotate flags: {' '.join(flags) if flags else '(CLI not available: ' + help_error + ')'}")
    for tool, problem in problems.items():
        if problem:
            print(f"peer problem: {problem}")
    common = dict(peers=peers, problems=problems, regions=regions, build=build, scratch=scratch,
                  help_text=help_text, repeats=args.repeats, wait_quiet=args.wait_quiet)

    small: dict[str, float | None] = {}
    if "plain" in cases or "indexed" in cases:
        tools = measure_case("plain", "plain lines (one sample, GT:AD:DP)", vcf, noindex, counts["records"],
                             one_vcf if "plain" in cases else None, **common,
                             keep=None if "plain" in cases else {"krasannot (index)", "bcftools csq -r panel (index)"})
        small = {t.name: t.median for t in tools}
    if "mutect2" in cases:
        m2, m2_noindex, m2_counts = prepare_input(workdir, args.records, build, panel, ref, SEED, style="mutect2")
        measure_case("mutect2", "Mutect2-style lines (tumour + normal, GT:AD:AF:DP:F1R2:F2R1:FAD:SB)", m2,
                     m2_noindex, m2_counts["records"], None, **common)
    if "cohort" in cases and args.cohort_records:
        co, co_noindex, co_counts = prepare_input(workdir, args.cohort_records, build, panel, ref, SEED,
                                                  style="cohort")
        measure_case("cohort", f"cohort VCF ({COHORT_SAMPLES:,} samples, GT:AD:DP)", co, co_noindex,
                     co_counts["records"], None, **common)
    if "indexed" in cases and args.scale > 1:
        big, big_counts = scale_vcf(args.records, args.scale, build, panel, ref, workdir, args.scale_panel)
        big_noindex = index_and_copy(big, workdir / "noindex")
        keep = {"bgzip -dc", "bcftools view -H", "bcftools csq -r panel (index)", "krasannot (no index)",
                "krasannot (index)"}
        big_tools = measure_case(f"x{args.scale}", f"indexed case, x{args.scale} file ({args.scale_panel} panel "
                                 "records)", big, big_noindex, big_counts["records"], None, **common, keep=keep)
        print(f"\nindexed case: the same tools at {counts['records']:,} and {big_counts['records']:,} records")
        for t in big_tools:
            if t.median and small.get(t.name):
                print(f"  {t.name}: {small[t.name]:.2f}s at x1 -> {t.median:.2f}s at x{args.scale} "
                      f"({t.median / small[t.name]:.2f}x the time for {args.scale}x the records)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
