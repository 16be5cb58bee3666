"""Back-map alteration text (protein, cDNA, genomic, exon-level) to genomic alleles through the bundle.

Liquid-biopsy reports write `KRAS G12C`, `c.35G>T` or `chr12:25245350 C>A`; the engine needs
CHROM/POS/REF/ALT. Every function here is pure: text and a Panel in, a `BackMapped` out, or an
InputFormatError naming the file, line, the text and the accepted forms.

A protein change often has more than one genomic allele. The representative is chosen
deterministically: the fewest changed bases first (an SNV before an MNV), then the lowest
CDS position, then the alphabetically first codon; `note` lists every candidate of that size
("protein-level input; genomic allele is one of c.183A>C, c.183A>T; c.183A>C shown").
Exon-level text (`EGFR exon 19 deletion`) and protein frameshifts/insertions name no single
allele: they come back as by-name calls (no position) that keep the words.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import numpy as np

from ..errors import InputFormatError
from ..models import CODON_TABLE, THREE_LETTER
from .builds import canonical_contig
from .bundle import Panel, Transcript, reverse_complement

KIND_PROTEIN = "protein"
KIND_CDNA = "cdna"
KIND_GENOMIC = "genomic"
KIND_BY_NAME = "by_name"   # exon-level or otherwise unplaceable: gene and words, no allele

ACCEPTED_FORMS = ("protein G12C, p.G12C, p.Gly12Cys, KRAS G12C, Q61*, p.E746_A750del, p.A767_V769dup "
                  "(frameshifts such as G13fs are kept by name); "
                  "cDNA c.35G>T, c.34_35delinsTT, c.2235_2249del, c.2300_2308dup, c.2310_2311insGGT, c.3082+1G>A; "
                  "genomic chr12:25245350 C>A, 12-25245350-C-A, chr12:g.25245350C>A, chr7:g.55242465_55242479del; "
                  "exon-level EGFR exon 19 deletion, exon 20 insertion, MET exon 14 skipping")

_ONE = "ACDEFGHIKLMNPQRSTVWY"
_THREE_TO_ONE = {three.upper(): one for one, three in THREE_LETTER.items() if one in _ONE + "*"}
_AA = r"(?:[ACDEFGHIKLMNPQRSTVWY]|Ala|Arg|Asn|Asp|Cys|Gln|Glu|Gly|His|Ile|Leu|Lys|Met|Phe|Pro|Ser|Thr|Trp|Tyr|Val)"
_STOP = r"(?:\*|X|Ter)"  # X for a stop is the old notation (R171X), still common in reports
_PROTEIN_SUBST = re.compile(rf"(?P<ref>{_AA})(?P<pos>\d+)(?P<alt>{_AA}|{_STOP}|=)")
_PROTEIN_RANGE = re.compile(rf"(?P<ref>{_AA})(?P<pos>\d+)(?:_(?P<ref2>{_AA})(?P<pos2>\d+))?(?P<kind>del|dup)")
_PROTEIN_UNPLACEABLE = re.compile(  # the inserted codons or the new reading frame are not in the text
    rf"(?P<ref>{_AA})(?P<pos>\d+)(?:(?:{_AA}|{_STOP})?fs(?:{_STOP}?\d+|\*\?)?"
    rf"|_(?P<ref2>{_AA})(?P<pos2>\d+)(?:ins|delins){_AA}+|delins{_AA}+)")
_CODON = re.compile(rf"(?P<ref>{_AA})?(?P<pos>\d+)")
_C_POS = r"[-*]?\d+(?:[+-]\d+)?"
_EDIT = (r"(?:(?P<ref>[ACGT])>(?P<alt>[ACGT])"
         r"|(?P<op>delins|del|dup|ins)(?P<bases>[ACGT]+|\d+)?(?:ins(?P<inserted>[ACGT]+))?)")
_CDNA = re.compile(rf"c\.(?P<start>{_C_POS})(?:_(?P<end>{_C_POS}))?{_EDIT}", re.IGNORECASE)
_CHROM = r"(?:chr)?(?P<chrom>[1-9]|1\d|2[0-2]|X|Y|M|MT)"
_GENOMIC_SUBST = re.compile(rf"{_CHROM}:(?:g\.)?(?P<pos>\d+)\s*(?P<ref>[ACGT]+)\s*>\s*(?P<alt>[ACGT]+)",
                            re.IGNORECASE)
_GENOMIC_DASHED = re.compile(rf"{_CHROM}[-:_](?P<pos>\d+)[-:_](?P<ref>[ACGT]+)[-:_](?P<alt>[ACGT]+)",
                             re.IGNORECASE)
_GENOMIC_HGVS = re.compile(rf"{_CHROM}:g\.(?P<start>\d+)(?:_(?P<end>\d+))?{_EDIT}", re.IGNORECASE)
_EXON_LEVEL = re.compile(r"(?:exon|ex)\s*(?P<exon>\d+)\s*(?P<what>deletions?|del|insertions?|ins|duplications?|dup"
                         r"|skipping|skip|delins|indels?|mutations?|alterations?)", re.IGNORECASE)
_GENE_PREFIX = re.compile(r"(?P<gene>[A-Z][A-Z0-9]{1,15})\s+(?P<rest>.+)")


@dataclass(frozen=True)
class BackMapped:
    """One alteration placed on the genome (kind protein/cdna/genomic) or kept by name (by_name)."""

    kind: str
    gene: str               # the gene the text or the gene column names ("" for bare genomic input)
    chrom: str = ""         # as written (genomic input) or the bundle's contig name ("12")
    pos: int | None = None  # 1-based; insertions: the base after the gap; None for by-name calls
    ref: str = ""           # forward strand; "" for an insertion
    alt: str = ""           # forward strand; "" for a deletion
    hgvsp_short: str = ""   # a protein input as p.G12C, for comparison with the engine's
    alteration: str = ""    # the input's words, normalized ("KRAS G12C", "EGFR exon 19 deletion")
    note: str = ""          # how the allele was chosen, or why there is none
    in_bundle: bool = True  # False: the gene has no transcript in the bundle


def _error(message: str, path: str | None, line: int | None) -> InputFormatError:
    return InputFormatError(message, path=path, line=line, hint="accepted forms: " + ACCEPTED_FORMS)


def _one_letter(residue: str) -> str:
    return residue if len(residue) == 1 else _THREE_TO_ONE[residue.upper()]


def split_gene_prefix(text: str, gene: str, *, path: str | None = None, line: int | None = None) -> tuple[str, str]:
    """(gene, rest) of `KRAS G12C`; a gene written in the text must be the gene column's."""
    text = " ".join(str(text).split())
    match = _GENE_PREFIX.fullmatch(text)
    if not match or re.fullmatch(r"[A-Z]\d+[A-Z]?", match["gene"]):  # "G12 G13" starts with a codon, not a gene
        return gene, text
    if gene and match["gene"] != gene:
        raise InputFormatError(f"the gene column says {gene} but the alteration {text!r} names {match['gene']}",
                               path=path, line=line, hint="correct the gene or the alteration")
    return match["gene"], match["rest"]


