"""Per-sample report: annotated calls + matches + key findings in; HTML, JSON, TSV and VCF out.

`build_report` turns the tables into one dict (the content of ID.report.json, validated by
report.schema.json); the HTML is rendered from that same dict, so the two never disagree.
Everything a user wrote (sample names, notes, VCF header values) reaches the HTML only
through Jinja2's autoescape, and links are built only from validated PMID/NCT numbers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import re
import sys
from functools import lru_cache
from importlib import resources
from pathlib import Path

import jinja2
import pandas as pd

from .. import __version__
from .. import columns as C
from .. import models as M
from ..errors import InputFormatError, UsageError

SCHEMA_VERSION = "1.0.0"
REPRODUCIBLE_RUN_TIME = "1970-01-01T00:00:00Z"
KEY_GENES = ("KRAS", "STK11", "KEAP1", "TP53")
SPECIMENS = ("tissue", "plasma")
OUTPUT_SUFFIXES = (".report.html", ".report.json", ".calls.tsv", ".matches.tsv", ".annotated.vcf.gz",
                   ".annotated.vcf.gz.tbi")
# rows of a sample that are not panel calls (outside_panel can be millions of raw records)
_NOT_PANEL_CALLS = (M.STATUS_OUTSIDE_PANEL, M.STATUS_NOT_CARRIED)
_NOT_INTERPRETED = (M.STATUS_REF_MISMATCH, M.STATUS_NO_ALT, M.STATUS_SYMBOLIC, M.STATUS_INVALID_ALLELE)
_NUMERIC_CALL_FIELDS = (C.DEPTH, C.ALT_DEPTH, C.VAF, C.COPY_NUMBER, C.CN_LOG2)

CAVEAT_LABELS = {
    "low_vaf": "low VAF",
    "possible_clonal_haematopoiesis": "possible clonal haematopoiesis",
    "filtered": "caller filter not PASS",
    "off_label": "off-label: evidence is from another tumour type",
    "not_assessed": "not assessed: the region was not assayed",
}
_PMID = re.compile(r"(?i)^PMID\s*:?\s*(\d{1,9})$")
_NCT = re.compile(r"(?i)^(NCT\d{8})$")


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
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _number(value) -> float | int | None:
    number = pd.to_numeric(_text(value) or None, errors="coerce")
    if number is None or pd.isna(number) or math.isinf(float(number)):
        return None
    return int(number) if float(number).is_integer() and "." not in _text(value) else float(number)


def _split(value, sep: str = ";") -> list[str]:
    return [part.strip() for part in _text(value).split(sep) if part.strip()]


def sample_calls(annotated: pd.DataFrame, sample: str) -> pd.DataFrame:
    """The sample's panel calls (outside-panel records left out), in the annotated TSV's columns."""
    frame = annotated.reindex(columns=C.ANNOTATED_TSV_COLUMNS).fillna("").astype(str)
    keep = (frame[C.SAMPLE] == sample) & ~frame[C.STATUS].isin(_NOT_PANEL_CALLS)
    return frame[keep].reset_index(drop=True)


def sample_matches(matches: pd.DataFrame, sample: str) -> pd.DataFrame:
    """The sample's matches in MATCH_COLUMNS, in the matcher's order (by level)."""
    frame = matches.reindex(columns=C.MATCH_COLUMNS).fillna("").astype(str)
    return frame[frame[C.SAMPLE] == sample].reset_index(drop=True)


def parse_citations(text: str) -> list[dict]:
    """'PMID:34096690; NCT03600883; FDA 2021-05-28' -> [{text, kind, url}]; only PMID and NCT
    numbers become links, anything else (a javascript: URL included) stays text."""
    out = []
    for part in _split(text):
        pmid, nct = _PMID.match(part), _NCT.match(part)
        if pmid:
            out.append({"text": f"PMID:{pmid.group(1)}", "kind": "PMID",
                        "url": f"https://pubmed.ncbi.nlm.nih.gov/{pmid.group(1)}/"})
        elif nct:
            trial = nct.group(1).upper()
            out.append({"text": trial, "kind": "NCT", "url": f"https://clinicaltrials.gov/study/{trial}"})
        else:
            out.append({"text": part, "kind": "other", "url": None})
    return out


def match_caveats(match: dict) -> list[str]:
    """A match's caveats in words: its own, off-label, conflict and not-assessed."""
    caveats = [CAVEAT_LABELS.get(c, c.replace("_", " ")) for c in _split(match.get(C.CAVEATS))]
    if match.get(C.TUMOR_TYPE_MATCH) == "off_label":
        caveats.append(CAVEAT_LABELS["off_label"])
    if _text(match.get(C.CONFLICT)):
        caveats.append(f"conflict: {_text(match.get(C.CONFLICT))}")
    if match.get(C.ASSESSMENT) == "not_assessed":
        caveats.append(CAVEAT_LABELS["not_assessed"])
    return list(dict.fromkeys(caveats))


