"""Loaders and helpers for comparing krasannot's protein changes with real VEP output.

The inputs live in the shared validation folder (../shared beside the checkout, or
$KRASANNOT_SHARED) and are read in place, never copied. Every loader returns one
DataFrame with one row per source record:

    row, sample, chrom, pos, ref, alt        -- a calls table (VCF-style alleles, "" = empty)
    src_gene, src_class, expected            -- the source's gene, class and protein change
    src_transcripts                          -- the transcript of `expected` ("" = unknown)
    src_refseq                               -- the source's RefSeq cross-reference, if any
    src_ref, src_alt, src_pos                -- the alleles as written in the source

`sample` is the row number, so rows of different patients are never merged into one MNV.

The module also holds an *independent* mini model of the panel's coding sequences (read
straight from the bundle JSON, none of krasannot's annotation code) that decides whether a
protein change such as "p.E746_A750del" describes what a call's alleles do to the
protein. The comparison uses it to tell a source row that contradicts its own alleles
from a krasannot bug, and to check that krasannot's own answers describe the alleles.
"""

from __future__ import annotations

import gzip
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

# --- where the shared data is ----------------------------------------------------------------


def shared_dir() -> Path:
    """../shared beside the checkout, or $KRASANNOT_SHARED."""
    env = os.environ.get("KRASANNOT_SHARED")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2].parent / "shared"


def validation_dir() -> Path:
    return shared_dir() / "validation"


BUNDLE_DIR = Path(__file__).resolve().parents[2] / "resources" / "panel"

# --- source loaders ----------------------------------------------------------------------------

_CALL_COLUMNS = ["row", "sample", "chrom", "pos", "ref", "alt", "src_gene", "src_class", "expected",
                 "src_transcripts", "src_refseq", "src_pos", "src_ref", "src_alt"]


def _empty(allele: str) -> str:
    allele = (allele or "").strip().upper()
    return "" if allele in ("-", ".") else allele


def _maf_to_vcf(start: int, ref: str, alt: str) -> tuple[int, str, str]:
    """MAF coordinates to VCF-style ones with empty alleles allowed."""
    ref, alt = _empty(ref), _empty(alt)
    if not ref:          # insertion: Start_Position is the base before the gap
        return start + 1, "", alt
    return start, ref, alt


def load_cancerhotspots(build: str) -> pd.DataFrame:
    """cancerhotspots v2 (no header): chrom pos ref alt gene class protein_change extra."""
    path = validation_dir() / "cancerhotspots" / f"cancerhotspots_v2_{build}.tsv"
    raw = pd.read_csv(path, sep="\t", header=None, dtype=str, keep_default_na=False,
                      names=["chrom", "pos", "ref", "alt", "gene", "cls", "protein", "extra"])
    rows = []
    for i, r in enumerate(raw.itertuples(index=False)):
        # MAF-style alleles: an insertion sits after `pos`
        pos, ref, alt = _maf_to_vcf(int(r.pos), r.ref, r.alt)
        rows.append((i, str(i), r.chrom, pos, ref, alt, r.gene, r.cls, r.protein, "", "",
                     int(r.pos), r.ref, r.alt))
    return pd.DataFrame(rows, columns=_CALL_COLUMNS)


def load_msk_lung() -> pd.DataFrame:
    """lung_msk_mind_2020 MAF (GRCh37), with VEP's HGVSp_Short, Transcript_ID and RefSeq."""
    return load_maf("lung_msk_mind_2020/data_mutations.txt")


def load_maf(relative: str) -> pd.DataFrame:
    """A VEP-annotated MAF under validation/ (cBioPortal data_mutations style)."""
    path = validation_dir() / relative
    maf = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, comment="#")
    rows = []
    for i, r in enumerate(maf.to_dict("records")):
        ref = r["Reference_Allele"]
        alt = r["Tumor_Seq_Allele2"]
        if _empty(alt) == _empty(ref):
            alt = r["Tumor_Seq_Allele1"]
        pos, nref, nalt = _maf_to_vcf(int(r["Start_Position"]), ref, alt)
        # VEP's HGVSp_Short is on Transcript_ID; RefSeq is only a cross-reference to it
        transcripts = r.get("Transcript_ID", "") or r.get("RefSeq", "")
        rows.append((i, str(i), r["Chromosome"], pos, nref, nalt, r["Hugo_Symbol"],
                     r["Variant_Classification"], r["HGVSp_Short"], transcripts, r.get("RefSeq", ""),
                     int(r["Start_Position"]), ref, alt))
    return pd.DataFrame(rows, columns=_CALL_COLUMNS)


