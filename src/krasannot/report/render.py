"""Per-sample report: annotated calls + matches + key findings in; HTML, JSON, TSV and VCF out.

`build_report` turns the tables into one dict (the content of ID.report.json, validated by
report.schema.json); the HTML is rendered from that same dict, so the two never disagree.
Everything a user wrote (sample names, notes, VCF header values) reaches the HTML only
through Jinja2's autoescape, and links are built only from validated PMID/NCT numbers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import re
import urllib.parse
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from .. import __version__
from .. import columns as C
from .. import models as M
from ..annotate.classify import NOT_A_FINDING_ORIGINS, describe_call
from ..errors import InputFormatError, KrasannotError, UsageError
from ..files import beside, cache_folder
from ..models import REPRODUCIBLE_RUN_TIME, SPECIMENS

if TYPE_CHECKING:
    import jinja2

SCHEMA_VERSION = "1.0.0"
KEY_GENES = ("KRAS", "STK11", "KEAP1", "TP53")
OUTPUT_SUFFIXES = (".report.html", ".report.json", ".calls.tsv", ".matches.tsv", ".annotated.vcf.gz",
                   ".annotated.vcf.gz.tbi")
# rows of a sample that are not panel calls (outside_panel can be millions of raw records)
_NOT_PANEL_CALLS = (M.STATUS_OUTSIDE_PANEL, M.STATUS_NOT_CARRIED)
_NOT_INTERPRETED = (M.STATUS_REF_MISMATCH, M.STATUS_NO_ALT, M.STATUS_SYMBOLIC, M.STATUS_INVALID_ALLELE)
_NUMERIC_CALL_FIELDS = (C.DEPTH, C.ALT_DEPTH, C.VAF, C.COPY_NUMBER, C.CN_LOG2)

# ---------------------------------------------------------------- paths

def check_sample_id(sample: str) -> str:
    """The sample id, if it can name files inside the output directory; UsageError otherwise."""
    text = str(sample)
    if (not text.strip() or "/" in text or "\\" in text or ".." in text or text.startswith(".")
            or re.search(r"[\x00-\x1f\x7f]", text)):
        raise UsageError(f"sample id {text!r} cannot name an output file",
                         hint="use an id without '/', '\\', '..', control characters or a leading '.'")
    return text


def confined_path(outdir: str | os.PathLike, name: str) -> Path:
    """outdir/name, refusing any name that resolves outside outdir (symlinks included)."""
    root = Path(outdir).resolve()
    target = (root / name).resolve()
    if target.parent != root:
        raise UsageError(f"output {name!r} would be written outside {outdir}")
    return target


# ---------------------------------------------------------------- tables -> report dict

def _text(value) -> str:
    if value is None or (not isinstance(value, (list, tuple, dict)) and pd.isna(value)):
        return ""
    return str(value).strip()


def _number(value) -> float | int | None:
    number = pd.to_numeric(_text(value) or None, errors="coerce")
    if number is None or pd.isna(number) or math.isinf(float(number)):
        return None
    return int(number) if float(number).is_integer() and "." not in _text(value) else float(number)


def _split(value, sep: str = ";") -> list[str]:
    return [part.strip() for part in _text(value).split(sep) if part.strip()]


# Every internal identifier a report may meet (levels, resistance tags, caveat codes, statuses), with the
# words a reader sees; drug classes are named by the evidence base (kb.yaml drug_class_names). An id not
# listed is shown with its underscores as spaces.
DISPLAY_NAMES = {
    # evidence levels (evidence/levels.py) and directions
    "approved": "approved",
    "guideline": "guideline-recommended",
    "clinical": "clinical evidence",
    "other_tumor_type": "approved in another tumour type",
    "investigational": "investigational",
    "preclinical": "preclinical",
    "resistance_standard": "resistance, standard-of-care evidence",
    "resistance_clinical": "resistance, clinical evidence",
    "prognostic_strong": "prognostic, strong evidence",
    "prognostic_clinical": "prognostic, clinical evidence",
    "sensitive": "sensitive", "resistant": "resistant", "prognostic": "prognostic",
    # where the evidence comes from, against the sample's tumour type
    "on_label": "this tumour type",
    "ancestor": "a parent type of this tumour type",
    "off_label": "off-label: evidence is from another tumour type",
    "tumour_agnostic": "any solid tumour (tumour-agnostic)",
    "tumor_agnostic": "any solid tumour (tumour-agnostic)",
    # resistance tags of older annotated tables
    "G12Ci_acquired": "acquired resistance to KRAS G12C inhibitors",
    "antiEGFR": "resistance to anti-EGFR antibodies",
    "ICI_poor_outcome": "poor outcome on immune checkpoint inhibitors",
    "EGFR_TKI_resistance": "resistance to EGFR tyrosine kinase inhibitors",
    "BRAFi_CRC_intrinsic": "intrinsic resistance to BRAF inhibitor monotherapy in colorectal cancer",
    # caveat codes (matcher and evidence entries)
    "low_vaf": "low VAF",
    "common_germline_polymorphism": "common germline polymorphism",
    "germline_polymorphism": "common germline polymorphism",
    "known_benign": "known benign (ClinVar; no population frequency in the shipped list)",
    "possible_germline": "possible germline: confirm with a normal sample",
    "germline": "germline (present in the matched normal)",
    "possible_clonal_haematopoiesis": "possible clonal haematopoiesis",
    "filtered": "caller filter not PASS",
    "not_assessed": "not assessed",
    "unconfirmed": "not yet confirmed against its source",
    "subclonal": "subclonal call",
    "weak_evidence_monotherapy": "weak evidence as monotherapy",
    "combination_with_anti_EGFR_preferred": "combination with an anti-EGFR antibody preferred",
    "first_line_benefit_left_sided_primary": "first-line benefit mainly in left-sided primaries",
    "tumour_specific": "tumour-specific rationale",
    # gene statuses and functional classes
    "loss_of_function": "loss of function",
    "wild_type": "wild-type",
    "not_detected": "not detected",
}
_ID_TOKEN = re.compile(r"[A-Za-z0-9]+(?:[_-][A-Za-z0-9]+)*")
_PMID = re.compile(r"(?i)^PMID\s*:?\s*(\d{1,9})\b(.*)$")
_NCT = re.compile(r"(?i)^(NCT\d{8})\b(.*)$")
_DOI = re.compile(r"(?i)^(?:doi\s*:?\s*|https?://(?:dx\.)?doi\.org/)(10\.\d{4,9}/\S+)$")
_FDA = re.compile(r"^FDA\s+(.+)$")
# the drug of an FDA label: its first parenthesised generic name, else the label's leading brand name
_FDA_DRUG = (re.compile(r"\(([A-Za-z][A-Za-z0-9 -]{1,60})\)"), re.compile(r"^([A-Za-z][A-Za-z0-9-]{1,40})\b"))
_SEED = re.compile(r"(?i)^seed\s+(\S+)\s*(.*)$")
# citations are joined with "; " (evidence/match.format_citations); a ";" inside a note ("2023;29(6)") is not a break
_CITATION_SEPARATOR = re.compile(r"(?i);\s+|;(?=PMID|NCT\d|doi:|FDA\s|seed\s|URL\s|guideline\s)")
DIRECTION_ORDER = ("sensitive", "resistant", "prognostic")
MATCH_ORDER_TEXT = ("Ordered by rank within each direction (treatment options first, then resistance, then "
                    "prognostic findings): level of evidence, then on-label before off-label, the setting against "
                    "the prior therapies, then clonal dominance. Options that need a region assayed first come "
                    "after the matched ones.")
APPROVED_LEVELS = ("approved", "guideline")
ON_LABEL = ("on_label", "ancestor")


def human(text) -> str:
    """An internal id (level, class, tag, code) in words; ids inside free text are replaced too.

    A token is an id if it has an underscore or is a listed id that is not a plain lower-case word
    ('antiEGFR'); plain words ('approved') inside prose stay as they are."""
    text = _text(text)
    names = _display_names()
    if text in names:
        return names[text]

    def replace(match: re.Match) -> str:
        token = match.group(0)
        if token in names and ("_" in token or not token.islower()):
            return names[token]
        return token.replace("_", " ") if "_" in token else token

    return _ID_TOKEN.sub(replace, text)


def sample_calls(annotated: pd.DataFrame, sample: str) -> pd.DataFrame:
    """The sample's panel calls (outside-panel records left out), in the annotated TSV's columns, as text.

    Missing values of any dtype (nullable Int64/Float64/boolean, object, category) become "": a
    copy-number, fusion or sites-only call has no depth, VAF or genotype."""
    frame = annotated.reindex(columns=C.ANNOTATED_TSV_COLUMNS).astype(object)
    frame = frame.where(frame.notna(), "").astype(str)
    keep = (frame[C.SAMPLE] == sample) & ~frame[C.STATUS].isin(_NOT_PANEL_CALLS)
    return frame[keep].reset_index(drop=True)


def _rank_order(frame: pd.DataFrame) -> pd.Series:
    """The matcher's rank as a number (1 = first); arrival order where the column is absent or empty."""
    arrival = pd.Series(range(len(frame)), index=frame.index, dtype="float64")
    if C.RANK not in frame:
        return arrival
    return pd.to_numeric(frame[C.RANK], errors="coerce").fillna(arrival + 1e9)


