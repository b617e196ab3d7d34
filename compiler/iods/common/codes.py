"""Coded concepts: the Code Sequence Macro (PS3.3 8.8, Table 8.8-1).

The builder layer takes :class:`~.concept.Code` values (or pydicom's ``Code``, which compares equal). :func:`code_item`
turns one into a Code
Sequence item, choosing Code Value, Long Code Value (over 16 characters) or URN Code Value (PS3.3
8.8.1.1-8.8.1.3); :func:`code_from_item` reads one back.
"""

from __future__ import annotations

from typing import Any

from pydicom import config
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag
from pydicom.valuerep import validate_value

from ...errors import DicomConformanceError
from .concept import Code
from .vr import check_value

__all__ = ["Code", "code_from_item", "code_item", "code_sequence", "codes_equal", "set_element"]

_PIXEL_REPRESENTATION = BaseTag(0x00280103)
# VRs whose str values pydicom keeps as they are once validated (no backslash: no multi-value split)
_PLAIN_TEXT_VRS = frozenset({"AE", "AS", "CS", "LO", "LT", "SH", "ST", "UC", "UR", "UT"})
_VALID: set[tuple[str, str]] = set()  # (VR, value) pairs pydicom's validation accepts
_VALID_MAX = 100_000


def set_element(ds: Dataset, tag: BaseTag, vr: str, value: Any) -> DataElement:
    """``ds.<keyword> = value`` without the keyword machinery, for the hot constructors.

    ``tag`` is a :class:`~pydicom.tag.BaseTag` and ``vr`` its dictionary VR (the callers use module
    constants, checked against pydicom's dictionary by the tests). The element is the one the keyword
    assignment makes: pydicom converts and validates the value as usual.
    """
    check_value(tag, vr, value)
    elements = ds._dict
    if tag in elements:
        elem = ds[tag]
        elem.value = value
        ds[tag] = elem
        return elem
    if type(value) is str and vr in _PLAIN_TEXT_VRS and "\\" not in value:
        key = (vr, value)
        if key in _VALID:
            # the value pydicom would validate (valid, so nothing to warn about) and keep as it is
            elem = DataElement(tag, vr, value, already_converted=True)
        else:
            elem = DataElement(tag, vr, value)
            if len(_VALID) < _VALID_MAX:
                try:
                    validate_value(vr, value, config.RAISE)
                except ValueError:
                    pass
                else:
                    _VALID.add(key)
    else:
        elem = DataElement(tag, vr, value)
    if vr == "SQ" and (_PIXEL_REPRESENTATION in elements or hasattr(ds, "_pixel_rep")):
        ds[tag] = elem  # pydicom passes Pixel Representation on to the items
    else:
        elements[tag] = elem
    return elem


CODE_VALUE = BaseTag(0x00080100)
CODING_SCHEME_DESIGNATOR = BaseTag(0x00080102)
CODING_SCHEME_VERSION = BaseTag(0x00080103)
CODE_MEANING = BaseTag(0x00080104)
LONG_CODE_VALUE = BaseTag(0x00080119)
URN_CODE_VALUE = BaseTag(0x00080120)


def code_item(code: Code) -> Dataset:
    """One Code Sequence item for ``code``."""
    item = Dataset()
    value = str(code.value)
    if not value.strip():
        raise DicomConformanceError(f"the code {code.meaning!r} has an empty Code Value (PS3.3 8.8: Type 1C)")
    if value.startswith(("urn:", "http://", "https://")):
        set_element(item, URN_CODE_VALUE, "UR", value)
    elif len(value) > 16:
        set_element(item, LONG_CODE_VALUE, "UC", value)
    else:
        set_element(item, CODE_VALUE, "SH", value)
    set_element(item, CODING_SCHEME_DESIGNATOR, "SH", code.scheme_designator)
    if code.scheme_version:
        set_element(item, CODING_SCHEME_VERSION, "SH", code.scheme_version)
    if len(code.meaning) > 64:  # LO (PS3.5 6.2): refused, never cut
        raise DicomConformanceError(f"Code Meaning {code.meaning!r} is longer than 64 characters (LO, PS3.5 6.2)")
    set_element(item, CODE_MEANING, "LO", code.meaning)
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
