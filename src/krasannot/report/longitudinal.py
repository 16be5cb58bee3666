"""Longitudinal comparison (`krasannot compare`): what changed between one patient's timepoints.

For samples of one patient in timepoint order, each sample is compared with the one before it:

* ``new``: detected now, not among the earlier sample's calls;
* ``lost``: detected before, and the later sample says it assessed it and did not find it (a
  ``not_detected`` row of the same gene and residue, or a copy-number row of the gene in
  another state);
* ``absent``: detected before, not among the later sample's calls, and nothing says it was
  assessed (a VCF lists only what it found; a plasma sample may not carry a tissue clone's
  DNA). Not claimed lost;
* ``rising``: detected at both, VAF up by at least ``min_vaf_rise`` (absolute, default 0.05)
  **and** by at least ``min_vaf_fold`` (relative, default 1.5x). Both are needed: +0.05 at
  0.40 is noise of sampling, and 0.002 -> 0.004 is a doubling of two reads. Tissue and plasma
  VAFs measure different things (plasma is diluted by the tumour fraction), so a tissue-to-plasma
  rise is flagged in the note;
* ``persistent``: detected at both and not rising, listed only where a resistance entry fired on it.

An alteration is a detected, passing (FILTER PASS, '.' or empty), protein-altering variant
(HGVSp, not synonymous), an amplification or deep deletion, or a fusion; its label is the
one the matcher uses in ``matched_calls`` ("KRAS p.Y96D", "MET amplification").

Resistance entries: the later sample's matches with direction ``resistant`` whose evidence entry
requires a prior therapy (a ``prior_therapy`` term) that the patient received. They are put
beside the alterations they fired on, and listed as a table of their own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd

from .. import __version__
from .. import columns as C
from .. import models as M
from ..errors import InputFormatError, UsageError
from ..models import VAF_RISE_ABSOLUTE, VAF_RISE_FOLD

PASSING_FILTERS = ("PASS", ".", "")
REPORTED_CN_STATES = (M.CN_AMPLIFICATION, M.CN_DEEP_DELETION)
CHANGE_NEW, CHANGE_LOST, CHANGE_ABSENT, CHANGE_RISING, CHANGE_PERSISTENT = (
    "new", "lost", "absent", "rising", "persistent")
RESISTANT = "resistant"
# what the matcher appends to a call's label in matched_calls: "KRAS p.G12C (VAF 0.31)"
_VAF_SUFFIX = re.compile(r"\s*\(VAF [^)]*\)\s*$")

ALTERATION_COLUMNS = ["alteration", "gene", "call_type", "residue", "vaf", "detection"]
CHANGE_COLUMNS = ["patient", "from_sample", "from_timepoint", "to_sample", "to_timepoint", "alteration", "gene",
                  "call_type", "change", "vaf_before", "vaf_after", "resistance_therapy", "resistance_level",
                  "resistance_evidence", "note"]
RESISTANCE_COLUMNS = ["sample", "timepoint", C.THERAPY, C.LEVEL, C.BIOMARKER, C.MATCHED_CALLS, C.EVIDENCE_ID,
                      "required_prior_therapy", C.CITATIONS, C.SUMMARY]


@dataclass
class Timepoint:
    """One sample of the patient: its id, timepoint and specimen, with its two tables."""

    sample: str
    timepoint: str
    specimen: str
    annotated: pd.DataFrame
    matches: pd.DataFrame


def alteration_labels(annotated: pd.DataFrame) -> pd.Series:
    """'KRAS p.G12C', 'MET amplification', 'EML4::ALK fusion' per row: the matcher's call labels."""
    gene = annotated[C.GENE].fillna("").astype(str)
    change = annotated[C.HGVSP_SHORT].fillna("").astype(str)
    for fallback in (C.HGVSC, C.ALTERATION):
        change = change.where(change != "", annotated[fallback].fillna("").astype(str))
    # a by-name call may already carry its gene ("KRAS G12C"): not "KRAS KRAS G12C"
    variant = [c if g and c.startswith(g + " ") else f"{g} {c}".strip() for g, c in zip(gene, change)]
    copy_number = gene + " " + annotated[C.CN_STATE].fillna("").astype(str).str.replace("_", " ")
    fusion = (annotated[C.FUSION_5P].fillna("").astype(str) + "::"
              + annotated[C.FUSION_3P].fillna("").astype(str) + " fusion")
    call_type = annotated[C.CALL_TYPE].fillna("").astype(str)
    return pd.Series(np.select([call_type == M.CALL_TYPE_FUSION, call_type == M.CALL_TYPE_COPY_NUMBER],
                               [fusion, copy_number], variant), index=annotated.index)


