"""HGVS protein descriptions from a change to a coding sequence.

`describe_protein_change` compares the reference protein with the protein of the
changed CDS and describes the smallest difference, as VEP does: unchanged residues
are trimmed (so a change that keeps codon 892 and makes codon 893 a stop is p.Q893*),
indels in repeats sit at their 3'-most residue, an insertion of the preceding residues
is a dup, and a frameshift reports its new stop (p.G13Vfs*5). Used for every coding
change except plain SNVs, which `snv_protein_changes` handles column-wise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..models import CODON_TABLE, THREE_LETTER
from ..reference.bundle import Transcript, translate, translate_to_stop


@dataclass(frozen=True)
class ProteinChange:
    hgvsp: str          # p.Gly12Cys
    hgvsp_short: str    # p.G12C
    term: str           # Sequence Ontology term of the protein-level effect
    position: str       # "12" or "746-750"


def _three(residues: str) -> str:
    return "".join(THREE_LETTER.get(aa, "Xaa") for aa in residues)


def _both(fmt: str, **residues: str) -> tuple[str, str]:
    """Fill a template once with 3-letter and once with 1-letter residues."""
    long = fmt.format(**{k: _three(v) for k, v in residues.items()})
    short = fmt.format(**residues)
    return "p." + long, "p." + short


def describe_protein_change(tx: Transcript, cds_start: int, cds_end: int, alt: str) -> ProteinChange:
    """Describe replacing CDS bases cds_start..cds_end (1-based) by `alt` (transcript strand).

    An insertion has cds_end == cds_start - 1 and goes before cds_start.
    """
    cds, ref_protein = tx.cds, tx.cds_protein
    alt_cds = cds[:cds_start - 1] + alt + cds[cds_end:]
    first_codon = (cds_start - 1) // 3
    delta = len(alt) - (cds_end - cds_start + 1)

    if first_codon == 0 and alt_cds[:3] != cds[:3]:
        hgvsp, short = _both("{a}1?", a="M")
        return ProteinChange(hgvsp, short, "start_lost", "1")

    if delta % 3:
        return _frameshift(tx, ref_protein, alt_cds, first_codon)

    # in frame, codons outside the changed window are the reference's: translate the window only
    window_start = first_codon * 3
    window_end = max(window_start, -(-cds_end // 3) * 3)
    alt_protein = (ref_protein[:first_codon] + translate(alt_cds[window_start:window_end + delta])
                   + ref_protein[window_end // 3:])
    n = 0
    limit = min(len(ref_protein), len(alt_protein))
    while n < limit and ref_protein[n] == alt_protein[n]:
        n += 1
    if n and ref_protein[n - 1] == "*":  # unchanged through the stop: what follows is never made
        hgvsp, short = _both("{a}" + str(n) + "=", a="*")
        return ProteinChange(hgvsp, short, "stop_retained_variant", str(n))
    s = 0
    while s < limit - n and ref_protein[-1 - s] == alt_protein[-1 - s]:
        s += 1
    deleted = ref_protein[n:len(ref_protein) - s]
    inserted = alt_protein[n:len(alt_protein) - s]
    pos = n + 1  # 1-based position of the first changed residue

    if not deleted and not inserted:
        codon = first_codon + 1
        residue = ref_protein[first_codon]
        hgvsp, short = _both("{a}" + str(codon) + "=", a=residue)
        term = "stop_retained_variant" if residue == "*" else "synonymous_variant"
        return ProteinChange(hgvsp, short, term, str(codon))
    if "*" in deleted and "*" not in inserted:
        return _extension(tx, ref_protein, alt_cds, n)
    term_if_stop = None
    if "*" in inserted:  # a new in-frame stop: nothing after it is made
        inserted = inserted[:inserted.index("*") + 1]
        term_if_stop = "stop_gained"
        if inserted == "*" and len(deleted) == 1:
            hgvsp, short = _both("{a}" + str(pos) + "{b}", a=deleted, b="*")
            return ProteinChange(hgvsp, short, "stop_gained", str(pos))

    if len(deleted) == 1 and len(inserted) == 1:
        hgvsp, short = _both("{a}" + str(pos) + "{b}", a=deleted, b=inserted)
        return ProteinChange(hgvsp, short, term_if_stop or "missense_variant", str(pos))
    if not inserted:
        if len(deleted) == 1:
            hgvsp, short = _both("{a}" + str(pos) + "del", a=deleted)
            return ProteinChange(hgvsp, short, "inframe_deletion", str(pos))
        last = pos + len(deleted) - 1
        hgvsp, short = _both("{a}" + str(pos) + "_{b}" + str(last) + "del", a=deleted[0], b=deleted[-1])
        return ProteinChange(hgvsp, short, "inframe_deletion", f"{pos}-{last}")
    if not deleted:
        k = len(inserted)
        if n >= k and ref_protein[n - k:n] == inserted:
            if k == 1:
                hgvsp, short = _both("{a}" + str(n) + "dup", a=inserted)
                return ProteinChange(hgvsp, short, term_if_stop or "inframe_insertion", str(n))
            hgvsp, short = _both("{a}" + str(n - k + 1) + "_{b}" + str(n) + "dup", a=inserted[0], b=inserted[-1])
            return ProteinChange(hgvsp, short, term_if_stop or "inframe_insertion", f"{n - k + 1}-{n}")
        hgvsp, short = _both("{a}" + str(n) + "_{b}" + str(n + 1) + "ins{c}",
                             a=ref_protein[n - 1], b=ref_protein[n], c=inserted)
        return ProteinChange(hgvsp, short, term_if_stop or "inframe_insertion", f"{n}-{n + 1}")
    last = pos + len(deleted) - 1
    if len(deleted) == 1:
        hgvsp, short = _both("{a}" + str(pos) + "delins{c}", a=deleted, c=inserted)
        position = str(pos)
    else:
        hgvsp, short = _both("{a}" + str(pos) + "_{b}" + str(last) + "delins{c}",
                             a=deleted[0], b=deleted[-1], c=inserted)
        position = f"{pos}-{last}"
    if term_if_stop:
        term = term_if_stop
    elif len(inserted) == len(deleted):
        term = "missense_variant"
    else:
        term = "inframe_insertion" if len(inserted) > len(deleted) else "inframe_deletion"
    return ProteinChange(hgvsp, short, term, position)


def _frameshift(tx: Transcript, ref_protein: str, alt_cds: str, first_codon: int) -> ProteinChange:
    # read on into the 3'UTR where the bundle knows it; otherwise the new stop is unknown
    tail = translate_to_stop(alt_cds[first_codon * 3:] + tx.utr3)
    ref_tail = ref_protein[first_codon:]
    k = 0
    while k < len(tail) and k < len(ref_tail) and tail[k] == ref_tail[k]:
        if tail[k] == "*":  # same protein up to and including the stop
            codon = first_codon + k + 1
            hgvsp, short = _both("{a}" + str(codon) + "=", a="*")
            return ProteinChange(hgvsp, short, "stop_retained_variant", str(codon))
        k += 1
    pos = first_codon + k + 1
    if k >= len(tail):  # ran off the known sequence before differing
        hgvsp, short = _both("{a}" + str(pos) + "fs", a=ref_tail[k] if k < len(ref_tail) else "X")
        return ProteinChange(hgvsp, short, "frameshift_variant", str(pos))
    ref_aa, alt_aa = ref_tail[k], tail[k]
    if ref_aa == "*":
        new_stop = "?" if not tail.endswith("*") else str(len(tail) - k - 1)
        hgvsp, short = _both("{a}" + str(pos) + "{b}ext{s}" + new_stop, a="*", b=alt_aa, s="*")
        return ProteinChange(hgvsp, short, "stop_lost", str(pos))
    if alt_aa == "*":
        hgvsp, short = _both("{a}" + str(pos) + "{b}", a=ref_aa, b="*")
        return ProteinChange(hgvsp, short, "frameshift_variant", str(pos))
    new_stop = str(len(tail) - k) if tail.endswith("*") else "?"
    hgvsp, short = _both("{a}" + str(pos) + "{b}fs{s}" + new_stop, a=ref_aa, b=alt_aa, s="*")
    return ProteinChange(hgvsp, short, "frameshift_variant", str(pos))


def _extension(tx: Transcript, ref_protein: str, alt_cds: str, n: int) -> ProteinChange:
    """The stop codon is lost: the protein runs on into the 3'UTR until a new stop, if known."""
    stop_index = len(ref_protein) - 1
    tail = translate_to_stop(alt_cds[stop_index * 3:] + tx.utr3)
    pos = stop_index + 1
    new_stop = str(len(tail) - 1) if tail.endswith("*") else "?"
    alt_aa = tail[0] if tail else "X"
    hgvsp, short = _both("{a}" + str(pos) + "{b}ext{s}" + new_stop, a="*", b=alt_aa, s="*")
    return ProteinChange(hgvsp, short, "stop_lost", str(pos))


