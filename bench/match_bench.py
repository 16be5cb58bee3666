#!/usr/bin/env python
"""Benchmark the therapy matcher: a synthetic cohort matched against the evidence base, as the whole
`krasannot match` command and as one in-process call.

    python bench/match_bench.py [--samples 10000] [--repeats 3] [--seed 20261121]
                                [--krasannot PATH ...] [--cli-only]
                                [--kb-dir DIR] [--extra-kb CIVIC.yaml ...] [--per-sample-peer 100]
                                [--profile OUT.prof]

Steps (one function each):
  1. build_pool      every distinct call of the cohort written once as a ctDNA table (protein, cDNA,
                     copy-number, fusion and "not detected" rows), read by the real ctDNA reader,
                     back-mapped and annotated by the real annotate_calls on the GRCh38 bundle.
  2. draw_cohort     seeded samples: tumour type (LUAD / COADREAD / PAAD), specimen, prior therapy,
                     MSI, TMB, and per sample 3-15 detected panel calls drawn at approximate published
                     frequencies (for load realism, not epidemiology), plus not_detected rows for
                     plasma hotspot assays and tissue panels that report assayed wild-type genes.
  3. cohort_table    the pool's annotated rows replicated per sample (sample, VAF, FILTER, source set
                     per call), then the real classify_calls (per specimen), as annotate leaves it.
  4. time_cli        the cohort written as annotate writes it (ANNOTATED.tsv + .summary.json), then the
                     whole `krasannot match` command (a subprocess: start-up, reading, classifying,
                     matching, the samples summary, writing) per --krasannot executable, runs interleaved
                     (A B A B ...), medians reported; the outputs of every executable must be byte-identical.
     time_match      match_samples on the whole cohort in ONE call, repeated; the median is reported.
  5. time_peers      (a) a naive lookup: pandas merge of detected PASS calls on (gene, hgvsp_short)
                     against the evidence base's exact protein-change terms -- no tumour type, no
                     codon/class/exon/CN/fusion/wild-type terms, no logic; a floor for "a lookup".
                     (b) optional: match_samples called once per sample on the first N samples,
                     extrapolated to the cohort -- what a per-sample loop would cost.

Preparation (1-3) is timed and printed but is not the matcher's time.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from krasannot import columns as C
from krasannot import models as M
from krasannot.annotate.classify import classify_calls
from krasannot.annotate.pipeline import annotate_calls
from krasannot.evidence.kb import KnowledgeBase, load_kb
from krasannot.evidence.match import match_samples
from krasannot.files import write_json
from krasannot.io.ctdna import read_ctdna
from krasannot.io.tables import write_annotated_tsv
from krasannot.reference.bundle import Panel, load_bundled_panel

SEED = 20261121
PASS_SHARE = 0.96                     # detected calls that PASS (the rest are filtered, and not matched)
PLASMA_SHARE = 0.3
TUMOUR_MIX = {"LUAD": 0.45, "COADREAD": 0.35, "PAAD": 0.20}

# gene, alteration text (ctDNA table words), type; one row each: the pool of distinct calls
DRIVERS = {
    "KRAS": ["G12C", "G12D", "G12V", "G12A", "G12R", "G12S", "G13D", "G13C", "Q61H", "Q61L", "Q61K", "A146T",
             "A59T", "K117N"],
    "NRAS": ["Q61K", "Q61R", "G12D", "G13R"],
    "BRAF": ["V600E", "G469A", "D594G"],
    "EGFR": ["L858R", "T790M", "C797S", "S492R", "G719S", "p.E746_A750del", "p.A767_V769dup"],
    "ERBB2": ["p.Y772_A775dup", "S310F"],
    "MET": ["c.3028+1G>A"],
    "PIK3CA": ["E545K", "H1047R", "E542K"],
    "TP53": ["R175H", "R273H", "R248W", "R273C", "R248Q", "G245S", "R213*", "R306*", "Y220C"],
    "STK11": ["Q37*", "F354L", "D194Y", "c.465-1G>T"],
    "KEAP1": ["G333C", "R470C", "G480W"],
    "APC": ["R1450*", "R876*", "Q1367*", "c.3927_3931del"],
    "SMAD4": ["R361H", "R361C"],
    "CDKN2A": ["R80*", "H83Y"],
    "NF1": ["R1362*", "R2450*"],
    "PTEN": ["R130*", "R233*"],
    "MAP2K1": ["K57N", "Q56P"],
    "FGFR3": ["S249C"],
    "RB1": ["R556*"],
    "RAF1": ["S257L"],
    "RET": ["M918T"],
    "ALK": ["F1174L"],
    "HRAS": ["G12V"],
    "PTPN11": ["E76K"],
    "ATM": ["R337C"],
}
RESISTANCE_ALLELES = {"KRAS": ["Y96D", "R68S", "H95D"]}
GERMLINE = {"BRCA2": ["c.5946del"], "BRCA1": ["c.68_69del"]}
AMPLIFIED = ["MET", "ERBB2", "KRAS", "EGFR"]
DEEP_DELETED = ["CDKN2A", "PTEN", "SMAD4"]
FUSIONS = ["EML4-ALK", "KIF5B-RET", "CD74-ROS1", "ETV6-NTRK3", "TPM3-NTRK1", "CCDC6-RET", "FGFR3-TACC3"]
NOT_DETECTED = {  # pool key -> (gene column, alteration)
    "nd:ras_extended": ("KRAS/NRAS", "G12/G13/A59/Q61/K117/A146 not detected"),
    "nd:ras_hotspots": ("KRAS/NRAS", "G12/G13/Q61 not detected"),
    "nd:braf_v600": ("BRAF", "V600 not detected"),
    "nd:KRAS": ("KRAS", "not detected"), "nd:NRAS": ("NRAS", "not detected"),
    "nd:BRAF": ("BRAF", "not detected"), "nd:EGFR": ("EGFR", "not detected"),
}
PASSENGER_GENES = ["ATM", "BRCA1", "BRCA2", "NF1", "RB1", "APC", "PTPN11", "SMAD4", "ALK", "RET", "MET",
                   "ERBB2", "FGFR3", "PIK3CA", "EGFR", "KEAP1", "TP53", "BRAF", "RAF1", "MAP2K1"]
N_PASSENGERS = 120
AMINO_ACIDS = "ACDEFGHIKLMNPQRSTVWY"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# 1. the pool of distinct calls, annotated once
# ---------------------------------------------------------------------------------------------

def pool_spec(panel: Panel, rng: np.random.Generator) -> pd.DataFrame:
    """One row per distinct call: key, gene, alteration, type, origin (ctDNA-table words)."""
    somatic = [(g, a) for table in (DRIVERS, RESISTANCE_ALLELES) for g, alts in table.items() for a in alts]
    rows = [(f"{g}:{a}", g, a, "", "somatic") for g, a in somatic]
    rows += [(f"{g}:{a}", g, a, "", "germline") for g, alts in GERMLINE.items() for a in alts]
    rows += [(f"amp:{g}", g, f"{g} amplification", "CNA", "somatic") for g in AMPLIFIED]
    rows += [(f"del:{g}", g, f"{g} homozygous deletion", "CNA", "somatic") for g in DEEP_DELETED]
    rows += [(f"fus:{f}", f.split("-")[1], f, "fusion", "somatic") for f in FUSIONS]
    rows += [(key, gene, words, "not detected", "") for key, (gene, words) in NOT_DETECTED.items()]
    proteins = {tx.gene: tx.protein for tx in panel.transcripts}
    for i in range(N_PASSENGERS):  # variants of unknown significance and synonymous changes, not hotspots
        gene = PASSENGER_GENES[i % len(PASSENGER_GENES)]
        position = int(rng.integers(150, len(proteins[gene]) - 1))
        ref = proteins[gene][position - 1]
        synonymous = i % 4 == 0 and ref not in "MW"   # Met and Trp have one codon: no synonymous change
        alt = "=" if synonymous else rng.choice([a for a in AMINO_ACIDS if a != ref])
        rows.append((f"vus:{gene}:{ref}{position}{alt}", gene, f"{ref}{position}{alt}", "", "somatic"))
    return pd.DataFrame(rows, columns=["key", "gene", "alteration", "type", "origin"]).drop_duplicates("key")


def build_pool(panel: Panel, workdir: Path, rng: np.random.Generator) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """The pool written as a ctDNA table (one pseudo-sample per key), read and annotated for real.

    Returns the annotated pool and, per key, its row numbers (a "not detected" line gives several rows).
    """
    spec = pool_spec(panel, rng)
    spec = spec.assign(sample=[f"POOL{i:04d}" for i in range(len(spec))], vaf="")
    path = workdir / "pool.ctdna.tsv"
    spec[["sample", "gene", "alteration", "type", "vaf", "origin"]].to_csv(path, sep="\t", index=False)
    calls = read_ctdna(str(path), panel).calls
    annotated = annotate_calls(calls, panel).reset_index(drop=True)
    key_of = dict(zip(spec["sample"], spec["key"]))
    rows = {key_of[s]: idx.to_numpy() for s, idx in annotated.groupby(C.SAMPLE).groups.items()}
    return annotated, rows


# ---------------------------------------------------------------------------------------------
# 2. the cohort: which pool calls each sample carries
# ---------------------------------------------------------------------------------------------

def _one_of(rng, alleles: dict[str, float]) -> str:
    keys = list(alleles)
    weights = np.array(list(alleles.values()), dtype=float)
    return keys[rng.choice(len(keys), p=weights / weights.sum())]


KRAS_ALLELES = {  # relative allele frequencies among KRAS-mutant tumours, by type (approximate)
    "LUAD": {"G12C": 40, "G12V": 19, "G12D": 15, "G12A": 8, "G13C": 4, "Q61H": 4, "G12S": 3, "G13D": 3,
             "Q61L": 2, "G12R": 1, "A146T": 1},
    "COADREAD": {"G12D": 33, "G12V": 22, "G13D": 18, "G12C": 7, "A146T": 6, "G12S": 5, "G12A": 5, "Q61H": 2,
                 "A59T": 1, "K117N": 1},
    "PAAD": {"G12D": 42, "G12V": 32, "G12R": 16, "Q61H": 5, "G12C": 2, "Q61K": 1},
}
KRAS_RATE = {"LUAD": 0.30, "COADREAD": 0.43, "PAAD": 0.92}
# (probability, pool keys to choose from) per tumour type, beside KRAS
OTHER_DRIVERS = {
    "LUAD": [(0.50, ["TP53:R175H", "TP53:R273H", "TP53:R248W", "TP53:Y220C", "TP53:R213*", "TP53:G245S"]),
             (0.17, ["STK11:Q37*", "STK11:F354L", "STK11:D194Y", "STK11:c.465-1G>T"]),
             (0.17, ["KEAP1:G333C", "KEAP1:R470C", "KEAP1:G480W"]),
             (0.15, ["del:CDKN2A", "CDKN2A:R80*"]),
             (0.10, ["NF1:R1362*", "NF1:R2450*"]),
             (0.04, ["PIK3CA:E545K", "PIK3CA:H1047R"]),
             (0.03, ["MET:c.3028+1G>A"]), (0.02, ["amp:MET"]), (0.02, ["BRAF:V600E", "BRAF:G469A"]),
             (0.02, ["ERBB2:p.Y772_A775dup", "ERBB2:S310F"]), (0.01, ["RET:M918T"])],
    "COADREAD": [(0.75, ["APC:R1450*", "APC:R876*", "APC:Q1367*", "APC:c.3927_3931del"]),
                 (0.60, ["TP53:R175H", "TP53:R273H", "TP53:R248W", "TP53:R273C", "TP53:R248Q", "TP53:R306*"]),
                 (0.18, ["PIK3CA:E545K", "PIK3CA:H1047R", "PIK3CA:E542K"]),
                 (0.12, ["SMAD4:R361H", "SMAD4:R361C", "del:SMAD4"]),
                 (0.04, ["NRAS:Q61K", "NRAS:Q61R", "NRAS:G12D", "NRAS:G13R"]),
                 (0.03, ["amp:ERBB2"]), (0.02, ["FGFR3:S249C"]), (0.01, ["fus:ETV6-NTRK3", "fus:TPM3-NTRK1"])],
    "PAAD": [(0.70, ["TP53:R175H", "TP53:R273H", "TP53:R248W", "TP53:R213*", "TP53:R248Q"]),
             (0.30, ["del:CDKN2A", "CDKN2A:R80*", "CDKN2A:H83Y"]),
             (0.20, ["SMAD4:R361H", "del:SMAD4"]),
             (0.04, ["BRCA2:c.5946del", "BRCA1:c.68_69del"]), (0.003, ["fus:ETV6-NTRK3"])],
}
# LUAD drivers mutually exclusive with KRAS
LUAD_EXCLUSIVE = {"EGFR:L858R": 0.45, "EGFR:p.E746_A750del": 0.45, "EGFR:p.A767_V769dup": 0.10}
LUAD_FUSIONS = {"fus:EML4-ALK": 0.04, "fus:CD74-ROS1": 0.01, "fus:KIF5B-RET": 0.008, "fus:CCDC6-RET": 0.002}
G12CI_ACQUIRED = ["KRAS:Y96D", "KRAS:R68S", "KRAS:H95D", "KRAS:G12V", "KRAS:G12D", "amp:MET", "NRAS:Q61K",
                  "BRAF:V600E", "MAP2K1:K57N", "fus:EML4-ALK", "fus:FGFR3-TACC3", "NF1:R1362*", "PTEN:R130*",
                  "amp:KRAS"]
ANTI_EGFR_ACQUIRED = ["EGFR:S492R", "amp:MET", "amp:ERBB2", "KRAS:G12D", "NRAS:Q61K", "KRAS:Q61H"]


def draw_sample(tumour: str, rng: np.random.Generator) -> tuple[list[str], str, int]:
    """Detected driver keys of one sample, its prior therapy, and how many calls its panel reports."""
    keys, prior = [], ""
    kras = rng.random() < KRAS_RATE[tumour]
    if kras:
        allele = _one_of(rng, KRAS_ALLELES[tumour])
        keys.append(f"KRAS:{allele}")
        if allele == "G12C" and rng.random() < 0.3:
            prior = "sotorasib" if rng.random() < 0.6 else "adagrasib"
            keys += list(rng.choice(G12CI_ACQUIRED, size=int(rng.integers(0, 3)), replace=False))
    elif tumour == "LUAD" and rng.random() < 0.15:
        keys.append(_one_of(rng, LUAD_EXCLUSIVE))
        if rng.random() < 0.2:
            keys.append("EGFR:T790M")
            prior = "erlotinib"
    elif tumour == "LUAD" and rng.random() < 0.06:
        keys.append(_one_of(rng, LUAD_FUSIONS))
    if tumour == "COADREAD" and not kras:
        if rng.random() < 0.12:
            keys.append("BRAF:V600E")
        elif rng.random() < 0.25:
            prior = "cetuximab" if rng.random() < 0.5 else "panitumumab"
            if rng.random() < 0.3:
                keys += list(rng.choice(ANTI_EGFR_ACQUIRED, size=int(rng.integers(1, 3)), replace=False))
    for probability, choices in OTHER_DRIVERS[tumour]:
        if rng.random() < probability:
            keys.append(str(rng.choice(choices)))
    n_calls = int(rng.integers(3, 16))  # a panel reports 3-15 calls: fill with VUS / synonymous changes
    return list(dict.fromkeys(keys))[:15], prior, n_calls


def draw_cohort(n: int, passenger_keys: list[str], rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The samples table (matcher metadata) and the picks table (sample, pool key, vaf, filter)."""
    tumours = rng.choice(list(TUMOUR_MIX), size=n, p=list(TUMOUR_MIX.values()))
    plasma = rng.random(n) < PLASMA_SHARE
    samples, picks = [], []
    for i, (tumour, is_plasma) in enumerate(zip(tumours, plasma)):
        name = f"S{i:05d}"
        keys, prior, n_calls = draw_sample(str(tumour), rng)
        keys += list(rng.choice(passenger_keys, size=max(0, n_calls - len(keys)), replace=False))
        for key in keys:
            vaf = rng.lognormal(np.log(0.01), 1.2) if is_plasma else rng.uniform(0.05, 0.6)
            germline = key.startswith(("BRCA2:c.", "BRCA1:c."))
            picks.append((name, key, 0.5 if germline else min(vaf, 0.9),
                          "PASS" if rng.random() < PASS_SHARE else "weak_evidence"))
        # assayed wild-type: plasma hotspot panels say so for RAS/BRAF; a quarter of tissue panels list genes
        if is_plasma:
            picks += [(name, "nd:ras_extended" if tumour == "COADREAD" else "nd:ras_hotspots", np.nan, "PASS"),
                      (name, "nd:braf_v600", np.nan, "PASS")]
        elif rng.random() < 0.25:
            picks += [(name, f"nd:{g}", np.nan, "PASS") for g in ("KRAS", "NRAS", "BRAF", "EGFR")]
        msi = tumour == "COADREAD" and rng.random() < 0.04
        samples.append((name, str(tumour), "plasma" if is_plasma else "tissue", prior, msi,
                        float(rng.gamma(2.0, 4.0) * (6 if msi else 1))))
    sample_table = pd.DataFrame(samples, columns=[C.SAMPLE, C.TUMOR_TYPE, "specimen", "prior_therapies", "msi_high",
                                                  "tmb"])
    return sample_table, pd.DataFrame(picks, columns=[C.SAMPLE, "key", C.VAF, C.FILTER])


