"""Turn the code forms a spec may use into :class:`pydicom.sr.coding.Code` values.

Forms (schema ``definitions.schema.json#/$defs/code``):
- ``{scheme: SCT, value: "10200004", meaning: Liver}``: an explicit triple;
- ``SCT:10200004 "Liver"``: the compact form;
- ``SCT:10200004``: a code the DICOM code dictionary (pydicom's, from PS3.16) knows; it gives the meaning;
- ``Liver`` or ``SCT:Liver``: a keyword of that dictionary.

A meaning that disagrees with the dictionary for a code it knows gives a warning naming the expected
meaning (schemes revise wording, so it is not an error). Unknown keywords are errors with suggestions.
"""

from __future__ import annotations

import difflib
import re
from functools import lru_cache
from typing import Any, Callable

from pydicom.sr.coding import Code

from ..errors import Location, PathPart, SpecError

_COMPACT = re.compile(r'^(?:(?P<scheme>[A-Za-z0-9][A-Za-z0-9_.\-]*):)?(?P<value>[^\s"]+)(?:\s+"(?P<meaning>[^"]*)")?\s*$')
# Schemes searched for a bare keyword, in this order.
_KEYWORD_SCHEMES = ("SCT", "DCM", "UCUM", "LN", "FMA", "NCIt", "UMLS")


@lru_cache(maxsize=1)
def _dictionary() -> tuple[dict[str, dict[str, tuple[str, str]]], dict[tuple[str, str], str]]:
    """``{scheme: {keyword: (value, meaning)}}`` and ``{(scheme, value): meaning}`` from pydicom."""
    from pydicom.sr._concepts_dict import concepts

    by_keyword: dict[str, dict[str, tuple[str, str]]] = {}
    by_value: dict[tuple[str, str], str] = {}
    for scheme, entries in concepts.items():
        table = by_keyword.setdefault(scheme, {})
        for keyword, values in entries.items():
            for value, (meaning, _cids) in values.items():
                table.setdefault(keyword, (value, meaning))
                by_value.setdefault((scheme, str(value)), meaning)
    return by_keyword, by_value


def dictionary_meaning(scheme: str, value: str) -> str | None:
    """The meaning the code dictionary gives ``scheme:value``, if it knows it."""
    return _dictionary()[1].get((scheme, str(value)))


def _from_keyword(keyword: str, scheme: str | None) -> Code | None:
    by_keyword = _dictionary()[0]
    schemes = [scheme] if scheme else [s for s in _KEYWORD_SCHEMES if s in by_keyword] + sorted(
        s for s in by_keyword if s not in _KEYWORD_SCHEMES)
    for s in schemes:
        hit = by_keyword.get(s, {}).get(keyword)
        if hit:
            return Code(hit[0], s, hit[1])
    return None


def _suggest(keyword: str, scheme: str | None) -> str:
    by_keyword = _dictionary()[0]
    pool = list(by_keyword.get(scheme, {})) if scheme else [k for s in _KEYWORD_SCHEMES for k in by_keyword.get(s, {})]
    close = difflib.get_close_matches(keyword, pool, n=3, cutoff=0.75)
    return f"did you mean {', '.join(close)}? " if close else ""


Warn = Callable[[str, Location, tuple], None]


def resolve_code(value: Any, *, location: Location | None = None, path: tuple[PathPart, ...] = (),
                 warn: Warn | None = None) -> Code:
    """The :class:`Code` a spec value stands for; raises :class:`SpecError` when it cannot."""
    if isinstance(value, dict):
        scheme, code_value, meaning = value["scheme"], str(value["value"]), value["meaning"]
        version = value.get("version")
        if not code_value.strip():
            vpath = tuple(path) + ("value",)
            raise SpecError("the Code Value is empty", location=location, path=vpath,
                            hint="a code needs its value (PS3.3 8.8)")
    else:
        text = str(value).strip()
        match = _COMPACT.match(text)
        if not match:
            raise SpecError(f"{text!r} is not a code", location=location, path=path,
                            hint='write SCHEME:VALUE "Meaning", e.g. SCT:10200004 "Liver", or a keyword like Liver')
        scheme, code_value, meaning = match["scheme"], match["value"], match["meaning"]
        version = None
        if scheme is None:
            code = _from_keyword(code_value, None)
            if code is None:
                raise SpecError(f"unknown code keyword {code_value!r}", location=location, path=path,
                                hint=_suggest(code_value, None) + 'or write SCHEME:VALUE "Meaning"')
            if meaning is not None and meaning != code.meaning and warn:
                warn(f"the meaning of {code.scheme_designator}:{code.value} is {code.meaning!r}", location, path)
            return code
        if meaning is None:
            known = dictionary_meaning(scheme, code_value)
            if known is not None:
                return Code(code_value, scheme, known)
            code = _from_keyword(code_value, scheme)
            if code is not None:
                return code
            raise SpecError(f"code {scheme}:{code_value} needs a meaning: the DICOM code dictionary does not know it",
                            location=location, path=path,
                            hint=f'write {scheme}:{code_value} "Meaning" ' + _suggest(code_value, scheme).rstrip())
    if not meaning:
        raise SpecError("a code meaning may not be empty", location=location, path=path)
    if len(meaning) > 64:
        raise SpecError(f"code meaning {meaning!r} is longer than 64 characters (LO)", location=location, path=path)
    known = dictionary_meaning(scheme, code_value)
    if known is not None and known != meaning and warn is not None:
        warn(f"code {scheme}:{code_value} means {known!r} in the DICOM code dictionary, not {meaning!r}",
             location, path)
    return Code(code_value, scheme, meaning, scheme_version=version)