def protein_short(text: str) -> str:
    """A protein substitution, deletion or duplication as p.G12C / p.E746_A750del (1-letter); "" otherwise."""
    core = re.sub(r"^p\.", "", str(text).strip()).strip("()")
    match = _PROTEIN_SUBST.fullmatch(core)
    if match:
        alt = match["alt"]
        alt = "=" if alt == "=" else "*" if re.fullmatch(_STOP, alt) else _one_letter(alt)
        return f"p.{_one_letter(match['ref'])}{match['pos']}{alt}"
    match = _PROTEIN_RANGE.fullmatch(core)
    if match:
        second = f"_{_one_letter(match['ref2'])}{match['pos2']}" if match["ref2"] else ""
        return f"p.{_one_letter(match['ref'])}{match['pos']}{second}{match['kind']}"
    return ""


def back_map(text: str, gene: str, panel: Panel, *, path: str | None = None,
             line: int | None = None) -> BackMapped:
    """Place one alteration text on the genome of `panel`'s build.

    Parameters
    ----------
    text : the alteration as written (protein, cDNA, genomic or exon-level).
    gene : the gene column ("" if none); a gene written in the text must agree with it.
    path, line : where the text came from, for the error message.
    """
    raw = " ".join(str(text).split())
    if not raw:
        raise _error("empty alteration", path, line)
    genomic = _genomic(raw, panel, path, line)
    if genomic is not None:
        return genomic
    gene, rest = split_gene_prefix(raw, gene, path=path, line=line)
    core = re.sub(r"^p\.\s*", "", rest).strip("()") if rest.startswith("p.") else rest
    kind = (KIND_CDNA if _CDNA.fullmatch(rest) else KIND_BY_NAME if _EXON_LEVEL.fullmatch(rest)
            else KIND_PROTEIN if (_PROTEIN_SUBST.fullmatch(core) or _PROTEIN_RANGE.fullmatch(core)
                                  or _PROTEIN_UNPLACEABLE.fullmatch(core)) else "")
    if not kind:
        raise _error(f"unknown alteration syntax {raw!r}", path, line)
    if not gene:
        raise InputFormatError(f"alteration {raw!r} needs a gene", path=path, line=line,
                               hint="fill the gene column, or write the gene before the change (KRAS G12C)")
    words = f"{gene} {rest}"
    tx = panel.by_gene.get(gene)
    if tx is None:
        return BackMapped(KIND_BY_NAME, gene, alteration=words, hgvsp_short=protein_short(core), in_bundle=False,
                          note=f"{gene} is not in the {panel.build} transcript bundle: kept by name, not placed")
    if kind == KIND_CDNA:
        return _cdna(rest, tx, panel, words, path, line)
    if kind == KIND_BY_NAME:
        exon = int(_EXON_LEVEL.fullmatch(rest)["exon"])
        if not 1 <= exon <= tx.n_exons:
            raise InputFormatError(f"{gene} has exons 1-{tx.n_exons} in {tx.transcript}, not exon {exon}: {raw!r}",
                                   path=path, line=line, hint="check the gene and the exon number")
        return BackMapped(KIND_BY_NAME, gene, alteration=words,
                          note="exon-level alteration: names no single allele, kept by name")
    return _protein(core, tx, panel, words, path, line)


