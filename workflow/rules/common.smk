# Sample sheet loading and validation, and the input functions of the rules.
# Everything here runs when the workflow is parsed, so a bad sheet stops before any job runs.

import json
import os
import re
import sys

import jsonschema
import pandas as pd
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

validate(config, "../schemas/config.schema.json")

SAMPLES_SCHEMA_PATH = os.path.join(workflow.basedir, "workflow", "schemas", "samples.schema.json")
with open(SAMPLES_SCHEMA_PATH, encoding="utf-8") as _handle:
    SAMPLES_SCHEMA = json.load(_handle)
INPUT_COLUMNS = ["vcf", "maf", "bam", "ctdna", "cna", "fusions"]
# files that say what the assay covered (not calls): checked and resolved like the inputs
PATH_COLUMNS = INPUT_COLUMNS + ["targets"]
# a patient's samples are compared in this order (the schema's own list of timepoints)
TIMEPOINT_ORDER = SAMPLES_SCHEMA["properties"]["timepoint"]["enum"]
ALIGNMENT_INDEX_SUFFIXES = {".bam": (".bai", ".csi"), ".cram": (".crai",)}

# the krasannot installed beside the Python running Snakemake (a venv need not be activated)
_BESIDE = os.path.join(os.path.dirname(sys.executable), "krasannot")
KRASANNOT = _BESIDE if os.access(_BESIDE, os.X_OK) else "krasannot"


def _row_problems(record: dict, line: int, sheet: str) -> list[str]:
    """Schema errors of one row as 'SHEET line N (sample X), column C: what is wrong'."""
    filled = {k: v for k, v in record.items() if v != ""}
    problems = []
    for error in jsonschema.Draft202012Validator(SAMPLES_SCHEMA).iter_errors(filled):
        where = f"{sheet} line {line} (sample {record.get('sample_id') or '?'})"
        if error.validator == "anyOf" and not error.path:
            problems.append(f"{where}: no input file; fill at least one of the columns {', '.join(INPUT_COLUMNS)}")
        elif error.validator == "required":
            missing = error.message.split("'")[1]
            problems.append(f"{where}, column {missing}: required but empty")
        elif error.validator == "additionalProperties":
            problems.append(f"{where}: {error.message} (known columns: {', '.join(SAMPLES_SCHEMA['properties'])})")
        else:
            column = error.path[0] if error.path else "?"
            detail = error.schema.get("description", "")
            if error.validator == "enum":
                text = f"{error.instance!r} is not one of {', '.join(v for v in error.validator_value if v)}"
            elif error.validator == "pattern" and column in ("sample_id", "patient_id"):
                text = (f"{error.instance!r} is not a safe id: letters, digits, '.', '_' and '-' only "
                        "(no slash, no double dot), not starting with '.' or '-'")
            else:
                text = error.message + (f" ({detail})" if detail else "")
            problems.append(f"{where}, column {column}: {text}")
    return problems


def _tumor_type_problems(sheet_rows: pd.DataFrame, sheet: str) -> list[str]:
    """Tumour types that are not OncoTree codes of the shipped subset, with the closest codes."""
    from krasannot.errors import KrasannotError
    from krasannot.evidence.oncotree import load_oncotree

    oncotree = load_oncotree()
    problems = []
    for line, row in sheet_rows.iterrows():
        try:
            oncotree.check(row["tumor_type"])
        except KrasannotError as exc:
            problems.append(f"{sheet} line {line} (sample {row['sample_id']}), column tumor_type: {exc}")
    return problems


def _path_problems(record: dict, line: int, sheet: str, sheet_dir: str) -> list[str]:
    """Input paths that do not exist (relative to the sheet's directory) or lack their index."""
    problems = []
    where = f"{sheet} line {line} (sample {record['sample_id']})"
    for column in PATH_COLUMNS:
        given = record.get(column, "")
        if not given:
            continue
        path = os.path.normpath(os.path.join(sheet_dir, given))
        if not os.path.isfile(path):
            problems.append(f"{where}, column {column}: {given} not found (looked for {path}; "
                            "give a path relative to the sample sheet or an absolute path)")
            continue
        suffix = os.path.splitext(path)[1].lower()
        if column == "bam" and suffix in ALIGNMENT_INDEX_SUFFIXES:
            if not any(os.path.isfile(path + s) for s in ALIGNMENT_INDEX_SUFFIXES[suffix]):
                problems.append(f"{where}, column bam: {given} has no index "
                                f"({' or '.join(ALIGNMENT_INDEX_SUFFIXES[suffix])} beside it; "
                                "python -c \"import pysam; pysam.index('FILE')\" writes one)")
    return problems


def _duplicate_problems(sheet_rows: pd.DataFrame, sheet: str) -> list[str]:
    """Repeated sample ids, and two samples of one patient at one timepoint (their order is unknown)."""
    problems = []
    for sample_id, rows in sheet_rows.groupby("sample_id"):
        if len(rows) > 1:
            problems.append(f"{sheet} lines {', '.join(map(str, rows.index))}, column sample_id: "
                            f"{sample_id!r} is used more than once; sample ids must be unique")
    for (patient, timepoint), rows in sheet_rows.groupby(["patient_id", "timepoint"]):
        if len(rows) > 1 and patient:
            problems.append(f"{sheet} lines {', '.join(map(str, rows.index))}, column timepoint: patient "
                            f"{patient} has {len(rows)} samples at {timepoint!r}; give each a distinct timepoint")
    return problems