def load_pcgr_vcf(build: str) -> pd.DataFrame:
    """pcgr T001 raw VCF (no annotation): one row per record and ALT allele.

    `record_key` identifies a record across the two builds without any annotation:
    REF/ALT + the calling algorithms (TAL) + control and tumour depth (DPC, DPT). INFO and
    the genotype are not used: the lifted-over file changed a few of them (TVAF, GT).
    """
    name = {"GRCh37": "grch37", "GRCh38": "grch38"}[build]
    path = validation_dir() / "pcgr_T001" / f"T001-COAD.{name}.vcf.gz"
    rows, keys = [], []
    with gzip.open(path, "rt") as handle:
        for line in handle:
            if line.startswith("#"):
                continue
            f = line.rstrip("\n").split("\t")
            for alt in f[4].split(","):
                i = len(rows)
                rows.append((i, str(i), f[0], int(f[1]), f[3].upper(), alt.upper(), "", "", "", "", "",
                             int(f[1]), f[3], alt))
                info = dict(x.split("=", 1) for x in f[7].split(";") if "=" in x)
                fmt = dict(zip(f[8].split(":"), f[9].split(":"))) if len(f) > 9 else {}
                keys.append("|".join([f[3], alt, info.get("TAL", ""), fmt.get("DPC", ""), fmt.get("DPT", "")]))
    out = pd.DataFrame(rows, columns=_CALL_COLUMNS)
    out["record_key"] = keys
    return out


# --- the panel ------------------------------------------------------------------------------


def bundle_records(build: str) -> list[dict]:
    with open(BUNDLE_DIR / f"{build}.bundle.json", encoding="utf-8") as handle:
        return json.load(handle)["transcripts"]


def accession(identifier: str) -> str:
    """NM_004985.5 -> NM_004985; ENST00000311936.8 -> ENST00000311936."""
    return identifier.strip().split(".")[0].upper()


def panel_transcript_ids(build: str) -> dict[str, set[str]]:
    """gene -> accessions (no version) of the panel transcript and its aliases."""
    return {r["gene"]: {accession(r["transcript"])} | {accession(a) for a in r.get("aliases", [])}
            for r in bundle_records(build)}


# --- protein change notation ----------------------------------------------------------------------

_THREE = {"Ala": "A", "Arg": "R", "Asn": "N", "Asp": "D", "Cys": "C", "Gln": "Q", "Glu": "E",
          "Gly": "G", "His": "H", "Ile": "I", "Leu": "L", "Lys": "K", "Met": "M", "Phe": "F",
          "Pro": "P", "Ser": "S", "Thr": "T", "Trp": "W", "Tyr": "Y", "Val": "V", "Ter": "*",
          "Sec": "U", "Xaa": "X"}
_THREE_RE = re.compile("|".join(_THREE))


def normalise_p(text: str) -> str:
    """One spelling for protein changes: no "p.", one-letter residues, "*" for stops,
    "fs*N" (or "fs" when the new stop is unknown), "M1?" for any start loss, VEP's
    multi-residue substitutions ("HG632QW") as delins or a missense."""
    s = (text or "").strip()
    if s in ("", ".", "-", "NA", "nan"):
        return ""
    if s.startswith("p."):
        s = s[2:]
    s = s.strip("()")
    s = _THREE_RE.sub(lambda m: _THREE[m.group(0)], s)
    if s in ("=", "?"):
        return s
    if s.startswith("M1") and "?" in s:
        return "M1?"
    s = re.sub(r"fs(?:\*|X)?\??$", "fs", s)             # fs, fs*, fs*? -> fs
    s = re.sub(r"fs(?:\*|X)(\d+)$", r"fs*\1", s)         # fsX12 -> fs*12
    m = re.fullmatch(r"([A-Z*])(\d+)\1", s)
    if m:                                                # P114P: a synonymous change
        return f"{m.group(1)}{m.group(2)}="
    m = re.fullmatch(r"([A-Z*]{2,})(\d+)([A-Z*]{2,})", s)
    if m and len(m.group(1)) == len(m.group(3)):         # VEP's MNV style: HG632QW
        a, pos, b = m.group(1), int(m.group(2)), m.group(3)
        while a and a[0] == b[0]:
            a, b, pos = a[1:], b[1:], pos + 1
        while a and a[-1] == b[-1]:
            a, b = a[:-1], b[:-1]
        if not a:
            return f"{m.group(1)[0]}{m.group(2)}="
        if "*" in b:
            b = b[:b.index("*") + 1]
        if len(a) == 1 and len(b) == 1:
            return f"{a}{pos}{b}"
        if len(a) == 1:
            return f"{a}{pos}delins{b}"
        return f"{a[0]}{pos}_{a[-1]}{pos + len(a) - 1}delins{b}"
    return s


