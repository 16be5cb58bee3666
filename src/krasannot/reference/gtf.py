"""Build a transcript bundle from an Ensembl or GENCODE GTF and a genome FASTA.

    build_bundle_from_gtf("gencode.v44.annotation.gtf.gz", "GRCh38.fa", ["KRAS", "NRAS"],
                          "GRCh38", "panel.bundle.json")

For every requested gene one transcript is chosen: the one tagged MANE_Select, else the
one tagged Ensembl_canonical, else the protein-coding transcript with the longest CDS
(complete CDSs before ones tagged cds_start_NF/cds_end_NF; ties: lowest transcript_id).
Its exons are stored in transcript order, its CDS span includes the stop codon (GTF CDS
features exclude it; the stop_codon features are added back), and the bundle keeps the
forward-strand bases of every exon plus `flank` bases either side, so splice-region REF
checks and frameshift read-through into the 3'UTR work.

The GTF is streamed once (plain or gzip/bgzip); only the lines of the requested genes are
parsed beyond their gene_name attribute.
"""

from __future__ import annotations

import difflib
import gzip
import os
import re
import zlib
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputFormatError, ReferenceDataError, UsageError
from ..files import file_sha256
from .builds import BUILDS, CONTIG_LENGTHS, canonical_build, canonical_contig
from .bundle import Transcript, transcript_from_record, translate, write_bundle

_GZIP_MAGIC = b"\x1f\x8b"
_ATTRIBUTE = re.compile(r'\s*([^\s";]+)\s+(?:"([^"]*)"|([^\s";]+))\s*(?:;|$)')
_XREF = re.compile(r"\b(?:[NX][MR]_\d+(?:\.\d+)?|CCDS\d+(?:\.\d+)?)\b")
_GENE_SYMBOL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]*$")
_PRIMARY_CONTIGS = frozenset(CONTIG_LENGTHS[BUILDS[-1]])
_BIOTYPE_KEYS = ("transcript_type", "transcript_biotype")
_CODING_BIOTYPES = ("protein_coding", "mRNA")   # mRNA: NCBI RefSeq GTFs
_INCOMPLETE_TAGS = frozenset({"cds_start_NF", "cds_end_NF", "mRNA_start_NF", "mRNA_end_NF"})
_STOPS = frozenset({"TAA", "TAG", "TGA"})


# --- gene lists ----------------------------------------------------------------------------
def parse_gene_list(value: str) -> list[str]:
    """Gene symbols from "KRAS,NRAS" or from a file with one symbol a line ('#' comments).

    Duplicates are dropped, the order is kept.
    """
    text = str(value).strip()
    source, lines = None, [(None, text)]
    if os.path.isfile(text):
        source = text
        try:
            with open(text, encoding="utf-8") as handle:
                lines = [(n, line.split("#", 1)[0]) for n, line in enumerate(handle, start=1)]
        except (OSError, UnicodeDecodeError) as exc:
            raise InputFormatError(f"cannot read gene list ({exc})", path=text) from None
    elif os.sep in text or text.lower().endswith((".txt", ".list", ".tsv", ".csv")):
        raise InputFormatError("gene list file not found", path=text,
                               hint="give a file with one gene a line, or comma-separated symbols")
    genes: list[str] = []
    for number, line in lines:
        for name in re.split(r"[,\s]+", line.strip()):
            if not name:
                continue
            if not _GENE_SYMBOL.match(name):
                raise (InputFormatError(f"{name!r} is not a gene symbol", path=source, line=number)
                       if source else UsageError(f"{name!r} is not a gene symbol",
                                                 hint="separate gene symbols with commas"))
            if name not in genes:
                genes.append(name)
    if not genes:
        if source:
            raise InputFormatError("gene list names no genes", path=source)
        raise UsageError("no genes given", hint="e.g. --genes KRAS,NRAS or --genes genes.txt")
    return genes


