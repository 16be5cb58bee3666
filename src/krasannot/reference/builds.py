"""Genome builds: contig naming and build detection from contig lengths."""

from __future__ import annotations

import pandas as pd

GRCH37 = "GRCh37"
GRCH38 = "GRCh38"
BUILDS = (GRCH37, GRCH38)
BUILD_ALIASES = {"grch37": GRCH37, "hg19": GRCH37, "b37": GRCH37, "grch38": GRCH38, "hg38": GRCH38}

# Primary assembly lengths (GRC): they differ between builds for every chromosome but MT,
# so any one ##contig line of chr1-22/X/Y tells the build.
CONTIG_LENGTHS = {
    GRCH37: {"1": 249250621, "2": 243199373, "3": 198022430, "4": 191154276, "5": 180915260,
             "6": 171115067, "7": 159138663, "8": 146364022, "9": 141213431, "10": 135534747,
             "11": 135006516, "12": 133851895, "13": 115169878, "14": 107349540, "15": 102531392,
             "16": 90354753, "17": 81195210, "18": 78077248, "19": 59128983, "20": 63025520,
             "21": 48129895, "22": 51304566, "X": 155270560, "Y": 59373566, "MT": 16569},
    GRCH38: {"1": 248956422, "2": 242193529, "3": 198295559, "4": 190214555, "5": 181538259,
             "6": 170805979, "7": 159345973, "8": 145138636, "9": 138394717, "10": 133797422,
             "11": 135086622, "12": 133275309, "13": 114364328, "14": 107043718, "15": 101991189,
             "16": 90338345, "17": 83257441, "18": 80373285, "19": 58617616, "20": 64444167,
             "21": 46709983, "22": 50818468, "X": 156040895, "Y": 57227415, "MT": 16569},
}


def canonical_build(name: str) -> str | None:
    """'hg19' -> 'GRCh37'; None for anything unknown."""
    return BUILD_ALIASES.get(str(name).strip().lower())


def canonical_contig(name: str) -> str:
    """chr12 -> 12, chrM/M/chrMT -> MT, chrX -> X; other names are kept as given."""
    text = str(name)
    if text[:3].lower() == "chr":
        text = text[3:]
    if text.upper() in ("M", "MT"):
        return "MT"
    if text in ("x", "y"):
        return text.upper()
    return text


def contig_limits(header_lengths: dict[str, int]) -> dict[str, int]:
    """Largest valid POS per canonical contig: the header's ##contig length, else the longer of the two
    builds' lengths (the build may not be chosen yet; a position beyond both is wrong in either)."""
    limits = {c: max(CONTIG_LENGTHS[b][c] for b in BUILDS) for c in CONTIG_LENGTHS[BUILDS[0]]}
    limits.update({canonical_contig(name): length for name, length in header_lengths.items()})
    return limits


def canonical_contigs(names: pd.Series) -> pd.Series:
    """Vectorized canonical_contig over a column (maps each distinct name once)."""
    unique = pd.unique(names)
    mapping = {name: canonical_contig(name) for name in unique}
    return names.map(mapping)


def build_from_contig_lengths(lengths: dict[str, int]) -> tuple[str | None, str]:
    """Decide the build from ##contig lengths.

    Returns
    -------
    (build or None, explanation)
    """
    votes = {build: 0 for build in BUILDS}
    compared = 0
    for name, length in lengths.items():
        contig = canonical_contig(name)
        if contig == "MT" or contig not in CONTIG_LENGTHS[GRCH38]:
            continue
        compared += 1
        for build in BUILDS:
            if CONTIG_LENGTHS[build][contig] == int(length):
                votes[build] += 1
    if compared == 0:
        return None, "no ##contig lengths for chromosomes 1-22, X or Y in the header"
    best = max(votes, key=votes.get)
    others = [b for b in BUILDS if b != best]
    if votes[best] > 0 and all(votes[o] == 0 for o in others):
        return best, f"{votes[best]}/{compared} ##contig lengths match {best}"
    return None, ("##contig lengths match neither build cleanly ("
                  + ", ".join(f"{b}: {votes[b]}/{compared}" for b in BUILDS) + ")")


