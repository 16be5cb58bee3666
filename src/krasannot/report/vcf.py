"""The annotated VCF: the input's records with our annotation in declared INFO fields, bgzipped and indexed.

Each KA_* field has one value per ALT allele (Number=A), "." where the allele has no annotation
(outside the panel). Values are percent-encoded (VCF 4.3: %3B for ';', %2C for ',' ...), so no
caller text can break a record; lists use '&' as VEP does. A VCF input keeps its header and
records (an earlier krasannot annotation in KA_* fields is replaced); any other input (MAF,
ctDNA table) becomes one record per panel call of the sample.

Records are written as text, never through pysam's record translation: an input's undeclared
INFO key, non-UTF-8 byte or megabyte-long value is copied as it is instead of ending the process
inside htslib. Only the plain file is handed to htslib, to be bgzipped and indexed.
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
import tempfile
import zlib
from pathlib import Path
from typing import Iterator

import pandas as pd
import pysam

from .. import __version__
from .. import columns as C
from .. import models as M
from ..errors import InputFormatError
from ..reference.builds import CONTIG_LENGTHS, canonical_contig

# (INFO id, calls column, description): one value per ALT allele
KA_FIELDS = [
    ("KA_GENE", C.GENE, "Gene symbol (krasannot panel)"),
    ("KA_TRANSCRIPT", C.TRANSCRIPT, "Transcript of the annotation"),
    ("KA_HGVSC", C.HGVSC, "HGVS coding change on KA_TRANSCRIPT"),
    ("KA_HGVSP", C.HGVSP, "HGVS protein change, three-letter"),
    ("KA_HGVSP_SHORT", C.HGVSP_SHORT, "HGVS protein change, one-letter"),
    ("KA_CONSEQUENCE", C.CONSEQUENCE, "Sequence Ontology consequences, most severe first, joined by &"),
    ("KA_IMPACT", C.IMPACT, "VEP-style impact"),
    ("KA_STATUS", C.STATUS, "annotated, or why the allele was not annotated"),
    ("KA_KRAS_ALLELE", C.KRAS_ALLELE, "KRAS allele (G12C, G13D, Q61H ...)"),
    ("KA_HOTSPOT", C.HOTSPOT, "true at a recurrent hotspot residue"),
    ("KA_FUNCTIONAL_CLASS", C.FUNCTIONAL_CLASS, "Functional class of the change"),
    ("KA_COMUTATION", C.COMUTATION, "STK11/KEAP1/TP53 co-mutation class"),
    ("KA_RESISTANCE", C.RESISTANCE,
     "This sample's resistant matches resting on the call (tumour type, co-alterations, prior therapy), joined by &"),
    ("KA_CAVEATS", C.CAVEATS, "Caveats (filtered, low_vaf, possible_clonal_haematopoiesis), joined by &"),
]

# characters that cannot stand in an INFO value (VCF 4.3, section 1.2), and '&' which we use to join
_INFO_UNSAFE = re.compile(r"[%:;=,&\s\x00-\x1f\x7f]")
_DNA = re.compile(r"[ACGTNacgtn]*")


def info_value(text: str) -> str:
    """One INFO value: ';'-joined lists become '&'-joined, unsafe characters percent-encoded."""
    parts = [p.strip() for p in str(text).split(";")]
    encoded = [_INFO_UNSAFE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode("utf-8")), p)
               for p in parts if p]
    return "&".join(encoded)


def _header_safe(text: str) -> str:
    """A value for a header line we write: no line breaks, quotes or angle brackets."""
    return re.sub(r"[\x00-\x1f\x7f\"<>]", "_", str(text))


def _allele_annotation(calls: pd.DataFrame) -> dict[tuple[str, int, str, str], list[str]]:
    """(chrom, pos, ref, alt) -> encoded KA_* values of the sample's first row for that allele."""
    frame = calls.reindex(columns=[C.CHROM, C.POS, C.REF, C.ALT] + [col for _, col, _ in KA_FIELDS])
    frame = frame.fillna("").astype(str)
    frame[C.HOTSPOT] = frame[C.HOTSPOT].str.lower().map({"true": "true", "false": "false"}).fillna("")
    positions = pd.to_numeric(frame[C.POS], errors="coerce")
    frame = frame[positions.notna()].assign(**{C.POS: positions[positions.notna()].astype(int)})
    frame = frame.drop_duplicates([C.CHROM, C.POS, C.REF, C.ALT], keep="first")
    encoded = {col: frame[col].map(info_value) for _, col, _ in KA_FIELDS}
    values = pd.DataFrame(encoded).to_numpy().tolist()
    keys = zip(frame[C.CHROM], frame[C.POS], frame[C.REF].str.upper(), frame[C.ALT].str.upper())
    return dict(zip(keys, values))



