"""Value Representations: what a value of each VR may hold (PS3.5 6.2, Table 6.2-1; 6.1 repertoires).

One table (:data:`RULES`) gives, per VR, the longest value (in characters, PS3.5 6.2), the characters
allowed and the format; :func:`check_value` applies it, with the Value Multiplicity of the data dictionary
(PS3.6) and finite, in-range binary numbers. :func:`check_dataset` checks every element of a dataset
(items included), so the builder layer refuses a value the standard does not allow before it can reach a
file. Errors are :class:`InvalidValue` (a :class:`~dcmspec_compiler.errors.DicomConformanceError`)
naming the attribute keyword, the value and the rule.
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from pydicom.datadict import dictionary_has_tag, dictionary_keyword, dictionary_VM
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag, Tag

from ...errors import DicomConformanceError


class InvalidValue(DicomConformanceError):
    """A value its VR does not allow; ``keyword`` and ``value`` say which (for locating it in a spec)."""

    def __init__(self, message: str, *, keyword: str, value: Any) -> None:
        super().__init__(message)
        self.keyword = keyword
        self.value = value


# Control characters (PS3.5 6.1.2.3, 6.1.3): string VRs allow only ESC (code extensions); the text VRs
# ST, LT, UT also LF, FF and CR.
_CONTROL = re.compile(r"[\x00-\x1a\x1c-\x1f\x7f]")
_TEXT_CONTROL = re.compile(r"[\x00-\x09\x0b\x0e-\x1a\x1c-\x1f\x7f]")


def _date(text: str) -> str | None:
    m = re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text)
    if not m:
        return "is not a date YYYYMMDD"
    return _calendar(*(int(g) for g in m.groups()))


def _calendar(year: int, month: int, day: int) -> str | None:
    if not 1 <= month <= 12:
        return f"has month {month:02d}"
    if not 1 <= day <= calendar.monthrange(max(year, 1), month)[1]:
        return f"has day {day:02d}, which month {month:02d} of {year} does not have"
    return None


_TIME = re.compile(r"(\d{2})(?:(\d{2})(?:(\d{2})(?:\.\d{1,6})?)?)?")


def _time(text: str) -> str | None:
    m = _TIME.fullmatch(text)
    if not m:
        return "is not a time HHMMSS.FFFFFF"
    return _clock(*m.groups())


def _clock(hh: str | None, mm: str | None, ss: str | None) -> str | None:
    if hh is not None and int(hh) > 23:
        return f"has hour {hh}"
    if mm is not None and int(mm) > 59:
        return f"has minute {mm}"
    if ss is not None and int(ss) > 60:  # 60: a leap second (PS3.5 6.2, TM)
        return f"has second {ss}"
    return None


_DATETIME = re.compile(
    r"(\d{4})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:\.\d{1,6})?)?)?)?)?)?"
    r"(?:([+-])(\d{2})(\d{2}))?"
)


def _datetime(text: str) -> str | None:
    m = _DATETIME.fullmatch(text.rstrip(" "))
    if not m:
        return "is not a date-time YYYYMMDDHHMMSS.FFFFFF&ZZXX"
    year, month, day, hh, mm, ss, sign, oh, om = m.groups()
    problem = _calendar(int(year), int(month or 1), int(day or 1)) or _clock(hh, mm, ss)
    if problem is None and sign is not None:
        offset = (int(oh) * 60 + int(om)) * (-1 if sign == "-" else 1)
        if not -12 * 60 <= offset <= 14 * 60 or int(om) > 59:
            problem = f"has UTC offset {sign}{oh}{om} (allowed -1200 to +1400)"
    return problem


_DS = re.compile(r" *[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)? *")
_IS = re.compile(r" *[+-]?[0-9]+ *")


#: The largest magnitude of a DS value written: readers hold a DS as a 64-bit integer where the attribute is
#: compared with one (dciodvfy reads Window Width 1e+20 as negative), so values at or beyond 2^63 overflow.
DS_LIMIT = 2.0**63


def _decimal(text: str) -> str | None:
    if not _DS.fullmatch(text):
        return "is not a decimal number"
    if not math.isfinite(float(text)):
        return "is not finite"
    if abs(float(text)) >= DS_LIMIT:
        return "is beyond +-9.2e18 (2^63), where readers that hold a DS as a 64-bit integer overflow"
    return None


def _integer(text: str) -> str | None:
    if not _IS.fullmatch(text):
        return "is not an integer"
    if not -(2**31) <= int(text) <= 2**31 - 1:
        return "is outside -2^31..2^31-1"
    return None


def _person_name(text: str) -> str | None:
    groups = text.split("=")
    if len(groups) > 3:
        return f"has {len(groups)} component groups separated by '=' (at most 3: alphabetic, ideographic, phonetic)"
    for group in groups:
        if len(group) > 64:
            return f"has a component group of {len(group)} characters (at most 64)"
        if group.count("^") > 4:
            return f"has {group.count('^') + 1} components separated by '^' (at most 5)"
    return None


@dataclass(frozen=True)
class Rule:
    """What one VR allows (PS3.5 Table 6.2-1)."""

    max_chars: int | None
    control: re.Pattern[str] | None = _CONTROL  # characters never allowed
    backslash: bool = False  # a backslash is allowed (it separates values elsewhere)
    pattern: re.Pattern[str] | None = None  # the whole value must match
    describe: str = ""  # what ``pattern`` means, for messages
    check: Callable[[str], str | None] | None = None  # format check: None, or what is wrong


RULES: dict[str, Rule] = {
    "AE": Rule(16),
    "AS": Rule(4, pattern=re.compile(r"[0-9]{3}[DWMY]"), describe="nnnD, nnnW, nnnM or nnnY"),
    "CS": Rule(16, pattern=re.compile(r"[A-Z0-9 _]*"), describe="upper-case letters, digits, space and _"),
    "DA": Rule(8, check=_date),
    "DS": Rule(16, check=_decimal),
    "DT": Rule(26, check=_datetime),
    "IS": Rule(12, check=_integer),
    "LO": Rule(64),
    "LT": Rule(10240, control=_TEXT_CONTROL, backslash=True),
    "PN": Rule(3 * 64 + 2, check=_person_name),
    "SH": Rule(16),
    "ST": Rule(1024, control=_TEXT_CONTROL, backslash=True),
    "TM": Rule(14, check=_time),
    "UC": Rule(None),
    "UI": Rule(
        64,
        pattern=re.compile(r"(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*"),
        describe="digits in components separated by '.', without leading zeros",
    ),
    "UR": Rule(
        None, pattern=re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*"), describe="URI characters (RFC 3986)"
    ),
    "UT": Rule(2**32 - 2, control=_TEXT_CONTROL, backslash=True),
}
"""String VRs; the binary ones are checked by :data:`RANGES` and for finite floats."""

RANGES: dict[str, tuple[int, int]] = {
    "US": (0, 2**16 - 1),
    "SS": (-(2**15), 2**15 - 1),
    "UL": (0, 2**32 - 1),
    "SL": (-(2**31), 2**31 - 1),
    "UV": (0, 2**64 - 1),
    "SV": (-(2**63), 2**63 - 1),
}
FLOATS = frozenset({"FL", "FD"})

_ok: set[tuple[str, str]] = set()  # (VR, text) already found valid: specs repeat codes and names


@lru_cache(maxsize=4096)
def _multiplicity(tag: BaseTag, count: int) -> str | None:
    """None when ``count`` values fit the dictionary's VM of ``tag`` (PS3.6), else what is allowed."""
    if not dictionary_has_tag(tag):
        return None
    vm = dictionary_VM(tag).replace(" or ", "-")
    m = re.fullmatch(r"(\d+)(?:-(\d*)(n?))?", vm)
    if m is None:
        return None
    low, high, n = int(m.group(1)), m.group(2), m.group(3)
    if high is None:
        ok = count == low
    elif n:
        step = int(high) if high else 1
        ok = count >= low and count % step == 0 if step > 1 else count >= low
    else:
        ok = low <= count <= int(high)
    return None if ok or count == 0 else f"VM {vm}"


