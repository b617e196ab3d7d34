"""Measurement units of a spec: UCUM expressions (UCUM 2.2), or codes of another scheme.

Numpy- and pydicom-free, so that ``dcmspec validate --fast`` checks units as a build does
(``assemble/quick.py``) with the very function a build calls (:func:`unit_at`).
"""

from __future__ import annotations

import re

from ..errors import SpecError
from ..iods.common.concept import Code
from ..load.document import SpecDocument
from .common import NodePath, code_at
from .context import BuildContext

# UCUM units used in imaging measurements: code -> the meaning written (PS3.16 CID 7181 and others).
UCUM_MEANINGS = {
    "1": "no units",
    "mm": "millimeter",
    "cm": "centimeter",
    "m": "meter",
    "um": "micrometer",
    "mm2": "square millimeter",
    "cm2": "square centimeter",
    "mm3": "cubic millimeter",
    "cm3": "cubic centimeter",
    "ml": "milliliter",
    "mL": "milliliter",
    "l": "liter",
    "L": "liter",
    "[hnsf'U]": "Hounsfield unit",
    "%": "Percent",
    "g": "Gram",
    "kg": "kilogram",
    "s": "second",
    "ms": "millisecond",
    "min": "minute",
    "h": "hour",
    "d": "day",
    "deg": "degree",
    "rad": "radian",
    "mm/s": "millimeter per second",
    "cm/s": "centimeter per second",
    "ml/s": "milliliter per second",
    "mm2/s": "square millimeter per second",
    "um2/s": "square micrometer per second",
    "10-6.mm2/s": "10^-6 square millimeter per second",
    "/s": "per second",
    "/min": "per minute",
    "Bq": "becquerel",
    "kBq/ml": "kilobecquerel per milliliter",
    "Bq/ml": "becquerels per milliliter",
    "{SUVbw}g/ml": "Standardized Uptake Value body weight",
    "{SUVlbm}g/ml": "Standardized Uptake Value lean body mass",
    "{SUVbsa}cm2/ml": "Standardized Uptake Value body surface area",
    "{ratio}": "ratio",
    "{counts}": "counts",
    "{pixels}": "pixels",
    "{voxels}": "voxels",
    "mg/ml": "milligram per milliliter",
    "mmol/l": "millimole per liter",
    "mm[Hg]": "millimeter of mercury",
}
_UNIT_WITH_MEANING = re.compile(r'^(?P<code>\S+)\s+"(?P<meaning>[^"]+)"\s*$')
_SCHEME_PREFIX = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]*:")


# Unit names and spellings people write -> the UCUM expression (for the hint of a refused unit).
_UNIT_WORDS = {
    "cc": "cm3",
    "hu": "[hnsf'U]",
    "sec": "s",
    "secs": "s",
    "msec": "ms",
    "mins": "min",
    "hr": "h",
    "hrs": "h",
    "percent": "%",
    "count": "{count}",
    "counts": "{counts}",
    "ratio": "{ratio}",
    "none": "1",
    "unitless": "1",
    "no units": "1",
    "pixel": "{pixels}",
    "pixels": "{pixels}",
    "voxel": "{voxels}",
    "voxels": "{voxels}",
    "degrees": "deg",
    "micron": "um",
    "microns": "um",
}
_SUPERSCRIPTS = str.maketrans({"\u00b2": "2", "\u00b3": "3", "\u00b5": "u", "\u03bc": "u"})


def ucum_suggestion(text: str) -> str | None:
    """The UCUM expression ``text`` probably means (a unit name, ``mm^2``, ``cm³``, ``ML``), or None."""
    from ..iods.common.ucum import is_ucum

    words = dict(_UNIT_WORDS)
    for code, meaning in UCUM_MEANINGS.items():  # names of the units, US and British spellings, plurals
        for name in (meaning.lower(), meaning.lower().replace("meter", "metre").replace("liter", "litre")):
            words.setdefault(name, "mL" if code == "ml" else "L" if code == "l" else code)
            words.setdefault(name + "s", words[name])
    key = " ".join(text.lower().split())
    if key in words:
        return words[key]
    plain = text.translate(_SUPERSCRIPTS).replace("**", "").replace("^", "").replace(" ", "")
    if plain != text and is_ucum(plain):
        return plain
    folded = {c.lower(): c for c in UCUM_MEANINGS}
    return folded.get(plain.lower())


def _check_unit(doc: SpecDocument, path: NodePath, text: str) -> None:
    """A SpecError at ``path`` unless ``text`` is a UCUM expression (UCUM 2.2 grammar and symbols)."""
    from ..iods.common.ucum import UcumSyntaxError, check_ucum

    try:
        check_ucum(text)
    except UcumSyntaxError as exc:
        guess = ucum_suggestion(text)
        hint = f"did you mean {guess!r}? " if guess else ""
        raise SpecError(
            str(exc),
            location=doc.loc(path),
            path=path,
            hint=hint + "a unit is a UCUM expression (https://ucum.org): mL, mm2 (not mm^2), cm3, [hnsf'U],"
            " {ratio}, 1 for no unit; or a code with another scheme, e.g. DCM:...",
        ) from None


def unit_at(doc: SpecDocument, ctx: BuildContext, path: NodePath) -> Code | None:
    """The unit at ``path``: a bare UCUM code (meaning from a table, else the code itself), a UCUM code
    with a quoted meaning, or a code with its scheme. A bare unit, and the value of a code whose scheme is
    UCUM, must be a UCUM expression (PS3.16 "UCUM" coding scheme; checked against UCUM 2.2)."""
    value = doc.get(path)
    if value is None:
        return None
    if isinstance(value, dict) or _SCHEME_PREFIX.match(str(value)):
        code: Code | None = code_at(doc, ctx, path)
        if code is not None and code.scheme_designator == "UCUM":
            where = path + ("value",) if isinstance(value, dict) else path
            _check_unit(doc, where, str(code.value))
        return code
    text = str(value).strip()
    match = _UNIT_WITH_MEANING.match(text)
    if match:
        _check_unit(doc, path, match["code"])
        return Code(match["code"], "UCUM", match["meaning"])
    _check_unit(doc, path, text)
    return Code(text, "UCUM", UCUM_MEANINGS.get(text, text))
