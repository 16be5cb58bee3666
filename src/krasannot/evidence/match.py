"""The matcher: classified calls of a whole cohort x the evidence base -> the matches table.

Vectorized over samples: each biomarker term is evaluated once over every call of every sample
(numpy masks), reduced per sample, and combined in three-valued logic, because a wild-type term
over a region nobody assayed is neither true nor false but "not assessed".
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from .. import columns as C
from .. import models as M
from ..annotate.classify import (PROTEIN_ALTERING, counted_calls, describe_call, load_recurrent_residues,
                                 per_distinct, residue_numbers)
from .kb import Entry, KnowledgeBase, Term
from .levels import LEVEL_ORDER, OFF_LABEL_LEVEL, OFF_LABEL_SOURCE_LEVELS, oncokb_level, stated_or_default
from .oncotree import TUMOUR_AGNOSTIC

FALSE, UNKNOWN, TRUE = 0, 1, 2   # three-valued logic: all = min, any = max, none = TRUE - max

# sample metadata the matcher reads (one row per sample)
SAMPLE_FACT_COLUMNS = [C.SAMPLE, C.TUMOR_TYPE, "specimen", "prior_therapies", "msi_high", "tmb"]


class CallFacts:
    """Columns of the annotated table as numpy arrays, computed once for all terms."""

    def __init__(self, annotated: pd.DataFrame, samples: pd.DataFrame, include_filtered: bool):
        self.n_samples = len(samples)
        codes = pd.Categorical(annotated[C.SAMPLE], categories=samples[C.SAMPLE]).codes
        self.sample_code = np.asarray(codes, dtype=np.int64)
        text = {c: annotated[c].fillna("").astype(str).to_numpy() for c in
                (C.GENE, C.HGVSP_SHORT, C.FUNCTIONAL_CLASS, C.CALL_TYPE, C.CN_STATE, C.FUSION_5P, C.FUSION_3P,
                 C.ORIGIN, C.EXON, C.INTRON, C.CONSEQUENCE, C.CAVEATS)}
        self.text = text
        self.alteration = _Distinct(annotated[C.ALTERATION].fillna("").astype(str).str.lower())
        self.counted = counted_calls(annotated, include_filtered).to_numpy() & (self.sample_code >= 0)
        self.not_detected = (annotated[C.DETECTION] == M.DETECTION_NOT_DETECTED).to_numpy() & (self.sample_code >= 0)
        self.residue = residue_numbers(annotated).to_numpy()
        self.exon = per_distinct(annotated[[C.EXON]], lambda u: _number_of(u[C.EXON]))
        self.intron = per_distinct(annotated[[C.INTRON]], lambda u: _number_of(u[C.INTRON]))
        self.altering = np.isin(text[C.FUNCTIONAL_CLASS], PROTEIN_ALTERING)
        self.hotspot = annotated[C.HOTSPOT].astype(str).str.lower().isin(["true", "1"]).to_numpy()
        self.vaf = pd.to_numeric(annotated[C.VAF], errors="coerce").to_numpy(dtype=float)
        self.first_consequence = per_distinct(annotated[[C.CONSEQUENCE]],
                                               lambda u: u[C.CONSEQUENCE].fillna("").astype(str).str.split("&").str[0])
        self._annotated = annotated
        self._codes: dict[str, tuple[np.ndarray, dict[str, int]]] = {}
        self.masks: dict[Term, np.ndarray] = {}   # call_mask per term, computed once

    @functools.cached_property
    def labels(self) -> np.ndarray:
        """'KRAS p.G12C (VAF 0.31)' per row: only a matches table (and the safety check) needs them."""
        return _call_labels(self._annotated)

    def labels_of(self, rows: np.ndarray) -> np.ndarray:
        """labels of some rows, without labelling the whole cohort."""
        if "labels" in self.__dict__:
            return self.labels[rows]
        return _call_labels(self._annotated, rows)

    def isin(self, column: str, values) -> np.ndarray:
        """np.isin(text[column], values) on integer codes: comparing Python strings row by row is the
        matcher's slowest step on a large cohort."""
        if column not in self._codes:
            codes, distinct = pd.factorize(self.text[column], sort=False)
            self._codes[column] = (np.asarray(codes), {v: i for i, v in enumerate(distinct)})
        codes, index = self._codes[column]
        return np.isin(codes, [index[v] for v in values if v in index])

    def per_sample(self, mask: np.ndarray) -> np.ndarray:
        """Whether each sample has a row in `mask`."""
        return np.bincount(self.sample_code[mask], minlength=self.n_samples) > 0