_KA_PREFIX = b"KA_"
_VCF_MISSING = b"."


def _info_with_annotation(info: bytes, values: list[bytes]) -> bytes:
    """The INFO column with any earlier KA_* entry dropped and ours appended."""
    kept = [] if info in (b"", _VCF_MISSING) else [i for i in info.split(b";") if i and not i.startswith(_KA_PREFIX)]
    return b";".join(kept + values) or _VCF_MISSING


def _annotation_values(per_alt: list) -> list[bytes]:
    """KEY=v1,v2 entries (one value per ALT, '.' where the allele has none) for the fields with a value."""
    entries = []
    for i, (field_id, _, _) in enumerate(KA_FIELDS):
        values = [(v[i] or ".") if v else "." for v in per_alt]
        if any(v != "." for v in values):
            entries.append(f"{field_id}={','.join(values)}".encode("utf-8"))
    return entries


def _our_header_lines(sample: str, note: str) -> list[bytes]:
    lines = [f"##krasannot_version={_header_safe(__version__)}", f"##krasannot_sample={_header_safe(sample)}"]
    if note:
        lines.append(f"##krasannot_note={_header_safe(note)}")
    lines += [f'##INFO=<ID={field_id},Number=A,Type=String,Description="{description}">'
              for field_id, _, description in KA_FIELDS]
    return [line.encode("utf-8") for line in lines]


def _contig_rank(name: str) -> tuple:
    contig = canonical_contig(name)
    order = list(CONTIG_LENGTHS["GRCh38"])
    return (order.index(contig), "") if contig in order else (len(order), contig)


def _input_lines(input_vcf: str) -> Iterator[bytes]:
    """The lines of a VCF (plain, gzip or bgzip) or BCF (as text), without line ends or a BOM."""
    with open(input_vcf, "rb") as probe:
        magic = probe.read(3)
    if magic[:2] == b"\x1f\x8b":
        with gzip.open(input_vcf, "rb") as handle:
            is_bcf = handle.read(3) == b"BCF"
    else:
        is_bcf = magic == b"BCF"  # an uncompressed BCF (bcftools -Ou)
    if is_bcf:  # a BCF's keys are all declared (it cannot hold others): pysam's text form is safe
        with pysam.VariantFile(input_vcf) as vcf:
            yield from str(vcf.header).encode("utf-8").splitlines()
            for record in vcf:
                yield str(record).encode("utf-8").rstrip(b"\n")
        return
    opener = gzip.open if magic[:2] == b"\x1f\x8b" else open
    with opener(input_vcf, "rb") as handle:
        first = True
        for line in handle:
            if first and line.startswith(b"\xef\xbb\xbf"):
                line = line[3:]
            first = False
            yield line.rstrip(b"\r\n")


def _annotated_record(line: bytes, sites: list | None) -> tuple[bytes, bool]:
    """One record with its KA_* fields set from the annotation of its ALT alleles (an earlier
    krasannot annotation dropped); whether any allele was annotated."""
    fields = line.split(b"\t", 8)
    per_alt = []
    if sites:
        alts = fields[4].decode("utf-8", "replace").upper().split(",")
        ref = fields[3].decode("utf-8", "replace").upper()
        allele_values = {(r.upper(), a.upper()): v for r, a, v in sites}
        per_alt = [allele_values.get((ref, alt)) for alt in alts]
    annotated = any(per_alt)
    if not annotated and not fields[7].startswith(_KA_PREFIX) and b";" + _KA_PREFIX not in fields[7]:
        return line, False  # KA_ was elsewhere on the line, not an INFO key
    fields[7] = _info_with_annotation(fields[7], _annotation_values(per_alt) if annotated else [])
    return b"\t".join(fields), annotated


