"""SR relationship rules (iods/sr/relationships.py): every message word for word, by-reference addressing at
its edges, and the verdicts of hand-made trees read off PS3.3 Tables A.35.2-2 and A.35.3-2 by hand
(tests/MUTATION.md: mutants of relationships.py the focused tests did not notice)."""

from __future__ import annotations

import pytest
from pydicom.dataset import Dataset

from dcmspec_compiler.errors import DicomConformanceError
from dcmspec_compiler.iods.sr.relationships import (
    COMPREHENSIVE,
    ENHANCED,
    RULES,
    IODRules,
    check_tree,
    tree_facts,
    tree_violations,
)


def _item(value_type: str | None, relationship: str | None = None, meaning: str | None = "x") -> Dataset:
    ds = Dataset()
    if relationship:
        ds.RelationshipType = relationship
    if value_type:
        ds.ValueType = value_type
    if meaning is not None:
        name = Dataset()
        name.CodeValue = "1"
        name.CodingSchemeDesignator = "99X"
        name.CodeMeaning = meaning
        ds.ConceptNameCodeSequence = [name]
    return ds


def _with(parent: Dataset, *children: Dataset) -> Dataset:
    parent.ContentSequence = list(children)
    return parent


def _report(*children: Dataset) -> Dataset:
    return _with(_item("CONTAINER", meaning="Report"), *children)


def _ref(relationship: str, identifier) -> Dataset:
    ds = Dataset()
    ds.RelationshipType = relationship
    ds.ReferencedContentItemIdentifier = identifier
    return ds


def _messages(rules: IODRules, root: Dataset) -> list[str]:
    return list(tree_violations(rules, root))


def test_root_messages_word_for_word():
    root = _with(_item("TEXT", meaning=None))
    assert _messages(ENHANCED, root) == [
        "the root content item of a Enhanced SR document must be a CONTAINER (PS3.3 C.17.3)",
        "the root CONTAINER needs a concept name (the document title, PS3.3 C.17.3)",
    ]
    empty_name = _item("CONTAINER", meaning=None)
    empty_name.ConceptNameCodeSequence = []
    assert _messages(COMPREHENSIVE, empty_name) == [
        "the root CONTAINER needs a concept name (the document title, PS3.3 C.17.3)"
    ]
    assert _messages(COMPREHENSIVE, _item(None)) == [
        "the root content item of a Comprehensive SR document must be a CONTAINER (PS3.3 C.17.3)"
    ]
    assert _messages(COMPREHENSIVE, _report()) == []
    with pytest.raises(DicomConformanceError, match="must be a CONTAINER"):
        check_tree(COMPREHENSIVE, _item("TEXT"))
    check_tree(COMPREHENSIVE, _report())


def test_relationship_not_in_the_table_word_for_word():
    # Table A.35.2-2: HAS OBS CONTEXT has CONTAINER as its only source
    doc = _report(_with(_item("NUM", "CONTAINS"), _item("TEXT", "HAS OBS CONTEXT", "t")))
    assert _messages(ENHANCED, doc) == [
        "Enhanced SR does not allow NUM 'x' HAS OBS CONTEXT TEXT 't' at item 1.1.1"
        " (PS3.3 A.35.2-2; NUM HAS OBS CONTEXT allows nothing)"
    ]
    # Table A.35.3-2: IMAGE HAS ACQ CONTEXT TEXT, CODE, DATETIME, DATE, TIME, UIDREF, PNAME, NUM, CONTAINER
    doc = _report(_with(_item("IMAGE", "CONTAINS"), _item("SCOORD", "HAS ACQ CONTEXT", "s")))
    assert _messages(COMPREHENSIVE, doc)[0] == (
        "Comprehensive SR does not allow IMAGE 'x' HAS ACQ CONTEXT SCOORD 's' at item 1.1.1 (PS3.3 A.35.3-2;"
        " IMAGE HAS ACQ CONTEXT allows CODE, CONTAINER, DATE, DATETIME, NUM, PNAME, TEXT, TIME, UIDREF)"
    )
    # no Relationship Type, no Value Type: empty in the message, and refused
    doc = _report(_item(None, None, "n"))
    assert _messages(COMPREHENSIVE, doc) == [
        "Comprehensive SR does not allow value type  (PS3.3 A.35.3-2); item 1.1 'n' is one"
    ]
    doc = _report(_item("TEXT", None, "n"))
    assert _messages(COMPREHENSIVE, doc) == [
        "Comprehensive SR does not allow CONTAINER 'Report'  TEXT 'n' at item 1.1 (PS3.3 A.35.3-2;"
        " CONTAINER  allows nothing)"
    ]
    # the allowed ones by hand: CONTAINER CONTAINS TEXT, TEXT HAS CONCEPT MOD CODE, NUM INFERRED FROM CONTAINER
    ok = _report(
        _with(_item("TEXT", "CONTAINS"), _item("CODE", "HAS CONCEPT MOD")),
        _with(_item("NUM", "CONTAINS"), _item("CONTAINER", "INFERRED FROM")),
    )
    assert _messages(COMPREHENSIVE, ok) == []
    assert _messages(ENHANCED, ok) == [
        "Enhanced SR does not allow NUM 'x' INFERRED FROM CONTAINER 'x' at item 1.2.1 (PS3.3 A.35.2-2;"
        " NUM INFERRED FROM allows CODE, COMPOSITE, DATE, DATETIME, IMAGE, NUM, PNAME, SCOORD, TCOORD, TEXT,"
        " TIME, UIDREF, WAVEFORM)"
    ]


