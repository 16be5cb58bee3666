"""The decision per allele: beta-binomial test, limit of detection, strand bias, region summary rows."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from .. import columns as C
from .. import models as M
from ..errors import BuildMismatchError
from ..files import usable_cores
from ..io.genotype_calls import ALT_FORWARD, ALT_REVERSE, LOD, P_VALUE
from ..reference.bundle import Panel
from .alignments import Alignments
from .hotspots import REGION_KIND

MIN_DEPTH = {"tissue": 60, "plasma": 300}
MIN_ALT_FRAGMENTS = 3
FALSE_POSITIVE_RATE = 0.05
LOD_POWER = 0.95
STRAND_BIAS_P = 1e-3


def _log_factorials(n: int) -> np.ndarray:
    return np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, n + 1, dtype=float)))])


def log_tail(n: int, mu: float, rho: float, log_fact: np.ndarray) -> np.ndarray:
    """log P(X >= k) for k = 0..n under the beta-binomial (binomial when rho is 0)."""
    k = np.arange(n + 1)
    log_choose = log_fact[n] - log_fact[k] - log_fact[n - k]
    if rho <= 0:
        log_pmf = log_choose + k * math.log(mu) + (n - k) * math.log1p(-mu)
    else:
        a, b = mu * (1 - rho) / rho, (1 - mu) * (1 - rho) / rho

        def rising(x: float) -> np.ndarray:  # log of x (x+1) ... (x+m-1), m = 0..n
            return np.concatenate([[0.0], np.cumsum(np.log(x + np.arange(n)))])
        log_pmf = log_choose + rising(a)[k] + rising(b)[n - k] - rising(a + b)[n]
    return np.logaddexp.accumulate(log_pmf[::-1])[::-1]


def _in_threads(work, items: list) -> list:
    """[work(item) for item in items], every other item on a second thread where two cores are free
    (numpy lets go of the GIL in its loops, and the deep tails are long loops)."""
    if len(items) < 8 or usable_cores() < 2:
        return [work(item) for item in items]
    with ThreadPoolExecutor(2) as pool:
        even, odd = pool.map(lambda part: [work(item) for item in part], (items[0::2], items[1::2]))
    done = [None] * len(items)
    done[0::2], done[1::2] = even, odd
    return done


def limit_of_detection(n: int, k_crit: int, log_fact: np.ndarray, power: float = LOD_POWER) -> float:
    """Smallest VAF at which P(Binomial(n, vaf) >= k_crit) >= power (bisection)."""
    if k_crit > n:
        return float("nan")
    j = np.arange(k_crit)
    log_choose = log_fact[n] - log_fact[j] - log_fact[n - j]
    lo, hi = 0.0, 1.0
    for _ in range(50):
        f = (lo + hi) / 2
        below = np.exp(log_choose + j * math.log(f) + (n - j) * math.log1p(-f)).sum() if f < 1 else 0.0
        lo, hi = (f, hi) if 1 - below < power else (lo, f)
    return hi


def test_alleles(observed: pd.DataFrame, model: pd.DataFrame, specimen: str) -> pd.DataFrame:
    """Add p_value, lod, detection and filter to the tested alleles (one beta-binomial test each)."""
    out = observed.copy()
    n_tests = max(len(out), 1)
    alpha = FALSE_POSITIVE_RATE / n_tests
    by_class = model.set_index("change")
    # an allele with several base changes uses its least frequent change (conservative)
    classes = out["changes"].fillna("").str.split(";")
    mu_of = by_class["mu"].to_dict()
    chosen = [min(parts, key=lambda c: mu_of.get(c, 1.0)) if parts != [""] else "" for parts in classes]
    depth = out[C.DEPTH].to_numpy(dtype=np.int64)
    alt = out[C.ALT_DEPTH].to_numpy(dtype=np.int64)
    log_fact = _log_factorials(int(depth.max()) if len(depth) else 1)
    p_values, lods, cache, lod_of = np.ones(len(out)), np.full(len(out), np.nan), {}, {}
    keys = list(dict.fromkeys((int(n), change) for n, change in zip(depth, chosen) if n and change in mu_of))
    tails = dict(zip(keys, _in_threads(lambda key: log_tail(key[0], float(mu_of[key[1]]),
                                                             float(by_class.at[key[1], "rho"]), log_fact), keys)))
    for i, (n, k, change) in enumerate(zip(depth, alt, chosen)):
        if n == 0 or change not in mu_of:
            continue
        key = (int(n), change)
        if key not in cache:
            tail = tails[key]
            callable_k = np.flatnonzero((tail <= math.log(alpha)) & (np.arange(n + 1) >= MIN_ALT_FRAGMENTS))
            k_crit = int(callable_k[0]) if len(callable_k) else int(n) + 1
            if (int(n), k_crit) not in lod_of:  # the LOD depends on the depth and critical count only
                lod_of[int(n), k_crit] = limit_of_detection(int(n), k_crit, log_fact)
            cache[key] = (tail, lod_of[int(n), k_crit])
        tail, lod = cache[key]
        p_values[i] = math.exp(tail[k])
        lods[i] = lod
    min_depth = MIN_DEPTH[specimen]
    detected = (p_values <= alpha) & (alt >= MIN_ALT_FRAGMENTS) & (depth >= min_depth)
    detection = np.where(depth < min_depth, M.DETECTION_NOT_ASSESSED,
                         np.where(detected, M.DETECTION_DETECTED, M.DETECTION_NOT_DETECTED))
    # no alt fragment read on one strand, improbable given how often the depth was read on it
    share_forward = np.divide(out["depth_forward"].to_numpy(dtype=float), depth, out=np.ones(len(out)),
                              where=depth > 0)
    share_reverse = np.divide(out["depth_reverse"].to_numpy(dtype=float), depth, out=np.ones(len(out)),
                              where=depth > 0)
    one_sided = np.minimum(np.where(out[ALT_REVERSE].to_numpy() == 0, (1 - share_reverse) ** alt, 1.0),
                           np.where(out[ALT_FORWARD].to_numpy() == 0, (1 - share_forward) ** alt, 1.0))
    strand_bias = detected & (one_sided < STRAND_BIAS_P)
    out[P_VALUE] = p_values
    out[LOD] = lods
    out[C.VAF] = np.divide(alt, depth, out=np.zeros(len(out)), where=depth > 0)
    out[C.DETECTION] = detection
    out[C.FILTER] = np.where(strand_bias, "strand_bias", np.where(detected, "PASS", ""))
    out["error_rate"] = [mu_of.get(c, np.nan) for c in chosen]
    out["alpha"] = alpha
    return out


def with_region_rows(tested: pd.DataFrame, hotspots: pd.DataFrame, coverage: dict, model: pd.DataFrame,
                      specimen: str) -> pd.DataFrame:
    """A region with no indel detected gets one row saying so, with the depth and LOD of its weakest base."""
    regions = hotspots[hotspots["kind"] == REGION_KIND]
    detected_in = set(tested.loc[tested[C.DETECTION] == M.DETECTION_DETECTED, "hotspot_index"]) if len(tested) else set()
    rows = []
    for index in regions.index:
        if index in detected_in:
            continue
        depth = int(coverage[index].min()) if len(coverage[index]) else 0
        rows.append({C.POS: int(regions.at[index, "start"]), C.REF: "", C.ALT: "", C.ALT_DEPTH: 0, C.DEPTH: depth,
                     ALT_FORWARD: 0, ALT_REVERSE: 0, "depth_forward": 0, "depth_reverse": 0, "changes": "deletion",
                     "alt_aa": "",
                     "hotspot_index": index})
    if not rows:
        return tested
    region_rows = pd.DataFrame(rows)
    # tested on their own: the region row is a summary of the alleles already tested, not another test
    summary = test_alleles(region_rows, model, specimen)
    summary[P_VALUE] = np.nan
    summary[C.DETECTION] = np.where(region_rows[C.DEPTH] < MIN_DEPTH[specimen], M.DETECTION_NOT_ASSESSED,
                                    M.DETECTION_NOT_DETECTED)
    summary[C.FILTER] = ""
    if len(tested):  # the LOD of a region row follows the same alpha as the alleles
        alpha = float(tested["alpha"].iloc[0])
        log_fact = _log_factorials(int(region_rows[C.DEPTH].max()) or 1)
        mu = model.set_index("change").loc["deletion"]
        lods = []
        for n in region_rows[C.DEPTH]:
            tail = log_tail(int(n), float(mu["mu"]), float(mu["rho"]), log_fact) if n else np.zeros(1)
            ok = np.flatnonzero((tail <= math.log(alpha)) & (np.arange(len(tail)) >= MIN_ALT_FRAGMENTS))
            lods.append(limit_of_detection(int(n), int(ok[0]), log_fact) if len(ok) and n else np.nan)
        summary[LOD] = lods
    return pd.concat([tested, summary], ignore_index=True)


def check_reference_agreement(tested: pd.DataFrame, hotspots: pd.DataFrame, alignments: Alignments,
                               panel: Panel) -> None:
    """Reads of the wrong build disagree with the reference codons almost everywhere: stop, naming it.

    Only needed where the @SQ lengths could not tell the build (e.g. a BAM of a few contigs).
    """
    if tested.empty or "@SQ lengths match" in alignments.build_reason:
        return
    codons = tested[tested[C.REF].str.len() == 3]
    per_hotspot = codons.groupby("hotspot_index").agg(depth=(C.DEPTH, "first"), alt=(C.ALT_DEPTH, "sum"))
    deep = per_hotspot[per_hotspot["depth"] >= 20]
    if len(deep) >= 2 and ((deep["alt"] / deep["depth"]) > 0.9).mean() > 0.5:
        raise BuildMismatchError(f"the reads disagree with the {panel.build} reference codon at "
                                 f"{int(((deep['alt'] / deep['depth']) > 0.9).sum())} of {len(deep)} covered hotspots",
                                 path=alignments.path, hint="is the BAM aligned to the other build?")