def sample_matches(matches: pd.DataFrame, sample: str) -> pd.DataFrame:
    """The sample's matches as text: sensitive, then resistant, then prognostic, each in the matcher's
    rank order (arrival order for tables without a rank column)."""
    frame = matches.reindex(columns=C.MATCH_COLUMNS).astype(object)
    frame = frame.where(frame.notna(), "").astype(str)
    frame = frame[frame[C.SAMPLE] == sample]
    direction = frame[C.DIRECTION].map({d: i for i, d in enumerate(DIRECTION_ORDER)}).fillna(len(DIRECTION_ORDER))
    # an option whose required wild-type region was not assayed comes after every matched one: it needs a test
    needs_assay = (frame[C.ASSESSMENT] == "not_assessed").astype(int)
    order = pd.DataFrame({"direction": direction, "needs_assay": needs_assay, "rank": _rank_order(frame)})
    return frame.loc[order.sort_values(["direction", "needs_assay", "rank"], kind="stable").index].reset_index(
        drop=True)


@lru_cache(maxsize=1)
def _display_names() -> dict[str, str]:
    """DISPLAY_NAMES with the evidence base's drug-class names, the same words the matches table uses."""
    try:
        from ..evidence.kb import shipped_kb

        return {**DISPLAY_NAMES, **shipped_kb().class_names}
    except KrasannotError:  # a broken evidence base: classes are then shown with underscores as spaces
        return dict(DISPLAY_NAMES)


@lru_cache(maxsize=1)
def _seed_notes() -> dict[str, str]:
    """Seed paper id -> its note in words, from the shipped evidence base's citations."""
    try:
        from ..evidence.kb import shipped_kb

        return {str(c.get("id")): str(c.get("note") or "") for e in shipped_kb().entries for c in e.citations
                if c.get("type") == "seed" and c.get("note")}
    except KrasannotError:  # a broken evidence base: the seed is then named only as a seed paper
        return {}


