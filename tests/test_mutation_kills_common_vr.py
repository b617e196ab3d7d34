"""The VR rules of ``iods/common/vr.py`` at every boundary, against values worked out by hand from PS3.5
Section 6.2, Table 6.2-1 (lengths, character repertoires, formats), 6.1.2.3 / 6.1.3 (control characters),
6.4 (Value Multiplicity, the backslash) and PS3.6 (each attribute's VM), and against pydicom's own
``validate_value(vr, value, config.RAISE)`` where pydicom follows the standard (where it is laxer or
stricter, the test says so and follows the standard).

Cheap: no file is written; each check is a function call (the mutation run's focused test, issue 13).
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from pydicom import config
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.tag import Tag
from pydicom.valuerep import DSfloat, PersonName, format_number_as_ds, validate_value

from dcmspec_compiler.iods.common import vr as vrmod
from dcmspec_compiler.iods.common.vr import (
    DS_LIMIT,
    InvalidValue,
    canonical_ds,
    check_dataset,
    check_object,
    check_text,
    check_value,
)

# One attribute of VM 1 per string VR (PS3.6), to check values through check_value.
KEYWORD = {
    "AE": "RetrieveAETitle",  # VM 1-n; single values used below
    "AS": "PatientAge",
    "CS": "Modality",
    "DA": "StudyDate",
    "DS": "SliceThickness",
    "DT": "AcquisitionDateTime",
    "IS": "SeriesNumber",
    "LO": "SeriesDescription",
    "LT": "ImageComments",
    "PN": "ReferringPhysicianName",
    "SH": "StationName",
    "ST": "InstitutionAddress",
    "TM": "StudyTime",
    "UC": "StrainAdditionalInformation",
    "UI": "SOPInstanceUID",
    "UR": "RetrieveURL",
    "UT": "TextValue",
}


def ok(vr: str, text: str) -> None:
    check_text(Tag(KEYWORD[vr]), vr, text)


def refused(vr: str, text: str, problem: str | None = None) -> InvalidValue:
    with pytest.raises(InvalidValue) as info:
        check_text(Tag(KEYWORD[vr]), vr, text)
    if problem is not None:
        assert problem in str(info.value), str(info.value)
    return info.value


def pydicom_accepts(vr: str, value: object) -> bool:
    try:
        validate_value(vr, value, config.RAISE)
    except ValueError:
        return False
    return True


class Long(str):
    """A string that reports a length it does not have (a 4 GiB UT cannot be built on this machine)."""

    length = 0

    def __len__(self) -> int:
        return self.length


def long_text(n: int) -> Long:
    s = Long(f"long{n}")  # a text of its own: valid texts are remembered
    s.length = n
    return s


# -- lengths (Table 6.2-1, "Length of Value": characters for the string VRs) ---------------------------------

MAX = {
    "AE": 16,
    "CS": 16,
    "DS": 16,
    "IS": 12,
    "LO": 64,
    "LT": 10240,
    "SH": 16,
    "ST": 1024,
    "UI": 64,
}
FILL = {"AE": "A", "CS": "A", "DS": "1", "IS": "1", "LO": "a", "LT": "a", "SH": "a", "ST": "a"}


@pytest.mark.parametrize("vr", sorted(MAX))
def test_maximum_length_exactly_and_one_over(vr):
    """Table 6.2-1: AE/CS/SH/DS 16, IS 12, LO 64, LT 10240, ST 1024, UI 64 characters; pydicom's
    MAX_VALUE_LEN agrees at both ends."""
    n = MAX[vr]
    if vr == "UI":
        at, over = "1." * 31 + "12", "1." * 32 + "1"
    elif vr == "IS":
        at, over = "+0000000001", "+00000000001"  # 11 and 12 ... see below
        at, over = "0" * 11 + "1", "0" * 12 + "1"
    else:
        at, over = FILL[vr] * n, FILL[vr] * (n + 1)
    assert len(at) == n and len(over) == n + 1
    ok(vr, at)
    err = refused(vr, over, f"has {n + 1} characters, more than the {n} {vr} allows ({vr}, PS3.5 6.2)")
    assert pydicom_accepts(vr, at) and not pydicom_accepts(vr, over)
    assert err.keyword == KEYWORD[vr] and err.value == over


def test_lengths_pydicom_does_not_check():
    """Table 6.2-1: AS 4 characters, DA 8, TM 14 (16 bytes in a query), DT 26, PN 64 per component group
    (three groups and two '=' separators: 194), UT 2^32-2; UC and UR unlimited (2^32-2 by the length
    field). pydicom has no length for these."""
    ok("AS", "018Y")
    refused("AS", "0018Y", "has 5 characters, more than the 4 AS allows")
    refused("DA", "202001011", "has 9 characters, more than the 8 DA allows")
    ok("TM", "235959.999999")  # 13
    refused("TM", "235959.9999999", "is not a time")  # 14 characters: too many fraction digits, not too long
    refused("TM", "235959.99999999", "has 15 characters, more than the 14 TM allows")
    ok("DT", "20200101235959.123456+0100")  # 26
    refused("DT", "20200101235959.123456+0100 ", "has 27 characters, more than the 26 DT allows")
    group = "a" * 64
    ok("PN", "=".join([group] * 3))  # 194
    refused("PN", "=".join([group] * 3) + "b", "has 195 characters, more than the 194 PN allows")
    ok("UT", long_text(2**32 - 2))
    refused("UT", long_text(2**32 - 1), "has 4294967295 characters, more than the 4294967294 UT allows")
    ok("UC", "a" * 100_000)
    ok("UR", "a" * 100_000)


# -- control characters (PS3.5 6.1.2.3, 6.1.3) ----------------------------------------------------------------

CONTROLS = [chr(c) for c in range(0x20)] + ["\x7f"]


@pytest.mark.parametrize("vr", ["AE", "LO", "SH", "UC", "PN"])
def test_string_vrs_allow_esc_only(vr):
    """6.1.2.3: the default repertoire's control characters are not allowed in the string VRs except ESC
    (code extensions, 6.1.2.5). pydicom does not check them."""
    for c in CONTROLS:
        text = f"a{c}b"
        if c == "\x1b":
            ok(vr, text)
        else:
            refused(vr, text, "holds a control character")
    ok(vr, "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) not in "\\=^")[:16])


@pytest.mark.parametrize("vr", ["LT", "ST", "UT"])
def test_text_vrs_allow_lf_ff_cr_esc_and_backslash(vr):
    """6.1.3 and Table 6.2-1: LT, ST, UT may hold LF, FF, CR and ESC, and the backslash (they have VM 1);
    TAB, VT and the other controls are not allowed."""
    for c in CONTROLS:
        text = f"a{c}b"
        if c in "\n\x0c\r\x1b":
            ok(vr, text)
        else:
            refused(vr, text, "holds a control character")
    ok(vr, "a\\b")
    check_value(KEYWORD[vr], vr, "a\\b")


@pytest.mark.parametrize("vr", ["AE", "CS", "LO", "SH", "PN", "UC", "DS", "IS", "DA", "TM", "DT", "AS", "UI"])
def test_backslash_refused_outside_the_text_vrs(vr):
    """6.4: the backslash separates values; Table 6.2-1 excludes it from every string VR but LT/ST/UT."""
    refused(vr, "1\\2", "holds a backslash, which separates values")
    with pytest.raises(InvalidValue, match=re.escape("'1\\\\2' holds a backslash, which separates values")):
        check_value(KEYWORD[vr], vr, "1\\2")


def test_backslash_in_a_uri():
    """Table 6.2-1 UR: RFC 3986 characters only; the backslash is none of them."""
    with pytest.raises(InvalidValue, match="holds a backslash"):
        check_value("RetrieveURL", "UR", "http://a\\b")


# -- repertoires and formats -----------------------------------------------------------------------------------


def test_code_string_repertoire():
    """Table 6.2-1 CS: upper-case letters, 0-9, SPACE and underscore; pydicom agrees."""
    for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _":
        ok("CS", c)
        assert pydicom_accepts("CS", c)
    for c in "abz-.,/:;'\"()*+=!?@#$%&^`~|<>[]{}é":
        err = refused("CS", c)
        assert str(err) == f"Modality {c!r} is not upper-case letters, digits, space and _ (CS, PS3.5 6.2)"
        assert not pydicom_accepts("CS", c)
    ok("CS", "")


def test_age_string_format():
    """Table 6.2-1 AS: nnnD, nnnW, nnnM or nnnY; pydicom agrees."""
    for text in ("000D", "001W", "012M", "999Y"):
        ok("AS", text)
        assert pydicom_accepts("AS", text)
    for text in ("18Y", "018y", "018X", "A18Y", "018 ", " 18Y", "0180"):
        err = refused("AS", text)
        assert str(err).endswith("is not nnnD, nnnW, nnnM or nnnY (AS, PS3.5 6.2)")
        assert not pydicom_accepts("AS", text)


def test_unique_identifier_format():
    """Table 6.2-1 UI and PS3.5 9.1: components of digits separated by '.', no leading zero except the
    component 0 itself; pydicom's UI pattern agrees."""
    for text in ("0", "1", "1.2.840.10008.1.2", "1.0.3", "0.0"):
        ok("UI", text)
        assert pydicom_accepts("UI", text)
    for text in ("01", "1.02", "1..2", "1.", ".1", "1.2a", "1 .2", "1,2"):
        err = refused("UI", text)
        assert str(err).endswith("is not digits in components separated by '.', without leading zeros (UI, PS3.5 6.2)")
        assert not pydicom_accepts("UI", text)


