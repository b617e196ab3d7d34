"""The quick schema check (validate/conforms.py) answers as jsonschema does, on real specs and variants."""

from __future__ import annotations

import copy
import random

import pytest

from dcmspec_compiler.load.parse import load_file
from dcmspec_compiler.validate.conforms import conforms
from dcmspec_compiler.validate.schemas import KINDS, validator_for

from conftest import ROOT

SPEC_FILES = sorted(
    p
    for folder in ("specs_examples", "tests/specs", "compiler/starters")
    for p in (ROOT / folder).rglob("*.y*ml")
    if "dcmspec" in p.read_text(encoding="utf-8")[:4096]
)
# Values a mutation puts in place of another: every JSON type, edge numbers, strings of several forms.
REPLACEMENTS = [
    None,
    True,
    False,
    0,
    1,
    -1,
    1.0,
    1.5,
    2**31,
    "",
    "x",
    "X" * 65,
    "1.2.3",
    "BINARY",
    'SCT:10200004 "Liver"',
    "0.5",
    [],
    [1],
    ["a"],
    {},
    {"a": 1},
    {"scheme": "SCT"},
]


def _documents() -> list[tuple[str, dict]]:
    docs = []
    for path in SPEC_FILES:
        data = load_file(path).data
        if isinstance(data, dict) and data.get("kind") in KINDS:
            docs.append((path.name, data))
    return docs


def _nodes(value, path=()):
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _nodes(item, path + (key,))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _nodes(item, path + (i,))


def _set(data, path, value):
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


def _mutate(data: dict, rng: random.Random) -> dict:
    out = copy.deepcopy(data)
    for _ in range(rng.choice((1, 1, 2))):
        nodes = [(p, v) for p, v in _nodes(out) if p]
        path, value = rng.choice(nodes)
        parent = out
        for part in path[:-1]:
            parent = parent[part]
        action = rng.randrange(6)
        if action == 0:  # delete a key or an item
            del parent[path[-1]]
        elif action == 1:  # another value of any type
            _set(out, path, copy.deepcopy(rng.choice(REPLACEMENTS)))
        elif action == 2 and isinstance(parent, dict):  # an unknown or a misspelt key
            parent[rng.choice(("colour", "extra", str(path[-1]) + "s"))] = value
        elif action == 3:  # a value from elsewhere in the same spec
            _set(out, path, copy.deepcopy(rng.choice(nodes)[1]))
        elif action == 4 and isinstance(value, list) and value:  # one item more, or none
            _set(out, path, value + [copy.deepcopy(value[0])] if rng.random() < 0.5 else [])
        elif action == 5 and isinstance(value, str):  # a near miss of a string
            _set(out, path, rng.choice((value.lower(), value.upper(), value + " ", value[:-1], value * 3)))
    return out


def _jsonschema_valid(kind: str, data) -> bool:
    return next(iter(validator_for(kind).iter_errors(data)), None) is None


def test_spec_files_are_found():
    names = {name for name, _ in _documents()}
    assert {"organs-binary.yaml", "report-organs.yaml", "sr-key-findings.yaml"} <= names
    assert len(names) >= 10


@pytest.mark.parametrize("name, data", _documents(), ids=lambda v: v if isinstance(v, str) else "")
def test_answers_as_jsonschema_on_specs_and_variants(name, data):
    kind = data["kind"]
    schema = KINDS[kind]
    assert conforms(schema, data) == _jsonschema_valid(kind, data)
    rng = random.Random(name)
    outcomes = set()
    for _ in range(150):
        variant = _mutate(data, rng)
        if not isinstance(variant.get("kind"), str) or variant["kind"] not in KINDS:
            continue
        expected = _jsonschema_valid(variant["kind"], variant)
        assert conforms(KINDS[variant["kind"]], variant) == expected, variant
        outcomes.add(expected)
    assert outcomes == {True, False}  # the variants exercise both answers


def test_json_type_rules_of_jsonschema():
    seg = next(data for _, data in _documents() if data["kind"] == "Segmentation")
    variant = copy.deepcopy(seg)
    variant["series"] = {**variant.get("series", {}), "number": 300.0}  # 300.0 is an integer
    assert conforms(KINDS["Segmentation"], variant) == _jsonschema_valid("Segmentation", variant) is True
    variant["series"]["number"] = True  # a boolean is not an integer
    assert conforms(KINDS["Segmentation"], variant) == _jsonschema_valid("Segmentation", variant) is False


def test_values_that_are_not_json_data_are_left_to_jsonschema():
    import datetime

    seg = copy.deepcopy(next(data for _, data in _documents() if data["kind"] == "Segmentation"))
    seg["instance"] = {"content_datetime": datetime.datetime(2024, 1, 2)}
    assert conforms(KINDS["Segmentation"], seg) is False


KEYWORD_SCHEMAS = [
    {"oneOf": [{"type": "integer"}, {"minimum": 0}]},
    {"anyOf": [{"type": "string"}, {"maximum": 0}]},
    {"allOf": [{"type": "number"}, {"exclusiveMinimum": 0}]},
    {"not": {"type": "array"}},
    {"if": {"type": "string"}, "then": {"minLength": 2}, "else": {"type": "integer"}},
    {"type": ["string", "null"], "maxLength": 3, "pattern": "^[A-Z]"},
    {"enum": [1, "a", None, [1, 2], {"a": True}]},
    {"const": False},
    {"type": "array", "items": {"type": "integer"}, "minItems": 1, "maxItems": 2},
    {
        "type": "object",
        "properties": {"a": {"type": "integer"}},
        "required": ["a"],
        "additionalProperties": {"type": "string"},
        "propertyNames": {"maxLength": 2},
    },
    {"type": "object", "additionalProperties": False, "properties": {"a": True, "b": False}},
]
KEYWORD_VALUES = [
    None,
    True,
    False,
    0,
    1,
    -1,
    1.0,
    0.5,
    -0.5,
    "",
    "a",
    "Ab",
    "ABCD",
    "abc",
    [],
    [1],
    [1, 2],
    [1, 2, 3],
    [1.5],
    ["a"],
    {},
    {"a": 1},
    {"a": 1, "bb": "x"},
    {"a": 1, "bbb": "x"},
    {"a": 1, "b": 2},
    {"a": "1"},
    {"a": True},
    {"b": 1},
]


@pytest.mark.parametrize("schema", KEYWORD_SCHEMAS, ids=lambda s: "-".join(s)[:40])
def test_each_keyword_as_jsonschema(schema):
    from jsonschema import Draft202012Validator

    from dcmspec_compiler.validate.conforms import accepts  # also the check of template parameters

    validator = Draft202012Validator(schema)
    # jsonschema 4.18 compares {"a": True} and {"a": 1} as equal inside containers; JSON Schema 2020-12
    # (Core 4.2.2, instance equality) says a boolean never equals a number, as later releases and we do
    old_equality = Draft202012Validator({"enum": [{"a": True}]}).is_valid({"a": 1})
    for value in KEYWORD_VALUES:
        expected = validator.is_valid(value)
        if (
            old_equality
            and "enum" in schema
            and isinstance(value, dict)
            and list(value) == ["a"]
            and type(value["a"]) is int
            and value["a"] == 1
        ):
            expected = False
        assert accepts(schema, value) == expected, value


def test_inline_schemas_with_references_are_left_to_jsonschema():
    from dcmspec_compiler.validate.conforms import accepts

    assert accepts({"$ref": "#/$defs/a", "$defs": {"a": {"type": "integer"}}}, 1) is False