class _Distinct:
    """A text column as its distinct values + codes; .contains(pattern) matches the values once."""

    def __init__(self, column: pd.Series):
        codes, self.values = pd.factorize(column, sort=False)
        self.codes = np.asarray(codes)

    def contains(self, pattern: str, regex: bool = False) -> np.ndarray:
        hits = pd.Series(self.values, dtype=object).str.contains(pattern, regex=regex).to_numpy(dtype=bool)
        return hits[self.codes] if len(hits) else np.zeros(len(self.codes), dtype=bool)


def _number_of(column: pd.Series) -> np.ndarray:
    """19 of '19/28'; 0 where empty."""
    first = column.fillna("").astype(str).str.extract(r"^(\d+)")[0]
    return pd.to_numeric(first, errors="coerce").fillna(0).astype(np.int64).to_numpy()


DESCRIBED_COLUMNS = (C.GENE, C.HGVSP_SHORT, C.HGVSC, C.ALTERATION, C.CALL_TYPE, C.CN_STATE, C.FUSION_5P,
                     C.FUSION_3P)


def _call_labels(annotated: pd.DataFrame, rows: np.ndarray | None = None) -> np.ndarray:
    """'KRAS p.G12C (VAF 0.31)' per row (of `rows` only, where given), for the matched_calls column."""
    columns = annotated[[c for c in (*DESCRIBED_COLUMNS, C.VAF) if c in annotated]]
    if rows is not None:   # the label's columns only: taking rows of every column costs more than labelling
        columns = columns.iloc[rows]
    described = columns[[c for c in DESCRIBED_COLUMNS if c in columns]]
    text = per_distinct(described, lambda u: [describe_call(r) for r in u.to_dict("records")])
    vaf = pd.to_numeric(columns[C.VAF], errors="coerce").to_numpy(dtype=float)
    return np.array([d + (f" (VAF {v:.3g})" if v == v else "") for d, v in zip(text, vaf)], dtype=object)


def call_mask(term: Term, facts: CallFacts) -> np.ndarray:
    """Rows (counted calls) that satisfy a call-level term, before sample-level conditions."""
    if term not in facts.masks:
        facts.masks[term] = _call_mask(term, facts)
    return facts.masks[term]


def _call_mask(term: Term, facts: CallFacts) -> np.ndarray:
    t = facts.text
    gene_in = facts.isin(C.GENE, term.genes)
    kind = term.kind
    if kind == "exact":
        mask = gene_in & (t[C.HGVSP_SHORT] == term.protein)
    elif kind in ("residue", "codons"):
        mask = gene_in & facts.altering & np.isin(facts.residue, term.residues)
    elif kind == "mutation":
        mask = gene_in & facts.altering & (t[C.CALL_TYPE] == M.CALL_TYPE_VARIANT)
    elif kind == "missense":
        mask = gene_in & (t[C.FUNCTIONAL_CLASS] == M.FUNCTIONAL_MISSENSE)
    elif kind == "activating_mutation":
        mask = gene_in & facts.hotspot
    elif kind == "oncogenic_mutation":
        mask = gene_in & (facts.hotspot | (t[C.FUNCTIONAL_CLASS] == M.FUNCTIONAL_LOSS_OF_FUNCTION))
    elif kind == "loss_of_function":
        mask = gene_in & (t[C.FUNCTIONAL_CLASS] == M.FUNCTIONAL_LOSS_OF_FUNCTION)
    elif kind in ("amplification", "deep_deletion"):
        mask = gene_in & (t[C.CALL_TYPE] == M.CALL_TYPE_COPY_NUMBER) & (t[C.CN_STATE] == kind)
    elif kind == "fusion":
        # the reader files a fusion under the partner whose active part it keeps (ALK of EML4::ALK, not
        # ROS1 of ROS1::EYS); the partners stand in only where it could not say
        five, three = facts.isin(C.FUSION_5P, term.genes), facts.isin(C.FUSION_3P, term.genes)
        mask = (t[C.CALL_TYPE] == M.CALL_TYPE_FUSION) & np.where(t[C.GENE] != "", gene_in, five | three)
        if term.partner:
            mask &= (t[C.FUSION_3P] == term.partner) | (t[C.FUSION_5P] == term.partner)
    elif kind == "exon":
        mask = gene_in & _exon_event(term, facts)
    else:
        raise ValueError(f"not a call-level term kind: {kind}")
    if term.origin == "germline":
        mask &= t[C.ORIGIN] == "germline"
    elif term.origin == "somatic":
        mask &= t[C.ORIGIN] != "germline"
    if term.min_vaf is not None:
        mask &= np.nan_to_num(facts.vaf, nan=-1.0) >= term.min_vaf
    if term.other_than:
        mask &= ~np.isin(t[C.HGVSP_SHORT], term.other_than)
    return mask & facts.counted


