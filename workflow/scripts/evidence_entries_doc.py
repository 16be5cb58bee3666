"""Write docs/evidence-entries.md: every entry of the evidence base, file by file, from the YAML itself.

    python workflow/scripts/evidence_entries_doc.py [--kb-dir resources/evidence] [--out docs/evidence-entries.md]

Run it whenever an evidence file changes (README, "Proposing an evidence change"); never edit the page by hand.
"""

from __future__ import annotations

import argparse
import sys
from itertools import groupby
from pathlib import Path

from krasannot.evidence.kb import load_kb

COLUMNS = ("id", "tumour types", "biomarker", "therapy", "direction", "level", "setting", "tumour-specific",
           "citations", "last reviewed", "confirmed")


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _setting(entry, kb) -> str:
    if entry.setting == "after_progression_on":
        return "after progression on (" + ", ".join(kb.drug_name(d) for d in entry.progressed_on) + ")"
    return entry.setting.replace("_", " ")


def entries_page(kb) -> str:
    n_citations = sum(len(e.citations) for e in kb.entries)
    lines = [
        "# Evidence entries", "",
        f"Every entry of the evidence base {kb.version} (released {kb.released}), file by file: {len(kb.entries)} "
        f"entries, {n_citations} citations. The data are `resources/evidence/*.yaml` (schema and term grammar: "
        "[evidence.md](evidence.md)); `krasannot kb show` prints the same from the installed files, and "
        "`krasannot kb show --changes` what changed since the previous release. `confirmed: no` names what could "
        "not be confirmed (an approval date, a per-mutation claim, a cohort result); identifiers (PMID, NCT) that "
        "could not be confirmed are left out, never guessed. `setting` is the line of therapy the entry is for "
        "(ranking, README); `tumour-specific` entries are never offered off-label. `last reviewed` is the day the "
        "entry was last checked against its sources (`krasannot kb validate` warns after 12 months, 6 for "
        "investigational entries). Written by `workflow/scripts/evidence_entries_doc.py`; do not edit by hand.",
    ]
    for path, entries in groupby(kb.entries, key=lambda e: e.path):
        lines += ["", f"## {path}", "", "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
        for e in entries:
            cells = [e.id, ", ".join(e.tumor_types), kb.in_words(e.biomarker_text()), kb.therapy_text(e),
                     e.direction, e.level, _setting(e, kb), "yes" if e.tumour_specific else "", len(e.citations),
                     e.last_reviewed, "yes" if e.confirmed else f"no: {e.unconfirmed}"]
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb-dir", help="evidence directory (default: the shipped one)")
    parser.add_argument("--out", default="docs/evidence-entries.md")
    args = parser.parse_args(argv)
    kb = load_kb(args.kb_dir)
    Path(args.out).write_text(entries_page(kb), encoding="utf-8")
    print(f"{args.out}: {len(kb.entries)} entries of evidence base {kb.version}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
