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


@pytest.mark.parametrize(
    "value, fragment, hint",
    [
        ("Livr", "unknown code keyword", "Liver"),
        ("SCT:99999999", "needs a meaning", 'SCT:99999999 "Meaning"'),
        ('not a "code', "is not a code", "SCHEME:VALUE"),
    ],
)
def test_bad_codes(value, fragment, hint):
    with pytest.raises(SpecError) as err:
        resolve_code(value)
    assert fragment in err.value.message
    assert hint in (err.value.hint or "")


def test_meaning_too_long():
    with pytest.raises(SpecError, match="64"):
        resolve_code('SCT:1 "' + "x" * 65 + '"')


def test_private_scheme_starting_with_a_digit():
    code = resolve_code('99ACME:1234 "Our finding"')
    assert (code.scheme_designator, code.value, code.meaning) == ("99ACME", "1234", "Our finding")


def test_stored_code_dictionary_is_pydicoms():
    """The table the resolver reads is exactly what pydicom's concept dictionary gives (after a pydicom
    update: ``python -m dcmspec_compiler.resolve.code_table``)."""
    from dcmspec_compiler.resolve.code_table import TABLE, table_text

    stored = TABLE.read_bytes().decode("utf-8")
    # the first line names the pydicom release the table was made from; the codes must be the installed
    # pydicom's (the version matrix runs this with the lowest and the newest pydicom allowed)
    assert stored.split("\n", 1)[1] == table_text().split("\n", 1)[1]
    assert stored.startswith("DICOM code dictionary (PS3.16) from pydicom ")


@pytest.mark.parametrize(
    "scheme, keyword",
    [
        ("SCT", "Liver"),
        ("SCT", "AnatomicalStructure"),
        ("DCM", "ArtificialIntelligence"),
        ("UCUM", "Millimeter"),
        ("LN", "CTReport"),
        ("SCT", "Kidney"),
        ("DCM", "ImagingMeasurementReport"),
    ],
)
def test_keywords_resolve_as_pydicoms_codedict(scheme, keyword):
    from pydicom.sr.codedict import codes

    expected = getattr(getattr(codes, scheme), keyword)
    for form in (keyword, f"{scheme}:{keyword}") if scheme == "SCT" else (f"{scheme}:{keyword}",):
        code = resolve_code(form)
        assert (code.value, code.scheme_designator, code.meaning) == (
            expected.value,
            expected.scheme_designator,
            expected.meaning,
        )


def test_every_dictionary_value_gives_pydicoms_meaning():
    """All (scheme, value) pairs: the meaning pydicom's dictionary lists first."""
    from pydicom.sr._concepts_dict import concepts

    from dcmspec_compiler.resolve.codes import dictionary_meaning

    first: dict[tuple[str, str], str] = {}
    for scheme, entries in concepts.items():
        for values in entries.values():
            for value, (meaning, _cids) in values.items():
                first.setdefault((scheme, str(value)), meaning)
    wrong = [(s, v) for (s, v), m in first.items() if dictionary_meaning(s, v) != m]
    assert not wrong, wrong[:5]
    assert dictionary_meaning("SCT", "0000000000") is None


def test_our_code_equals_pydicoms_code():
    from pydicom.sr.coding import Code as PydicomCode

    from dcmspec_compiler.iods.common.concept import Code, is_code

    ours, theirs = Code("10200004", "SCT", "Liver"), PydicomCode("10200004", "SCT", "Liver (organ)")
    assert ours == theirs and theirs == ours and hash(ours) == hash(theirs)
    assert ours != PydicomCode("10200004", "DCM", "Liver") and PydicomCode("10200004", "DCM", "Liver") != ours
    # SNOMED-RT codes are the SNOMED CT concept they map to, as in pydicom
    srt = PydicomCode("T-62000", "SRT", "Liver")
    assert (Code("T-62000", "SRT", "Liver") == ours) == (srt == theirs) is True
    assert is_code(ours) and is_code(theirs) and not is_code(("10200004", "SCT", "Liver", None))


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


def test_table_lookups_by_search_equal_the_dictionary():
    """The first lookups of a run find the key's line in the table's bytes (resolve/codes.py _Section),
    later ones use a dictionary: both give the same answers (oracle: the dictionary built from every line)."""
    import random

    from dcmspec_compiler.resolve.codes import _Section, _table

    for section in _table()[1:]:
        fresh = _Section(section._data, section._start, section._end)
        table = fresh.as_dict()
        keys = list(table)
        sample = keys[:3] + keys[-3:] + random.Random(7).sample(keys, 300)
        assert all(fresh.search(k) == table[k] for k in sample)
        values = list(table.values())[:50]
        assert all(fresh.search(k) == table.get(k) for k in ["SCT:0000000000", "SCT:", "", "SCT:1\nx", *values])


def test_a_value_line_that_reads_like_a_key_is_not_taken_for_one():
    from dcmspec_compiler.resolve.codes import _Section

    data = b"header\nA:1\nB:2\nB:2\nmeaning of B:2\nC:3\nA:1\n\n"
    section = _Section(data, data.index(b"\n"), len(data) - 1)
    assert [section.search(k) for k in ("A:1", "B:2", "C:3", "meaning of B:2", "D:4")] == [
        "B:2",
        "meaning of B:2",
        "A:1",
        None,
        None,
    ]
    assert {k: section.search(k) for k in section.as_dict()} == section.as_dict()