def _name(tag: BaseTag) -> str:
    return dictionary_keyword(tag) if dictionary_has_tag(tag) else f"({tag.group:04X},{tag.element:04X})"


def _fail(tag: BaseTag, vr: str, value: Any, problem: str) -> InvalidValue:
    keyword = _name(tag)
    shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
    return InvalidValue(f"{keyword} {shown} {problem} ({vr}, PS3.5 6.2)", keyword=keyword, value=value)


def check_text(tag: BaseTag, vr: str, text: str) -> None:
    """Check one string value (one of several when the VM allows many) against ``vr``'s rule."""
    if (vr, text) in _ok:
        return
    rule = RULES.get(vr)
    if rule is None:
        return
    if rule.max_chars is not None and len(text) > rule.max_chars:
        raise _fail(tag, vr, text, f"has {len(text)} characters, more than the {rule.max_chars} {vr} allows")
    if rule.control is not None and rule.control.search(text):
        raise _fail(tag, vr, text, "holds a control character")
    if not rule.backslash and "\\" in text:
        raise _fail(tag, vr, text, "holds a backslash, which separates values")
    if rule.pattern is not None and not rule.pattern.fullmatch(text):
        raise _fail(tag, vr, text, f"is not {rule.describe}")
    if rule.check is not None and text.strip(" "):
        problem = rule.check(text.strip(" ") if vr in ("DS", "IS", "DT") else text)
        if problem:
            raise _fail(tag, vr, text, problem)
    if len(_ok) < 200_000:
        _ok.add((vr, text))


