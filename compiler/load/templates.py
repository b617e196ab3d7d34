"""Report templates: typed parameters filled per case at build time.

A spec declares ``parameters:`` (name -> a JSON Schema: ``type``, ``default``, ``description``,
``enum``, ``minimum``...) and uses them as ``${name}`` in any string. A string that is exactly
``${name}`` takes the value with its type (a number stays a number); inside a longer string the value
is inserted as text; ``$${`` writes a literal ``${``. Values come from ``--set name=value``,
``--values FILE`` (YAML/JSON) or one row of a ``--csv`` file. A missing or ill-typed value is an
error at the value's source, naming the parameter's declaration.
"""

from __future__ import annotations

import copy
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ErrorList, Location, SpecError
from ..io.files import NotARegularFile, file_kind, open_regular
from .document import NodePath, SpecDocument
from .parse import load_file

if TYPE_CHECKING:
    from jsonschema import ValidationError

_PLACEHOLDER = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class ParameterValue:
    """A value given for a parameter and where it came from."""

    value: Any
    location: Location
    raw: bool = False  # a string from the command line or a CSV cell, to be read by the declared type


def values_from_set(items: list[str]) -> dict[str, ParameterValue]:
    """``--set name=value`` options."""
    out: dict[str, ParameterValue] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not _NAME.match(name.strip()):
            raise SpecError(f"--set {item!r} is not name=value", location=Location("<command line>"))
        out[name.strip()] = ParameterValue(value, Location(f"--set {name.strip()}"), raw=True)
    return out


def values_from_file(path: Path) -> dict[str, ParameterValue]:
    """``--values FILE``: a YAML or JSON mapping of parameter names to values."""
    doc = load_file(path)
    return {name: ParameterValue(value, doc.loc((name,))) for name, value in doc.data.items()}


def rows_from_csv(path: Path) -> Iterator[tuple[int, dict[str, ParameterValue]]]:
    """``--csv FILE``: (line number, values) for every data row; the header row names the parameters.

    The line number is where the row starts in the file (the first data row is line 2), as in error
    locations (``cases.csv:2:3``). The file must be UTF-8 (a BOM is allowed), its header names distinct,
    its quotes closed.
    """
    try:
        with open_regular(path) as fh:  # never a FIFO or device
            raw = fh.read()
    except NotARegularFile:
        raise SpecError(
            f"the CSV file is {file_kind(path)}, not a regular file", location=Location(str(path))
        ) from None
    except OSError as exc:
        raise SpecError(f"cannot read the CSV file: {exc.strerror}", location=Location(str(path))) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SpecError(
            f"the CSV file is not UTF-8: byte 0x{raw[exc.start]:02x} cannot be decoded",
            location=Location(str(path), line, column),
            hint="save it as UTF-8 (e.g. `iconv -f latin1 -t utf-8 in.csv > out.csv`, or 'CSV UTF-8' in a spreadsheet)",
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)

    def next_row() -> tuple[int, list[str]] | None:
        start = reader.line_num + 1
        try:
            return start, next(reader)
        except StopIteration:
            return None
        except csv.Error as exc:
            what = "a quoted cell in this row is not closed" if "end of data" in str(exc) else str(exc)
            raise SpecError(
                f"the CSV file cannot be read here: {what}",
                location=Location(str(path), start, 1),
                hint='close every quoted cell with a " (a " inside a quoted cell is written "")',
            ) from None

    first = next_row()
    if first is None:
        raise SpecError("the CSV file is empty", location=Location(str(path), 1, 1))
    names = [h.strip() for h in first[1]]
    seen: dict[str, int] = {}
    for col, name in enumerate(names, start=1):
        if not _NAME.match(name):
            raise SpecError(
                f"CSV column {col} header {name!r} is not a parameter name", location=Location(str(path), 1, col)
            )
        if name in seen:
            raise SpecError(
                f"CSV columns {seen[name]} and {col} both have the header {name!r}",
                location=Location(str(path), 1, col),
                hint="each parameter gets one column",
            )
        seen[name] = col
    misshapen: list[SpecError] = []  # every row of the wrong width, reported together at the end
    while (item := next_row()) is not None:
        number, row = item
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(names):
            misshapen.append(
                SpecError(
                    f"row has {len(row)} cells, the header has {len(names)}",
                    location=Location(str(path), number, 1),
                    hint=f"one cell per column: {', '.join(names)} (an empty cell takes the default)",
                )
            )
            continue
        values = {}
        for col, (name, cell) in enumerate(zip(names, row), start=1):
            if cell != "":  # an empty cell leaves the parameter to its default
                values[name] = ParameterValue(cell, Location(str(path), number, col), raw=True)
        yield number, values
    if misshapen:
        raise misshapen[0] if len(misshapen) == 1 else ErrorList(misshapen)