# --- column-wise SNVs -------------------------------------------------------------------
_BASE_CODE = np.full(256, 4, dtype=np.int64)
for _i, _b in enumerate("TCAG"):
    _BASE_CODE[ord(_b)] = _i
# codon code = 16*b1 + 4*b2 + b3 over TCAG; any N gives code 64 -> X
_CODE_TO_AA = np.array([CODON_TABLE[a + b + c] for a in "TCAG" for b in "TCAG" for c in "TCAG"] + ["X"])
_CODE_TO_THREE = np.array([THREE_LETTER[aa] for aa in _CODE_TO_AA])


def snv_protein_changes(tx: Transcript, cds_pos: np.ndarray, alt: np.ndarray) -> dict[str, np.ndarray]:
    """Protein change of single-base substitutions at CDS positions (1-based), column-wise.

    Returns arrays codon (1-based, as text), hgvsp, hgvsp_short and term. A row whose
    effect needs the sequence beyond the codon (the stop codon lost) comes back with an
    empty hgvsp and must go through describe_protein_change.
    """
    cds = np.frombuffer(tx.cds.encode("ascii"), dtype=np.uint8)
    codon_index = (cds_pos - 1) // 3
    phase = (cds_pos - 1) % 3
    first = codon_index * 3
    bases = np.stack([cds[first], cds[first + 1], cds[first + 2]], axis=1)
    alt_bases = bases.copy()
    alt_codes = np.frombuffer("".join(alt).encode("ascii"), dtype=np.uint8)
    alt_bases[np.arange(len(cds_pos)), phase] = alt_codes
    ref_code = _codon_code(bases)
    alt_code = _codon_code(alt_bases)
    ref_aa, alt_aa = _CODE_TO_AA[ref_code], _CODE_TO_AA[alt_code]
    codon = (codon_index + 1).astype(str)
    same = ref_aa == alt_aa
    start_lost = (codon_index == 0) & ~same
    stop_lost = (ref_aa == "*") & ~same
    hgvsp_short = _concat("p.", ref_aa, codon, np.where(same, "=", alt_aa))
    hgvsp = _concat("p.", _CODE_TO_THREE[ref_code], codon, np.where(same, "=", _CODE_TO_THREE[alt_code]))
    term = np.select([start_lost, same & (ref_aa == "*"), same, alt_aa == "*", stop_lost],
                     ["start_lost", "stop_retained_variant", "synonymous_variant", "stop_gained", "stop_lost"],
                     "missense_variant")
    hgvsp = np.where(start_lost, "p.Met1?", np.where(stop_lost, "", hgvsp))
    hgvsp_short = np.where(start_lost, "p.M1?", np.where(stop_lost, "", hgvsp_short))
    return {"codon": codon, "hgvsp": hgvsp.astype(object), "hgvsp_short": hgvsp_short.astype(object),
            "term": term.astype(object)}


def _concat(*parts) -> np.ndarray:
    out = np.asarray(parts[0], dtype=object)
    for part in parts[1:]:
        out = out + np.asarray(part, dtype=object)
    return out


def _codon_code(bases: np.ndarray) -> np.ndarray:
    codes = _BASE_CODE[bases]
    code = codes[:, 0] * 16 + codes[:, 1] * 4 + codes[:, 2]
    return np.where((codes == 4).any(axis=1), 64, code)  # 64 = X
