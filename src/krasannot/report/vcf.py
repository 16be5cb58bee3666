"""The annotated VCF: the input's records with our annotation in declared INFO fields, bgzipped and indexed.

Each KA_* field has one value per ALT allele (Number=A), "." where the allele has no annotation
(outside the panel). Values are percent-encoded (VCF 4.3: %3B for ';', %2C for ',' ...), so no
caller text can break a record; lists use '&' as VEP does. A VCF input keeps its header and
records (an earlier krasannot annotation in KA_* fields is replaced); any other input (MAF,
ctDNA table) becomes one record per panel call of the sample.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

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
    ("KA_RESISTANCE", C.RESISTANCE, "Resistance tags of the evidence base, joined by &"),
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


def _set_annotation(record: pysam.VariantRecord, annotation: dict) -> bool:
    """Set the KA_* fields of one record from the annotation of its ALT alleles; True if any was set."""
    per_alt = [annotation.get((record.chrom, record.pos, record.ref.upper(), alt.upper())) for alt in record.alts or ()]
    if not any(per_alt):
        return False
    for i, (field_id, _, _) in enumerate(KA_FIELDS):
        values = tuple((v[i] or ".") if v else "." for v in per_alt)
        if any(v != "." for v in values):
            record.info[field_id] = values
    return True


def _add_our_lines(header: pysam.VariantHeader, sample: str, note: str) -> None:
    header.add_line(f"##krasannot_version={_header_safe(__version__)}")
    header.add_line(f"##krasannot_sample={_header_safe(sample)}")
    if note:
        header.add_line(f"##krasannot_note={_header_safe(note)}")
    for field_id, _, description in KA_FIELDS:
        header.info.add(field_id, "A", "String", description)


def _contig_rank(name: str) -> tuple:
    contig = canonical_contig(name)
    order = list(CONTIG_LENGTHS["GRCh38"])
    return (order.index(contig), "") if contig in order else (len(order), contig)


def _scan(path: str) -> tuple[pysam.VariantHeader, bool]:
    """The header as reading the whole file leaves it (undeclared contigs added), and whether
    records are sorted (contigs in blocks, positions ascending)."""
    seen, last_contig, last_pos, ordered = set(), None, 0, True
    with pysam.VariantFile(path) as vcf:
        for record in vcf:
            if record.contig != last_contig:
                if record.contig in seen:
                    ordered = False
                seen.add(record.contig)
                last_contig, last_pos = record.contig, 0
            if record.pos < last_pos:
                ordered = False
            last_pos = record.pos
        return vcf.header.copy(), ordered


def _write_from_vcf(input_vcf: str, annotation: dict, sample: str, path: Path) -> dict:
    pysam.set_verbosity(0)  # htslib warnings about the input's header are the input's, not ours
    try:
        source_header, ordered = _scan(input_vcf)
    except (OSError, ValueError) as exc:
        raise InputFormatError(f"cannot read VCF for the annotated VCF ({exc})", path=input_vcf,
                               hint="give the VCF the calls were annotated from with --vcf") from None
    header = pysam.VariantHeader()
    for line in str(source_header).splitlines():
        # an earlier krasannot annotation is replaced, never merged with ours
        if line.startswith(("##fileformat", "##INFO=<ID=KA_", "##krasannot_")) or not line.startswith("##"):
            continue
        header.add_line(line)
    header.add_samples(list(source_header.samples))
    _add_our_lines(header, sample, "" if ordered else "records sorted by krasannot")
    n_records = n_annotated = 0
    with pysam.VariantFile(input_vcf) as vcf, pysam.VariantFile(str(path), "wz", header=header) as out:
        records = vcf if ordered else sorted(
            vcf, key=lambda r: (_contig_rank(r.contig), r.contig, r.pos))
        for record in records:
            for key in [k for k in record.info if k.startswith("KA_")]:
                del record.info[key]
            record.translate(header)
            n_annotated += _set_annotation(record, annotation)
            out.write(record)
            n_records += 1
    return {"records": n_records, "annotated_records": n_annotated}


def _write_from_calls(calls: pd.DataFrame, annotation: dict, sample: str, build: str | None,
                      path: Path) -> dict:
    """One record per variant call with a genomic allele; an indel without an anchor base
    (a MAF's '-') gets N at POS-1, as the genome base is not known here."""
    frame = calls.reindex(columns=[C.CHROM, C.POS, C.REF, C.ALT, C.DEPTH, C.ALT_DEPTH, C.VAF, C.CALL_TYPE])
    frame = frame.fillna("").astype(str)
    positions = pd.to_numeric(frame[C.POS], errors="coerce")
    usable = (positions.notna() & frame[C.CALL_TYPE].isin(["", M.CALL_TYPE_VARIANT])
              & frame[C.REF].str.fullmatch(_DNA.pattern) & frame[C.ALT].str.fullmatch(_DNA.pattern)
              & (frame[C.REF] + frame[C.ALT] != "") & (frame[C.REF].str.upper() != frame[C.ALT].str.upper()))
    frame = frame[usable].assign(**{C.POS: positions[usable].astype(int)})
    contigs = sorted(set(frame[C.CHROM]), key=lambda c: (_contig_rank(c), c))
    lengths = CONTIG_LENGTHS.get(build or "", {})
    header = pysam.VariantHeader()
    for contig in contigs:
        length = lengths.get(canonical_contig(contig))
        header.contigs.add(contig, length=length) if length else header.contigs.add(contig)
    header.formats.add("DP", 1, "Integer", "Read depth")
    header.formats.add("AD", "R", "Integer", "Allelic depths (ref, alt)")
    header.formats.add("AF", "A", "Float", "Allele fraction")
    header.add_sample(sample)
    _add_our_lines(header, sample, "records built from a non-VCF input; indels without an anchor base use N")
    rank = {c: i for i, c in enumerate(contigs)}
    frame = frame.assign(_rank=frame[C.CHROM].map(rank)).sort_values(["_rank", C.POS], kind="stable")
    n_annotated = 0
    with pysam.VariantFile(str(path), "wz", header=header) as out:
        for row in frame.itertuples(index=False):
            chrom, pos, ref, alt = getattr(row, C.CHROM), getattr(row, C.POS), getattr(row, C.REF), getattr(row, C.ALT)
            vcf_pos, vcf_ref, vcf_alt = (pos, ref, alt) if ref and alt else (pos - 1, "N" + ref, "N" + alt)
            record = out.new_record(contig=chrom, start=vcf_pos - 1, alleles=(vcf_ref, vcf_alt))
            depth = pd.to_numeric(getattr(row, C.DEPTH), errors="coerce")
            alt_depth = pd.to_numeric(getattr(row, C.ALT_DEPTH), errors="coerce")
            vaf = pd.to_numeric(getattr(row, C.VAF), errors="coerce")
            if pd.notna(depth):
                record.samples[sample]["DP"] = int(depth)
                if pd.notna(alt_depth):
                    record.samples[sample]["AD"] = (max(int(depth) - int(alt_depth), 0), int(alt_depth))
            if pd.notna(vaf):
                record.samples[sample]["AF"] = (float(vaf),)
            values = annotation.get((chrom, pos, ref.upper(), alt.upper()))
            if values:
                n_annotated += _set_annotation(record, {(chrom, vcf_pos, vcf_ref.upper(), vcf_alt.upper()): values})
            out.write(record)
    return {"records": len(frame), "annotated_records": n_annotated}


def write_annotated_vcf(calls: pd.DataFrame, sample: str, path: str | os.PathLike, *,
                        input_vcf: str | None = None, build: str | None = None) -> dict:
    """Write PATH (bgzipped VCF) and PATH.tbi: the input VCF's records, or records built from
    `calls`, with the sample's annotation in KA_* INFO fields.

    Parameters
    ----------
    calls : the sample's annotated rows (columns.ANNOTATED_TSV_COLUMNS)
    sample : the sample the annotation belongs to (named in the header)
    path : output path; the caller makes it atomic (write in a staging directory)
    input_vcf : the VCF the calls came from; None builds records from `calls`
    build : genome build, for ##contig lengths of built records

    Returns
    -------
    {"records": records written, "annotated_records": records with a KA_* field}
    """
    path = Path(path)
    annotation = _allele_annotation(calls)
    if input_vcf:
        counts = _write_from_vcf(str(input_vcf), annotation, sample, path)
    else:
        counts = _write_from_calls(calls, annotation, sample, build, path)
    try:
        pysam.tabix_index(str(path), preset="vcf", force=True)
    except (OSError, ValueError) as exc:
        raise InputFormatError(f"cannot index the annotated VCF ({exc})", path=str(input_vcf or path)) from None
    return counts


def vcf_sources(input_vcf: str) -> list[str]:
    """The input's ##source header values (the variant caller), for provenance; shown as text."""
    pysam.set_verbosity(0)
    try:
        with pysam.VariantFile(str(input_vcf)) as vcf:
            return [str(r.value) for r in vcf.header.records if r.key == "source" and r.value is not None]
    except (OSError, ValueError) as exc:
        raise InputFormatError(f"cannot read the VCF header ({exc})", path=str(input_vcf)) from None