def load_sample_sheet(sheet: str) -> pd.DataFrame:
    """Read, check and resolve the sample sheet; one WorkflowError lists every problem by line and column.

    Returns the sheet indexed by sample_id, input paths made relative to the working directory
    (or absolute, as given), prior_therapies as given (comma-separated).
    """
    if not os.path.isfile(sheet):
        raise WorkflowError(f"sample sheet {sheet} not found (config.yaml: samples)")
    raw = pd.read_csv(sheet, sep="\t", dtype=str, keep_default_na=False, comment=None)
    raw.columns = [c.strip() for c in raw.columns]
    raw = raw.apply(lambda column: column.str.strip())
    raw.index = range(2, len(raw) + 2)  # file line numbers: the header is line 1
    sheet_dir = os.path.dirname(sheet)
    problems = []
    for line, record in zip(raw.index, raw.to_dict("records")):
        problems += _row_problems(record, line, sheet)
    if not problems:
        for line, record in zip(raw.index, raw.to_dict("records")):
            problems += _path_problems(record, line, sheet, sheet_dir)
        problems += _duplicate_problems(raw, sheet)
        problems += _tumor_type_problems(raw, sheet)
    if problems:
        raise WorkflowError(f"{len(problems)} problem(s) in the sample sheet, nothing was run:\n  "
                            + "\n  ".join(problems))
    # snakemake's own check, on what is filled, sets schema defaults
    validate(raw.replace("", None), "../schemas/samples.schema.json")
    for column in PATH_COLUMNS + ["prior_therapies", "msi_high", "tmb"]:
        if column not in raw:
            raw[column] = ""
        raw[column] = raw[column].fillna("")
    for column in PATH_COLUMNS:
        raw[column] = [os.path.normpath(os.path.join(sheet_dir, p)) if p else "" for p in raw[column]]
    raw["timepoint_rank"] = raw["timepoint"].map(TIMEPOINT_ORDER.index)
    return raw.set_index("sample_id", drop=False)


SAMPLES = load_sample_sheet(config["samples"])
SAMPLE_IDS = list(SAMPLES.index)
# patients with samples at two or more timepoints get a "what changed" comparison
_PATIENT_COUNTS = SAMPLES.groupby("patient_id")["sample_id"].count()
LONGITUDINAL_PATIENTS = sorted(_PATIENT_COUNTS[_PATIENT_COUNTS >= 2].index)


wildcard_constraints:
    sample="|".join(map(re.escape, SAMPLE_IDS)) or "[A-Za-z0-9][A-Za-z0-9._-]*",
    patient="|".join(map(re.escape, LONGITUDINAL_PATIENTS)) or "[A-Za-z0-9][A-Za-z0-9._-]*",


# ---- input functions ------------------------------------------------------------------------


def sample_row(wildcards) -> pd.Series:
    return SAMPLES.loc[wildcards.sample]


def alignment_input(wildcards) -> str:
    return sample_row(wildcards)["bam"]


def annotate_inputs(wildcards) -> list[str]:
    """The sample's input files for `krasannot run`, with the genotype calls of its BAM."""
    row = sample_row(wildcards)
    files = [row[c] for c in INPUT_COLUMNS if c != "bam" and row[c]]
    if row["bam"]:
        files.append(f"results/ingest/{wildcards.sample}/{wildcards.sample}.calls.tsv")
    return files


def annotate_targets(wildcards) -> list[str]:
    """The sample's target regions (BED or coverage file), if the sheet gives them."""
    targets = sample_row(wildcards)["targets"]
    return [targets] if targets else []


def annotate_targets_arg(wildcards) -> str:
    targets = sample_row(wildcards)["targets"]
    return f"--targets {targets}" if targets else ""


def annotate_input_sample_arg(wildcards) -> str:
    """--input-sample for a MAF (a cohort file: read this sample's rows); other inputs name their tumour."""
    return f"--input-sample {wildcards.sample}" if sample_row(wildcards)["maf"] else ""


def match_extra_args(wildcards) -> str:
    """--prior-therapy, --msi-high and --tmb from the sheet, where given."""
    row = sample_row(wildcards)
    args = []
    if row["prior_therapies"]:
        args.append(f"--prior-therapy {row['prior_therapies']}")
    if row["msi_high"] == "true":
        args.append("--msi-high")
    if row["tmb"]:
        args.append(f"--tmb {row['tmb']}")
    return " ".join(args)


def sample_build(wildcards) -> str:
    return sample_row(wildcards)["build"]


def patient_samples(wildcards) -> list[str]:
    """The patient's sample ids in timepoint order."""
    rows = SAMPLES[SAMPLES["patient_id"] == wildcards.patient].sort_values("timepoint_rank")
    return list(rows["sample_id"])


def patient_annotated(wildcards) -> list[str]:
    return [f"results/annotate/{s}/{s}.annotated.tsv" for s in patient_samples(wildcards)]


def patient_matches(wildcards) -> list[str]:
    return [f"results/match/{s}/{s}.matches.tsv" for s in patient_samples(wildcards)]


def patient_prior_therapies(wildcards) -> str:
    """--prior-therapy: every prior therapy named on any of the patient's samples."""
    rows = SAMPLES[SAMPLES["patient_id"] == wildcards.patient]
    names = sorted({t for cell in rows["prior_therapies"] for t in cell.split(",") if t})
    return f"--prior-therapy {','.join(names)}" if names else ""


def all_outputs() -> list[str]:
    """Every report, the cohort summary and each longitudinal patient's comparison."""
    return (expand("results/report/{sample}/{sample}.report.html", sample=SAMPLE_IDS)
            + ["results/cohort/cohort.html", "results/cohort/cohort.parquet"]
            + expand("results/longitudinal/{patient}/{patient}.changes.html", patient=LONGITUDINAL_PATIENTS))
