"""Code forms: explicit triple, compact string, dictionary value and keyword lookup."""

import pytest

from dcmspec_compiler.errors import SpecError
from dcmspec_compiler.resolve.codes import resolve_code


def test_compact_and_explicit_forms():
    code = resolve_code('SCT:10200004 "Liver"')
    assert (code.value, code.scheme_designator, code.meaning) == ("10200004", "SCT", "Liver")
    code = resolve_code({"scheme": "DCM", "value": 123110, "meaning": "Artificial Intelligence"})
    assert code.value == "123110" and code.scheme_designator == "DCM"


def test_keyword_and_value_lookup():
    assert resolve_code("Liver").value == "10200004"
    assert resolve_code("SCT:Spleen").value == "78961009"
    assert resolve_code("SCT:10200004").meaning == "Liver"


def test_meaning_disagreeing_with_dictionary_warns_with_expected_meaning():
    warnings = []
    code = resolve_code('SCT:10200004 "Lever"', warn=lambda m, loc, p: warnings.append(m))
    assert code.meaning == "Lever"
    assert warnings and "'Liver'" in warnings[0]


@pytest.mark.parametrize("value, fragment, hint", [
    ("Livr", "unknown code keyword", "Liver"),
    ("SCT:99999999", "needs a meaning", 'SCT:99999999 "Meaning"'),
    ('not a "code', "is not a code", "SCHEME:VALUE"),
])
def test_bad_codes(value, fragment, hint):
    with pytest.raises(SpecError) as err:
        resolve_code(value)
    assert fragment in err.value.message
    assert hint in (err.value.hint or "")


def test_meaning_too_long():
    with pytest.raises(SpecError, match="64"):
        resolve_code("SCT:1 \"" + "x" * 65 + "\"")


def test_private_scheme_starting_with_a_digit():
    code = resolve_code('99ACME:1234 "Our finding"')
    assert (code.scheme_designator, code.value, code.meaning) == ("99ACME", "1234", "Our finding")


def test_code_item_refuses_a_meaning_longer_than_lo_and_never_cuts_it():
    """The one Code Sequence item builder (and its byte form for the SEG functional groups) refuses a
    65-character meaning, as the resolver does; 64 characters are kept whole. Oracle: the LO limit of
    PS3.5 Table 6.2-1 and pydicom's own reading of the encoded bytes."""
    from pydicom import dcmread
    from pydicom.filebase import DicomBytesIO
    from pydicom.sr.coding import Code

    from dcmspec_compiler.errors import DicomConformanceError
    from dcmspec_compiler.iods.common.codes import code_item
    from dcmspec_compiler.iods.common.encoding import code_item_body

    with pytest.raises(DicomConformanceError, match="longer than 64"):
        code_item(Code("1", "99X", "m" * 65))
    with pytest.raises(DicomConformanceError, match="longer than 64"):
        code_item_body(Code("1", "99X", "m" * 65))
    meaning = "abcdefghij" * 6 + "wxyz"
    assert code_item(Code("1", "99X", meaning)).CodeMeaning == meaning
    body = code_item_body(Code("123456789012345678", "99X", meaning, "v2"))
    ds = dcmread(DicomBytesIO(body), force=True)  # an item body is a dataset in Implicit/Explicit LE
    assert ds.CodeMeaning == meaning and ds.LongCodeValue == "123456789012345678"
    assert ds.CodingSchemeDesignator == "99X" and ds.CodingSchemeVersion == "v2" and "CodeValue" not in ds