def _call_label(call: pd.Series) -> str:
    """'KRAS p.G12C', 'MET amplification', 'EML4::ALK fusion' ..."""
    if call[C.CALL_TYPE] == M.CALL_TYPE_COPY_NUMBER:
        return f"{call[C.GENE]} {call[C.CN_STATE].replace('_', ' ')}".strip()
    if call[C.CALL_TYPE] == M.CALL_TYPE_FUSION:
        return f"{call[C.FUSION_5P]}::{call[C.FUSION_3P]} fusion"
    change = call[C.HGVSP_SHORT] or call[C.HGVSC] or call[C.ALTERATION] or f"{call[C.CHROM]}:{call[C.POS]} {call[C.REF]}>{call[C.ALT]}"
    return f"{call[C.GENE]} {change}".strip()


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
    return detected & ~calls[C.STATUS].isin(_NOT_INTERPRETED + (M.STATUS_MERGED_INTO_MNV,)) & (calls[C.GENE] != "")


def _key_findings(calls: pd.DataFrame, summary: dict) -> dict:
    reportable = calls[_is_reportable(calls)]
    kras_calls = reportable[(reportable[C.GENE] == "KRAS") & (reportable[C.KRAS_ALLELE] != "")]
    genes = {}
    for gene in KEY_GENES[1:]:
        supporting = reportable[(reportable[C.GENE] == gene) & (reportable[C.COMUTATION] != "")]
        genes[gene] = {"status": _text(summary.get(f"{gene.lower()}_status")) or "not_assessed",
                       "calls": [_variant_record(c, "key") for _, c in supporting.iterrows()]}
    kras_status = _text(summary.get(C.KRAS_STATUS)) or "not_assessed"
    return {
        "kras": {"status": kras_status, "alleles": [a for a in _split(kras_status)
                                                     if a not in ("wild_type", "not_assessed")],
                 "calls": [_variant_record(c, "key") for _, c in kras_calls.iterrows()]},
        "comutations": genes,
        "resistance_alterations": _split(summary.get(C.RESISTANCE_ALTERATIONS)),
        "resistance_calls": [_variant_record(c, "resistance")
                             for _, c in reportable[reportable[C.RESISTANCE] != ""].iterrows()],
    }


def _other_variants(calls: pd.DataFrame) -> list[dict]:
    """Reportable calls not already in the key-findings box (key genes' co-mutations, KRAS alleles,
    resistance-tagged calls)."""
    reportable = calls[_is_reportable(calls)]
    in_box = ((reportable[C.GENE] == "KRAS") & (reportable[C.KRAS_ALLELE] != "")) | (
        reportable[C.GENE].isin(KEY_GENES[1:]) & (reportable[C.COMUTATION] != "")) | (reportable[C.RESISTANCE] != "")
    rows = reportable[~in_box]
    return [_variant_record(c, "resistance" if c[C.RESISTANCE] else "other") for _, c in rows.iterrows()]