# --- protein ------------------------------------------------------------------------------
def _check_residue(tx: Transcript, residue: str, pos: int, words: str, path, line) -> None:
    """The reference residue in the text must be the transcript's, or the change is on another isoform."""
    protein = tx.cds_protein
    if not 1 <= pos <= len(protein):
        raise InputFormatError(f"{tx.gene} {tx.transcript} has {len(protein) - 1} residues, not {pos}: {words!r}",
                               path=path, line=line, hint="check the gene and the protein position")
    if protein[pos - 1] != residue:
        raise InputFormatError(f"{tx.gene} residue {pos} is {protein[pos - 1]} in {tx.transcript}, not {residue}: "
                               f"{words!r}", path=path, line=line,
                               hint="check the gene and the protein change (is it on another isoform?)")


def codon_candidates(tx: Transcript, codon: int, target: str) -> list[tuple[int, str]]:
    """All (first CDS position, replacement bases) of codon `codon` that encode `target`, fewest changes first.

    The replacement spans the first to the last changed base (transcript orientation); the list
    holds only candidates with the smallest number of changed bases, ordered by position then bases.
    """
    first = 3 * (codon - 1)
    ref_codon = tx.cds[first:first + 3]
    found: list[tuple[int, int, str, str]] = []
    for alt_codon in ("".join(bases) for bases in itertools.product("ACGT", repeat=3)):
        if alt_codon == ref_codon or CODON_TABLE[alt_codon] != target:
            continue
        changed = [i for i in range(3) if alt_codon[i] != ref_codon[i]]
        found.append((len(changed), changed[0], alt_codon[changed[0]:changed[-1] + 1], alt_codon))
    if not found:
        return []
    fewest = min(f[0] for f in found)
    best = sorted((f for f in found if f[0] == fewest), key=lambda f: (f[1], f[2]))
    return [(first + offset + 1, bases) for _, offset, bases, _ in best]


