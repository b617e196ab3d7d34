"""``resolve/links.py`` (references between specs, the build order) checked by hand: which mapping is a
reference, ids and file paths, every message, location and hint word for word, and the order.

Mutation testing (tests/MUTATION.md, fourth pass, entry ``links``): the module's survivors were messages,
spec paths, the ``.yml``/``.json`` suffixes, the ``parameters`` exclusion and the cycle's back reference."""

from __future__ import annotations

from pathlib import Path

import pytest

from dcmspec_compiler.errors import ErrorList, Location, SpecError
from dcmspec_compiler.load.parse import parse_text
from dcmspec_compiler.resolve.links import SpecRef, build_order, find_refs, referenced_files, spec_id


def _doc(tmp_path: Path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text)
    return parse_text(text, path)


def test_references_ids_and_files(tmp_path):
    doc = _doc(
        tmp_path,
        "report.yaml",
        "id: report\n"  # 1
        "parameters:\n"  # 2
        "  seg: {spec: not-a-reference}\n"  # 3: a parameter declaration is not a reference
        "findings:\n"  # 4
        "  - segment: {spec: organs, label: Liver}\n"  # 5
        "  - segment: {spec: other.YML}\n"  # 6
        "  - segment: {spec: sub/third.json}\n"  # 7
        "  - segment: {spec: 7}\n",  # 8: not a string: not a reference
    )
    refs = list(find_refs(doc))
    assert [(r.path, r.target) for r in refs] == [
        (("findings", 0, "segment"), "organs"),
        (("findings", 1, "segment"), "other.YML"),
        (("findings", 2, "segment"), "sub/third.json"),
    ]
    assert [r.is_file for r in refs] == [False, True, True]
    assert refs[0].location == Location(str(tmp_path / "report.yaml"), 5, 21)
    assert refs[1].file() == (tmp_path / "other.YML").resolve()
    assert refs[2].file() == (tmp_path / "sub" / "third.json").resolve()
    assert referenced_files(doc) == [(refs[1].file(), refs[1]), (refs[2].file(), refs[2])]
    assert spec_id(doc) == "report" and spec_id(_doc(tmp_path, "x.yaml", "a: 1\n")) == "x"
    with pytest.raises(AttributeError):  # frozen: a reference cannot be re-pointed
        refs[0].target = "x"  # type: ignore[misc]
    assert isinstance(refs[0], SpecRef)


def test_a_parameter_named_spec_inside_a_parameters_block_only(tmp_path):
    doc = _doc(tmp_path, "a.yaml", "parameters: {p: {spec: x}}\nx:\n  parameters: {spec: y}\n")
    assert [(r.path, r.target) for r in find_refs(doc)] == [(("x", "parameters"), "y")]


def test_order_and_every_missing_reference_reported(tmp_path):
    a = _doc(tmp_path, "a.yaml", "id: a\nuses: {spec: b}\n")
    b = _doc(tmp_path, "b.yaml", "id: b\nuses: {spec: c.yml}\n")
    c = _doc(tmp_path, "c.yml", "id: c\n")
    assert [spec_id(d) for d in build_order([a, b, c])] == ["c", "b", "a"]
    d = _doc(tmp_path, "d.yaml", "id: d\none: {spec: nowhere}\ntwo: {spec: gone.json}\n")
    with pytest.raises(ErrorList) as raised:
        build_order([c, d])
    hint = "specs in this build: c, d; name its file too, or refer to it by path (e.g. organs.yaml)"
    where = str(tmp_path / "d.yaml")
    assert [(e.message, e.location, e.path, e.hint) for e in raised.value.errors] == [
        ("no spec 'nowhere' in this build", Location(where, 2, 13), ("one", "spec"), hint),
        ("no spec 'gone.json' in this build", Location(where, 3, 13), ("two", "spec"), hint),
    ]


def test_duplicate_ids_and_an_empty_build(tmp_path):
    one = _doc(tmp_path, "one.yaml", "id: same\n")
    two = _doc(tmp_path, "two.yaml", "x: 1\nid: same\nref: {spec: missing}\n")
    with pytest.raises(ErrorList) as raised:
        build_order([one, two])
    first, second = raised.value.errors
    assert first.message == f"two specs have the id 'same': {tmp_path / 'one.yaml'} and {tmp_path / 'two.yaml'}"
    assert (
        first.location == Location(str(tmp_path / "two.yaml"), 2, 5) and first.hint == "give one of them another `id:`"
    )
    assert second.hint.startswith("specs in this build: same; ")


def test_a_cycle_names_both_ends(tmp_path):
    a = _doc(tmp_path, "a.yaml", "id: a\nuses: {spec: b}\n")
    b = _doc(tmp_path, "b.yaml", "id: b\nx: 1\nuses: {spec: a}\n")
    with pytest.raises(SpecError) as raised:
        build_order([a, b])
    e = raised.value
    back = Location(str(tmp_path / "a.yaml"), 2, 14)
    assert e.message == f"specs refer to each other in a cycle: 'b' refers to 'a'; {back} refers back to 'a'"
    assert e.location == Location(str(tmp_path / "b.yaml"), 3, 14) and e.path == ("uses", "spec")
    assert e.hint == "an object can only refer to objects built before it"
    self_ref = _doc(tmp_path, "s.yaml", "id: s\nuses: {spec: s}\n")
    with pytest.raises(SpecError) as raised:
        build_order([self_ref])
    where = Location(str(tmp_path / "s.yaml"), 2, 14)
    assert (
        raised.value.message == f"specs refer to each other in a cycle: 's' refers to 's'; {where} refers back to 's'"
    )


def test_a_path_inherited_from_a_base_is_relative_to_the_base_file(tmp_path):
    """A reference written in a base spec (``extends``) keeps the base file's location, so its relative path
    is resolved beside the base, not beside the spec that extends it."""
    from dcmspec_compiler.load.extends import load_with_extends

    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "base.yaml").write_text("uses: {spec: organs.yaml}\n")
    (tmp_path / "child.yaml").write_text("extends: site/base.yaml\nid: child\n")
    doc = load_with_extends(tmp_path / "child.yaml")
    (ref,) = find_refs(doc)
    assert ref.location.file == str(tmp_path / "site" / "base.yaml")
    assert ref.file() == (tmp_path / "site" / "organs.yaml").resolve()
