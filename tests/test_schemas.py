"""The schema files: valid against the 2020-12 metaschema, described everywhere, used by the compiler."""

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from dcmspec_compiler.errors import ErrorList, SpecError
from dcmspec_compiler.load.parse import load_file, parse_text
from dcmspec_compiler.validate.schemas import KINDS, validate_document

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_FILES = sorted((ROOT / "schemas").glob("*.schema.json"))
EXAMPLES = sorted(p for p in (ROOT / "specs_examples").glob("*") if p.suffix in (".yaml", ".yml", ".json"))


def test_every_kind_has_a_schema_file():
    names = {p.name for p in SCHEMA_FILES}
    assert set(KINDS.values()) <= names
    assert "definitions.schema.json" in names


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.name)
def test_schema_is_valid_against_metaschema(path):
    schema = json.loads(path.read_text())
    Draft202012Validator.check_schema(schema)


def _properties(node, where=""):
    """(where, subschema) of every declared property; `if` conditions are tests, not declarations."""
    if isinstance(node, dict):
        for key, sub in node.items():
            if key == "properties":
                for name, s in sub.items():
                    yield f"{where}.{name}", s
                    yield from _properties(s, f"{where}.{name}")
            elif key != "if" and isinstance(sub, (dict, list)):
                yield from _properties(sub, f"{where}/{key}")
    elif isinstance(node, list):
        for i, sub in enumerate(node):
            yield from _properties(sub, f"{where}[{i}]")


def _target(ref, schema):
    """The schema a `$ref` of ours points at (same file or another file of schemas/)."""
    file, _, pointer = ref.partition("#")
    doc = json.loads((ROOT / "schemas" / file).read_text()) if file else schema
    for part in pointer.strip("/").split("/"):
        doc = doc[part]
    return doc


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.name)
def test_every_property_has_a_description(path):
    schema = json.loads(path.read_text())
    missing = []
    for where, sub in _properties(schema):
        if not isinstance(sub, dict) or "description" in sub:
            continue
        # A property that only references a definition shows that definition's description.
        if "$ref" in sub and "description" in _target(sub["$ref"], schema):
            continue
        missing.append(where)
    assert not missing, f"properties without description: {missing}"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_validate_against_their_schema(path):
    doc = load_file(path)
    assert validate_document(doc) in KINDS


def _errors(text):
    try:
        validate_document(parse_text(text, Path("s.yaml")))
    except ErrorList as exc:
        return exc.errors
    except SpecError as exc:
        return [exc]
    return []


BASE = """dcmspec: 1
kind: Segmentation
sources: {images: ct/}
segmentation: {type: BINARY, mask: m.npy}
segments:
  - label: Liver
    category: AnatomicalStructure
    type: Liver
"""


def test_valid_base_spec():
    assert _errors(BASE) == []


def test_unknown_property_points_at_the_key_and_suggests():
    errors = _errors(BASE + "    colour: [1, 2, 3]\n")
    assert len(errors) == 1
    e = errors[0]
    assert (e.location.line, e.location.column) == (9, 5)
    assert "unknown property 'colour'" in e.message and "did you mean 'color'" in e.hint


def test_enum_error_lists_choices():
    errors = _errors(BASE.replace("type: BINARY", "type: BINRY"))
    assert errors[0].location.line == 4
    assert "BINARY, FRACTIONAL, LABELMAP" in errors[0].hint


def test_unknown_kind():
    errors = _errors("dcmspec: 1\nkind: Segmentaton\n")
    assert errors[0].location.line == 2 and "unknown kind" in errors[0].message
    assert "Segmentation" in errors[0].hint


def test_code_object_missing_meaning_is_reported_inside_the_object():
    errors = _errors(BASE.replace("type: Liver", "type: {scheme: SCT, value: '10200004'}"))
    assert errors[0].format().startswith("s.yaml:8:11: segments[0].type: missing required property 'meaning'")


def test_bad_uid_pattern():
    errors = _errors(BASE + "series: {instance_uid: '1.02.3'}\n")
    assert errors[0].path == ("series", "instance_uid") and "expected form" in errors[0].message


def test_string_expected_hint_for_unquoted_numbers():
    errors = _errors(BASE.replace("label: Liver", "label: 12"))
    assert "quote" in errors[0].hint


def test_a_string_too_long_names_its_length_and_the_limit():
    text = (ROOT / "specs_examples" / "organs-binary.yaml").read_text()
    text = text.replace("description: Organ segmentation}", "description: " + "x" * 70 + "}")
    doc = parse_text(text, Path("s.yaml"))
    with pytest.raises((SpecError, ErrorList)) as info:
        validate_document(doc)
    errors = info.value.errors if isinstance(info.value, ErrorList) else [info.value]
    (error,) = [e for e in errors if e.path == ("series", "description")]
    assert error.message.endswith("has 70 character(s); at most 64 allowed here"), error.message
    assert error.location.line == text[: text.index("x" * 70)].count("\n") + 1