def _cds_to_genomic(tx: Transcript, cds_first: int, cds_last: int) -> tuple[int, int] | None:
    """Genomic (lo, hi) of CDS positions cds_first..cds_last, or None if an intron lies between them."""
    ends = tx.tx_to_genomic(np.array([cds_first, cds_last]) + tx.cds_tx_first - 1)
    lo, hi = int(ends.min()), int(ends.max())
    return (lo, hi) if hi - lo == cds_last - cds_first else None


def _c_label(tx: Transcript, cds_first: int, bases: str) -> str:
    ref = tx.cds[cds_first - 1:cds_first - 1 + len(bases)]
    if len(bases) == 1:
        return f"c.{cds_first}{ref}>{bases}"
    return f"c.{cds_first}_{cds_first + len(bases) - 1}delins{bases}"


def _placed(tx: Transcript, panel: Panel, cds_first: int, cds_last: int, bases: str) -> tuple[int, str, str] | None:
    """(pos, forward REF, forward ALT) replacing CDS cds_first..cds_last by `bases` (transcript strand)."""
    span = _cds_to_genomic(tx, cds_first, cds_last) if cds_last >= cds_first else None
    if span is None:
        return None
    lo, hi = span
    ref = panel.genome_bases(tx.chrom, lo, hi)
    return lo, ref, bases if tx.strand == "+" else reverse_complement(bases)


def _protein(core: str, tx: Transcript, panel: Panel, words: str, path, line) -> BackMapped:
    subst = _PROTEIN_SUBST.fullmatch(core)
    if subst:
        ref, pos = _one_letter(subst["ref"]), int(subst["pos"])
        _check_residue(tx, ref, pos, words, path, line)
        short = protein_short(core)
        target = short[-1] if not short.endswith("=") else ref
        candidates = codon_candidates(tx, pos, target)
        if not candidates:
            raise InputFormatError(f"no change of {tx.gene} codon {pos} gives {short}: {words!r}",
                                   path=path, line=line, hint="check the protein change")
        cds_first, bases = candidates[0]
        placed = _placed(tx, panel, cds_first, cds_first + len(bases) - 1, bases)
        labels = [_c_label(tx, p, b) for p, b in candidates]
        if placed is None:
            return BackMapped(KIND_BY_NAME, tx.gene, alteration=words, hgvsp_short=short,
                              note=f"protein-level input; codon {pos} spans an exon junction: kept by name")
        if len(candidates) == 1 and len(bases) == 1:
            note = f"protein-level input; back-mapped to the only single-base change, {labels[0]}"
        else:
            size = "single-base changes" if len(bases) == 1 else "no single-base change gives it; fewest-base changes"
            note = f"protein-level input; genomic allele is one of {', '.join(labels)} ({size}); {labels[0]} shown"
        return BackMapped(KIND_PROTEIN, tx.gene, tx.chrom, placed[0], placed[1], placed[2], short, words, note)
    ranged = _PROTEIN_RANGE.fullmatch(core)
    if ranged:
        pos = int(ranged["pos"])
        pos2 = int(ranged["pos2"]) if ranged["pos2"] else pos
        _check_residue(tx, _one_letter(ranged["ref"]), pos, words, path, line)
        if ranged["ref2"]:
            _check_residue(tx, _one_letter(ranged["ref2"]), pos2, words, path, line)
        if pos2 < pos:
            raise _error(f"protein range ends before it starts: {words!r}", path, line)
        codons = tx.cds[3 * pos - 3:3 * pos2]
        if ranged["kind"] == "del":  # whole codons deleted: one of the in-frame deletions giving it
            placed = _placed(tx, panel, 3 * pos - 2, 3 * pos2, "")
            label = f"c.{3 * pos - 2}_{3 * pos2}del"
        else:  # whole codons repeated after the last one
            placed = _placed(tx, panel, 3 * pos2 + 1, 3 * pos2, codons)
            if placed is None:
                placed = _insertion_after(tx, panel, 3 * pos2, codons)
            label = f"c.{3 * pos - 2}_{3 * pos2}dup"
        if placed is None:
            return BackMapped(KIND_BY_NAME, tx.gene, alteration=words,
                              note="protein-level input; the codons span an exon junction: kept by name")
        return BackMapped(KIND_PROTEIN, tx.gene, tx.chrom, *placed, hgvsp_short=protein_short(core), alteration=words,
                          note=f"protein-level input; one of the in-frame changes giving it, {label}, shown")
    unplaceable = _PROTEIN_UNPLACEABLE.fullmatch(core)
    _check_residue(tx, _one_letter(unplaceable["ref"]), int(unplaceable["pos"]), words, path, line)
    return BackMapped(KIND_BY_NAME, tx.gene, alteration=words,
                      note="protein-level frameshift or insertion: names no single allele, kept by name")


