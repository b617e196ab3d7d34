"""Parse YAML and JSON spec files, keeping the source position of every node.

YAML is read with PyYAML's safe composer and our own construction, which:
- resolves plain scalars by the YAML 1.2 core schema (``yes``/``no``/``on`` stay strings, dates stay
  strings, ``010`` is ten), so a spec means what it says;
- rejects duplicate keys, non-string keys and application tags (``!!python/...``);
- expands aliases with a bound on the total number of nodes (no "billion laughs"), and rejects cycles;
- supports merge keys (``<<: *defaults``).
JSON is checked with :mod:`json` first (strict syntax), then composed by the same code for positions.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..errors import Location, SpecError
from ..io.files import NotARegularFile, file_kind, open_regular
from .document import NodePath, SpecDocument

MAX_FILE_BYTES = 16 * 1024 * 1024
"""Upper bound on the size of a spec (or ``--values``) file; a spec is small, pixel data lives in masks."""

MAX_NODES = 500_000
"""Upper bound on the nodes (scalars, lists, mappings) of a document, counted while it is parsed and
again after aliases are expanded. A 65535-segment label map spec needs about half of it."""

MAX_DEPTH = 100
"""Upper bound on the nesting of lists and mappings; the deepest spec the schemas allow is far less."""

_INT = re.compile(r"^[-+]?[0-9]+$")
_OCT = re.compile(r"^0o[0-7]+$")
_HEX = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_INF = re.compile(r"^[-+]?\.(inf|Inf|INF)$")
_NAN = re.compile(r"^\.(nan|NaN|NAN)$")
_NULL = {"", "~", "null", "Null", "NULL"}
_TRUE = {"true", "True", "TRUE"}
_FALSE = {"false", "False", "FALSE"}

_STR = "tag:yaml.org,2002:str"
_KNOWN_TAGS = {
    _STR,
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:merge",
}


_PLAIN = "dcmspec:plain"


class _Composer(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """PyYAML's safe loader (libyaml's when available) used only up to the node graph; plain scalars
    keep a marker tag."""

    def resolve(self, kind: type[Node], value: str, implicit: tuple[bool, bool]) -> Any:  # a tag (untyped base)
        if kind is ScalarNode and implicit[0]:
            return _PLAIN
        return super().resolve(kind, value, implicit)


def _location(path: Path, node: Node) -> Location:
    mark = node.start_mark
    return Location(str(path), mark.line + 1, mark.column + 1)


class _Builder:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.doc = SpecDocument(path=path, data=None)
        self.count = 0
        self.active: set[int] = set()

    def build(self, node: Node, npath: NodePath) -> Any:
        self.count += 1
        if self.count > MAX_NODES:  # the text has fewer (checked while parsing): aliases multiplied them
            raise SpecError(
                f"aliases expand the document to more than {MAX_NODES} values, the limit for a spec",
                location=_location(self.path, node),
                hint="use fewer nested aliases (*name)",
            )
        if id(node) in self.active:
            raise SpecError("an alias refers to a node that contains it (a cycle)", location=_location(self.path, node))
        self.doc.positions.setdefault(npath, _location(self.path, node))
        if node.tag not in _KNOWN_TAGS and node.tag != _PLAIN:
            raise SpecError(
                f"tag {node.tag!r} is not allowed in a spec",
                location=_location(self.path, node),
                hint="remove the tag; specs hold plain data only",
            )
        if isinstance(node, ScalarNode):
            return self.scalar(node)
        self.active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                return [self.build(child, npath + (i,)) for i, child in enumerate(node.value)]
            if isinstance(node, MappingNode):
                return self.mapping(node, npath)
        finally:
            self.active.discard(id(node))
        raise SpecError("unsupported YAML node", location=_location(self.path, node))

    def mapping(self, node: MappingNode, npath: NodePath) -> dict[str, Any]:
        out: dict[str, Any] = {}
        seen: dict[str, Location] = {}
        merged: list[tuple[MappingNode, Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge" or (key_node.tag == _PLAIN and key_node.value == "<<"):
                sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
                for src in sources:
                    if not isinstance(src, MappingNode):
                        raise SpecError(
                            "a merge key (<<) takes a mapping or a list of mappings", location=_location(self.path, src)
                        )
                    merged.append((src, key_node))
                continue
            if not isinstance(key_node, ScalarNode):
                raise SpecError("mapping keys must be plain strings", location=_location(self.path, key_node))
            key = str(key_node.value)
            key_loc = _location(self.path, key_node)
            if key in seen:
                first = seen[key]
                raise SpecError(
                    f"duplicate key {key!r} (first defined at line {first.line})",
                    location=key_loc,
                    hint="remove one of them; YAML keeps only one",
                )
            seen[key] = key_loc
            self.doc.key_positions[npath + (key,)] = key_loc
            out[key] = self.build(value_node, npath + (key,))
        # Merge keys: explicit keys win, earlier merge sources win over later ones (YAML merge spec).
        for src, _ in merged:
            values = self.mapping(src, npath)
            for key, value in values.items():
                out.setdefault(key, value)
        return out

    def scalar(self, node: ScalarNode) -> Any:
        value, tag = node.value, node.tag
        if tag == _STR:
            return value
        if tag == _PLAIN:
            if value in _NULL:
                return None
            if value in _TRUE:
                return True
            if value in _FALSE:
                return False
            number = _number(value)
            return value if number is None else number
        if tag == "tag:yaml.org,2002:null" and value in _NULL:
            return None
        if tag == "tag:yaml.org,2002:bool" and value in _TRUE | _FALSE:
            return value in _TRUE
        if tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float"):
            number = _number(value)
            if number is not None:
                return float(number) if tag.endswith("float") else number
        raise SpecError(f"{value!r} is not a valid {tag.rsplit(':', 1)[-1]}", location=_location(self.path, node))


def _number(value: str) -> int | float | None:
    """YAML 1.2 core schema numbers; None when ``value`` is not one."""
    if _INT.match(value):
        return int(value, 10)
    if _OCT.match(value):
        return int(value[2:], 8)
    if _HEX.match(value):
        return int(value[2:], 16)
    if _FLOAT.match(value):
        return float(value)
    if _INF.match(value):
        return -math.inf if value.startswith("-") else math.inf
    if _NAN.match(value):
        return math.nan
    return None


def _check_size(text: str, path: Path) -> None:
    """Walk the parser's events (no nodes are built) and stop at the first list or mapping nested
    deeper than MAX_DEPTH or the first value beyond MAX_NODES, so neither memory nor the recursion of
    composing grows with a hostile document."""
    loader = _Composer(text)
    depth = nodes = 0
    try:
        while True:
            event = loader.get_event()
            if event is None or isinstance(event, StreamEndEvent):
                return
            if isinstance(event, (SequenceStartEvent, MappingStartEvent)):
                depth += 1
                nodes += 1
                if depth > MAX_DEPTH:
                    raise SpecError(
                        f"lists and mappings nest more than {MAX_DEPTH} levels deep, the limit for a spec",
                        location=_mark_location(path, event.start_mark),
                        hint="a spec nests a few levels; check for unbalanced brackets",
                    )
            elif isinstance(event, (SequenceEndEvent, MappingEndEvent)):
                depth -= 1
            elif isinstance(event, (ScalarEvent, AliasEvent)):
                nodes += 1
            if nodes > MAX_NODES:
                raise SpecError(
                    f"the document holds more than {MAX_NODES} values, the limit for a spec",
                    location=_mark_location(path, event.start_mark),
                    hint="a spec is small; keep pixel data and long lists in mask or data files",
                )
    except yaml.YAMLError as exc:
        raise _syntax_error(exc, path) from None
    finally:
        loader.dispose()


def _mark_location(path: Path, mark: Any) -> Location:
    return Location(str(path), mark.line + 1, mark.column + 1) if mark else Location(str(path))


def _syntax_error(exc: yaml.YAMLError, path: Path) -> SpecError:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or "invalid YAML"
        if "maximum nesting depth" in problem:  # libyaml's own limit (PyYAML >= 6.0.4), met while scanning ahead
            return SpecError(
                f"lists and mappings nest more than {MAX_DEPTH} levels deep, the limit for a spec",
                location=_mark_location(path, mark),
                hint="a spec nests a few levels; check for unbalanced brackets",
            )
        if exc.context:
            problem = f"{exc.context}, {problem}"
        return SpecError(f"YAML syntax error: {problem}", location=_mark_location(path, mark))
    return SpecError(f"YAML syntax error: {exc}", location=Location(str(path)))


def _compose(text: str, path: Path) -> Node | None:
    _check_size(text, path)
    loader = _Composer(text)
    try:
        node: Node | None = loader.get_single_node()
    except yaml.YAMLError as exc:
        raise _syntax_error(exc, path) from None
    finally:
        loader.dispose()
    return node


def _json_syntax_error(exc: json.JSONDecodeError) -> tuple[str, int]:
    """Message and offset of a JSON syntax error, the same on every Python: 3.13 reports a trailing comma
    as such, at the comma; older versions report the bracket after it as an unexpected character."""
    doc, pos = exc.doc, exc.pos
    if pos < len(doc) and doc[pos] in "}]":
        before = doc[:pos].rstrip()
        if before.endswith(","):
            return f"Illegal trailing comma before end of {'object' if doc[pos] == '}' else 'array'}", len(before) - 1
    return exc.msg, exc.pos


def parse_text(text: str, path: Path, *, is_json: bool | None = None) -> SpecDocument:
    """Parse ``text`` (YAML, or JSON when ``is_json`` or the name ends in ``.json``)."""
    if is_json is None:
        is_json = path.suffix.lower() == ".json"
    if is_json:
        try:
            json.loads(text)
        except RecursionError:
            pass  # nested too deeply: _check_size says where
        except json.JSONDecodeError as exc:
            message, pos = _json_syntax_error(exc)
            line = exc.doc.count("\n", 0, pos) + 1
            raise SpecError(
                f"JSON syntax error: {message}", location=Location(str(path), line, pos - exc.doc.rfind("\n", 0, pos))
            ) from None
        # Raw tabs can only be whitespace in valid JSON; YAML does not take them as indentation.
        text = text.replace("\t", " ")
    builder = _Builder(path)
    node = _compose(text, path)
    if node is None:
        raise SpecError("the spec file is empty", location=Location(str(path), 1, 1))
    builder.doc.data = builder.build(node, ())
    if not isinstance(builder.doc.data, dict):
        raise SpecError("a spec must be a mapping (key: value pairs) at the top level", location=builder.doc.loc(()))
    return builder.doc


def load_file(path: str | Path) -> SpecDocument:
    """Read and parse one spec file."""
    p = Path(path)
    try:
        with open_regular(p) as fh:  # never a FIFO or device: those can block or never end
            raw = fh.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            raise SpecError(
                f"the spec file is larger than {MAX_FILE_BYTES} bytes, the limit for a spec",
                location=Location(str(p)),
                hint="a spec is small; keep pixel data in mask files",
            )
    except NotARegularFile:
        raise SpecError(f"the spec file is {file_kind(p)}, not a regular file", location=Location(str(p))) from None
    except FileNotFoundError:
        raise SpecError("spec file not found", location=Location(str(p))) from None
    except IsADirectoryError:
        raise SpecError("expected a spec file, found a folder", location=Location(str(p))) from None
    except OSError as exc:
        raise SpecError(f"cannot read the spec file: {exc.strerror}", location=Location(str(p))) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpecError(f"the spec file is not UTF-8 (byte {exc.start})", location=Location(str(p))) from None
    return parse_text(text, p)
