"""Opening a BAM or CRAM: index it if needed, settle the genome build and the sample name."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import BuildMismatchError, InputFormatError, UsageError
from ..reference.builds import build_from_contig_lengths, canonical_contig


@dataclass
class Alignments:
    """An open BAM/CRAM with what the run needs to know about it."""

    handle: object
    path: str
    build: str
    build_reason: str
    contig_names: dict            # canonical contig -> the file's name (12 -> chr12)
    sample: str
    notes: list = field(default_factory=list)
    tmpdir: object = None
    index_path: str | None = None  # the index made into `tmpdir`, if the file had none
    reference: str | None = None   # the FASTA a CRAM needs

    def reopen(self):
        """Another handle on the same file (a forked worker must not share this one's file position)."""
        import pysam

        kwargs = {"reference_filename": self.reference} if self.reference else {}
        return pysam.AlignmentFile(self.path, index_filename=self.index_path, **kwargs)

    def bai(self):
        """The BAM's .bai (bamfile.BaiIndex), or None: a CRAM, or another kind of index."""
        from .bamfile import find_bai, read_bai

        if self.handle.is_cram:
            return None
        path = find_bai(self.path, self.index_path)
        return read_bai(path) if path else None

    def close(self) -> None:
        self.handle.close()
        if self.tmpdir is not None:
            self.tmpdir.cleanup()


def open_alignments(path: str, build: str, reference: str | None = None, sample: str | None = None) -> Alignments:
    """Open `path` (BAM or CRAM), index it into a temp dir if it has no index, and settle the build."""
    import pysam

    if not os.path.exists(path):
        raise InputFormatError("alignment file not found", path=path)
    with open(path, "rb") as handle:
        magic = handle.read(4)
    is_cram = magic == b"CRAM"
    if is_cram and not reference:
        raise UsageError(f"{path} is a CRAM: give the FASTA it was written against with --reference",
                         hint="krasannot works offline and never downloads reference sequence")
    if reference and not os.path.exists(reference):
        raise InputFormatError("reference FASTA not found", path=reference)
    mode = "rc" if is_cram else "rb"
    kwargs = {"reference_filename": reference} if is_cram else {}
    notes, tmpdir, index = [], None, None
    try:
        handle = pysam.AlignmentFile(path, mode, **kwargs)
    except (OSError, ValueError) as exc:
        raise InputFormatError(f"not a readable BAM or CRAM ({exc})", path=path,
                               hint="give a coordinate-sorted BAM or CRAM") from None
    if not handle.has_index():
        handle.close()
        tmpdir = tempfile.TemporaryDirectory(prefix="krasannot-index-")
        index = os.path.join(tmpdir.name, os.path.basename(path) + (".crai" if is_cram else ".bai"))
        try:
            pysam.index(path, index)
        except pysam.utils.SamtoolsError as exc:
            tmpdir.cleanup()
            raise InputFormatError(f"has no index and cannot be indexed ({str(exc).strip()[:200]})", path=path,
                                   hint="sort it by coordinate (samtools sort) and index it") from None
        handle = pysam.AlignmentFile(path, mode, index_filename=index, **kwargs)
        notes.append("the file had no index: indexed into a temporary directory")
    lengths = dict(zip(handle.references, handle.lengths))
    header_build, why = build_from_contig_lengths(lengths)
    if build == "auto":
        if header_build is None:
            handle.close()
            raise UsageError(f"cannot tell the genome build of {path}: {why}", hint="give --build GRCh37 or GRCh38")
        build, why = header_build, f"@SQ lengths: {why}"
    elif header_build is not None and header_build != build:
        handle.close()
        raise BuildMismatchError(f"--build {build} was given, but the @SQ lengths say {header_build} ({why})",
                                 path=path, hint=f"rerun with --build {header_build}")
    else:
        why = f"given; @SQ lengths: {why}"
    names = {canonical_contig(name): name for name in handle.references}
    read_groups = [g.get("SM") for g in handle.header.to_dict().get("RG", []) if g.get("SM")]
    if sample is None:
        sample = read_groups[0] if read_groups else Path(path).name.split(".")[0]
        if len(set(read_groups)) > 1:
            notes.append(f"several read-group samples ({', '.join(sorted(set(read_groups)))}); all reads counted "
                         f"as {sample}")
    return Alignments(handle, path, build, why, names, sample, notes, tmpdir, index, reference if is_cram else None)
