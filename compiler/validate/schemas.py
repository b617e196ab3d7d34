"""The JSON Schemas in ``schemas/`` and validation of a spec against them.

The files in ``schemas/`` are the source of truth for what a spec may say; the compiler validates with
those very files (shipped inside the wheel as ``dcmspec/schemas``). Each violation becomes a
:class:`~dcmspec_compiler.errors.SpecError` located at the offending value (or key) with a hint.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ErrorList, SpecError
from ..load.document import SpecDocument
from .conforms import conforms

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

#: spec ``kind`` -> schema file name
KINDS: dict[str, str] = {
    "Segmentation": "segmentation.schema.json",
    "MeasurementReport": "measurement-report.schema.json",
    "StructuredReport": "structured-report.schema.json",
    "PresentationState": "presentation-state.schema.json",
    "KeyObjectSelection": "key-object-selection.schema.json",
    "SecondaryCapture": "secondary-capture.schema.json",
    "MicroscopyAnnotations": "microscopy-annotations.schema.json",
    "ParametricMap": "parametric-map.schema.json",
}
DEFINITIONS = "definitions.schema.json"


def schema_dir() -> Path:
    """Folder holding the schema files: inside the installed package, or ``schemas/`` of a checkout."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "schemas", here.parent / "schemas"):
        if (candidate / DEFINITIONS).is_file():
            return candidate
    raise FileNotFoundError("dcmspec schema files not found (broken installation)")


def schema_text(kind: str) -> str:
    """The schema file of ``kind`` (a spec kind, or ``definitions``) as written."""
    name = DEFINITIONS if kind == "definitions" else KINDS[kind]
    return (schema_dir() / name).read_text(encoding="utf-8")


def bundled_schema(kind: str) -> dict[str, Any]:
    """The schema of spec ``kind`` as one self-contained document, for editors that do not follow
    references to other files: every definition it uses from another schema file is copied into its
    ``$defs`` (under its own name, or ``<file>-<name>`` where that is taken) and each ``$ref`` points there."""
    root_file = KINDS[kind]
    files: dict[str, dict[str, Any]] = {}

    def load(name: str) -> dict[str, Any]:
        if name not in files:
            files[name] = json.loads((schema_dir() / name).read_text(encoding="utf-8"))
        return files[name]

    root = load(root_file)
    names: dict[tuple[str, str], str] = {(root_file, n): n for n in root.get("$defs", {})}
    taken = set(names.values())
    pending: list[tuple[str, str]] = []

    def name_for(file: str, name: str) -> str:
        if (file, name) not in names:
            new = name if name not in taken else f"{file.split('.')[0]}-{name}"
            names[(file, name)] = new
            taken.add(new)
            pending.append((file, name))
        return names[(file, name)]

    def local(node: Any, file: str) -> Any:
        if isinstance(node, list):
            return [local(v, file) for v in node]
        if not isinstance(node, dict):
            return node
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                target, _, fragment = value.partition("#")
                if not fragment.startswith("/$defs/"):
                    raise ValueError(f"{file}: cannot bundle the reference {value!r}")
                name, slash, rest = fragment[len("/$defs/") :].partition("/")
                value = f"#/$defs/{name_for(target or file, name)}{slash}{rest}"
            out[key] = local(value, file) if key != "$ref" else value
        return out

    bundled: dict[str, Any] = local({k: v for k, v in root.items() if k != "$defs"}, root_file)
    defs = {n: local(body, root_file) for n, body in root.get("$defs", {}).items()}
    while pending:
        file, name = pending.pop(0)
        defs[names[(file, name)]] = local(load(file)["$defs"][name], file)
    bundled["$defs"] = defs
    return bundled


