"""Fusion readers (cBioPortal data_sv.txt and the older fusion file, STAR-Fusion, Arriba) and
VCF structural records (breakends, <DEL>/<DUP>/<AMP>/<CNV>) -> calls.

A fusion call names its 5' and 3' partner (``fusion_5p``, ``fusion_3p``) and is written
``EML4::ALK`` (HGNC/HGVS fusion notation) in ``alteration``; ``gene`` is the partner the
call is filed under: the fusion driver where the fusion keeps its active part (3' for ALK,
ROS1, RET, NTRK1-3, NRG1, BRAF, RAF1, MET, ERBB2; 5' for FGFR1-3 and EGFR), else the 3'
partner. So ``ROS1::EYS`` (ROS1 5', no kinase kept) is filed under EYS, not ROS1.

Orientation, per source:

* **data_sv.txt**: no column states it. Site1 is read as 5' and Site2 as 3', the order of
  cBioPortal's own example (TMPRSS2 -> ERG) and of MSK's Event_Info ("EML4-ALK fusion").
  The file's order is kept as written; it is not "corrected" from gene knowledge (MSK's
  lung cohort has ``NRG1-CD74`` whose comment says CD74-NRG1: it stays NRG1::CD74).
  Rows with one gene, or the same gene twice ("MET-intragenic"), are not fusions: they
  go to the skipped table with their Event_Info.
* **Older cBioPortal fusion files** (Hugo_Symbol, Tumor_Sample_Barcode, Fusion): the
  partners are read from the Fusion text ("EML4-ALK fusion"), split where one side is
  the row's Hugo_Symbol; the file lists a fusion once per partner gene, and the repeat
  is skipped as a duplicate.
* **STAR-Fusion**: LeftGene is 5', RightGene 3' (STAR-Fusion orients by transcription).
* **Arriba**: gene1 is 5' and gene2 3' when Arriba could predict the transcribed strand
  (the value after the slash of ``strand1(gene/fusion)``/``strand2`` is not "."). Where
  it could not, the gene strand (before the slash) and ``direction1``/``direction2``
  orient it: a gene keeps its 5' end when it is on + and its partner is fused
  downstream of the breakpoint, or on - and fused upstream. If that names exactly one
  5' gene the pair is ordered so; otherwise (5'-5', 3'-3' or intergenic) the row is
  skipped. ``confidence`` low becomes FILTER ``arriba_low_confidence``.
* **VCF breakends**: each side's retained part comes from the bracket form (``t[p[`` and
  ``t]p]`` keep the sequence left of POS, ``]p]t`` and ``[p[t`` the right; ``[p[`` keeps
  the mate's right side, ``]p]`` its left), or from Delly's ``CT`` (3to5 = t[p[, 3to3 =
  t]p], 5to5 = [p[t, 5to3 = ]p]t); the gene strands from ``resources/genes/gene_loci.tsv``
  then say which partner is 5' as above.

The same fusion of one sample is called once: its other rows (other breakpoints or
isoforms, a breakend's mate record) are skipped as "same fusion as line N".
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from .. import columns as C
from .. import models as M
from ..errors import InputFormatError, UsageError
from ..reference.builds import canonical_contig
from .cnv import (GENE_LEVEL_COLUMNS, copy_number_calls, copy_number_genes, cn_state_from_copies, gene_loci,
                  genes_in_list, parse_table, read_text)
from .result import SKIPPED_COLUMNS, ReadResult
from .vcf import SV_CN, SV_INFO


_ORIGINS = {"SOMATIC": "somatic", "GERMLINE": "germline"}
_SV_SAMPLE = ["Sample_Id", "Sample_ID", "Tumor_Sample_Barcode"]
_BREAKEND = re.compile(r"^([A-Za-z.*]*)([\[\]])([^:\[\]]+):(\d+)([\[\]])([A-Za-z.*]*)$")
_DELLY_CT = {"3to5": (True, False), "3to3": (True, True), "5to5": (False, False), "5to3": (False, True)}
_COPY_NUMBER_ALTS = {"DEL", "DUP", "AMP", "CNV"}
# drivers whose fusions keep their 5' part (FGFR3::TACC3, FGFR2::BICC1, EGFR::SEPTIN14); the other
# drivers (ALK, ROS1, RET, NTRK1-3, NRG1, BRAF, RAF1, MET, ERBB2) are active as the 3' partner
SV_ORDER_NOTE = "5'/3' as written in data_sv.txt (Site1, Site2); the file does not state the orientation"
FIVE_PRIME_DRIVERS = frozenset({"FGFR1", "FGFR2", "FGFR3", "EGFR"})


# --- sniffing -------------------------------------------------------------------------------
def _header_names(lines: list[str], allow_hash: bool = False) -> list[str]:
    for line in lines:
        line = line.lstrip("\ufeff").rstrip("\r\n")
        if line.strip() and (allow_hash or not line.startswith("#")):
            return line.split("\t")
    return []


def looks_like_sv(lines: list[str]) -> bool:
    """cBioPortal data_sv.txt: a sample column and Site1/Site2 gene symbols."""
    names = set(_header_names(lines))
    return bool(names & set(_SV_SAMPLE)) and bool(names & {"Site1_Hugo_Symbol", "Site2_Hugo_Symbol"})


def looks_like_legacy_fusion(lines: list[str]) -> bool:
    """The deprecated cBioPortal fusion file: Hugo_Symbol, Tumor_Sample_Barcode, Fusion."""
    return {"Hugo_Symbol", "Tumor_Sample_Barcode", "Fusion"} <= set(_header_names(lines))


def looks_like_star_fusion(lines: list[str]) -> bool:
    names = set(_header_names(lines, allow_hash=True))
    return {"#FusionName", "LeftGene", "RightGene", "LeftBreakpoint", "RightBreakpoint"} <= names


def looks_like_arriba(lines: list[str]) -> bool:
    names = set(_header_names(lines, allow_hash=True))
    return {"#gene1", "gene2", "breakpoint1", "breakpoint2"} <= names


def sniff_fusions(lines: list[str]) -> str | None:
    """'sv', 'fusion_legacy', 'star_fusion' or 'arriba' for the first ~50 decoded lines, else None."""
    for name, looks in (("sv", looks_like_sv), ("fusion_legacy", looks_like_legacy_fusion),
                        ("star_fusion", looks_like_star_fusion), ("arriba", looks_like_arriba)):
        if looks(lines):
            return name
    return None


# --- readers --------------------------------------------------------------------------------
def read_fusions(path: str, sample: str | None = None) -> ReadResult:
    """Read a fusion file of any supported layout into fusion calls.

    Parameters
    ----------
    sample : keep only this sample (cohort files), or name the sample of a single-sample
        file (STAR-Fusion, Arriba; default: the file name).
    """
    path = str(path)
    lines, checksum = read_text(path)
    kind = sniff_fusions(lines[:50])
    if kind is None:
        raise InputFormatError("not a fusion file I know", path=path, line=1,
                               hint="give a cBioPortal data_sv.txt, a STAR-Fusion fusion_predictions.tsv "
                                    "or an Arriba fusions.tsv")
    head = next(i for i, line in enumerate(lines) if line.strip()
                and (kind in ("star_fusion", "arriba") or not line.startswith("#")))
    frame, line_numbers = parse_table(path, lines, head)
    reader = {"sv": _sv_partners, "fusion_legacy": _legacy_partners, "star_fusion": _star_fusion_partners,
              "arriba": _arriba_partners}[kind]
    default_sample = sample or re.sub(r"\.(tsv|txt)(\.gz)?$", "", Path(path).name)
    found = reader(frame, default_sample).assign(input_line=line_numbers)
    all_samples = list(pd.unique(found[C.SAMPLE]))
    samples = all_samples
    if sample is not None and kind in ("sv", "fusion_legacy"):
        if sample not in all_samples:
            raise UsageError(f"sample {sample!r} is not in {path}",
                             hint="samples in the file: " + ", ".join(all_samples[:5]))
        found, samples = found[found[C.SAMPLE] == sample], [sample]
    fusions, skipped = split_fusions(found)
    skipped = skipped.assign(input_file=path, record=[lines[n - 1][:200] for n in skipped["input_line"]])
    builds = set(frame["NCBI_Build"].str.strip()) - {""} if "NCBI_Build" in frame else set()
    note = (f"{path}: {len(found)} rows read: {len(fusions)} fusion calls, {len(skipped)} skipped"
            + "".join(f"; {n} {reason}" for reason, n in _reason_counts(skipped).items()))
    notes = [note]
    if kind == "sv":
        notes.append("data_sv.txt states no orientation: Site1 is read as the 5' partner, Site2 as the 3'")
    return ReadResult(format=kind, calls=fusion_calls(fusions, kind, path), samples=samples,
                      n_records=len(frame), checksum=checksum, skipped=skipped[SKIPPED_COLUMNS].reset_index(drop=True),
                      declared_build=next(iter(builds)) if len(builds) == 1 else None, notes=notes)


def _reason_counts(skipped: pd.DataFrame) -> dict[str, int]:
    kinds = skipped["reason"].str.replace(r"[:(].*$", "", regex=True).str.strip()
    return kinds.value_counts().to_dict()


def _column(frame: pd.DataFrame, *names: str) -> pd.Series:
    """The first of `names` the frame has, stripped; empty strings if none."""
    name = next((n for n in names if n in frame), None)
    return frame[name].str.strip() if name else pd.Series("", index=frame.index, dtype=object)


def _sv_partners(frame: pd.DataFrame, default_sample: str) -> pd.DataFrame:
    """data_sv.txt rows: Site1 -> 5', Site2 -> 3'; one gene or the same gene twice is not a fusion."""
    site1, site2 = _column(frame, "Site1_Hugo_Symbol"), _column(frame, "Site2_Hugo_Symbol")
    event = _column(frame, "Event_Info", "Fusion")
    fusion = (site1 != "") & (site2 != "") & (site1 != site2)
    gene = site1.where(site1 != "", site2)
    reason = np.where(fusion, "", np.where((site1 == site2) | event.str.contains("intragenic", case=False),
                                           "intragenic rearrangement, not a fusion: " + gene + " (" + event + ")",
                                           "only one partner gene, not read as a fusion: " + gene + " (" + event + ")"))
    return pd.DataFrame({C.SAMPLE: _column(frame, *_SV_SAMPLE), C.FUSION_5P: site1.where(fusion, ""),
                         C.FUSION_3P: site2.where(fusion, ""), C.CHROM: _column(frame, "Site1_Chromosome"),
                         C.POS: pd.to_numeric(_column(frame, "Site1_Position"), errors="coerce"),
                         C.ORIGIN: _column(frame, "SV_Status").str.upper().map(_ORIGINS).fillna(""),
                         C.FILTER: "PASS", "reason": reason, C.STATUS_DETAIL: SV_ORDER_NOTE})


def _legacy_partners(frame: pd.DataFrame, default_sample: str) -> pd.DataFrame:
    """Older fusion file: partners from the Fusion text ("EML4-ALK fusion"), split beside Hugo_Symbol."""
    split = [_split_fusion_name(text, gene) for text, gene in zip(_column(frame, "Fusion"), _column(frame, "Hugo_Symbol"))]
    five, three, reason = (list(x) for x in zip(*split)) if split else ([], [], [])
    return pd.DataFrame({C.SAMPLE: _column(frame, "Tumor_Sample_Barcode"), C.FUSION_5P: five, C.FUSION_3P: three,
                         C.CHROM: "", C.POS: np.nan,
                         C.ORIGIN: _column(frame, "Fusion_Status").str.upper().map(_ORIGINS).fillna(""),
                         C.FILTER: "PASS", "reason": reason}, index=frame.index)


def _split_fusion_name(text: str, gene: str) -> tuple[str, str, str]:
    """('EML4', 'ALK', '') from 'EML4-ALK fusion' and gene ALK or EML4; a reason instead where it cannot."""
    name = re.sub(r"\s+fusion.*$", "", text, flags=re.IGNORECASE).strip()
    if "intragenic" in name.lower():
        return "", "", f"intragenic rearrangement, not a fusion: {gene} ({text})"
    cuts = [m.start() for m in re.finditer(r"::|-", name)]
    for cut in cuts:
        width = 2 if name[cut:cut + 2] == "::" else 1
        five, three = name[:cut], name[cut + width:]
        if gene in (five, three) and five and three and five != three:
            return five, three, ""
    return "", "", f"cannot read the partners of Fusion {text!r} beside gene {gene}"


def _gene_name(values: pd.Series) -> pd.Series:
    """STAR-Fusion 'EML4^ENSG00000143924.18' -> 'EML4'."""
    return values.str.split("^", n=1).str[0].str.strip()


def _breakpoint(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """'chr2:42522656:+' -> ('chr2', 42522656)."""
    parts = values.str.split(":")
    return parts.str[0].fillna(""), pd.to_numeric(parts.str[1], errors="coerce")


def _star_fusion_partners(frame: pd.DataFrame, default_sample: str) -> pd.DataFrame:
    five, three = _gene_name(frame["LeftGene"]), _gene_name(frame["RightGene"])
    chrom, pos = _breakpoint(frame["LeftBreakpoint"])
    reason = np.where(five == three, "intragenic rearrangement, not a fusion: " + five, "")
    return pd.DataFrame({C.SAMPLE: default_sample, C.FUSION_5P: five.where(reason == "", ""),
                         C.FUSION_3P: three.where(reason == "", ""), C.CHROM: chrom, C.POS: pos, C.ORIGIN: "",
                         C.FILTER: "PASS", "reason": reason})


def _arriba_partners(frame: pd.DataFrame, default_sample: str) -> pd.DataFrame:
    """Arriba's own order where it predicted the transcribed strand; else gene strand + direction."""
    gene1, gene2 = frame["#gene1"].str.strip(), frame["gene2"].str.strip()
    strands1 = frame.get("strand1(gene/fusion)", pd.Series("./.", index=frame.index)).str.split("/")
    strands2 = frame.get("strand2(gene/fusion)", pd.Series("./.", index=frame.index)).str.split("/")
    predicted = (strands1.str[1] != ".") & (strands2.str[1] != ".") & strands1.str[1].notna() & strands2.str[1].notna()
    keeps5_1 = _keeps_5prime(strands1.str[0], _column(frame, "direction1") == "downstream")
    keeps5_2 = _keeps_5prime(strands2.str[0], _column(frame, "direction2") == "downstream")
    swap = ~predicted & keeps5_2 & ~keeps5_1
    unoriented = ~predicted & (keeps5_1 == keeps5_2)
    intergenic = gene1.str.contains(r"[,(]") | gene2.str.contains(r"[,(]")
    five, three = gene1.where(~swap, gene2), gene2.where(~swap, gene1)
    chrom1, pos1 = _breakpoint(frame["breakpoint1"])
    chrom2, pos2 = _breakpoint(frame["breakpoint2"])
    reason = np.select([intergenic, gene1 == gene2, unoriented],
                       ["intergenic breakpoint, not a gene fusion: " + gene1 + " / " + gene2,
                        "intragenic rearrangement, not a fusion: " + gene1,
                        "no 5'->3' orientation: strands and directions do not order " + gene1 + " and " + gene2], "")
    ok = reason == ""
    low = _column(frame, "confidence").str.lower() == "low"
    return pd.DataFrame({C.SAMPLE: default_sample, C.FUSION_5P: five.where(ok, ""), C.FUSION_3P: three.where(ok, ""),
                         C.CHROM: chrom1.where(~swap, chrom2), C.POS: pos1.where(~swap, pos2), C.ORIGIN: "",
                         C.FILTER: np.where(low, "arriba_low_confidence", "PASS"), "reason": reason})