def _not_assessed(calls: pd.DataFrame, key_findings: dict, matches: pd.DataFrame) -> list[dict]:
    regions = []
    if key_findings["kras"]["status"] == "not_assessed":
        regions.append({"region": "KRAS", "reason": "no KRAS call, and the input does not show the gene "
                                                     "was assayed: wild-type is not claimed"})
    for gene, finding in key_findings["comutations"].items():
        if finding["status"] == "not_assessed":
            regions.append({"region": gene, "reason": "no call, and the input does not show the gene was "
                                                      "assayed: wild-type is not claimed"})
    low_depth = calls[calls[C.DETECTION] == M.DETECTION_NOT_ASSESSED]
    for _, call in low_depth.iterrows():
        regions.append({"region": _call_label(call),
                        "reason": " ".join(filter(None, ["assayed with too little depth to call",
                                                         call[C.STATUS_DETAIL]]))})
    for _, call in calls[calls[C.STATUS].isin(_NOT_INTERPRETED)].iterrows():
        where = f"{call[C.CHROM]}:{call[C.POS]} {call[C.REF]}>{call[C.ALT]}"
        regions.append({"region": where, "reason": f"call not interpreted ({call[C.STATUS].replace('_', ' ')}"
                                                   + (f": {call[C.STATUS_DETAIL]})" if call[C.STATUS_DETAIL] else ")")})
    for _, match in matches[matches[C.ASSESSMENT] == "not_assessed"].iterrows():
        regions.append({"region": match[C.BIOMARKER],
                        "reason": f"needed to assess {match[C.THERAPY]} ({match[C.LEVEL].replace('_', ' ')}); "
                                  "the region was not assayed"})
    return regions


def _match_record(match: pd.Series) -> dict:
    row = match.to_dict()
    return {
        "level": row[C.LEVEL], "level_amp_asco_cap": row[C.LEVEL_AMP], "level_escat": row[C.LEVEL_ESCAT],
        "level_oncokb": row[C.LEVEL_ONCOKB], "therapy": row[C.THERAPY], "direction": row[C.DIRECTION],
        "biomarker": row[C.BIOMARKER], "matched_calls": row[C.MATCHED_CALLS], "assessment": row[C.ASSESSMENT],
        "tumor_type_match": row[C.TUMOR_TYPE_MATCH], "evidence_tumor_types": row[C.EVIDENCE_TUMOR_TYPES],
        "conflict": row[C.CONFLICT], "caveats": match_caveats(row), "evidence_id": row[C.EVIDENCE_ID],
        "citations": parse_citations(row[C.CITATIONS]), "summary": row[C.SUMMARY],
        "evidence_source": row[C.EVIDENCE_SOURCE],
    }


def build_report(calls: pd.DataFrame, matches: pd.DataFrame, summary: dict, *, sample: str, tumor_type: str,
                 specimen: str | None, build: str | None, provenance: dict) -> dict:
    """The report's content as data (ID.report.json), from the sample's calls and matches.

    Parameters
    ----------
    calls : the sample's panel calls (`sample_calls`)
    matches : the sample's matches (`sample_matches`), sorted by level
    summary : the sample's row of the samples summary (columns.SAMPLE_SUMMARY_COLUMNS)
    provenance : see `write_sample_report`
    """
    key_findings = _key_findings(calls, summary)
    match_records = [_match_record(m) for _, m in matches.iterrows()]
    groups: dict[str, list] = {}
    for record in match_records:
        groups.setdefault(record["level"], []).append(record)
    statuses = calls[C.STATUS].value_counts().to_dict()
    return {
        "schema_version": SCHEMA_VERSION,
        "sample": {"id": sample, "tumor_type": tumor_type, "specimen": specimen or None, "genome_build": build or None},
        "qc": {"records_read": provenance.get("records_read"), "rows_skipped": provenance.get("rows_skipped"),
               "calls_annotated": int(statuses.get(M.STATUS_ANNOTATED, 0)),
               "panel_calls": int(len(calls)),
               "calls_not_interpreted": int(calls[C.STATUS].isin(_NOT_INTERPRETED).sum()),
               "rows_by_status": {k: int(v) for k, v in sorted(statuses.items())}},
        "key_findings": key_findings,
        "matches": [{"level": level, "matches": records} for level, records in groups.items()],
        "other_variants": _other_variants(calls),
        "not_assessed": _not_assessed(calls, key_findings, matches),
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


@lru_cache(maxsize=1)
def template_environment() -> jinja2.Environment:
    """Jinja2 with autoescape on for every template (.j2 included) and undefined names as errors."""
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(lambda name: _package_file(f"templates/{name}")),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "j2", "xml", "svg"),
                                            default_for_string=True, default=True),
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
    env.filters["words"] = lambda text: str(text or "").replace("_", " ")
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