def _write_from_vcf(input_vcf: str, annotation: dict, sample: str, plain: Path) -> dict:
    """The input's header and records, as bytes, with KA_* fields on the panel alleles.

    Most records of a genome are outside the panel and copied untouched: per record only CHROM and
    POS are parsed (for the panel lookup and the sort check), so a 3M-record VCF costs seconds."""
    by_site: dict[tuple[bytes, int], list] = {}
    for (chrom, pos, ref, alt), values in annotation.items():
        by_site.setdefault((chrom.encode("utf-8"), pos), []).append((ref, alt, values))
    header, column_line, batch = [], None, []
    n_records = n_annotated = n_dropped = 0
    last_contig, last_pos, seen, ordered = None, 0, set(), True
    with tempfile.TemporaryFile(dir=plain.parent) as body:
        for line in _input_lines(input_vcf):
            if line[:1] == b"#":
                if line.startswith(b"##"):
                    # an earlier krasannot annotation is replaced, never merged with ours
                    if not line.startswith((b"##fileformat", b"##INFO=<ID=KA_", b"##krasannot_")):
                        header.append(line)
                else:
                    column_line = line
                continue
            head = line.split(b"\t", 2)
            if len(head) < 3 or not head[1].isdigit() or line.count(b"\t") < 7:
                n_dropped += bool(line.strip())  # a record the readers skipped too (see the skipped table)
                continue
            chrom, pos = head[0], int(head[1])
            if chrom != last_contig:
                ordered = ordered and chrom not in seen
                seen.add(chrom)
                last_contig = chrom
            elif pos < last_pos:
                ordered = False
            last_pos = pos
            sites = by_site.get((chrom, pos))
            if sites or _KA_PREFIX in line:
                line, annotated = _annotated_record(line, sites)
                n_annotated += annotated
            batch.append(line)
            if len(batch) >= 65536:
                body.write(b"\n".join(batch) + b"\n")
                n_records += len(batch)
                batch = []
        if batch:
            body.write(b"\n".join(batch) + b"\n")
            n_records += len(batch)
        if column_line is None:
            raise InputFormatError("no #CHROM header line", path=input_vcf, hint="give the VCF the calls came from")
        notes = [] if ordered else ["records sorted by krasannot"]
        if n_dropped:
            notes.append(f"{n_dropped} unreadable records left out")
        body.seek(0)
        with open(plain, "wb") as out:
            out.write(b"\n".join([b"##fileformat=" + _file_format(input_vcf), *header,
                                   *_our_header_lines(sample, "; ".join(notes)), column_line]) + b"\n")
            if ordered:
                shutil.copyfileobj(body, out, 1 << 20)
            else:
                out.writelines(sorted(body, key=_record_order))
    return {"records": n_records, "annotated_records": n_annotated}


def _record_order(line: bytes) -> tuple:
    chrom, pos = line.split(b"\t", 2)[:2]
    name = chrom.decode("utf-8", "replace")
    return _contig_rank(name), name, int(pos)


def _file_format(input_vcf: str) -> bytes:
    """The input's ##fileformat value (VCFv4.2 when it has none)."""
    for line in _input_lines(input_vcf):
        if line.startswith(b"##fileformat="):
            return line.split(b"=", 1)[1].strip() or b"VCFv4.2"
        if not line.startswith(b"##"):
            break
    return b"VCFv4.2"


def _format_number(value, integer: bool) -> str:
    number = pd.to_numeric(value, errors="coerce")
    if pd.isna(number):
        return "."
    return str(int(number)) if integer else f"{float(number):g}"