def test_uri_repertoire():
    """Table 6.2-1 UR: RFC 3986 characters (unreserved, reserved, '%'). pydicom also allows trailing
    spaces (the standard says trailing spaces are ignored); the builder writes none."""
    allowed = "AZaz09-._~:/?#[]@!$&'()*+,;=%"
    ok("UR", allowed)
    assert pydicom_accepts("UR", allowed)
    for c in ' "<>^`{|}é':
        err = refused("UR", f"a{c}")
        assert str(err).endswith("is not URI characters (RFC 3986) (UR, PS3.5 6.2)")


@pytest.mark.parametrize(
    "text, problem",
    [
        ("20240229", None),
        ("20000229", None),
        ("19000229", "has day 29, which month 02 of 1900 does not have"),
        ("20230229", "has day 29, which month 02 of 2023 does not have"),
        ("20230131", None),
        ("20230132", "has day 32, which month 01 of 2023 does not have"),
        ("20230430", None),
        ("20230431", "has day 31, which month 04 of 2023 does not have"),
        ("20231231", None),
        ("20230100", "has day 00, which month 01 of 2023 does not have"),
        ("20230001", "has month 00"),
        ("20231301", "has month 13"),
        ("00000101", None),
        ("00000229", "has day 29, which month 02 of 0 does not have"),
        ("2023011", "is not a date YYYYMMDD"),
        ("2023-01-01", "has 10 characters"),
        ("2023O101", "is not a date YYYYMMDD"),
        ("XX", "is not a date YYYYMMDD"),
        ("", None),
        ("        ", None),
    ],
)
def test_dates(text, problem):
    """Table 6.2-1 DA: YYYYMMDD, a calendar date (Gregorian leap years); pydicom's pattern allows day 31 of
    any month and 29 February of any year (laxer: the standard says a valid date)."""
    if problem is None:
        ok("DA", text)
    else:
        err = refused("DA", text)
        assert str(err) == f"StudyDate {text!r} {problem} (DA, PS3.5 6.2)" or problem.startswith("has 10")