def parse_build(value: str) -> str:
    """Accept GRCh37/GRCh38 and the common aliases; 'auto' stays 'auto'."""
    if str(value).lower() == "auto":
        return "auto"
    build = canonical_build(value)
    if build is None:
        from ..errors import UsageError
        raise UsageError(f"unknown genome build {value!r}",
                         hint="use GRCh37 (hg19, b37), GRCh38 (hg38) or auto")
    return build


def choose_build(requested: str, header_lengths: dict[str, int], votes: dict[str, tuple[int, int]],
                 n_candidates: int, path: str, declared: str | None = None) -> tuple[str | None, str]:
    """The genome build of an input, and why; refuse a build the data contradicts.

    Parameters
    ----------
    requested : a build, or "auto"
    header_lengths : ##contig lengths from the header
    votes : per build, (REF alleles that match the build's panel bases, REF alleles checked); a mapping
        that may count a build's votes only when asked for them (the other build's are asked for only when
        the chosen build's bases disagree)
    n_candidates : calls that fall in either build's panel regions; with none, the build
        cannot change any annotation and may stay undetermined (None)
    declared : the build the input names for itself (a MAF's NCBI_Build), like ##contig lengths
    """
    from ..errors import BuildMismatchError, UsageError

    header_build, header_why = build_from_contig_lengths(header_lengths)
    if declared is not None and header_build is None:
        header_build, header_why = declared, f"the input declares {declared}"
    if requested != "auto":
        if header_build is not None and header_build != requested:
            raise BuildMismatchError(f"--build {requested}, but {header_why}", path=path,
                                     hint=f"the data looks like {header_build}: rerun with --build {header_build}")
        build, why = requested, "given with --build"
    elif header_build is not None:
        build, why = header_build, header_why
    else:
        build = _build_from_votes(votes)
        if build is None:
            if n_candidates == 0:
                return None, "undetermined: no ##contig lengths and no call in either build's panel"
            raise UsageError(f"cannot tell the genome build of {path}: {header_why}, and its REF alleles in "
                             "the panel do not decide it", hint="pass --build GRCh37 or --build GRCh38")
        why = f"{votes[build][0]}/{votes[build][1]} panel REF alleles match {build}"
    _refuse_if_other_build(build, votes, path)
    return build, why


def _build_from_votes(votes: dict[str, tuple[int, int]]) -> str | None:
    """The build whose panel bases the REF alleles match: clearly more matches, few mismatches."""
    ranked = sorted(votes, key=lambda b: votes[b][0], reverse=True)
    best = ranked[0]
    matches, checked = votes[best]
    runner_up = votes[ranked[1]][0] if len(ranked) > 1 else 0
    if matches > 0 and matches > 2 * runner_up and 3 * (checked - matches) <= matches:
        return best
    return None


def _refuse_if_other_build(build: str, votes: dict[str, tuple[int, int]], path: str) -> None:
    from ..errors import BuildMismatchError

    other = next(b for b in BUILDS if b != build)
    matches, checked = votes.get(build, (0, 0))
    if checked and matches / checked >= 0.5:  # neither test below can fire: the other build is not consulted
        return
    other_matches, other_checked = votes.get(other, (0, 0))  # a --bundle run has no other build
    hint = f"the data looks like {other}: rerun with --build {other}"
    # most REF alleles wrong for this build and right for the other
    if checked and matches / checked < 0.5 and other_checked and other_matches / other_checked >= 0.9:
        raise BuildMismatchError(f"{checked - matches} of {checked} REF alleles in panel genes do not match "
                                 f"{build}, but {other_matches} of {other_checked} match {other}", path=path, hint=hint)
    # nothing falls on this build's panel bases, while calls sit exactly on the other build's
    if checked == 0 and other_matches >= 2 and other_matches == other_checked:
        raise BuildMismatchError(f"no call falls on a known {build} panel base, but {other_matches} REF alleles "
                                 f"match {other} panel bases", path=path, hint=hint)