def _exon_event(term: Term, facts: CallFacts) -> np.ndarray:
    """Exon-level events from the consequence, or from a by-name call ('EGFR exon 19 deletion')."""
    n = term.exon
    named = facts.alteration.contains(rf"exon\s*{n}\b", regex=True)
    first = facts.first_consequence
    if term.exon_event == "inframe_deletion":
        by_allele = (facts.exon == n) & (first == "inframe_deletion")
        by_name = named & facts.alteration.contains("del")
    elif term.exon_event == "insertion":
        by_allele = (facts.exon == n) & (first == "inframe_insertion")
        by_name = named & facts.alteration.contains("ins|dup", regex=True)
    else:  # skipping: a canonical splice-site change of the flanking introns (MET: introns 13 and 14)
        splice = np.isin(first, ["splice_acceptor_variant", "splice_donor_variant"])
        by_allele = splice & np.isin(facts.intron, [n - 1, n])
        by_name = named & facts.alteration.contains("skip")
    return by_allele | by_name


def wild_type_state(term: Term, facts: CallFacts, residues_by_gene: dict[str, set[int]]) -> np.ndarray:
    """TRUE where no counted protein-altering change sits in the region and every gene of it was assayed;
    FALSE where a change is there; UNKNOWN (not assessed) otherwise.

    Wild-type means wild-type: an amplification of the gene, or an activating (hotspot) mutation anywhere
    in it, also makes the term false, whatever codons it names (KRAS/NRAS amplification and extended-RAS
    mutations confer anti-EGFR resistance as the codons 12/13/61 do)."""
    t = facts.text
    in_genes = facts.isin(C.GENE, term.genes)
    region = in_genes & facts.altering & (t[C.CALL_TYPE] == M.CALL_TYPE_VARIANT)
    if term.residues:
        region &= np.isin(facts.residue, term.residues) | facts.hotspot
    amplified = in_genes & (t[C.CALL_TYPE] == M.CALL_TYPE_COPY_NUMBER) & (t[C.CN_STATE] == M.CN_AMPLIFICATION)
    altered = facts.per_sample((region | amplified) & facts.counted)
    assessed = np.ones(facts.n_samples, dtype=bool)
    for gene in term.genes:
        rows = facts.not_detected & (t[C.GENE] == gene)
        whole_gene = facts.per_sample(rows & (facts.residue == 0))
        needed = set(term.residues) or residues_by_gene.get(gene, set())
        covered = np.zeros(facts.n_samples, dtype=bool)
        if needed:
            hits = pd.DataFrame({"s": facts.sample_code[rows], "r": facts.residue[rows]})
            hits = hits[hits["r"].isin(needed)].drop_duplicates()
            n_covered = np.bincount(hits["s"].to_numpy(dtype=np.int64), minlength=facts.n_samples)
            covered = n_covered == len(needed)
        assessed &= whole_gene | covered
    return np.where(altered, FALSE, np.where(assessed, TRUE, UNKNOWN))