def is_skipped_change(text: str) -> bool:
    """Protein changes we do not compare: empty, splice ("X123_splice") and intronic
    Genome-Nexus style placeholders ("*963*")."""
    raw = (text or "").strip().removeprefix("p.")
    if re.fullmatch(r"\*\d+\*", raw):
        return True
    s = normalise_p(text)
    return not s or s == "?" or "splice" in s or s.startswith("X")


_FS_TAIL = re.compile(r"^(.*fs)(\*\d+)?$")


def same_change(expected: str, ours: str) -> tuple[bool, str]:
    """(agree, note). A frameshift whose new stop one side does not know is compared up to
    "fs" and noted; "=" alone matches any synonymous change."""
    e, o = normalise_p(expected), normalise_p(ours)
    if e == o:
        return True, ""
    if e == "=" and o.endswith("="):
        return True, ""
    me, mo = _FS_TAIL.match(e), _FS_TAIL.match(o)
    if me and mo and me.group(1) == mo.group(1) and not (me.group(2) and mo.group(2)):
        return True, "fs stop unknown on one side"
    return False, ""


# --- an independent model of the panel's coding sequences -----------------------------------------

_COMP = str.maketrans("ACGTN", "TGCAN")
_AA = "FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG"
_CODE = {a + b + c: _AA[16 * i + 4 * j + k]
         for i, a in enumerate("TCAG") for j, b in enumerate("TCAG") for k, c in enumerate("TCAG")}


def _translate_to_stop(cds: str) -> tuple[str, bool]:
    """Protein up to and including the first stop; (protein, closed)."""
    out = []
    for i in range(0, len(cds) - 2, 3):
        aa = _CODE.get(cds[i:i + 3], "X")
        out.append(aa)
        if aa == "*":
            return "".join(out), True
    return "".join(out), False


@dataclass
class Mutant:
    ref_protein: str      # reference protein, stop included
    protein: str          # mutant protein up to its first stop (or the end of the known CDS)
    closed: bool          # a stop was reached
    start_changed: bool   # the ATG is gone


class CdsModel:
    """One panel transcript's CDS: genomic positions (ascending) and forward-strand bases."""

    def __init__(self, record: dict):
        self.gene = record["gene"]
        self.chrom = str(record["chrom"]).removeprefix("chr")
        self.strand = record["strand"]
        known: dict[int, str] = {}
        for start, seq in record.get("sequence", []):
            for k, base in enumerate(seq.upper()):
                known[int(start) + k] = base
        lo_cds, hi_cds = int(record["cds_start"]), int(record["cds_end"])
        positions = []
        for a, b in record["exons"]:
            lo, hi = max(min(a, b), lo_cds), min(max(a, b), hi_cds)
            positions.extend(range(lo, hi + 1))
        self.positions = np.array(sorted(positions), dtype=np.int64)
        self.index = {int(p): i for i, p in enumerate(self.positions)}
        self.fwd = "".join(known.get(int(p), "N") for p in self.positions)
        self.ref_protein, _ = _translate_to_stop(self._oriented(self.fwd))

    def _oriented(self, fwd: str) -> str:
        return fwd if self.strand == "+" else fwd.translate(_COMP)[::-1]

    @staticmethod
    def _trim(pos: int, ref: str, alt: str) -> tuple[int, str, str]:
        ref, alt = ref.upper(), alt.upper()
        while ref and alt and ref[-1] == alt[-1]:
            ref, alt = ref[:-1], alt[:-1]
        while ref and alt and ref[0] == alt[0]:
            ref, alt, pos = ref[1:], alt[1:], pos + 1
        return pos, ref, alt

    def deleted_cds_bases(self, pos: int, ref: str, alt: str) -> int | None:
        """For a pure deletion that reaches outside the CDS (into an intron): how many CDS
        bases it removes. None for anything else."""
        pos, ref, alt = self._trim(pos, ref, alt)
        if alt or not ref:
            return None
        inside = sum(p in self.index for p in range(pos, pos + len(ref)))
        return inside if 0 < inside < len(ref) else None

    def mutate(self, pos: int, ref: str, alt: str) -> Mutant | None:
        """Apply a VCF-style change; None when it leaves the CDS, crosses an intron, or REF
        does not match."""
        pos, ref, alt = self._trim(pos, ref, alt)
        if ref:
            idx = [self.index.get(p) for p in range(pos, pos + len(ref))]
            if any(i is None for i in idx) or idx[-1] - idx[0] != len(ref) - 1:
                return None
            i = idx[0]
            if self.fwd[i:i + len(ref)] != ref:
                return None
        else:
            before, i = self.index.get(pos - 1), self.index.get(pos)
            if before is None or i is None or i - before != 1:
                return None
        fwd = self.fwd[:i] + alt + self.fwd[i + len(ref):]
        cds = self._oriented(fwd)
        protein, closed = _translate_to_stop(cds)
        return Mutant(self.ref_protein, protein, closed, cds[:3] != "ATG")