def validate_report(report: dict) -> None:
    """Raise jsonschema.ValidationError if `report` does not fit report.schema.json."""
    import jsonschema

    jsonschema.validate(report, report_schema())


def _table_text(frame: pd.DataFrame) -> str:
    return frame.to_csv(sep="\t", index=False, na_rep="", lineterminator="\n")


def write_sample_report(annotated: pd.DataFrame, matches: pd.DataFrame, samples_summary: pd.DataFrame | None, *,
                        sample: str, tumor_type: str, specimen: str | None, build: str | None,
                        outdir: str | os.PathLike, provenance: dict, input_vcf: str | None = None,
                        reproducible: bool = False, extra_outputs: dict | None = None) -> dict[str, Path]:
    """Write ID.report.html, ID.report.json, ID.calls.tsv, ID.matches.tsv and ID.annotated.vcf.gz(+.tbi)
    into `outdir`, all or nothing.

    Parameters
    ----------
    annotated : annotated table (columns.ANNOTATED_TSV_COLUMNS); may hold other samples
    matches : matches table (columns.MATCH_COLUMNS); may hold other samples
    samples_summary : key findings per sample (columns.SAMPLE_SUMMARY_COLUMNS); a sample missing
        there is reported as not assessed for KRAS/STK11/KEAP1/TP53
    provenance : krasannot_version, evidence_base {version, released}, transcript_bundle {name, source},
        build_reason, inputs [{role, name, sha256}], records_read, rows_skipped (all optional)
    input_vcf : the VCF the calls came from (its records go into the annotated VCF)
    reproducible : fix the run time to 1970-01-01T00:00:00Z
    extra_outputs : suffix -> function(path) writing one more file (run's ID.annotated.tsv ...), staged
        and renamed into place with the report's, so an interrupted run leaves none of them

    Returns
    -------
    suffix -> written path
    """
    sample = check_sample_id(sample)
    if specimen not in (None, "", *SPECIMENS):
        raise UsageError(f"specimen {specimen!r} is not one of {', '.join(SPECIMENS)}")
    outdir = Path(outdir)
    targets = {suffix: confined_path(outdir, sample + suffix) for suffix in OUTPUT_SUFFIXES}
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
                          specimen=specimen, build=build, provenance=provenance)
    validate_report(report)

    from ..io.tables import rename_together, staging_folder

    extra_outputs = extra_outputs or {}
    targets.update({suffix: confined_path(outdir, sample + suffix) for suffix in extra_outputs})
    with staging_folder(outdir, "report") as staging:
        staged = {suffix: staging / ("out" + suffix) for suffix in targets}
        staged[".report.json"].write_text(report_json_text(report), encoding="utf-8")
        staged[".report.html"].write_text(render_report_html(report), encoding="utf-8")
        staged[".calls.tsv"].write_text(_table_text(calls), encoding="utf-8")
        staged[".matches.tsv"].write_text(_table_text(sample_match_rows), encoding="utf-8")
        from .vcf import write_annotated_vcf

        write_annotated_vcf(calls, sample, staged[".annotated.vcf.gz"], input_vcf=input_vcf, build=build)
        for suffix, write in extra_outputs.items():
            write(staged[suffix])
        rename_together([(staged[suffix], targets[suffix]) for suffix in targets])
    return targets


# ---------------------------------------------------------------- command line

def _read_tsv(path: str, what: str) -> pd.DataFrame:
    try:
        return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, na_filter=False)
    except FileNotFoundError:
        raise UsageError(f"{what} not found", hint=f"check the path {path}") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputFormatError(f"{what} is not a readable TSV ({exc})", path=path) from None


def _beside(path: str, old_suffix: str, new_suffix: str) -> Path:
    name = Path(path).name
    stem = name[: -len(old_suffix)] if name.endswith(old_suffix) else name
    return Path(path).with_name(stem + new_suffix)