def _image(relationship: str) -> Dataset:
    item = _item("IMAGE", relationship)
    ref = Dataset()
    ref.ReferencedSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    ref.ReferencedSOPInstanceUID = "1.2.3.4"
    item.ReferencedSOPSequence = [ref]
    return item


def test_scoord_selected_from_count_and_message():
    def scoord(*children):
        return _report(_with(_item("NUM", "CONTAINS"), _with(_item("SCOORD", "INFERRED FROM", "p"), *children)))

    expected = (
        "SCOORD 'p' at item 1.1.1 must be the source of exactly one SELECTED FROM relationship to an IMAGE"
        " (PS3.3 C.18.6), has {}"
    )
    assert _messages(COMPREHENSIVE, scoord()) == [expected.format(0)]
    assert _messages(COMPREHENSIVE, scoord(_image("SELECTED FROM"), _image("SELECTED FROM"))) == [expected.format(2)]
    # a HAS CONCEPT MOD child and an item without Relationship Type are not SELECTED FROM
    modifier = _item("CODE", "HAS CONCEPT MOD")
    assert _messages(COMPREHENSIVE, scoord(_image("SELECTED FROM"), modifier)) == []
    no_type = _image("SELECTED FROM")
    del no_type.RelationshipType
    messages = _messages(COMPREHENSIVE, scoord(_image("SELECTED FROM"), no_type))
    assert messages == [
        "Comprehensive SR does not allow SCOORD 'p'  IMAGE 'x' at item 1.1.1.2 (PS3.3 A.35.3-2; SCOORD  allows nothing)"
    ]
    facts = tree_facts(scoord(_image("SELECTED FROM"), _image("SELECTED FROM"), _image("SELECTED FROM")))
    assert [e.selected_from for e in facts.edges] == [0, 3, 0, 0, 0]
    assert [e.path for e in facts.edges] == ["1.1", "1.1.1", "1.1.1.1", "1.1.1.2", "1.1.1.3"]
    assert [(e.source, e.relationship, e.target) for e in facts.edges[:2]] == [
        ("CONTAINER", "CONTAINS", "NUM"),
        ("NUM", "INFERRED FROM", "SCOORD"),
    ]
    assert facts.root_is_container and facts.root_has_name
    assert not any(e.by_reference or e.addressed for e in facts.edges)


