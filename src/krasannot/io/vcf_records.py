"""VCF records into the calls table: FORMAT and GT read by cyvcf2 (htslib), the table built column by column.

io/vcf.py finds the records that matter (the panel's, symbolic, breakends) and hands them here as raw lines.
CHROM..FORMAT are split from the text (they go to the output as written); the sample columns go to htslib
through cyvcf2 with a header of our own (`_cyvcf2_header`), so each FORMAT field comes back as one array over
the samples. Genotypes that do not carry an allele (0/0, ./.) are dropped from those arrays before any
per-sample work, which is what makes a cohort VCF of thousands of samples cheap.

What htslib would not give back as written is kept out of its way:

* INFO, QUAL and FILTER are not handed over (INFO is passed on as text: VEP CSQ / SnpEff ANN, SV fields).
* Float FORMAT fields are handed over as String: htslib keeps floats in 32 bits, and AF=0.29 must stay 0.29.
* A record htslib refuses (an Integer field holding 12.5 or text, a sample with more subfields than FORMAT
  keys, a repeated FORMAT key, a GT that is no genotype), and a record whose sample columns hold a number
  of 10 digits or more (htslib turns integers beyond 32 bits into missing) or bytes that are not ASCII
  (cyvcf2 decodes strings as ASCII), has its sample columns split by hand: `_SplitFields`.
"""

from __future__ import annotations

import ctypes
import math
import os
import re
import tempfile
from dataclasses import dataclass, field
from itertools import chain, repeat

import numpy as np
import pandas as pd

from .. import columns as C
from .. import models as M
from .annotations import allele_entries, annotation_formats

# private calls columns of symbolic/breakend alleles (see io.fusions.structural_records_to_calls)
SV_INFO = "sv_info"   # the record's INFO
SV_CN = "sv_cn"       # the sample's FORMAT CN
NORMAL_GERMLINE_VAF = 0.20   # the matched normal carries the allele at this VAF or more: germline
_MISSING = {"", "."}
# the FORMAT keys the calls table reads; every other key reaches htslib under a neutral name
_READ_KEYS = {"GT", "AD", "DP", "AF", "FA", "TIR", "TAR", "AU", "CU", "GU", "TU", "RD", "FREQ", "AO", "RO",
              "PS", "PID", "PGT", "CN"}
_INT32_MISSING, _INT32_END = np.iinfo(np.int32).min, np.iinfo(np.int32).min + 1
# numbers htslib would not give back as written: beyond 32 bits, or with a leading zero (PS=0152, GT 0/01)
_UNTYPED_NUMBER = re.compile(r"\d{10}|(?<![\d.])0\d")
_FORMAT_TYPE = re.compile(r"##FORMAT=<ID=([^,>]+),.*?Type=(\w+)")


@dataclass
class Records:
    """The calls of the candidate records, the records skipped with their reason, and how many were not UTF-8."""

    calls: pd.DataFrame
    skipped: list[tuple[int | None, str, bytes]] = field(default_factory=list)
    n_not_utf8: int = 0


@dataclass
class _Record:
    line_no: int | None
    fields: list[str]    # CHROM..FORMAT as written
    samples: str         # the header's sample columns, tab-separated


# --- sample fields: one object per record, arrays over the samples ------------------------------------
def _number(value: str | None) -> float:
    if value is None or value in _MISSING:
        return math.nan
    try:
        return float(value)
    except ValueError:
        return math.nan


def _text_numbers(texts) -> tuple[np.ndarray, np.ndarray]:
    """Comma-separated numbers per sample as a (samples, values) array padded with NaN, and each count."""
    parts = [[_number(x) for x in (t or "").split(",")] for t in texts]
    counts = np.array([len(p) for p in parts], dtype=np.int64)
    values = np.full((len(parts), max(counts.max(initial=1), 1)), np.nan)
    for row, numbers in enumerate(parts):
        values[row, :len(numbers)] = numbers
    return values, counts


