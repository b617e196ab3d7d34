"""Errors that dcmspec reports to users.

Every error a user can cause carries a :class:`Location` (``file:line:column``), the path of the
offending value inside the spec (``segments[0].type``), a message saying what is wrong and, where we
know it, a hint saying what to change. The CLI prints them without tracebacks.

The builder layer (``dcmspec_compiler.iods``) is usable on its own and raises :class:`DicomConformanceError`
(a ``ValueError``) when asked for an object the standard forbids; the pipeline catches it and attaches
the spec location of the value that caused it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

PathPart = str | int


@dataclass(frozen=True)
class Location:
    """A position in a source file; ``line`` and ``column`` are 1-based."""

    file: str | None = None
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        parts = [self.file or "<input>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)


class ErrorAt(TypedDict):
    """Where an error is, as the keyword arguments of a :class:`DcmspecError` (``InputError(msg, **at)``)."""

    location: Location | None
    path: Sequence[PathPart]


class SpecAt(TypedDict):
    """Where a value is, as the keyword arguments of the resolve functions (``load_mask(file, **at)``)."""

    location: Location | None
    spec_path: Sequence[PathPart]


def format_path(path: Sequence[PathPart]) -> str:
    """``("segments", 0, "type")`` -> ``segments[0].type``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


class DicomConformanceError(ValueError):
    """The builder layer was asked for an object that the DICOM standard forbids."""


class DcmspecError(Exception):
    """Base class of the errors a user can cause; ``exit_code`` is what the CLI returns."""

    exit_code = 1

    def __init__(
        self,
        message: str,
        *,
        location: Location | None = None,
        path: Sequence[PathPart] = (),
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.location = location
        self.path = tuple(path)
        self.hint = hint
        #: the ``--csv`` row whose values were being built when a template's line is at fault
        self.row: Location | None = None

    def format(self) -> str:
        head = f"{self.location}: " if self.location else ""
        where = f"{format_path(self.path)}: " if self.path else ""
        row = f" (CSV row {self.row})" if self.row else ""
        text = f"{head}{where}{self.message}{row}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text

    def to_json(self) -> dict[str, Any]:
        loc = self.location or Location()
        return {
            "kind": type(self).__name__,
            "file": loc.file,
            "line": loc.line,
            "column": loc.column,
            "path": format_path(self.path),
            "message": self.message,
            "hint": self.hint,
            **({"csv_row": {"file": self.row.file, "line": self.row.line}} if self.row else {}),
        }

    def __str__(self) -> str:
        return self.format()


class SpecError(DcmspecError):
    """The spec itself is wrong: syntax, schema, unknown kind, bad code or UID."""


class InputError(DcmspecError):
    """Something the spec points at is missing or unusable: source images, masks, other specs."""


class OutputError(DcmspecError):
    """The output cannot be written: exists without ``--force``, unwritable folder."""

    exit_code = 3


class ErrorList(DcmspecError):
    """Several errors found in one pass (e.g. every schema violation in a spec)."""

    def __init__(self, errors: Iterable[DcmspecError]) -> None:
        self.errors = list(errors)
        first = self.errors[0]
        super().__init__(first.message, location=first.location, path=first.path, hint=first.hint)
        self.exit_code = max(e.exit_code for e in self.errors)

    def format(self) -> str:
        return "\n".join(e.format() for e in self.errors)

    def to_json(self) -> dict[str, Any]:  # pragma: no cover - callers use .errors
        return {"errors": [e.to_json() for e in self.errors]}


def flatten(error: DcmspecError) -> list[DcmspecError]:
    """The individual errors inside ``error``."""
    return list(error.errors) if isinstance(error, ErrorList) else [error]


def in_row(errors: Iterable[DcmspecError], row: Location | None) -> list[DcmspecError]:
    """``errors`` of a template instance, each naming the CSV ``row`` it was built from (unless the error
    is located in the CSV file already)."""
    out = list(errors)
    if row is not None:
        for error in out:
            if error.row is None and (error.location is None or error.location.file != row.file):
                error.row = row
    return out