# --- GTF streaming -------------------------------------------------------------------------
@dataclass
class _GtfTranscript:
    """What the GTF says about one transcript of a requested gene."""

    transcript_id: str
    gene: str
    chrom: str
    strand: str
    line: int                      # first line that named it
    gene_id: str = ""
    transcript_version: str = ""
    biotype: str = ""
    tags: set[str] = field(default_factory=set)
    xrefs: list[str] = field(default_factory=list)
    exons: list[tuple[int, int, int]] = field(default_factory=list)        # start, end, line
    cds: list[tuple[int, int, str, int]] = field(default_factory=list)     # start, end, frame, line
    stops: list[tuple[int, int]] = field(default_factory=list)

    @property
    def cds_length(self) -> int:
        return sum(e - s + 1 for s, e, _, _ in self.cds) + sum(e - s + 1 for s, e in self.stops)

    @property
    def coding(self) -> bool:
        return bool(self.cds) and (not self.biotype or self.biotype in _CODING_BIOTYPES)

    @property
    def full_id(self) -> str:
        """Ensembl-style id.version when the GTF gives the version separately."""
        version = self.transcript_version
        if version and not self.transcript_id.endswith("." + version):
            return f"{self.transcript_id}.{version}"
        return self.transcript_id


def _attribute_value(line: bytes, key: bytes) -> bytes | None:
    """The quoted value of `key "..."` in a raw GTF line, without parsing the rest."""
    pattern = key + b' "'
    i = line.find(pattern)
    while i >= 0:
        if i > 0 and line[i - 1] in b"\t; ":
            j = line.find(b'"', i + len(pattern))
            return line[i + len(pattern):j] if j >= 0 else None
        i = line.find(pattern, i + 1)
    return None


def _gene_name(line: bytes) -> bytes | None:
    name = _attribute_value(line, b"gene_name")
    if name is None:  # NCBI RefSeq GTFs say gene "KRAS"
        name = _attribute_value(line, b"gene")
    return name


def _parse_attributes(text: str, path: str, number: int) -> tuple[dict[str, str], list[str]]:
    """Attributes of one line: the first value of every key, and all values of `tag`."""
    values: dict[str, str] = {}
    tags: list[str] = []
    for match in _ATTRIBUTE.finditer(text):
        key = match.group(1)
        value = match.group(2) if match.group(2) is not None else match.group(3)
        if key == "tag":
            tags.append(value)
        values.setdefault(key, value)
    if "transcript_id" not in values and "transcript_id" in text:
        raise ReferenceDataError("malformed GTF line: cannot read its transcript_id attribute",
                                 path=path, line=number)
    return values, tags


def _open_gtf(path: str):
    try:
        raw = open(path, "rb")
    except FileNotFoundError:
        raise ReferenceDataError("GTF file not found", path=path) from None
    except OSError as exc:
        raise ReferenceDataError(f"cannot open GTF ({exc.strerror})", path=path) from None
    magic = raw.read(2)
    raw.seek(0)
    if magic == _GZIP_MAGIC:
        return gzip.GzipFile(fileobj=raw, mode="rb"), raw
    return raw, raw


def _stream_gtf(path: str, wanted: set[str]) -> tuple[dict[tuple[str, str], _GtfTranscript],
                                                       dict[str, int], set[bytes]]:
    """Transcripts of the wanted genes, the first line of each wanted gene, all gene names."""
    wanted_bytes = {name.encode("utf-8") for name in wanted}
    transcripts: dict[tuple[str, str], _GtfTranscript] = {}
    gene_lines: dict[str, int] = {}
    all_names: set[bytes] = set()
    handle, raw = _open_gtf(path)
    number = 0
    try:
        with raw, handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip() or line.startswith((b"#", b"track ", b"browser ")):
                    continue
                tabs = line.count(b"\t")
                if tabs < 8:
                    raise ReferenceDataError(
                        f"malformed GTF line: {tabs + 1} tab-separated fields, 9 needed",
                        path=path, line=number, hint="is this a tab-separated GTF (not GFF3 or BED)?")
                name = _gene_name(line)
                if name is None:
                    continue
                all_names.add(name)
                if name in wanted_bytes:
                    _take_line(line, number, path, transcripts, gene_lines)
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise ReferenceDataError(f"the gzip stream is truncated or corrupt after line {number} ({exc})",
                                 path=path, line=number + 1,
                                 hint="download the GTF again; `gzip -t` checks a file") from None
    except OSError as exc:
        raise ReferenceDataError(f"cannot read GTF ({exc})", path=path, line=number + 1) from None
    return transcripts, gene_lines, all_names


