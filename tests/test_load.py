"""Loading YAML and JSON specs: positions, YAML 1.2 scalars, duplicate keys, tags, alias bombs."""

from pathlib import Path

import pytest

from dcmspec_compiler.errors import SpecError
from dcmspec_compiler.load.parse import load_file, parse_text


def parse(text: str, name: str = "spec.yaml"):
    return parse_text(text, Path(name))


def test_positions_of_every_node():
    doc = parse("a: 1\nlist:\n  - x: 2\n    y: [3, 4]\n")
    assert str(doc.loc(("a",))) == "spec.yaml:1:4"
    assert str(doc.loc(("list", 0, "y", 1))) == "spec.yaml:4:12"
    assert str(doc.loc(("list", 0, "x"), key=True)) == "spec.yaml:3:5"
    # A path below a leaf falls back to the nearest node that exists.
    assert str(doc.loc(("list", 0, "missing"))) == "spec.yaml:3:5"


def test_yaml_12_scalars_keep_their_meaning():
    doc = parse("a: yes\nb: no\nc: 2024-01-02\nd: 010\ne: 0x1F\nf: 1.5\ng: true\nh: ~\ni: '12'\nj: .nan\n")
    data = doc.data
    assert data["a"] == "yes" and data["b"] == "no"
    assert data["c"] == "2024-01-02"
    assert data["d"] == 10 and data["e"] == 31 and data["f"] == 1.5
    assert data["g"] is True and data["h"] is None and data["i"] == "12"
    assert data["j"] != data["j"]  # NaN


def test_duplicate_key_is_an_error_at_the_second_key():
    with pytest.raises(SpecError) as err:
        parse("kind: Segmentation\nsegments: []\nkind: Other\n")
    assert str(err.value.location) == "spec.yaml:3:1"
    assert "duplicate key 'kind'" in err.value.message and "line 1" in err.value.message


def test_python_tags_are_refused():
    with pytest.raises(SpecError) as err:
        parse("a: !!python/object/apply:os.system ['true']\n")
    assert "not allowed" in err.value.message and err.value.location.line == 1


def test_alias_expansion_is_bounded():
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [{', '.join(['*' + prev] * 10)}]")
    with pytest.raises(SpecError) as err:
        parse("\n".join(lines) + "\n")
    assert "aliases expand the document to more than" in err.value.message


def test_merge_keys_and_small_aliases_work():
    doc = parse("base: &b {manufacturer: Lab, model: M}\nequipment:\n  <<: *b\n  model: N\n")
    assert doc.data["equipment"] == {"manufacturer": "Lab", "model": "N"}


def test_yaml_syntax_error_has_position():
    with pytest.raises(SpecError) as err:
        parse("a: [1, 2\nb: 3\n")
    assert err.value.location.file == "spec.yaml" and err.value.location.line is not None
    assert "YAML syntax error" in err.value.message


def test_json_positions_duplicates_and_syntax(tmp_path):
    good = tmp_path / "s.json"
    good.write_text('{\n\t"kind": "Segmentation",\n\t"segments": [1, 2]\n}\n')
    doc = load_file(good)
    assert doc.loc(("segments", 1)).line == 3
    dup = tmp_path / "d.json"
    dup.write_text('{"a": 1,\n "a": 2}')
    with pytest.raises(SpecError) as err:
        load_file(dup)
    assert err.value.location.line == 2 and "duplicate key" in err.value.message
    bad = tmp_path / "b.json"
    bad.write_text('{"a": 1,}')
    with pytest.raises(SpecError) as err:
        load_file(bad)
    # Python 3.13's message and position (at the comma) on every Python
    assert err.value.message == "JSON syntax error: Illegal trailing comma before end of object"
    assert (err.value.location.line, err.value.location.column) == (1, 8)
    bad.write_text("[1, 2 ,\n ]")
    with pytest.raises(SpecError) as err:
        load_file(bad)
    assert err.value.message == "JSON syntax error: Illegal trailing comma before end of array"
    assert (err.value.location.line, err.value.location.column) == (1, 7)
    bad.write_text('{"a": 1,\n "b"}')
    with pytest.raises(SpecError) as err:
        load_file(bad)
    assert err.value.message == "JSON syntax error: Expecting ':' delimiter"
    assert (err.value.location.line, err.value.location.column) == (2, 5)


def test_missing_and_non_mapping_files(tmp_path):
    with pytest.raises(SpecError) as err:
        load_file(tmp_path / "nope.yaml")
    assert "not found" in err.value.message
    lst = tmp_path / "l.yaml"
    lst.write_text("- 1\n")
    with pytest.raises(SpecError, match="mapping"):
        load_file(lst)
    empty = tmp_path / "e.yaml"
    empty.write_text("")
    with pytest.raises(SpecError, match="empty"):
        load_file(empty)