def sample_alterations(annotated: pd.DataFrame) -> pd.DataFrame:
    """The reportable alterations of one sample (ALTERATION_COLUMNS), detected and assessed-absent.

    `detection` is detected, or not_detected for a row that says the assay looked and found
    nothing (hotspot genotyping, a ctDNA "not detected" row, a neutral copy-number row).
    """
    frame = annotated[annotated[C.STATUS].fillna("") == M.STATUS_ANNOTATED]
    call_type = frame[C.CALL_TYPE].fillna("").replace("", M.CALL_TYPE_VARIANT)
    detection = frame[C.DETECTION].fillna("").replace("", M.DETECTION_DETECTED)
    passing = frame[C.FILTER].fillna("").isin(PASSING_FILTERS)
    hgvsp = frame[C.HGVSP_SHORT].fillna("").astype(str)
    cn_state = frame[C.CN_STATE].fillna("").astype(str)
    protein_altering = (hgvsp.str.startswith("p.") & ~hgvsp.str.endswith("=")) | (frame[C.ALTERATION].fillna("") != "")
    reportable = (((call_type == M.CALL_TYPE_VARIANT) & protein_altering)
                  | ((call_type == M.CALL_TYPE_COPY_NUMBER) & cn_state.isin(REPORTED_CN_STATES))
                  | (call_type == M.CALL_TYPE_FUSION))
    # a copy-number row in any other state says the gene's copy number was assessed
    assessed_copy_number = (call_type == M.CALL_TYPE_COPY_NUMBER) & ~cn_state.isin(REPORTED_CN_STATES)
    keep = (passing & reportable & (detection == M.DETECTION_DETECTED)) | (detection == M.DETECTION_NOT_DETECTED) \
        | assessed_copy_number
    kept = frame[keep]
    residue = kept[C.PROTEIN_POSITION].fillna("").astype(str).str.extract(r"^(\d+)")[0].fillna("")
    detected = ((kept[C.DETECTION].fillna("").replace("", M.DETECTION_DETECTED) == M.DETECTION_DETECTED)
                & ~assessed_copy_number[keep])
    out = pd.DataFrame({
        "alteration": alteration_labels(kept), "gene": kept[C.GENE].fillna("").astype(str),
        "call_type": call_type[keep], "residue": residue,
        "vaf": pd.to_numeric(kept[C.VAF], errors="coerce"),
        "detection": np.where(detected, M.DETECTION_DETECTED, M.DETECTION_NOT_DETECTED)})
    # one row per alteration: the highest VAF where a call is repeated (two inputs of one sample)
    out = out.sort_values("vaf", ascending=False, na_position="last")
    return out.drop_duplicates(["alteration", "detection"]).reset_index(drop=True)