def _take_line(line: bytes, number: int, path: str, transcripts: dict, gene_lines: dict) -> None:
    try:
        text = line.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        raise ReferenceDataError("line is not valid UTF-8 text", path=path, line=number) from None
    chrom, _source, feature, start_text, end_text, _score, strand, frame, attributes = text.split("\t", 8)
    try:
        start, end = int(start_text), int(end_text)
    except ValueError:
        raise ReferenceDataError(f"malformed GTF line: coordinates {start_text!r} and {end_text!r} must "
                                 "be integers", path=path, line=number) from None
    if start < 1 or end < start:
        raise ReferenceDataError(f"malformed GTF line: start {start} and end {end} do not make an "
                                 "interval (1-based, start <= end)", path=path, line=number)
    values, tags = _parse_attributes(attributes, path, number)
    gene = values.get("gene_name") or values.get("gene", "")
    gene_lines.setdefault(gene, number)
    transcript_id = values.get("transcript_id")
    if not transcript_id:  # gene-level line
        return
    key = (transcript_id, chrom)
    record = transcripts.get(key)
    if record is None:
        record = transcripts[key] = _GtfTranscript(transcript_id=transcript_id, gene=gene, chrom=chrom,
                                                   strand=strand, line=number)
    if strand != record.strand:
        raise ReferenceDataError(f"transcript {transcript_id} is on strand {record.strand} at line "
                                 f"{record.line} but on {strand} here", path=path, line=number)
    record.gene_id = record.gene_id or values.get("gene_id", "")
    record.transcript_version = record.transcript_version or values.get("transcript_version", "")
    record.biotype = record.biotype or next((values[k] for k in _BIOTYPE_KEYS if k in values), "")
    record.tags.update(tag.replace(" ", "_") for tag in tags)  # NCBI writes "MANE Select"
    for xref in _XREF.findall(attributes):
        if xref != transcript_id and xref not in record.xrefs:
            record.xrefs.append(xref)
    if feature == "exon":
        record.exons.append((start, end, number))
    elif feature == "CDS":
        record.cds.append((start, end, frame, number))
    elif feature == "stop_codon":
        record.stops.append((start, end))


# --- choosing and building -------------------------------------------------------------------
def _choose(candidates: list[_GtfTranscript]) -> _GtfTranscript | None:
    coding = [t for t in candidates if t.coding]
    if not coding:
        return None

    def rank(t: _GtfTranscript):
        tier = 0 if "MANE_Select" in t.tags else 1 if "Ensembl_canonical" in t.tags else 2
        incomplete = bool(t.tags & _INCOMPLETE_TAGS)
        off_primary = canonical_contig(t.chrom) not in _PRIMARY_CONTIGS
        return tier, incomplete, off_primary, -t.cds_length, t.full_id

    return min(coding, key=rank)


def _not_found_message(missing: list[str], all_names: set[bytes]) -> str:
    names = sorted(n.decode("utf-8", "replace") for n in all_names)
    by_upper = {n.upper(): n for n in names}
    parts = []
    for gene in missing:
        close = [by_upper[gene.upper()]] if gene.upper() in by_upper else []
        close += [c for c in difflib.get_close_matches(gene, names, n=3, cutoff=0.75) if c not in close]
        parts.append(f"{gene} (did you mean {' or '.join(close[:3])}?)" if close else gene)
    return f"gene{'s' if len(missing) > 1 else ''} not in the GTF: " + ", ".join(parts)


def _merged_intervals(exons: list[tuple[int, int]], flank: int, length: int) -> list[tuple[int, int]]:
    """Exons widened by `flank` on both sides, clipped to the contig, overlaps merged."""
    merged: list[list[int]] = []
    for start, end in sorted((max(1, s - flank), min(length, e + flank)) for s, e in exons):
        if merged and start <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


def _clean_bases(seq: str) -> str:
    """Upper case; anything but ACGT (soft masks aside: IUPAC codes) becomes N."""
    seq = seq.upper()
    return re.sub(r"[^ACGTN]", "N", seq)


def _check_fasta_build(build: str, contig: str, length: int, fasta_path: str) -> None:
    """Fail when a primary chromosome has exactly the other build's length."""
    if build not in BUILDS or contig not in CONTIG_LENGTHS[build] or contig == "MT":
        return
    if length == CONTIG_LENGTHS[build][contig]:
        return
    for other in BUILDS:
        if other != build and CONTIG_LENGTHS[other].get(contig) == length:
            raise ReferenceDataError(f"contig {contig} is {length} bp long, as in {other}, not {build}",
                                     path=fasta_path, hint=f"give a {build} FASTA or build for {other}")