@pytest.mark.parametrize(
    "text, problem",
    [
        ("00", None),
        ("23", None),
        ("24", "has hour 24"),
        ("2359", None),
        ("2360", "has minute 60"),
        ("235960", None),  # a leap second
        ("235961", "has second 61"),
        ("235959.1", None),
        ("235959.123456", None),
        ("1", "is not a time HHMMSS.FFFFFF"),
        ("123", "is not a time HHMMSS.FFFFFF"),
        ("12:00", "is not a time HHMMSS.FFFFFF"),
        ("1200.5", "is not a time HHMMSS.FFFFFF"),
        ("120000.", "is not a time HHMMSS.FFFFFF"),
        ("XX", "is not a time HHMMSS.FFFFFF"),
        ("  ", None),
    ],
)
def test_times(text, problem):
    """Table 6.2-1 TM: HH (00-23), MM (00-59), SS (00-60, a leap second), .F to .FFFFFF, each part after
    HH optional; pydicom's pattern agrees."""
    if problem is None:
        ok("TM", text)
        if text.strip():
            assert pydicom_accepts("TM", text)
    else:
        err = refused("TM", text)
        assert str(err) == f"StudyTime {text!r} {problem} (TM, PS3.5 6.2)"
        assert not pydicom_accepts("TM", text)


