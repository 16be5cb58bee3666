"""Which reader reads a file: sniffed from its first lines, never from its name alone."""

from __future__ import annotations

import gzip
from typing import Callable

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
    """vcf, maf, genotype, cna, fusion or ctdna; 'vcf' when nothing fits, so the VCF reader explains."""
    from .bam import looks_like_genotype_calls
    from .cnv import sniff_copy_number
    from .ctdna import sniff_ctdna
    from .fusions import sniff_fusions
    from .maf import looks_like_maf

    lines = first_lines(path)
    if not lines or lines[0].startswith("##fileformat="):
        return "vcf"
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
    return "vcf"


def read_any(path: str, input_format: str, *, sample: str | None, regions: list, use_index: bool,
             on_outside: Callable[[bytes], object], panel=None, build: str = "auto") -> ReadResult:
    """Read one input with the reader of its format; `panel` is needed only by ctDNA tables, `build`
    only by segment files (to place segments on genes)."""
    if input_format == "maf":
        from .maf import read_maf

        maf = read_maf(path, sample=sample)
        declared = next(iter(maf.builds)) if len(maf.builds) == 1 else None
        return ReadResult("maf", maf.calls, maf.samples, maf.n_records, maf.checksum, declared_build=declared)
    if input_format == "genotype":
        from .bam import read_genotype_calls

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

    vcf = read_vcf(path, sample=sample, regions=regions, use_index=use_index, on_outside=on_outside)
    return ReadResult("vcf", vcf.calls, vcf.samples_read, vcf.n_records, vcf.checksum,
                      contig_lengths=vcf.header.contig_lengths, n_outside=vcf.n_outside, indexed=vcf.indexed)