def _evidence_base() -> dict:
    """The bundled evidence base's version and release date (resources/evidence/kb.yaml)."""
    import yaml

    try:
        text = resources.files("krasannot.resources").joinpath("evidence", "kb.yaml").read_text(encoding="utf-8")
    except (FileNotFoundError, ModuleNotFoundError):
        return {"version": None, "released": None}
    data = yaml.safe_load(text) or {}
    return {"version": _text(data.get("version")) or None, "released": _text(data.get("released")) or None}


def _sha256(path: str) -> str:
    from ..io.tables import file_sha256

    return "sha256:" + file_sha256(path)


def provenance_from_files(annotated_path: str, matches_path: str, input_vcf: str | None) -> dict:
    """Provenance of a report from the files it reads: annotate's summary JSON, its skipped rows,
    the evidence base, and each input's checksum (file names only, so reports are portable)."""
    summary_path = _beside(annotated_path, ".tsv", ".summary.json")
    summary = json.loads(summary_path.read_text(encoding="utf-8")) if summary_path.is_file() else {}
    # annotate's summary lists its inputs ("inputs"; one "input" in older summaries)
    source_inputs = summary.get("inputs") or ([summary["input"]] if summary.get("input") else [])
    records_read = summary.get("records_read")
    if records_read is None and source_inputs:
        records_read = sum(int(i.get("records_read") or 0) for i in source_inputs)
    skipped = summary.get("rows_skipped")
    skipped_path = _beside(annotated_path, ".tsv", ".skipped.tsv")
    if skipped is None and skipped_path.is_file():
        skipped = len(_read_tsv(str(skipped_path), "skipped rows"))
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
        "rows_skipped": skipped,
    }


def samples_in_summary(annotated_path: str) -> list[str]:
    """The samples annotate read (its OUT.summary.json beside the table), those without a call too."""
    path = _beside(annotated_path, ".tsv", ".summary.json")
    if not path.is_file():
        return []
    try:
        samples = json.loads(path.read_text(encoding="utf-8")).get("samples") or []
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError) as exc:
        raise InputFormatError(f"not annotate's summary ({exc})", path=str(path),
                               hint="rerun 'krasannot annotate'") from None
    return [str(s) for s in samples]


def _check_belongs_together(args: argparse.Namespace, annotated: pd.DataFrame, matches: pd.DataFrame,
                            samples_summary: pd.DataFrame | None) -> str:
    """The tumour type to report: refuse a sample the annotated table does not hold, and matches
    made for another sample, tumour type or specimen."""
    check_sample_id(args.sample)
    known = list(dict.fromkeys(samples_in_summary(args.annotated)
                               + [s for s in annotated[C.SAMPLE].unique() if s and "," not in s]))
    if args.sample not in known:
        raise UsageError(f"sample {args.sample!r} is not in {args.annotated} or its summary",
                         hint="samples there: " + (", ".join(sorted(known)[:10]) or "none"))
    made_for = {}
    if samples_summary is not None and C.SAMPLE in samples_summary:
        rows = samples_summary[samples_summary[C.SAMPLE] == args.sample]
        if not len(rows):
            raise UsageError(f"the matches {args.matches} were not made for sample {args.sample!r}",
                             hint="matched there: " + (", ".join(sorted(samples_summary[C.SAMPLE])[:10]) or "none")
                             + "; run 'krasannot match' for this sample")
        made_for = {k: _text(v) for k, v in rows.iloc[0].items()}
    elif C.TUMOR_TYPE in matches:
        types = set(matches.loc[matches[C.SAMPLE] == args.sample, C.TUMOR_TYPE]) - {""}
        made_for = {C.TUMOR_TYPE: types.pop()} if len(types) == 1 else {}
    tumor_type = args.tumor_type or made_for.get(C.TUMOR_TYPE)
    if not tumor_type:
        raise UsageError("the matches do not say which tumour type they were made for",
                         hint="give --tumor-type")
    for flag, given, key in (("--tumor-type", tumor_type, C.TUMOR_TYPE), ("--specimen", args.specimen, "specimen")):
        if given and made_for.get(key) and given.upper() != made_for[key].upper():
            raise UsageError(f"{flag} {given} but the matches {args.matches} were made for {made_for[key]}",
                             hint=f"run 'krasannot match' with {flag} {given}, or report with {flag} {made_for[key]}")
    return made_for.get(C.TUMOR_TYPE) or tumor_type


