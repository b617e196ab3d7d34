"""Turn the code forms a spec may use into :class:`~dcmspec_compiler.iods.common.concept.Code` values.

Forms (schema ``definitions.schema.json#/$defs/code``):
- ``{scheme: SCT, value: "10200004", meaning: Liver}``: an explicit triple;
- ``SCT:10200004 "Liver"``: the compact form;
- ``SCT:10200004``: a code the DICOM code dictionary (pydicom's, from PS3.16; stored by :mod:`.code_table`)
  knows; it gives the meaning;
- ``Liver`` or ``SCT:Liver``: a keyword of that dictionary.

A meaning that disagrees with the dictionary for a code it knows gives a warning naming the expected
meaning (schemes revise wording, so it is not an error). Unknown keywords are errors with suggestions.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from ..errors import Location, PathPart, SpecError
from ..iods.common.concept import Code

_COMPACT = re.compile(
    r'^(?:(?P<scheme>[A-Za-z0-9][A-Za-z0-9_.\-]*):)?(?P<value>[^\s"]+)'
    r'(?:\s+"(?P<meaning>[^"]*)")?\s*$'
)
# Schemes searched for a bare keyword, in this order.
_KEYWORD_SCHEMES = ("SCT", "DCM", "UCUM", "LN", "FMA", "NCIt", "UMLS")


@lru_cache(maxsize=1)
def _table() -> tuple[tuple[str, ...], _Section, _Section]:
    """The schemes and the two sections of the code dictionary :mod:`.code_table` stored (pydicom's,
    from PS3.16); read on the first code, not at start-up."""
    from .code_table import TABLE

    raw = TABLE.read_bytes()
    schemes_at = raw.index(b"\n") + 1
    by_value_at = raw.index(b"\n", schemes_at)  # each section from the newline before its first line
    by_keyword_at = raw.index(b"\n\n", by_value_at) + 1
    end = raw.index(b"\n\n", by_keyword_at) + 1
    schemes = raw[schemes_at:by_value_at].decode("utf-8").split("\t")
    return tuple(schemes), _Section(raw, by_value_at, by_keyword_at), _Section(raw, by_keyword_at, end)


class _Section:
    """One section of the table, ``data[start:end]``: alternating key and value lines, each after a
    newline. The first lookups find the key's line in the bytes (a spec has a few codes; decoding the
    table into dictionaries costs about 0.02 s of every start), later ones use a dictionary built on the
    :data:`SEARCHES` th."""

    SEARCHES = 32

    def __init__(self, data: bytes, start: int, end: int) -> None:
        self._data, self._start, self._end = data, start, end
        self._searches = 0
        self._dict: dict[str, str] | None = None

    def get(self, key: str) -> str | None:
        if self._dict is None and self._searches < self.SEARCHES:
            self._searches += 1
            return self.search(key)
        return self.as_dict().get(key)

    def search(self, key: str) -> str | None:
        """The value line after the key line ``key``, found in the bytes."""
        if "\n" in key:
            return None
        data, start, end = self._data, self._start, self._end
        needle = b"\n" + key.encode("utf-8", "surrogatepass") + b"\n"
        at = data.find(needle, start, end)
        while at >= 0 and data.count(b"\n", start, at) % 2:  # a value line that reads like the key
            at = data.find(needle, at + 1, end)
        if at < 0:
            return None
        value_at = at + len(needle)
        return data[value_at : data.index(b"\n", value_at)].decode("utf-8")

    def as_dict(self) -> dict[str, str]:
        if self._dict is None:
            lines = self._data[self._start + 1 : self._end - 1].decode("utf-8").split("\n")
            self._dict = dict(zip(lines[0::2], lines[1::2]))
        return self._dict


def dictionary_meaning(scheme: str, value: str) -> str | None:
    """The meaning the code dictionary gives ``scheme:value``, if it knows it."""
    return _table()[1].get(f"{scheme}:{value}")


def _keyword_schemes(scheme: str | None) -> list[str]:
    if scheme:
        return [scheme]
    known = _table()[0]
    return [s for s in _KEYWORD_SCHEMES if s in known] + sorted(s for s in known if s not in _KEYWORD_SCHEMES)


def _from_keyword(keyword: str, scheme: str | None) -> Code | None:
    by_keyword = _table()[2]
    for s in _keyword_schemes(scheme):
        hit = by_keyword.get(f"{s}:{keyword}")
        if hit:
            value, meaning = hit.split("\t", 1)
            return Code(value, s, meaning)
    return None


def _suggest(keyword: str, scheme: str | None) -> str:
    schemes = [scheme] if scheme else list(_KEYWORD_SCHEMES)
    prefixes = tuple(f"{s}:" for s in schemes)
    pool = [key.split(":", 1)[1] for key in _table()[2].as_dict() if key.startswith(prefixes)]
    close = difflib.get_close_matches(keyword, pool, n=3, cutoff=0.75)
    return f"did you mean {', '.join(close)}? " if close else ""


Warn = Callable[[str, Location | None, tuple[PathPart, ...]], None]


def resolve_code(
    value: Any, *, location: Location | None = None, path: tuple[PathPart, ...] = (), warn: Warn | None = None
) -> Code:
    """The :class:`Code` a spec value stands for; raises :class:`SpecError` when it cannot."""
    if isinstance(value, dict):
        scheme, code_value, meaning = value["scheme"], str(value["value"]), value["meaning"]
        version = value.get("version")
        if not code_value.strip():
            vpath = tuple(path) + ("value",)
            raise SpecError(
                "the Code Value is empty", location=location, path=vpath, hint="a code needs its value (PS3.3 8.8)"
            )
    else:
        text = str(value).strip()
        match = _COMPACT.match(text)
        if not match:
            raise SpecError(
                f"{text!r} is not a code",
                location=location,
                path=path,
                hint='write SCHEME:VALUE "Meaning", e.g. SCT:10200004 "Liver", or a keyword like Liver',
            )
        scheme, code_value, meaning = match["scheme"], match["value"], match["meaning"]
        version = None
        if scheme is None:
            code = _from_keyword(code_value, None)
            if code is None:
                raise SpecError(
                    f"unknown code keyword {code_value!r}",
                    location=location,
                    path=path,
                    hint=_suggest(code_value, None) + 'or write SCHEME:VALUE "Meaning"',
                )
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
            raise SpecError(
                f"code {scheme}:{code_value} needs a meaning: the DICOM code dictionary does not know it",
                location=location,
                path=path,
                hint=(f'write {scheme}:{code_value} "Meaning" ' + _suggest(code_value, scheme)).rstrip(),
            )
    if not meaning:
        raise SpecError("a code meaning may not be empty", location=location, path=path)
    if len(meaning) > 64:
        raise SpecError(f"code meaning {meaning!r} is longer than 64 characters (LO)", location=location, path=path)
    known = dictionary_meaning(scheme, code_value)
    if known is not None and known != meaning and warn is not None:
        warn(
            f"code {scheme}:{code_value} means {known!r} in the DICOM code dictionary, not {meaning!r}", location, path
        )
    return Code(code_value, scheme, meaning, scheme_version=version)
