"""Annotations a VCF already carries: VEP `CSQ` and SnpEff `ANN`, read so ours can be compared.

The field order comes from the header (`##INFO=<ID=CSQ,...Format: Allele|Consequence|...>`,
`##INFO=<ID=ANN,...'Allele | Annotation | ...'>`). For each ALT allele we keep every entry
as (gene symbol, transcript ids, HGVSp); annotate/source.py picks the one on our transcript.
"""

from __future__ import annotations

import re

_CSQ_FORMAT = re.compile(r'Format: ?([^">]+)')
_ANN_FORMAT = re.compile(r"'([^']+)'")
# field names that carry the same thing in VEP and SnpEff
_SYMBOL = ("SYMBOL", "Gene_Name")
_FEATURE = ("Feature", "Feature_ID", "RefSeq")
_HGVSP = ("HGVSp", "HGVS.p")


def annotation_formats(meta_lines: list[str]) -> dict[str, list[str]]:
    """{"CSQ": [field names], "ANN": [...]} for the tags the header declares."""
    formats = {}
    for line in meta_lines:
        for tag, pattern in (("CSQ", _CSQ_FORMAT), ("ANN", _ANN_FORMAT)):
            if line.startswith(f"##INFO=<ID={tag},"):
                match = pattern.search(line)
                if match:
                    formats[tag] = [name.strip() for name in match.group(1).split("|")]
    return formats


def _allele_matches(value: str, ref: str, alt: str) -> bool:
    # VEP drops the base REF and ALT share ("-" when nothing is left); SnpEff keeps the ALT
    shared = ref[:1] == alt[:1] and (len(ref) > 1 or len(alt) > 1)
    return value == alt or (shared and value == (alt[1:] or "-"))


def allele_entries(info: str, formats: dict[str, list[str]], ref: str, alt: str,
                   allele_number: int) -> list[tuple[str, tuple[str, ...], str]]:
    """Entries of CSQ/ANN for one ALT allele: (symbol, transcript ids, HGVSp as written)."""
    entries = []
    for item in info.split(";"):
        tag, _, value = item.partition("=")
        names = formats.get(tag)
        if not names or not value:
            continue
        index = {name: i for i, name in enumerate(names)}
        for entry in value.split(","):
            fields = entry.split("|")

            def get(options: tuple[str, ...]) -> list[str]:
                return [fields[index[o]].strip() for o in options if o in index and index[o] < len(fields)]

            number = get(("ALLELE_NUM",))
            if number and number[0]:
                if number[0] != str(allele_number):
                    continue
            elif not _allele_matches(get(("Allele",))[0] if get(("Allele",)) else "", ref, alt):
                continue
            symbol = next(iter(get(_SYMBOL)), "")
            transcripts = tuple(t for t in get(_FEATURE) if t)
            hgvsp = next(iter(get(_HGVSP)), "")
            entries.append((symbol, transcripts, hgvsp))
    return entries
