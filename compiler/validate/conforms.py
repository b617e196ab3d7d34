"""A quick yes/no check of a spec against our JSON Schemas, without importing jsonschema.

:func:`conforms` evaluates the JSON Schema 2020-12 keywords our schema files use, with jsonschema's
semantics (type checks where ``True`` is not ``1`` but ``1.0`` is an integer, ``re.search`` patterns,
``$ref`` beside other keywords, ...). It only answers *valid or not*: a spec that conforms needs nothing
else, which is what nearly every run sees, and saves importing jsonschema, referencing and their
dependencies (about 0.06 s of start-up). Anything else (a violation, a keyword this module does not
know, a value that is not plain JSON data) answers ``False``, and :mod:`.schemas` then runs jsonschema
itself for the located error messages, exactly as without this check.
``tests/test_conforms.py`` compares the answer with jsonschema's on every spec of the tests and on
thousands of variants of them.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

__all__ = ["accepts", "conforms"]

#: Keywords without an effect on validity (annotations and containers of subschemas reached by $ref).
_ANNOTATIONS = frozenset(
    {
        "$schema",
        "$id",
        "$defs",
        "$comment",
        "title",
        "description",
        "default",
        "examples",
        "deprecated",
        "readOnly",
        "writeOnly",
        "markdownDescription",
    }
)


class _Unknown(Exception):
    """A keyword or $ref this checker does not evaluate: let jsonschema decide."""


@cache
def _schema_file(name: str) -> Any:  # a parsed JSON schema
    from .schemas import schema_dir

    return json.loads((schema_dir() / name).read_text(encoding="utf-8"))


@cache
def _pattern(text: str) -> re.Pattern[str]:
    return re.compile(text)


def _resolve(ref: str, base: str) -> tuple[Any, str]:
    """The subschema ``ref`` points to from file ``base``, and the file it lies in."""
    name, _, pointer = ref.partition("#")
    name = name or base
    if not name or "/" in name or ":" in name:
        raise _Unknown(ref)
    node: Any = _schema_file(name)
    if pointer:
        if not pointer.startswith("/"):
            raise _Unknown(ref)
        for part in pointer[1:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            node = node[int(part)] if isinstance(node, list) else node[part]
    return node, name


def _is_type(value: Any, name: str) -> bool:
    """jsonschema's Draft 2020-12 type checker."""
    if name == "string":
        return isinstance(value, str)
    if name == "object":
        return isinstance(value, dict)
    if name == "array":
        return isinstance(value, list)
    if name == "boolean":
        return isinstance(value, bool)
    if name == "null":
        return value is None
    if isinstance(value, bool):
        return False
    if name == "integer":
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if name == "number":
        return isinstance(value, (int, float))
    raise _Unknown(name)


def _equal(one: object, two: object) -> bool:
    """jsonschema's ``equal``: ``True`` is not ``1``; lists and objects compared item by item."""
    if one is two:
        return True
    if isinstance(one, str) or isinstance(two, str):
        return one == two
    if isinstance(one, list) and isinstance(two, list):
        return len(one) == len(two) and all(_equal(a, b) for a, b in zip(one, two))
    if isinstance(one, dict) and isinstance(two, dict):
        return one.keys() == two.keys() and all(_equal(one[k], two[k]) for k in one)
    if isinstance(one, bool) or isinstance(two, bool):
        return False  # one is a bool and they are not the same object
    return one == two


def _number(value: Any) -> bool:
    return _is_type(value, "number")


def _valid(schema: Any, value: Any, base: str) -> bool:
    if schema is True:
        return True
    if schema is False:
        return False
    if not isinstance(schema, dict):
        raise _Unknown(repr(schema))
    for key, arg in schema.items():
        if key in _ANNOTATIONS or key in ("then", "else"):
            continue
        if key == "type":
            types = arg if isinstance(arg, list) else [arg]
            if not any(_is_type(value, t) for t in types):
                return False
        elif key == "$ref":
            target, file = _resolve(arg, base)
            if not _valid(target, value, file):
                return False
        elif key == "properties":
            if isinstance(value, dict):
                for name, sub in arg.items():
                    if name in value and not _valid(sub, value[name], base):
                        return False
        elif key == "required":
            if isinstance(value, dict) and any(name not in value for name in arg):
                return False
        elif key == "additionalProperties":
            if isinstance(value, dict):
                if "patternProperties" in schema:
                    raise _Unknown(key)
                known = schema.get("properties", {})
                for name in value:
                    if name not in known and not _valid(arg, value[name], base):
                        return False
        elif key == "propertyNames":
            if isinstance(value, dict) and not all(_valid(arg, name, base) for name in value):
                return False
        elif key == "items":
            if "prefixItems" in schema:
                raise _Unknown(key)
            if isinstance(value, list) and not all(_valid(arg, item, base) for item in value):
                return False
        elif key == "minItems":
            if isinstance(value, list) and len(value) < arg:
                return False
        elif key == "maxItems":
            if isinstance(value, list) and len(value) > arg:
                return False
        elif key == "minLength":
            if isinstance(value, str) and len(value) < arg:
                return False
        elif key == "maxLength":
            if isinstance(value, str) and len(value) > arg:
                return False
        elif key == "pattern":
            if isinstance(value, str) and not _pattern(arg).search(value):
                return False
        elif key == "minimum":
            if _number(value) and value < arg:
                return False
        elif key == "maximum":
            if _number(value) and value > arg:
                return False
        elif key == "exclusiveMinimum":
            if _number(value) and value <= arg:
                return False
        elif key == "exclusiveMaximum":
            if _number(value) and value >= arg:
                return False
        elif key == "enum":
            if not any(_equal(option, value) for option in arg):
                return False
        elif key == "const":
            if not _equal(arg, value):
                return False
        elif key == "allOf":
            if not all(_valid(sub, value, base) for sub in arg):
                return False
        elif key == "anyOf":
            if not any(_valid(sub, value, base) for sub in arg):
                return False
        elif key == "oneOf":
            if sum(1 for sub in arg if _valid(sub, value, base)) != 1:
                return False
        elif key == "not":
            if _valid(arg, value, base):
                return False
        elif key == "if":
            branch = "then" if _valid(arg, value, base) else "else"
            if branch in schema and not _valid(schema[branch], value, base):
                return False
        else:
            raise _Unknown(key)
    return True


def _plain(value: Any) -> bool:
    """Plain JSON data (what both checkers see the same way)."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return True
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return False


def conforms(schema_file: str, data: Any) -> bool:
    """Whether ``data`` is valid against the schema file ``schema_file`` of ``schemas/``; ``False`` also
    when the answer needs jsonschema itself (see the module docstring)."""
    if not _plain(data):
        return False
    try:
        return _valid(_schema_file(schema_file), data, schema_file)
    except (_Unknown, re.error, RecursionError, KeyError, IndexError, TypeError, ValueError):
        return False


def accepts(schema: dict[str, Any], value: Any) -> bool:
    """Whether an inline schema (no ``$ref`` to our files) accepts ``value``; ``False`` also when the
    answer needs jsonschema itself."""
    if not _plain(value):
        return False
    try:
        return _valid(schema, value, "")
    except (_Unknown, re.error, RecursionError, KeyError, IndexError, TypeError, ValueError, OSError):
        return False