def _insertion_after(tx: Transcript, panel: Panel, cds_pos: int, bases: str) -> tuple[int, str, str]:
    """(pos, "", forward ALT) inserting `bases` after CDS position cds_pos (transcript orientation)."""
    g = int(tx.tx_to_genomic(np.array([cds_pos + tx.cds_tx_first - 1]))[0])
    # the calls table puts an insertion at the base after the gap, in genomic order
    return (g + 1, "", bases) if tx.strand == "+" else (g, "", reverse_complement(bases))


# --- cDNA and genomic HGVS edits --------------------------------------------------------
def _c_to_genomic(tx: Transcript, token: str) -> int:
    """Genomic position of a c. coordinate (c.35, c.-14, c.*5, c.3082+1); ValueError outside the transcript."""
    match = re.fullmatch(r"(?P<sign>[-*]?)(?P<n>\d+)(?P<offset>[+-]\d+)?", token)
    n = int(match["n"])
    anchor = {"": tx.cds_tx_first + n - 1, "-": tx.cds_tx_first - n, "*": tx.cds_tx_last + n}[match["sign"]]
    if (match["sign"] == "" and n == 0) or not 1 <= anchor <= tx.tx_length:
        raise ValueError(f"c.{token} lies outside {tx.transcript}")
    genomic = int(tx.tx_to_genomic(np.array([anchor]))[0])
    offset = int(match["offset"] or 0)
    if offset:  # an intron offset counts from the exon edge, in transcript orientation
        genomic = genomic + offset if tx.strand == "+" else genomic - offset
        if tx.genomic_to_tx(np.array([genomic]))[0] != 0:
            raise ValueError(f"c.{token} is not intronic: c.{match['sign']}{n} is not at an exon edge "
                             f"of {tx.transcript}")
    return genomic


def _written_bases(value: str | None, span: str, what: str, words: str, path, line) -> str | None:
    """Check `del15` or `delGGAATT` against the span's length; the bases written (upper case), if any."""
    if not value:
        return None
    if value.isdigit():
        if int(value) != len(span):
            raise InputFormatError(f"{what} of {value} bases but the span covers {len(span)}: {words!r}",
                                   path=path, line=line, hint="check the positions and the length")
        return None
    if len(value) != len(span):
        raise InputFormatError(f"{what} of {len(value)} bases but the span covers {len(span)}: {words!r}",
                               path=path, line=line, hint="check the positions and the bases")
    return value.upper()


def _known(bases: str, words: str, path, line) -> str:
    if "N" in bases:
        raise InputFormatError(f"the bundle does not know the bases of {words!r} (intronic or outside the exons)",
                               path=path, line=line,
                               hint="write the bases (e.g. c.3082+1_3082+3delGTA) or use a genomic form")
    return bases


def _edit(match: re.Match, lo: int, hi: int, genome: str, orient, after: int, words: str,
          path, line) -> tuple[int, str, str]:
    """(pos, forward REF, forward ALT) of the edit in `match` over genomic lo..hi.

    `genome` holds the forward bases lo..hi, `orient` turns text-strand bases into forward ones,
    and `after` is the base after the gap for a dup (the span repeated 3' of itself).
    """
    op, bases, inserted = (match["op"] or "").lower(), match["bases"], match["inserted"]
    if match["ref"]:
        if hi != lo:
            raise _error(f"a substitution names one position: {words!r}", path, line)
        return lo, orient(match["ref"].upper()), orient(match["alt"].upper())
    if op in ("delins", "ins") and (inserted or not bases or bases.isdigit()):
        raise _error(f"unknown alteration syntax {words!r}", path, line)
    if op == "dup" and inserted:
        raise _error(f"unknown alteration syntax {words!r}", path, line)
    if op == "ins":
        if hi - lo != 1:
            raise _error(f"an insertion goes between two adjacent positions: {words!r}", path, line)
        return hi, "", orient(bases.upper())
    if op == "dup":
        written = _written_bases(bases, genome, "a duplication", words, path, line)
        return after, "", orient(written) if written else _known(genome, words, path, line)
    written = _written_bases(bases if op == "del" else None, genome, "a deletion", words, path, line)
    ref = orient(written) if written else _known(genome, words, path, line)
    alt = bases if op == "delins" else inserted or ""
    return lo, ref, orient(alt.upper())


