"""`krasannot kb import-civic`: CIViC's ClinicalEvidenceSummaries TSV (CC0) into an evidence file.

CIViC (https://civicdb.org) publishes its accepted evidence items nightly as a TSV. This module turns
the items it can express faithfully into entries of our own schema (docs/evidence.md), one file,
`source: civic`, ids `civic-eid<N>`, and counts everything else by the reason it was left out.
An import never claims more than CIViC says, and never more than a curator of ours would:

Evidence kept
    - ``evidence_status`` accepted (the nightly dump holds only those; a submitted item is skipped);
    - ``evidence_direction`` Supports (a "Does Not Support" item is not read as the opposite claim);
    - Predictive items with therapies: Sensitivity/Response -> ``sensitive``, Resistance ->
      ``resistant``; other significances (Reduced Sensitivity, Adverse Response, N/A) are skipped;
    - Prognostic items: Poor Outcome / Better Outcome -> ``prognostic``, the outcome named in the
      caveats and context; the therapy is ``PROGNOSTIC_THERAPY`` unless the item names drugs;
    - Diagnostic, Predisposing (and the newer Oncogenic/Functional) items are skipped and counted.

Levels (CIViC A validated association, B clinical evidence, C case study, D preclinical, E inferential)

    ========  ==================  ====================  ===================
    CIViC     sensitive           resistant             prognostic
    ========  ==================  ====================  ===================
    A         guideline           resistance_standard   prognostic_strong
    B         clinical            resistance_clinical   prognostic_clinical
    C         investigational     resistance_clinical   skipped
    D         investigational     skipped               skipped
    E         skipped             skipped               skipped
    ========  ==================  ====================  ===================

    CIViC A is never ``approved``: only a curator who has read the label for the tumour type may say so.
    Preclinical or inferential resistance has no level on our scale (R2 is clinical evidence), and a
    case report or cell line is no prognostic evidence.

Tumour types
    ``DOID_TO_ONCOTREE`` below: a CIViC disease (by its Disease Ontology id) maps to the OncoTree code
    whose scope equals the disease, or is the narrowest code that holds nearly all of it (Colorectal
    Cancer -> COADREAD rather than BOWEL, which would add small-bowel and anal cancers); never to a
    broader code. Receptor- or histology-defined subsets without a code of their own (Her2-receptor
    Positive Breast Cancer, Lung Acinar Adenocarcinoma) and pan-cancer diseases ("Cancer", "Solid
    Tumor": no tumour-agnostic approval is implied) are skipped.

Variants (the term grammar of docs/evidence.md), for genes of the panel bundle (sequence terms) or of
resources/genes/gene_loci.tsv (amplification: the copy_number list; fusion: fusion_driver, with a
known partner)
    ``G12C`` -> ``p.G12C``; ``R213*`` -> ``p.R213*``; ``E746_A750DEL`` / ``Y772_A775DUP`` ->
    ``p.E746_A750del`` / ``p.Y772_A775dup``; ``V600`` -> ``V600``; ``G12/G13`` -> ``codons 12,13``;
    ``MUTATION`` -> ``mutation``; ``LOSS-OF-FUNCTION`` -> ``loss_of_function``; ``WILD TYPE`` ->
    ``wild_type``; ``AMPLIFICATION`` -> ``amplification``; EGFR ``EXON 19 DELETION`` ->
    ``exon 19 inframe_deletion``, EGFR/ERBB2 ``EXON 20 INSERTION`` -> ``exon 20 insertion``, MET
    ``EXON 14 SKIPPING MUTATION`` -> ``exon 14 skipping``; ``EML4-ALK`` -> ``fusion`` with partner EML4;
    ``ALK FUSION(S)`` / ``REARRANGEMENT`` -> ``fusion``; a fusion with a kinase-domain change
    (``EML4-ALK L1196M``, ``ALK FUSION G1202R``) -> all of the fusion and the change.
    Every residue is checked against the panel's reference protein; a mismatch is skipped, because
    CIViC numbers residues on its own transcript. Everything else (expression, methylation,
    frameshifts at a residue, fusion breakpoint variants, ``LOSS``, ``DELETION``, ``EXON 2 MUTATION``,
    compound variants) is skipped and counted.

Therapies
    Drug names lower-cased, code names in brackets dropped ("Alectinib (CH5424802)" -> alectinib).
    Several drugs are one therapy when the item says Combination, one entry per drug when it says
    Substitutes (ids ``civic-eid<N>-<k>``), and are skipped when the item does not say (the 2018
    dumps have no interaction column) or says Sequential.

Origin
    Somatic -> ``origin: somatic``; Germline Mutation / Rare Germline -> ``origin: germline``;
    Germline Polymorphism / Common Germline (pharmacogenomics) skipped; others no requirement.

Items that say the same thing (biomarker, therapy, direction, tumour type) are one entry: the best
level, the id of its lowest EID, every EID, PMID and NCT id as citations. The file has no
`version`/`released` keys, so it never changes the curated base's version, and the loader keeps
`civic-` ids apart from curated ones.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputFormatError
from .levels import LEVEL_ORDER

SKIPPED = "skip_reason"
MERGED = "merged into the entry of an item saying the same thing"
# the therapy of a prognostic item that names none (the schema needs one; the direction says what it is)
PROGNOSTIC_THERAPY = "no therapy (prognostic)"

# newer dumps (2022+, molecular profiles) name some columns differently: newer -> 2018 name
COLUMN_ALIASES = {"therapies": "drugs", "significance": "clinical_significance",
                  "therapy_interaction_type": "drug_interaction_type", "citation_id": "pubmed_id"}
REQUIRED_COLUMNS = ["disease", "doid", "drugs", "evidence_type", "evidence_direction", "evidence_level",
                    "clinical_significance", "evidence_statement", "pubmed_id", "evidence_status", "evidence_id",
                    "variant_origin", "last_review_date"]

SIGNIFICANCE_DIRECTION = {("Predictive", "Sensitivity/Response"): "sensitive",
                          ("Predictive", "Resistance"): "resistant",
                          ("Prognostic", "Poor Outcome"): "prognostic",
                          ("Prognostic", "Better Outcome"): "prognostic"}
LEVEL_MAP = {  # (direction, CIViC level) -> our level; absent pairs are skipped (see the module docstring)
    ("sensitive", "A"): "guideline", ("sensitive", "B"): "clinical",
    ("sensitive", "C"): "investigational", ("sensitive", "D"): "investigational",
    ("resistant", "A"): "resistance_standard", ("resistant", "B"): "resistance_clinical",
    ("resistant", "C"): "resistance_clinical",
    ("prognostic", "A"): "prognostic_strong", ("prognostic", "B"): "prognostic_clinical",
}
CIVIC_LEVEL_MEANING = {"A": "validated association", "B": "clinical evidence", "C": "case study",
                       "D": "preclinical evidence", "E": "inferential association"}
ORIGIN_MAP = {"Somatic Mutation": "somatic", "Somatic": "somatic", "Germline Mutation": "germline",
              "Rare Germline": "germline"}
SKIPPED_ORIGINS = {"Germline Polymorphism", "Common Germline"}

# Disease Ontology id -> OncoTree code (equal scope, or the narrowest code holding nearly all of it)
DOID_TO_ONCOTREE = {
    "1324": "LUNG",      # Lung Cancer
    "3905": "LUNG",      # Lung Carcinoma
    "3908": "NSCLC",     # Non-small Cell Lung Carcinoma
    "3910": "LUAD",      # Lung Adenocarcinoma
    "3907": "LUSC",      # Lung Squamous Cell Carcinoma
    "5409": "SCLC",      # Lung Small Cell Carcinoma
    "9256": "COADREAD",  # Colorectal Cancer
    "0050861": "COADREAD",  # Colorectal Adenocarcinoma
    "219": "COAD",       # Colon Cancer
    "1520": "COAD",      # Colon Carcinoma
    "234": "COAD",       # Colon Adenocarcinoma
    "1993": "READ",      # Rectum Cancer
    "1793": "PANCREAS",  # Pancreatic Cancer
    "4905": "PAAD",      # Pancreatic Carcinoma
    "4074": "PAAD",      # Pancreatic Adenocarcinoma
    "3498": "PAAD",      # Pancreatic Ductal Adenocarcinoma
    "3587": "PAAD",      # Pancreatic Ductal Carcinoma
    "1909": "MEL",       # Melanoma
    "8923": "SKCM",      # Skin Melanoma
    "6367": "ACRM",      # Acral Lentiginous Melanoma
    "6039": "UM",        # Uveal Melanoma
    "1612": "BREAST",    # Breast Cancer
    "3459": "BRCA",      # Breast Carcinoma
    "9253": "GIST",      # Gastrointestinal Stromal Tumor
    "1781": "THYROID",   # Thyroid Cancer
    "3963": "THYROID",   # Thyroid Carcinoma
    "3969": "THPA",      # Papillary Thyroid Carcinoma
    "3962": "THFO",      # Follicular Thyroid Carcinoma
    "3973": "THME",      # Thyroid Medullary Carcinoma
    "2394": "OVARY",     # Ovarian Cancer
    "0050933": "SOC",    # Ovarian Serous Carcinoma
    "1380": "UCEC",      # Endometrial Cancer
    "2871": "UCEC",      # Endometrial Carcinoma
    "4607": "BILIARY_TRACT",  # Biliary Tract Cancer
    "4947": "CHOL",      # Cholangiocarcinoma
    "4928": "IHCH",      # Intrahepatic Cholangiocarcinoma
    "10534": "STAD",     # Stomach Cancer
    "5517": "STAD",      # Stomach Carcinoma
    "3717": "STAD",      # Gastric Adenocarcinoma
    "4914": "ESCA",      # Esophagus Adenocarcinoma
    "3748": "ESCC",      # Esophagus Squamous Cell Carcinoma
    "11934": "HEAD_NECK",  # Head And Neck Cancer
    "5520": "HNSC",      # Head And Neck Squamous Cell Carcinoma
    "0050904": "SACA",   # Salivary Gland Carcinoma
    "2671": "BLADDER",   # Urothelial Carcinoma (bladder and upper tract)
    "4006": "BLCA",      # Bladder Urothelial Carcinoma
    "10283": "PROSTATE",  # Prostate Cancer
    "10286": "PRAD",     # Prostate Carcinoma
    "2526": "PRAD",      # Prostate Adenocarcinoma
    "4450": "RCC",       # Renal Cell Carcinoma
    "4467": "CCRCC",     # Clear Cell Renal Cell Carcinoma
    "684": "HCC",        # Hepatocellular Carcinoma
    "0050905": "IMT",    # Inflammatory Myofibroblastic Tumor
    "8418": "IFS",       # Congenital Fibrosarcoma
}
PAN_CANCER_DOIDS = {"162"}            # "Cancer"
PAN_CANCER_DISEASES = {"cancer", "solid tumor"}

# exon-level events the grammar has and CIViC names: (gene, CIViC words) -> alteration
EXON_EVENTS = {("EGFR", "EXON 19 DELETION"): "exon 19 inframe_deletion",
               ("EGFR", "EXON 20 INSERTION"): "exon 20 insertion",
               ("ERBB2", "EXON 20 INSERTION"): "exon 20 insertion",
               ("MET", "EXON 14 SKIPPING MUTATION"): "exon 14 skipping",
               ("MET", "EXON 14 SKIPPING"): "exon 14 skipping"}
CLASS_WORDS = {"MUTATION": "mutation", "LOSS-OF-FUNCTION": "loss_of_function",
               "LOSS OF FUNCTION": "loss_of_function", "WILD TYPE": "wild_type", "WILDTYPE": "wild_type",
               "AMPLIFICATION": "amplification"}
FUSION_WORDS = {"FUSION", "FUSIONS", "REARRANGEMENT"}

_CHANGE = re.compile(r"^([A-Z])(\d+)([A-Z*])$")
_SPAN = re.compile(r"^([A-Z])(\d+)_([A-Z])(\d+)(DEL|DUP|INS[A-Z]+|DELINS[A-Z]+)$")
_SINGLE_DEL = re.compile(r"^([A-Z])(\d+)(DEL|DUP)$")
_RESIDUE = re.compile(r"^([A-Z])(\d+)$")
_RESIDUES = re.compile(r"^[A-Z]\d+(?:/[A-Z]\d+)+$")
_GENE_PAIR = re.compile(r"^([A-Z0-9]+)-([A-Z0-9]+)$")


@dataclass
class GeneLists:
    """What the product knows of each gene: reference proteins (panel) and gene_loci.tsv lists."""

    proteins: dict[str, str]
    copy_number: set[str]
    fusion_drivers: set[str]
    known: set[str]


@dataclass
class CivicImport:
    entries: list[dict]
    n_read: int                 # evidence items (rows) read
    n_imported: int             # items that became an entry or were merged into one
    n_merged: int               # of those, items merged into another item's entry
    skipped: dict[str, int]     # reason -> items


def load_gene_lists() -> GeneLists:
    """Panel proteins (GRCh38 bundle) and the gene_loci.tsv lists."""
    from ..reference.bundle import load_bundled_panel

    proteins = {tx.gene: tx.protein for tx in load_bundled_panel("GRCh38").transcripts}
    path = resources.files("krasannot.resources").joinpath("genes/gene_loci.tsv")
    with path.open("r", encoding="utf-8") as handle:
        loci = pd.read_csv(handle, sep="\t", dtype=str, comment="#").fillna("")
    lists = loci.groupby("gene")["lists"].agg(lambda v: set(";".join(v).split(";")))
    return GeneLists(proteins=proteins,
                     copy_number={g for g, s in lists.items() if "copy_number" in s},
                     fusion_drivers={g for g, s in lists.items() if "fusion_driver" in s},
                     known=set(lists.index) | set(proteins))


# ---------------------------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------------------------

def read_civic_tsv(path: str | Path) -> pd.DataFrame:
    """The TSV as strings (empty, not NaN), newer column names renamed to the 2018 ones.

    Newer dumps give a `molecular_profile` ("KRAS G12C") instead of gene + variant: split here.
    """
    try:
        table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, quoting=csv.QUOTE_NONE,
                            encoding="utf-8")
    except FileNotFoundError:
        raise InputFormatError("file not found", path=str(path)) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputFormatError(f"not a CIViC evidence TSV: {exc}", path=str(path),
                               hint="expected CIViC's nightly ClinicalEvidenceSummaries.tsv") from None
    table = table.rename(columns={k: v for k, v in COLUMN_ALIASES.items() if k in table and v not in table})
    if "molecular_profile" in table and "gene" not in table:
        profile = table["molecular_profile"].str.strip()
        table["gene"] = profile.str.split(" ", n=1).str[0]
        table["variant"] = profile.str.split(" ", n=1).str[1].fillna("")
    missing = [c for c in ["gene", "variant", *REQUIRED_COLUMNS] if c not in table]
    if missing:
        raise InputFormatError(f"not a CIViC evidence TSV: no column(s) {', '.join(missing)}", path=str(path),
                               line=1, hint="expected CIViC's nightly ClinicalEvidenceSummaries.tsv")
    for optional in ("drug_interaction_type", "nct_ids", "citation", "rating", "source_type"):
        if optional not in table:
            table[optional] = ""
    return table.assign(**{SKIPPED: ""})


def _skip(table: pd.DataFrame, mask, reason: str) -> pd.DataFrame:
    """Give `reason` to the rows of `mask` that have no reason yet (the first reason is the one counted)."""
    mask = np.asarray(mask, dtype=bool) & (table[SKIPPED] == "").to_numpy()
    return table.assign(**{SKIPPED: table[SKIPPED].where(~mask, reason)})


# ---------------------------------------------------------------------------------------------
# one step per field
# ---------------------------------------------------------------------------------------------

def screen_evidence(table: pd.DataFrame) -> pd.DataFrame:
    """direction and level from evidence type, direction, significance and CIViC level; skip the rest."""
    etype = table["evidence_type"].str.strip()
    keys = zip(etype, table["clinical_significance"].str.strip())
    direction = pd.Series([SIGNIFICANCE_DIRECTION.get(k, "") for k in keys], index=table.index)
    level = pd.Series([LEVEL_MAP.get((d, lvl.strip()), "") for d, lvl in zip(direction, table["evidence_level"])],
                      index=table.index)
    out = table.assign(direction=direction, level=level)
    out = _skip(out, out["evidence_status"].str.strip().str.lower() != "accepted", "not accepted")
    for kind in sorted(set(etype) - {"Predictive", "Prognostic"}):
        out = _skip(out, etype == kind, f"evidence type {kind or '(none)'}")
    out = _skip(out, out["evidence_direction"].str.strip() != "Supports", "direction is not Supports")
    out = _skip(out, direction == "", "clinical significance not mapped")
    out = _skip(out, level == "", "evidence level has no level on our scale")
    return out


_DRUG_SEPARATOR = re.compile(r",(?![^()]*\))")   # "BEZ235 (NVP-BEZ235, Dactolisib),ARRY-142886": two drugs
_ALIASES = re.compile(r"\s*\([^()]*\)\s*$")


def drug_names(text: str) -> tuple[str, ...]:
    """CIViC's drug list as lower-case names without the code names it puts in brackets
    ("Alectinib (CH5424802)" -> alectinib), so a drug is named as the curated base names it."""
    names = (_ALIASES.sub("", name).strip().lower() for name in _DRUG_SEPARATOR.split(text))
    return tuple(name for name in names if name)


def split_therapies(table: pd.DataFrame) -> pd.DataFrame:
    """therapies: a list of drug tuples per row (one for a combination, one per drug for substitutes)."""
    drugs = table["drugs"].apply(drug_names)
    interaction = table["drug_interaction_type"].str.strip().str.lower()
    several = drugs.str.len() > 1
    therapies = [
        [(PROGNOSTIC_THERAPY,)] if not names and d == "prognostic" else
        [names] if len(names) == 1 or kind == "combination" else
        [(n,) for n in names] if kind == "substitutes" else []
        for names, kind, d in zip(drugs, interaction, table["direction"])]
    out = table.assign(therapies=therapies)
    out = _skip(out, (drugs.str.len() == 0) & (table["direction"] != "prognostic"), "no therapy")
    out = _skip(out, several & (interaction == ""), "several drugs, combination or substitutes not stated")
    out = _skip(out, several & ~interaction.isin(["", "combination", "substitutes"]),
                "several drugs, sequential")
    return out


def map_tumour_types(table: pd.DataFrame, oncotree_codes: set[str]) -> pd.DataFrame:
    """tumor_type: the OncoTree code of the CIViC disease (DOID_TO_ONCOTREE), or skipped."""
    doid = table["doid"].str.strip().str.removeprefix("DOID:")
    code = doid.map(DOID_TO_ONCOTREE).fillna("")
    out = table.assign(tumor_type=code.where(code.isin(oncotree_codes), ""))
    pan = doid.isin(PAN_CANCER_DOIDS) | table["disease"].str.strip().str.lower().isin(PAN_CANCER_DISEASES)
    out = _skip(out, pan, "pan-cancer disease (no tumour-agnostic claim)")
    return _skip(out, out["tumor_type"] == "", "disease not mapped to OncoTree")


def variant_term(gene: str, variant: str, genes: GeneLists) -> tuple[dict | None, str]:
    """One CIViC gene + variant as a biomarker expression of ours, or (None, why not)."""
    words = " ".join(variant.upper().split())  # CIViC writes "EML4-ALK  V1180L" with two spaces too
    if (gene, words) in EXON_EVENTS:
        return _sequence_term(gene, EXON_EVENTS[(gene, words)], genes, [])
    if words in CLASS_WORDS:
        alteration = CLASS_WORDS[words]
        if alteration == "amplification":
            return ({"gene": gene, "alteration": alteration}, "") if gene in genes.copy_number else \
                (None, "gene not in the copy-number gene list")
        return _sequence_term(gene, alteration, genes, [])
    if m := _CHANGE.match(words):
        return _sequence_term(gene, f"p.{m[1]}{m[2]}{m[3]}", genes, [(m[1], int(m[2]))])
    if m := _SPAN.match(words):
        suffix = m[5].lower()[:3] + m[5][3:] if m[5].startswith("INS") else \
            "delins" + m[5][6:] if m[5].startswith("DELINS") else m[5].lower()
        return _sequence_term(gene, f"p.{m[1]}{m[2]}_{m[3]}{m[4]}{suffix}", genes,
                              [(m[1], int(m[2])), (m[3], int(m[4]))])
    if m := _SINGLE_DEL.match(words):
        return _sequence_term(gene, f"p.{m[1]}{m[2]}{m[3].lower()}", genes, [(m[1], int(m[2]))])
    if m := _RESIDUE.match(words):
        return _sequence_term(gene, words, genes, [(m[1], int(m[2]))])
    if _RESIDUES.match(words):
        residues = [(r[0], int(r[1:])) for r in words.split("/")]
        return _sequence_term(gene, "codons " + ",".join(str(n) for _, n in residues), genes, residues)
    return _fusion_term(gene, words, genes)


def _sequence_term(gene: str, alteration: str, genes: GeneLists, residues: list[tuple[str, int]]):
    protein = genes.proteins.get(gene)
    if protein is None:
        return None, "gene not in the panel"
    for amino_acid, number in residues:
        if number > len(protein) or protein[number - 1] != amino_acid:
            return None, "residue differs from the panel's reference protein"
    return {"gene": gene, "alteration": alteration}, ""


def _fusion_term(gene: str, words: str, genes: GeneLists):
    """EML4-ALK, ALK FUSION(S), REARRANGEMENT, optionally followed by one change of the driver gene."""
    head, _, change = words.partition(" ")
    if head in FUSION_WORDS and not change:
        driver, partner, change = gene, "", ""
    elif head == gene and change.split(" ")[0] in FUSION_WORDS:
        driver, partner, change = gene, "", change.partition(" ")[2]
    elif (pair := _GENE_PAIR.match(head)) and gene in (pair[1], pair[2]):
        driver, partner = gene, pair[2] if pair[1] == gene else pair[1]
        change = "" if change in FUSION_WORDS else change   # "ETV6-NTRK3 FUSION"
    else:
        return None, "variant not in the term grammar"
    if driver not in genes.fusion_drivers:
        return None, "gene not in the fusion gene list"
    if partner and partner not in genes.known:
        return None, "fusion partner not in the gene list"
    fusion = {"gene": driver, "alteration": "fusion", **({"partner": partner} if partner else {})}
    if not change:
        return fusion, ""
    if not (_CHANGE.match(change) or _RESIDUE.match(change)):
        return None, "fusion with a change not in the term grammar"
    term, reason = variant_term(driver, change, genes)
    return ({"all": [fusion, term]}, "") if term else (None, reason)


def map_variants(table: pd.DataFrame, genes: GeneLists) -> pd.DataFrame:
    """biomarker: the expression of each row's gene + variant, with the item's origin on its terms."""
    pairs = {(g.strip(), v.strip()) for g, v in zip(table["gene"], table["variant"])}
    mapped = {pair: variant_term(*pair, genes) for pair in pairs}
    origin_text = table["variant_origin"].str.strip()
    biomarkers, reasons = [], []
    for gene, variant, origin in zip(table["gene"].str.strip(), table["variant"].str.strip(), origin_text):
        expression, reason = mapped[(gene, variant)]
        biomarkers.append(_with_origin(expression, ORIGIN_MAP.get(origin, "")) if expression else None)
        reasons.append(reason)
    out = table.assign(biomarker=biomarkers)
    out = _skip(out, origin_text.isin(SKIPPED_ORIGINS), "germline polymorphism")
    for reason in sorted(set(reasons) - {""}):
        out = _skip(out, np.array(reasons) == reason, reason)
    return out


def _with_origin(expression: dict, origin: str) -> dict:
    """The origin on every call-level term (not on wild_type: an absence has no origin)."""
    if not origin:
        return expression
    if "all" in expression:
        return {"all": [_with_origin(sub, origin) for sub in expression["all"]]}
    return expression if expression["alteration"] == "wild_type" else {**expression, "origin": origin}


# ---------------------------------------------------------------------------------------------
# entries
# ---------------------------------------------------------------------------------------------

def _citations(row) -> list[dict]:
    note = (f"CIViC evidence level {row['evidence_level']} ({CIVIC_LEVEL_MEANING.get(row['evidence_level'], '?')})"
            f", {row['evidence_direction']} {row['clinical_significance']}"
            + (f", rating {row['rating']}/5" if row["rating"] else ""))
    out = [{"type": "CIViC", "id": f"EID{row['evidence_id']}", "note": note}]
    source = row["source_type"].strip().lower()
    if row["pubmed_id"].strip() and source in ("", "pubmed"):
        out.append({"type": "PMID", "id": row["pubmed_id"].strip(), **({"note": row["citation"].strip()}
                                                                       if row["citation"].strip() else {})})
    elif row.get("evidence_civic_url", ""):
        out.append({"type": "URL", "id": row["evidence_civic_url"], "note": f"{row['source_type']} "
                                                                             f"{row['pubmed_id']}".strip()})
    out += [{"type": "NCT", "id": n.strip()} for n in row["nct_ids"].split(",") if n.strip()]
    return out


def _entry(row, drugs: tuple[str, ...], entry_id: str) -> dict:
    level = row["evidence_level"]
    outcome = row["clinical_significance"].lower() if row["direction"] == "prognostic" else ""
    statement = " ".join(row["evidence_statement"].split())
    if len(statement) < 10:
        statement = f"CIViC EID{row['evidence_id']}: {row['gene']} {row['variant']} in {row['disease']}."
    entry = {
        "id": entry_id, "source": "civic", "tumor_types": [row["tumor_type"]], "biomarker": row["biomarker"],
        "therapy": {"drugs": list(drugs), "direction": row["direction"]}, "level": row["level"],
        "context": (f"CIViC {row['evidence_type'].lower()} evidence, level {level} "
                    f"({CIVIC_LEVEL_MEANING[level]}): {row['clinical_significance']} in {row['disease']}"
                    f" (DOID:{row['doid']})"),
        "caveats": [f"CIViC level {level}: {CIVIC_LEVEL_MEANING[level]}", *([outcome] if outcome else [])],
        "citations": _citations(row), "summary": statement,
        "last_reviewed": row["last_review_date"].strip()[:10],
    }
    return entry


def civic_entries(table: pd.DataFrame) -> tuple[list[dict], pd.DataFrame]:
    """Entries of the rows not skipped; items saying the same thing (biomarker, therapy, direction,
    tumour type) merged into the entry of the best level (then lowest EID), citations of all kept.

    Returns the entries, and the table where a row none of whose entries was kept says 'merged'.
    """
    kept = table[table[SKIPPED] == ""]
    groups: dict[tuple, list[tuple[int, int, dict]]] = {}
    for index, row in kept.iterrows():
        substitutes = len(row["therapies"]) > 1
        for k, drugs in enumerate(row["therapies"], start=1):
            entry = _entry(row, drugs, f"civic-eid{row['evidence_id']}" + (f"-{k}" if substitutes else ""))
            key = (json.dumps(entry["biomarker"], sort_keys=True), drugs, row["direction"], row["tumor_type"])
            groups.setdefault(key, []).append((LEVEL_ORDER[entry["level"]], int(row["evidence_id"]), index, entry))
    entries, leading_rows, member_rows = [], set(), set()
    for members in groups.values():
        members.sort(key=lambda m: m[:2])
        *_, lead_index, lead = members[0]
        for *_, index, other in members[1:]:
            lead["citations"] += [c for c in other["citations"] if c not in lead["citations"]]
            lead["last_reviewed"] = max(lead["last_reviewed"], other["last_reviewed"])
            member_rows.add(index)
        leading_rows.add(lead_index)
        entries.append((members[0][1], lead))
    merged = table.index.isin(list(member_rows - leading_rows))
    table = _skip(table, merged, MERGED)
    return [e for _, e in sorted(entries, key=lambda pair: (pair[0], pair[1]["id"]))], table


def import_civic(path: str | Path, genes: GeneLists | None = None) -> CivicImport:
    """The whole import: read, screen, therapies, tumour types, variants, entries, counts."""
    from .oncotree import load_oncotree

    genes = genes or load_gene_lists()
    table = read_civic_tsv(path)
    bad_id = ~table["evidence_id"].str.strip().str.fullmatch(r"\d+")
    if bad_id.any():
        line = int(np.flatnonzero(bad_id.to_numpy())[0]) + 2
        raise InputFormatError("evidence_id is not a number", path=str(path), line=line)
    table = screen_evidence(table)
    table = split_therapies(table)
    table = map_tumour_types(table, set(load_oncotree().names))
    table = map_variants(table, genes)
    table = _check_dates(table, path)
    entries, table = civic_entries(table)
    reasons = table.loc[~table[SKIPPED].isin(["", MERGED]), SKIPPED].value_counts()
    n_merged = int((table[SKIPPED] == MERGED).sum())
    return CivicImport(entries=entries, n_read=len(table), n_imported=int((table[SKIPPED] == "").sum()) + n_merged,
                       n_merged=n_merged,
                       skipped={str(k): int(v) for k, v in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))})


def _check_dates(table: pd.DataFrame, path) -> pd.DataFrame:
    """last_review_date must start with an ISO date; a row without one is skipped, not guessed."""
    day = table["last_review_date"].str.strip().str[:10]
    valid = pd.to_datetime(day, format="%Y-%m-%d", errors="coerce").notna()
    return _skip(table, ~valid.to_numpy(), "no review date")


def write_civic_yaml(result: CivicImport, source: str | Path, out: str | Path) -> None:
    """The entries as one evidence file (no version keys), with a header saying where they come from."""
    import yaml   # here, not at the top: only an import writes YAML, and `kb import-civic` sits on every run's parser

    from ..files import atomic_output

    header = [f"# Imported by `krasannot kb import-civic` on {dt.date.today().isoformat()} from {Path(source).name}",
              "# Source: CIViC (https://civicdb.org), CC0 1.0. Mapping: src/krasannot/evidence/civic.py.",
              *(f"# {line}" for line in import_counts(result))]
    body = yaml.safe_dump({"entries": result.entries}, sort_keys=False, allow_unicode=True, width=110)
    with atomic_output(out) as handle:
        handle.write("\n".join(header) + "\n" + body)


def import_counts(result: CivicImport) -> list[str]:
    """Read, imported, skipped by reason: the lines the command prints and the file's header keeps."""
    n_skipped = sum(result.skipped.values())
    lines = [f"read {result.n_read} evidence items",
             f"imported {result.n_imported} as {len(result.entries)} entries "
             f"({result.n_merged} merged into an entry saying the same thing)",
             f"skipped {n_skipped}:"]
    return lines + [f"  {count:5d}  {reason}" for reason, count in result.skipped.items()]