def check_value(tag: int | str | BaseTag, vr: str, value: Any) -> None:
    """Check ``value`` (as the builder layer sets it: str, number, list of those) of the attribute
    ``tag`` against its VR and Value Multiplicity; :class:`InvalidValue` when the standard forbids it."""
    tag = Tag(tag)
    if value is None or vr == "SQ":
        return
    values = list(value) if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue" else [value]
    if vr in RULES:
        if vr not in ("LT", "ST", "UT", "UR") and isinstance(value, str) and "\\" in value:
            # several values come as a list: a backslash in text would add values (PS3.5 6.4)
            raise _fail(tag, vr, value, "holds a backslash, which separates values")
        problem = _multiplicity(tag, len(values))
        if problem:
            raise _fail(tag, vr, value, f"has {len(values)} values; the attribute allows {problem}")
        for item in values:
            check_text(tag, vr, _text(vr, item))
    elif vr in RANGES or vr in FLOATS:
        problem = _multiplicity(tag, len(values))
        if problem:
            raise _fail(tag, vr, value, f"has {len(values)} values; the attribute allows {problem}")
        if vr in FLOATS:
            if len(values) > 16:  # graphic data of outlines: thousands of values, checked at once
                if not np.isfinite(np.asarray(values, dtype=np.float64)).all():
                    raise _fail(tag, vr, value, "is not a finite number")
                return
            for item in values:
                if not math.isfinite(float(item)):
                    raise _fail(tag, vr, value, "is not a finite number")
            return
        low, high = RANGES[vr]
        for item in values:
            if not low <= int(item) <= high:
                raise _fail(tag, vr, value, f"is outside {low}..{high}")


def _text(vr: str, item: Any) -> str:
    """The characters pydicom writes for one value."""
    if vr == "PN":
        return str(item)
    if vr in ("DS", "IS") and not isinstance(item, str):
        original: str | None = getattr(item, "original_string", None)
        if original is not None:
            return original
        if isinstance(item, float) and not math.isfinite(item):
            return str(item)  # refused by the format check
        return str(item)
    return item if isinstance(item, str) else str(item)


_NOT_CHECKED = frozenset({"PixelData", "FloatPixelData", "DoubleFloatPixelData"})


def check_dataset(ds: Dataset, *, skip: Iterable[str] = ()) -> None:
    """Check every element of ``ds`` and of its items (recursively), except those named in ``skip``,
    pixel data and elements already encoded (raw)."""
    skipped = set(skip) | _NOT_CHECKED
    for elem in ds._dict.values():
        if isinstance(elem, RawDataElement) or elem.keyword in skipped:
            continue  # raw: bytes the builder encoded itself (per-frame items), not values to check
        if elem.VR == "SQ":
            for item in elem.value:
                check_dataset(item, skip=skip)
        else:
            check_value(elem.tag, elem.VR, elem.value)


def check_object(ds: Dataset) -> None:
    """The builder layer's last check of a whole object before it is handed out: every value, except
    the Patient/Study modules copied verbatim from source images (their values are the source's) and
    pixel data. Per-frame items are included."""
    from .patient_study import COPIED_MODULES

    check_dataset(ds, skip=[kw for module in COPIED_MODULES for kw in module.keywords])


def canonical_ds(text: str) -> str:
    """A DS value (PS3.5 6.2) as the shortest text that reads as the same number: ``1.000000`` -> ``1``.

    DS values copied from source headers (geometry, rescale) are written in this form, so that an object
    built from a PACS's DICOMweb metadata, where DS values are JSON numbers (PS3.18 F.2.3.1) and their
    spelling is lost, has the same bytes as one built from the files. Text that is not a finite number is kept as it
    is."""
    try:
        number = float(text)
    except ValueError:
        return text
    if number != number or number in (float("inf"), float("-inf")):
        return text
    out = repr(number + 0.0)  # + 0.0: -0.0 is 0
    out = out[:-2] if out.endswith(".0") else out
    if len(out) > 16:
        from pydicom.valuerep import format_number_as_ds

        out = format_number_as_ds(number)
    return out