def sample_conditions(term: Term, samples: pd.DataFrame, kb: KnowledgeBase,
                      prior: "PriorTherapies | None" = None) -> np.ndarray:
    """Sample-level requirements of a term (specimen, prior therapy) as a boolean per sample."""
    ok = np.ones(len(samples), dtype=bool)
    if term.specimen:
        ok &= (samples["specimen"] == term.specimen).to_numpy()
    if term.prior_therapy:
        prior = prior or PriorTherapies(samples, kb)
        wanted = kb.expand_drugs(term.prior_therapy)
        hit = np.array([bool(expanded & wanted) for expanded in prior.distinct], dtype=bool)
        ok &= hit[prior.codes] if len(hit) else np.zeros(len(samples), dtype=bool)
    return ok


class PriorTherapies:
    """Each sample's prior therapies as lower-case drug names, expanded once per distinct history (a
    cohort has few): `distinct` histories and each sample's `codes` into them."""

    def __init__(self, samples: pd.DataFrame, kb: KnowledgeBase):
        keys = [frozenset(p) for p in samples["prior_therapies"]]
        index: dict[frozenset, int] = {}
        self.codes = np.array([index.setdefault(k, len(index)) for k in keys], dtype=np.int64)
        self.distinct = [frozenset(kb.expand_drugs(k)) for k in index]

    def __getitem__(self, s: int) -> frozenset[str]:
        return self.distinct[self.codes[s]]


def term_state(term: Term, facts: CallFacts, samples: pd.DataFrame, kb: KnowledgeBase,
               residues_by_gene: dict[str, set[int]], prior: "PriorTherapies | None" = None) -> np.ndarray:
    if term.kind == "feature":
        if term.feature == "MSI-H":
            hit = samples["msi_high"].fillna(False).astype(bool).to_numpy()
        else:
            hit = (pd.to_numeric(samples["tmb"], errors="coerce") >= term.minimum).fillna(False).to_numpy()
        state = np.where(hit, TRUE, FALSE)
    elif term.kind == "wild_type":
        state = wild_type_state(term, facts, residues_by_gene)
    else:
        state = np.where(facts.per_sample(call_mask(term, facts)), TRUE, FALSE)
    return np.where(sample_conditions(term, samples, kb, prior), state, FALSE)


def evaluate(expression: tuple, states: dict[Term, np.ndarray]) -> np.ndarray:
    kind, body = expression
    if kind == "term":
        return states[body]
    parts = np.vstack([evaluate(sub, states) for sub in body])
    if kind == "all":
        return parts.min(axis=0)
    if kind == "any":
        return parts.max(axis=0)
    return TRUE - parts.max(axis=0)  # none


def positive_terms(expression: tuple, negated: bool = False):
    """Call-level terms whose calls are evidence for a match (not those under `none`, not wild_type)."""
    kind, body = expression
    if kind == "term":
        if not negated and body.kind not in ("wild_type", "feature"):
            yield body
        return
    for sub in body:
        yield from positive_terms(sub, negated or kind == "none")


def tumour_type_relation(entry: Entry, sample_type: str, kb: KnowledgeBase) -> str:
    """on_label (same code, or tumour-agnostic), ancestor (the entry names an ancestor), excluded (a code
    the entry rules out), or '' (another tumour type)."""
    lineage = kb.oncotree.lineage(sample_type)
    if any(code in lineage for code in entry.excluded_tumor_types):
        return "excluded"
    if TUMOUR_AGNOSTIC in entry.tumor_types or sample_type in entry.tumor_types:
        return "on_label"
    return "ancestor" if any(code in lineage for code in entry.tumor_types) else ""