def _samples_summary(matches_path: str, annotated: pd.DataFrame) -> pd.DataFrame:
    """MATCHES.samples.tsv beside the matches; else computed from the annotated table."""
    path = _beside(matches_path, ".tsv", ".samples.tsv")
    if path.is_file():
        return _read_tsv(str(path), "samples summary")
    from ..annotate.classify import summarize_samples

    return summarize_samples(annotated)


def cmd_report(args: argparse.Namespace) -> int:
    annotated = _read_tsv(args.annotated, "annotated table")
    matches = _read_tsv(args.matches, "matches table")
    for frame, columns, path in ((annotated, [C.SAMPLE, C.STATUS, C.GENE], args.annotated),
                                 (matches, [C.SAMPLE, C.LEVEL, C.THERAPY], args.matches)):
        missing = [c for c in columns if c not in frame]
        if missing:
            raise InputFormatError(f"lacks column(s) {', '.join(missing)}", path=path, line=1,
                                   hint="give the output of 'krasannot annotate' / 'krasannot match'")
    samples_summary = _samples_summary(args.matches, annotated)
    tumor_type = _check_belongs_together(
        args, annotated, matches, samples_summary if _beside(args.matches, ".tsv", ".samples.tsv").is_file() else None)
    provenance = provenance_from_files(args.annotated, args.matches, args.vcf)
    build = args.build
    if not build:
        summary_path = _beside(args.annotated, ".tsv", ".summary.json")
        build = json.loads(summary_path.read_text(encoding="utf-8")).get("genome_build") if summary_path.is_file() else None
    written = write_sample_report(annotated, matches, samples_summary, sample=args.sample,
                                  tumor_type=tumor_type, specimen=args.specimen, build=build,
                                  outdir=args.outdir, provenance=provenance, input_vcf=args.vcf,
                                  reproducible=args.reproducible)
    print(f"{written['.report.html']}: report for {args.sample}", file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `report` and `cohort` subcommands."""
    from .cohort import cmd_cohort

    p = sub.add_parser("report", help="per-sample report: HTML, JSON, TSV and annotated VCF")
    p.add_argument("--annotated", required=True, help="ANNOTATED.tsv from 'krasannot annotate'")
    p.add_argument("--matches", required=True,
                   help="MATCHES.tsv from 'krasannot match' (its MATCHES.samples.tsv is read too)")
    p.add_argument("--sample", required=True,
                   help="the sample's ID (names the output files); must be in the annotated table or its summary")
    p.add_argument("--tumor-type", help="OncoTree code of the sample; must be the one the matches were made for "
                                        "(default: that one, from MATCHES.samples.tsv)")
    p.add_argument("--outdir", required=True, help="folder for ID.report.html, .json, .calls.tsv ...")
    p.add_argument("--specimen", choices=SPECIMENS, help="tissue or plasma")
    p.add_argument("--build", help="genome build (default: the annotated table's summary)")
    p.add_argument("--vcf", help="the input VCF: its records go into ID.annotated.vcf.gz")
    p.add_argument("--reproducible", action="store_true",
                   help=f"fix the run time in the provenance to {REPRODUCIBLE_RUN_TIME}")
    p.set_defaults(func=cmd_report)

    c = sub.add_parser("cohort", help="cohort summary of many reports: cohort.html and cohort.parquet")
    c.add_argument("report_dirs", nargs="+", metavar="REPORT_DIR",
                   help="directories holding ID.report.json, ID.calls.tsv, ID.matches.tsv (searched recursively)")
    c.add_argument("--outdir", required=True, help="folder for cohort.html and cohort.parquet")
    c.add_argument("--quiet", action="store_true", help="no progress on stderr")
    c.set_defaults(func=cmd_cohort)
