"""Classification of annotated calls: one pure, vectorized step per column, and the per-sample summary.

Classes describe the allele; whether a call counts (detected, PASS) is the matcher's business, so
a not_detected hotspot row still says which allele was tested.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd

from .. import columns as C
from .. import models as M
from ..io.targets import recurrent_residues

LOSS_OF_FUNCTION_TERMS = ("stop_gained", "frameshift_variant", "splice_acceptor_variant", "splice_donor_variant",
                          "start_lost", "transcript_ablation")
INFRAME_TERMS = ("inframe_insertion", "inframe_deletion", "stop_lost")
PROTEIN_ALTERING = (M.FUNCTIONAL_LOSS_OF_FUNCTION, M.FUNCTIONAL_MISSENSE, M.FUNCTIONAL_INFRAME)
COMUTATION_GENES = ("STK11", "KEAP1", "TP53")
PASSING_FILTERS = ("PASS", ".", "")
LOW_VAF = 0.05  # below this a call is shown with a low_vaf caveat (tissue panels' usual limit of detection)
# clonal haematopoiesis: blood-cell variants sit at low VAF in plasma (Razavi et al., Nat Med 2019, PMID 31768066);
# which panel genes are CH-prone is data, with its source: resources/hotspots/clonal_haematopoiesis_genes.tsv.
# A possible, not a proven, CH call
CH_MAX_VAF = 0.10
# germline: a call on the shipped list (resources/germline/common_germline.tsv) is a polymorphism, common by
# population frequency or known benign in ClinVar; it is listed, never a co-mutation or evidence
ORIGIN_GERMLINE = "germline"
ORIGIN_POLYMORPHISM = "germline_polymorphism"   # population AF >= 0.1 % and ClinVar benign
ORIGIN_KNOWN_BENIGN = "known_benign"            # ClinVar benign, no frequency in the source
NOT_A_FINDING_ORIGINS = (ORIGIN_POLYMORPHISM, ORIGIN_KNOWN_BENIGN)
# tumour-only: a VAF near 50 % or 100 % in a gene with known germline pathogenic variants may be germline
GERMLINE_PREDISPOSITION_GENES = ("BRCA1", "BRCA2", "ATM", "TP53", "CDKN2A", "PTEN", "RB1", "STK11")
HETEROZYGOUS_VAF, HOMOZYGOUS_VAF = (0.40, 0.60), 0.90


def load_clonal_haematopoiesis_genes() -> tuple[str, ...]:
    """Genes whose low-VAF plasma calls are flagged possible_clonal_haematopoiesis (flag = yes in the TSV)."""
    path = resources.files("krasannot.resources").joinpath("hotspots/clonal_haematopoiesis_genes.tsv")
    with path.open("r", encoding="utf-8") as handle:
        table = pd.read_csv(handle, sep="\t", comment="#", dtype=str)
    return tuple(table.loc[table["flag"] == "yes", "gene"])


CH_GENES = load_clonal_haematopoiesis_genes()


def load_recurrent_residues() -> pd.DataFrame:
    """resources/hotspots/recurrent_residues.tsv: gene, residue (G12), with residue number split out."""
    return recurrent_residues()


def load_common_germline() -> pd.DataFrame:
    """resources/germline/common_germline.tsv: gene, hgvsp_short, hgvsc, rsid, population_af, source,
    evidence (the tier: AF>=... rows are common, ClinVar_benign... rows are known benign without a frequency)."""
    path = resources.files("krasannot.resources").joinpath("germline/common_germline.tsv")
    with path.open("r", encoding="utf-8") as handle:
        return pd.read_csv(handle, sep="\t", dtype=str, keep_default_na=False)


@lru_cache(maxsize=1)
def _germline_tiers() -> tuple[dict[str, str], dict[str, str]]:
    """'GENE c.change' -> origin, and 'GENE p.change' -> origin, from the common germline list (read once)."""
    table = load_common_germline()
    tier = pd.Series(np.where(table["evidence"].str.startswith("AF>="), ORIGIN_POLYMORPHISM, ORIGIN_KNOWN_BENIGN))
    return (dict(zip(table["gene"] + " " + table["hgvsc"], tier)),
            dict(zip(table["gene"] + " " + table["hgvsp_short"], tier)))


def classify_germline(annotated: pd.DataFrame) -> pd.DataFrame:
    """origin: germline_polymorphism (or known_benign, by the list's tier) for a call on the common germline
    list, matched on gene and c. change (on the p. change for a call by name, which has no c.)."""
    by_c, by_p = _germline_tiers()
    gene = annotated[C.GENE].fillna("").astype(str) + " "
    hgvsc = annotated[C.HGVSC].fillna("").astype(str)
    listed = (gene + hgvsc).map(by_c).where(hgvsc != "", (gene + annotated[C.HGVSP_SHORT].fillna("").astype(str))
                                            .map(by_p)).fillna("").to_numpy(dtype=object)
    variant = (annotated[C.CALL_TYPE].fillna(M.CALL_TYPE_VARIANT) == M.CALL_TYPE_VARIANT).to_numpy()
    origin = annotated[C.ORIGIN].fillna("").astype(str).to_numpy(dtype=object)
    return annotated.assign(**{C.ORIGIN: np.where(variant & (listed != ""), listed, origin)})


def load_lof_missense() -> pd.DataFrame:
    """resources/hotspots/lof_missense.tsv: curated, cited missense changes that are loss of function
    (gene, change: a residue such as D194 or an exact change such as p.G333C, source)."""
    path = resources.files("krasannot.resources").joinpath("hotspots/lof_missense.tsv")
    with path.open("r", encoding="utf-8") as handle:
        return pd.read_csv(handle, sep="\t", comment="#", dtype=str)


@lru_cache(maxsize=1)
def _lof_missense_keys() -> tuple[frozenset, frozenset]:
    """(gene, exact change) and (gene, residue number) pairs of the curated list (read once)."""
    table = load_lof_missense()
    exact = table["change"].str.startswith("p.")
    return (frozenset(zip(table.loc[exact, "gene"], table.loc[exact, "change"])),
            frozenset(zip(table.loc[~exact, "gene"], table.loc[~exact, "change"].str[1:].astype(int))))


def _curated_loss_of_function(annotated: pd.DataFrame) -> np.ndarray:
    """Rows whose missense change is on the curated loss-of-function list (a residue, or an exact change)."""
    changes, residues = _lof_missense_keys()

    def on_list(distinct: pd.DataFrame) -> np.ndarray:
        by_change = pd.Series(list(zip(distinct[C.GENE], distinct[C.HGVSP_SHORT]))).isin(changes)
        by_residue = pd.Series(list(zip(distinct[C.GENE], _residue_numbers_of(distinct)))).isin(residues)
        return (by_change | by_residue).to_numpy()
    return per_distinct(annotated[[C.GENE, C.HGVSP_SHORT, C.PROTEIN_POSITION, C.ALTERATION]], on_list)


def _first_term(consequence: pd.Series) -> pd.Series:
    return consequence.fillna("").astype(str).str.split("&").str[0]


def classify_function(annotated: pd.DataFrame) -> pd.DataFrame:
    """functional_class from the most severe consequence (and deep deletions as loss of function)."""
    first = _first_term(annotated[C.CONSEQUENCE])
    # a call by name (ctDNA "BRCA2 S1982fs", "Q61*") has no consequence: its words say truncating
    by_name = (first == "") & (annotated[C.CALL_TYPE] == M.CALL_TYPE_VARIANT)
    truncating_words = annotated[C.ALTERATION].fillna("").astype(str).str.contains(
        r"(?:fs|\*|[0-9]X|Ter)(?:\*?\d*)?$", regex=True)
    inframe_words = annotated[C.ALTERATION].fillna("").astype(str).str.contains(
        r"exon\s*\d+\s*(?:del|ins|dup)|ex\d+(?:del|ins)", case=False, regex=True)
    first = first.where(~(by_name & truncating_words), "stop_gained")
    first = first.where(~(by_name & inframe_words & ~truncating_words), "inframe_deletion")
    is_annotated = (annotated[C.STATUS] == M.STATUS_ANNOTATED).to_numpy()
    functional = np.select(
        [first.isin(LOSS_OF_FUNCTION_TERMS), first == "missense_variant", first.isin(INFRAME_TERMS),
         first.isin(["synonymous_variant", "stop_retained_variant"]),
         annotated[C.CALL_TYPE].isin([M.CALL_TYPE_COPY_NUMBER, M.CALL_TYPE_FUSION]) | (first == "")],
        [M.FUNCTIONAL_LOSS_OF_FUNCTION, M.FUNCTIONAL_MISSENSE, M.FUNCTIONAL_INFRAME, M.FUNCTIONAL_SYNONYMOUS, ""],
        M.FUNCTIONAL_NON_CODING)
    # a kinase-dead or NRF2-binding-dead missense (curated, cited) is a loss of function like a truncation
    functional = np.where((functional == M.FUNCTIONAL_MISSENSE) & _curated_loss_of_function(annotated),
                          M.FUNCTIONAL_LOSS_OF_FUNCTION, functional)
    return annotated.assign(**{C.FUNCTIONAL_CLASS: np.where(is_annotated, functional, "")})


def per_distinct(columns: pd.DataFrame, function) -> np.ndarray:
    """function over the distinct rows of `columns` (as text, empty for missing), spread back to every row:
    a cohort repeats the same few hundred alleles, so string parsing runs on those, not on every call."""
    text = columns.fillna("").astype(str)
    key = np.zeros(len(text), dtype=np.int64)
    for name in text.columns:  # one code per distinct combination, kept below the row count
        codes, distinct = pd.factorize(text[name], sort=False)
        key = pd.factorize(key * max(len(distinct), 1) + codes, sort=False)[0]
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    return np.asarray(function(text.iloc[first].reset_index(drop=True)))[inverse.reshape(-1)]


def residue_numbers(annotated: pd.DataFrame) -> pd.Series:
    """First residue of the protein change (746 of 746-750); for a call by name ("KRAS G12 not
    detected") the residue its words give; 0 where there is none (a whole-gene call)."""
    return pd.Series(per_distinct(annotated[[C.PROTEIN_POSITION, C.ALTERATION]], _residue_numbers_of),
                     index=annotated.index, dtype=np.int64)


def _residue_numbers_of(rows: pd.DataFrame) -> np.ndarray:
    first = rows[C.PROTEIN_POSITION].fillna("").astype(str).str.extract(r"^(\d+)")[0]
    named = rows[C.ALTERATION].fillna("").astype(str).str.extract(r"\b[A-Z*](\d+)(?:[A-Z*]|\b)")[0]
    return pd.to_numeric(first.fillna(named), errors="coerce").fillna(0).astype(np.int64).to_numpy()


def classify_hotspot(annotated: pd.DataFrame, residues: pd.DataFrame | None = None) -> pd.DataFrame:
    """hotspot: a protein-altering change starting at a recurrent residue of its gene."""
    residues = load_recurrent_residues() if residues is None else residues
    keys = set(zip(residues["gene"], residues["position"]))

    def recurrent(distinct: pd.DataFrame) -> np.ndarray:
        return np.fromiter((k in keys for k in zip(distinct[C.GENE], _residue_numbers_of(distinct))), bool,
                           count=len(distinct))
    at_residue = per_distinct(annotated[[C.GENE, C.PROTEIN_POSITION, C.ALTERATION]], recurrent)
    altering = annotated[C.FUNCTIONAL_CLASS].isin(PROTEIN_ALTERING).to_numpy()
    return annotated.assign(**{C.HOTSPOT: at_residue & altering})


def classify_kras_allele(annotated: pd.DataFrame) -> pd.DataFrame:
    """kras_allele: G12C, G13D, Q61H ... for a protein-altering KRAS change."""
    is_kras = ((annotated[C.GENE] == "KRAS") & annotated[C.FUNCTIONAL_CLASS].isin(PROTEIN_ALTERING)
               & ~annotated[C.ORIGIN].isin(NOT_A_FINDING_ORIGINS))
    allele = annotated[C.HGVSP_SHORT].fillna("").astype(str).str.removeprefix("p.")
    return annotated.assign(**{C.KRAS_ALLELE: allele.where(is_kras, "")})


def classify_comutation(annotated: pd.DataFrame) -> pd.DataFrame:
    """comutation for STK11, KEAP1, TP53: loss_of_function, or missense (in-frame changes count as missense).
    A germline polymorphism or known-benign change is never a co-mutation."""
    functional = annotated[C.FUNCTIONAL_CLASS]
    comutation = np.select([functional == M.FUNCTIONAL_LOSS_OF_FUNCTION,
                            functional.isin([M.FUNCTIONAL_MISSENSE, M.FUNCTIONAL_INFRAME])],
                           ["loss_of_function", "missense"], "")
    counts = annotated[C.GENE].isin(COMUTATION_GENES) & ~annotated[C.ORIGIN].isin(NOT_A_FINDING_ORIGINS)
    return annotated.assign(**{C.COMUTATION: np.where(counts, comutation, "")})


def flag_caveats(annotated: pd.DataFrame, specimen: str = "tissue") -> pd.DataFrame:
    """caveats a reader of the call should see: filtered, low_vaf, possible_clonal_haematopoiesis
    (a low-VAF call in a CH-prone gene such as TP53 or BRCA2 in plasma: a specimen of plasma, or a call
    from a ctDNA table); germline ones: common_germline_polymorphism and known_benign (on the shipped list),
    germline (in the matched normal), possible_germline (tumour-only, VAF near 50 % or 100 % in a
    predisposition gene: confirm with a normal)."""
    vaf = pd.to_numeric(annotated[C.VAF], errors="coerce")
    origin = annotated[C.ORIGIN].fillna("").astype(str)
    detected_variant = ((annotated[C.DETECTION] == M.DETECTION_DETECTED)
                        & (annotated[C.CALL_TYPE] == M.CALL_TYPE_VARIANT))
    germline_like = ((vaf >= HETEROZYGOUS_VAF[0]) & (vaf <= HETEROZYGOUS_VAF[1])) | (vaf >= HOMOZYGOUS_VAF)
    flags = {
        "common_germline_polymorphism": origin == ORIGIN_POLYMORPHISM,
        "known_benign": origin == ORIGIN_KNOWN_BENIGN,
        "germline": origin == ORIGIN_GERMLINE,
        "possible_germline": ((origin == "") & detected_variant & germline_like.fillna(False)
                              & annotated[C.GENE].isin(GERMLINE_PREDISPOSITION_GENES)
                              & annotated[C.FUNCTIONAL_CLASS].isin(PROTEIN_ALTERING)),
        "filtered": ~annotated[C.FILTER].fillna("").astype(str).isin(PASSING_FILTERS),
        "low_vaf": (vaf < LOW_VAF).fillna(False) & (annotated[C.DETECTION] != M.DETECTION_NOT_DETECTED),
        "possible_clonal_haematopoiesis": (
            ((annotated[C.SOURCE] == "ctdna") | (specimen == "plasma")) & annotated[C.GENE].isin(CH_GENES)
            & (vaf < CH_MAX_VAF).fillna(False) & (annotated[C.CALL_TYPE] == M.CALL_TYPE_VARIANT)),
    }
    caveats = pd.Series("", index=annotated.index)
    for name, flagged in flags.items():
        caveats = caveats.where(~flagged.to_numpy(), caveats + ";" + name)
    return annotated.assign(**{C.CAVEATS: caveats.str.lstrip(";")})


def classify_calls(annotated: pd.DataFrame, specimen: str = "tissue") -> pd.DataFrame:
    """All classification columns. resistance stays empty: it is claimed only in context, after matching
    (evidence.match.contextual_resistance)."""
    missing = {c: "" for c in C.ANNOTATED_TSV_COLUMNS if c not in annotated}  # optional input columns
    out = classify_function(annotated.assign(**missing) if missing else annotated)
    out = classify_germline(out)
    out = classify_hotspot(out)
    out = classify_kras_allele(out)
    out = classify_comutation(out)
    out = flag_caveats(out, specimen)
    if C.RESISTANCE not in out:
        out[C.RESISTANCE] = ""
    return out


def counted_calls(annotated: pd.DataFrame, include_filtered: bool = False) -> pd.Series:
    """Rows that are a detected, annotated call (PASS unless include_filtered): what findings are made of.
    A germline polymorphism or known-benign change is listed but is no finding: it never counts."""
    ok = ((annotated[C.STATUS] == M.STATUS_ANNOTATED) & (annotated[C.DETECTION] == M.DETECTION_DETECTED)
          & ~annotated[C.ORIGIN].isin(NOT_A_FINDING_ORIGINS))
    if not include_filtered:
        ok &= annotated[C.FILTER].fillna("").astype(str).isin(PASSING_FILTERS)
    return ok


def assessed_residues(annotated: pd.DataFrame) -> dict[str, set]:
    """(sample, gene) -> residues assayed wild-type (not_detected rows); "gene" in the set for a whole-gene claim."""
    rows = annotated.loc[annotated[C.DETECTION] == M.DETECTION_NOT_DETECTED,
                         [C.SAMPLE, C.GENE, C.PROTEIN_POSITION, C.ALTERATION]]
    out: dict[str, set] = {}
    for sample, gene, position in zip(rows[C.SAMPLE].tolist(), rows[C.GENE].fillna("").tolist(),
                                      residue_numbers(rows).tolist()):
        out.setdefault((sample, gene), set()).add(int(position) if position else "gene")
    return out


def _joined_per_sample(samples: pd.Series, words: pd.Series, sep: str) -> pd.Series:
    """sample -> its distinct words joined by `sep`, in row order (the first occurrence counts)."""
    pairs = pd.DataFrame({"sample": samples.to_numpy(), "word": words.to_numpy()}).drop_duplicates()
    return pairs.groupby("sample", sort=False)["word"].agg(sep.join)


def _kras_status(counted: pd.DataFrame, assessed: dict, names: list) -> list[str]:
    """KRAS alleles then KRAS amplification, each once; else wild_type where assayed; else not_assessed."""
    allele = counted[C.KRAS_ALLELE]
    has_allele = allele.notna().to_numpy() & (allele.astype(str) != "").to_numpy()
    amplified = ((counted[C.GENE] == "KRAS") & (counted[C.CN_STATE] == M.CN_AMPLIFICATION)).to_numpy()
    words = pd.concat([allele[has_allele].astype(str), "KRAS " + counted.loc[amplified, C.CN_STATE].astype(str)])
    samples = pd.concat([counted.loc[has_allele, C.SAMPLE], counted.loc[amplified, C.SAMPLE]])
    found = _joined_per_sample(samples, words, ";").to_dict()
    status = []
    for sample in names:
        assayed = assessed.get((sample, "KRAS"), set())
        status.append(found.get(sample) or ("wild_type" if "gene" in assayed or {12, 13, 61} <= assayed
                                            else "not_assessed"))
    return status


def _comutation_status(counted: pd.DataFrame, gene: str, assessed: dict, names: list) -> list[str]:
    """loss_of_function over missense; else wild_type with a gene-level not-detected row; else not_assessed."""
    comutation = counted[C.COMUTATION]
    mutated = counted[(counted[C.GENE] == gene).to_numpy() & comutation.notna().to_numpy()
                      & (comutation.astype(str) != "").to_numpy()]
    lost = set(mutated.loc[mutated[C.COMUTATION] == "loss_of_function", C.SAMPLE])
    altered = set(mutated[C.SAMPLE])
    return ["loss_of_function" if sample in lost else "missense" if sample in altered else
            "wild_type" if "gene" in assessed.get((sample, gene), set()) else "not_assessed" for sample in names]


def _resistance_alterations(matches: pd.DataFrame | None, names: list) -> list[str]:
    """The calls of each sample's matched resistant entries, in words ("" without matches: no context)."""
    if matches is None or not len(matches):
        return [""] * len(names)
    resistant = matches[(matches[C.DIRECTION] == "resistant") & (matches[C.ASSESSMENT] == "matched")]
    words = pd.Series([f"{calls.replace('; ', ' + ')}: resistant to {therapy} in this tumour type ({entry_id}, {level})"
                       for calls, therapy, entry_id, level in zip(resistant[C.MATCHED_CALLS], resistant[C.THERAPY],
                                                                  resistant[C.EVIDENCE_ID], resistant[C.LEVEL])],
                      dtype=object)
    found = _joined_per_sample(resistant[C.SAMPLE], words, "; ").to_dict()
    return [found.get(sample, "") for sample in names]


def summarize_samples(annotated: pd.DataFrame, matches: pd.DataFrame | None = None,
                      include_filtered: bool = False, samples: list[str] | None = None) -> pd.DataFrame:
    """One row per sample: KRAS status, STK11/KEAP1/TP53 status, resistance alterations.

    Resistance alterations are the calls of the sample's matched resistant entries (its tumour type, its
    co-alterations, its prior therapy), in words; without `matches` there is no context, so no claim.
    `samples`: every named sample gets a row, also one with no calls at all (all not_assessed).

    KRAS is wild_type only where assayed: a gene-level not-detected row, or not-detected rows at
    codons 12, 13 and 61; STK11/KEAP1/TP53 only with a gene-level row. Otherwise not_assessed.
    Each column is computed for the whole cohort at once (grouped by sample), not sample by sample.
    """
    counted = annotated.loc[counted_calls(annotated, include_filtered),   # the columns read, not all
                            [C.SAMPLE, C.GENE, C.KRAS_ALLELE, C.CN_STATE, C.COMUTATION]]
    assessed = assessed_residues(annotated)
    names = list(dict.fromkeys(samples)) if samples is not None else list(pd.unique(annotated[C.SAMPLE].dropna()))
    columns = {C.SAMPLE: names, C.KRAS_STATUS: _kras_status(counted, assessed, names)}
    for gene, column in (("STK11", C.STK11_STATUS), ("KEAP1", C.KEAP1_STATUS), ("TP53", C.TP53_STATUS)):
        columns[column] = _comutation_status(counted, gene, assessed, names)
    columns[C.RESISTANCE_ALTERATIONS] = _resistance_alterations(matches, names)
    return pd.DataFrame(columns, columns=C.SAMPLE_SUMMARY_COLUMNS)


def describe_call(row) -> str:
    """'KRAS p.G12C', 'MET amplification', 'EML4::ALK fusion', or the input's own words."""
    if row.get(C.CALL_TYPE) == M.CALL_TYPE_FUSION:
        return f"{row.get(C.FUSION_5P, '')}::{row.get(C.FUSION_3P, '')} fusion"
    if row.get(C.CALL_TYPE) == M.CALL_TYPE_COPY_NUMBER:
        return f"{row.get(C.GENE, '')} {str(row.get(C.CN_STATE, '')).replace('_', ' ')}"
    change = row.get(C.HGVSP_SHORT) or row.get(C.HGVSC) or row.get(C.ALTERATION) or ""
    gene = row.get(C.GENE) or ""
    return f"{gene} {change}".strip() if not str(change).startswith(gene + " ") else str(change)
