"""The input's own annotation (VEP CSQ, SnpEff ANN) on our transcript, beside ours."""

from __future__ import annotations

import re
from urllib.parse import unquote

import numpy as np
import pandas as pd

from .. import columns as C
from ..models import THREE_LETTER
from ..reference.bundle import Panel

_ONE_LETTER = {three: one for one, three in THREE_LETTER.items()}
_THREE = re.compile("|".join(sorted(_ONE_LETTER, key=len, reverse=True)))


def short_protein_change(hgvsp: str) -> str:
    """'ENSP00000256078.4:p.Gly12Cys' or 'p.Leu335%3D' -> 'p.G12C' / 'p.L335='."""
    text = unquote(hgvsp.split(":")[-1])
    if not text.startswith("p."):
        return ""
    return "p." + _THREE.sub(lambda m: _ONE_LETTER[m.group(0)], text[2:].strip("()"))


def _accession(identifier: str) -> str:
    return identifier.split(".")[0]


def attach_source_annotation(annotated: pd.DataFrame, panel: Panel) -> pd.DataFrame:
    """Fill source_gene/transcript/hgvsp_short from each row's CSQ/ANN entries.

    The entry on our transcript (any of its ids, versions ignored) is taken; else the first
    entry for our gene, so a disagreement can be seen to come from another transcript.
    """
    if C.SOURCE_ENTRIES not in annotated:
        return annotated
    ids = {tx.transcript: {_accession(t) for t in [tx.transcript, *tx.aliases]} for tx in panel.transcripts}
    genes, transcripts, changes = [], [], []
    for entries, gene, transcript in zip(annotated[C.SOURCE_ENTRIES], annotated[C.GENE], annotated[C.TRANSCRIPT]):
        entries = entries if isinstance(entries, list) else []
        ours = ids.get(transcript, set())
        chosen = next((e for e in entries if ours & {_accession(t) for t in e[1]}), None) or \
            next((e for e in entries if gene and e[0] == gene), None)
        genes.append(chosen[0] if chosen else "")
        transcripts.append(",".join(chosen[1]) if chosen else "")
        changes.append(short_protein_change(chosen[2]) if chosen else "")
    out = annotated.drop(columns=[C.SOURCE_ENTRIES])
    out[C.SOURCE_GENE] = np.array(genes, dtype=object)
    out[C.SOURCE_TRANSCRIPT] = np.array(transcripts, dtype=object)
    out[C.SOURCE_HGVSP_SHORT] = np.array(changes, dtype=object)
    return out
