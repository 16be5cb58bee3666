"""What the fragments show at each hotspot: codon alleles, indels in the regions, depth; every window read once."""

from __future__ import annotations

import os
import pickle
import signal
from functools import lru_cache

import numpy as np
import pandas as pd

from .. import columns as C
from ..files import usable_cores
from ..io.genotype_calls import ALT_FORWARD, ALT_REVERSE, HOTSPOT
from ..reference.bundle import reverse_complement, translate
from .alignments import Alignments
from .background import background_counts
from .hotspots import CODON_KIND, REGION_KIND, fetch_windows
from .reads import BASES, WindowReads, bases_at, collapse_mates, fragment_depth, read_window, read_window_bytes
from .reference_bases import ReferenceBases

MIN_INDEL_ANCHOR = 5    # aligned bases an indel needs on both sides within the read
# reads in the windows (estimated from the .bai) from which a BAM is decoded from its bytes, on two processes
PARALLEL_READS = 100_000
MAX_QUEUED_WINDOWS = 1024  # window numbers a pipe holds without blocking (4 bytes each, 4 kB: atomic)


def codon_observations(reads: WindowReads, hotspot: dict, min_baseq: int) -> pd.DataFrame:
    """Fragments per codon allele at one codon hotspot: the alleles to test, with their support.

    Rows: every single-base change that alters the amino acid, and every other non-synonymous
    codon carried by a fragment; columns pos, ref, alt (forward strand), alt_depth, depth,
    alt_forward, alt_reverse, changes (forward-strand base changes, e.g. "G>T;G>T").
    """
    positions = [hotspot["start"], hotspot["start"] + 1, hotspot["start"] + 2]
    codes, quals = bases_at(reads, positions)
    first, second, third = codes.T
    seen = ((first < 4) & (second < 4) & (third < 4) & (quals[:, 0] >= min_baseq) & (quals[:, 1] >= min_baseq)
            & (quals[:, 2] >= min_baseq))
    codon_code = first[seen].astype(np.int64) * 16 + second[seen] * 4 + third[seen]
    allele, on_forward, on_reverse = collapse_mates(reads.fragment[seen], codon_code, reads.reverse[seen])
    depth = len(allele)
    counts = np.bincount(allele, minlength=64)
    forward_counts = np.bincount(allele[on_forward], minlength=64)
    reverse_counts = np.bincount(allele[on_reverse], minlength=64)
    candidates = _codon_alleles(hotspot["ref_codon"], hotspot["strand"])
    code = candidates["code"]
    keep = ~candidates["several"] | (counts[code] > 0)  # an MNV codon only where a fragment carries it
    if not keep.any():
        return pd.DataFrame()
    code = code[keep]
    return pd.DataFrame({C.POS: np.full(len(code), hotspot["start"], dtype=np.int64),
                         C.REF: [candidates["ref"]] * len(code), C.ALT: candidates["alt"][keep].tolist(),
                         C.ALT_DEPTH: counts[code], C.DEPTH: np.full(len(code), depth, dtype=np.int64),
                         ALT_FORWARD: forward_counts[code], ALT_REVERSE: reverse_counts[code],
                         "depth_forward": np.full(len(code), int(on_forward.sum()), dtype=np.int64),
                         "depth_reverse": np.full(len(code), int(on_reverse.sum()), dtype=np.int64),
                         "changes": candidates["changes"][keep].tolist(),
                         "alt_aa": candidates["alt_aa"][keep].tolist()})