def parse_citations(text: str) -> list[dict]:
    """'PMID:34096690; NCT03600883 (CodeBreaK 100); doi:10.1056/X; FDA LUMAKRAS (sotorasib) label' ->
    [{text, kind, url}].

    Links are built only from validated ids: PubMed from a PMID number, ClinicalTrials.gov from an NCT
    number, doi.org from a DOI (percent-encoded), and a DailyMed search on the drug name of an FDA label.
    Anything else (a javascript: URL included) stays text."""
    out = []
    for part in filter(None, (p.strip() for p in _CITATION_SEPARATOR.split(_text(text)))):
        pmid, nct, doi, fda, seed = (_PMID.match(part), _NCT.match(part), _DOI.match(part), _FDA.match(part),
                                     _SEED.match(part))
        if pmid and (not pmid.group(2) or pmid.group(2)[0] in " (,"):
            out.append({"text": f"PMID:{pmid.group(1)}{pmid.group(2)}", "kind": "PMID",
                        "url": f"https://pubmed.ncbi.nlm.nih.gov/{pmid.group(1)}/"})
        elif nct and (not nct.group(2) or nct.group(2)[0] in " (,"):
            trial = nct.group(1).upper()
            out.append({"text": trial + nct.group(2), "kind": "NCT", "url": f"https://clinicaltrials.gov/study/{trial}"})
        elif doi:
            out.append({"text": f"doi:{doi.group(1)}", "kind": "DOI",
                        "url": "https://doi.org/" + urllib.parse.quote(doi.group(1), safe="/().;-_")})
        elif fda and any(p.search(fda.group(1)) for p in _FDA_DRUG):
            drug = next(p.search(fda.group(1)) for p in _FDA_DRUG if p.search(fda.group(1))).group(1).strip()
            out.append({"text": part, "kind": "FDA", "url": "https://dailymed.nlm.nih.gov/dailymed/search.cfm?query="
                                                             + urllib.parse.quote_plus(drug)})
        elif seed:
            note = re.sub(r"^\((.*)\)$", r"\1", seed.group(2).strip()) or _seed_notes().get(seed.group(1), "")
            out.append({"text": f"seed paper: {note}" if note else "seed paper of the project's reading list",
                        "kind": "seed", "url": None})
        else:
            out.append({"text": part, "kind": "other", "url": None})
    return out


def match_caveats(match: dict) -> list[str]:
    """A match's caveats in words: its own, off-label, conflict and not-assessed ('code: detail' parts
    get the code's name)."""
    caveats = {}
    for part in _split(match.get(C.CAVEATS)):
        code, _, detail = part.partition(":")
        code = code.strip()
        caveats.setdefault(code, f"{human(code)}: {human(detail.strip())}" if detail.strip() else human(code))
    if match.get(C.TUMOR_TYPE_MATCH) == "off_label":
        caveats.setdefault("off_label", DISPLAY_NAMES["off_label"])
    if _text(match.get(C.CONFLICT)):
        caveats.setdefault("conflict", f"conflict: {human(match.get(C.CONFLICT))}")
    if match.get(C.ASSESSMENT) == "not_assessed":
        caveats.setdefault("not_assessed", "not assessed: the region was not assayed")
    return list(dict.fromkeys(caveats.values()))


def _call_label(call: pd.Series) -> str:
    """'KRAS p.G12C', 'MET amplification', 'EML4::ALK fusion', or the genomic change."""
    if call[C.CALL_TYPE] in (M.CALL_TYPE_COPY_NUMBER, M.CALL_TYPE_FUSION) or (
            call[C.HGVSP_SHORT] or call[C.HGVSC] or call[C.ALTERATION]):
        return describe_call(call).strip()
    return f"{call[C.GENE]} {call[C.CHROM]}:{call[C.POS]} {call[C.REF]}>{call[C.ALT]}".strip()


def _variant_record(call: pd.Series, role: str) -> dict:
    record = {
        "label": _call_label(call), "role": role,
        "gene": call[C.GENE], "transcript": call[C.TRANSCRIPT], "chrom": call[C.CHROM], "pos": _number(call[C.POS]),
        "ref": call[C.REF], "alt": call[C.ALT], "hgvsc": call[C.HGVSC], "hgvsp": call[C.HGVSP],
        "hgvsp_short": call[C.HGVSP_SHORT], "consequence": call[C.CONSEQUENCE], "call_type": call[C.CALL_TYPE],
        "detection": call[C.DETECTION], "status": call[C.STATUS], "kras_allele": call[C.KRAS_ALLELE],
        "hotspot": call[C.HOTSPOT].lower() == "true", "functional_class": call[C.FUNCTIONAL_CLASS],
        "comutation": call[C.COMUTATION], "resistance": _split(call[C.RESISTANCE]),
        "caveats": _split(call[C.CAVEATS]), "filter": call[C.FILTER], "origin": call[C.ORIGIN],
        "cn_state": call[C.CN_STATE],
    }
    record.update({field: _number(call[field]) for field in _NUMERIC_CALL_FIELDS})
    return record


def _is_reportable(calls: pd.DataFrame) -> pd.Series:
    """Detected calls that were interpreted: the variants a reader of the report should see."""
    detected = calls[C.DETECTION].isin(["", M.DETECTION_DETECTED])
    return detected & ~calls[C.STATUS].isin(_NOT_INTERPRETED + (M.STATUS_MERGED_INTO_MNV, M.STATUS_DUPLICATE)) & (calls[C.GENE] != "")


def _matched_labels(matched_calls: str) -> list[str]:
    """'KRAS p.G12C (VAF 0.31); MET amplification' -> ['KRAS p.G12C', 'MET amplification']."""
    return [re.sub(r"\s*\(VAF [^)]*\)$", "", part) for part in _split(matched_calls)]


def _evidence_finding(match: pd.Series) -> dict:
    """A matched resistant or prognostic row, in plain words."""
    calls = "; ".join(_matched_labels(match[C.MATCHED_CALLS])) or match[C.BIOMARKER]
    if match[C.TUMOR_TYPE_MATCH] in ON_LABEL:
        where = "in this tumour type"
    else:
        where = f"(evidence from {human(match[C.EVIDENCE_TUMOR_TYPES]) or 'another tumour type'})"
    therapy = human(match[C.THERAPY])
    if match[C.DIRECTION] == "resistant":
        claim = f"resistant to {therapy} {where}"
    elif therapy:
        claim = f"prognostic for outcome on {therapy} {where}, not a resistance finding"
    else:
        claim = f"prognostic {where}"
    return {"calls": calls, "therapy": match[C.THERAPY], "direction": match[C.DIRECTION], "claim": claim,
            "evidence_id": match[C.EVIDENCE_ID], "level": match[C.LEVEL], "level_name": human(match[C.LEVEL]),
            "statement": f"{calls}: {claim} ({match[C.EVIDENCE_ID]}, {human(match[C.LEVEL])})"}