class _Cyvcf2Fields:
    """The FORMAT fields of one record as cyvcf2 read them (String or Integer arrays over every sample)."""

    def __init__(self, keys: list[str], variant, integer_keys: set[str]):
        self.keys = set(keys)
        self._variant, self.integer_keys = variant, integer_keys
        self._genotypes = variant.genotype.array() if "GT" in self.keys else None

    def key_groups(self, idx: np.ndarray) -> list[tuple[set[str], np.ndarray]]:
        """The FORMAT keys each sample writes: htslib gives every sample the record's keys."""
        return [(self.keys, np.arange(len(idx)))]

    def alleles(self) -> np.ndarray | None:
        """(samples, ploidy) allele numbers, -1 for '.', -2 past a sample's ploidy; None without GT."""
        return None if self._genotypes is None else self._genotypes[:, :-1]

    def genotype_texts(self, idx: np.ndarray) -> list[str]:
        """GT as written (0/1, 1|0, 1), rebuilt from the allele numbers and the phase."""
        rows = self._genotypes[idx]
        return [("|" if row[-1] else "/").join("." if a == -1 else str(a) for a in row[:-1] if a != -2)
                for row in rows.tolist()]

    def integers(self, key: str, idx: np.ndarray) -> np.ndarray:
        """An Integer key's (samples, values) int32 values as htslib holds them (missing, end-of-vector)."""
        raw = self._variant.format(key)
        return np.full((len(idx), 1), _INT32_MISSING) if raw is None else raw[idx]

    def texts(self, key: str, idx: np.ndarray) -> list[str]:
        raw = self._variant.format(key)
        if raw is None:
            return ["."] * len(idx)
        if key not in self.integer_keys:
            return [str(t) for t in raw[idx]]
        return [",".join("." if v == _INT32_MISSING else str(v) for v in row if v != _INT32_END)
                for row in raw[idx].tolist()]


class _SplitFields:
    """The FORMAT fields of one record htslib cannot read as written, split by hand."""

    def __init__(self, keys: list[str], samples: str):
        self.keys = set(keys)
        self._values = [dict(zip(keys, column.split(":"))) for column in samples.split("\t")]
        gts = [v.get("GT") for v in self._values]
        self._gts = gts if "GT" in self.keys else None

    def key_groups(self, idx: np.ndarray) -> list[tuple[set[str], np.ndarray]]:
        """Samples grouped by the FORMAT keys they write: a column may stop before FORMAT's last key."""
        groups: dict[frozenset, list[int]] = {}
        for row, i in enumerate(idx):
            groups.setdefault(frozenset(self._values[i]), []).append(row)
        return [(set(keys), np.array(rows)) for keys, rows in groups.items()]

    def alleles(self) -> np.ndarray | None:
        if self._gts is None:
            return None
        split = [re.split(r"[/|]", gt) if gt else None for gt in self._gts]
        width = max((len(s) for s in split if s), default=1)
        out = np.full((len(split), width), -2, dtype=np.int64)
        for row, parts in enumerate(split):
            if parts is None:
                out[row, 0] = -3  # no GT written: no evidence against any allele
                continue
            # an allele as the GT writes it: "01" or " 1" is no allele number (no call of that allele)
            out[row, :len(parts)] = [int(p) if p.isascii() and p.isdigit() and str(int(p)) == p else -1 for p in parts]
        return out

    def genotype_texts(self, idx: np.ndarray) -> list[str]:
        return [self._gts[i] or "" for i in idx]

    def texts(self, key: str, idx: np.ndarray) -> list[str | None]:
        """The key's text per sample; None where the sample's column stops before it."""
        return [self._values[i].get(key) for i in idx]


def _carriers(fields, allele: int) -> np.ndarray | None:
    """Per sample, whether its GT holds the allele; None where FORMAT has no GT (no evidence against it)."""
    alleles = fields.alleles()
    if alleles is None:
        return None
    return (alleles == allele).any(axis=1) | (alleles[:, 0] == -3)


