"""Hotspot genotyping straight from a BAM or CRAM (pysam only): codon alleles, CIGAR indels, a test.

Where things are (this package)
-------------------------------
* ``hotspots.py``: the hotspot list placed on the genome; fetch windows.
* ``alignments.py``: opening the BAM/CRAM, build and sample.
* ``reads.py``: one window's filtered reads as arrays (through pysam, or from a big BAM's bytes); mate
  collapsing; fragment depth.
* ``bamfile.py``: a BAM's records straight from its bytes (BGZF blocks, the .bai), fields as numpy arrays.
* ``observations.py``: codon alleles and indels per hotspot; every window read once (two processes for big BAMs).
* ``reference_bases.py``: reference bases (FASTA or bundle).
* ``background.py``: the background error counts and the error model fit.
* ``detection.py``: the beta-binomial test, limit of detection, strand bias.
* ``outputs.py``: the calls and coverage tables, engine annotation, CALLS.tsv.
* ``caller.py`` (here): the whole run, ``genotype_alignments``, and the ``krasannot genotype`` command.

What is counted
---------------
* Reads that are unmapped, secondary, supplementary, QC-failed or duplicates are skipped, and
  so are reads below ``min_mapq``. A base below ``min_baseq`` is not looked at.
* The unit is the **fragment** (read pair): two overlapping mates are counted once. Mates that
  read the same codon allele count once; mates that disagree at a codon are dropped there (one
  of them is an error and we cannot tell which). For an indel a fragment supports it when either
  mate shows it, and covers it when either mate spans it.
* **Codon alleles are read from the reads**: the three bases of a hotspot codon are taken
  together from each read (all three aligned, each at ``min_baseq``), so ``GGT>TTT`` at KRAS
  codon 12 is one ``p.G12F`` allele, never ``p.G12C`` plus ``p.G12V``. Tested at each codon:
  every single-base change that alters the amino acid, plus every other non-synonymous codon
  the reads carry.
* **Indels** in the EGFR exon 19 / exon 20 and ERBB2 exon 20 regions come from the CIGAR
  (adjacent I/D operations are one delins), left-aligned on the reference, one allele each.
* **Strand**: a fragment's orientation is that of its first read (a read 2 on the reverse strand
  is a forward fragment); ``alt_forward``/``alt_reverse`` count alt fragments per orientation.

The decision
------------
* **Background error model**, from the same BAM: every aligned base at ``min_baseq`` at a
  non-hotspot position whose reference base is known (the panel's coding bases, or the whole
  window with ``--reference``), in the reads fetched for the hotspots (at most
  ``BACKGROUND_READS_PER_WINDOW`` reads per window, evenly spaced); indel regions are left out of
  the indel classes. Positions where one alt reaches ``BACKGROUND_MAX_VAF`` (1%, with at least 2
  reads) are left out as real variants. Per base change (12 classes, forward strand, e.g. ``C>T``)
  and for deletions and insertions (per position) we fit a beta-binomial: mean
  ``mu = (errors + prior_rate * 10,000) / (bases + 10,000)``, a prior worth 10,000 bases at a
  pessimistic rate (1e-3 per change class, 1e-4 per position for indels) that the data outweigh
  in any real panel, and overdispersion
  ``rho`` by the method of moments over positions (0 = binomial; capped at ``MAX_RHO``). A codon
  allele with several base changes uses its least frequent change's rate (conservative: a real
  MNV error is rarer still).
* **Test**: one-sided beta-binomial ``p = P(X >= alt fragments | depth, mu, rho)``. Family-wise
  false-positive rate ``FALSE_POSITIVE_RATE`` = 5% per sample, Bonferroni over all alleles tested:
  ``detected`` when ``p <= 0.05 / n_tests`` and at least ``MIN_ALT_FRAGMENTS`` (3) fragments carry
  the allele.
* ``not_assessed`` when fewer than ``MIN_DEPTH[specimen]`` fragments cover the codon (tissue 60,
  plasma 300: with 3 alt fragments needed, a limit of detection of about 10% and 2%).
* ``not_detected`` otherwise, with ``lod``: the smallest VAF at which, at this depth, at least the
  critical number of alt fragments (the smallest count the test would call) is seen with 95%
  probability.
* ``filter`` is ``strand_bias`` for a detected allele whose fragments all share one orientation
  when that has probability below 0.001 given the orientations of the depth, else ``PASS``.
"""

from __future__ import annotations

import pandas as pd

from ..errors import UsageError
from ..io.genotype_calls import ALT_FORWARD, ALT_REVERSE, HOTSPOT, LOD, P_VALUE
from ..reference.bundle import Panel
from .alignments import Alignments, open_alignments
from .background import PRIOR_BASES, fit_error_model
from .detection import (MIN_DEPTH, _log_factorials, check_reference_agreement, limit_of_detection,
                        log_tail, test_alleles, with_region_rows)
from .hotspots import CODON_KIND, REGION_KIND, fetch_windows, load_hotspots
from .observations import observe_windows
from .outputs import (COVERAGE_COLUMNS, annotate_genotype_calls, calls_table, coverage_path_for,
                      coverage_table, write_genotype_outputs)
from .reference_bases import reference_bases_for

# what cli.py, the tests and the bench import from here (the package's public face)
__all__ = ["ALT_FORWARD", "ALT_REVERSE", "CODON_KIND", "COVERAGE_COLUMNS", "HOTSPOT", "LOD", "MIN_DEPTH", "P_VALUE",
           "PRIOR_BASES", "REGION_KIND", "Alignments", "_log_factorials", "annotate_genotype_calls",
           "coverage_path_for", "fetch_windows", "fit_error_model", "genotype_alignments", "limit_of_detection",
           "load_hotspots", "log_tail", "open_alignments", "write_genotype_outputs"]


def genotype_alignments(path: str, panel: Panel, *, reference: str | None = None, sample: str | None = None,
                        specimen: str = "tissue", min_mapq: int = 20, min_baseq: int = 20,
                        hotspots: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Genotype the hotspots of `panel`'s build in a BAM/CRAM.

    Returns
    -------
    calls : calls-table rows (columns.CALLS_COLUMNS + detection, call_type, alteration, alt_forward,
        alt_reverse, p_value, lod, hotspot, and gene/strand/transcript/ref_codon of the hotspot),
        one per hotspot allele tested, source "bam".
    coverage : one row per hotspot (COVERAGE_COLUMNS).
    """
    if specimen not in MIN_DEPTH:
        raise UsageError(f"unknown specimen {specimen!r}", hint="use tissue or plasma")
    alignments = open_alignments(path, panel.build, reference, sample)
    try:
        hotspots = load_hotspots(panel) if hotspots is None else hotspots
        reference_bases = reference_bases_for(panel, reference, hotspots)
        observed, background, coverage = observe_windows(alignments, hotspots, reference_bases, min_mapq, min_baseq)
    finally:
        alignments.close()
    model = fit_error_model(background) if len(background) else fit_error_model(
        pd.DataFrame({"change": [], "alt": [], "depth": []}))
    tested = test_alleles(observed, model, specimen) if len(observed) else observed
    tested = with_region_rows(tested, hotspots, coverage, model, specimen)
    check_reference_agreement(tested, hotspots, alignments, panel)
    calls = calls_table(tested, hotspots, alignments)
    coverage = coverage_table(coverage, calls, hotspots, alignments, specimen)
    calls.attrs.update(error_model=model.to_dict("records"), notes=list(alignments.notes),
                       build_reason=alignments.build_reason, sample=alignments.sample)
    return calls, coverage