@pytest.mark.parametrize(
    "text, problem",
    [
        ("2020", None),
        ("202002", None),
        ("20200229", None),
        ("2020022923", None),
        ("202002292359", None),
        ("20200229235960", None),
        ("20200229235959.123456", None),
        ("2020+1400", None),
        ("2020-1200", None),
        ("2020+1300", None),
        ("2020+0000", None),
        ("2020-0000", None),
        ("2020 ", None),
        ("2020+1401", "has UTC offset +1401 (allowed -1200 to +1400)"),
        ("2020-1201", "has UTC offset -1201 (allowed -1200 to +1400)"),
        ("2020-1300", "has UTC offset -1300 (allowed -1200 to +1400)"),
        ("2020+0060", "has UTC offset +0060 (allowed -1200 to +1400)"),
        ("2020-0060", "has UTC offset -0060 (allowed -1200 to +1400)"),
        ("202013", "has month 13"),
        ("20210229", "has day 29, which month 02 of 2021 does not have"),
        ("2020022924", "has hour 24"),
        ("202002292360", "has minute 60"),
        ("20200229235961", "has second 61"),
        ("202", "is not a date-time YYYYMMDDHHMMSS.FFFFFF&ZZXX"),
        ("2020X", "is not a date-time YYYYMMDDHHMMSS.FFFFFF&ZZXX"),
        ("2020+14", "is not a date-time YYYYMMDDHHMMSS.FFFFFF&ZZXX"),
        ("20200229235959.1234567", "is not a date-time YYYYMMDDHHMMSS.FFFFFF&ZZXX"),
    ],
)
def test_date_times(text, problem):
    """Table 6.2-1 DT: YYYYMMDDHHMMSS.FFFFFF&ZZXX, components after YYYY optional, &ZZXX a UTC offset
    (PS3.5 Table 6.2-1 Note: -1200 to +1400), trailing spaces allowed. pydicom allows offsets up to
    +-1959 (laxer) and refuses no calendar day."""
    if problem is None:
        ok("DT", text)
        # pydicom allows one trailing space only after a fraction (stricter than the padding rule)
        assert pydicom_accepts("DT", text) or text.endswith(" ")
    else:
        err = refused("DT", text)
        assert str(err) == f"AcquisitionDateTime {text!r} {problem} (DT, PS3.5 6.2)"


def test_date_time_month_and_day_default_to_the_first():
    """A DT without month or day is a year: the calendar check takes January 1 (any year has it)."""
    ok("DT", "2021")
    ok("DT", "202102")


@pytest.mark.parametrize(
    "text, problem",
    [
        ("0", None),
        ("-1.5", None),
        ("+.5", None),
        ("5.", None),
        ("1e3", None),
        ("1E-3", None),
        (" 1.5 ", None),
        ("-9.2e18", None),
        ("9.2e18", None),
        ("1e18", None),
        ("127", None),
        ("9.3e18", "is beyond +-9.2e18 (2^63), where readers that hold a DS as a 64-bit integer overflow"),
        ("-9.3e18", "is beyond +-9.2e18 (2^63)"),
        ("1e19", "is beyond +-9.2e18 (2^63)"),
        ("1e999", "is not finite"),
        ("-1e999", "is not finite"),
        ("1X", "is not a decimal number"),
        ("XX", "is not a decimal number"),
        ("nan", "is not a decimal number"),
        ("inf", "is not a decimal number"),
        ("1,5", "is not a decimal number"),
        ("1.5.", "is not a decimal number"),
        (".", "is not a decimal number"),
        ("e3", "is not a decimal number"),
        ("0x10", "is not a decimal number"),
    ],
)
def test_decimal_strings(text, problem):
    """Table 6.2-1 DS: a fixed or floating point number, [+-], digits, '.', [eE][+-]digits, leading and
    trailing spaces; pydicom's pattern agrees on the form (it does not refuse 1e999)."""
    if problem is None:
        ok("DS", text)
        assert pydicom_accepts("DS", text)
    else:
        err = refused("DS", text)
        assert str(err).startswith(f"SliceThickness {text!r} {problem}")
        assert str(err).endswith("(DS, PS3.5 6.2)")
    assert DS_LIMIT == 2.0**63