# ---------------------------------------------------------------------------------------------
# 3. the cohort's annotated table
# ---------------------------------------------------------------------------------------------

def cohort_table(pool: pd.DataFrame, pool_rows: dict[str, np.ndarray], picks: pd.DataFrame,
                 samples: pd.DataFrame) -> pd.DataFrame:
    """Pool rows replicated per pick (not_detected rows keep no VAF), classified per specimen."""
    counts = np.array([len(pool_rows[k]) for k in picks["key"]])
    row_index = np.concatenate([pool_rows[k] for k in picks["key"]])
    table = pool.iloc[row_index].reset_index(drop=True)
    pick = picks.loc[picks.index.repeat(counts)].reset_index(drop=True)
    specimen = pick[C.SAMPLE].map(dict(zip(samples[C.SAMPLE], samples["specimen"])))
    not_detected = (table[C.DETECTION] == M.DETECTION_NOT_DETECTED).to_numpy()
    table[C.SAMPLE] = pick[C.SAMPLE].to_numpy()
    table[C.VAF] = np.where(not_detected, np.nan, pick[C.VAF].to_numpy(dtype=float))
    table[C.FILTER] = pick[C.FILTER].to_numpy()
    table[C.SOURCE] = np.where(specimen == "plasma", "ctdna", "vcf")  # where such a call would come from
    parts = [classify_calls(table[specimen.to_numpy() == s], specimen=s) for s in ("tissue", "plasma")]
    return pd.concat(parts).sort_index(kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# 4-5. timing
# ---------------------------------------------------------------------------------------------

def timed(function, repeats: int) -> tuple[list[float], object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return times, result


def write_cohort(annotated: pd.DataFrame, samples: pd.DataFrame, workdir: Path) -> Path:
    """The cohort as `krasannot annotate` leaves it: ANNOTATED.tsv and its summary naming every sample."""
    path = workdir / "cohort.annotated.tsv"
    write_annotated_tsv(annotated, path)
    write_json({"samples": list(samples[C.SAMPLE])}, workdir / "cohort.annotated.summary.json")
    return path


MATCH_ARGS = ["--tumor-type", "LUAD", "--specimen", "tissue", "--prior-therapy", "sotorasib"]
MATCH_OUTPUTS = (".tsv", ".samples.tsv")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_cli(executables: list[str], annotated_path: Path, workdir: Path,
             repeats: int) -> dict[str, tuple[list[float], list[float]]]:
    """Wall and CPU (user + sys) seconds of the whole `krasannot match` command per executable, runs
    interleaved (CPU time is the steadier number on a loaded machine); stops (exit 1) if a run fails or
    two executables write different bytes."""
    times: dict[str, tuple[list[float], list[float]]] = {exe: ([], []) for exe in executables}
    outputs: dict[str, dict[str, bytes]] = {}
    for _ in range(repeats):
        for i, exe in enumerate(executables):
            out = workdir / f"matches.{i}.tsv"
            start, cpu = time.perf_counter(), _children_cpu()
            done = subprocess.run([exe, "match", str(annotated_path), "--out", str(out), *MATCH_ARGS],
                                  capture_output=True, text=True)
            times[exe][0].append(time.perf_counter() - start)
            times[exe][1].append(_children_cpu() - cpu)
            if done.returncode:
                sys.exit(f"{exe} match failed ({done.returncode}): {done.stderr.strip()}")
            outputs[exe] = {suffix: out.with_name(f"matches.{i}{suffix}").read_bytes() for suffix in MATCH_OUTPUTS}
    first = outputs[executables[0]]
    for exe in executables[1:]:
        differ = [s for s in MATCH_OUTPUTS if outputs[exe][s] != first[s]]
        if differ:
            sys.exit(f"outputs differ between {executables[0]} and {exe}: matches{', matches'.join(differ)}")
    return times


def exact_terms(kb: KnowledgeBase) -> pd.DataFrame:
    """(gene, protein, evidence_id) of every exact protein-change term: the naive peer's lookup table."""
    return pd.DataFrame([(g, t.protein, e.id) for e in kb.entries for t in e.terms() if t.kind == "exact"
                         for g in t.genes], columns=[C.GENE, C.HGVSP_SHORT, C.EVIDENCE_ID])


def naive_lookup(annotated: pd.DataFrame, terms: pd.DataFrame) -> pd.DataFrame:
    detected = annotated[(annotated[C.DETECTION] == M.DETECTION_DETECTED) & (annotated[C.FILTER] == "PASS")]
    return detected[[C.SAMPLE, C.GENE, C.HGVSP_SHORT]].merge(terms, on=[C.GENE, C.HGVSP_SHORT])


def per_sample_loop(annotated: pd.DataFrame, samples: pd.DataFrame, kb: KnowledgeBase, n: int):
    """match_samples once per sample over the first n samples (groups prepared outside the timing)."""
    groups = dict(tuple(annotated.groupby(C.SAMPLE, sort=False)))
    chosen = [(groups[s], samples.iloc[[i]]) for i, s in enumerate(samples[C.SAMPLE][:n]) if s in groups]

    def run():
        return sum(len(match_samples(rows, meta, kb)) for rows, meta in chosen)
    return run


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--kb-dir", help="evidence directory (default: the shipped resources/evidence)")
    parser.add_argument("--extra-kb", nargs="*", default=[], help="extra evidence files, e.g. a CIViC import")
    parser.add_argument("--per-sample-peer", type=int, default=100,
                        help="also time match_samples one sample at a time on this many samples (0: skip)")
    parser.add_argument("--profile", help="write a cProfile of one matcher call here")
    parser.add_argument("--krasannot", nargs="+", metavar="PATH",
                        default=[shutil.which("krasannot", path=os.path.dirname(sys.executable)) or "krasannot"],
                        help="krasannot executables to time `match` with, e.g. a base checkout's and this one's "
                             "(default: the one beside this Python)")
    parser.add_argument("--cli-only", action="store_true", help="time only the command, not the in-process peers")
    parser.add_argument("--keep", metavar="DIR", help="write the cohort table and the commands' outputs here, and keep them")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    kb = load_kb(args.kb_dir, extra_files=args.extra_kb)
    panel = load_bundled_panel("GRCh38")
    log(f"evidence base {kb.version}: {len(kb.entries)} entries, "
        f"{len({t for e in kb.entries for t in e.terms()})} distinct terms ({len(kb.files)} files)")

    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="match_bench.") as workdir:
        pool, pool_rows = build_pool(panel, Path(workdir), rng)
    pool_seconds = time.perf_counter() - start
    passengers = [k for k in pool_rows if k.startswith("vus:")]
    start = time.perf_counter()
    samples, picks = draw_cohort(args.samples, passengers, rng)
    annotated = cohort_table(pool, pool_rows, picks, samples)
    cohort_seconds = time.perf_counter() - start
    detected = annotated[annotated[C.DETECTION] == M.DETECTION_DETECTED]
    per_sample = detected.groupby(C.SAMPLE).size()
    log(f"pool: {len(pool_rows)} distinct calls, {len(pool)} annotated rows ({pool_seconds:.1f} s); cohort: "
        f"{len(samples)} samples, {len(annotated)} rows, detected calls per sample {per_sample.min()}-"
        f"{per_sample.max()} (mean {per_sample.mean():.1f}), {int((~annotated.index.isin(detected.index)).sum())}"
        f" not_detected rows ({cohort_seconds:.1f} s to replicate and classify)")

    with tempfile.TemporaryDirectory(prefix="match_bench.") as workdir:
        workdir = Path(args.keep or workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        annotated_path = write_cohort(annotated, samples, workdir)
        cli_times = time_cli(args.krasannot, annotated_path, workdir, args.repeats)
    print(f"krasannot match_bench: {len(samples)} samples, {len(annotated)} annotated rows, "
          f"{len(kb.entries)} evidence entries; {os.cpu_count()} CPUs, load average "
          f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}, Python {platform.python_version()}, "
          f"pandas {pd.__version__}, numpy {np.__version__}")
    for exe, (walls, cpus) in cli_times.items():
        median = statistics.median(walls)
        verdict = "under" if median <= 3 else "OVER"
        print(f"`krasannot match` (whole command, {' '.join(MATCH_ARGS)}) with {exe}: median {median:.2f} s wall "
              f"of {len(walls)} ({', '.join(f'{t:.2f}' for t in walls)}), median {statistics.median(cpus):.2f} s "
              f"CPU (user + sys); target 3 s -> {verdict}")
    if len(cli_times) > 1:
        print("outputs (MATCHES.tsv, MATCHES.samples.tsv) byte-identical across the executables")
    if args.cli_only:
        return 0

    if args.profile:
        cProfile.runctx("match_samples(annotated, samples, kb)", globals(), locals(), args.profile)
        log(f"profile written to {args.profile}")
    match_times, matches = timed(lambda: match_samples(annotated, samples, kb), args.repeats)
    terms = exact_terms(kb)
    naive_times, naive = timed(lambda: naive_lookup(annotated, terms), args.repeats)
    match_s, naive_s = statistics.median(match_times), statistics.median(naive_times)

    print(f"match_samples (one call, whole cohort): median {match_s:.2f} s of {args.repeats} "
          f"({', '.join(f'{t:.2f}' for t in match_times)}); {len(matches)} matches = "
          f"{len(matches) / match_s:,.0f} matches/s, {len(samples) / match_s:,.0f} samples/s, "
          f"{len(annotated) / match_s:,.0f} rows/s")
    by_source = matches[C.EVIDENCE_SOURCE].value_counts().to_dict()
    by_assessment = matches[C.ASSESSMENT].value_counts().to_dict()
    print(f"  matches by direction {matches[C.DIRECTION].value_counts().to_dict()}, by assessment {by_assessment}, "
          f"by source {by_source}; samples with a match {matches[C.SAMPLE].nunique()}, "
          f"conflict rows {int((matches[C.CONFLICT] != '').sum())}")
    print(f"peer, naive lookup (pandas merge of detected PASS calls on gene + hgvsp_short against the "
          f"{len(terms)} exact protein-change terms; no tumour type, classes, CN, fusions, wild-type or logic): "
          f"median {naive_s:.3f} s, {len(naive)} hits; match_samples / naive = {match_s / naive_s:.0f}x")
    if args.per_sample_peer:
        n = min(args.per_sample_peer, len(samples))
        loop_times, loop_matches = timed(per_sample_loop(annotated, samples, kb, n), 1)
        estimate = loop_times[0] * len(samples) / n
        print(f"peer, per-sample loop (match_samples once per sample, {n} samples timed, extrapolated): "
              f"{loop_times[0]:.2f} s for {n} -> ~{estimate:.0f} s for {len(samples)}; "
              f"per-sample loop / one call = {estimate / match_s:.0f}x")
    verdict = "under" if match_s < 10 else "OVER"
    print(f"target: under 10 s for 10,000 samples on 2 cores -> {match_s:.2f} s, {verdict} target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