@lru_cache(maxsize=None)
def _codon_alleles(ref_codon: str, strand: str) -> dict:
    """The non-synonymous codons of a hotspot (forward strand, in code order): code, bases, base changes,
    amino acid, and whether more than one base changed."""
    ref_forward = ref_codon if strand == "+" else reverse_complement(ref_codon)
    ref_aa = translate(ref_codon)
    found = {"code": [], "alt": [], "changes": [], "alt_aa": [], "several": []}
    for code in range(64):
        alt_forward_bases = BASES[code // 16] + BASES[code // 4 % 4] + BASES[code % 4]
        changed = [i for i in range(3) if alt_forward_bases[i] != ref_forward[i]]
        codon = alt_forward_bases if strand == "+" else reverse_complement(alt_forward_bases)
        if not changed or translate(codon) == ref_aa:
            continue
        for key, value in (("code", code), ("alt", alt_forward_bases), ("alt_aa", translate(codon)),
                           ("changes", ";".join(f"{ref_forward[i]}>{alt_forward_bases[i]}" for i in changed)),
                           ("several", len(changed) > 1)):
            found[key].append(value)
    return {"ref": ref_forward, **{key: np.asarray(values, dtype=object if key in ("alt", "changes", "alt_aa")
                                                   else None) for key, values in found.items()}}


def normalized_events(reads: WindowReads, reference: "ReferenceBases", contig: str) -> pd.DataFrame:
    """Indel events of the reads, pure indels left-aligned on the reference (delins kept as they are).

    An indel within MIN_INDEL_ANCHOR aligned bases of the read's end is dropped: a read ending
    inside an insertion shows only part of it (a 12-base duplication read as an 11-base frameshift).
    """
    events = reads.events
    if len(events):
        read = events["read"].to_numpy()
        anchored = ((events["first"].to_numpy() - reads.start[read] >= MIN_INDEL_ANCHOR)
                    & (reads.end[read] - (events["first"].to_numpy() + events["deleted"].to_numpy() - 1)
                       >= MIN_INDEL_ANCHOR))
        events = events[anchored]
    if events.empty:
        return events.assign(ref_bases="")
    keys = events[["first", "deleted", "inserted"]].drop_duplicates()
    shifted = []
    for first, deleted, inserted in keys.itertuples(index=False):
        new_first, new_inserted = first, inserted
        if (deleted == 0) != (inserted == ""):  # a pure deletion or insertion
            allele = inserted or reference.bases(contig, first, first + deleted - 1)
            while "N" not in allele:
                before = reference.bases(contig, new_first - 1, new_first - 1)
                if before != allele[-1]:
                    break
                allele = before + allele[:-1]
                new_first -= 1
            new_inserted = allele if inserted else ""
        shifted.append((first, deleted, inserted, new_first, new_inserted))
    mapping = pd.DataFrame(shifted, columns=["first", "deleted", "inserted", "norm_first", "norm_inserted"])
    out = events.merge(mapping, on=["first", "deleted", "inserted"], how="left")
    out["first"], out["inserted"] = out.pop("norm_first"), out.pop("norm_inserted")
    return out


def region_observations(reads: WindowReads, events: pd.DataFrame, hotspot: dict,
                        reference: ReferenceBases, contig: str) -> pd.DataFrame:
    """One row per distinct indel in a region, as a VCF-style allele with fragment support and depth."""
    inside = events[(events["first"] <= hotspot["end"])
                    & (events["first"] + np.maximum(events["deleted"], 1) - 1 >= hotspot["start"])]
    rows = []
    for (first, deleted, inserted), group in inside.groupby(["first", "deleted", "inserted"]):
        anchor = reference.bases(contig, first - 1, first - 1 + deleted)
        if "N" in anchor:
            continue  # the reference around it is unknown: no allele can be written
        carrying = group["read"].to_numpy()
        spanning = np.flatnonzero((reads.start <= first - 1) & (reads.end >= first + deleted))
        covering = np.union1d(spanning, carrying)

        def fragments(read_index: np.ndarray) -> tuple[int, int, int]:  # all, with a forward, a reverse read
            frag, rev = reads.fragment[read_index], reads.reverse[read_index]
            return len(np.unique(frag)), len(np.unique(frag[~rev])), len(np.unique(frag[rev]))
        alt, alt_forward, alt_reverse = fragments(carrying)
        depth, depth_forward, depth_reverse = fragments(covering)
        rows.append({C.POS: int(first - 1), C.REF: anchor, C.ALT: anchor[0] + inserted,
                     C.ALT_DEPTH: alt, C.DEPTH: depth, ALT_FORWARD: alt_forward, ALT_REVERSE: alt_reverse,
                     "depth_forward": depth_forward, "depth_reverse": depth_reverse,
                     "changes": "deletion" if deleted else "insertion", "alt_aa": ""})
    return pd.DataFrame(rows)


def observe_windows(alignments: Alignments, hotspots: pd.DataFrame, reference: ReferenceBases, min_mapq: int,
                    min_baseq: int) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Read every window once: alleles at its hotspots, background counts, per-hotspot depth.

    A big BAM (PARALLEL_READS reads or more in the windows, by its .bai) is decoded from its bytes
    (reads.read_window_bytes), this process and one forked worker taking the windows from one queue;
    anything else goes read by read through pysam. Either way the windows' results are put back in
    window order.
    """
    windows = fetch_windows(hotspots)
    for window in windows.itertuples(index=False):
        if window.contig not in alignments.contig_names:  # every allele is still listed, as not assessed
            alignments.notes.append(f"no contig {window.contig} in the file: "
                                    + ", ".join(hotspots.loc[window.members, HOTSPOT]) + " not assessed")
    spots, window_rows = hotspots.to_dict("index"), list(windows.itertuples(index=False))

    def positions(kind: str, contig: str | None = None) -> np.ndarray:  # of the hotspots of a kind (on a contig)
        return np.concatenate([np.arange(spot["start"], spot["end"] + 1) for spot in spots.values()
                               if spot["kind"] == kind and contig in (None, spot["contig"])]
                              or [np.zeros(0, dtype=np.int64)])
    codons_on = {contig: positions(CODON_KIND, contig) for contig in set(hotspots["contig"])}
    indel_positions = positions(REGION_KIND)
    bai = alignments.bai()
    reads_per_window = np.array([bai.estimated_reads(alignments.handle.get_tid(alignments.contig_names[w.contig]),
                                                     w.start - 1, w.end)
                                 if bai is not None and w.contig in alignments.contig_names else 0.0
                                 for w in windows.itertuples(index=False)])
    big = bai is not None and reads_per_window.sum() >= PARALLEL_READS

    def observe(which, handle) -> list:
        raw = open(alignments.path, "rb") if big else None
        try:
            reader = _window_reader(handle, raw, bai, min_mapq)
            return [(w, _observe_window(reader, alignments.contig_names.get(window_rows[w].contig), window_rows[w],
                                        spots, reference, min_baseq, codons_on[window_rows[w].contig],
                                        indel_positions)) for w in which]
        finally:
            if raw is not None:
                raw.close()

    if big and 1 < len(windows) <= MAX_QUEUED_WINDOWS and usable_cores() > 1:
        # both processes take the next window from one queue, the biggest first, until it is empty
        queue = _window_queue(np.argsort(-reads_per_window, kind="stable"))
        try:
            collect = in_forked_worker(lambda: observe(_taken(queue), alignments.reopen()))
            results = observe(_taken(queue), alignments.handle) + collect()
        finally:
            os.close(queue)
    else:
        results = observe(range(len(windows)), alignments.handle)
    by_window = [result for _, result in sorted(results, key=lambda taken: taken[0])]
    observed = [frame for found, _, _ in by_window for frame in found]
    background = [counts for _, counts, _ in by_window if counts is not None]
    coverage = {index: depth for _, _, depths in by_window for index, depth in depths.items()}
    observed_frame = pd.concat(observed, ignore_index=True) if observed else pd.DataFrame(
        columns=[C.POS, C.REF, C.ALT, C.ALT_DEPTH, C.DEPTH, ALT_FORWARD, ALT_REVERSE, "depth_forward",
                 "depth_reverse", "changes",
                 "alt_aa", "hotspot_index"])
    background_frame = pd.concat(background, ignore_index=True) if background else pd.DataFrame(
        columns=["change", "alt", "depth"])
    return observed_frame, background_frame, coverage


def _window_reader(handle, raw, bai, min_mapq: int):
    """contig name, start, end -> WindowReads: from the BAM's bytes when `raw` is open, else through pysam."""
    if raw is not None:
        return lambda name, start, end: read_window_bytes(handle, raw, bai, name, start, end, min_mapq)
    return lambda name, start, end: read_window(handle, name, start, end, min_mapq)


def _observe_window(reader, contig_name: str | None, window, spots: dict, reference: ReferenceBases, min_baseq: int,
                    codons: np.ndarray, indel_positions: np.ndarray) -> tuple[list, pd.DataFrame | None, dict]:
    """One window: the observed alleles of its hotspots, its background counts (None: no reads), their depth.

    `spots`: hotspot index -> its row as a dict; `codons`: the codon positions on the window's contig."""
    reads = reader(contig_name, window.start, window.end)
    events = normalized_events(reads, reference, window.contig)
    found_here, coverage = [], {}
    for index in window.members:
        hotspot = spots[index]
        coverage[index] = fragment_depth(reads, hotspot["start"], hotspot["end"])
        found = (codon_observations(reads, hotspot, min_baseq) if hotspot["kind"] == CODON_KIND
                 else region_observations(reads, events, hotspot, reference, window.contig))
        if len(found):
            found["hotspot_index"] = index
            found_here.append(found)
    if not reads.n_reads:
        return found_here, None, coverage
    return found_here, background_counts(reads, reference, window.contig, codons, indel_positions,
                                         min_baseq), coverage


def _window_queue(windows: np.ndarray) -> int:
    """A pipe holding the window numbers, to be taken by more than one process; returns its read end."""
    read_end, write_end = os.pipe()
    os.write(write_end, np.asarray(windows, dtype="<u4").tobytes())  # fits: at most MAX_QUEUED_WINDOWS
    os.close(write_end)
    return read_end


def _taken(queue: int):
    """Window numbers taken from the queue one at a time (a pipe read of 4 bytes is atomic), until it is empty."""
    while taken := os.read(queue, 4):
        yield int.from_bytes(taken, "little")


def in_forked_worker(work):
    """Start work() in a forked child process; returns collect(), which waits for and returns its result.

    The child gets its own file handles from `work` (a forked pysam handle would share the file position).
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: run, send the result (or the exception) back, and leave without cleanup
        os.close(read_end)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        try:
            try:
                payload = pickle.dumps((True, work()))
            except BaseException as exc:  # noqa: BLE001 (handed to the parent, which raises it)
                payload = pickle.dumps((False, exc))
            with os.fdopen(write_end, "wb") as out:
                out.write(payload)
        finally:  # never run the parent's cleanup (temp dirs, atexit) here; a gone parent ends the child too
            os._exit(0)
    os.close(write_end)

    def collect():
        try:
            with os.fdopen(read_end, "rb") as source:
                ok, value = pickle.loads(source.read())
        finally:
            os.waitpid(pid, 0)
        if not ok:
            raise value
        return value
    return collect
