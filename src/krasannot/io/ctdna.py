"""ctDNA (liquid-biopsy) call tables: a native TSV/CSV schema and report-export-style layouts, into the calls table.

The schema, every layout's column mapping and worked examples are in docs/ctdna.md. One row in,
one call out (a "not detected" row naming several genes or codons gives one row each); a row that
is no gene alteration (MSI, TMB, tumour fraction), carries no value at all, or belongs to another
sample than the one asked for is listed in `skipped` with its reason. Protein, cDNA and genomic
alterations are placed on the genome through the transcript bundle (reference/backmap.py), so a
plasma `KRAS G12C` is annotated like any VCF call.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import columns as C
from .. import models as M
from ..errors import InputFormatError, UsageError
from ..reference.backmap import (KIND_BY_NAME, BackMapped, back_map, parse_codons, protein_short,
                                 split_gene_prefix)
from ..reference.bundle import Panel
from ..files import file_sha256, read_input_bytes
from .result import SKIPPED_COLUMNS, ReadResult

CTDNA_CALLS_COLUMNS = (C.CALLS_COLUMNS + C.OPTIONAL_CALL_COLUMNS
                       + [C.GENE, C.STATUS, C.STATUS_DETAIL, C.SOURCE_GENE, C.SOURCE_HGVSP_SHORT])

# --- layouts: which header names (normalized, see _normalize_name) feed which field ---------
_NATIVE_COLUMNS = {
    "sample": ("sample",), "gene": ("gene",), "alteration": ("alteration",), "type": ("type",),
    "vaf": ("vaf",), "vaf_percent": ("percent_cfdna", "%cfdna", "%_cfdna"), "depth": ("depth",),
    "alt_depth": ("alt_depth",), "origin": ("origin",), "copy_number": ("copy_number",),
}


@dataclass(frozen=True)
class Layout:
    """A table layout recognised by its column names; `columns` maps a field to the names it accepts."""

    name: str
    signature: tuple[str, ...]      # normalized names that must all be present to recognise it
    required: tuple[str, ...]       # fields without which no row can be read
    columns: dict


NATIVE = Layout("krasannot-ctdna", ("gene", "alteration"), ("gene", "alteration"), _NATIVE_COLUMNS)
LAYOUTS = [
    # megSAP cfDNA monitoring TSV (imgag/megSAP): one genomic allele per row, no gene column
    Layout("megsap-cfdna-monitoring", ("chrom", "pos", "ref", "alt", "dp_hq", "alt_count", "af"),
           ("chrom", "pos", "ref", "alt"),
           {"sample": ("sample",), "chrom": ("chrom",), "pos": ("pos",), "ref": ("ref",), "alt": ("alt",),
            "depth": ("dp_hq",), "alt_depth": ("alt_count",), "vaf": ("af",), "filter": ("filter",)}),
    # Guardant360-style report export: Gene, Alteration (or Mutation), cDNA, % cfDNA, Type
    Layout("guardant360-style", ("gene", "%_cfdna"), ("gene", "alteration"),
           {**_NATIVE_COLUMNS, "alteration": ("alteration", "mutation"), "cdna": ("cdna",)}),
    Layout("guardant360-style", ("gene", "%cfdna"), ("gene", "alteration"),
           {**_NATIVE_COLUMNS, "alteration": ("alteration", "mutation"), "cdna": ("cdna",)}),
    # FoundationOne Liquid CDx-style export: gene, alteration, variant-allele-fraction
    Layout("foundationone-liquid-style", ("gene", "alteration", "variant_allele_fraction"), ("gene", "alteration"),
           {**_NATIVE_COLUMNS, "vaf": ("vaf", "variant_allele_fraction")}),
    NATIVE,
]
_PERCENT_NAMES = {"percent_cfdna", "%cfdna", "%_cfdna"}

# --- row kinds, from the type column (normalized: lower case, single spaces) -----------------
_VARIANT_TYPES = {"snv", "snp", "mnv", "mnp", "indel", "insertion", "deletion", "delins", "duplication", "mutation",
                  "short variant", "substitution", "point mutation", "splice", "splice site", "variant",
                  "missense", "nonsense", "frameshift"}
_CNA_TYPES = {"cna", "cnv", "copy number", "copy number alteration", "copy number variant", "copy number change",
              "amplification", "amp", "gain", "loss", "homozygous deletion", "deep deletion"}
_FUSION_TYPES = {"fusion", "rearrangement", "translocation", "sv", "structural variant"}
_NOT_DETECTED = {"not detected", "none detected", "not_detected"}
_NOT_ALTERATIONS = {"msi", "msi h", "msi high", "tmb", "tumor mutational burden", "tumour mutational burden",
                    "tumor fraction", "tumour fraction", "ctdna fraction", "tumor fraction estimate"}
_ACCEPTED_TYPES = "SNV, MNV, indel, CNA (amplification, gain, loss, homozygous deletion), fusion, not detected"

# copy-number words -> state; plasma copy numbers are diluted by the tumour fraction, so the state
# is taken from the report's words, never derived from the number
_CN_WORDS = {"amplification": M.CN_AMPLIFICATION, "amplified": M.CN_AMPLIFICATION, "amp": M.CN_AMPLIFICATION,
             "gain": M.CN_GAIN, "copy number gain": M.CN_GAIN,
             "homozygous deletion": M.CN_DEEP_DELETION, "deep deletion": M.CN_DEEP_DELETION,
             "homdel": M.CN_DEEP_DELETION, "loss": M.CN_SHALLOW_DELETION, "copy number loss": M.CN_SHALLOW_DELETION,
             "heterozygous deletion": M.CN_SHALLOW_DELETION, "shallow deletion": M.CN_SHALLOW_DELETION}
_CN_TEXT = re.compile(r"(?P<word>" + "|".join(sorted(map(re.escape, _CN_WORDS), key=len, reverse=True))
                      + r")?\s*\(?\s*(?:(?:cn|copy number|copies)\s*[:=]?\s*)?(?P<number>\d+(?:\.\d+)?)?\s*\)?",
                      re.IGNORECASE)
_GENE = r"[A-Z][A-Z0-9]{1,15}"
_FUSION_TEXT = re.compile(rf"(?:(?P<five>{_GENE})\s*(?:::|--|-|/)\s*(?P<three>{_GENE})|(?P<one>{_GENE}))?"
                          r"\s*(?i:fusion|rearrangement|translocation)?")
_RESIDUE = re.compile(r"[A-Z]\d+[A-Z*]?")  # G12, V600E: a protein change, never a fusion partner
_NOT_DETECTED_TEXT = re.compile(r"\b(?:not|none)[ _]detected\b", re.IGNORECASE)
_ORIGINS = {"": "", "unknown": "", "somatic": "somatic", "germline": "germline", "likely germline": "germline",
            "probable germline": "germline", "possible germline": "germline"}


def _normalize_name(name: str) -> str:
    """'% cfDNA' -> '%_cfdna', 'variant-allele-fraction' -> 'variant_allele_fraction'."""
    return re.sub(r"[^a-z0-9%]+", "_", name.replace("\ufeff", "").strip().lower()).strip("_")


def _normalize_words(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", str(text).lower()).split())


def _header_and_separator(lines: list[str]) -> tuple[int, list[str], str] | None:
    """(index, names, separator) of the first non-comment, non-blank line; None if there is none."""
    for index, line in enumerate(lines):
        text = line.lstrip("\ufeff").rstrip("\r\n")
        if text.strip() and not text.startswith("#"):
            separator = "\t" if "\t" in text else ","
            return index, next(csv.reader([text], delimiter=separator)), separator
    return None


def _layout_of(names: list[str]) -> Layout | None:
    normalized = {_normalize_name(n) for n in names}
    return next((layout for layout in LAYOUTS if set(layout.signature) <= normalized), None)


def sniff_ctdna(lines: list[str]) -> str | None:
    """The ctDNA layout name of a table's first lines (text), or None if it is no ctDNA table."""
    found = _header_and_separator(lines)
    if found is None:
        return None
    layout = _layout_of(found[1])
    return layout.name if layout else None