def contextual_resistance(annotated: pd.DataFrame, matches: pd.DataFrame) -> pd.DataFrame:
    """resistance: for each call, the resistant entries that fired for *its* sample (tumour type,
    co-alterations, prior therapy) with the call among their matched calls, in words:
    'resistant to cetuximab (crc-ras-mutant-cetuximab-resistance, resistance_standard)'.

    Nothing else claims resistance: a call of a sample with no resistant match keeps an empty column."""
    out = [[] for _ in range(len(annotated))]
    resistant = matches[(matches[C.DIRECTION] == "resistant") & (matches[C.ASSESSMENT] == "matched")] \
        if len(matches) else matches
    if len(resistant) and len(annotated):
        # only rows of a sample with a resistant match can carry it: those are labelled, not the whole cohort
        sample_text = annotated[C.SAMPLE].astype(str)
        concerned = np.flatnonzero(sample_text.isin(set(resistant[C.SAMPLE].astype(str))).to_numpy())
        labels = _call_labels(annotated, concerned)
        rows_of: dict[tuple[str, str], list[int]] = {}
        for i, sample, label in zip(concerned.tolist(), sample_text.iloc[concerned].tolist(), labels):
            rows_of.setdefault((sample, label), []).append(i)
        for sample, calls, therapy, entry_id, level in zip(
                resistant[C.SAMPLE], resistant[C.MATCHED_CALLS], resistant[C.THERAPY], resistant[C.EVIDENCE_ID],
                resistant[C.LEVEL]):
            text = f"resistant to {therapy} ({entry_id}, {level})"
            for label in str(calls).split("; "):
                for i in rows_of.get((str(sample), label), ()):
                    if text not in out[i]:
                        out[i].append(text)
    return annotated.assign(**{C.RESISTANCE: ["; ".join(t) for t in out]})


def sample_facts(samples: pd.DataFrame) -> pd.DataFrame:
    """Normalise sample metadata: prior therapies to sets of names (drugs or classes), defaults for the rest."""
    out = samples.copy()
    for column, default in (("specimen", "tissue"), ("prior_therapies", ""), ("msi_high", False), ("tmb", np.nan)):
        if column not in out:
            out[column] = default
    out["prior_therapies"] = [
        set(v) if isinstance(v, (set, frozenset, list, tuple))
        else {p.strip() for p in str(v if v == v else "").replace(";", ",").split(",") if p.strip()}
        for v in out["prior_therapies"]]
    return out.reset_index(drop=True)


def match_samples(annotated: pd.DataFrame, samples: pd.DataFrame, kb: KnowledgeBase,
                  include_filtered: bool = False) -> pd.DataFrame:
    """One row per sample x evidence entry that fires (or would, but for a region not assessed).

    `samples` has SAMPLE_FACT_COLUMNS (tumor_type an OncoTree code; specimen tissue|plasma;
    prior_therapies drug or class names; msi_high bool; tmb mut/Mb).
    """
    samples = sample_facts(samples)
    facts = CallFacts(annotated, samples, include_filtered)
    residues = load_recurrent_residues()
    residues_by_gene = residues.groupby("gene")["position"].apply(set).to_dict()
    prior = PriorTherapies(samples, kb)
    states = {}
    for entry in kb.entries:
        for term in entry.terms():
            if term not in states:
                states[term] = term_state(term, facts, samples, kb, residues_by_gene, prior)
    relation_cache: dict[tuple[str, str], str] = {}
    sample_types = samples[C.TUMOR_TYPE].to_numpy()

    rows, off_label = [], []
    for entry in kb.entries:
        state = evaluate(entry.biomarker, states)
        candidates = np.flatnonzero(state > FALSE)
        if not len(candidates):
            continue
        for s in candidates:
            key = (entry.id, sample_types[s])
            if key not in relation_cache:
                relation_cache[key] = tumour_type_relation(entry, sample_types[s], kb)
            relation = relation_cache[key]
            row = (s, entry, relation, state[s] == TRUE)
            if relation == "excluded":
                continue
            if relation:
                rows.append(row)
            elif (state[s] == TRUE and entry.direction == "sensitive" and entry.level in OFF_LABEL_SOURCE_LEVELS
                  and entry.source == "curated"   # an imported (CIViC) entry is never offered off-label,
                  and not entry.tumour_specific):  # nor one whose rationale holds in its own tumour only
                off_label.append(row)
    rows += _off_label_rows(rows, off_label)
    return _matches_table(rows, samples, facts, kb, prior)


