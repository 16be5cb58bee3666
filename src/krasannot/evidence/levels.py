"""One evidence scale of our own, mapped here (and only here) to AMP/ASCO/CAP, ESCAT and OncoKB-style levels.

The table in docs/evidence.md is this dict, in words. Order is the sort order of matches.
"""

from __future__ import annotations

# level: (AMP/ASCO/CAP tier, ESCAT, OncoKB-style)
LEVELS: dict[str, tuple[str, str, str]] = {
    "approved": ("Tier I, Level A", "I-A", "1"),
    "guideline": ("Tier I, Level A", "I-A", "2"),
    # trial evidence that is not standard care (a small subgroup, a low-response monotherapy): AMP Tier II,
    # Level C by default; an entry with stronger, cited support states its own level (stated_level)
    "clinical": ("Tier II, Level C", "II-B", "3A"),
    "other_tumor_type": ("Tier II, Level C", "III-A", "3B"),
    "investigational": ("Tier II, Level D", "IV-A", "4"),
    "resistance_standard": ("Tier I, Level A", "", "R1"),
    "resistance_clinical": ("Tier II, Level C", "", "R2"),
    "prognostic_strong": ("Tier I, Level B", "", "Px1"),
    "prognostic_clinical": ("Tier II, Level C", "", "Px2"),
}
LEVEL_ORDER = {level: rank for rank, level in enumerate(LEVELS)}

# levels a sensitive entry may carry, and those of resistant and prognostic entries
SENSITIVE_LEVELS = ["approved", "guideline", "clinical", "other_tumor_type", "investigational"]
RESISTANT_LEVELS = ["resistance_standard", "resistance_clinical"]
PROGNOSTIC_LEVELS = ["prognostic_strong", "prognostic_clinical"]
LEVELS_BY_DIRECTION = {"sensitive": SENSITIVE_LEVELS, "resistant": RESISTANT_LEVELS,
                       "prognostic": PROGNOSTIC_LEVELS}

# an off-label match (another tumour type's standard option) is shown at this level
OFF_LABEL_LEVEL = "other_tumor_type"
OFF_LABEL_SOURCE_LEVELS = ("approved", "guideline")


def amp_tier(level: str) -> str:
    return LEVELS[level][0]


def escat(level: str) -> str:
    return LEVELS[level][1]


def oncokb_level(level: str) -> str:
    return LEVELS[level][2]


def stated_or_default(level: str, stated: dict) -> tuple[str, str]:
    """(AMP/ASCO/CAP, ESCAT) of a match: the entry's stated_level where it gives one, else the mapping.
    An off-label match keeps the mapping of its own level: the entry's statement is about its tumour types."""
    return stated.get("amp_asco_cap") or amp_tier(level), stated.get("escat") or escat(level)
