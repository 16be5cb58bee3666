"""Safety invariants as code: resources/evidence/safety_rules.yaml, checked on matches tables and on a grid
of synthetic samples built from the evidence base's own alterations.

A grid sample is an in-memory annotated table (the columns the matcher reads, classified by the engine's
own classify_calls), so the check exercises the real matcher, not a model of it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from importlib import resources

import numpy as np
import pandas as pd

from .. import columns as C
from .. import models as M
from ..annotate.classify import classify_calls, load_recurrent_residues
from ..errors import ReferenceDataError
from .kb import SAFETY_RULES_FILE, KnowledgeBase, Term, _parse_expression, read_yaml
from .match import CallFacts, call_mask, match_samples, positive_terms, sample_facts
from .oncotree import TUMOUR_AGNOSTIC

# a tumour type no entry names: what tumour-agnostic and off-label matches look like
OTHER_TUMOUR_TYPE = "SKCM"
ASSAYED_GENES = ("KRAS", "NRAS", "BRAF")   # every grid sample has a RAS/BRAF panel, so wild-type terms decide
CHECKS = ("no_off_label_tumour_specific", "no_resistance_from_prognostic_only")


@dataclass(frozen=True)
class Rule:
    id: str
    says: str
    direction: str = ""
    drug_class: str = ""
    tumor_type: str = ""
    forbidden: tuple[Term, ...] = ()
    exceptions: tuple[tuple[str, Term], ...] = ()   # (drug class, term): a call that class's drug is given for
    required: tuple[Term, ...] = ()
    check: str = ""
    prognostic_only_genes: tuple[str, ...] = field(default=())


def _terms(raw: list, where: str) -> tuple[Term, ...]:
    terms = []
    for item in raw or []:
        kind, body = _parse_expression({k: v for k, v in item.items() if k != "drug_class"}, where)
        if kind != "term" or body.kind in ("wild_type", "feature"):
            raise ReferenceDataError(f"{where}: a rule term must name one call-level alteration: {item}")
        terms.append(body)
    return tuple(terms)


def load_safety_rules(text: str | None = None) -> list[Rule]:
    """The shipped rules (or `text`, a rules file's content), parsed; ReferenceDataError naming the rule."""
    if text is None:
        text = resources.files("krasannot.resources").joinpath(f"evidence/{SAFETY_RULES_FILE}").read_text("utf-8")
    data = read_yaml(text) or {}
    rules = []
    for raw in data.get("rules", []):
        where = f"{SAFETY_RULES_FILE}: rule {raw.get('id', '?')}"
        applies = raw.get("applies_to", {})
        check = raw.get("check", "")
        if check and check not in CHECKS:
            raise ReferenceDataError(f"{where}: unknown check {check!r}", hint="use one of " + ", ".join(CHECKS))
        if not check and not (raw.get("forbidden_with") or raw.get("required")):
            raise ReferenceDataError(f"{where}: a rule needs forbidden_with, required or check")
        exceptions = tuple((e["drug_class"], t) for e, t in zip(raw.get("except", []),
                                                                _terms(raw.get("except", []), where)))
        rules.append(Rule(raw["id"], " ".join(str(raw.get("says", "")).split()), applies.get("direction", ""),
                          applies.get("drug_class", ""), applies.get("tumor_type", ""),
                          _terms(raw.get("forbidden_with"), where), exceptions, _terms(raw.get("required"), where),
                          check, tuple(raw.get("prognostic_only_genes", ()))))
    return rules


def violations(matches: pd.DataFrame, annotated: pd.DataFrame, samples: pd.DataFrame, kb: KnowledgeBase,
               rules: list[Rule] | None = None, include_filtered: bool = False) -> pd.DataFrame:
    """Match rows that break a rule: columns rule, sample, evidence_id, therapy, why. Empty means safe."""
    rules = load_safety_rules() if rules is None else rules
    out = []
    if matches.empty:
        return pd.DataFrame(columns=["rule", C.SAMPLE, C.EVIDENCE_ID, C.THERAPY, "why"])
    samples = sample_facts(samples)
    facts = CallFacts(annotated, samples, include_filtered)
    code = pd.Categorical(matches[C.SAMPLE], categories=samples[C.SAMPLE]).codes
    entries = {e.id: e for e in kb.entries}
    drugs_of = [frozenset(d.lower() for d in entries[i].drugs) if i in entries else frozenset()
                for i in matches[C.EVIDENCE_ID]]
    lineage = {t: set(kb.oncotree.lineage(t)) for t in pd.unique(matches[C.TUMOR_TYPE])}
    for rule in rules:
        if rule.check:
            out += _structural(rule, matches, entries)
            continue
        applies = np.ones(len(matches), dtype=bool)
        if rule.direction:
            applies &= (matches[C.DIRECTION] == rule.direction).to_numpy()
        if rule.drug_class:
            members = kb.expand_drugs([rule.drug_class])
            applies &= np.array([bool(d & members) for d in drugs_of], dtype=bool)
        if rule.tumor_type:
            applies &= np.array([rule.tumor_type in lineage[t] for t in matches[C.TUMOR_TYPE]], dtype=bool)
        rows = np.flatnonzero(applies)
        if not len(rows):
            continue
        if rule.required:
            mask = np.zeros(len(facts.counted), dtype=bool)
            for term in rule.required:
                mask |= call_mask(term, facts)
            has = facts.per_sample(mask)
            out += [(rule.id, i, "no call satisfies: " + " or ".join(t.text for t in rule.required))
                    for i in rows if not has[code[i]]]
        if rule.forbidden:
            forbidden = np.zeros(len(facts.counted), dtype=bool)
            for term in rule.forbidden:
                forbidden |= call_mask(term, facts)
            exempt_of = [frozenset(cls for cls, _ in rule.exceptions if drugs_of[i] & kb.expand_drugs([cls]))
                         for i in rows]
            for exempt in set(exempt_of):
                mask = forbidden.copy()
                for cls, term in rule.exceptions:
                    if cls in exempt:
                        mask &= ~call_mask(term, facts)
                has = facts.per_sample(mask)
                for i in (r for r, e in zip(rows, exempt_of) if e == exempt and has[code[r]]):
                    calls = np.flatnonzero(mask & (facts.sample_code == code[i]))
                    out.append((rule.id, i, "sample has " + ", ".join(sorted(set(facts.labels[calls])))))
    table = pd.DataFrame(out, columns=["rule", "row", "why"])
    picked = matches.iloc[table["row"].to_numpy()] if len(table) else matches.iloc[[]]
    return pd.DataFrame({"rule": table["rule"].to_numpy(), C.SAMPLE: picked[C.SAMPLE].to_numpy(),
                         C.EVIDENCE_ID: picked[C.EVIDENCE_ID].to_numpy(), C.THERAPY: picked[C.THERAPY].to_numpy(),
                         "why": table["why"].to_numpy()})


def _structural(rule: Rule, matches: pd.DataFrame, entries: dict) -> list[tuple]:
    out = []
    for i, (entry_id, relation, direction) in enumerate(zip(matches[C.EVIDENCE_ID], matches[C.TUMOR_TYPE_MATCH],
                                                             matches[C.DIRECTION])):
        entry = entries.get(entry_id)
        if entry is None:
            continue
        if rule.check == "no_off_label_tumour_specific" and relation == "off_label" and entry.tumour_specific:
            out.append((rule.id, i, "offered off-label, but the entry is tumour_specific"))
        if rule.check == "no_resistance_from_prognostic_only" and direction == "resistant":
            genes = {g for t in entry.terms() if t.kind != "wild_type" for g in t.genes}
            if genes & set(rule.prognostic_only_genes):
                out.append((rule.id, i, f"resistant from {', '.join(sorted(genes & set(rule.prognostic_only_genes)))}"))
    return out


def entry_problems(kb: KnowledgeBase, rules: list[Rule] | None = None) -> list[str]:
    """Entry-level rules that need no sample: a tumour-specific flag on a tumour-agnostic entry, a resistant
    entry over a prognostic-only gene."""
    rules = load_safety_rules() if rules is None else rules
    problems = []
    for rule in rules:
        if rule.check != "no_resistance_from_prognostic_only":
            continue
        for entry in kb.entries:
            genes = {g for t in entry.terms() if t.kind != "wild_type" for g in t.genes}
            if entry.direction == "resistant" and genes & set(rule.prognostic_only_genes):
                problems.append(f"{entry.path}: {entry.id}: breaks safety rule {rule.id}: {rule.says}")
    for entry in kb.entries:
        if entry.tumour_specific and TUMOUR_AGNOSTIC in entry.tumor_types:
            problems.append(f"{entry.path}: {entry.id}: tumour_specific on a tumour-agnostic entry")
    return problems


# ---- the synthetic grid ------------------------------------------------------------------------------------

_ALTERNATIVE_AA = "DVSRAC"   # a missense change at a residue: the first of these that is not the reference


def _variant(gene: str, protein: str, position: str, consequence: str, exon: str = "", intron: str = "",
             hgvsc: str = "") -> dict:
    return {C.GENE: gene, C.HGVSP_SHORT: protein, C.PROTEIN_POSITION: position, C.CONSEQUENCE: consequence,
            C.EXON: exon, C.INTRON: intron, C.HGVSC: hgvsc, C.CALL_TYPE: M.CALL_TYPE_VARIANT}


def _exact(gene: str, protein: str) -> dict:
    body = protein.removeprefix("p.")
    position = "".join(itertools.takewhile(str.isdigit, body[1:]))
    if body.endswith("*") or "fs" in body:
        consequence = "stop_gained" if body.endswith("*") else "frameshift_variant"
    elif any(w in body for w in ("del", "dup", "ins")):
        consequence = "inframe_insertion" if ("ins" in body or "dup" in body) else "inframe_deletion"
    else:
        consequence = "missense_variant"
    return _variant(gene, protein, position, consequence)


def _missense_at(gene: str, residue: int, proteins: dict[str, str], ref: str = "") -> dict | None:
    ref = ref or (proteins.get(gene, "")[residue - 1:residue] if residue <= len(proteins.get(gene, "")) else "")
    if not ref:
        return None
    alt = next(a for a in _ALTERNATIVE_AA if a != ref)
    return _variant(gene, f"p.{ref}{residue}{alt}", str(residue), "missense_variant")


def _exon_event(term: Term) -> dict:
    gene, n = term.genes[0], term.exon
    if term.exon_event == "skipping":   # a canonical splice donor of the intron after the exon
        return _variant(gene, "", "", "splice_donor_variant", intron=f"{n}/20", hgvsc=f"c.exon{n}+1G>A")
    consequence = "inframe_deletion" if term.exon_event == "inframe_deletion" else "inframe_insertion"
    return _variant(gene, f"p.exon{n}_{term.exon_event}", "", consequence, exon=f"{n}/28")


def term_calls(term: Term, proteins: dict[str, str]) -> list[dict]:
    """One synthetic call per gene of a call-level term that satisfies it (none for wild_type/feature terms)."""
    out = []
    for gene in term.genes:
        if term.kind == "exact":
            out.append(_exact(gene, term.protein))
        elif term.kind in ("residue", "codons"):
            out += [c for c in (_missense_at(gene, r, proteins) for r in term.residues) if c]
        elif term.kind == "exon":
            out.append(_exon_event(term))
        elif term.kind in ("amplification", "deep_deletion"):
            out.append({C.GENE: gene, C.CALL_TYPE: M.CALL_TYPE_COPY_NUMBER, C.CN_STATE: term.kind})
        elif term.kind == "fusion":
            partner = term.partner or "PARTNER"
            out.append({C.GENE: gene, C.CALL_TYPE: M.CALL_TYPE_FUSION, C.FUSION_5P: partner, C.FUSION_3P: gene})
        elif term.kind in ("loss_of_function", "oncogenic_mutation", "mutation"):
            out.append(_variant(gene, "p.?10*", "10", "stop_gained"))
        elif term.kind in ("activating_mutation", "missense"):
            hot = load_recurrent_residues()
            first = hot[hot["gene"] == gene]["residue"].head(1).tolist()
            if first:
                out.append(_missense_at(gene, int(first[0][1:]), proteins, first[0][0]))
    return [c for c in out if c and not (term.other_than and c.get(C.HGVSP_SHORT) in term.other_than)]


def _key(call: dict) -> tuple:
    return tuple(sorted((k, str(v)) for k, v in call.items()))


def grid_alterations(kb: KnowledgeBase, proteins: dict[str, str]) -> list[dict]:
    """Every alteration the base names or the hotspot list holds, one call each: exact changes, a missense at
    each named residue/codon and recurrent hotspot residue, exon events, amplifications, deep deletions,
    fusions (with their named partner), and a truncating change for each loss-of-function gene."""
    calls: dict[tuple, dict] = {}
    residues = load_recurrent_residues()
    for gene, residue in zip(residues["gene"], residues["residue"]):
        call = _missense_at(gene, int(residue[1:]), proteins, residue[0])
        calls.setdefault(_key(call), call)
    for term in (t for e in kb.entries for t in e.terms()):
        for call in term_calls(term, proteins):
            calls.setdefault(_key(call), call)
    for gene in ("KRAS", "NRAS"):   # RAS amplification, whether or not an entry names it
        call = {C.GENE: gene, C.CALL_TYPE: M.CALL_TYPE_COPY_NUMBER, C.CN_STATE: M.CN_AMPLIFICATION}
        calls.setdefault(_key(call), call)
    return list(calls.values())


def grid_tumour_types(kb: KnowledgeBase) -> list[str]:
    named = sorted({t for e in kb.entries for t in e.tumor_types if t != TUMOUR_AGNOSTIC})
    return named + [OTHER_TUMOUR_TYPE]


def grid_prior_therapies(kb: KnowledgeBase) -> list[str]:
    """'' (no prior therapy) and each prior-therapy class: the cross-resistance classes (anti-EGFR, KRAS G12C,
    RAS(ON), EGFR TKIs by generation, anti-PD-(L)1, BRAF ...) and every drug or class an entry's terms or
    setting name as a prior therapy."""
    named = {p for e in kb.entries for t in e.terms() for p in t.prior_therapy} | \
        {p for e in kb.entries for p in e.progressed_on}
    return [""] + sorted(set(kb.cross_resistance_classes) | named)


def safety_grid(kb: KnowledgeBase, proteins: dict[str, str], combos: list[tuple[int, ...]] | None = None,
                alterations: list[dict] | None = None, tumour_types: list[str] | None = None,
                prior_therapies: list[str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(annotated, samples): each combination of alterations (default: every alteration alone and every two
    together) x every tumour type x each prior therapy (none, or one class), in plasma (which fires
    plasma-only entries too), each sample with a RAS/BRAF panel that assayed those genes."""
    alterations = grid_alterations(kb, proteins) if alterations is None else alterations
    types = grid_tumour_types(kb) if tumour_types is None else tumour_types
    priors = grid_prior_therapies(kb) if prior_therapies is None else prior_therapies
    if combos is None:
        combos = [(i,) for i in range(len(alterations))] + list(itertools.combinations(range(len(alterations)), 2))
    # the distinct calls, classified once by the engine, then repeated per sample
    assay = [{C.GENE: g, C.ALTERATION: f"{g} not detected", C.DETECTION: M.DETECTION_NOT_DETECTED,
              C.CALL_TYPE: M.CALL_TYPE_VARIANT} for g in ASSAYED_GENES]
    distinct = pd.DataFrame(alterations + assay)
    distinct = distinct.assign(**{C.STATUS: M.STATUS_ANNOTATED, C.FILTER: "PASS", C.VAF: 0.3, C.SOURCE: "ctdna",
                                  C.SAMPLE: "", C.ORIGIN: "somatic"})
    distinct[C.DETECTION] = distinct[C.DETECTION].fillna(M.DETECTION_DETECTED) if C.DETECTION in distinct else \
        M.DETECTION_DETECTED
    distinct = classify_calls(distinct.fillna(""), specimen="plasma")
    distinct[C.VAF] = np.where(distinct[C.DETECTION] == M.DETECTION_NOT_DETECTED, np.nan, 0.3)
    combo_rows = [list(c) + list(range(len(alterations), len(alterations) + len(assay))) for c in combos]
    n_contexts = len(types) * len(priors)
    row_index = np.concatenate([np.array(r) for r in combo_rows])
    combo_of_row = np.repeat(np.arange(len(combos)), [len(r) for r in combo_rows])
    # sample s = combo * n_contexts + context
    sample_of_row = (combo_of_row[:, None] * n_contexts + np.arange(n_contexts)[None, :]).ravel()
    annotated = distinct.iloc[np.repeat(row_index, n_contexts)].reset_index(drop=True)
    names = np.array([f"G{s}" for s in range(len(combos) * n_contexts)], dtype=object)
    annotated[C.SAMPLE] = names[sample_of_row]
    contexts = list(itertools.product(types, priors))
    samples = pd.DataFrame({
        C.SAMPLE: names,
        C.TUMOR_TYPE: [contexts[s % n_contexts][0] for s in range(len(names))],
        "specimen": "plasma",
        "prior_therapies": [[contexts[s % n_contexts][1]] if contexts[s % n_contexts][1] else []
                            for s in range(len(names))],
        "msi_high": False, "tmb": np.nan})
    return annotated, samples


def check_kb_safety(kb: KnowledgeBase, proteins: dict[str, str], rules: list[Rule] | None = None) -> list[str]:
    """Every entry against every rule, as `kb validate` runs it: for each entry, the calls that fire it,
    alone and with each alteration a rule names, x every tumour type x no prior therapy or a history the
    base's entries name; matched, one problem per (rule, entry). The full grid is the test's."""
    rules = load_safety_rules() if rules is None else rules
    problems = entry_problems(kb, rules)
    alterations: dict[tuple, dict] = {}
    rule_calls = {_key(c): c for r in rules for t in r.forbidden + r.required for c in term_calls(t, proteins)}
    for call in rule_calls.values():
        alterations.setdefault(_key(call), call)
    combos = set()
    for entry in kb.entries:
        firing = [c for t in positive_terms(entry.biomarker) for c in term_calls(t, proteins)[:1]]
        for call in firing:
            alterations.setdefault(_key(call), call)
        keys = list(alterations)
        own = tuple(sorted({keys.index(_key(c)) for c in firing}))
        if own:
            combos.add(own)
            combos.update(tuple(sorted(set(own) | {keys.index(k)})) for k in rule_calls)
    annotated, samples = safety_grid(kb, proteins, sorted(combos), list(alterations.values()))
    matches = match_samples(annotated, samples, kb)
    found = violations(matches, annotated, samples, kb, rules)
    entries = {e.id: e for e in kb.entries}
    for (rule_id, entry_id), rows in found.groupby(["rule", C.EVIDENCE_ID], sort=True):
        rule = next(r for r in rules if r.id == rule_id)
        problems.append(f"{entries[entry_id].path}: {entry_id}: breaks safety rule {rule_id} in {len(rows)} "
                        f"synthetic sample(s), e.g. {rows.iloc[0]['why']}: {rule.says}")
    return problems