# --- depth, alt depth and VAF --------------------------------------------------------------------------
class _Gathered:
    """The FORMAT fields of rows from several records that write the same keys, one array per key over
    all those rows: the caller rules below run once for them, not once per record."""

    def __init__(self, parts: list[tuple[object, np.ndarray]]):
        self.parts = parts  # (a record's fields, the sample columns read from it), in row order

    def numbers(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """(rows, values) numbers padded with NaN, and each row's count (see `_text_numbers`)."""
        if all(isinstance(f, _Cyvcf2Fields) and key in f.integer_keys for f, _ in self.parts):
            blocks = [f.integers(key, idx) for f, idx in self.parts]
            raw = np.full((sum(len(b) for b in blocks), max(b.shape[1] for b in blocks)), _INT32_END, np.int64)
            row = 0
            for block in blocks:
                raw[row:row + len(block), :block.shape[1]] = block
                row += len(block)
            counts = np.maximum((raw != _INT32_END).sum(axis=1), 1)
            return np.where(raw <= _INT32_END, np.nan, raw.astype(float)), counts
        return _text_numbers(self.texts(key))

    def texts(self, key: str) -> list[str | None]:
        return [text for f, idx in self.parts for text in f.texts(key, idx)]


def _support(fields: _Gathered, keys: set[str], allele: np.ndarray, ref: list[str], alt: list[str]
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Depth, alt depth and VAF of each row's ALT allele (`allele`, its number), from the caller's own
    FORMAT fields (`keys`, the same for every row).

    Strelka2 SNVs (AU/CU/GU/TU) and indels (TAR/TIR), VarScan (RD/AD/FREQ), FreeBayes (RO/AO),
    Mutect1 (FA) and the generic AD/DP/AF (Mutect2, VarDict, GATK); NaN where absent. A VAF is
    computed from counts only when the caller gave counts; it is never guessed.
    """
    n = len(allele)
    none = np.full(n, np.nan)  # read only: shared by every absent value
    depth = alt_depth = vaf = none
    rows = np.arange(n)

    def first(key: str) -> np.ndarray:  # Strelka's "tier1,tier2": the first
        return fields.numbers(key)[0][:, 0] if key in keys else none

    def single(key: str) -> np.ndarray:  # a field that must hold one number
        if key not in keys:
            return none
        values, counts = fields.numbers(key)
        return np.where(counts == 1, values[:, 0], np.nan)

    def nth(values: np.ndarray, counts: np.ndarray, k: np.ndarray) -> np.ndarray:  # k-th value (0-based) where given
        return np.where(counts > k, values[rows, np.minimum(k, values.shape[1] - 1)], np.nan)

    single_base = all(len(r) == 1 and len(a) == 1 for r, a in zip(ref, alt))  # the same for every row
    if "TIR" in keys and "TAR" in keys:                                   # Strelka2 indel
        alt_depth = first("TIR")
        depth = alt_depth + first("TAR")
    elif all(f"{b}U" in keys for b in "ACGT") and single_base:            # Strelka2 SNV
        by_base = {b: first(f"{b}U") for b in "ACGT"}
        upper = np.array([a.upper() for a in alt], dtype=object)
        alt_depth = np.select([upper == b for b in "ACGT"], [by_base[b] for b in "ACGT"], np.nan)
        depth = sum(by_base.values())
    elif "RD" in keys and "FREQ" in keys:                                  # VarScan: AD is the alt count alone
        alt_depth = single("AD")
        depth = alt_depth + single("RD")
        vaf = np.array([_number(f.rstrip("%")) / 100 if f.rstrip("%") not in _MISSING else math.nan
                        for f in fields.texts("FREQ")])
    elif "AO" in keys and "RO" in keys:                                    # FreeBayes
        observed, counts = fields.numbers("AO")
        alt_depth = nth(observed, counts, allele - 1)
        listed = np.arange(observed.shape[1]) < counts[:, None]
        depth = single("RO") + np.where(listed, observed, 0).sum(axis=1)
    else:                                                                  # AD = ref,alt1,alt2...
        if "AD" in keys:
            ad, counts = fields.numbers("AD")
            alt_depth = nth(ad, counts, allele)
            listed = np.arange(ad.shape[1]) < counts[:, None]
            depth = np.where(counts > allele, np.where(listed, ad, 0).sum(axis=1), np.nan)
        dp = single("DP")
        depth = np.where(np.isnan(dp), depth, dp)
        if "AF" in keys or "FA" in keys:                                   # Mutect2/VarDict AF, Mutect1 FA
            af = fields.texts("AF") if "AF" in keys else [""] * n
            fa = fields.texts("FA") if "FA" in keys else [""] * n
            fractions = [a or f or "" for a, f in zip(af, fa)]
            vaf = np.array([_number(parts[k - 1]) if len(parts := f.split(",")) >= k else math.nan
                            if f not in _MISSING else math.nan for f, k in zip(fractions, allele.tolist())])
    with np.errstate(invalid="ignore", divide="ignore"):
        computed = alt_depth / depth
    return depth, alt_depth, np.where(np.isnan(vaf) & ~np.isnan(alt_depth) & (depth > 0), computed, vaf)


@dataclass
class _Read:
    """Sample columns to read: from a record's `fields`, the columns `idx`, for its ALT `allele` (REF>ALT)."""

    fields: object
    idx: np.ndarray
    allele: int
    ref: str
    alt: str


def is_structural(alt: str) -> bool:
    """A symbolic (<DEL>, <CN0>) or breakend (N[chr2:100[) ALT allele."""
    return alt.startswith("<") or "[" in alt or "]" in alt


def _support_of(reads: list[_Read]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Depth, alt depth and VAF of every row the reads list (their samples, in order), the caller rules run
    once per group of rows whose records write the same FORMAT keys."""
    n = sum(len(r.idx) for r in reads)
    depth, alt_depth, vaf = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    groups: dict[tuple, list] = {}
    row = 0
    for read in reads:
        ref, alt = read.ref, read.alt
        for keys, rows in read.fields.key_groups(read.idx):  # a hand-split column may stop before FORMAT's end
            group = groups.setdefault((frozenset(keys), len(ref) == 1 and len(alt) == 1), [[], [], [], []])
            group[0].append((read.fields, read.idx[rows]))
            group[1].append(row + rows)
            group[2].append(np.full(len(rows), read.allele))
            group[3].extend([(ref, alt)] * len(rows))
        row += len(read.idx)
    for (keys, _), (parts, positions, alleles, bases) in groups.items():
        at = np.concatenate(positions)
        depth[at], alt_depth[at], vaf[at] = _support(_Gathered(parts), set(keys), np.concatenate(alleles),
                                                      [r for r, _ in bases], [a for _, a in bases])
    return depth, alt_depth, vaf


def _origins(reads: list[_Read], normal: int) -> list[str]:
    """Per read: germline where the matched normal carries the allele at NORMAL_GERMLINE_VAF or more,
    somatic where it was read with a lower VAF, "" where the normal gives no VAF."""
    vaf = _support_of([_Read(r.fields, np.array([normal]), r.allele, r.ref, r.alt) for r in reads])[2]
    return ["" if v != v else "germline" if v >= NORMAL_GERMLINE_VAF else "somatic" for v in vaf.tolist()]


# --- cyvcf2 --------------------------------------------------------------------------------------------
def _quiet_htslib() -> None:
    """cyvcf2's own htslib would print its warnings on stderr; the reader says what matters in one line."""
    import cyvcf2.cyvcf2 as compiled
    try:
        ctypes.CDLL(compiled.__file__).hts_set_log_level(0)
    except (OSError, AttributeError):
        pass


def _cyvcf2_header(keys: set[str], integer_keys: set[str], n_samples: int, width: int) -> str:
    """A header of our own: a neutral contig, each key read (Integer where the file says so, else String:
    a Float stays as written), neutral String keys X0.. for the others, and neutral sample names."""
    declared = [f'##FORMAT=<ID={k},Number={1 if k == "GT" else "."},Type={"Integer" if k in integer_keys else "String"},'
                f'Description="">' for k in sorted(keys)]
    declared += [f'##FORMAT=<ID=X{j},Number=.,Type=String,Description="">' for j in range(width)]
    names = "\t".join(f"s{i}" for i in range(n_samples))
    return "\n".join(["##fileformat=VCFv4.2", "##contig=<ID=c>", *declared,
                      f"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t{names}"]) + "\n"


def _needs_hand_split(record: _Record, keys: list[str]) -> bool:
    """Sample columns htslib would not give back as written: numbers beyond 32 bits or with a leading zero,
    bytes beyond ASCII, a FORMAT key written twice (htslib keeps the first, the last is the one that counts)."""
    return (not record.samples.isascii() or _UNTYPED_NUMBER.search(record.samples) is not None
            or len(set(keys)) < len(keys))


def _stops_early(fields: _Cyvcf2Fields, record: _Record, n_keys: int, normal: int | None) -> bool:
    """Whether a sample that may be read (one holding an ALT allele, or the matched normal) stops before
    FORMAT's last key: htslib reads a dropped key as "." (missing), but a dropped key is not written
    (a dropped CN leaves INFO's CN to count, a dropped PS leaves PID, ...)."""
    if record.samples.count(":") == (n_keys - 1) * (record.samples.count("\t") + 1):
        return False  # every column writes every key (htslib refuses a column with more)
    alleles = fields.alleles()
    columns = record.samples.split("\t")
    rows = list(np.flatnonzero((alleles > 0).any(axis=1))) if alleles is not None else list(range(len(columns)))
    return any(columns[i].count(":") < n_keys - 1 for i in rows + ([normal] if normal is not None else []))


def _sample_fields(meta_lines: list[str], n_samples: int, records: list[_Record], normal: int | None) -> list:
    """Per record, its FORMAT fields as arrays over the samples (cyvcf2, or `_SplitFields` where htslib can't)."""
    integer_keys = {m.group(1) for m in map(_FORMAT_TYPE.match, meta_lines)
                    if m and m.group(2) == "Integer" and m.group(1) in _READ_KEYS - {"GT"}}
    keys_of = [r.fields[8].split(":") for r in records]
    renamed: dict[str, str] = {}  # FORMAT as written -> FORMAT as handed to htslib
    for fmt in {r.fields[8] for r in records}:
        renamed[fmt] = ":".join(k if k in _READ_KEYS else f"X{j}" for j, k in enumerate(fmt.split(":")))
    text = [f"c\t{i + 1}\t.\tN\t.\t.\t.\t.\t{renamed[r.fields[8]]}\t{r.samples}\n"
            for i, (r, keys) in enumerate(zip(records, keys_of)) if not _needs_hand_split(r, keys)]
    fields: list = [None] * len(records)
    if text:
        width = max(len(k) for k in keys_of)
        used = set().union(*map(set, keys_of)) & _READ_KEYS
        for variant in _read_with_cyvcf2(_cyvcf2_header(used, integer_keys, n_samples, width) + "".join(text)):
            i = variant.POS - 1
            read = _Cyvcf2Fields(keys_of[i], variant, integer_keys)
            fields[i] = None if _stops_early(read, records[i], len(keys_of[i]), normal) else read
    return [f if f is not None else _SplitFields(keys_of[i], records[i].samples) for i, f in enumerate(fields)]


def _read_with_cyvcf2(text: str):
    """The records of a small VCF text, read by cyvcf2 from memory; records htslib refuses are left out."""
    import cyvcf2

    _quiet_htslib()
    data = text.encode("utf-8")
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("krasannot-records")
        name = f"/proc/self/fd/{fd}"
    else:
        fd, name = tempfile.mkstemp(suffix=".vcf")
    try:
        with open(fd, "wb", closefd=False) as handle:
            handle.write(data)
        reader = cyvcf2.VCF(name)
        records = iter(reader)
        while True:
            try:
                yield next(records)
            except StopIteration:
                break
            except Exception:  # a record htslib refuses: the caller splits it by hand
                continue
        reader.close()
    finally:
        os.close(fd)
        if not name.startswith("/proc/"):
            os.unlink(name)


# --- records into the calls table ----------------------------------------------------------------------
def _split_records(lines: list[tuple[int | None, bytes]], n_samples: int, out: Records) -> list[_Record]:
    """CHROM..FORMAT and the sample columns of each line; a record that cannot be read is skipped with its reason."""
    records = []
    for line_no, raw in lines:
        text = raw.decode("utf-8", "replace").rstrip("\r")
        f = text.split("\t", 9)
        if "\ufffd" in text:  # bytes that are not UTF-8: fine in INFO/FORMAT, not in what we annotate
            if "\ufffd" in "".join(f[:5]):
                out.skipped.append((line_no, "CHROM, POS, ID, REF or ALT is not valid UTF-8", raw))
                continue
            out.n_not_utf8 += 1
        n_columns = text.count("\t") + 1
        if n_samples and n_columns < 9 + n_samples:
            out.skipped.append((line_no, f"record has {n_columns} columns, the header names {9 + n_samples}", raw))
            continue
        if not f[3] or f[3] == ".":
            out.skipped.append((line_no, "REF is empty", raw))
            continue
        samples = f[9] if len(f) > 9 else ""
        if n_columns > 9 + n_samples:  # columns past the header's samples are not read
            samples = "\t".join(samples.split("\t")[:n_samples])
        records.append(_Record(line_no, f[:8] + [f[8] if len(f) > 8 else ""], samples))
    return records


def _repeated(values: list, repeats: list[int]) -> list:
    """Each value repeated as many times as its entry has rows."""
    return list(chain.from_iterable(repeat(v, r) for v, r in zip(values, repeats)))


def records_to_calls(path: str, header, lines: list[tuple[int | None, bytes]], samples: list[str],
                     default_sample: str) -> Records:
    """The calls table of candidate records: one row per sample carrying an ALT allele, per allele.

    A record no sample carries is listed once, under the samples read, with status not_carried.
    Each record's ALT allele is an entry with its rows; the record's columns are written once per entry
    and repeated over its rows, the sample columns are read for all rows together (`_support_of`).
    """
    out = Records(calls=pd.DataFrame())
    records = _split_records(lines, len(header.samples), out)
    formats = annotation_formats(header.meta_lines)  # VEP CSQ / SnpEff ANN, if the VCF has them
    # the matched normal decides origin: present there at NORMAL_GERMLINE_VAF or more is germline
    normal = header.samples.index(header.normal_sample) if header.normal_sample in header.samples else None
    sample_index = np.array([header.samples.index(s) for s in samples], dtype=np.int64)
    names = np.array(samples, dtype=object)
    per_record = (_sample_fields(header.meta_lines, len(header.samples), records, normal) if samples
                  else [None] * len(records))
    entry: dict[str, list] = {name: [] for name in (C.CHROM, C.POS, C.VARIANT_ID, C.REF, C.ALT, C.FILTER,
                                                    C.INPUT_LINE, C.STATUS, SV_INFO, C.SOURCE_ENTRIES)}
    repeats: list[int] = []
    sample_column: list = []     # per entry: its rows' samples
    reads: list[_Read] = []      # the entries with carriers
    read_at: list[int] = []      # and where each is among the entries
    for record, fields in zip(records, per_record):
        chrom, pos, vid, ref, alts, filt, info = (record.fields[0], int(record.fields[1]), record.fields[2],
                                                  record.fields[3], record.fields[4].split(","),
                                                  record.fields[6], record.fields[7])
        for allele, alt in enumerate(alts, start=1):
            structural = is_structural(alt)
            if fields is None:
                n, status, sample = 1, np.nan, [default_sample]
            else:
                carried = _carriers(fields, allele)
                read = np.ones(len(samples), dtype=bool) if carried is None else carried[sample_index]
                idx = sample_index[read]  # 0/0 and ./. are dropped here, before any per-sample work
                if len(idx):
                    n, status, sample = len(idx), np.nan, list(names[read])
                    read_at.append(len(repeats))
                    reads.append(_Read(fields, idx, allele, ref, alt))
                else:  # still accounted for: listed once, under the samples read, with the reason
                    n, status, sample = 1, M.STATUS_NOT_CARRIED, [",".join(samples)]
            for name, value in ((C.CHROM, chrom), (C.POS, pos), (C.VARIANT_ID, vid), (C.REF, ref), (C.ALT, alt),
                                (C.FILTER, filt), (C.INPUT_LINE, record.line_no), (C.STATUS, status),
                                # END, SVTYPE, CN, MATEID: read by io.fusions.structural_records_to_calls
                                (SV_INFO, info if structural else np.nan),
                                (C.SOURCE_ENTRIES, allele_entries(info, formats, ref, alt, allele) if formats
                                 else np.nan)):
                entry[name].append(value)
            repeats.append(n)
            sample_column.append(sample)
    columns = {name: _repeated(values, repeats) for name, values in entry.items()}
    columns[C.SAMPLE] = list(chain.from_iterable(sample_column))
    columns[C.SOURCE], columns[C.INPUT_FILE] = "vcf", path
    columns.update(_sample_columns(reads, read_at, repeats, normal))
    out.calls = _calls_frame(columns, sum(repeats), formats)
    return out


def _sample_columns(reads: list[_Read], read_at: list[int], repeats: list[int],
                    normal: int | None) -> dict[str, list | np.ndarray]:
    """The columns read from the carriers' sample fields, NaN on the rows of entries without carriers."""
    starts = np.concatenate([[0], np.cumsum(repeats)]).astype(np.int64)
    rows = (np.concatenate([np.arange(starts[e], starts[e + 1]) for e in read_at]) if reads
            else np.array([], dtype=np.int64))
    n_rows = int(starts[-1])
    out: dict[str, np.ndarray] = {}
    support = _support_of(reads)
    for name, values in zip((C.DEPTH, C.ALT_DEPTH, C.VAF), support):
        out[name] = np.full(n_rows, np.nan)
        out[name][rows] = values
    texts: dict[str, list] = {C.GENOTYPE: [], C.PHASE_SET: [], SV_CN: []}
    for read in reads:
        fields, idx, n = read.fields, read.idx, len(read.idx)
        genotypes = fields.genotype_texts(idx) if "GT" in fields.keys else [""] * n
        if "PGT" in fields.keys:  # Mutect2: physical phasing beside an unphased GT
            genotypes = [p if g and "|" not in g and p not in (None, ".") else g
                         for g, p in zip(genotypes, fields.texts("PGT", idx))]
        texts[C.GENOTYPE].extend(genotypes)
        texts[C.PHASE_SET].extend(_phase_sets(fields, idx))
        texts[SV_CN].extend(([t or "" for t in fields.texts("CN", idx)] if "CN" in fields.keys else [""] * n)
                            if is_structural(read.alt) else [np.nan] * n)
    if normal is not None:
        texts[C.ORIGIN] = _repeated(_origins(reads, normal), [len(r.idx) for r in reads])
    for name, values in texts.items():
        out[name] = np.full(n_rows, np.nan, dtype=object)
        out[name][rows] = values
    return out


def _phase_sets(fields, idx: np.ndarray) -> list[str]:
    """PS (GATK), else PID (Mutect2's older tag); "" where neither is given."""
    ps = fields.texts("PS", idx) if "PS" in fields.keys else [""] * len(idx)
    pid = fields.texts("PID", idx) if "PID" in fields.keys else [""] * len(idx)
    return ["" if (p or q) == "." else (p or q or "") for p, q in zip(ps, pid)]


def _calls_frame(columns: dict, n_rows: int, formats) -> pd.DataFrame:
    """The calls table: the calls columns and status, then the private columns that hold a value."""
    def value_list(value) -> list | np.ndarray:  # the rows' values; a single value stands for every row
        if isinstance(value, np.ndarray):
            return value.tolist() if value.dtype == object else value
        return value if isinstance(value, list) else [value] * n_rows

    optional = ([C.SOURCE_ENTRIES] if formats else []) + [SV_INFO, SV_CN] + ([C.ORIGIN] if C.ORIGIN in columns else [])
    data = {name: value_list(columns[name]) for name in C.CALLS_COLUMNS + [C.STATUS] + optional}
    kept = [name for name, values in data.items() if name in C.CALLS_COLUMNS or name == C.STATUS
            or not all(isinstance(v, float) and v != v for v in values)]
    calls = (pd.DataFrame({name: data[name] for name in kept}, columns=kept) if n_rows
             else pd.DataFrame([], columns=kept))
    calls[C.STATUS] = calls[C.STATUS].astype(object).fillna("")
    if C.ORIGIN in calls:
        calls[C.ORIGIN] = calls[C.ORIGIN].astype(object).fillna("")
    for name in (C.DEPTH, C.ALT_DEPTH):  # read counts are whole numbers; missing stays missing
        calls[name] = pd.to_numeric(calls[name]).round().astype("Int64")
    return calls