def _cdna(text: str, tx: Transcript, panel: Panel, words: str, path, line) -> BackMapped:
    match = _CDNA.fullmatch(text)
    try:
        first = _c_to_genomic(tx, match["start"])
        last = _c_to_genomic(tx, match["end"]) if match["end"] else first
    except ValueError as exc:
        raise InputFormatError(f"{exc}: {words!r}", path=path, line=line,
                               hint="check the gene and the c. position") from None
    plus = tx.strand == "+"
    if (last < first) if plus else (last > first):
        raise _error(f"cDNA range ends before it starts: {words!r}", path, line)
    lo, hi = min(first, last), max(first, last)
    orient = (lambda bases: bases) if plus else reverse_complement
    # a dup repeats the span 3' of itself in transcript orientation: genomic right (+) or left (-)
    after = hi + 1 if plus else lo
    pos, ref, alt = _edit(match, lo, hi, panel.genome_bases(tx.chrom, lo, hi), orient, after, words, path, line)
    return BackMapped(KIND_CDNA, tx.gene, tx.chrom, pos, ref, alt, alteration=words,
                      note=f"cDNA input on {tx.transcript}")


def _genomic(text: str, panel: Panel, path, line) -> BackMapped | None:
    """chr12:25245350 C>A, 12-25245350-C-A, chr12:g.25245350C>A and g. indels; None for other text."""
    match = _GENOMIC_SUBST.fullmatch(text) or _GENOMIC_DASHED.fullmatch(text)
    if match:
        return BackMapped(KIND_GENOMIC, "", text[:match.end("chrom")], int(match["pos"]), match["ref"].upper(),
                          match["alt"].upper(), alteration=text, note="genomic input")
    match = _GENOMIC_HGVS.fullmatch(text)
    if not match:
        return None
    lo = int(match["start"])
    hi = int(match["end"]) if match["end"] else lo
    if hi < lo:
        raise _error(f"genomic range ends before it starts: {text!r}", path, line)
    genome = panel.genome_bases(canonical_contig(match["chrom"]), lo, hi)
    pos, ref, alt = _edit(match, lo, hi, genome, lambda bases: bases, hi + 1, text, path, line)
    return BackMapped(KIND_GENOMIC, "", text[:match.end("chrom")], pos, ref, alt, alteration=text,
                      note="genomic input")


# --- regions named in "not detected" rows -------------------------------------------------
def parse_codons(text: str, tx: Transcript, *, path: str | None = None, line: int | None = None) -> list[str]:
    """`G12/G13/Q61` (or `12, 13, 61`) as checked residue labels ["G12", "G13", "Q61"]; [] if not codons."""
    parts = [p for p in re.split(r"\s*[/,]\s*|\s+and\s+", text.strip()) if p]
    matches = [_CODON.fullmatch(p) for p in parts]
    if not parts or not all(matches):
        return []
    labels = []
    for match in matches:
        pos = int(match["pos"])
        if not 1 <= pos < len(tx.cds_protein):
            raise InputFormatError(f"{tx.gene} {tx.transcript} has no residue {pos}: {text!r}", path=path,
                                   line=line, hint="check the gene and the codons")
        residue = tx.cds_protein[pos - 1]
        if match["ref"]:
            _check_residue(tx, _one_letter(match["ref"]), pos, f"{tx.gene} {text}", path, line)
        labels.append(f"{residue}{pos}")
    return labels
