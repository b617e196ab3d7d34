"""``resolve/codes.py`` and ``code_table.py`` (a spec value -> a Code): keywords looked up scheme by scheme
in pydicom's code dictionary (the oracle: ``pydicom.sr.codedict.codes``), every message, hint and warning
word for word, the 64-character meaning limit (LO, PS3.5 Table 6.2-1).

Mutation testing (tests/MUTATION.md, fourth pass, entry ``resolve_codes``)."""

from __future__ import annotations

import pytest
from pydicom.sr.codedict import codes

from dcmspec_compiler.errors import Location, SpecError
from dcmspec_compiler.resolve.codes import resolve_code

ORDER = ("SCT", "DCM", "UCUM", "LN", "FMA", "NCIt", "UMLS")  # dcmspec's keyword order
WHERE = Location("spec.yaml", 3, 9)


@pytest.mark.parametrize("scheme", ORDER)
def test_a_keyword_of_each_scheme_resolves_to_pydicoms_code(scheme):
    """A keyword only that scheme (and no scheme before it in the order) has, as pydicom defines it."""
    before = [set(getattr(codes, s).dir()) for s in ORDER[: ORDER.index(scheme)]]
    keyword = next(k for k in sorted(getattr(codes, scheme).dir()) if not any(k in b for b in before))
    expected = getattr(getattr(codes, scheme), keyword)
    code = resolve_code(keyword)
    assert (code.value, code.scheme_designator, code.meaning) == (
        expected.value,
        expected.scheme_designator,
        expected.meaning,
    )
    scoped = resolve_code(f"{scheme}:{keyword}")  # SCHEME:keyword, no meaning
    assert (scoped.value, scoped.scheme_designator) == (expected.value, scheme)


def test_messages_and_hints_word_for_word():
    def error(value):
        with pytest.raises(SpecError) as raised:
            resolve_code(value, location=WHERE, path=("type",))
        e = raised.value
        assert e.location == WHERE
        return e.message, e.hint, e.path

    assert error({"scheme": "SCT", "value": " ", "meaning": "x"}) == (
        "the Code Value is empty",
        "a code needs its value (PS3.3 8.8)",
        ("type", "value"),
    )
    assert error("a b") == (
        "'a b' is not a code",
        'write SCHEME:VALUE "Meaning", e.g. SCT:10200004 "Liver", or a keyword like Liver',
        ("type",),
    )
    assert error("Qwxzv") == ("unknown code keyword 'Qwxzv'", 'or write SCHEME:VALUE "Meaning"', ("type",))
    message, hint, _ = error("Livr")
    assert message == "unknown code keyword 'Livr'" and hint.endswith('? or write SCHEME:VALUE "Meaning"')
    assert hint.startswith("did you mean ") and "Liver" in hint[len("did you mean ") :].split("? ")[0].split(", ")
    assert error("SCT:999999999") == (
        "code SCT:999999999 needs a meaning: the DICOM code dictionary does not know it",
        'write SCT:999999999 "Meaning"',
        ("type",),
    )
    assert error({"scheme": "99X", "value": "1", "meaning": ""}) == ("a code meaning may not be empty", None, ("type",))
    long = "m" * 65
    assert error({"scheme": "99X", "value": "1", "meaning": long}) == (
        f"code meaning {long!r} is longer than 64 characters (LO)",
        None,
        ("type",),
    )
    assert resolve_code({"scheme": "99X", "value": "1", "meaning": "m" * 64}).meaning == "m" * 64


def test_warnings_say_the_dictionarys_meaning():
    said: list[tuple] = []

    def warn(message, location, path):
        said.append((message, location, path))

    liver = codes.SCT.Liver
    assert resolve_code('Liver "Hepar"', location=WHERE, path=("t",), warn=warn).meaning == liver.meaning
    assert resolve_code(f'Liver "{liver.meaning}"', warn=warn).meaning == liver.meaning  # the same: no warning
    code = resolve_code(f'SCT:{liver.value} "Hepar"', location=WHERE, path=("t",), warn=warn)
    assert code.meaning == "Hepar"
    assert said == [
        (f"the meaning of SCT:{liver.value} is {liver.meaning!r}", WHERE, ("t",)),
        (f"code SCT:{liver.value} means {liver.meaning!r} in the DICOM code dictionary, not 'Hepar'", WHERE, ("t",)),
    ]


def test_a_version_is_kept():
    code = resolve_code({"scheme": "99X", "value": "1", "meaning": "One", "version": "2.1"})
    assert code.scheme_version == "2.1"
    assert resolve_code({"scheme": "99X", "value": "1", "meaning": "One"}).scheme_version is None


def test_the_keyword_section_searched_and_read_whole_agree():
    """The first lookups search the stored bytes, later ones a dictionary made once: every key of the
    dictionary (and a key that is none, one that reads like a value line) gives the same answer both ways,
    and each pydicom code of SCT and DCM is found by its value."""
    from dcmspec_compiler.resolve.codes import _Section, _table, dictionary_meaning

    _, _, by_keyword = _table()
    whole = by_keyword.as_dict()
    fresh = _Section(by_keyword._data, by_keyword._start, by_keyword._end)
    sample = sorted(whole)[:: max(1, len(whole) // 40)] + ["SCT:NoSuchKeyword", "x\ny"]
    assert [fresh.search(k) for k in sample] == [whole.get(k) for k in sample]
    counted = _Section(by_keyword._data, by_keyword._start, by_keyword._end)
    answers = [counted.get(k) for k in sample[:40]]  # past SEARCHES: the dictionary answers
    assert answers == [whole.get(k) for k in sample[:40]] and counted._dict is not None
    assert _Section.SEARCHES == 32 and counted._searches == 32
    for scheme in ("SCT", "DCM"):
        collection = getattr(codes, scheme)
        for keyword in collection.dir()[:: max(1, len(collection.dir()) // 25)]:
            code = getattr(collection, keyword)
            assert dictionary_meaning(scheme, code.value) is not None


def test_a_compact_code_has_no_scheme_version():
    """Coding Scheme Version (0008,0103) is written only when given: a compact code leaves it out."""
    assert resolve_code('SCT:10200004 "Liver"').scheme_version is None
    assert resolve_code("Liver").scheme_version is None


@pytest.mark.parametrize("typo", ["Kidny", "Spleeen", "Lungg", "Hart"])
def test_suggestions_are_difflibs_three_closest_keywords(typo):
    """The oracle: difflib over pydicom's keywords of the seven schemes, three at most, cutoff 0.75."""
    import difflib

    pool = [k for s in ORDER for k in getattr(codes, s).dir()]
    close = difflib.get_close_matches(typo, pool, n=3, cutoff=0.75)
    with pytest.raises(SpecError) as raised:
        resolve_code(typo)
    expected = (f"did you mean {', '.join(close)}? " if close else "") + 'or write SCHEME:VALUE "Meaning"'
    assert raised.value.hint == expected
