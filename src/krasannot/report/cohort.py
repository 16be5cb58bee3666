"""Cohort summary over many per-sample reports: cohort.html (inline SVG plots) and cohort.parquet.

cohort.parquet is one table: a `table` column says whether a row is a call ("calls": the
columns of ID.calls.tsv plus tumor_type and specimen) or a match ("matches": MATCH_COLUMNS),
so pandas, DuckDB or Arrow read it in one go and filter on `table`.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.parse
from pathlib import Path

import pandas as pd

from .. import columns as C
from ..errors import InputFormatError, UsageError
from ..files import prepare_outdir, staging_folder
from . import plots
from .render import APPROVED_LEVELS, ON_LABEL, _is_reportable, template_environment

SAMPLE_TABLE_COLUMNS = [C.SAMPLE, "patient_id", C.TUMOR_TYPE, "specimen", "genome_build", C.KRAS_STATUS,
                        C.STK11_STATUS, C.KEAP1_STATUS, C.TP53_STATUS, C.RESISTANCE_ALTERATIONS, "report_html"]
# a sample's best sensitive match, in this order; a sample with only investigational (or preclinical)
# matches is not counted as having a therapy match
MATCH_TIERS = ("approved_guideline", "clinical_or_other_tumour", "investigational_only", "none")
MATCH_TIER_NAMES = {"approved_guideline": "approved or guideline match (this tumour type)",
                    "clinical_or_other_tumour": "clinical evidence or another tumour type's approval only",
                    "investigational_only": "investigational only", "none": "no therapy match"}
NUMERIC_COLUMNS = [C.POS, C.DEPTH, C.ALT_DEPTH, C.VAF, C.COPY_NUMBER, C.CN_LOG2, C.INPUT_LINE]


class Progress:
    """'cohort: 12/242 samples' on stderr: rewritten in place on a terminal, every 10% otherwise."""

    def __init__(self, total: int, quiet: bool, stream=None) -> None:
        self.total, self.quiet, self.stream = total, quiet, stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.last_decile = -1

    def update(self, done: int) -> None:
        if self.quiet:
            return
        if self.tty:
            self.stream.write(f"\rcohort: {done}/{self.total} samples")
            self.stream.flush()
        elif done * 10 // max(self.total, 1) > self.last_decile or done == self.total:
            self.last_decile = done * 10 // max(self.total, 1)
            self.stream.write(f"cohort: {done}/{self.total} samples\n")

    def close(self, message: str) -> None:
        if not self.quiet:
            self.stream.write(("\n" if self.tty else "") + message + "\n")


def _visible(path: Path, root: Path) -> bool:
    """No part of the path below `root` is hidden: staging folders (.krasannot-report.*) a killed
    run left, and editors' or file systems' dot files, are never reports."""
    return not any(part.startswith(".") for part in path.relative_to(root).parts)


def find_reports(paths: list[str]) -> list[Path]:
    """Every ID.report.json under the given directories (or given directly), sorted; hidden files
    and folders are not searched."""
    found = []
    for path in map(Path, paths):
        if path.is_file() and path.name.endswith(".report.json"):
            found.append(path)
        elif path.is_dir():
            found += sorted(p for p in path.rglob("*.report.json") if _visible(p, path))
        else:
            raise UsageError(f"{path} is neither a report directory nor an ID.report.json")
    return sorted(set(found), key=lambda p: (p.name, str(p)))


def _read_tsv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, na_filter=False)
    except FileNotFoundError:
        raise InputFormatError("missing beside its report.json", path=str(path),
                               hint="rerun 'krasannot report' for this sample") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputFormatError(f"not a readable TSV ({exc})", path=str(path)) from None


def read_sample(report_path: Path) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    """One sample's key facts (from its report.json) and its calls and matches tables."""
    try:
        report = json.loads(report_path.read_text(encoding="utf-8"))
        sample, findings = report["sample"], report["key_findings"]
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as exc:
        raise InputFormatError(f"not a krasannot report ({exc})", path=str(report_path)) from None
    stem = report_path.name[: -len(".report.json")]
    if stem != sample["id"]:
        raise InputFormatError(f"names sample {sample['id']!r} but the file is named for {stem!r}",
                               path=str(report_path))
    # a report without a patient id (older reports, or none given) counts as its own patient
    facts = {C.SAMPLE: sample["id"], "patient_id": sample.get("patient_id") or sample["id"],
             C.TUMOR_TYPE: sample.get("tumor_type") or "",
             "specimen": sample.get("specimen") or "", "genome_build": sample.get("genome_build") or "",
             C.KRAS_STATUS: findings["kras"]["status"],
             **{f"{g.lower()}_status": findings["comutations"][g]["status"] for g in ("STK11", "KEAP1", "TP53")},
             C.RESISTANCE_ALTERATIONS: "; ".join(findings.get("resistance_alterations", [])),
             "report_html": str(report_path.with_name(stem + ".report.html"))}
    calls = _read_tsv(report_path.with_name(stem + ".calls.tsv"))
    matches = _read_tsv(report_path.with_name(stem + ".matches.tsv"))
    return facts, calls, matches


