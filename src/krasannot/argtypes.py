"""argparse value types that refuse out-of-range numbers (naming the range) and malformed dates."""

from __future__ import annotations

import argparse
import datetime as dt
import math
import re


def _number(text: str, kind: type) -> float | int:
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {'an integer' if kind is int else 'a number'}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def at_least(minimum: float, kind: type = float):
    """A number >= minimum: `--tmb` (mut/Mb), `--min-mapq` ..."""
    def parse(text: str):
        value = _number(text, kind)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{text} is below {minimum:g}; give a value of at least {minimum:g}")
        return value
    parse.__name__ = f"number >= {minimum:g}"
    return parse


def fraction(text: str) -> float:
    """A fraction in [0, 1] (a VAF difference)."""
    value = _number(text, float)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text} is not a fraction between 0 and 1")
    return value


def iso_date(text: str) -> dt.date:
    """A date written YYYY-MM-DD (`kb validate --as-of`)."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def safe_id(text: str) -> str:
    """An id that can name files (`compare --patient`): no path separators, no '..'."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}", text) or ".." in text:
        raise argparse.ArgumentTypeError(f"{text!r} is not a safe id (letters, digits, '.', '_' and '-' only)")
    return text