@pytest.mark.parametrize(
    "text, problem",
    [
        ("0", None),
        ("-2147483648", None),
        ("2147483647", None),
        ("+2147483647", None),
        (" 12 ", None),
        ("-2147483649", "is outside -2^31..2^31-1"),
        ("2147483648", "is outside -2^31..2^31-1"),
        ("1.0", "is not an integer"),
        ("1X", "is not an integer"),
        ("XX", "is not an integer"),
        ("1e3", "is not an integer"),
    ],
)
def test_integer_strings(text, problem):
    """Table 6.2-1 IS: an integer -2^31 <= n <= 2^31-1, [+-] digits, leading and trailing spaces. pydicom's
    pattern agrees on the form; it does not check the range on a string."""
    if problem is None:
        ok("IS", text)
        assert pydicom_accepts("IS", text)
    else:
        err = refused("IS", text)
        assert str(err) == f"SeriesNumber {text!r} {problem} (IS, PS3.5 6.2)"


def test_person_names():
    """Table 6.2-1 PN: up to three component groups separated by '=', each of at most 64 characters with
    at most five components separated by '^'; pydicom agrees on groups and their lengths (it does not
    count the components)."""
    for text in ("Doe^John", "a=b=c", "a^b^c^d^e", "=" * 2, "a" * 64):
        ok("PN", text)
        assert pydicom_accepts("PN", text)
    err = refused("PN", "a=b=c=d")
    assert str(err) == (
        "ReferringPhysicianName 'a=b=c=d' has 4 component groups separated by '=' "
        "(at most 3: alphabetic, ideographic, phonetic) (PN, PS3.5 6.2)"
    )
    assert not pydicom_accepts("PN", "a=b=c=d")
    err = refused("PN", "a" * 65)
    assert "has a component group of 65 characters (at most 64) (PN, PS3.5 6.2)" in str(err)
    assert not pydicom_accepts("PN", "a" * 65)
    refused("PN", "x=" + "a" * 65, "has a component group of 65 characters (at most 64)")
    err = refused("PN", "a^b^c^d^e^f")
    assert (
        str(err) == "ReferringPhysicianName 'a^b^c^d^e^f' has 6 components separated by '^' (at most 5) (PN, PS3.5 6.2)"
    )
    refused("PN", "x=a^b^c^d^e^f", "has 6 components")
    check_value("ReferringPhysicianName", "PN", PersonName("Doe^John"))


def test_free_text_vrs_have_no_format():
    """Table 6.2-1 LO, SH, LT, ST, UT, UC, AE: any character of the repertoire (no format)."""
    for vr in ("LO", "SH", "LT", "ST", "UT", "UC", "AE"):
        ok(vr, "a=b^c")


def test_all_space_values_are_empty():
    """A value of spaces only is an empty value (PS3.5 6.2: padding); no format applies."""
    for vr in ("DA", "TM", "DT", "DS", "IS"):
        ok(vr, "  ")


def test_leading_spaces_of_a_date_time():
    """DS, IS and DT are checked without their surrounding spaces (Table 6.2-1: DS/IS leading and trailing
    spaces are not significant; DT may be padded)."""
    ok("DT", " 2020")
    ok("DS", " 1")
    ok("IS", " 1")


# -- binary VRs (Table 6.2-1: US, SS, UL, SL, UV, SV ranges; FL, FD IEEE 754) ------------------------------