def _record(tx: _GtfTranscript, fasta, fasta_names: dict[str, str], fasta_lengths: dict[str, int],
            build: str, flank: int, gtf_path: str, fasta_path: str) -> dict:
    gene, tid = tx.gene, tx.full_id
    contig = canonical_contig(tx.chrom)
    if tx.strand not in ("+", "-"):
        raise ReferenceDataError(f"{gene} transcript {tid} has strand {tx.strand!r}, not + or -",
                                 path=gtf_path, line=tx.line)
    if not tx.exons:
        raise ReferenceDataError(f"{gene} transcript {tid} has CDS but no exon lines",
                                 path=gtf_path, line=tx.line)
    exons = sorted({(s, e) for s, e, _ in tx.exons})
    for (s1, e1), (s2, e2) in zip(exons, exons[1:]):
        if s2 <= e1:
            raise ReferenceDataError(f"{gene} transcript {tid}: exons {s1}-{e1} and {s2}-{e2} overlap",
                                     path=gtf_path, line=tx.line)
    if tx.strand == "-":
        exons = exons[::-1]
    coding = [(s, e) for s, e, _, _ in tx.cds] + tx.stops
    cds_start, cds_end = min(s for s, _ in coding), max(e for _, e in coding)

    model = Transcript(gene=gene, transcript=tid, chrom=contig, strand=tx.strand, exons=exons,
                       cds_start=cds_start, cds_end=cds_end, protein="")
    if not (model.genomic_to_tx(np.array([cds_start, cds_end])) > 0).all():
        raise ReferenceDataError(f"{gene} transcript {tid}: the CDS {cds_start}-{cds_end} does not start "
                                 "and end inside exons", path=gtf_path, line=tx.line)
    first_cds = min(tx.cds, key=lambda c: c[0] if tx.strand == "+" else -c[1])
    if first_cds[2] not in ("0", "."):
        raise ReferenceDataError(f"{gene} transcript {tid}: the CDS starts in frame {first_cds[2]} "
                                 "(incomplete 5' end, cds_start_NF)", path=gtf_path, line=first_cds[3],
                                 hint="this transcript cannot be numbered from its start codon")

    name = fasta_names.get(contig)
    if name is None:
        shown = ", ".join(list(fasta_names.values())[:8])
        raise ReferenceDataError(f"contig {tx.chrom} of {gene} (GTF line {tx.line}) is not in the FASTA "
                                 f"(it has {shown}{', ...' if len(fasta_names) > 8 else ''})",
                                 path=fasta_path, hint="are the GTF and the FASTA of the same build?")
    length = fasta_lengths[name]
    _check_fasta_build(build, contig, length, fasta_path)
    if model.end > length:
        raise ReferenceDataError(f"{gene} transcript {tid} reaches {contig}:{model.end} but the FASTA's "
                                 f"{name} is {length} bp long", path=fasta_path,
                                 hint="are the GTF and the FASTA of the same build?")
    blocks = [[s, _clean_bases(fasta.fetch(name, s - 1, e))]
              for s, e in _merged_intervals(exons, flank, length)]

    record = {"gene": gene, "transcript": tid, "aliases": _aliases(tx, tid), "chrom": contig,
              "strand": tx.strand, "exons": [[int(s), int(e)] for s, e in exons],
              "cds_start": int(cds_start), "cds_end": int(cds_end), "sequence": blocks, "protein": ""}
    full = transcript_from_record(record)
    if not tx.stops and full.cds[-3:] not in _STOPS:
        # no stop_codon lines: take the next codon when it is the stop (GTFs that omit them)
        after = full.tx_sequence(full.cds_tx_last + 1, min(full.cds_tx_last + 3, full.tx_length))
        if after in _STOPS:
            end_g = int(full.tx_to_genomic(np.array([full.cds_tx_last + 3]))[0])
            record["cds_start" if tx.strand == "-" else "cds_end"] = end_g
            full = transcript_from_record(record)
    where = dict(path=gtf_path, line=tx.line)
    if full.cds_length % 3:
        raise ReferenceDataError(f"{gene} transcript {tid}: CDS length {full.cds_length} (stop codon "
                                 "included) is not a multiple of 3", **where,
                                 hint="an incomplete CDS (cds_start_NF/cds_end_NF) cannot be annotated")
    protein = translate(full.cds)
    if protein[-1:] != "*":
        raise ReferenceDataError(f"{gene} transcript {tid}: the CDS does not end in a stop codon "
                                 f"(last codon {full.cds[-3:]})", **where,
                                 hint="are the GTF and the FASTA of the same build?")
    internal = [i + 1 for i, aa in enumerate(protein[:-1]) if aa == "*"]
    if internal and "seleno" not in tx.tags:
        raise ReferenceDataError(f"{gene} transcript {tid}: the CDS read from the FASTA has stop codons "
                                 f"inside it (codons {', '.join(map(str, internal[:5]))})", **where,
                                 hint="are the GTF and the FASTA of the same build?")
    record["protein"] = protein[:-1]
    return record