def test_by_reference_addressing_at_its_edges():
    # the root is [1]; its children [1, 1] (the NUM) and [1, 2] (the IMAGE); [1, 1, 1] is the reference itself
    def doc(identifier, relationship="INFERRED FROM"):
        return _report(_with(_item("NUM", "CONTAINS"), _ref(relationship, identifier)), _image("CONTAINS"))

    loop = (
        "item 1.1.1: a by-reference relationship to the item itself or an ancestor makes a loop;"
        " relationships by-reference to ancestor Content Items are forbidden (PS3.3 A.35)"
    )
    assert _messages(COMPREHENSIVE, doc([1, 2])) == []
    # an identifier of one value, [1] (the root), reads as an int in pydicom (was a TypeError out of
    # tree_violations): the root is an ancestor of item 1.1.1, a loop, which Comprehensive SR forbids
    # ("Relationships by-reference to ancestor Content Items are forbidden", PS3.3 A.35.3.3.1.2); so is
    # [1, 1] (the NUM holding the reference) and [1, 1, 1] would be the item itself
    for ancestor in ([1], [1, 1]):
        edge = tree_facts(doc(ancestor)).edges[1]
        assert (edge.addressed, edge.loop) == (True, True), ancestor
        assert _messages(COMPREHENSIVE, doc(ancestor)) == [loop], ancestor
    assert not tree_facts(doc([1, 2])).edges[1].loop  # a sibling's subtree: no loop
    assert _messages(COMPREHENSIVE, doc([1, 1, 1])) == [loop]  # the reference item itself
    for identifier in ([1, 3], [1, 0], [2, 1], [1, 2, 1], [0, 1]):
        assert _messages(COMPREHENSIVE, doc(identifier)) == [
            "item 1.1.1: Referenced Content Item Identifier does not address an item of this tree"
        ], identifier
    facts = tree_facts(doc([1, 2]))
    edge = facts.edges[1]
    assert (edge.by_reference, edge.addressed, edge.target, edge.selected_from) == (True, True, "IMAGE", 0)
    unaddressed = tree_facts(doc([1, 3])).edges[1]
    assert (unaddressed.addressed, unaddressed.target) == (False, "")
    # by-value only (A.35.3.3.1.2): HAS CONCEPT MOD, and CONTAINS a CONTAINER
    assert _messages(COMPREHENSIVE, doc([1, 2], "HAS CONCEPT MOD")) == [
        "item 1.1.1: HAS CONCEPT MOD IMAGE may only be by-value (PS3.3 A.35.3-2)"
    ]
    inner = _report(_item("CONTAINER", "CONTAINS"), _ref("CONTAINS", [1, 1]))
    assert _messages(COMPREHENSIVE, inner) == ["item 1.2: CONTAINS CONTAINER may only be by-value (PS3.3 A.35.3-2)"]
    # CONTAINS a TEXT by reference: the table decides (CONTAINER CONTAINS TEXT is a row)
    assert _messages(COMPREHENSIVE, _report(_item("TEXT", "CONTAINS"), _ref("CONTAINS", [1, 1]))) == []
    # Enhanced SR: no by-reference relationship at all, whatever it addresses
    assert _messages(ENHANCED, doc([1, 2])) == [
        "Enhanced SR does not allow by-reference relationships (PS3.3 A.35.2-2); item 1.1.1 is one"
    ]


def test_an_unreadable_identifier_is_raised_where_the_rules_look_at_it():
    bad = _report(_with(_item("NUM", "CONTAINS"), _ref("INFERRED FROM", None)), _image("CONTAINS"))
    edge = tree_facts(bad).edges[1]
    assert edge.error is not None and not edge.addressed and edge.target == ""
    with pytest.raises(TypeError):
        _messages(COMPREHENSIVE, bad)
    # an IOD without by-reference relationships reports the reference and never looks at the identifier
    assert _messages(ENHANCED, bad) == [
        "Enhanced SR does not allow by-reference relationships (PS3.3 A.35.2-2); item 1.1.1 is one"
    ]


def test_targets_and_allows_by_hand():
    # Table A.35.3-2: CONTAINER HAS OBS CONTEXT: TEXT, CODE, DATETIME, DATE, TIME, UIDREF, PNAME, NUM, COMPOSITE
    # (row 2) and CONTAINER (CP-2084, row 3): the union of two rows
    assert COMPREHENSIVE.targets("CONTAINER", "HAS OBS CONTEXT") == frozenset(
        ["TEXT", "CODE", "DATETIME", "DATE", "TIME", "UIDREF", "PNAME", "NUM", "COMPOSITE", "CONTAINER"]
    )
    assert COMPREHENSIVE.targets("IMAGE", "HAS OBS CONTEXT") == frozenset()
    assert COMPREHENSIVE.allows("SCOORD", "SELECTED FROM", "IMAGE")
    assert not COMPREHENSIVE.allows("SCOORD", "SELECTED FROM", "WAVEFORM")
    assert not COMPREHENSIVE.allows("IMAGE", "SELECTED FROM", "IMAGE")


