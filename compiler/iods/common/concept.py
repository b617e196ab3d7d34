"""A coded concept (PS3.3 8.8): Code Value, Coding Scheme Designator, Code Meaning, Coding Scheme Version.

:class:`Code` has the fields, order, equality and hash of :class:`pydicom.sr.coding.Code` (a named
tuple too), so either can be given to the builder layer and they compare equal; it lives here because
importing ``pydicom.sr.coding`` loads pydicom's whole code dictionary (``pydicom.sr.__init__`` imports
``codedict``), about 0.1 s of start-up that a build with explicit codes does not need.
"""

from __future__ import annotations

from typing import Any, NamedTuple, TypeGuard

__all__ = ["Code", "is_code"]

_FIELDS = ("value", "scheme_designator", "meaning", "scheme_version")


def _concept(code: Any) -> tuple[str, str, Any]:
    """``(value, scheme, version)`` with SNOMED-RT (SRT) codes mapped to SNOMED CT (SCT) as pydicom does
    (PS3.16 8: SRT was replaced by SCT; the same concept under either designator is equal)."""
    value, scheme = code.value, code.scheme_designator
    if scheme == "SRT":
        from pydicom.sr._snomed_dict import mapping  # only when an SRT code is compared

        if value in mapping["SRT"]:
            value, scheme = mapping["SRT"][value], "SCT"
    return value, scheme, code.scheme_version


class Code(NamedTuple):
    """A coded concept; equal to another when value, scheme (SRT mapped to SCT) and version agree,
    whatever the meanings (PS3.16 8: meanings may differ in wording)."""

    value: str
    scheme_designator: str
    meaning: str
    scheme_version: str | None = None

    def __hash__(self) -> int:
        return hash(self.scheme_designator + self.value)

    def __eq__(self, other: Any) -> bool:
        if not is_code(other):
            return NotImplemented
        return _concept(self) == _concept(other)

    def __ne__(self, other: Any) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal


def is_code(value: Any) -> TypeGuard[Code]:
    """A :class:`Code`, or pydicom's ``Code`` (a named tuple with the same fields)."""
    return isinstance(value, tuple) and getattr(value, "_fields", None) == _FIELDS