def load_cohort(report_paths: list[Path], progress: Progress | None = None
                ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(samples, calls, matches) of all reports; calls carry the sample's tumour type and specimen."""
    facts, calls, matches, seen = [], [], [], {}
    for i, path in enumerate(report_paths, 1):
        sample_facts, sample_calls, sample_matches = read_sample(path)
        sample = sample_facts[C.SAMPLE]
        if sample in seen:
            raise UsageError(f"sample {sample!r} has two reports: {seen[sample]} and {path}",
                             hint="give each sample's report once")
        seen[sample] = path
        facts.append(sample_facts)
        calls.append(sample_calls.assign(**{C.TUMOR_TYPE: sample_facts[C.TUMOR_TYPE],
                                            "specimen": sample_facts["specimen"]}))
        matches.append(sample_matches)
        if progress:
            progress.update(i)
    samples = pd.DataFrame(facts, columns=SAMPLE_TABLE_COLUMNS)
    call_columns = C.ANNOTATED_TSV_COLUMNS + [C.TUMOR_TYPE, "specimen"]
    all_calls = pd.concat([c.reindex(columns=call_columns) for c in calls] or [pd.DataFrame(columns=call_columns)],
                          ignore_index=True).fillna("")
    all_matches = pd.concat([m.reindex(columns=C.MATCH_COLUMNS) for m in matches]
                            or [pd.DataFrame(columns=C.MATCH_COLUMNS)], ignore_index=True).fillna("")
    return samples, all_calls, all_matches


def cohort_table(calls: pd.DataFrame, matches: pd.DataFrame) -> pd.DataFrame:
    """Calls and matches in one table with a `table` column; numeric columns as numbers."""
    frame = pd.concat([calls.assign(table="calls"), matches.assign(table="matches")], ignore_index=True)
    columns = ["table"] + list(dict.fromkeys(list(calls.columns) + list(matches.columns)))
    frame = frame.reindex(columns=columns)
    for column in frame.columns:
        if column in NUMERIC_COLUMNS:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
        else:
            frame[column] = frame[column].fillna("").astype(str)
    return frame


def match_tier(samples: pd.DataFrame, matches: pd.DataFrame) -> pd.Series:
    """Each sample's best matched sensitive evidence (MATCH_TIERS): approved/guideline on- or ancestor-label,
    else clinical evidence or an approval in another tumour type, else investigational only, else none."""
    sensitive = matches[(matches[C.DIRECTION] == "sensitive") & (matches[C.ASSESSMENT] == "matched")]
    approved = sensitive[C.LEVEL].isin(APPROVED_LEVELS)
    tier = pd.Series("investigational_only", index=sensitive.index)
    tier[sensitive[C.LEVEL].isin(("clinical", "other_tumor_type")) | approved] = "clinical_or_other_tumour"
    tier[approved & sensitive[C.TUMOR_TYPE_MATCH].isin(ON_LABEL)] = "approved_guideline"
    rank = tier.map({t: i for i, t in enumerate(MATCH_TIERS)})
    best = rank.groupby(sensitive[C.SAMPLE]).min().map(dict(enumerate(MATCH_TIERS)))
    return samples[C.SAMPLE].map(best).fillna("none").rename("match_tier")


def cohort_summary(samples: pd.DataFrame, calls: pd.DataFrame, matches: pd.DataFrame) -> list[dict]:
    """Per tumour type: samples and patients, KRAS-mutant, G12C, STK11/KEAP1/TP53 altered, and the samples
    (and patients) by their best therapy match: approved/guideline, other evidence only, investigational only."""
    rows = []
    tier = match_tier(samples, matches)
    mutant = ~samples[C.KRAS_STATUS].isin(["wild_type", "not_assessed", ""])
    g12c = samples[C.KRAS_STATUS].str.split(";").apply(lambda alleles: "G12C" in alleles)
    altered = {g: samples[f"{g.lower()}_status"].isin(["loss_of_function", "missense"]) for g in ("STK11", "KEAP1", "TP53")}

    def patients(mask: pd.Series) -> int:
        return int(samples.loc[mask, "patient_id"].nunique())

    for tumour_type in sorted(samples[C.TUMOR_TYPE].unique()):
        here = samples[C.TUMOR_TYPE] == tumour_type
        rows.append({"tumor_type": tumour_type or "unknown", "samples": int(here.sum()), "patients": patients(here),
                     "kras_mutant": int((here & mutant).sum()), "kras_g12c": int((here & g12c).sum()),
                     "g12c_with_stk11": int((here & g12c & altered["STK11"]).sum()),
                     **{f"{g.lower()}_altered": int((here & a).sum()) for g, a in altered.items()},
                     **{key: {"samples": int((here & (tier == key)).sum()), "patients": patients(here & (tier == key))}
                        for key in MATCH_TIERS[:3]}})
    return rows


def write_cohort(report_dirs: list[str], outdir: str | os.PathLike, *, quiet: bool = False,
                 stream=None) -> dict[str, Path]:
    """Read every report under `report_dirs`; write outdir/cohort.html and outdir/cohort.parquet together."""
    paths = find_reports(report_dirs)
    if not paths:
        raise UsageError("no ID.report.json found", hint="give directories written by 'krasannot report'")
    progress = Progress(len(paths), quiet, stream)
    samples, calls, matches = load_cohort(paths, progress)
    outdir = prepare_outdir(outdir)
    reportable = calls[_is_reportable(calls)]
    links = [urllib.parse.quote(os.path.relpath(p, outdir.resolve())) for p in
             samples["report_html"].map(lambda p: str(Path(p).resolve()))]
    html = template_environment().get_template("cohort.html.j2").render(
        n_samples=len(samples), n_patients=int(samples["patient_id"].nunique()),
        summary=cohort_summary(samples, calls, matches), tier_names=MATCH_TIER_NAMES,
        samples=samples.assign(report_href=links, match_tier=match_tier(samples, matches)).to_dict("records"),
        kras_plot=plots.kras_allele_plot(samples), comutation_plot=plots.comutation_matrix(samples, calls),
        matches_plot=plots.matches_heatmap(samples, matches), vaf_plot=plots.vaf_histograms(reportable))
    table = cohort_table(calls, matches)
    targets = {"html": outdir / "cohort.html", "parquet": outdir / "cohort.parquet"}
    with staging_folder(outdir, "cohort") as staging:
        (staging / "cohort.html").write_text(html, encoding="utf-8")
        table.to_parquet(staging / "cohort.parquet", index=False, engine="pyarrow")
        for key, target in targets.items():
            os.chmod(staging / target.name, 0o644)
            os.replace(staging / target.name, target)
    progress.close(f"cohort: {len(samples)} samples, {len(calls)} calls, {len(matches)} matches -> {outdir}")
    return targets