def test_rules_made_one_after_another_are_never_confused():
    # the cache of allowed targets is keyed by the rules object: each new one is read for itself
    for i in range(4):
        rows = ((frozenset({"CONTAINER"}), "CONTAINS", frozenset({"TEXT" if i % 2 else "CODE"})),)
        rules = IODRules("Test", "T", frozenset({"CONTAINER", "TEXT", "CODE"}), rows, by_reference=False)
        verdict = _messages(rules, _report(_item("TEXT", "CONTAINS")))
        assert (verdict == []) is bool(i % 2), i


def test_every_iod_has_its_table():
    assert {r.iod: r.table for r in RULES.values()} == {
        "Basic Text SR": "A.35.1-2",
        "Enhanced SR": "A.35.2-2",
        "Comprehensive SR": "A.35.3-2",
        "Comprehensive 3D SR": "A.35.13-2",
        "Key Object Selection Document": "A.35.4-2",
    }
    assert [r.by_reference for r in RULES.values()] == [False, False, True, True, False]


def test_every_violation_after_an_unaddressed_reference_is_still_reported():
    doc = _report(
        _with(_item("NUM", "CONTAINS"), _ref("INFERRED FROM", [1, 9])),
        _with(_item("NUM", "CONTAINS"), _ref("INFERRED FROM", [1, 9])),
        _item("SCOORD3D", "CONTAINS", "s"),
    )
    assert _messages(COMPREHENSIVE, doc) == [
        "item 1.1.1: Referenced Content Item Identifier does not address an item of this tree",
        "item 1.2.1: Referenced Content Item Identifier does not address an item of this tree",
        "Comprehensive SR does not allow value type SCOORD3D (PS3.3 A.35.3-2); item 1.3 's' is one",
    ]
    enhanced = _messages(ENHANCED, doc)
    assert enhanced[:2] == [
        "Enhanced SR does not allow by-reference relationships (PS3.3 A.35.2-2); item 1.1.1 is one",
        "Enhanced SR does not allow by-reference relationships (PS3.3 A.35.2-2); item 1.2.1 is one",
    ]
    assert len(enhanced) == 3
    by_value_only = _report(_item("CODE", "CONTAINS"), _ref("HAS CONCEPT MOD", [1, 1]), _ref("HAS CONCEPT MOD", [1, 1]))
    assert _messages(COMPREHENSIVE, by_value_only) == [
        "item 1.2: HAS CONCEPT MOD CODE may only be by-value (PS3.3 A.35.3-2)",
        "item 1.3: HAS CONCEPT MOD CODE may only be by-value (PS3.3 A.35.3-2)",
    ]


def test_every_violation_after_a_loop_is_still_reported():
    """A by-reference loop (PS3.3 A.35.3.3.1.2: no references to ancestors) is reported, and the items after it
    are still checked (fourth pass: ``break`` for ``continue`` after the loop message survived)."""
    loop = (
        "a by-reference relationship to the item itself or an ancestor makes a loop;"
        " relationships by-reference to ancestor Content Items are forbidden (PS3.3 A.35)"
    )
    doc = _report(
        _with(_item("NUM", "CONTAINS"), _ref("INFERRED FROM", [1])),
        _with(_item("NUM", "CONTAINS"), _ref("INFERRED FROM", [1, 2])),
        _item("SCOORD3D", "CONTAINS", "s"),
    )
    assert _messages(COMPREHENSIVE, doc) == [
        f"item 1.1.1: {loop}",
        f"item 1.2.1: {loop}",
        "Comprehensive SR does not allow value type SCOORD3D (PS3.3 A.35.3-2); item 1.3 's' is one",
    ]