@pytest.mark.parametrize(
    "vr, keyword, low, high",
    [
        ("US", "Rows", 0, 2**16 - 1),
        ("SS", "TagAngleSecondAxis", -(2**15), 2**15 - 1),
        ("UL", "SimpleFrameList", 0, 2**32 - 1),
        ("SL", "ReferencePixelX0", -(2**31), 2**31 - 1),
        ("UV", "ExtendedOffsetTable", 0, 2**64 - 1),
        ("SV", "SelectorSVValue", -(2**63), 2**63 - 1),
    ],
)
def test_binary_integer_ranges(vr, keyword, low, high):
    """Table 6.2-1: US 0..2^16-1, SS -2^15..2^15-1, UL 0..2^32-1, SL -2^31..2^31-1, UV 0..2^64-1,
    SV -2^63..2^63-1; pydicom's validate_number agrees where it has the VR."""
    for value in (low, high):
        check_value(keyword, vr, value)
        if vr not in ("UV", "UL", "US"):
            assert pydicom_accepts(vr, value)
    for value in (low - 1, high + 1):
        with pytest.raises(InvalidValue) as info:
            check_value(keyword, vr, value)
        assert str(info.value) == f"{keyword} {value} is outside {low}..{high} ({vr}, PS3.5 6.2)"
        if vr not in ("UV", "UL", "US"):
            assert not pydicom_accepts(vr, value)


@pytest.mark.parametrize("vr, keyword", [("FL", "RecommendedDisplayFrameRateInFloat"), ("FD", "RealWorldValueSlope")])
def test_floats_must_be_finite(vr, keyword):
    """Table 6.2-1 FL/FD: IEEE 754 numbers; PS3.5 7.1 leaves NaN and infinities out of attribute values
    (dciodvfy refuses them); pydicom does not check."""
    check_value(keyword, vr, 1.5)
    check_value(keyword, vr, -3.4e38)
    for bad in (math.nan, math.inf, -math.inf):
        with pytest.raises(InvalidValue, match=re.escape(f"is not a finite number ({vr}, PS3.5 6.2)")):
            check_value(keyword, vr, bad)


def test_many_float_values_are_checked_at_once():
    """More than 16 values (outlines) are checked as one array; the result is the same."""
    values = [1.0] * 17
    check_value("GraphicData", "FL", values)
    for n in (16, 17, 40):
        bad = [1.0] * n
        bad[-1] = math.nan
        with pytest.raises(InvalidValue, match="is not a finite number"):
            check_value("GraphicData", "FL", bad)
    check_value("GraphicData", "FL", np.ones(40).tolist())


# -- Value Multiplicity (PS3.6, 6.4) ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "keyword, vr, allowed, refused_counts, vm",
    [
        ("Modality", "CS", [1], [2], "1"),
        ("PixelSpacing", "DS", [2], [1, 3], "2"),
        ("ImageType", "CS", [2, 3, 7], [1], "2-n"),
        ("VerticesOfThePolygonalShutter", "IS", [2, 4, 6], [1, 3, 5], "2-2n"),
        ("ContourData", "DS", [3, 6, 9], [1, 2, 4, 5, 7], "3-3n"),
        ("ShutterShape", "CS", [1, 2, 3], [4], "1-3"),
        ("FrameType", "CS", [4, 5], [3, 6], "4-5"),
        ("RetrieveAETitle", "AE", [1, 2, 9], [], "1-n"),
        ("FieldOfViewDimensions", "IS", [1, 2], [3], "1-2"),
    ],
)
def test_value_multiplicity(keyword, vr, allowed, refused_counts, vm):
    """PS3.6 gives each attribute's VM: n, low-high, low-n and low-k*n (multiples of k); no values at all
    (an empty value) is always allowed (PS3.5 7.4: Type 2)."""
    one = {"CS": "A", "DS": "1", "IS": "1", "AE": "A"}[vr]
    for count in allowed:
        check_value(keyword, vr, [one] * count)
    check_value(keyword, vr, [])
    for count in refused_counts:
        with pytest.raises(InvalidValue) as info:
            check_value(keyword, vr, [one] * count)
        assert f"has {count} values; the attribute allows VM {vm} ({vr}, PS3.5 6.2)" in str(info.value)


def test_binary_multiplicity():
    """PS3.6: Rows has VM 1, Image Position (Patient) 3 (FD here as Image Position Volume, VM 3)."""
    with pytest.raises(InvalidValue, match=re.escape("has 2 values; the attribute allows VM 1 (US, PS3.5 6.2)")):
        check_value("Rows", "US", [1, 2])
    check_value("ImagePositionVolume", "FD", [1.0, 2.0, 3.0])
    with pytest.raises(InvalidValue, match=re.escape("has 2 values; the attribute allows VM 3 (FD, PS3.5 6.2)")):
        check_value("ImagePositionVolume", "FD", [1.0, 2.0])