def _key_findings(calls: pd.DataFrame, summary: dict, matches: pd.DataFrame) -> dict:
    """KRAS and STK11/KEAP1/TP53 status, and resistance and prognostic findings: only those of the sample's
    matched evidence (its tumour type, co-alterations, prior therapy), never a call's tag alone."""
    reportable = calls[_is_reportable(calls)]
    kras_calls = reportable[(reportable[C.GENE] == "KRAS") & (reportable[C.KRAS_ALLELE] != "")]
    genes = {}
    for gene in KEY_GENES[1:]:
        supporting = reportable[(reportable[C.GENE] == gene) & (reportable[C.COMUTATION] != "")]
        genes[gene] = {"status": _text(summary.get(f"{gene.lower()}_status")) or "not_assessed",
                       "calls": [_variant_record(c, "key") for _, c in supporting.iterrows()]}
    kras_status = _text(summary.get(C.KRAS_STATUS)) or "not_assessed"
    matched = matches[matches[C.ASSESSMENT] == "matched"]
    resistance = [_evidence_finding(m) for _, m in matched[matched[C.DIRECTION] == "resistant"].iterrows()]
    prognostic = [_evidence_finding(m) for _, m in matched[matched[C.DIRECTION] == "prognostic"].iterrows()]
    resistant_labels = {label for _, m in matched[matched[C.DIRECTION] == "resistant"].iterrows()
                        for label in _matched_labels(m[C.MATCHED_CALLS])}
    labels = reportable.apply(_call_label, axis=1) if len(reportable) else pd.Series(dtype=str)
    return {
        "kras": {"status": kras_status, "alleles": [a for a in _split(kras_status)
                                                     if a not in ("wild_type", "not_assessed")],
                 "calls": [_variant_record(c, "key") for _, c in kras_calls.iterrows()]},
        "comutations": genes,
        "resistance_alterations": [f["statement"] for f in resistance],
        "resistance_calls": [_variant_record(c, "resistance")
                             for _, c in reportable[labels.isin(resistant_labels)].iterrows()],
        "resistance": resistance,
        "prognostic": prognostic,
    }


def _other_variants(calls: pd.DataFrame, key_findings: dict) -> list[dict]:
    """Reportable calls not already in the key-findings box (KRAS alleles, key genes' co-mutations,
    calls of matched resistance evidence)."""
    reportable = calls[_is_reportable(calls)]
    in_box_labels = {c["label"] for c in key_findings["resistance_calls"]}
    labels = reportable.apply(_call_label, axis=1) if len(reportable) else pd.Series(dtype=str)
    in_box = ((reportable[C.GENE] == "KRAS") & (reportable[C.KRAS_ALLELE] != "")) | (
        reportable[C.GENE].isin(KEY_GENES[1:]) & (reportable[C.COMUTATION] != "")) | labels.isin(in_box_labels)
    return [_variant_record(c, "other") for _, c in reportable[~in_box].iterrows()]


_NOT_ASSAYED = "no call, and the input does not show the gene was assayed: wild-type is not claimed"
KRAS_HOTSPOT_CODONS = "KRAS codons 12, 13 and 61"
# what a not_detected row rests on, by the source of the row
_RESTS_ON = {"targets": "target BED", "gene_panel": "panel gene list", "bam": "BAM depth", "ctdna": "ctDNA row"}
_FOUND_IN = {"vcf": "VCF call", "maf": "MAF row", "bam": "BAM genotype call", "ctdna": "ctDNA row"}


def _gene_assessment(calls: pd.DataFrame, key_findings: dict) -> list[dict]:
    """Per gene of interest (KRAS, STK11, KEAP1, TP53, and any gene an assay row names): detected, not
    detected in the assayed regions, or not assessed, and what the assessment rests on."""
    reportable = calls[_is_reportable(calls) & ~calls[C.ORIGIN].isin(NOT_A_FINDING_ORIGINS)]
    reportable = reportable[~reportable[C.FUNCTIONAL_CLASS].isin([M.FUNCTIONAL_SYNONYMOUS, M.FUNCTIONAL_NON_CODING])]
    assay = calls[calls[C.DETECTION].isin([M.DETECTION_NOT_DETECTED, M.DETECTION_NOT_ASSESSED])]
    genes = list(dict.fromkeys(list(KEY_GENES) + [g for g in assay[C.GENE] if g]))
    out = []
    for gene in genes:
        found = reportable[reportable[C.GENE] == gene]
        rows = assay[(assay[C.GENE] == gene) & (assay[C.DETECTION] == M.DETECTION_NOT_DETECTED)]
        whole = rows[rows[C.ALTERATION].fillna("") == gene]
        codons = [a.split(" ", 1)[1] for a in rows[C.ALTERATION].fillna("") if a.startswith(gene + " ")]
        rests_on = sorted({_RESTS_ON.get(s, s) for s in rows[C.SOURCE].fillna("") if s})
        if len(found):
            status, words = "detected", "detected: " + ", ".join(dict.fromkeys(found.apply(_call_label, axis=1)))
            rests_on = sorted({_FOUND_IN.get(s, f"{s} call") for s in found[C.SOURCE].fillna("") if s})
        elif len(whole):
            status, words = "not_detected", "not detected in the assayed regions (whole gene)"
        elif codons:
            status, words = "not_detected", ("not detected in the assayed regions (codons "
                                             + ", ".join(dict.fromkeys(codons)) + ")")
        else:
            status, words = "not_assessed", "not assessed"
        out.append({"gene": gene, "status": status, "assessment": words, "rests_on": ", ".join(rests_on)})
    return out


