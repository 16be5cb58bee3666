"""The OncoTree subset shipped in resources/oncotree/: codes, names and the parent of each."""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from importlib import resources

from ..errors import ReferenceDataError, UsageError

TUMOUR_AGNOSTIC = "tumour_agnostic"


@dataclass(frozen=True)
class OncoTree:
    names: dict[str, str]          # code -> name
    parents: dict[str, str]        # code -> parent code ("" for a tissue root)
    version: str

    def lineage(self, code: str) -> list[str]:
        """The code and its ancestors, nearest first (LUAD, NSCLC, LUNG)."""
        chain = [code]
        while self.parents.get(chain[-1]):
            chain.append(self.parents[chain[-1]])
        return chain

    def check(self, code: str, what: str = "tumour type") -> str:
        """The code in canonical (upper) case, or a UsageError that suggests the closest codes."""
        canonical = code.strip().upper()
        if canonical in self.names:
            return canonical
        by_name = {name.upper(): c for c, name in self.names.items()}
        close = difflib.get_close_matches(canonical, list(self.names), n=3, cutoff=0.5)
        close += [by_name[n] for n in difflib.get_close_matches(canonical, list(by_name), n=3, cutoff=0.6)]
        hint = ("closest: " + ", ".join(f"{c} ({self.names[c]})" for c in dict.fromkeys(close))
                if close else "use an OncoTree code such as LUAD, NSCLC, COADREAD or PAAD")
        raise UsageError(f"unknown {what} {code!r}: not an OncoTree code in the shipped subset "
                         f"({self.version})", hint=hint)


def load_oncotree() -> OncoTree:
    text = resources.files("krasannot.resources").joinpath("oncotree/oncotree.json").read_text("utf-8")
    data = json.loads(text)
    nodes = data["nodes"] if isinstance(data, dict) else data
    version = data.get("version", "") if isinstance(data, dict) else ""
    names = {n["code"]: n["name"] for n in nodes}
    parents = {n["code"]: n.get("parent") or "" for n in nodes}
    missing = sorted({p for p in parents.values() if p and p not in names})
    if missing:
        raise ReferenceDataError(f"resources/oncotree/oncotree.json: parent codes not in the tree: {missing}")
    return OncoTree(names, parents, version)