def _keeps_5prime(strand: pd.Series, keeps_left: pd.Series) -> pd.Series:
    """A gene keeps its 5' end when it is on + and keeps the part left of the breakpoint, or on - and right."""
    return ((strand == "+") & keeps_left) | ((strand == "-") & ~keeps_left)


# --- one table ------------------------------------------------------------------------------
def split_fusions(found: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fusions, and skipped rows: those with a reason, and repeats of a sample's fusion after its first row.

    Parameters
    ----------
    found : sample, fusion_5p, fusion_3p, ..., input_line, reason ("" for a fusion).
    """
    candidate = found[found["reason"] == ""]
    key = [C.SAMPLE, C.FUSION_5P, C.FUSION_3P]
    repeat = candidate.duplicated(key, keep="first")
    first_line = candidate.groupby(key, sort=False)["input_line"].transform("first")
    repeats = candidate[repeat].assign(reason=lambda r: "same fusion as line " + first_line[repeat].astype(str)
                                       + ": " + _alteration(r[C.FUSION_5P], r[C.FUSION_3P]))
    skipped = pd.concat([found[found["reason"] != ""], repeats]).sort_values("input_line")
    return candidate[~repeat], skipped[["input_line", "reason"]]


def _alteration(five: pd.Series, three: pd.Series) -> pd.Series:
    return five.replace("", "?") + "::" + three.replace("", "?")


def fusion_calls(found: pd.DataFrame, source: str, path: str) -> pd.DataFrame:
    """The calls table of fusions (sample, fusion_5p, fusion_3p, chrom, pos, id, filter, origin, input_line)."""
    drivers = genes_in_list("fusion_driver")
    five, three = found[C.FUSION_5P].reset_index(drop=True), found[C.FUSION_3P].reset_index(drop=True)
    # a driver counts only where the fusion keeps its active part: ROS1::EYS keeps no ROS1 kinase
    driver_3p = three.isin(drivers - FIVE_PRIME_DRIVERS)
    driver_5p = five.isin(FIVE_PRIME_DRIVERS & drivers)
    gene = np.where(driver_3p, three, np.where(driver_5p, five, three.where(three != "", five)))
    n = len(found)

    def given(name: str, default):
        return found[name].to_numpy() if name in found else np.full(n, default, dtype=object)

    calls = pd.DataFrame({
        C.SAMPLE: given(C.SAMPLE, ""), C.CHROM: given(C.CHROM, ""),
        C.POS: pd.array(pd.to_numeric(pd.Series(given(C.POS, np.nan)), errors="coerce"), dtype="Int64"),
        C.VARIANT_ID: given(C.VARIANT_ID, "."), C.REF: "", C.ALT: "", C.FILTER: given(C.FILTER, "PASS"),
        C.DEPTH: pd.array([None] * n, dtype="Int64"), C.ALT_DEPTH: pd.array([None] * n, dtype="Int64"),
        C.VAF: np.nan, C.GENOTYPE: "", C.PHASE_SET: "", C.SOURCE: source, C.INPUT_FILE: path,
        C.INPUT_LINE: pd.array(given("input_line", None), dtype="Int64"), C.GENE: gene,
        C.CALL_TYPE: M.CALL_TYPE_FUSION, C.DETECTION: M.DETECTION_DETECTED, C.ORIGIN: given(C.ORIGIN, ""),
        C.ALTERATION: _alteration(five, three).to_numpy(), C.COPY_NUMBER: np.nan, C.CN_LOG2: np.nan,
        C.CN_STATE: "", C.FUSION_5P: five.to_numpy(), C.FUSION_3P: three.to_numpy(),
        C.STATUS_DETAIL: given(C.STATUS_DETAIL, "")}, index=range(n))
    return calls[GENE_LEVEL_COLUMNS]


# --- VCF structural records -----------------------------------------------------------------
def is_structural_allele(alt: pd.Series) -> pd.Series:
    """Symbolic (<DEL>, <CNV>, ...) or breakend (t[p[ ...) ALT alleles."""
    alt = alt.fillna("").astype(str)
    return alt.str.startswith("<") | alt.str.contains(r"[\[\]]", regex=True)


def _info(text: str) -> dict[str, str]:
    return dict(field.split("=", 1) if "=" in field else (field, "") for field in str(text).split(";") if field)


def _genes_at(loci: pd.DataFrame, contig: str, start: int, end: int) -> pd.DataFrame:
    """The listed genes that overlap contig:start-end."""
    return loci[(loci["chrom"] == contig) & (loci["start"] <= end) & (loci["end"] >= start)]


def structural_records_to_calls(calls: pd.DataFrame, build: str
                                ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Split VCF calls into (the other calls, copy-number and fusion calls, skipped rows).

    Rows with a symbolic or breakend ALT become gene-level calls: <DEL>/<DUP>/<AMP>/<CNV>
    (or SVTYPE DEL/DUP/CNV) one copy-number call per copy-number gene their span
    (POS+1..END) touches, with the sample's FORMAT CN, else INFO CN (no CN: <DEL> is a
    shallow deletion, or deep where GT is 1/1; <DUP> a gain; <AMP> an amplification;
    <CNV> is skipped); breakends one fusion call with both partner genes (see the module
    docstring). Every structural row becomes calls or a skipped row with its reason.
    """
    structural = is_structural_allele(calls[C.ALT]).to_numpy() if len(calls) else np.zeros(0, dtype=bool)
    rest = calls[~structural].drop(columns=[c for c in (SV_INFO, SV_CN) if c in calls])
    loci = gene_loci(build)
    cn_genes = copy_number_genes()
    drivers = genes_in_list("fusion_driver")
    copy_rows, fusion_rows, skipped = [], [], []
    for row in calls[structural].to_dict("records"):  # structural records are few: one at a time
        info = _info(row.get(SV_INFO, ""))
        alt, contig, pos = str(row[C.ALT]), canonical_contig(str(row[C.CHROM])), int(row[C.POS])
        base = {C.SAMPLE: row[C.SAMPLE], C.CHROM: row[C.CHROM], C.POS: pos, C.VARIANT_ID: row[C.VARIANT_ID],
                C.FILTER: row[C.FILTER], "input_line": row[C.INPUT_LINE]}
        record = f"{row[C.CHROM]}\t{pos}\t{row[C.VARIANT_ID]}\t{row[C.REF]}\t{alt}"
        kind = alt.strip("<>").split(":")[0].upper() if alt.startswith("<") else "BND"
        if kind not in _COPY_NUMBER_ALTS and info.get("SVTYPE", "").upper() in _COPY_NUMBER_ALTS and kind != "BND":
            kind = info["SVTYPE"].upper()
        if row.get(C.STATUS) == M.STATUS_NOT_CARRIED:
            skipped.append((row[C.INPUT_LINE], "no sample carries this structural allele", record))
        elif kind in _COPY_NUMBER_ALTS:
            made, reason = _copy_number_from_span(row, info, kind, contig, pos, loci, cn_genes)
            copy_rows += [{**base, **m} for m in made]
            if reason:
                skipped.append((row[C.INPUT_LINE], reason, record))
        elif kind == "BND" or info.get("SVTYPE", "").upper() in ("BND", "TRA"):
            made, reason = _fusion_from_breakend(alt, info, contig, pos, loci, drivers)
            if made:
                fusion_rows.append({**base, **made, "reason": ""})
            else:
                skipped.append((row[C.INPUT_LINE], reason, record))
        else:
            skipped.append((row[C.INPUT_LINE], f"structural record {alt} is read neither as copy number nor as "
                                               "a fusion", record))
    path = str(calls[C.INPUT_FILE].iloc[0]) if len(calls) else ""
    found = pd.DataFrame(fusion_rows, columns=[C.SAMPLE, C.CHROM, C.POS, C.VARIANT_ID, C.FILTER, "input_line",
                                               C.FUSION_5P, C.FUSION_3P, "reason"])
    fusions, repeats = split_fusions(found)
    parts = ([copy_number_calls(pd.DataFrame(copy_rows), "vcf", path)] if copy_rows else []) \
        + ([fusion_calls(fusions, "vcf", path)] if len(fusions) else [])
    gene_level = pd.concat(parts) if parts else pd.DataFrame(columns=GENE_LEVEL_COLUMNS)
    by_line = {int(r["input_line"]): r for r in found.to_dict("records")} if len(found) else {}
    skipped += [(line, reason, f"{by_line[line][C.CHROM]}\t{by_line[line][C.POS]}") for line, reason in
                zip(repeats["input_line"], repeats["reason"])]
    table = pd.DataFrame([(path, line, reason, record) for line, reason, record in skipped], columns=SKIPPED_COLUMNS)
    return rest, gene_level.reset_index(drop=True), table


def _copy_number_from_span(row: dict, info: dict, kind: str, contig: str, pos: int, loci: pd.DataFrame,
                           cn_genes: frozenset[str]) -> tuple[list[dict], str]:
    """Copy-number calls of the copy-number genes under a <DEL>/<DUP>/<AMP>/<CNV> span."""
    try:
        end = int(info["END"]) if "END" in info else pos + abs(int(info["SVLEN"].split(",")[0]))
    except (KeyError, ValueError):
        return [], f"<{kind}> without END or SVLEN: its span is unknown"
    cn_text = str(row.get(SV_CN) or "") or info.get("CN", "")
    try:
        copies = float(cn_text) if cn_text not in ("", ".") else np.nan
    except ValueError:
        return [], f"CN {cn_text!r} is not a number"
    if not np.isnan(copies):
        state = cn_state_from_copies(np.array([copies]))[0]
    elif kind == "DEL":
        state = M.CN_DEEP_DELETION if re.split(r"[/|]", str(row.get(C.GENOTYPE) or "")) == ["1", "1"] \
            else M.CN_SHALLOW_DELETION
    elif kind in ("DUP", "AMP"):
        state = M.CN_GAIN if kind == "DUP" else M.CN_AMPLIFICATION
    else:
        return [], "<CNV> without CN: its state is unknown"
    genes = _genes_at(loci[loci["gene"].isin(cn_genes)], contig, pos + 1, end)
    if genes.empty:
        return [], f"<{kind}> {contig}:{pos + 1}-{end} overlaps no copy-number gene"
    if state == M.CN_NEUTRAL:
        return [], f"<{kind}> with CN {copies:g}: neutral"
    return [{C.GENE: g, C.CN_STATE: state, C.COPY_NUMBER: copies} for g in genes["gene"]], ""


def _fusion_from_breakend(alt: str, info: dict, contig: str, pos: int, loci: pd.DataFrame,
                          drivers: frozenset[str]) -> tuple[dict, str]:
    """fusion_5p/fusion_3p of one breakend record, or the reason it gives none."""
    match = _BREAKEND.match(alt)
    if match:
        local_keeps_left = bool(match.group(1))          # t[p[ / t]p]: the bases before the bracket are ours
        mate_contig, mate_pos = canonical_contig(match.group(3)), int(match.group(4))
        mate_keeps_left = match.group(2) == "]"          # ]p]: the mate's left side is joined
    elif info.get("CT") in _DELLY_CT and ("CHR2" in info or "END" in info):
        local_keeps_left, mate_keeps_left = _DELLY_CT[info["CT"]]
        mate_contig, mate_pos = canonical_contig(info.get("CHR2", contig)), int(info.get("POS2", info.get("END")))
    else:
        return {}, f"breakend ALT {alt!r} names no mate position"
    local = _genes_at(loci, contig, pos, pos)
    mate = _genes_at(loci, mate_contig, mate_pos, mate_pos)
    where = f"{contig}:{pos} / {mate_contig}:{mate_pos}"
    if local.empty and mate.empty:
        return {}, f"breakends {where} lie in no listed gene"
    sides = []
    for genes, keeps_left in ((local, local_keeps_left), (mate, mate_keeps_left)):
        if not genes.empty:
            gene = genes.iloc[0]
            sides.append((gene["gene"], (gene["strand"] == "+") == keeps_left))
    if len(sides) == 2:
        (gene_a, a_is_5), (gene_b, b_is_5) = sides
        if gene_a == gene_b:
            return {}, f"intragenic rearrangement, not a fusion: {gene_a} ({where})"
        if a_is_5 == b_is_5:
            return {}, f"no 5'->3' fusion: {gene_a} and {gene_b} both keep their {'5' if a_is_5 else '3'}' ends"
        five, three = (gene_a, gene_b) if a_is_5 else (gene_b, gene_a)
        return {C.FUSION_5P: five, C.FUSION_3P: three}, ""
    gene, is_5 = sides[0]
    if gene not in drivers:
        return {}, f"breakend in {gene} only; the partner side ({where}) lies in no listed gene"
    return ({C.FUSION_5P: gene, C.FUSION_3P: ""} if is_5 else {C.FUSION_5P: "", C.FUSION_3P: gene}), ""