def _not_assessed(calls: pd.DataFrame, key_findings: dict, matches: pd.DataFrame) -> list[dict]:
    regions = []
    if key_findings["kras"]["status"] == "not_assessed":
        regions.append({"region": KRAS_HOTSPOT_CODONS, "reason": _NOT_ASSAYED})
    for gene, finding in key_findings["comutations"].items():
        if finding["status"] == "not_assessed":
            regions.append({"region": gene, "reason": _NOT_ASSAYED})
    low_depth = calls[calls[C.DETECTION] == M.DETECTION_NOT_ASSESSED]
    for _, call in low_depth.iterrows():
        regions.append({"region": _call_label(call),
                        "reason": " ".join(filter(None, ["assayed with too little depth to call",
                                                         call[C.STATUS_DETAIL]]))})
    for _, call in calls[calls[C.STATUS].isin(_NOT_INTERPRETED)].iterrows():
        where = f"{call[C.CHROM]}:{call[C.POS]} {call[C.REF]}>{call[C.ALT]}"
        regions.append({"region": where, "reason": f"call not interpreted ({human(call[C.STATUS])}"
                                                   + (f": {call[C.STATUS_DETAIL]})" if call[C.STATUS_DETAIL] else ")")})
    for _, match in matches[matches[C.ASSESSMENT] == "not_assessed"].iterrows():
        regions.append({"region": human(match[C.BIOMARKER]),
                        "reason": f"needed to assess {human(match[C.THERAPY])} ({human(match[C.LEVEL])}); "
                                  "the region was not assayed"})
    return regions


def _rank_number(value) -> int | None:
    """The rank cell as a whole number from 1 ('3', '3.0'); None when absent or not one."""
    number = _number(value)
    return int(number) if number is not None and float(number).is_integer() and number >= 1 else None


def _match_record(match: pd.Series) -> dict:
    row = match.to_dict()
    return {
        "level": row[C.LEVEL], "level_amp_asco_cap": row[C.LEVEL_AMP], "level_escat": row[C.LEVEL_ESCAT],
        "level_oncokb": row[C.LEVEL_ONCOKB], "therapy": row[C.THERAPY], "direction": row[C.DIRECTION],
        "rank": _rank_number(row.get(C.RANK)),
        "biomarker": row[C.BIOMARKER], "matched_calls": row[C.MATCHED_CALLS], "assessment": row[C.ASSESSMENT],
        "tumor_type_match": row[C.TUMOR_TYPE_MATCH], "evidence_tumor_types": row[C.EVIDENCE_TUMOR_TYPES],
        "conflict": row[C.CONFLICT], "caveats": match_caveats(row), "evidence_id": row[C.EVIDENCE_ID],
        "citations": parse_citations(row[C.CITATIONS]), "summary": row[C.SUMMARY],
        "evidence_source": row[C.EVIDENCE_SOURCE],
    }


def _match_groups(records: list[dict]) -> list[dict]:
    """Runs of one direction and level, in the rows' order: grouping never reorders the ranked rows.
    Each row gets its `position` within its direction (1 = first), shown beside it."""
    groups: list[dict] = []
    positions: dict[str, int] = {}
    for record in records:
        positions[record["direction"]] = record["position"] = positions.get(record["direction"], 0) + 1
        key = (record["direction"], record["assessment"] == "not_assessed", record["level"])
        if not groups or (groups[-1]["direction"], groups[-1]["needs_assay"], groups[-1]["level"]) != key:
            groups.append({"direction": key[0], "needs_assay": key[1], "level": key[2], "matches": []})
        groups[-1]["matches"].append(record)
    return groups


@lru_cache(maxsize=4)
def _bundled_panel_genes(build: str) -> tuple[tuple[str, ...], str]:
    from ..reference.bundle import bundled_panel_path

    path = bundled_panel_path(build)  # (the genes only: no transcript models to build)
    return tuple(sorted({tx["gene"] for tx in json.loads(path.read_text("utf-8"))["transcripts"]})), path.name


def panel_genes_read(provenance: dict, build: str | None) -> list[str]:
    """The genes whose records were read and interpreted: provenance's panel_genes, else the bundled
    panel's genes when the report's transcript bundle is the bundled one (or unnamed)."""
    if provenance.get("panel_genes"):
        return sorted(map(str, provenance["panel_genes"]))
    genes, name = _bundled_panel_genes(build if build in ("GRCh37", "GRCh38") else "GRCh38")
    bundle = (provenance.get("transcript_bundle") or {}).get("name")
    return list(genes) if bundle in (None, "", name) else []


def _count_words(n: int | None, what: str, one: str | None = None) -> str:
    """'3 records read', '1 record read', 'records read not recorded'."""
    if n is None:
        return f"{what} not recorded"
    return f"{n:,} {one if n == 1 and one else what}"


def _result(reportable: pd.DataFrame, key_findings: dict, match_records: list[dict], provenance: dict,
            build: str | None) -> dict:
    """The one-paragraph answer at the top of the report: what was found in what was assessed, what was
    not assessed, and the therapy matches that apply (tumour-agnostic ones included when nothing is found)."""
    genes = panel_genes_read(provenance, build)
    by_status = provenance.get("rows_by_status") or {}
    records_read = provenance.get("records_read")
    outside = by_status.get(M.STATUS_OUTSIDE_PANEL)
    outside = int(outside) if outside is not None else None
    # synonymous and non-coding variants, and germline polymorphisms, are listed in the report but are not
    # alterations
    polymorphism = reportable[C.ORIGIN].isin(NOT_A_FINDING_ORIGINS)
    silent = reportable[C.FUNCTIONAL_CLASS].isin([M.FUNCTIONAL_SYNONYMOUS, M.FUNCTIONAL_NON_CODING]) & ~polymorphism
    finding = ~silent & ~polymorphism
    labels = list(dict.fromkeys(reportable[finding].apply(_call_label, axis=1))) if finding.any() else []
    regions = f"{len(genes)} panel genes" if genes else "the transcript bundle's genes"
    read = (f"{_count_words(records_read, 'records read', 'record read')}, "
            f"{_count_words(outside, 'outside these genes')}")
    if labels:
        found = (f"{len(labels)} alteration{'s' if len(labels) > 1 else ''} found in the panel genes "
                 f"({regions}; {read}): {', '.join(labels)}.")
    else:
        found = f"No alteration found in the panel genes ({regions}; {read})."
    if silent.any():
        found += f" {int(silent.sum())} synonymous or non-coding variant{'s' if silent.sum() > 1 else ''} listed below."
    if polymorphism.any():
        found += (f" {int(polymorphism.sum())} common germline polymorphism{'s' if polymorphism.sum() > 1 else ''} "
                  "or known benign variant" + ("s" if polymorphism.sum() > 1 else "")
                  + " listed below, not counted as alterations.")
    not_assessed = ([] if key_findings["kras"]["status"] != "not_assessed" else [KRAS_HOTSPOT_CODONS]) + [
        g for g, f in key_findings["comutations"].items() if f["status"] == "not_assessed"]
    unassessed = (f" Not assessed: {', '.join(not_assessed)} (the input does not show they were assayed, so "
                  "wild-type is not claimed)." if not_assessed else "")
    therapies = [m for m in match_records if m["direction"] == "sensitive" and m["assessment"] == "matched"]
    applies = list(dict.fromkeys(f"{human(m['therapy'])} ({human(m['level'])})" for m in therapies))
    matches_text = (f" Therapy matches that apply: {'; '.join(applies)}." if applies
                    else " No therapy match applies.")
    return {"panel_calls": len(labels), "statement": found + unassessed + matches_text,
            "panel_genes_read": genes, "records_read": records_read, "records_outside_panel": outside,
            "not_assessed": not_assessed, "therapies": applies}