def _aliases(tx: _GtfTranscript, tid: str) -> list[str]:
    aliases = []
    unversioned = tid.split(".")[0] if re.match(r"^ENS\w*T\d+\.\d+$", tid) else ""
    for alias in [unversioned, tx.gene_id, *tx.xrefs]:
        if alias and alias != tid and alias not in aliases:
            aliases.append(alias)
    return aliases


def build_bundle_from_gtf(gtf_path: str, fasta_path: str, genes: list[str], build: str, out_path: str,
                          flank: int = 10) -> int:
    """Write a bundle with one transcript per gene from a GTF and a FASTA; return how many."""
    import pysam

    gtf_path, fasta_path, out_path = str(gtf_path), str(fasta_path), str(out_path)
    genes = list(dict.fromkeys(str(g).strip() for g in genes if str(g).strip()))
    if not genes:
        raise UsageError("no genes given", hint="name at least one gene, e.g. KRAS")
    if isinstance(flank, bool) or not isinstance(flank, (int, np.integer)) or flank < 0:
        raise UsageError(f"flank must be a whole number of bases >= 0, not {flank!r}")
    build = canonical_build(build) or str(build)

    if not os.path.isfile(fasta_path):
        raise ReferenceDataError("FASTA file not found", path=fasta_path)
    try:
        fasta = pysam.FastaFile(fasta_path)
    except (OSError, ValueError) as exc:
        raise ReferenceDataError(f"cannot open reference FASTA ({exc})", path=fasta_path,
                                 hint="give a FASTA with a .fai index (bgzip and .gzi if compressed), "
                                      "or a plain FASTA in a writable directory") from None
    try:
        fasta_names = {canonical_contig(name): name for name in fasta.references}
        fasta_lengths = dict(zip(fasta.references, fasta.lengths))
        transcripts, gene_lines, all_names = _stream_gtf(gtf_path, set(genes))

        missing = [g for g in genes if g not in gene_lines]
        if missing:
            hint = None
            if not all_names:
                hint = 'no line has a gene_name "..." attribute: is this a GTF (not GFF3)?'
            raise ReferenceDataError(_not_found_message(missing, all_names), path=gtf_path, hint=hint)

        by_gene: dict[str, list[_GtfTranscript]] = {}
        for tx in transcripts.values():
            by_gene.setdefault(tx.gene, []).append(tx)
        records = []
        for gene in sorted(genes):
            candidates = by_gene.get(gene, [])
            chosen = _choose(candidates)
            if chosen is None:
                biotypes = sorted({t.biotype or "no biotype" for t in candidates})
                found = (f"{len(candidates)} transcript{'s' if len(candidates) != 1 else ''} "
                         f"({', '.join(biotypes)})" if candidates else "no transcript lines")
                raise ReferenceDataError(f"gene {gene} has no protein-coding transcript with CDS lines "
                                         f"(found {found})", path=gtf_path, line=gene_lines[gene])
            records.append(_record(chosen, fasta, fasta_names, fasta_lengths, build, flank,
                                   gtf_path, fasta_path))
    finally:
        fasta.close()

    source = (f"GTF {os.path.basename(gtf_path)} sha256:{file_sha256(gtf_path)}; "
              f"FASTA {os.path.basename(fasta_path)} sha256:{file_sha256(fasta_path)}; flank {flank}")
    try:
        write_bundle(out_path, build, source, records)
    except OSError as exc:
        raise ReferenceDataError(f"cannot write the bundle ({exc.strerror or exc})", path=out_path) from None
    return len(records)