# --- reading ------------------------------------------------------------------------------
def _decode(data: bytes, path: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputFormatError("line is not valid UTF-8", path=path, line=data.count(b"\n", 0, exc.start) + 1,
                               hint="re-encode the file as UTF-8") from None


def _field_index(layout: Layout, header: list[str], path: str, line: int) -> dict[str, int]:
    """Column index of every field the header has; errors for a missing required one or two candidates."""
    normalized = [_normalize_name(n) for n in header]
    index: dict[str, int] = {}
    for field, names in layout.columns.items():
        found = [i for i, name in enumerate(normalized) if name in names]
        if len(found) > 1:
            raise InputFormatError(f"columns {', '.join(repr(header[i]) for i in found)} all give the {field}",
                                   path=path, line=line, hint="keep one of them")
        if found:
            index[field] = found[0]
    if "vaf" in index and "vaf_percent" in index:
        raise InputFormatError(f"both {header[index['vaf']]!r} and {header[index['vaf_percent']]!r} give the "
                               "allele fraction", path=path, line=line, hint="keep one of them")
    missing = [field for field in layout.required if field not in index]
    if missing:
        raise InputFormatError("missing required ctDNA column(s): " + ", ".join(missing), path=path, line=line,
                               hint="a ctDNA table needs columns gene and alteration (see docs/ctdna.md); "
                                    "is the separator a tab or a comma?")
    return index


def _vaf(values: list[str], name: str, lines: np.ndarray, path: str) -> np.ndarray:
    """Allele fractions (0-1): a value with '%', a %-named column, or a column with any value > 1 is a percent;
    a decimal comma is read as a point (0,05 -> 0.05); a negative value or one above 100% is refused."""
    numbers = np.full(len(values), np.nan)
    percent = np.zeros(len(values), dtype=bool)
    for i, value in enumerate(values):
        text = value.strip()
        if not text:
            continue
        percent[i] = text.endswith("%")
        number = text.rstrip("%").strip()
        if re.fullmatch(r"\d+,\d+", number):
            number = number.replace(",", ".")  # a decimal comma (0,05): a TSV cell holds no thousands separator
        try:
            numbers[i] = float(number)
        except ValueError:
            raise InputFormatError(f"{name} value {value!r} is not a number", path=path, line=int(lines[i]),
                                   hint="write a fraction (0.052) or a percent (5.2%)") from None
    if _normalize_name(name) in _PERCENT_NAMES or np.nanmax(np.append(numbers, 0)) > 1:
        percent[:] = True  # a fraction is never above 1, so such a column is in percent
    fraction = np.where(percent, numbers / 100, numbers)
    bad = np.flatnonzero((fraction < 0) | (fraction > 1))
    if len(bad):
        raise InputFormatError(f"{name} value {values[bad[0]]!r} is outside 0-100%", path=path,
                               line=int(lines[bad[0]]), hint="write a fraction (0.052) or a percent (5.2%)")
    return fraction


def _counts(values: list[str], name: str, lines: np.ndarray, path: str) -> np.ndarray:
    numbers = np.full(len(values), np.nan)
    for i, value in enumerate(values):
        text = value.strip()
        if not text:
            continue
        if not text.isdigit():
            raise InputFormatError(f"{name} value {value!r} is not a whole number of reads", path=path,
                                   line=int(lines[i]), hint="write a read count (e.g. 2500) or leave it empty")
        numbers[i] = float(text)
    return numbers


def read_ctdna(path: str, panel: Panel, sample: str | None = None) -> ReadResult:
    """Read a ctDNA call table (TSV or CSV, plain or gzipped) into the calls table.

    Parameters
    ----------
    panel : the transcript bundle of the build the table is read on; protein and cDNA changes are
        back-mapped through it.
    sample : keep only this sample (a table without a sample column is this sample).
    """
    path = str(path)
    text = _decode(read_input_bytes(path), path)
    lines = text.split("\n")
    found = _header_and_separator(lines)
    if found is None:
        raise InputFormatError("file is empty", path=path, hint="give a ctDNA table with a header line and rows")
    head, header, separator = found
    layout = _layout_of(header) or NATIVE
    index = _field_index(layout, header, path, head + 1)
    rows, row_lines = [], []
    for number, line in enumerate(lines[head + 1:], start=head + 2):
        line = line.rstrip("\r")
        if not line.strip(" "):  # a blank line is no row; a line of empty fields is (an "empty row")
            continue
        fields = next(csv.reader([line], delimiter=separator))
        if len(fields) != len(header):
            sep = "tab" if separator == "\t" else "comma"
            raise InputFormatError(f"row has {len(fields)} {sep}-separated fields, the header names {len(header)}",
                                   path=path, line=number, hint="is the file truncated or edited by hand?")
        rows.append(fields)
        row_lines.append(number)
    table_lines = np.array(row_lines, dtype=np.int64)

    def column(field: str) -> list[str]:
        return [row[index[field]].strip() for row in rows] if field in index else [""] * len(rows)

    # no sample column: the table is --sample's, else the file name's; an empty cell is the file name's
    stem = re.sub(r"(\.(tsv|csv|txt))?(\.gz)?$", "", Path(path).name)
    default_sample = stem if "sample" in index else sample or stem
    samples = [s or default_sample for s in column("sample")]
    if sample is not None and "sample" in index and sample not in samples:
        present = list(dict.fromkeys(samples))
        raise UsageError(f"sample {sample!r} is not in {path}", hint="samples in the file: " + ", ".join(present[:5]))
    vaf_field = "vaf" if "vaf" in index else "vaf_percent"
    vaf = (_vaf(column(vaf_field), header[index[vaf_field]], table_lines, path) if vaf_field in index
           else np.full(len(rows), np.nan))
    depth = _counts(column("depth"), header[index["depth"]] if "depth" in index else "", table_lines, path)
    alt_depth = _counts(column("alt_depth"), header[index["alt_depth"]] if "alt_depth" in index else "",
                        table_lines, path)
    over = np.flatnonzero(alt_depth > depth)
    if len(over):
        raise InputFormatError(f"alt_depth {int(alt_depth[over[0]])} exceeds depth {int(depth[over[0]])}",
                               path=path, line=int(table_lines[over[0]]), hint="check the read counts")
    vaf = np.where(np.isnan(vaf) & (depth > 0), alt_depth / np.where(depth > 0, depth, 1), vaf)

    records, skipped = [], []
    given = {field: column(field) for field in layout.columns}
    for i, fields in enumerate(rows):
        line = int(table_lines[i])
        raw = (separator.join(fields))[:200]
        if not any(f.strip() for f in fields):
            skipped.append((path, line, "empty row", raw))
            continue
        if sample is not None and samples[i] != sample:
            skipped.append((path, line, f"sample {samples[i]}, not {sample} (--sample)", raw))
            continue
        row = {field: values[i] for field, values in given.items()}
        kind_words = _normalize_words(row.get("type", ""))
        if kind_words in _NOT_ALTERATIONS:
            skipped.append((path, line, f"type {row['type']!r} is not a gene alteration", raw))
            continue
        base = {C.SAMPLE: samples[i], C.VAF: vaf[i], C.DEPTH: depth[i], C.ALT_DEPTH: alt_depth[i],
                C.ORIGIN: _origin(row.get("origin", ""), path, line), C.FILTER: _filter(row.get("filter", ""), layout),
                C.INPUT_LINE: line}
        for call in _row_calls(row, layout, panel, path, line):
            records.append({**base, **call})

    calls = _calls_table(records, path)
    skipped_table = pd.DataFrame(skipped, columns=SKIPPED_COLUMNS)
    placed = int((calls[C.POS].notna()).sum()) if len(calls) else 0
    notes = [f"ctDNA layout {layout.name}; protein and cDNA changes back-mapped through the {panel.build} bundle "
             f"({placed} of {len(calls)} calls placed at an allele)"]
    return ReadResult(format="ctdna", calls=calls, samples=list(dict.fromkeys(calls[C.SAMPLE])) if len(calls) else [],
                      n_records=len(rows), checksum="sha256:" + file_sha256(path), skipped=skipped_table, notes=notes)


def _origin(value: str, path: str, line: int) -> str:
    words = _normalize_words(value)
    if words not in _ORIGINS:
        raise InputFormatError(f"origin {value!r} is not known", path=path, line=line,
                               hint="write somatic, germline, likely germline, unknown, or leave it empty")
    return _ORIGINS[words]


def _filter(value: str, layout: Layout) -> str:
    return "" if layout.name == "megsap-cfdna-monitoring" and value == "NA" else value  # megSAP: NA = no filter run


def _row_kind(row: dict, path: str, line: int) -> str:
    """variant, copy_number, fusion or not_detected, from the type column or else from the words."""
    words = _normalize_words(row.get("type", ""))
    alteration = row.get("alteration", "")
    if words in _NOT_DETECTED or _NOT_DETECTED_TEXT.search(alteration):
        return "not_detected"
    if words in _CNA_TYPES:
        return M.CALL_TYPE_COPY_NUMBER
    if words in _FUSION_TYPES:
        return M.CALL_TYPE_FUSION
    if words and words not in _VARIANT_TYPES:
        raise InputFormatError(f"type {row['type']!r} is not known", path=path, line=line,
                               hint="accepted types: " + _ACCEPTED_TYPES + " (or leave it empty)")
    if not words:
        _, rest = split_gene_prefix(alteration, row.get("gene", ""), path=path, line=line)
        cn = _CN_TEXT.fullmatch(rest)
        if rest and cn and cn["word"]:
            return M.CALL_TYPE_COPY_NUMBER
        fusion = _FUSION_TEXT.fullmatch(alteration)
        partners = [fusion[g] for g in ("five", "three", "one") if fusion and fusion[g]]
        if (alteration and fusion and not any(_RESIDUE.fullmatch(p) for p in partners)
                and (fusion["five"] or re.search(r"fusion|rearrangement|translocation", alteration, re.IGNORECASE))):
            return M.CALL_TYPE_FUSION
    return M.CALL_TYPE_VARIANT


def _row_calls(row: dict, layout: Layout, panel: Panel, path: str, line: int) -> list[dict]:
    """The call(s) of one table row."""
    if layout.name == "megsap-cfdna-monitoring":
        return [_allele_call(row["chrom"], row["pos"], row["ref"], row["alt"], path, line)]
    kind = _row_kind(row, path, line)
    gene = row.get("gene", "")
    if kind == "not_detected":
        return _not_detected_calls(row, panel, path, line)
    if kind == M.CALL_TYPE_COPY_NUMBER:
        return [_copy_number_call(row, path, line)]
    if kind == M.CALL_TYPE_FUSION:
        return [_fusion_call(row, path, line)]
    cdna = row.get("cdna", "")
    text = row.get("alteration", "")
    if not text and not cdna:
        raise InputFormatError("empty alteration", path=path, line=line,
                               hint="write the change (KRAS G12C, c.35G>T, chr12:25245350 C>A) or not detected")
    # a report giving both: the cDNA places the allele exactly, the protein is kept for comparison
    mapped = back_map(cdna or text, gene, panel, path=path, line=line)
    call = _mapped_call(mapped, gene)
    if cdna and text:
        protein = split_gene_prefix(text, gene, path=path, line=line)[1]
        call[C.SOURCE_HGVSP_SHORT] = protein_short(protein)
        call[C.ALTERATION] = f"{mapped.gene} {protein}"
    return [call]


def _allele_call(chrom: str, pos: str, ref: str, alt: str, path: str, line: int) -> dict:
    if not pos.isdigit() or int(pos) < 1:
        raise InputFormatError(f"POS {pos!r} is not a position", path=path, line=line,
                               hint="write a 1-based whole number")
    return {C.CHROM: chrom, C.POS: int(pos), C.REF: ref.upper(), C.ALT: alt.upper(),
            C.ALTERATION: f"{chrom}:{pos} {ref}>{alt}", C.STATUS_DETAIL: "genomic input"}


def _mapped_call(mapped: BackMapped, gene: str, detection: str = M.DETECTION_DETECTED) -> dict:
    call = {C.CHROM: mapped.chrom, C.POS: mapped.pos, C.REF: mapped.ref, C.ALT: mapped.alt,
            C.GENE: mapped.gene or gene, C.SOURCE_GENE: gene or mapped.gene, C.ALTERATION: mapped.alteration,
            C.SOURCE_HGVSP_SHORT: mapped.hgvsp_short, C.STATUS_DETAIL: mapped.note, C.DETECTION: detection}
    if not mapped.in_bundle:
        call[C.STATUS] = M.STATUS_OUTSIDE_PANEL
    return call


def _copy_number_call(row: dict, path: str, line: int) -> dict:
    gene = row.get("gene", "")
    gene, rest = split_gene_prefix(row.get("alteration", ""), gene, path=path, line=line)
    if not rest:  # the type column carries the state ("amplification")
        rest = row.get("type", "")
    match = _CN_TEXT.fullmatch(rest.strip()) if rest else None
    type_words = _normalize_words(row.get("type", ""))
    if match is None or not (match["word"] or match["number"]):
        raise InputFormatError(f"copy-number alteration {row.get('alteration', '')!r} is not understood", path=path,
                               line=line, hint="write amplification, gain, loss, homozygous deletion, or a copy number")
    word = _normalize_words(match["word"] or (type_words if type_words in _CN_WORDS else ""))
    state = _CN_WORDS.get(word, "")
    number = match["number"] or row.get("copy_number", "")
    detail = ""
    if word == "loss":
        detail = "'loss' read as shallow_deletion; write homozygous deletion for a two-copy loss"
    elif not state:
        detail = "copy number without a state: plasma copy numbers are diluted by the tumour fraction, not classified"
    try:
        copy_number = float(number) if number else np.nan
    except ValueError:
        raise InputFormatError(f"copy_number {number!r} is not a number", path=path, line=line) from None
    return {C.CALL_TYPE: M.CALL_TYPE_COPY_NUMBER, C.GENE: gene, C.SOURCE_GENE: gene, C.CN_STATE: state,
            C.COPY_NUMBER: copy_number, C.ALTERATION: f"{gene} {word or 'copy number'}".strip(),
            C.STATUS_DETAIL: detail, C.VAF: np.nan}  # an allele fraction means nothing for a copy-number call


def _fusion_call(row: dict, path: str, line: int) -> dict:
    gene, text = row.get("gene", ""), " ".join(row.get("alteration", "").split())
    match = _FUSION_TEXT.fullmatch(text)
    if match is None:
        raise InputFormatError(f"fusion {text!r} is not understood", path=path, line=line,
                               hint="write the partners 5' first: EML4-ALK, EML4::ALK, or ALK fusion")
    five, three = (match["five"] or "").upper(), (match["three"] or "").upper()
    named = match["one"].upper() if match["one"] else ""
    if five and gene and gene not in (five, three):
        raise InputFormatError(f"the gene column says {gene} but the fusion {text!r} joins {five} and {three}",
                               path=path, line=line, hint="correct the gene or the fusion")
    if named and gene and named != gene:
        raise InputFormatError(f"the gene column says {gene} but the fusion {text!r} names {named}",
                               path=path, line=line, hint="correct the gene or the fusion")
    gene = gene or named or three
    words = f"{five}::{three}" if five else f"{gene} fusion"
    return {C.CALL_TYPE: M.CALL_TYPE_FUSION, C.GENE: gene, C.SOURCE_GENE: gene, C.FUSION_5P: five,
            C.FUSION_3P: three, C.ALTERATION: words,
            C.STATUS_DETAIL: "" if five else "fusion partner not given"}


def _not_detected_calls(row: dict, panel: Panel, path: str, line: int) -> list[dict]:
    """One not_detected row per gene named (KRAS/NRAS), and per codon (G12/G13/Q61) or allele named."""
    text = _NOT_DETECTED_TEXT.sub(" ", row.get("alteration", "")).strip(" :;,-")
    genes = [g for g in re.split(r"\s*[/,]\s*", row.get("gene", "")) if g]
    prefix = re.fullmatch(rf"(?P<genes>{_GENE}(?:\s*[/,]\s*{_GENE})*)(?:\s+(?P<rest>.*))?", text)
    if prefix and not _RESIDUE.fullmatch(re.split(r"\s*[/,]\s*", prefix["genes"])[0]):
        named = [g for g in re.split(r"\s*[/,]\s*", prefix["genes"]) if g]
        if genes and set(named) != set(genes):
            raise InputFormatError(f"the gene column says {'/'.join(genes)} but the alteration {row['alteration']!r} "
                                   f"names {'/'.join(named)}", path=path, line=line,
                                   hint="correct the gene or the alteration")
        genes, text = named, (prefix["rest"] or "").strip()
    if not genes:
        raise InputFormatError(f"a not detected row needs a gene: {row.get('alteration', '')!r}", path=path,
                               line=line, hint="fill the gene column (KRAS, or KRAS/NRAS)")
    calls = []
    for gene in genes:
        base = {C.GENE: gene, C.SOURCE_GENE: gene, C.DETECTION: M.DETECTION_NOT_DETECTED, C.VAF: np.nan}
        tx = panel.by_gene.get(gene)
        if not text:
            calls.append({**base, C.ALTERATION: gene, C.STATUS_DETAIL: "not detected in the assayed gene"})
            continue
        codons = parse_codons(text, tx, path=path, line=line) if tx is not None else []
        if codons:
            calls += [{**base, C.ALTERATION: f"{gene} {codon}", C.STATUS_DETAIL: "codon not detected"}
                      for codon in codons]
            continue
        mapped = back_map(text, gene, panel, path=path, line=line)
        call = {**_mapped_call(mapped, gene, M.DETECTION_NOT_DETECTED), C.VAF: np.nan}
        if mapped.kind == KIND_BY_NAME:
            call[C.STATUS_DETAIL] = "not detected; " + mapped.note
        calls.append(call)
    return calls


def _calls_table(records: list[dict], path: str) -> pd.DataFrame:
    """The calls table of the rows' calls, with the calls-table types (POS Int64; empty for by-name calls)."""
    frame = pd.DataFrame.from_records(records, columns=CTDNA_CALLS_COLUMNS)
    text_defaults = {C.VARIANT_ID: ".", C.CALL_TYPE: M.CALL_TYPE_VARIANT, C.DETECTION: M.DETECTION_DETECTED}
    for name in CTDNA_CALLS_COLUMNS:
        if name in (C.POS, C.DEPTH, C.ALT_DEPTH, C.VAF, C.INPUT_LINE, C.COPY_NUMBER, C.CN_LOG2):
            continue
        values = frame[name].astype(object)
        frame[name] = values.where(values.notna(), text_defaults.get(name, ""))
    frame[C.SOURCE] = pd.Series("ctdna", index=frame.index, dtype=object)
    frame[C.INPUT_FILE] = pd.Series(path, index=frame.index, dtype=object)
    frame[C.POS] = pd.array(frame[C.POS].tolist(), dtype="Int64")
    for name in (C.DEPTH, C.ALT_DEPTH):
        frame[name] = pd.to_numeric(frame[name]).round().astype("Int64")
    for name in (C.VAF, C.COPY_NUMBER, C.CN_LOG2):
        frame[name] = pd.to_numeric(frame[name]).astype(float)
    frame[C.INPUT_LINE] = frame[C.INPUT_LINE].astype(np.int64)
    # an allele looked for and not seen (VAF or alt reads exactly 0) is not detected, not a call
    unseen = ((frame[C.VAF] == 0) | (frame[C.ALT_DEPTH] == 0).fillna(False)) & frame[C.POS].notna()
    frame.loc[unseen.to_numpy(dtype=bool), C.DETECTION] = M.DETECTION_NOT_DETECTED
    return frame