def build_report(calls: pd.DataFrame, matches: pd.DataFrame, summary: dict, *, sample: str, tumor_type: str,
                 specimen: str | None, build: str | None, provenance: dict, patient_id: str | None = None) -> dict:
    """The report's content as data (ID.report.json), from the sample's calls and matches.

    Parameters
    ----------
    calls : the sample's panel calls (`sample_calls`); may be empty (a negative result is a full report)
    matches : the sample's matches (`sample_matches`), in rank order within each direction
    summary : the sample's row of the samples summary (columns.SAMPLE_SUMMARY_COLUMNS)
    provenance : see `write_sample_report`
    patient_id : the patient the sample was taken from, where known (cohort counts patients with it)
    """
    key_findings = _key_findings(calls, summary, matches)
    match_records = [_match_record(m) for _, m in matches.iterrows()]
    statuses = calls[C.STATUS].value_counts().to_dict()
    reportable = calls[_is_reportable(calls)]
    return {
        "schema_version": SCHEMA_VERSION,
        "sample": {"id": sample, "patient_id": _text(patient_id) or None, "tumor_type": tumor_type,
                   "specimen": specimen or None, "genome_build": build or None},
        "result": _result(reportable, key_findings, match_records, provenance, build),
        "qc": {"records_read": provenance.get("records_read"), "rows_skipped": provenance.get("rows_skipped"),
               "calls_annotated": int(statuses.get(M.STATUS_ANNOTATED, 0)),
               "panel_calls": int(len(calls)),
               "calls_not_interpreted": int(calls[C.STATUS].isin(_NOT_INTERPRETED).sum()),
               "rows_by_status": {k: int(v) for k, v in sorted(statuses.items())}},
        "key_findings": key_findings,
        "matches_order": MATCH_ORDER_TEXT,
        "matches": _match_groups(match_records),
        "other_variants": _other_variants(calls, key_findings),
        "not_assessed": _not_assessed(calls, key_findings, matches),
        "gene_assessment": _gene_assessment(calls, key_findings),
        "provenance": {
            "krasannot_version": provenance.get("krasannot_version", __version__),
            "evidence_base": provenance.get("evidence_base", {"version": None, "released": None}),
            "transcript_bundle": provenance.get("transcript_bundle", {"name": None, "source": None}),
            "build_reason": provenance.get("build_reason"),
            "inputs": provenance.get("inputs", []),
            "variant_caller": provenance.get("variant_caller", []),
            "run_time": provenance.get("run_time"),
        },
    }


# ---------------------------------------------------------------- rendering

def _package_file(name: str) -> str:
    return resources.files("krasannot.report").joinpath(name).read_text(encoding="utf-8")


# how the templates are parsed: what their compiled code depends on (so, part of the compiled copies' names)
_TEMPLATE_SYNTAX = {"keep_trailing_newline": True, "trim_blocks": True, "lstrip_blocks": True}


def _compiled_templates():
    """jinja2's compiled report templates, kept in krasannot's cache folder: compiling them costs every run
    ~70 ms. A copy is found by the template's text (an edited template is compiled again) and was written by
    jinja2 from the package's own templates; an unwritable cache only means compiling them every time."""
    import jinja2

    class Cache(jinja2.FileSystemBytecodeCache):
        def dump_bytecode(self, bucket) -> None:
            try:
                super().dump_bytecode(bucket)
            except OSError:
                pass

    folder = cache_folder() / "templates"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    syntax = hashlib.sha256(repr(sorted(_TEMPLATE_SYNTAX.items())).encode()).hexdigest()[:12]
    return Cache(str(folder), f"report-{syntax}-%s.cache")


@lru_cache(maxsize=1)
def template_environment() -> jinja2.Environment:
    """Jinja2 with autoescape on for every template (.j2 included) and undefined names as errors."""
    import jinja2   # here, not at the top: only a report renders HTML, and the import costs start-up

    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(lambda name: _package_file(f"templates/{name}")),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "j2", "xml", "svg"),
                                            default_for_string=True, default=True),
        undefined=jinja2.StrictUndefined, bytecode_cache=_compiled_templates(), **_TEMPLATE_SYNTAX)
    env.filters["human"] = human
    env.filters["percent"] = lambda vaf: "" if vaf is None else f"{100 * vaf:.1f}%"
    return env


def render_report_html(report: dict) -> str:
    """The HTML report of a `build_report` dict: self-contained, no script, no fetch."""
    return template_environment().get_template("report.html.j2").render(report=report)


def report_json_text(report: dict) -> str:
    return json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


