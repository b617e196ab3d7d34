"""UCUM syntax (``iods/common/ucum.py``) on the UCUM specification's own examples, worked out by hand.

Oracle: The Unified Code for Units of Measure, version 2.2: section 2.1 (syntax rules, BNF Exhibit 1),
section 3 (prefixes on metric units only), section 6 (annotations: ASCII 33-126 except braces, "{rbc}",
a stand-alone annotation is unity), section 9 ("10*3", "10^3", "2+10"), the tables of ucum-essence.xml
(mm, mL, [hnsf'U], [in_i], deg (non-metric)). Messages are checked word for word.
"""

from __future__ import annotations

import pytest

from dcmspec_compiler.iods.common.ucum import UcumSyntaxError, check_ucum, is_ucum

VALID = [
    "1",
    "m",
    "mm",
    "mm2",
    "mm-2",
    "mm+2",
    "mL",
    "ml",
    "uL",
    "kg",
    "kg.m/s2",
    "/s",
    "/min",
    "10*3/uL",
    "10^3/uL",
    "10*-3",
    "2+10",
    "10-3.mm2/s",
    "[hnsf'U]",
    "[in_i]",
    "[iU]/mL",
    "k[IU]",
    "{ratio}",
    "{rbc}",
    "1{c}",
    "m{a}",
    "m2{x}",
    "{x}.m",
    "{SUVbw}g/ml",
    "{a}g",
    "m2.5",
    "S",
    "mL/(min.g)",
    "ml/(100.g)/min",
    "(m).s",
    "((m))",
    "(m/{a})",
    "deg",
    "%",
    "Cel",
    "KiBy",
    "dam",
    "m{!~}",
    "m{}",
]


@pytest.mark.parametrize("unit", VALID)
def test_valid_units(unit):
    assert check_ucum(unit) == unit
    assert is_ucum(unit) is True


@pytest.mark.parametrize(
    "unit, why",
    [
        ("", "'' is not a UCUM unit: empty unit (use '1' for no unit) (at character 1)"),
        ("kdeg", "'kdeg' is not a UCUM unit: 'deg' is not metric and takes no prefix ('kdeg') (at character 1)"),
        ("m.kdeg2", "'m.kdeg2' is not a UCUM unit: 'deg' is not metric and takes no prefix ('kdeg2') (at character 3)"),
        (
            "[10]g",
            "'[10]g' is not a UCUM unit: a number in brackets is no UCUM unit ('[10]g'): write the factor in "
            "parentheses, e.g. ml/(100.g)/min (at character 1)",
        ),
        ("in_i", "'in_i' is not a UCUM unit: unknown unit symbol 'in_i' (UCUM writes [in_i]) (at character 1)"),
        ("in_i2", "'in_i2' is not a UCUM unit: unknown unit symbol 'in_i2' (UCUM writes [in_i]) (at character 1)"),
        ("mm(", "'mm(' is not a UCUM unit: unexpected '(' (at character 3)"),
        ("(mm", "'(mm' is not a UCUM unit: '(' is not closed (at character 4)"),
        ("m{a", "'m{a' is not a UCUM unit: annotation '{' is not closed (at character 2)"),
        (
            "m{a{b}",
            "'m{a{b}' is not a UCUM unit: annotations hold printable ASCII characters except braces (at character 2)",
        ),
        (
            "m{\u00e9}",
            "'m{\u00e9}' is not a UCUM unit: annotations hold printable ASCII characters except braces"
            " (at character 2)",
        ),
        ("m{\x7f}", None),
        ("m[", "'m[' is not a UCUM unit: '[' is not closed (at character 3)"),
        ("/", "'/' is not a UCUM unit: a unit is missing (at character 2)"),
        ("m/", "'m/' is not a UCUM unit: a unit is missing (at character 3)"),
        ("m..s", "'m..s' is not a UCUM unit: a unit is missing (at character 3)"),
        ("xyz", "'xyz' is not a UCUM unit: unknown unit symbol 'xyz' (at character 1)"),
        ("x", "'x' is not a UCUM unit: unknown unit symbol 'x' (at character 1)"),
        ("mX", "'mX' is not a UCUM unit: unknown unit symbol 'mX' (at character 1)"),
        ("pi", "'pi' is not a UCUM unit: unknown unit symbol 'pi' (UCUM writes [pi]) (at character 1)"),
        ("m.x2", "'m.x2' is not a UCUM unit: unknown unit symbol 'x2' (at character 3)"),
        ("mm)", "'mm)' is not a UCUM unit: unexpected ')' (at character 3)"),
        ("m m", "'m m' is not a UCUM unit: UCUM expressions contain no spaces"),
        ("m\t", None),
        ("m{ }", "'m{ }' is not a UCUM unit: UCUM expressions contain no spaces"),
        ("m{a}{b}", "'m{a}{b}' is not a UCUM unit: unexpected '{' (at character 5)"),
        ("()", "'()' is not a UCUM unit: a unit is missing (at character 2)"),
        ("(m)2", "'(m)2' is not a UCUM unit: unexpected '2' (at character 4)"),
        ("k(m)", "'k(m)' is not a UCUM unit: unknown unit symbol 'k' (at character 1)"),
        ("mm.", "'mm.' is not a UCUM unit: a unit is missing (at character 4)"),
        ("10+", "'10+' is not a UCUM unit: unknown unit symbol '10+' (at character 1)"),
        ("[[a]].m", "'[[a]].m' is not a UCUM unit: unknown unit symbol '[[a]]' (at character 1)"),  # brackets nest
    ],
)
def test_invalid_units(unit, why):
    with pytest.raises(UcumSyntaxError) as info:
        check_ucum(unit)
    if why is not None:
        assert str(info.value) == why
    assert is_ucum(unit) is False


def test_not_a_string():
    with pytest.raises(UcumSyntaxError) as info:
        check_ucum(5)  # type: ignore[arg-type]
    assert str(info.value) == "a UCUM unit is a string, not int"
    assert is_ucum(None) is False  # type: ignore[arg-type]


def test_prefixes_only_on_metric_units():
    """UCUM 3: every prefix on a metric unit, none on a non-metric one (deg, [in_i], %); no prefix alone."""
    from dcmspec_compiler.iods.common.ucum_atoms import PREFIXES

    for p in PREFIXES:
        assert is_ucum(f"{p}m") and is_ucum(f"{p}g") and is_ucum(f"{p}L")
        assert not is_ucum(f"{p}deg") and not is_ucum(f"{p}[in_i]")
    assert not is_ucum("k") and not is_ucum("da")