def _off_label_rows(rows: list, off_label: list) -> list:
    """Another tumour type's standard option, only for a sample with no standard option of its own,
    and once per therapy."""
    has_standard = {s for s, entry, _, matched in rows
                    if matched and entry.direction == "sensitive" and entry.level in OFF_LABEL_SOURCE_LEVELS}
    on_label_therapies = {(s, entry.therapy) for s, entry, _, _ in rows}
    kept, seen = [], set()
    for s, entry, _, matched in off_label:
        if s in has_standard or (s, entry.therapy) in on_label_therapies or (s, entry.therapy) in seen:
            continue
        seen.add((s, entry.therapy))
        kept.append((s, entry, "off_label", matched))
    return kept


DIRECTION_ORDER = {"sensitive": 0, "resistant": 1, "prognostic": 2}
# tumour-type relation for ranking: an entry for this tumour type, then one for an ancestor or any tumour
# (tumour-agnostic labels are mostly for pretreated disease), then another tumour type's option
RELATION_ORDER = {"on_label": 0, "ancestor": 1, "agnostic": 1, "off_label": 2}
SUBCLONAL_FRACTION = 1 / 3   # a driver under a third of the sample's highest driver VAF is subclonal


def setting_fit(entry: Entry, prior: set[str], kb: KnowledgeBase) -> int:
    """0 where the entry's setting fits the sample's prior therapies, 1 where it may (later line, history
    not given), 2 where it does not (first line after treatment, after progression on a drug not given)."""
    if entry.setting == "first_line":
        return 2 if prior else 0
    if entry.setting == "later_line":
        return 0 if prior else 1
    if entry.setting == "after_progression_on":
        return 0 if prior & kb.expand_drugs(entry.progressed_on) else 2
    return 0


def _entry_prior_requirement(entry: Entry, kb: KnowledgeBase) -> set[str]:
    """Drugs the entry itself is for after progression on (its setting or its terms' prior_therapy):
    progression on those is the indication, not a warning."""
    names = set(entry.progressed_on)
    for term in entry.terms():
        names.update(term.prior_therapy)
    return kb.expand_drugs(names)


