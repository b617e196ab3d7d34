"""UCUM syntax check (compiler/iods/common/ucum.py) against UCUM's grammar and DICOM's unit codes.

Oracles: UCUM's functional tests (530 validation cases, tests/ucum_functional_cases.tsv); the table
below, each row with the rule of the UCUM specification (version 2.2) it exercises; pydicom's table of
DICOM's UCUM codes (PS3.16, independent of our tables); the counts of ucum-essence.xml 2.2.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydicom.sr._concepts_dict import concepts

from dcmspec_compiler.iods.common import ucum_atoms
from dcmspec_compiler.iods.common.ucum import UcumSyntaxError, check_ucum, is_ucum

VALID = {
    # units DICOM Parametric Maps use (CID 7181, 85, 84)
    "ms": "prefix m on the base unit s",
    "mm2/s": "exponent on a prefixed unit, division",
    "um2/ms": "u is micro (ASCII for the Greek mu)",
    "10-3.mm2/s": "an integer raised to a signed power (section 9: '2+10 means 2^10')",
    "10*-3.mm2/s": "the atom 10* with a negative exponent",
    "10-6.mm2/s": "in DICOM's own UCUM codes (CID 7181)",
    "{SUVbw}g/ml": "annotation in front of a unit: DICOM's CID 85 usage (not in UCUM's BNF)",
    "g/ml{SUVbw}": "annotation after an annotatable (BNF)",
    "/min": "main-term may start with '/'",
    "ml/(100.g)/min": "parenthesised term (section 10), factor 100",
    "ml/min/(100.g)": "parenthesised term at the end",
    "mL/(min.g)": "L is metric: both l and L",
    "s-1": "negative exponent",
    "m+2": "explicit plus sign on an exponent (section 9)",
    "1": "the unity",
    "%": "percent, non-metric",
    "{ratio}": "a lone annotation is the unity (section 6)",
    "{counts}/s": "annotation as a component",
    "[hnsf'U]": "bracketed non-metric atom",
    "dB[uV]": "prefix d on the metric atom B[uV]",
    "B[10.nV]": "an atom holding '.' inside brackets",
    "mm[Hg]": "prefix m on the metric atom m[Hg]",
    "mg%": "g% is a metric atom (section 6 note)",
    "kat/kg": "katal, metric",
    "10*3/uL": "10* atom with exponent",
    "[NTU]": "in UCUM 2.2 (missing from the hand-written table)",
    "[FNU]": "in UCUM 2.2 (missing from the hand-written table)",
    "Ki[IU]": "binary prefix on a metric atom",
    "dyn.s.cm-5": "products with exponents (DICOM code)",
    "Cel": "degree Celsius",
    "'": "minute of arc",
    "1{cells}": "a number with an annotation (UCUM functional test 1-117)",
}

INVALID = {
    "um^2/s": ("unknown unit symbol", "'^' is not an exponent"),
    "sec": ("unknown unit symbol 'sec'", "seconds are s"),
    "m//s": ("a unit is missing", "empty component"),
    "(m": ("not closed", "unbalanced parenthesis"),
    "mm 2": ("no spaces", "UCUM has no spaces"),
    "": ("empty", "use 1 for no unit"),
    "kgg": ("'kgg'", "no such atom"),
    "m2/": ("a unit is missing", "trailing operator"),
    "degC": ("'degC'", "Celsius is Cel"),
    "kmin": ("'min' is not metric", "prefix on a non-metric unit (min)"),
    "mdeg": ("'deg' is not metric", "prefix on a non-metric unit (deg)"),
    "k[ppm]": ("'[ppm]' is not metric", "prefix on a non-metric unit"),
    "ppm": ("UCUM writes [ppm]", "parts per million is [ppm]"),
    "(m)2": ("unexpected '2'", "no exponent after ')' (section 10, stricken in 1.9)"),
    "k(m)": ("unknown unit symbol 'k'", "no prefix before '(' (section 10)"),
    "m{a": ("not closed", "unclosed annotation"),
    "m{a{b}}": ("braces", "annotations are not nested (section 6)"),
    "ml/[100]g/min": ("in parentheses", "[100] is no UCUM atom (write (100.g))"),
    "m.": ("a unit is missing", "trailing '.'"),
    "µm": ("unknown unit symbol", "UCUM is ASCII: micro is u"),
    "Mmin": ("'min' is not metric", "prefix on min"),
}


@pytest.mark.parametrize("unit", VALID)
def test_ucum_accepts(unit):
    assert check_ucum(unit) == unit, VALID[unit]


@pytest.mark.parametrize("unit", INVALID)
def test_ucum_refuses(unit):
    message, reason = INVALID[unit]
    with pytest.raises(UcumSyntaxError) as info:
        check_ucum(unit)
    assert message in str(info.value), reason
    assert not is_ucum(unit)


#: DICOM's UCUM codes (pydicom's PS3.16 table) that are not UCUM: legacy codes of PS3.16
NOT_UCUM_IN_DICOM = {
    "ml/[100]g/min": "[100] is no UCUM atom",
    "ml/[100]ml": "[100] is no UCUM atom",
    "{Particles}/[100]g{Tissue}": "[100] is no UCUM atom",
    "ppm": "UCUM's symbol is [ppm]",
    "diop": "UCUM's symbol is [diop]",
}


def test_every_dicom_ucum_code_parses():
    codes = sorted({code for entries in concepts["UCUM"].values() for code in entries})
    assert len(codes) > 80
    refused = {code for code in codes if not is_ucum(code)}
    assert refused == set(NOT_UCUM_IN_DICOM), refused


def test_tables_are_ucum_2_2():
    """Counts of ucum-essence.xml 2.2: 24 prefixes, 7 base units, 89 metric and 216 other units."""
    assert ucum_atoms.VERSION == "2.2"
    assert (
        len(ucum_atoms.PREFIXES),
        len(ucum_atoms.BASE_UNITS),
        len(ucum_atoms.METRIC_UNITS),
        len(ucum_atoms.NON_METRIC_UNITS),
    ) == (24, 7, 89, 216)
    atoms = ucum_atoms.BASE_UNITS + ucum_atoms.METRIC_UNITS + ucum_atoms.NON_METRIC_UNITS
    assert len(set(atoms)) == len(atoms)
    assert not set(ucum_atoms.PREFIXES) & {"10*", "10^"}


#: where we differ from the UCUM functional tests, and why
FUNCTIONAL_TEST_DIVERGENCES = {
    "1-108": "10+3/ul: UCUM section 9 reads '2+10' as 2^10, and DICOM's own code 10-6.mm2/s (CID 7181) needs it",
    "1-116a": "{a}rad2{b}: an annotation in front of a unit is DICOM's CID 85 usage ({SUVbw}g/ml)",
    "1-118": "{|}1: the same DICOM usage, in front of a number",
}


def _functional_cases() -> list[tuple[str, str, bool, str]]:
    """The validation cases of UCUM's functional tests (tests/ucum_functional_cases.tsv, see its header)."""
    path = Path(__file__).with_name("ucum_functional_cases.tsv")
    rows = [
        line.split("\t") for line in path.read_text(encoding="utf-8").split("\n") if line and not line.startswith("#")
    ]
    return [(cid, unit, valid == "true", reason) for cid, unit, valid, reason in rows]


def test_ucum_functional_tests_agree():
    """UCUM's functional tests (530 validation cases, independent of our tables and parser) give the same
    verdict on every unit but the divergences listed above."""
    cases = _functional_cases()
    assert len(cases) == 530
    disagree = {
        cid: f"{unit!r}: expected {'valid' if valid else 'invalid'} ({reason})"
        for cid, unit, valid, reason in cases
        if is_ucum(unit) != valid
    }
    assert set(disagree) == set(FUNCTIONAL_TEST_DIVERGENCES), disagree