def declared_parameters(doc: SpecDocument) -> dict[str, dict[str, Any]]:
    params = doc.data.get("parameters") or {}
    if not isinstance(params, dict):
        raise SpecError("`parameters` must map names to declarations", location=doc.loc(("parameters",)))
    for name, decl in params.items():
        if not _NAME.match(name):
            raise SpecError(
                f"parameter name {name!r} must be letters, digits and '_'",
                location=doc.loc(("parameters", name), key=True),
            )
        if not isinstance(decl, dict):
            raise SpecError(
                "a parameter declaration is a mapping (type, default, description...)",
                location=doc.loc(("parameters", name)),
            )
    return params


def _coerce(raw: str, decl: dict[str, Any]) -> Any:
    """Read a command-line/CSV string as the declared type where it parses as one."""
    types = decl.get("type", "string")
    types = types if isinstance(types, list) else [types]
    text = raw.strip()
    for t in types:
        if t == "integer" and re.fullmatch(r"[-+]?\d+", text):
            return int(text)
        if t == "number":
            try:
                return float(text) if not re.fullmatch(r"[-+]?\d+", text) else int(text)
            except ValueError:
                pass
        if t == "boolean" and text.lower() in ("true", "false"):
            return text.lower() == "true"
        if t == "null" and text == "":
            return None
    return raw


def _problems(schema: dict[str, Any], value: Any) -> list[ValidationError]:
    """jsonschema's errors for ``value`` (imported only when the quick check did not accept it)."""
    from jsonschema import Draft202012Validator

    return sorted(Draft202012Validator(schema).iter_errors(value), key=lambda e: e.path)


def resolve_values(doc: SpecDocument, given: dict[str, ParameterValue]) -> dict[str, Any]:
    """Check ``given`` against the declarations; return name -> value (defaults filled)."""
    from ..validate.conforms import accepts

    params = declared_parameters(doc)
    errors: list[SpecError] = []
    for name, value in given.items():
        if name not in params:
            known = ", ".join(params) or "none declared"
            errors.append(
                SpecError(
                    f"unknown parameter {name!r}",
                    location=value.location,
                    hint=f"parameters of {doc.path.name}: {known}",
                )
            )
    values: dict[str, Any] = {}
    for name, decl in params.items():
        decl_loc = doc.loc(("parameters", name), key=True)
        described = f" ({decl['description']})" if decl.get("description") else ""
        if name not in given:
            if "default" in decl:
                values[name] = decl["default"]
                continue
            errors.append(
                SpecError(
                    f"parameter {name!r} has no value",
                    location=decl_loc,
                    path=("parameters", name),
                    hint=f"give it with --set {name}=..., --values FILE or a CSV column{described}",
                )
            )
            continue
        pv = given[name]
        value = _coerce(pv.value, decl) if pv.raw else pv.value
        schema = {k: v for k, v in decl.items() if k not in ("description", "default")}
        problems = [] if accepts(schema, value) else _problems(schema, value)
        if problems:
            errors.append(
                SpecError(
                    f"parameter {name!r}: {problems[0].message}",
                    location=pv.location,
                    hint=f"declared at {decl_loc}{described}",
                )
            )
            continue
        values[name] = value
    if errors:
        raise ErrorList(errors)
    return values


def substitute(doc: SpecDocument, values: dict[str, Any]) -> SpecDocument:
    """A copy of ``doc`` with every ``${name}`` replaced; positions are kept."""
    errors: list[SpecError] = []

    def walk(node: Any, path: NodePath) -> Any:
        if isinstance(node, dict):
            return {k: (v if path == () and k == "parameters" else walk(v, path + (k,))) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, path + (i,)) for i, v in enumerate(node)]
        if isinstance(node, str) and "$" in node:
            whole = re.fullmatch(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", node)
            if whole:
                name = whole.group(1)
                if name in values:
                    return copy.deepcopy(values[name])
                errors.append(_unknown(doc, path, name))
                return node

            def repl(match: re.Match[str]) -> str:
                if match.group(0) == "$${":
                    return "${"
                name = match.group(1)
                if name not in values:
                    errors.append(_unknown(doc, path, name))
                    return match.group(0)
                return "" if values[name] is None else str(values[name])

            return _PLACEHOLDER.sub(repl, node)
        return node

    data = walk(doc.data, ())
    if errors:
        raise ErrorList(errors)
    return SpecDocument(path=doc.path, data=data, positions=doc.positions, key_positions=doc.key_positions)


def _unknown(doc: SpecDocument, path: NodePath, name: str) -> SpecError:
    declared = ", ".join(declared_parameters(doc)) or "none"
    return SpecError(
        f"${{{name}}} names no declared parameter",
        location=doc.loc(path),
        path=path,
        hint=f"declare it under `parameters:` (declared: {declared}); write $${{ for a literal ${{",
    )


def uses_parameters(doc: SpecDocument) -> bool:
    return bool(doc.data.get("parameters"))


def instantiate(doc: SpecDocument, given: dict[str, ParameterValue]) -> SpecDocument:
    """Fill the template ``doc`` with ``given`` values (defaults for the rest)."""
    if not uses_parameters(doc) and not given:
        return doc
    return substitute(doc, resolve_values(doc, given))
