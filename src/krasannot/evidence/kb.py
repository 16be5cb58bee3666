"""The evidence base: resources/evidence/*.yaml loaded, checked against kb.schema.json and the panel.

YAML is read with a safe loader only (read_yaml): an evidence file is data and can never run code.
The schema check runs once per content: a run loads a checked copy whose key matches the files (checked.py).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import datetime as dt
import json
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from ..errors import ReferenceDataError
from . import checked
from .levels import LEVELS_BY_DIRECTION
from .oncotree import TUMOUR_AGNOSTIC, OncoTree, load_oncotree

# alteration words of a biomarker term (docs/evidence.md)
CLASS_ALTERATIONS = {"mutation", "missense", "activating_mutation", "oncogenic_mutation", "loss_of_function",
                     "amplification", "deep_deletion", "fusion", "wild_type"}
SEQUENCE_ALTERATIONS = {"mutation", "missense", "activating_mutation", "oncogenic_mutation", "exact",
                        "residue", "codons", "exon"}
_EXACT = re.compile(r"^p\.([A-Z])(\d+)([A-Z*]|del|dup|fs\*?\d*|_[A-Z]\d+(?:del|dup|ins[A-Z]+|delins[A-Z]+))$")
_RESIDUE = re.compile(r"^([A-Z])(\d+)$")
_CODONS = re.compile(r"^codons ((?:\d+,)*\d+)$")
_EXON = re.compile(r"^exon (\d+) (inframe_deletion|insertion|skipping)$")


@dataclass(frozen=True)
class Term:
    """One biomarker term, parsed."""

    kind: str                          # exact, residue, codons, exon, feature, or a CLASS_ALTERATIONS word
    genes: tuple[str, ...] = ()
    text: str = ""                     # as written, for display: "KRAS p.G12C"
    protein: str = ""                  # exact: p.G12C
    residues: tuple[int, ...] = ()     # residue / codons / wild_type codons
    ref_aa: str = ""                   # residue: G of G12
    exon: int = 0
    exon_event: str = ""               # inframe_deletion, insertion, skipping
    partner: str = ""                  # fusion partner
    feature: str = ""                  # MSI-H, TMB
    minimum: float | None = None       # TMB threshold
    origin: str = ""
    specimen: str = ""
    min_vaf: float | None = None
    prior_therapy: tuple[str, ...] = ()
    other_than: tuple[str, ...] = ()   # exact protein changes a residue/codon/class term leaves out: p.G12C


SAFETY_RULES_FILE = "safety_rules.yaml"   # beside the entries, but rules, not evidence (evidence/safety.py)
SETTINGS = ("first_line", "later_line", "after_progression_on", "any")


@dataclass(frozen=True)
class Entry:
    id: str
    tumor_types: tuple[str, ...]
    biomarker: tuple                   # ("term", Term) | ("all"|"any"|"none", (expr, ...))
    drugs: tuple[str, ...]
    direction: str
    level: str
    citations: tuple[dict, ...]
    summary: str
    last_reviewed: str
    excluded_tumor_types: tuple[str, ...] = ()  # e.g. a tumour-agnostic label that excludes COADREAD
    context: str = ""
    caveats: tuple[str, ...] = ()
    resistance_tag: str = ""
    confirmed: bool = True
    unconfirmed: str = ""
    source: str = "curated"
    tumour_specific: bool = False      # the rationale holds in its own tumour types only: never offered off-label
    setting: str = "any"               # first_line, later_line, after_progression_on, any
    progressed_on: tuple[str, ...] = ()  # drugs or classes, for setting after_progression_on
    stated_level: dict = field(default_factory=dict)  # {amp_asco_cap, escat, basis}: where the default mapping misleads
    preferred: bool = False            # the guideline's preferred option among equals (ranks first among them)
    path: str = ""

    @property
    def therapy(self) -> str:
        return " + ".join(self.drugs)

    def terms(self) -> list[Term]:
        return list(_terms_of(self.biomarker))

    def biomarker_text(self) -> str:
        return _expression_text(self.biomarker)


@dataclass
class KnowledgeBase:
    entries: list[Entry]
    drug_classes: dict[str, tuple[str, ...]]
    version: str
    released: str
    oncotree: OncoTree
    files: list[str] = field(default_factory=list)
    class_names: dict[str, str] = field(default_factory=dict)      # class -> "anti-EGFR antibodies"
    cross_resistance_classes: tuple[str, ...] = ()   # progression on one member flags the others
    _class_pattern: re.Pattern | None = field(default=None, repr=False, compare=False)
    _progressed_cache: dict = field(default_factory=dict, repr=False, compare=False)

    def expand_drugs(self, names) -> set[str]:
        """Drug and class names to lower-case drug names (a class stands for its drugs)."""
        classes = {k.lower(): v for k, v in self.drug_classes.items()}
        out = set()
        for name in names:
            key = name.strip().lower()
            out.update(d.lower() for d in classes.get(key, (key,)))
        return out

    def drug_name(self, name: str) -> str:
        """A drug as written, a class by its display name: 'anti_PD1_PDL1' -> 'anti-PD-1/PD-L1 antibodies'."""
        return self.class_names.get(name, name)

    def therapy_text(self, entry: "Entry") -> str:
        return " + ".join(self.drug_name(d) for d in entry.drugs)

    def in_words(self, text: str) -> str:
        """Class names in a text (a biomarker's 'after KRAS_G12C_inhibitor') replaced by their display names."""
        if not self.class_names:
            return text
        if self._class_pattern is None:
            self._class_pattern = re.compile(
                r"\b(" + "|".join(map(re.escape, sorted(self.class_names, key=len, reverse=True))) + r")\b")
        return self._class_pattern.sub(lambda m: self.class_names[m.group(1)], text)

    def progressed_class_members(self, drugs: tuple[str, ...], prior: frozenset[str]) -> list[tuple[str, str]]:
        """(prior drug, class display name) for each of `drugs` that shares a cross-resistance class
        with a drug the disease progressed on (`prior`: lower-case drug names); '' for the drug itself."""
        key = (tuple(drugs), frozenset(prior))
        if key not in self._progressed_cache:
            self._progressed_cache[key] = self._progressed_class_members(*key)
        return self._progressed_cache[key]

    def _progressed_class_members(self, drugs: tuple[str, ...], prior: frozenset[str]) -> list[tuple[str, str]]:
        found = []
        wanted = {d.lower() for d in drugs}
        for cls in self.cross_resistance_classes:
            members = {d.lower() for d in self.drug_classes.get(cls, ())}
            if members & wanted:   # the drug itself is named as such, below
                found += [(p, self.drug_name(cls)) for p in sorted((prior & members) - wanted)]
        return [(p, "") for p in sorted(prior & wanted)] + list(dict.fromkeys(found))


def _terms_of(expression: tuple):
    kind, body = expression
    if kind == "term":
        yield body
    else:
        for sub in body:
            yield from _terms_of(sub)


def _expression_text(expression: tuple) -> str:
    kind, body = expression
    if kind == "term":
        return body.text
    parts = [_expression_text(sub) for sub in body]
    if kind == "none":
        return "not (" + " or ".join(parts) + ")"
    joined = f" {'and' if kind == 'all' else 'or'} ".join(parts)
    return joined if len(parts) == 1 else f"({joined})"


def _schema_text() -> str:
    return resources.files("krasannot.evidence").joinpath("kb.schema.json").read_text("utf-8")


def read_yaml(text: str):
    """YAML data with the safe loader: libyaml's (C) where PyYAML was built with it, else the pure-Python one."""
    import yaml   # here, not at the top: a run that loads a checked copy never parses YAML

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _plain(value):
    """YAML dates to ISO strings, so the JSON schema sees what the file says."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _qualifiers(raw: dict) -> str:
    """' (germline, in plasma, VAF >= 5%, after KRAS_G12C_inhibitor)': what a term requires beyond the call."""
    words = [raw["origin"]] if raw.get("origin") else []
    words += [f"in {raw['specimen']}"] if raw.get("specimen") else []
    words += [f"VAF >= {raw['min_vaf']:.0%}"] if raw.get("min_vaf") else []
    words += [f"after {'/'.join(raw['prior_therapy'])}"] if raw.get("prior_therapy") else []
    words += [f"other than {', '.join(raw['other_than'])}"] if raw.get("other_than") else []
    return f" ({', '.join(words)})" if words else ""


def parse_term(raw: dict, where: str) -> Term:
    """A term mapping to a Term; ReferenceDataError naming `where` for syntax it does not know."""
    term = _parse_term(raw, where)
    qualifiers = _qualifiers(raw)
    return dataclasses.replace(term, text=term.text + qualifiers) if qualifiers else term


def _parse_term(raw: dict, where: str) -> Term:
    common = dict(origin=raw.get("origin", ""), specimen=raw.get("specimen", ""), min_vaf=raw.get("min_vaf"),
                  prior_therapy=tuple(raw.get("prior_therapy", ())), other_than=tuple(raw.get("other_than", ())))
    if "feature" in raw:
        text = raw["feature"] + (f" >= {raw['min']:g}" if "min" in raw else "")
        if raw["feature"] == "TMB" and "min" not in raw:
            raise ReferenceDataError(f"{where}: a TMB term needs `min` (mutations per megabase)")
        return Term("feature", text=text, feature=raw["feature"], minimum=raw.get("min"), **common)
    genes = (raw["gene"],) if isinstance(raw["gene"], str) else tuple(raw["gene"])
    alteration = raw["alteration"].strip()
    text = f"{'/'.join(genes)} {alteration}" + (f" ({raw['partner']})" if "partner" in raw else "")
    codons = tuple(raw.get("codons", ()))
    if codons and alteration != "wild_type":
        raise ReferenceDataError(f"{where}: `codons` belongs to wild_type terms (use 'codons 12,13' as the alteration)")
    if "partner" in raw and alteration != "fusion":
        raise ReferenceDataError(f"{where}: `partner` belongs to fusion terms")
    if alteration in CLASS_ALTERATIONS:
        if codons:
            text += " at codons " + ",".join(map(str, codons))
        return Term(alteration, genes, text, residues=codons, partner=raw.get("partner", ""), **common)
    if m := _EXACT.match(alteration):
        return Term("exact", genes, text, protein=alteration, residues=(int(m.group(2)),), ref_aa=m.group(1),
                    **common)
    if m := _RESIDUE.match(alteration):
        return Term("residue", genes, text, residues=(int(m.group(2)),), ref_aa=m.group(1), **common)
    if m := _CODONS.match(alteration):
        return Term("codons", genes, text, residues=tuple(int(c) for c in m.group(1).split(",")), **common)
    if m := _EXON.match(alteration):
        return Term("exon", genes, text, exon=int(m.group(1)), exon_event=m.group(2), **common)
    raise ReferenceDataError(
        f"{where}: unknown alteration {alteration!r}",
        hint="use p.G12C, G12, 'codons 12,13,61', 'exon 19 inframe_deletion', 'exon 20 insertion', "
             "'exon 14 skipping', or one of " + ", ".join(sorted(CLASS_ALTERATIONS)))


def _parse_expression(raw: dict, where: str) -> tuple:
    for kind in ("all", "any", "none"):
        if kind in raw:
            return kind, tuple(_parse_expression(sub, where) for sub in raw[kind])
    return "term", parse_term(raw, where)


def _entry(raw: dict, path: str) -> Entry:
    where = f"{path}: entry {raw['id']}"
    return Entry(
        id=raw["id"], tumor_types=tuple(raw["tumor_types"]), biomarker=_parse_expression(raw["biomarker"], where),
        drugs=tuple(raw["therapy"]["drugs"]), direction=raw["therapy"]["direction"], level=raw["level"],
        citations=tuple(raw["citations"]), summary=raw["summary"].strip(), last_reviewed=raw["last_reviewed"],
        excluded_tumor_types=tuple(raw.get("excluded_tumor_types", ())),
        context=raw.get("context", ""), caveats=tuple(raw.get("caveats", ())),
        resistance_tag=raw.get("resistance_tag", ""), confirmed=raw.get("confirmed", True),
        unconfirmed=raw.get("unconfirmed", ""), source=raw.get("source", "curated"),
        tumour_specific=raw.get("tumour_specific", False), setting=raw.get("setting", "any"),
        progressed_on=tuple(raw.get("progressed_on", ())), stated_level=dict(raw.get("stated_level", {})),
        preferred=raw.get("preferred", False),
        path=path)


def default_kb_dir():
    return resources.files("krasannot.resources").joinpath("evidence")


@functools.lru_cache(maxsize=1)
def shipped_kb() -> KnowledgeBase:
    """The evidence base the package ships, loaded (from its checked copy, or checked now) once per process."""
    return load_kb()


def evidence_files(directory=None, extra_files: list[str] | None = None) -> list[Path]:
    """Every *.yaml of the evidence directory (sorted, the safety rules left out), then `extra_files`."""
    directory = Path(str(directory or default_kb_dir()))
    files = sorted(p for p in directory.glob("*.yaml") if p.name != SAFETY_RULES_FILE) + \
        [Path(p) for p in extra_files or []]
    if not files:
        raise ReferenceDataError(f"{directory}: no evidence files (*.yaml)")
    return files


def load_kb(directory=None, extra_files: list[str] | None = None) -> KnowledgeBase:
    """Every *.yaml of the evidence directory (sorted), checked against the schema, parsed.

    The schema check is skipped only for content already checked: a checked copy whose key (a hash of these
    files and the schema) matches (evidence/checked.py). `extra_files` (e.g. a CIViC import) add entries;
    they never replace a curated entry's id.
    """
    files = evidence_files(directory, extra_files)
    entries, classes, version, released = [], {}, "", ""
    class_names: dict[str, str] = {}
    cross_resistance: list[str] = []
    for path, data in zip(files, checked.checked_data(files, _schema_text(), schema_checked_data)):
        version = data.get("version", version)
        released = data.get("released", released)
        classes.update({k: tuple(v) for k, v in data.get("drug_classes", {}).items()})
        class_names.update(data.get("drug_class_names", {}))
        cross_resistance += data.get("cross_resistance_classes", [])
        entries += [_entry(raw, str(path.name)) for raw in data.get("entries", [])]
    return KnowledgeBase(entries, classes, version, released, load_oncotree(), [str(p) for p in files],
                         class_names, tuple(dict.fromkeys(cross_resistance)))


def schema_checked_data(path: Path, raw: bytes, schema_text: str) -> dict:
    """One evidence file's bytes parsed as YAML and checked against the schema; ReferenceDataError naming the
    file, the place and the entry of the first problem."""
    import jsonschema   # here, not at the top: its import alone costs a tenth of a second
    import yaml

    try:
        # decoded and newline-translated as Path.read_text does, so the text is the file's either way
        data = _plain(read_yaml(raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")) or {})
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ReferenceDataError(f"{path}: not readable YAML: {exc}") from None
    errors = sorted(jsonschema.Draft202012Validator(json.loads(schema_text)).iter_errors(data),
                    key=lambda e: list(e.path))
    if errors:
        first = errors[0]
        location = "/".join(str(p) for p in first.absolute_path)
        entry_id = _entry_id_at(data, first.absolute_path)
        raise ReferenceDataError(f"{path}: {location}{entry_id}: {first.message}",
                                 hint=f"{len(errors)} schema error(s); see docs/evidence.md")
    return data


def _entry_id_at(data: dict, path) -> str:
    parts = list(path)
    if len(parts) >= 2 and parts[0] == "entries" and isinstance(parts[1], int):
        return f" (entry {data['entries'][parts[1]].get('id', '?')})"
    return ""


def validate_kb(kb: KnowledgeBase, panel_proteins: dict[str, str], known_genes: set[str]) -> list[str]:
    """Problems beyond the schema: genes, residues against the reference protein, OncoTree codes,
    levels against direction, drug classes, duplicates. An empty list means valid.

    The schema check itself runs again first, on the YAML files as they are now (a ReferenceDataError, as
    from load_kb): `kb validate` never relies on a checked copy."""
    schema_text = _schema_text()
    for path in map(Path, kb.files):
        schema_checked_data(path, path.read_bytes(), schema_text)
    problems = []
    seen_ids: dict[str, str] = {}
    seen_content: dict[tuple, str] = {}
    for entry in kb.entries:
        where = f"{entry.path}: {entry.id}"
        if entry.id in seen_ids:
            problems.append(f"{where}: duplicate id (also in {seen_ids[entry.id]})")
        seen_ids.setdefault(entry.id, entry.path)
        key = (entry.biomarker, entry.drugs, entry.direction, tuple(sorted(entry.tumor_types)))
        if key in seen_content:
            problems.append(f"{where}: duplicates entry {seen_content[key]} (same biomarker, therapy, tumour types)")
        seen_content.setdefault(key, entry.id)
        if entry.level not in LEVELS_BY_DIRECTION[entry.direction]:
            problems.append(f"{where}: level {entry.level} does not fit direction {entry.direction} "
                            f"(use one of {', '.join(LEVELS_BY_DIRECTION[entry.direction])})")
        for code in entry.tumor_types + entry.excluded_tumor_types:
            if code != TUMOUR_AGNOSTIC and code not in kb.oncotree.names:
                problems.append(f"{where}: tumour type {code} is not in the OncoTree subset")
        if _iso_date(entry.last_reviewed) is None:
            problems.append(f"{where}: last_reviewed {entry.last_reviewed!r} is not a date (YYYY-MM-DD)")
        if not entry.confirmed and not entry.unconfirmed:
            problems.append(f"{where}: confirmed is false but `unconfirmed` does not say what")
        for term in entry.terms():
            problems += _term_problems(term, where, panel_proteins, known_genes, kb)
        if entry.setting == "after_progression_on" and not entry.progressed_on:
            problems.append(f"{where}: setting after_progression_on needs `progressed_on` (drugs or classes)")
        if entry.progressed_on and entry.setting != "after_progression_on":
            problems.append(f"{where}: `progressed_on` belongs to setting after_progression_on")
        for name in entry.progressed_on:
            if name not in kb.drug_classes and not re.fullmatch(r"[a-z][a-z0-9-]*", name):
                problems.append(f"{where}: progressed_on {name!r} is neither a drug class of kb.yaml "
                                "nor a lower-case drug name")
    missing_names = sorted(set(kb.drug_classes) - set(kb.class_names))
    if missing_names:
        problems.append(f"kb.yaml: drug classes without a display name in drug_class_names: {', '.join(missing_names)}")
    if not problems:   # the safety rules, on synthetic samples: only a base that is otherwise sound
        from .safety import check_kb_safety
        problems += check_kb_safety(kb, panel_proteins)
    return problems


def _term_problems(term: Term, where: str, proteins: dict[str, str], known: set[str], kb: KnowledgeBase) -> list[str]:
    problems = []
    for drug_or_class in term.prior_therapy:
        if drug_or_class not in kb.drug_classes and not re.fullmatch(r"[a-z][a-z0-9-]*", drug_or_class):
            problems.append(f"{where}: prior_therapy {drug_or_class!r} is neither a drug class of kb.yaml "
                            "nor a lower-case drug name")
    for gene in term.genes:
        needs_sequence = term.kind in SEQUENCE_ALTERATIONS or (term.kind == "wild_type") or \
            (term.kind == "loss_of_function")
        if needs_sequence and gene not in proteins:
            problems.append(f"{where}: {term.text}: gene {gene} has no transcript in the panel bundle")
        elif gene not in known:
            problems.append(f"{where}: {term.text}: unknown gene {gene}")
        protein = proteins.get(gene, "")
        for residue in term.residues:
            if protein and residue > len(protein):
                problems.append(f"{where}: {term.text}: residue {residue} is past the end of {gene} ({len(protein)} aa)")
            elif protein and term.ref_aa and protein[residue - 1] != term.ref_aa:
                problems.append(f"{where}: {term.text}: {gene} residue {residue} is {protein[residue - 1]}, "
                                f"not {term.ref_aa}")
    if term.partner and term.partner not in known:
        problems.append(f"{where}: {term.text}: unknown partner gene {term.partner}")
    return problems


# How long a review holds, by level: trial-stage evidence moves within months, labels and guidelines within a
# year. `kb validate` warns (it does not fail) past these ages.
REVIEW_MONTHS = {"investigational": 6}
REVIEW_MONTHS_DEFAULT = 12


def _iso_date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(text))
    except ValueError:
        return None


def _months_before(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    last_day = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last_day))


def stale_entries(kb: KnowledgeBase, as_of: dt.date) -> list[str]:
    """One warning per entry whose last_reviewed is older than its level's review interval on `as_of`."""
    warnings = []
    for entry in kb.entries:
        reviewed = _iso_date(entry.last_reviewed)
        months = REVIEW_MONTHS.get(entry.level, REVIEW_MONTHS_DEFAULT)
        if reviewed is not None and reviewed < _months_before(as_of, months):
            warnings.append(f"{entry.path}: {entry.id}: last reviewed {reviewed}, more than {months} months before "
                            f"{as_of} (level {entry.level}): re-check its sources, then set last_reviewed")
    return warnings


# A release snapshot: one row per entry and drug class of a released evidence base, with a hash of its content
# (resources/evidence/releases/VERSION.tsv, written by workflow/scripts/evidence_release_snapshot.py).
RELEASES_DIR = "releases"
SNAPSHOT_COLUMNS = ("kind", "id", "file", "sha256")


def _content_hash(data) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()[:16]


def release_snapshot(directory) -> tuple[str, list[tuple[str, str, str, str]]]:
    """(version, rows) of an evidence directory, read as plain YAML so that any earlier schema reads too.

    The hash of an entry leaves out last_reviewed: a re-review that changes nothing else is no change."""
    import yaml

    version, rows = "", []
    for path in sorted(Path(str(directory)).glob("*.yaml")):
        if path.name == SAFETY_RULES_FILE:
            continue
        try:
            data = _plain(read_yaml(path.read_text("utf-8")) or {})
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise ReferenceDataError(f"{path}: not readable YAML: {exc}") from None
        version = str(data.get("version", version))
        rows += [("drug_class", name, path.name, _content_hash(sorted(members)))
                 for name, members in data.get("drug_classes", {}).items()]
        rows += [("entry", raw["id"], path.name,
                  _content_hash({k: v for k, v in raw.items() if k != "last_reviewed"}))
                 for raw in data.get("entries", [])]
    return version, rows


def write_snapshot(rows, out: Path, header: str) -> None:
    lines = [f"# {line}" for line in header.splitlines()] + ["\t".join(SNAPSHOT_COLUMNS)]
    lines += ["\t".join(row) for row in sorted(rows)]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")


def read_snapshot(path: Path) -> list[tuple[str, str, str, str]]:
    lines = [line for line in Path(path).read_text("utf-8").splitlines() if line and not line.startswith("#")]
    if not lines or tuple(lines[0].split("\t")) != SNAPSHOT_COLUMNS:
        raise ReferenceDataError(f"{path}: not a release snapshot (header {', '.join(SNAPSHOT_COLUMNS)})")
    rows = [tuple(line.split("\t")) for line in lines[1:]]
    bad = next((i for i, row in enumerate(rows, start=2) if len(row) != len(SNAPSHOT_COLUMNS)), None)
    if bad:
        raise ReferenceDataError(f"{path}: line {bad}: expected {len(SNAPSHOT_COLUMNS)} tab-separated columns")
    return rows


def release_snapshots(directory) -> dict[str, Path]:
    """version -> snapshot file of the releases folder beside the entries (oldest first)."""
    folder = Path(str(directory)) / RELEASES_DIR
    return {p.stem: p for p in sorted(folder.glob("*.tsv"), key=lambda p: _version_key(p.stem))}


def _version_key(version: str) -> tuple:
    return tuple(int(part) if part.isdigit() else part for part in version.split("."))


def compare_releases(old_rows, new_rows) -> list[tuple[str, str, str, str]]:
    """(change, kind, id, file) for what was added, removed or changed between two snapshots."""
    old = {(kind, id_): (file, digest) for kind, id_, file, digest in old_rows}
    new = {(kind, id_): (file, digest) for kind, id_, file, digest in new_rows}
    changes = [("added", *key, new[key][0]) for key in new.keys() - old.keys()]
    changes += [("removed", *key, old[key][0]) for key in old.keys() - new.keys()]
    changes += [("changed", *key, new[key][0]) for key in new.keys() & old.keys() if new[key][1] != old[key][1]]
    return sorted(changes, key=lambda c: (c[1] != "drug_class", c[3], c[0], c[2]))