@lru_cache(maxsize=1)
def report_schema() -> dict:
    return json.loads(_package_file("report.schema.json"))


@lru_cache(maxsize=1)
def _report_validator():
    import jsonschema

    # the schema itself is checked against its meta-schema by the tests, not on every run (30 ms)
    return jsonschema.Draft202012Validator(report_schema())


def validate_report(report: dict) -> None:
    """Raise jsonschema.ValidationError if `report` does not fit report.schema.json."""
    _report_validator().validate(report)


def _table_text(frame: pd.DataFrame) -> str:
    return frame.to_csv(sep="\t", index=False, na_rep="", lineterminator="\n")


def write_sample_report(annotated: pd.DataFrame, matches: pd.DataFrame, samples_summary: pd.DataFrame | None, *,
                        sample: str, tumor_type: str, specimen: str | None, build: str | None,
                        outdir: str | os.PathLike, provenance: dict, input_vcf: str | None = None,
                        reproducible: bool = False, patient_id: str | None = None,
                        extra_outputs: dict | None = None) -> dict[str, Path]:
    """Write ID.report.html, ID.report.json, ID.calls.tsv, ID.matches.tsv and ID.annotated.vcf.gz(+.tbi)
    into `outdir`, all or nothing: `sample_report`, then `write_report_files`.

    Parameters
    ----------
    annotated : annotated table (columns.ANNOTATED_TSV_COLUMNS); may hold other samples
    matches : matches table (columns.MATCH_COLUMNS); may hold other samples
    samples_summary : key findings per sample (columns.SAMPLE_SUMMARY_COLUMNS); a sample missing
        there is reported as not assessed for KRAS/STK11/KEAP1/TP53
    provenance : krasannot_version, evidence_base {version, released}, transcript_bundle {name, source},
        build_reason, inputs [{role, name, sha256}], records_read, rows_by_status (annotate's counts,
        outside_panel included), rows_skipped, panel_genes (all optional)
    input_vcf : the VCF the calls came from (its records go into the annotated VCF)
    reproducible : fix the run time to 1970-01-01T00:00:00Z
    patient_id : the sample's patient, where known (sample.patient_id of the report)
    extra_outputs : suffix -> function(path) writing one more file (run's ID.annotated.tsv ...), staged
        and renamed into place with the report's, so an interrupted run leaves none of them

    Returns
    -------
    suffix -> written path
    """
    report, calls, sample_match_rows = sample_report(
        annotated, matches, samples_summary, sample=sample, tumor_type=tumor_type, specimen=specimen, build=build,
        provenance=provenance, input_vcf=input_vcf, reproducible=reproducible, patient_id=patient_id)
    return write_report_files(report, calls, sample_match_rows, sample=sample, build=build, outdir=outdir,
                              input_vcf=input_vcf, extra_outputs=extra_outputs)


def sample_report(annotated: pd.DataFrame, matches: pd.DataFrame, samples_summary: pd.DataFrame | None, *,
                  sample: str, tumor_type: str, specimen: str | None, build: str | None, provenance: dict,
                  input_vcf: str | None = None, reproducible: bool = False,
                  patient_id: str | None = None) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    """The report of one sample (checked against report.schema.json), with the sample's calls and
    matches rows: what `write_sample_report` writes (its parameters). Writes nothing."""
    sample = check_sample_id(sample)
    if specimen not in (None, "", *SPECIMENS):
        raise UsageError(f"specimen {specimen!r} is not one of {', '.join(SPECIMENS)}")
    calls = sample_calls(annotated, sample)
    sample_match_rows = sample_matches(matches, sample)
    summary = {}
    if samples_summary is not None and len(samples_summary):
        rows = samples_summary[samples_summary[C.SAMPLE].astype(str) == sample]
        summary = rows.iloc[0].fillna("").to_dict() if len(rows) else {}
    provenance = dict(provenance)
    provenance["run_time"] = REPRODUCIBLE_RUN_TIME if reproducible else (
        dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
    if input_vcf:
        from .vcf import vcf_sources

        provenance["variant_caller"] = vcf_sources(input_vcf)
    report = build_report(calls, sample_match_rows, summary, sample=sample, tumor_type=tumor_type,
                          specimen=specimen, build=build, provenance=provenance, patient_id=patient_id)
    validate_report(report)
    return report, calls, sample_match_rows


def write_report_files(report: dict, calls: pd.DataFrame, sample_match_rows: pd.DataFrame, *, sample: str,
                       build: str | None, outdir: str | os.PathLike, input_vcf: str | None = None,
                       extra_outputs: dict | None = None) -> dict[str, Path]:
    """Write what `sample_report` made (and `extra_outputs`) into `outdir`, all or nothing."""
    from ..files import rename_together, staging_folder
    from .vcf import write_annotated_vcf

    sample = check_sample_id(sample)
    outdir = Path(outdir)
    extra_outputs = extra_outputs or {}
    targets = {suffix: confined_path(outdir, sample + suffix) for suffix in (*OUTPUT_SUFFIXES, *extra_outputs)}
    with staging_folder(outdir, "report") as staging:
        staged = {suffix: staging / ("out" + suffix) for suffix in targets}
        staged[".report.json"].write_text(report_json_text(report), encoding="utf-8")
        staged[".report.html"].write_text(render_report_html(report), encoding="utf-8")
        staged[".calls.tsv"].write_text(_table_text(calls), encoding="utf-8")
        staged[".matches.tsv"].write_text(_table_text(sample_match_rows), encoding="utf-8")
        write_annotated_vcf(calls, sample, staged[".annotated.vcf.gz"], input_vcf=input_vcf, build=build)
        for suffix, write in extra_outputs.items():
            write(staged[suffix])
        rename_together([(staged[suffix], targets[suffix]) for suffix in targets])
    return targets


# ---------------------------------------------------------------- the files annotate and match wrote

def read_tsv(path: str, what: str) -> pd.DataFrame:
    try:
        return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, na_filter=False)
    except FileNotFoundError:
        raise UsageError(f"{what} not found", hint=f"check the path {path}") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputFormatError(f"{what} is not a readable TSV ({exc})", path=path) from None


