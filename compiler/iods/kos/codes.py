"""Codes of TID 2010 (PS3.16): the document titles of CID 7010 and the title modifiers of CID 7011/7012.

The context groups come from pydicom's copy of PS3.16 (``pydicom.sr.codedict``), so they follow the
standard's tables rather than a list kept here.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from ...errors import DicomConformanceError
from ..common.concept import Code, is_code

__all__ = [
    "BEST_IN_SET",
    "DOCUMENT_TITLE_MODIFIER",
    "KEY_OBJECT_DESCRIPTION",
    "QUALITY_ISSUE",
    "REJECTED_FOR_QUALITY_REASONS",
    "check_title",
    "check_title_modifiers",
    "context_group",
]

DOCUMENT_TITLE_MODIFIER = Code("113011", "DCM", "Document Title Modifier")
KEY_OBJECT_DESCRIPTION = Code("113012", "DCM", "Key Object Description")
REJECTED_FOR_QUALITY_REASONS = Code("113001", "DCM", "Rejected for Quality Reasons")
QUALITY_ISSUE = Code("113010", "DCM", "Quality Issue")
BEST_IN_SET = Code("113013", "DCM", "Best In Set")


@cache
def context_group(cid: int) -> dict[tuple[str, str], Code]:
    """CID ``cid`` as {(scheme, value): Code}, from pydicom's PS3.16 tables."""
    from pydicom.sr.codedict import codes

    group = getattr(codes, f"CID{cid}")
    out = {}
    for keyword in group.dir():
        code = getattr(group, keyword)
        out[(code.scheme_designator, code.value)] = Code(code.value, code.scheme_designator, code.meaning)
    return out


def _key(code: Code) -> tuple[str, str]:
    return (code.scheme_designator, code.value)


def _listing(cid: int) -> str:
    return ", ".join(f'{c.scheme_designator}:{c.value} "{c.meaning}"' for c in context_group(cid).values())


def check_title(title: Code) -> Code:
    """``title`` if it is a code of CID 7010 (Key Object Selection Document Title); raises otherwise."""
    if not is_code(title):
        raise DicomConformanceError(f"the KOS title must be a Code, got {type(title).__name__}")
    if _key(title) not in context_group(7010):
        raise DicomConformanceError(
            f'{title.scheme_designator}:{title.value} "{title.meaning}" is not a Key Object Selection Document'
            ' Title (PS3.16 TID 2010 row 1 takes CID 7010, e.g. DCM:113000 "Of Interest",'
            ' DCM:113004 "For Teaching", DCM:113010 "Quality Issue")'
        )
    return title


def check_title_modifiers(title: Code, modifiers: Sequence[Code]) -> list[Code]:
    """The Document Title Modifiers TID 2010 rows 2-3 allow for ``title``; raises otherwise.

    Quality titles ("Rejected for Quality Reasons", "Quality Issue") need one or more CID 7011 codes;
    "Best In Set" takes at most one CID 7012 code; other titles take none (TID 2010 defines none for them).
    """
    modifiers = list(modifiers)
    for m in modifiers:
        if not is_code(m):
            raise DicomConformanceError(f"a title modifier must be a Code, got {type(m).__name__}")
    if _key(title) in (_key(REJECTED_FOR_QUALITY_REASONS), _key(QUALITY_ISSUE)):
        if not modifiers:
            raise DicomConformanceError(
                f'the title "{title.meaning}" needs at least one Document Title Modifier saying what is wrong'
                f" (PS3.16 TID 2010 row 2, CID 7011: {_listing(7011)})"
            )
        bad = [m for m in modifiers if _key(m) not in context_group(7011)]
        if bad:
            raise DicomConformanceError(
                f'{bad[0].scheme_designator}:{bad[0].value} "{bad[0].meaning}" is not in CID 7011 (Rejected for'
                f" Quality Reasons), which TID 2010 row 2 requires: {_listing(7011)}"
            )
    elif _key(title) == _key(BEST_IN_SET):
        if len(modifiers) > 1 or any(_key(m) not in context_group(7012) for m in modifiers):
            raise DicomConformanceError(
                f'"Best In Set" takes at most one Document Title Modifier from CID 7012: {_listing(7012)}'
                " (PS3.16 TID 2010 row 3)"
            )
    elif modifiers:
        raise DicomConformanceError(
            f'TID 2010 defines no Document Title Modifier for the title "{title.meaning}"; modifiers go with'
            ' "Rejected for Quality Reasons", "Quality Issue" (CID 7011) and "Best In Set" (CID 7012)'
        )
    return modifiers