@cache
def _registry_and_uris() -> tuple[Any, dict[str, str]]:
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    folder = schema_dir()
    resources = []
    uris: dict[str, str] = {}
    for path in sorted(folder.glob("*.schema.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        uri = path.as_uri()
        uris[path.name] = uri
        resources.append((uri, Resource.from_contents(contents, default_specification=DRAFT202012)))
    return Registry().with_resources(resources), uris


@cache
def validator_for(kind: str) -> Draft202012Validator:
    """A Draft 2020-12 validator for ``kind`` that resolves references between our schema files."""
    from jsonschema import Draft202012Validator

    registry, uris = _registry_and_uris()
    uri = uris[KINDS[kind]]
    schema = registry.contents(uri)
    return Draft202012Validator({"$ref": uri, "$schema": schema["$schema"]}, registry=registry)


def check_kind(doc: SpecDocument) -> str:
    """The spec's ``kind``, or an error that lists the known kinds."""
    data = doc.data
    if "kind" not in data:
        raise SpecError(
            "the spec has no `kind`", location=doc.loc(()), hint=f"add `kind:` with one of {', '.join(KINDS)}"
        )
    kind = data["kind"]
    if not isinstance(kind, str) or kind not in KINDS:
        close = difflib.get_close_matches(str(kind), list(KINDS), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise SpecError(
            f"unknown kind {kind!r}",
            location=doc.loc(("kind",)),
            path=("kind",),
            hint=f"{hint}known kinds: {', '.join(KINDS)}",
        )
    return kind


def validate_document(doc: SpecDocument, *, partial: bool = False) -> str:
    """Validate ``doc`` against the schema of its kind; return the kind or raise every violation.

    ``partial``: a base spec (``abstract: true``) that others complete; missing properties are allowed.
    """
    kind = check_kind(doc)
    if conforms(KINDS[kind], doc.data):
        return kind  # valid: jsonschema is needed only to locate and explain violations
    validator = validator_for(kind)
    errors = [
        _to_spec_error(doc, e)
        for e in _leaf_errors(validator.iter_errors(doc.data))
        if not (partial and e.validator == "required")
    ]
    if errors:
        errors.sort(key=lambda e: (e.location.line or 0, e.location.column or 0) if e.location else (0, 0))
        raise ErrorList(_dedupe(errors))
    return kind


def _leaf_errors(errors: Iterator[Any]) -> Iterator[Any]:
    """The most specific error of each violation (oneOf/anyOf branches narrowed by best match)."""
    from jsonschema.exceptions import best_match

    for error in errors:
        if error.validator in ("oneOf", "anyOf") and error.context:
            branches: dict[Any, list[Any]] = {}
            for sub in error.context:
                branches.setdefault(sub.relative_schema_path[0], []).append(sub)
            same_type = [errs for errs in branches.values() if not any(_wrong_type(e) for e in errs)]
            if len(same_type) == 1:
                # Only one branch takes a value of this JSON type: its complaints are the useful ones.
                yield from _leaf_errors(iter(same_type[0]))
                continue
            deepest = best_match(error.context)
            # A type mismatch on the whole value tells more at the top than a branch detail.
            if deepest is not None and len(deepest.absolute_path) > len(error.absolute_path):
                yield deepest
                continue
        yield error


def _json_type(value: Any) -> str:
    return (
        "boolean"
        if isinstance(value, bool)
        else "number"
        if isinstance(value, (int, float))
        else "string"
        if isinstance(value, str)
        else "array"
        if isinstance(value, list)
        else "object"
        if isinstance(value, dict)
        else "null"
    )


def _wrong_type(error: Any) -> bool:
    """Does this branch complaint say the whole value is of a JSON type the branch does not take (a `type`,
    or an `enum`/`const` none of whose values is of the value's type)?"""
    if error.relative_path:
        return False
    if error.validator == "type":
        return True
    if error.validator in ("enum", "const") and isinstance(error.schema, dict):
        allowed = error.schema["enum"] if error.validator == "enum" else [error.schema["const"]]
        return all(_json_type(v) != _json_type(error.instance) for v in allowed)
    return False


def _dedupe(errors: list[SpecError]) -> list[SpecError]:
    seen, out = set(), []
    for e in errors:
        key = (e.location, e.message)
        if key not in seen:
            seen.add(key)
            out.append(e)
    return out


def _describe(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _to_spec_error(doc: SpecDocument, error: Any) -> SpecError:
    path = tuple(error.absolute_path)
    location = doc.loc(path)
    validator, schema = error.validator, error.schema if isinstance(error.schema, dict) else {}
    message, hint = error.message, None
    if validator == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        extras = [k for k in error.instance if k not in schema.get("properties", {})]
        key = extras[0] if extras else None
        if key is not None:
            path = path + (key,)
            location = doc.loc(path, key=True)
            message = f"unknown property {key!r}"
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = (f"did you mean {close[0]!r}? " if close else "") + f"allowed here: {', '.join(allowed)}"
    elif validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        message = f"missing required property {missing!r}"
        description = schema.get("properties", {}).get(missing, {}).get("description")
        hint = f"add `{missing}:`" + (f" ({description})" if description else "")
    elif validator == "enum":
        message = f"{_describe(error.instance)} is not allowed here"
        hint = "use one of: " + ", ".join(map(str, schema["enum"]))
        close = difflib.get_close_matches(str(error.instance).upper(), [str(v) for v in schema["enum"]], n=1)
        if close:
            hint = f"did you mean {close[0]!r}? " + hint
    elif validator == "const":
        message = f"{_describe(error.instance)} is not allowed here"
        hint = f"use {schema['const']!r}"
    elif validator == "type":
        expected = schema.get("type")
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        message = f"expected {expected}, found {_describe(error.instance)}"
        if expected == "string" and isinstance(error.instance, (int, float)):
            hint = 'quote the value in YAML so that it stays a string, e.g. "0123"'
    elif validator == "pattern":
        message = f"{_describe(error.instance)} does not have the expected form"
        hint = schema.get("description")
    elif validator in ("minItems", "maxItems"):
        bound = schema[validator]
        message = (
            f"{_describe(error.instance)} has {len(error.instance)} item(s);"
            f" {'at least' if validator == 'minItems' else 'at most'} {bound} allowed here"
        )
        hint = schema.get("description")
    elif validator in ("maxLength", "minLength"):
        bound = schema[validator]
        message = (
            f"{_describe(error.instance)} has {len(error.instance)} character(s);"
            f" {'at most' if validator == 'maxLength' else 'at least'} {bound} allowed here"
        )
        hint = schema.get("description")
    elif validator in ("minimum", "maximum", "exclusiveMinimum"):
        message = f"{_describe(error.instance)}: {error.message.split(' is ', 1)[-1]}"
        hint = schema.get("description")
    elif validator == "not":
        message = "this combination is not allowed"
        hint = schema.get("description")
    elif validator in ("oneOf", "anyOf"):
        message = f"{_describe(error.instance)} is not a valid value here"
        hint = schema.get("description")
    return SpecError(message, location=location, path=path, hint=hint)