def _evidence_base() -> dict:
    """The bundled evidence base's version and release date (resources/evidence/kb.yaml)."""
    from ..evidence.kb import read_yaml

    try:
        text = resources.files("krasannot.resources").joinpath("evidence", "kb.yaml").read_text(encoding="utf-8")
    except (FileNotFoundError, ModuleNotFoundError):
        return {"version": None, "released": None}
    data = read_yaml(text) or {}
    return {"version": _text(data.get("version")) or None, "released": _text(data.get("released")) or None}


def _sha256(path: str) -> str:
    from ..files import file_sha256

    return "sha256:" + file_sha256(path)


def provenance_from_files(annotated_path: str, matches_path: str, input_vcf: str | None) -> dict:
    """Provenance of a report from the files it reads: annotate's summary JSON, its skipped rows,
    the evidence base, and each input's checksum (file names only, so reports are portable)."""
    summary_path = beside(annotated_path, ".summary.json")
    summary = json.loads(summary_path.read_text(encoding="utf-8")) if summary_path.is_file() else {}
    # annotate's summary lists its inputs ("inputs"; one "input" in older summaries)
    source_inputs = summary.get("inputs") or ([summary["input"]] if summary.get("input") else [])
    records_read = summary.get("records_read")
    if records_read is None and source_inputs:
        records_read = sum(int(i.get("records_read") or 0) for i in source_inputs)
    skipped = summary.get("rows_skipped")
    skipped_path = beside(annotated_path, ".skipped.tsv")
    if skipped is None and skipped_path.is_file():
        skipped = len(read_tsv(str(skipped_path), "skipped rows"))
    inputs = [{"role": "input", "name": Path(str(i.get("path", ""))).name, "sha256": str(i.get("checksum", ""))}
              for i in source_inputs]
    inputs += [{"role": "annotated", "name": Path(annotated_path).name, "sha256": _sha256(annotated_path)},
               {"role": "matches", "name": Path(matches_path).name, "sha256": _sha256(matches_path)}]
    if input_vcf:
        inputs.append({"role": "vcf", "name": Path(input_vcf).name, "sha256": _sha256(input_vcf)})
    bundle = summary.get("transcript_bundle") or {}
    evidence = summary.get("evidence_base") or {}
    return {
        "krasannot_version": __version__,
        "evidence_base": ({"version": _text(evidence.get("version")) or None,
                           "released": _text(evidence.get("released")) or None}
                          if evidence.get("version") else _evidence_base()),
        "transcript_bundle": {"name": Path(str(bundle.get("path", ""))).name or None,
                              "source": bundle.get("source") or None},
        "build_reason": summary.get("build_reason"),
        "inputs": inputs,
        "records_read": records_read,
        "rows_by_status": summary.get("rows_by_status"),
        "rows_skipped": skipped,
    }


def samples_in_summary(annotated_path: str) -> list[str]:
    """The samples annotate read (its OUT.summary.json beside the table), those without a call too."""
    path = beside(annotated_path, ".summary.json")
    if not path.is_file():
        return []
    try:
        samples = json.loads(path.read_text(encoding="utf-8")).get("samples") or []
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError) as exc:
        raise InputFormatError(f"not annotate's summary ({exc})", path=str(path),
                               hint="rerun 'krasannot annotate'") from None
    return [str(s) for s in samples]


def check_belongs_together(sample: str, tumor_type: str | None, specimen: str | None, annotated: pd.DataFrame,
                           matches: pd.DataFrame, samples_summary: pd.DataFrame | None, *,
                           annotated_path: str, matches_path: str) -> str:
    """The tumour type to report: refuse a sample the annotated table does not hold, and matches
    made for another sample, tumour type or specimen (the paths name the files in messages)."""
    check_sample_id(sample)
    known = list(dict.fromkeys(samples_in_summary(annotated_path)
                               + [s for s in annotated[C.SAMPLE].unique() if s and "," not in s]))
    if sample not in known:
        raise UsageError(f"sample {sample!r} is not in {annotated_path} or its summary",
                         hint="samples there: " + (", ".join(sorted(known)[:10]) or "none"))
    made_for = {}
    if samples_summary is not None and C.SAMPLE in samples_summary:
        rows = samples_summary[samples_summary[C.SAMPLE] == sample]
        if not len(rows):
            raise UsageError(f"the matches {matches_path} were not made for sample {sample!r}",
                             hint="matched there: " + (", ".join(sorted(samples_summary[C.SAMPLE])[:10]) or "none")
                             + "; run 'krasannot match' for this sample")
        made_for = {k: _text(v) for k, v in rows.iloc[0].items()}
    elif C.TUMOR_TYPE in matches:
        types = set(matches.loc[matches[C.SAMPLE] == sample, C.TUMOR_TYPE]) - {""}
        made_for = {C.TUMOR_TYPE: types.pop()} if len(types) == 1 else {}
    tumor_type = tumor_type or made_for.get(C.TUMOR_TYPE)
    if not tumor_type:
        raise UsageError("the matches do not say which tumour type they were made for",
                         hint="give --tumor-type")
    for flag, given, key in (("--tumor-type", tumor_type, C.TUMOR_TYPE), ("--specimen", specimen, "specimen")):
        if given and made_for.get(key) and given.upper() != made_for[key].upper():
            raise UsageError(f"{flag} {given} but the matches {matches_path} were made for {made_for[key]}",
                             hint=f"run 'krasannot match' with {flag} {given}, or report with {flag} {made_for[key]}")
    return made_for.get(C.TUMOR_TYPE) or tumor_type


def samples_summary_beside(matches_path: str, annotated: pd.DataFrame) -> pd.DataFrame:
    """MATCHES.samples.tsv beside the matches; else computed from the annotated table."""
    path = beside(matches_path, ".samples.tsv")
    if path.is_file():
        return read_tsv(str(path), "samples summary")
    from ..annotate.classify import summarize_samples

    return summarize_samples(annotated)