def _write_from_calls(calls: pd.DataFrame, annotation: dict, sample: str, build: str | None,
                      plain: Path) -> dict:
    """One record per variant call with a genomic allele; an indel without an anchor base
    (a MAF's '-') gets N at POS-1, as the genome base is not known here."""
    frame = calls.reindex(columns=[C.CHROM, C.POS, C.REF, C.ALT, C.DEPTH, C.ALT_DEPTH, C.VAF, C.CALL_TYPE])
    frame = frame.fillna("").astype(str)
    positions = pd.to_numeric(frame[C.POS], errors="coerce")
    usable = (positions.notna() & frame[C.CALL_TYPE].isin(["", M.CALL_TYPE_VARIANT])
              & frame[C.REF].str.fullmatch(_DNA.pattern) & frame[C.ALT].str.fullmatch(_DNA.pattern)
              & (frame[C.REF] + frame[C.ALT] != "") & (frame[C.REF].str.upper() != frame[C.ALT].str.upper())
              & (frame[C.CHROM].str.fullmatch(r"[!-~]+")))
    frame = frame[usable].assign(**{C.POS: positions[usable].astype(int)})
    anchored = (frame[C.REF] != "") & (frame[C.ALT] != "")
    frame = frame.assign(vcf_pos=frame[C.POS].where(anchored, frame[C.POS] - 1),
                         vcf_ref=frame[C.REF].where(anchored, "N" + frame[C.REF]),
                         vcf_alt=frame[C.ALT].where(anchored, "N" + frame[C.ALT]))
    contigs = sorted(set(frame[C.CHROM]), key=lambda c: (_contig_rank(c), c))
    lengths = CONTIG_LENGTHS.get(build or "", {})
    header = ["##fileformat=VCFv4.2"]
    for contig in contigs:
        length = lengths.get(canonical_contig(contig))
        header.append(f"##contig=<ID={contig},length={length}>" if length else f"##contig=<ID={contig}>")
    header += ['##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">',
               '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths (ref, alt)">',
               '##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fraction">']
    rank = {c: i for i, c in enumerate(contigs)}
    frame = frame.assign(_rank=frame[C.CHROM].map(rank)).sort_values(["_rank", "vcf_pos"], kind="stable")
    n_annotated = 0
    lines = []
    for row in frame.itertuples(index=False):
        chrom, pos, ref, alt = getattr(row, C.CHROM), getattr(row, C.POS), getattr(row, C.REF), getattr(row, C.ALT)
        values = annotation.get((chrom, pos, ref.upper(), alt.upper()))
        entries = _annotation_values([values]) if values else []
        n_annotated += bool(entries)
        depth, alt_depth = _format_number(getattr(row, C.DEPTH), True), _format_number(getattr(row, C.ALT_DEPTH), True)
        ad = f"{max(int(depth) - int(alt_depth), 0)},{alt_depth}" if "." not in (depth, alt_depth) else "."
        sample_cells = f"{depth}:{ad}:{_format_number(getattr(row, C.VAF), False)}"
        info = b";".join(entries).decode("utf-8") or "."
        lines.append("\t".join([chrom, str(row.vcf_pos), ".", row.vcf_ref, row.vcf_alt, ".", ".", info, "DP:AD:AF",
                                 sample_cells]))
    columns = "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", sample])
    text = [line.decode("utf-8") for line in _our_header_lines(
        sample, "records built from a non-VCF input; indels without an anchor base use N")]
    plain.write_text("\n".join(header + text + [columns] + lines) + "\n", encoding="utf-8")
    return {"records": len(frame), "annotated_records": n_annotated}


def write_annotated_vcf(calls: pd.DataFrame, sample: str, path: str | os.PathLike, *,
                        input_vcf: str | None = None, build: str | None = None) -> dict:
    """Write PATH (bgzipped VCF) and PATH.tbi: the input VCF's records, or records built from
    `calls`, with the sample's annotation in KA_* INFO fields.

    Parameters
    ----------
    calls : the sample's annotated rows (columns.ANNOTATED_TSV_COLUMNS)
    sample : the sample the annotation belongs to (named in the header)
    path : output path ending .gz; the caller makes it atomic (write in a staging directory)
    input_vcf : the VCF the calls came from; None builds records from `calls`
    build : genome build, for ##contig lengths of built records

    Returns
    -------
    {"records": records written, "annotated_records": records with a KA_* field}
    """
    path = Path(path)
    plain = path.with_name(path.name[:-3] if path.name.endswith(".gz") else path.name + ".plain")
    annotation = _allele_annotation(calls)
    pysam.set_verbosity(0)  # htslib's warnings about the input are the input's, and said once by the reader
    try:
        if input_vcf:
            counts = _write_from_vcf(str(input_vcf), annotation, sample, plain)
        else:
            counts = _write_from_calls(calls, annotation, sample, build, plain)
    except (OSError, ValueError, EOFError, zlib.error) as exc:
        raise InputFormatError(f"cannot read the VCF to annotate it ({exc})", path=str(input_vcf or path),
                               hint="give the VCF the calls were annotated from") from None
    try:
        pysam.tabix_compress(str(plain), str(path), force=True)
        pysam.tabix_index(str(path), preset="vcf", force=True)
    except (OSError, ValueError) as exc:
        raise InputFormatError(f"cannot bgzip and index the annotated VCF ({exc})", path=str(input_vcf or path),
                               hint="the input's records could not be sorted into an indexable VCF") from None
    finally:
        plain.unlink(missing_ok=True)
    return counts


def vcf_sources(input_vcf: str) -> list[str]:
    """The input's ##source header values (the variant caller), for provenance; shown as text."""
    sources = []
    try:
        for line in _input_lines(str(input_vcf)):
            if not line.startswith(b"##"):
                break
            if line.startswith(b"##source="):
                sources.append(line[len(b"##source="):].decode("utf-8", "replace"))
    except (OSError, ValueError, EOFError, zlib.error) as exc:
        raise InputFormatError(f"cannot read the VCF header ({exc})", path=str(input_vcf)) from None
    return sources