def test_multivalue_and_tuple_are_several_values():
    """pydicom's MultiValue and tuples hold several values, each checked on its own."""
    check_value("ImageType", "CS", MultiValue(str, ["ORIGINAL", "PRIMARY"]))
    check_value("ImageType", "CS", ("ORIGINAL", "PRIMARY"))
    with pytest.raises(InvalidValue, match="is not upper-case"):
        check_value("ImageType", "CS", MultiValue(str, ["ORIGINAL", "primary"]))
    with pytest.raises(InvalidValue, match="has 1 values"):
        check_value("ImageType", "CS", MultiValue(str, ["ORIGINAL"]))


def test_private_and_unknown_tags_have_no_vm_and_are_named_by_tag():
    """A tag the dictionary does not have has no VM to check; messages name it (gggg,eeee)."""
    check_value(0x00091010, "LO", ["a", "b", "c"])
    with pytest.raises(InvalidValue) as info:
        check_value(0x00091010, "LO", "a" * 65)
    assert str(info.value).startswith("(0009,1010) 'aaaa")
    assert info.value.keyword == "(0009,1010)"


def test_none_and_sequences_are_not_values():
    """None is an empty value; SQ values are items, checked by check_dataset."""
    check_value("StudyDate", "DA", None)
    check_value("SeriesNumber", "IS", None)
    check_value("ReferencedSeriesSequence", "SQ", [Dataset()])


def test_long_values_are_shown_shortened():
    """The message shows the value's repr whole up to 80 characters, else its first 77 and '...'."""
    exact = "a" * 78  # repr 80 characters
    with pytest.raises(InvalidValue) as info:
        check_value("Modality", "CS", exact)
    assert str(info.value).startswith(f"Modality {exact!r} has 78 characters")
    over = "a" * 79  # repr 81 characters
    with pytest.raises(InvalidValue) as info:
        check_value("Modality", "CS", over)
    assert str(info.value).startswith(f"Modality {repr(over)[:77]}... has 79 characters")
    assert info.value.value == over


def test_ds_and_is_values_are_checked_as_pydicom_writes_them():
    """DSfloat/IS keep the text they were made from; a float is written as str(float)."""
    check_value("SliceThickness", "DS", DSfloat("1.50"))
    check_value("SliceThickness", "DS", 1.5)
    check_value("SeriesNumber", "IS", 7)
    with pytest.raises(InvalidValue, match="'inf' is not a decimal number"):
        check_value("SliceThickness", "DS", math.inf)
    with pytest.raises(InvalidValue, match="is not a decimal number"):
        check_value("SliceThickness", "DS", math.nan)
    with pytest.raises(InvalidValue, match="more than the 16 DS allows"):
        check_value("SliceThickness", "DS", 0.1234567890123456)
    with pytest.raises(InvalidValue, match="is outside"):
        check_value("SeriesNumber", "IS", 2**31)


def test_valid_values_are_remembered_but_invalid_ones_never():
    """Repeated values are checked once; a refused value is refused every time."""
    for _ in range(2):
        refused("DA", "20231301")
        ok("DA", "20231201")
    assert ("DA", "20231201") in vrmod._ok
    assert ("DA", "20231301") not in vrmod._ok


# -- datasets ----------------------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:Invalid value for VR")
def test_check_dataset_items_skip_raw_and_pixel_data():
    ds = Dataset()
    ds.Modality = "OT"
    item = Dataset()
    item.StudyDate = "20231301"
    ds.ReferencedSeriesSequence = [item]
    with pytest.raises(InvalidValue, match="StudyDate '20231301' has month 13"):
        check_dataset(ds)
    check_dataset(ds, skip=["StudyDate"])
    item.StudyDate = "20231201"
    check_dataset(ds)
    ds.Modality = "ot"
    with pytest.raises(InvalidValue, match="Modality 'ot'"):
        check_dataset(ds)
    check_dataset(ds, skip=["Modality"])
    ds.Modality = "OT"
    ds[0x00080020] = RawDataElement(Tag(0x00080020), "DA", 8, b"20231301", 0, False, True)
    check_dataset(ds)  # raw: encoded by the builder itself
    ds2 = Dataset()
    ds2.PixelData = b"\x00\x01"
    ds2["PixelData"].VR = "OB"
    check_dataset(ds2)


