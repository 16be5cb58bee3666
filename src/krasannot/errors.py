"""Exception hierarchy. Library code raises these; only cli.py turns them into exit codes."""

from __future__ import annotations


class KrasannotError(Exception):
    """An error the user can fix: the message names the file, the line and what to do."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 hint: str | None = None) -> None:
        self.path = path
        self.line = line
        self.hint = hint
        super().__init__(message)

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = f"{self.path}"
            if self.line is not None:
                where += f":{self.line}"
            where += ": "
        text = f"{where}{self.args[0]}"
        if self.hint:
            text += f" ({self.hint})"
        return text


class InputFormatError(KrasannotError):
    """A file is malformed, truncated, mis-encoded or lacks a required field."""


class BuildMismatchError(KrasannotError):
    """The input's coordinates or REF alleles do not fit the requested genome build."""


class ReferenceDataError(KrasannotError):
    """A transcript bundle, GTF or FASTA is missing, malformed or inconsistent."""


class UsageError(KrasannotError):
    """Arguments that cannot work together, or an unknown value."""