def _matches_table(rows: list, samples: pd.DataFrame, facts: CallFacts, kb: KnowledgeBase,
                   prior: PriorTherapies) -> pd.DataFrame:
    if not rows:
        return pd.DataFrame(columns=C.MATCH_COLUMNS)
    calls_of: dict[str, dict[int, list[int]]] = {}   # entry id -> sample -> its rows that fire the entry
    per_entry: dict[str, tuple] = {}
    names, types = samples[C.SAMPLE].tolist(), samples[C.TUMOR_TYPE].tolist()
    # plain Python lists: a large cohort has a million rows here, and numpy indexing of 1-3 calls is slower
    vaf = facts.vaf.tolist()
    call_caveats = facts.text[C.CAVEATS].tolist()
    for s, entry, relation, matched in rows:
        if entry.id not in calls_of:
            mask = np.zeros(len(facts.counted), dtype=bool)
            for term in positive_terms(entry.biomarker):
                mask |= call_mask(term, facts)
            hits = np.flatnonzero(mask)
            order = np.argsort(facts.sample_code[hits], kind="stable")
            codes, starts = np.unique(facts.sample_code[hits][order], return_index=True)
            ordered, bounds = hits[order].tolist(), starts.tolist() + [len(hits)]
            calls_of[entry.id] = {c: ordered[bounds[k]:bounds[k + 1]] for k, c in enumerate(codes.tolist())}
            per_entry[entry.id] = (
                [f"{t.text.replace(' wild_type', '')}: none detected (assayed)" for t in entry.terms()
                 if t.kind == "wild_type"], kb.in_words(entry.biomarker_text()), format_citations(entry.citations),
                _entry_prior_requirement(entry, kb), kb.therapy_text(entry), [kb.in_words(c) for c in entry.caveats],
                _setting_text(entry, kb), ",".join(entry.tumor_types))
    # the sample's highest driver VAF: over the calls that fire its sensitive and resistant entries
    top_vaf = [0.0] * len(names)
    for s, entry, _, _ in rows:
        if entry.direction != "prognostic":
            for i in calls_of[entry.id].get(int(s), ()):
                if vaf[i] > top_vaf[s]:
                    top_vaf[s] = vaf[i]
    # labels of the calls the matches name only: most rows of a cohort fire no entry
    named = np.array(sorted({i for s, entry, _, _ in rows for i in calls_of[entry.id].get(int(s), ())}), dtype=np.int64)
    labels = dict(zip(named.tolist(), facts.labels_of(named).tolist()))
    history_fit: dict[tuple, tuple] = {}   # (entry, prior-therapy history) -> (progressed, setting fit)
    records = []
    for s, entry, relation, matched in rows:
        calls = calls_of[entry.id].get(int(s), ())
        (wild_type_assayed, biomarker_text, citations, indication_prior, therapy, entry_caveats, setting,
         tumour_types) = per_entry[entry.id]
        level = OFF_LABEL_LEVEL if relation == "off_label" else entry.level
        caveats = list(entry_caveats)
        caveats += [c for i in calls for c in call_caveats[i].split(";") if c]
        if relation == "off_label":
            caveats.append(f"off_label: evidence is for {', '.join(entry.tumor_types)}")
        if not matched:
            caveats.append("not_assessed: a wild-type requirement was not assayed in this sample")
        if not entry.confirmed:
            caveats.append(f"unconfirmed: {entry.unconfirmed}")
        key = (entry.id, int(prior.codes[s]))
        if key not in history_fit:
            progressed = [(p, cls) for p, cls in kb.progressed_class_members(entry.drugs, prior[s])
                          if p not in indication_prior] if entry.direction == "sensitive" else []
            history_fit[key] = (progressed, setting_fit(entry, prior[s], kb))
        progressed, fit = history_fit[key]
        # a drug (or a drug of its class) the disease already progressed on
        caveats += [f"progressed on {p}" + (f" ({cls} class)" if cls else "") for p, cls in progressed]
        vafs = [vaf[i] for i in calls if vaf[i] == vaf[i]]
        clonality = ""
        if vafs and top_vaf[s] > 0:
            clonality = "clonal" if max(vafs) >= SUBCLONAL_FRACTION * top_vaf[s] else "subclonal"
        if clonality == "subclonal" and entry.direction == "sensitive":
            caveats.append(f"subclonal: matched call VAF {max(vafs):.3g} is under a third of the sample's "
                           f"highest driver VAF ({top_vaf[s]:.3g})")
        amp, esc = stated_or_default(level, entry.stated_level if relation != "off_label" else {})
        agnostic = relation == "on_label" and TUMOUR_AGNOSTIC in entry.tumor_types
        records.append((
            names[s], level, therapy, entry.direction, types[s], relation, biomarker_text,
            "; ".join([labels[i] for i in calls] + (wild_type_assayed if matched else [])),
            "matched" if matched else "not_assessed", "",
            "; ".join(dict.fromkeys(c.replace(";", ",") for c in caveats)), entry.id, tumour_types, amp, esc,
            oncokb_level(level), citations, entry.summary, entry.source, 0, setting, clonality,
            s, entry.drugs, DIRECTION_ORDER[entry.direction],
            # the very drug the disease progressed on last of all, a drug of its class before it
            max((2 if not cls else 1 for _, cls in progressed), default=0), int(not matched),
            LEVEL_ORDER[level], RELATION_ORDER["agnostic" if agnostic else relation],
            int(clonality == "subclonal"), fit, int(not entry.preferred)))
    matches = pd.DataFrame.from_records(records, columns=[*C.MATCH_COLUMNS, "_sample_order", "_drugs", *RANK_KEYS])
    matches[C.CONFLICT] = _conflicts(matches)
    matches = matches.sort_values(["_sample_order", *RANK_KEYS, C.THERAPY, C.EVIDENCE_ID], kind="stable")
    matches[C.RANK] = matches.groupby("_sample_order").cumcount() + 1
    return matches[C.MATCH_COLUMNS].reset_index(drop=True)