@pytest.mark.filterwarnings("ignore:The PN component length", "ignore:Invalid value for VR", "ignore:The value length")
def test_check_object_skips_copied_patient_and_study_values_only():
    """Patient and study values copied from a source are the source's (PS3.3 C.7.1.1, C.7.2.1); others
    are checked."""
    ds = Dataset()
    ds.PatientName = "a" * 70  # refused anywhere else
    ds.StudyDate = "20231301"
    check_object(ds)
    ds.SeriesDescription = "a" * 65
    with pytest.raises(InvalidValue, match="SeriesDescription"):
        check_object(ds)


# -- canonical_ds ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1.000000", "1"),
        ("1.0", "1"),
        ("-0.0", "0"),
        ("-0", "0"),
        ("0.50", "0.5"),
        ("10", "10"),
        ("1e3", "1000"),
        ("-2.5", "-2.5"),
        ("1.10", "1.1"),
        ("abc", "abc"),
        ("nan", "nan"),
        ("inf", "inf"),
        ("-inf", "-inf"),
        ("  ", "  "),
        ("0.123456789012345", format_number_as_ds(0.123456789012345)),  # repr: 17 characters
        ("0.1234567890123456", format_number_as_ds(0.1234567890123456)),
        ("0.12345678901234", "0.12345678901234"),  # repr: 16 characters, kept
        ("1.2345678901234e-05", format_number_as_ds(1.2345678901234e-05)),
    ],
)
def test_canonical_ds(text, expected):
    """The shortest text of the same double, at most 16 characters (Table 6.2-1 DS); pydicom's
    format_number_as_ds where Python's repr is longer."""
    assert canonical_ds(text) == expected
    assert len(canonical_ds(text)) <= 16 or text == "abc"


def test_boundaries_found_by_the_mutation_run():
    """Table 6.2-1 DT: the minutes of the UTC offset go to 59; 6.1.2.3: the control-character message in
    full; canonical_ds keeps text that is not a finite number as it is (NaN, Infinity)."""
    ok("DT", "2020+0059")
    ok("DT", "2020-1159")
    err = refused("DT", "2020\x01")
    assert str(err) == "AcquisitionDateTime '2020\\x01' holds a control character (DT, PS3.5 6.2)"
    for text in ("NaN", "Infinity", "-INF", "+inf"):
        assert canonical_ds(text) == text


def test_a_vm_written_with_or():
    """A dictionary VM written "A or B" is read as the range A-B (pydicom 3.0's dictionary has none; a
    dictionary entry added at run time may)."""
    from pydicom.datadict import DicomDictionary, add_dict_entry

    tag = 0x7FE0FFF0  # unused in PS3.6
    assert tag not in DicomDictionary
    add_dict_entry(tag, "US", "TestVMWithOr", "Test VM With Or", "2 or 3")
    try:
        vrmod._multiplicity.cache_clear()
        check_value(tag, "US", [1, 2])
        check_value(tag, "US", [1, 2, 3])
        with pytest.raises(InvalidValue, match=re.escape("has 4 values; the attribute allows VM 2-3")):
            check_value(tag, "US", [1, 2, 3, 4])
    finally:
        del DicomDictionary[tag]
        vrmod._multiplicity.cache_clear()


def test_messages_in_full():
    """The backslash (check_text) and the many-floats messages word for word."""
    err = refused("LO", "a\\b")
    assert str(err) == "SeriesDescription 'a\\\\b' holds a backslash, which separates values (LO, PS3.5 6.2)"
    values = [1.0] * 17 + [math.inf]
    with pytest.raises(InvalidValue) as info:
        check_value("GraphicData", "FL", values)
    assert str(info.value).endswith(" is not a finite number (FL, PS3.5 6.2)")
    assert str(info.value).startswith("GraphicData [1.0, 1.0")