def compare_timepoints(before: pd.DataFrame, after: pd.DataFrame, min_vaf_rise: float = VAF_RISE_ABSOLUTE,
                       min_vaf_fold: float = VAF_RISE_FOLD) -> pd.DataFrame:
    """New, lost, absent, rising and persistent alterations from `before` to `after` (sample_alterations).

    Returns alteration, gene, call_type, change, vaf_before, vaf_after.
    """
    seen_before = before[before["detection"] == M.DETECTION_DETECTED]
    seen_after = after[after["detection"] == M.DETECTION_DETECTED]
    both = seen_before[["alteration", "gene", "call_type", "residue", "vaf"]].merge(
        seen_after[["alteration", "vaf"]], on="alteration", how="outer", suffixes=("_before", "_after"),
        indicator=True)
    # gene/call_type/residue of alterations seen only after come from the later sample
    later = seen_after.set_index("alteration")
    for column in ("gene", "call_type", "residue"):
        both[column] = both[column].fillna(both["alteration"].map(later[column]))

    not_found = after[after["detection"] == M.DETECTION_NOT_DETECTED]
    assessed_residues = set(zip(not_found["gene"], not_found["residue"]))
    assessed_genes = set(not_found.loc[not_found["call_type"] == M.CALL_TYPE_COPY_NUMBER, "gene"])
    assessed = np.array([(c == M.CALL_TYPE_COPY_NUMBER and g in assessed_genes)
                         or (c == M.CALL_TYPE_VARIANT and r != "" and (g, r) in assessed_residues)
                         for g, c, r in zip(both["gene"], both["call_type"], both["residue"].fillna(""))], dtype=bool)

    vaf_before, vaf_after = both["vaf_before"].to_numpy(float), both["vaf_after"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        rising = ((vaf_after - vaf_before) >= min_vaf_rise - 1e-12) & (vaf_after >= vaf_before * min_vaf_fold - 1e-12)
    where = both["_merge"].to_numpy()
    change = np.select([where == "right_only", (where == "left_only") & assessed, where == "left_only", rising],
                       [CHANGE_NEW, CHANGE_LOST, CHANGE_ABSENT, CHANGE_RISING], CHANGE_PERSISTENT)
    out = both.assign(change=change)[["alteration", "gene", "call_type", "change", "vaf_before", "vaf_after"]]
    return out.sort_values(["change", "alteration"], key=lambda s: s.map(CHANGE_ORDER) if s.name == "change" else s,
                           ignore_index=True)


CHANGE_ORDER = {CHANGE_NEW: 0, CHANGE_RISING: 1, CHANGE_LOST: 2, CHANGE_ABSENT: 3, CHANGE_PERSISTENT: 4}


def prior_therapy_resistance(matches: pd.DataFrame, required_prior: dict[str, set[str]],
                             received: set[str]) -> pd.DataFrame:
    """Resistant matches whose evidence entry requires a prior therapy the patient received.

    `required_prior` maps an evidence id to the drugs (lower case) its prior_therapy terms name;
    `received` holds the patient's prior drugs (lower case). With no prior therapy given, every
    resistant match of an entry that requires one counts (the matcher fired it, so it was given).
    """
    resistant = matches[matches[C.DIRECTION].fillna("") == RESISTANT]
    required = resistant[C.EVIDENCE_ID].map(lambda entry: required_prior.get(entry, set()))
    fired = required.map(lambda drugs: bool(drugs) and (not received or bool(drugs & received)))
    out = resistant[fired.astype(bool)].copy()
    out["required_prior_therapy"] = required[fired.astype(bool)].map(lambda drugs: ", ".join(sorted(drugs)))
    return out


def matched_call_labels(matched_calls: pd.Series) -> pd.Series:
    """'KRAS p.Y96D (VAF 0.024); MET amplification' -> a list of call labels per row."""
    return matched_calls.fillna("").astype(str).map(
        lambda text: [_VAF_SUFFIX.sub("", part).strip() for part in text.split(";") if part.strip()])


def attach_resistance(changes: pd.DataFrame, resistance: pd.DataFrame) -> pd.DataFrame:
    """Put the resistance entries that fired on each alteration beside it (therapy, level, evidence id)."""
    exploded = resistance.assign(label=matched_call_labels(resistance[C.MATCHED_CALLS])).explode("label")
    grouped = exploded.groupby("label").agg({C.THERAPY: lambda s: "; ".join(dict.fromkeys(s)),
                                             C.LEVEL: lambda s: "; ".join(dict.fromkeys(s)),
                                             C.EVIDENCE_ID: lambda s: "; ".join(dict.fromkeys(s))})
    out = changes.copy()
    for source, target in ((C.THERAPY, "resistance_therapy"), (C.LEVEL, "resistance_level"),
                           (C.EVIDENCE_ID, "resistance_evidence")):
        out[target] = out["alteration"].map(grouped[source]).fillna("") if len(grouped) else ""
    return out


def what_changed(patient: str, timepoints: list[Timepoint], required_prior: dict[str, set[str]],
                 received: set[str], min_vaf_rise: float = VAF_RISE_ABSOLUTE,
                 min_vaf_fold: float = VAF_RISE_FOLD) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The changes table (CHANGE_COLUMNS) and the resistance table (RESISTANCE_COLUMNS) of one patient."""
    alterations = [sample_alterations(t.annotated) for t in timepoints]
    change_parts, resistance_parts = [], []
    for (earlier, before), (later, after) in zip(zip(timepoints, alterations), zip(timepoints[1:], alterations[1:])):
        resistance = prior_therapy_resistance(later.matches, required_prior, received)
        changes = attach_resistance(compare_timepoints(before, after, min_vaf_rise, min_vaf_fold), resistance)
        # a persistent alteration is only news where a resistance entry fired on it
        changes = changes[(changes["change"] != CHANGE_PERSISTENT) | (changes["resistance_evidence"] != "")]
        tissue_to_plasma = earlier.specimen == "tissue" and later.specimen == "plasma"
        note = np.where((changes["change"] == CHANGE_RISING) & tissue_to_plasma,
                        "tissue to plasma: VAFs are not directly comparable", "")
        note = np.where((changes["change"] == CHANGE_ABSENT) & tissue_to_plasma,
                        "not in the plasma calls; plasma may not carry every tissue clone", note)
        change_parts.append(changes.assign(patient=patient, from_sample=earlier.sample,
                                           from_timepoint=earlier.timepoint, to_sample=later.sample,
                                           to_timepoint=later.timepoint, note=note))
        resistance_parts.append(resistance.assign(sample=later.sample, timepoint=later.timepoint))
    changes = pd.concat(change_parts, ignore_index=True).reindex(columns=CHANGE_COLUMNS)
    resistance = (pd.concat(resistance_parts, ignore_index=True) if resistance_parts
                  else pd.DataFrame()).reindex(columns=RESISTANCE_COLUMNS).fillna("")
    return changes, resistance


# ---- files --------------------------------------------------------------------------------------

def read_table(path: str, required: list[str], what: str) -> pd.DataFrame:
    """A TSV written by annotate or match, as strings; InputFormatError naming missing columns."""
    try:
        table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise InputFormatError(f"file not found ({what} expected)", path=path) from None
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise InputFormatError(f"not readable as {what} ({exc})", path=path, line=1) from None
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise InputFormatError(f"not {what}: no column {', '.join(missing[:5])}"
                               + (f" and {len(missing) - 5} more" if len(missing) > 5 else ""), path=path, line=1,
                               hint=f"give the TSV written by krasannot {'annotate' if 'annotated' in what else 'match'}")
    return table


def prior_therapy_requirements(kb_dir: str | None = None) -> tuple[dict[str, set[str]], object]:
    """Evidence id -> drugs its prior_therapy terms name (classes expanded), and the knowledge base."""
    from ..evidence.kb import load_kb

    kb = load_kb(kb_dir)
    required = {}
    for entry in kb.entries:
        names = [name for term in entry.terms() for name in term.prior_therapy]
        if names:
            required[entry.id] = kb.expand_drugs(names)
    return required, kb


_TEMPLATE = """\
<section class="krasannot-longitudinal" id="changes-{{ patient }}">
<style>
.krasannot-longitudinal table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
.krasannot-longitudinal th, .krasannot-longitudinal td { border: 1px solid #bbb; padding: 0.25em 0.6em; text-align: left; }
.krasannot-longitudinal th { background: #eee; }
.krasannot-longitudinal .new, .krasannot-longitudinal .rising { font-weight: bold; }
.krasannot-longitudinal .resistant { color: #a00; }
</style>
<h2>What changed: patient {{ patient }}</h2>
<table>
<tr><th>Timepoint</th><th>Sample</th><th>Specimen</th></tr>
{% for t in timepoints %}<tr><td>{{ t.timepoint }}</td><td>{{ t.sample }}</td><td>{{ t.specimen }}</td></tr>
{% endfor %}</table>
{% if prior %}<p>Prior therapy: {{ prior }}</p>{% endif %}
<h3>Alterations</h3>
{% if changes %}<table>
<tr><th>From</th><th>To</th><th>Alteration</th><th>Change</th><th>VAF before</th><th>VAF after</th>
<th>Acquired resistance to</th><th>Evidence</th><th>Note</th></tr>
{% for c in changes %}<tr>
<td>{{ c.from_timepoint }} ({{ c.from_sample }})</td><td>{{ c.to_timepoint }} ({{ c.to_sample }})</td>
<td>{{ c.alteration }}</td><td class="{{ c.change }}">{{ c.change }}</td>
<td>{{ c.vaf_before }}</td><td>{{ c.vaf_after }}</td>
<td class="resistant">{{ c.resistance_therapy }}</td><td>{{ c.resistance_level }} {{ c.resistance_evidence }}</td>
<td>{{ c.note }}</td></tr>
{% endfor %}</table>
{% else %}<p>No alteration is new, lost or rising between these timepoints.</p>{% endif %}
<h3>Resistance to the prior therapy</h3>
{% if resistance %}<table>
<tr><th>Sample</th><th>Therapy</th><th>Level</th><th>Biomarker</th><th>Calls</th><th>Requires prior</th>
<th>Evidence</th><th>Citations</th></tr>
{% for r in resistance %}<tr>
<td>{{ r.timepoint }} ({{ r.sample }})</td><td class="resistant">{{ r.therapy }}</td><td>{{ r.level }}</td>
<td>{{ r.biomarker }}</td><td>{{ r.matched_calls }}</td><td>{{ r.required_prior_therapy }}</td>
<td>{{ r.evidence_id }}</td><td>{{ r.citations }}</td></tr>
{% endfor %}</table>
{% else %}<p>No resistance entry for the prior therapy fired.</p>{% endif %}
<p class="provenance">krasannot {{ version }}; evidence base {{ kb_version }};
rising: VAF up by at least {{ min_rise }} and at least {{ min_fold }}-fold.</p>
</section>
"""


def render_changes_html(patient: str, timepoints: list[Timepoint], changes: pd.DataFrame,
                        resistance: pd.DataFrame, prior: str, kb_version: str, min_rise: float,
                        min_fold: float) -> str:
    """The self-contained HTML section (inline style, no scripts); every value autoescaped."""
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    shown = changes.assign(vaf_before=changes["vaf_before"].map(_format_vaf),
                           vaf_after=changes["vaf_after"].map(_format_vaf)).fillna("")
    return env.from_string(_TEMPLATE).render(
        patient=patient, timepoints=timepoints, changes=shown.to_dict("records"),
        resistance=resistance.to_dict("records"), prior=prior, version=__version__, kb_version=kb_version,
        min_rise=min_rise, min_fold=min_fold)


def _format_vaf(value) -> str:
    return "" if value is None or value != value else f"{float(value):.3f}"


def sample_of(table: pd.DataFrame, path: str) -> str:
    """The one sample id of an annotated table's annotated rows, else the file name's first part."""
    names = table.loc[table[C.STATUS] == M.STATUS_ANNOTATED, C.SAMPLE].unique()
    return str(names[0]) if len(names) == 1 else Path(path).name.split(".")[0]