# the ranking rule (README, "Evidence base and matching"), most important first
RANK_KEYS = ["_direction_order", "_progressed", "_assessed", "_level_order", "_relation_order", "_subclonal",
             "_setting_fit", "_not_preferred"]


def _setting_text(entry: Entry, kb: KnowledgeBase) -> str:
    if entry.setting == "after_progression_on":
        return "after progression on " + ", ".join(kb.drug_name(d) for d in entry.progressed_on)
    return entry.setting.replace("_", " ")


def _conflicts(matches: pd.DataFrame) -> list[str]:
    """For each row: the entries of the same sample that point the other way for one of its drugs.

    A combination is not in conflict with resistance to one of its drugs alone when that resistance rests
    only on calls the combination is itself given for (encorafenib + cetuximab for BRAF V600E, beside
    V600E's resistance to cetuximab alone); the same regimen, or resistance from another call (KRAS Y96D
    against sotorasib + panitumumab), is a conflict."""
    matched = matches[matches[C.ASSESSMENT] == "matched"]
    # only a sample with matched rows of both directions can hold a conflict
    both = set(matched.loc[matched[C.DIRECTION] == "sensitive", C.SAMPLE]) & set(
        matched.loc[matched[C.DIRECTION] == "resistant", C.SAMPLE])
    if not both:
        return [""] * len(matches)
    matched = matched[matched[C.SAMPLE].isin(both)]
    by_drug: dict[tuple, dict[str, list[tuple]]] = {}
    for sample, drugs, direction, entry_id, calls in zip(matched[C.SAMPLE], matched["_drugs"], matched[C.DIRECTION],
                                                         matched[C.EVIDENCE_ID], matched[C.MATCHED_CALLS]):
        regimen, called = frozenset(d.lower() for d in drugs), frozenset(str(calls).split("; "))
        for drug in regimen:
            by_drug.setdefault((sample, drug), {}).setdefault(direction, []).append((entry_id, regimen, called))
    out = []
    opposite = {"sensitive": "resistant", "resistant": "sensitive"}
    for sample, drugs, direction, assessment, calls in zip(*(matches[c].tolist() for c in (
            C.SAMPLE, "_drugs", C.DIRECTION, C.ASSESSMENT, C.MATCHED_CALLS))):
        other = opposite.get(direction)
        if sample not in both or not other or assessment != "matched":
            out.append("")
            continue
        regimen, called = frozenset(d.lower() for d in drugs), frozenset(str(calls).split("; "))
        against = {}
        for drug in drugs:
            for entry_id, other_regimen, other_called in by_drug.get((sample, drug.lower()), {}).get(other, []):
                sensitive, resistant = ((regimen, called), (other_regimen, other_called)) \
                    if direction == "sensitive" else ((other_regimen, other_called), (regimen, called))
                if sensitive[0] != resistant[0] and resistant[1] <= sensitive[1]:
                    continue  # the combination is given for the very alteration that defeats the drug alone
                against.setdefault(drug, []).append(entry_id)
        out.append("; ".join(f"{other} for {d}: {', '.join(sorted(ids))}" for d, ids in against.items()))
    return out


def format_citations(citations) -> str:
    """'PMID:34096690; NCT03600883 (CodeBreaK 100); FDA LUMAKRAS label 2021-05-28; Tang et al., ... (seed paper)'.

    Parts are '; '-separated (the report links each), so a ';' inside a part becomes ','; a seed paper is
    named by its note, never by the internal seed id."""
    parts = []
    for c in citations:
        if c["type"] == "seed":
            text = f"{c['note']} (seed paper)" if c.get("note") else "seed paper"
        else:
            text = {"PMID": f"PMID:{c['id']}", "NCT": c["id"], "DOI": f"doi:{c['id']}"}.get(
                c["type"], f"{c['type']} {c['id']}")
            if c.get("trial"):
                text += f" ({c['trial']})"
            if c.get("date"):
                text += f" {c['date']}"
        parts.append(text.replace(";", ","))
    return "; ".join(parts)