def load_models(build: str) -> dict[str, CdsModel]:
    return {r["gene"]: CdsModel(r) for r in bundle_records(build)}


_SIMPLE = re.compile(r"(?P<a>[A-Z*])(?P<p>\d+)(?P<b>[A-Z*]|=)")
_FS = re.compile(r"(?P<a>[A-Z*])(?P<p>\d+)(?P<b>[A-Z*])?fs(\*(?P<n>\d+))?")
_EXT = re.compile(r"\*(?P<p>\d+)(?P<b>[A-Z])ext\*?(?P<n>\d+|\?)?")
_EDIT = re.compile(r"(?P<a>[A-Z*])(?P<p>\d+)(_(?P<a2>[A-Z*])(?P<p2>\d+))?"
                   r"(?P<kind>delins|del|dup|ins)(?P<seq>[A-Z*]*)")


def implied_cds_change(change: str) -> int | None:
    """Net CDS length change a protein change implies (in-frame edits only)."""
    s = normalise_p(change)
    if s == "=" or ((m := _SIMPLE.fullmatch(s)) and "*" not in (m["a"], m["b"])):
        return 0
    if (m := _EDIT.fullmatch(s)) and "*" not in m["seq"]:
        n = int(m["p2"] or m["p"]) - int(m["p"]) + 1
        return {"del": -3 * n, "dup": 3 * n, "ins": 3 * len(m["seq"]),
                "delins": 3 * (len(m["seq"]) - n)}[m["kind"]]
    return None


def describes(change: str, mutant: Mutant | None, deleted_cds: int | None = None) -> bool | None:
    """Does the protein change describe this mutant protein (any valid placement, HGVS
    3' rule not required)? None when it cannot be judged.

    Without a mutant (the change leaves the CDS), a deletion that removes `deleted_cds`
    coding bases cannot be an in-frame change of another size.
    """
    s = normalise_p(change)
    if mutant is None:
        implied = implied_cds_change(s)
        if deleted_cds is not None and implied is not None and implied != -deleted_cds:
            return False
        return None
    R, M, closed = mutant.ref_protein, mutant.protein, mutant.closed

    def residue(p: int, aa: str) -> bool:
        return 0 < p <= len(R) and R[p - 1] == aa

    def as_expected(expected: str) -> bool:
        if "*" in expected:
            expected = expected[:expected.index("*") + 1]
        return M == expected if closed else expected.startswith(M)

    if s == "M1?":
        return mutant.start_changed
    if mutant.start_changed:
        return False
    if s == "=":
        return as_expected(R)
    if m := _SIMPLE.fullmatch(s):
        p, a, b = int(m["p"]), m["a"], m["b"]
        if not residue(p, a):
            return False
        if b == "=":
            return as_expected(R)
        if a == "*" and b != "*":  # a stop lost written without "ext"
            return M[:p - 1] == R[:p - 1] and len(M) >= p and M[p - 1] == b
        return as_expected(R[:p - 1] + b + R[p:])
    if m := _FS.fullmatch(s):
        p = int(m["p"])
        if not residue(p, m["a"]) or M[:p - 1] != R[:p - 1] or len(M) < p:
            return False
        if m["b"] and M[p - 1] != m["b"]:
            return False
        if m["n"] and closed:
            return len(M) == p - 1 + int(m["n"])
        return True
    if m := _EXT.fullmatch(s):
        p = int(m["p"])
        if not residue(p, "*") or M[:p - 1] != R[:p - 1] or len(M) < p or M[p - 1] != m["b"]:
            return False
        if m["n"] and m["n"] != "?" and closed:
            return len(M) - p in (int(m["n"]), int(m["n"]) - 1)
        return True
    if m := _EDIT.fullmatch(s):
        p, kind, seq = int(m["p"]), m["kind"], m["seq"]
        p2 = int(m["p2"]) if m["p2"] else p
        if not residue(p, m["a"]) or (m["a2"] and not residue(p2, m["a2"])) or p2 < p:
            return False
        if kind == "del" and not seq:
            return as_expected(R[:p - 1] + R[p2:])
        if kind == "dup" and not seq:
            return as_expected(R[:p2] + R[p - 1:p2] + R[p2:])
        if kind == "ins" and seq and p2 == p + 1:
            return as_expected(R[:p] + seq + R[p:])
        if kind == "delins" and seq:
            return as_expected(R[:p - 1] + seq + R[p2:])
        return False
    return None
