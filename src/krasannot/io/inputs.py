"""Which reader reads a file: sniffed from its first lines, never from its name alone."""

from __future__ import annotations

import gzip
import re
from typing import Callable

from ..errors import InputFormatError
from .result import ReadResult

# formats whose calls need no genome build to be read (the build is chosen from the others)
BUILD_FREE = ("cna", "fusion", "genotype")


def first_lines(path: str, n: int = 50) -> list[str]:
    """The first lines of a plain or gzipped file, decoded leniently (the reader reports bad bytes)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(1 << 16)
        if head[:2] == b"\x1f\x8b":
            with gzip.open(path, "rb") as handle:
                head = handle.read(1 << 16)
    except (OSError, EOFError):
        return []
    if head.startswith(b"BCF"):
        return ["##fileformat=BCF"]
    return head.decode("utf-8", "replace").splitlines()[:n]


def sniff_format(path: str) -> str:
    """vcf, maf, genotype, cna, fusion, ctdna, or 'unknown' when nothing fits (read_any then explains).

    An empty or unreadable file, or one that starts like a VCF, is 'vcf': the VCF reader says what is wrong.
    """
    lines = first_lines(path)
    if not lines or lines[0].lstrip("\ufeff").startswith("##fileformat="):
        return "vcf"
    # the other formats' readers are imported only for a file that is not a VCF
    from .genotype_calls import looks_like_genotype_calls
    from .cnv import sniff_copy_number
    from .ctdna import sniff_ctdna
    from .fusions import sniff_fusions
    from .maf import looks_like_maf

    if looks_like_maf(lines):
        return "maf"
    header = next((line for line in lines if line.strip() and not line.startswith("#")), "")
    if looks_like_genotype_calls(header):
        return "genotype"
    if sniff_copy_number(lines):
        return "cna"
    if sniff_fusions(lines):
        return "fusion"
    if sniff_ctdna(lines):
        return "ctdna"
    if lines[0].lstrip("\ufeff").startswith(("#CHROM", "##")):
        return "vcf"  # a VCF with a broken first line: the VCF reader names what is missing
    return "unknown"


# the formats tried, each with the header it needs: (name, required names, how to say it)
_SIGNATURES = [
    ("MAF", ("Hugo_Symbol", "Chromosome", "Start_Position", "Reference_Allele", "Tumor_Seq_Allele2",
             "Tumor_Sample_Barcode")),
    ("ctDNA table", ("gene", "alteration")),
    ("megSAP cfDNA table", ("chrom", "pos", "ref", "alt", "dp_hq", "alt_count", "af")),
    ("copy-number gene table", ("gene", "copy_number")),
    ("segment file", ("ID", "chrom", "loc.start", "loc.end", "seg.mean")),
    ("cBioPortal CNA matrix", ("Hugo_Symbol",)),
    ("cBioPortal data_sv.txt", ("Sample_Id", "Site1_Hugo_Symbol", "Site2_Hugo_Symbol")),
    ("STAR-Fusion table", ("#FusionName", "LeftGene", "RightGene", "LeftBreakpoint", "RightBreakpoint")),
    ("Arriba table", ("#gene1", "gene2", "breakpoint1", "breakpoint2")),
]
TRIED = "VCF/BCF, " + ", ".join(name for name, _ in _SIGNATURES) + ", krasannot genotype calls"


def _key(name: str) -> str:
    return name.strip().strip('"').lower().replace(" ", "_")


def unrecognised_format_error(path: str) -> InputFormatError:
    """Why no reader takes a file: the formats tried and, for the nearest, what its header lacks."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(4096)
    except OSError:
        head = b""
    lines = first_lines(path)
    text_bytes = sum(32 <= b < 127 or b in (9, 10, 13) for b in head)
    if not lines or b"\x00" in head or (head[:2] != b"\x1f\x8b" and text_bytes < 0.9 * len(head)):
        return InputFormatError("not a text file any reader knows (binary content)", path=path,
                                hint=f"tried {TRIED}; give a VCF/BCF (plain or bgzipped) or a tab-separated table")
    number, header = next(((i + 1, line.lstrip("\ufeff").rstrip("\r")) for i, line in enumerate(lines)
                           if line.strip() and not line.startswith("##")), (1, lines[0]))
    given = {_key(name) for name in re.split(r"[\t,]", header)}
    best, missing = None, []
    for name, required in _SIGNATURES:
        lacking = [c for c in required if _key(c) not in given]
        score = (len(required) - len(lacking), -len(lacking))  # most of its columns there, then fewest missing
        if lacking and score[0] and (best is None or score > best[0]):
            best, missing = (score, name), lacking
    if best is None:
        nearest = ("the first line is not ##fileformat=VCF and its header names no column of these formats "
                   f"({header[:60]!r})")
    else:
        nearest = f"nearest is {best[1]}, whose header lacks column(s) " + ", ".join(missing)
    return InputFormatError(f"no reader recognises this file: {nearest}", path=path, line=number,
                            hint=f"tried {TRIED}")


def read_any(path: str, input_format: str, *, sample: str | None, regions: list, use_index: bool,
             on_outside: Callable[[bytes], object], panel=None, build: str = "auto",
             list_outside: bool = False) -> ReadResult:
    """Read one input with the reader of its format; `panel` is needed only by ctDNA tables, `build`
    only by segment files (to place segments on genes). VCF records outside `regions` are counted, and
    given to `on_outside` as CHROM..ALT text only with `list_outside`."""
    if input_format == "unknown":
        raise unrecognised_format_error(path)
    if input_format == "maf":
        from .maf import read_maf

        maf = read_maf(path, sample=sample)
        declared = next(iter(maf.builds)) if len(maf.builds) == 1 else None
        return ReadResult("maf", maf.calls, maf.samples, maf.n_records, maf.checksum, declared_build=declared,
                          skipped=maf.skipped, notes=maf.notes, warnings=maf.warnings,
                          n_other_samples=maf.n_other_samples)
    if input_format == "genotype":
        from .genotype_calls import read_genotype_calls

        return read_genotype_calls(path)
    if input_format == "cna":
        from .cnv import read_copy_number

        return read_copy_number(path, sample=sample, build=build)
    if input_format == "fusion":
        from .fusions import read_fusions

        return read_fusions(path, sample=sample)
    if input_format == "ctdna":
        from .ctdna import read_ctdna

        return read_ctdna(path, panel, sample=sample)
    from .vcf import read_vcf

    vcf = read_vcf(path, sample=sample, regions=regions, use_index=use_index, on_outside=on_outside,
                   list_outside=list_outside)
    return ReadResult("vcf", vcf.calls, vcf.samples_read, vcf.n_records, vcf.checksum, skipped=vcf.skipped,
                      contig_lengths=vcf.header.contig_lengths, n_outside=vcf.n_outside, indexed=vcf.indexed,
                      notes=vcf.notes + vcf.warnings, warnings=vcf.warnings)
