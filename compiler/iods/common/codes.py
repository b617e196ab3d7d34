"""Coded concepts: the Code Sequence Macro (PS3.3 8.8, Table 8.8-1).

The builder layer takes :class:`pydicom.sr.coding.Code` values. :func:`code_item` turns one into a Code
Sequence item, choosing Code Value, Long Code Value (over 16 characters) or URN Code Value (PS3.3
8.8.1.1-8.8.1.3); :func:`code_from_item` reads one back.
"""

from __future__ import annotations

from pydicom.dataset import Dataset
from pydicom.sr.coding import Code

__all__ = ["Code", "code_item", "code_sequence", "code_from_item", "codes_equal"]


def code_item(code: Code) -> Dataset:
    """One Code Sequence item for ``code``."""
    item = Dataset()
    value = str(code.value)
    if value.startswith(("urn:", "http://", "https://")):
        item.URNCodeValue = value
    elif len(value) > 16:
        item.LongCodeValue = value
    else:
        item.CodeValue = value
    item.CodingSchemeDesignator = code.scheme_designator
    if code.scheme_version:
        item.CodingSchemeVersion = code.scheme_version
    item.CodeMeaning = code.meaning[:64]
    return item


def code_sequence(*codes: Code) -> list[Dataset]:
    """A Code Sequence value (a list of items) for pydicom assignment."""
    return [code_item(c) for c in codes]


def code_from_item(item: Dataset) -> Code:
    """The :class:`Code` held by a Code Sequence item."""
    value = item.get("CodeValue") or item.get("LongCodeValue") or item.get("URNCodeValue")
    return Code(
        value=str(value),
        scheme_designator=str(item.CodingSchemeDesignator),
        meaning=str(item.get("CodeMeaning", "")),
        scheme_version=item.get("CodingSchemeVersion") or None,
    )


def codes_equal(a: Code, b: Code) -> bool:
    """Same concept: scheme and value agree (meanings may differ in wording, PS3.16 8)."""
    return str(a.value) == str(b.value) and a.scheme_designator == b.scheme_designator
