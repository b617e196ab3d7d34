"""The spec language reference, generated from the JSON Schemas the compiler validates with.

One page per spec kind of :data:`dcmspec_compiler.validate.schemas.KINDS` (a kind added there gets its page
with no change here): every property, nested ones too, with its type, whether it is required, its default,
the values it allows, its description and an example. Properties of a shared object definition (``code``,
``equipment``, ...) are listed once, in the page's "Definitions" part, and linked from each use.

The examples are values taken from the specs the project ships (``specs_examples/``, the starters and
``tests/specs/``) at the same place in a spec of the same kind; where none has the property, the example is
the schema's own (``examples``, ``const``, ``default`` or the first allowed value), else a placeholder of
the right type.

``tests/test_docs.py`` calls :func:`render_kind` and checks that every property of every schema has an entry.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from dcmspec_compiler.validate.schemas import KINDS, bundled_schema

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_FOLDERS = ("specs_examples", "compiler/starters")
ANY_NAME = "<name>"


def page_name(kind: str) -> str:
    """``MeasurementReport`` -> ``measurement-report`` (the schema file's stem)."""
    return KINDS[kind].removesuffix(".schema.json")


def label(kind: str, path: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")
    return f"spec-{page_name(kind)}-{slug}"


# --------------------------------------------------------------------------------------- schema walking
def _ref_name(node: Any) -> str | None:
    ref = node.get("$ref") if isinstance(node, dict) else None
    return ref.removeprefix("#/$defs/") if isinstance(ref, str) and ref.startswith("#/$defs/") else None


def _alternatives(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The node and the schemas combined into it (allOf/oneOf/anyOf/if/then/else), not following $ref."""
    yield node
    for key in ("allOf", "oneOf", "anyOf"):
        for sub in node.get(key, []):
            if isinstance(sub, dict):
                yield from _alternatives(sub)
    for key in ("if", "then", "else"):
        if isinstance(node.get(key), dict):
            yield from _alternatives(node[key])


class Walker:
    """Resolves the bundled schema of one kind into entries, each a property at a dotted path."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.schema = bundled_schema(kind)
        self.defs: dict[str, Any] = self.schema.get("$defs", {})
        self._object_defs: dict[str, bool] = {}

    def resolve(self, node: Any, seen: tuple[str, ...] = ()) -> tuple[dict[str, Any], tuple[str, ...]]:
        """Follow ``$ref`` chains of a node; ``seen`` are the definitions followed."""
        while isinstance(node, dict) and (name := _ref_name(node)) and name not in seen:
            seen += (name,)
            merged = dict(self.definition(name).items())
            for key, value in node.items():  # a sibling description etc. overrides the definition's
                if key != "$ref":
                    merged[key] = value
            node = merged
        return (node if isinstance(node, dict) else {}), seen

    def definition(self, name: str) -> Any:
        """The definition ``name`` names: a name in ``$defs``, or a JSON pointer into one
        (``layer/properties/name``, RFC 6901)."""
        first, *rest = name.split("/")
        node = self.defs[first]
        for part in rest:
            part = part.replace("~1", "/").replace("~0", "~")
            node = node[int(part)] if isinstance(node, list) else node[part]
        return node

    def is_object_def(self, name: str) -> bool:
        """A definition rendered once in 'Definitions': one with properties of its own somewhere."""
        if name not in self._object_defs:
            self._object_defs[name] = False  # while deciding (a definition that contains itself)
            node, seen = self.resolve({"$ref": f"#/$defs/{name}"})
            self._object_defs[name] = any(True for _ in self._children(node, "x", seen))
        return self._object_defs[name]

    def _inline(self, sub: Any, seen: tuple[str, ...]) -> bool:
        """Whether a sub-schema's properties belong here (not a definition listed on its own, nor recursion)."""
        name = _ref_name(sub)
        return not (name and (name in seen or self.is_object_def(name)))

    def _children(self, node: dict[str, Any], path: str, seen: tuple[str, ...] = ()) -> Iterator[tuple[str, Any, bool]]:
        """(child path, child schema, required) of an object-like node, through combinators and items."""
        for alt in _alternatives(node):
            if alt is not node and not self._inline(alt, seen):
                continue
            alt, alt_seen = self.resolve(alt, seen)
            required = set(alt.get("required", []))
            for name, sub in alt.get("properties", {}).items():
                yield f"{path}.{name}" if path else name, sub, name in required
            extra = alt.get("additionalProperties")
            if isinstance(extra, dict) and extra:
                yield f"{path}.{ANY_NAME}" if path else ANY_NAME, extra, False
            for sub in alt.get("patternProperties", {}).values():
                yield f"{path}.{ANY_NAME}" if path else ANY_NAME, sub, False
            items = alt.get("items")
            if isinstance(items, dict) and self._inline(items, alt_seen):
                yield from self._children(*self._resolved_with_path(items, f"{path}[]", alt_seen))

    def _resolved_with_path(
        self, sub: Any, path: str, seen: tuple[str, ...]
    ) -> tuple[dict[str, Any], str, tuple[str, ...]]:
        node, now_seen = self.resolve(sub, seen)
        return node, path, now_seen

    def entries(self, node: dict[str, Any], path: str, seen: tuple[str, ...] = ()) -> Iterator[dict[str, Any]]:
        """Every property under ``node`` (depth first), stopping at object definitions (their own section)
        and at recursion (a definition inside itself)."""
        by_path: dict[str, dict[str, Any]] = {}
        order: list[str] = []
        for child_path, sub, required in self._children(node, path, seen):
            if child_path not in by_path:
                by_path[child_path] = {"path": child_path, "schemas": [], "required": False}
                order.append(child_path)
            by_path[child_path]["schemas"].append(sub)
            by_path[child_path]["required"] |= required
        for child_path in order:
            entry = by_path[child_path]
            yield entry
            inline = [sub for sub in entry["schemas"] if self._inline(sub, seen)]  # others: under Definitions
            if len(inline) == 1:
                resolved, now_seen = self.resolve(inline[0], seen)
                yield from self.entries(resolved, child_path, now_seen)
            elif inline:  # the property is declared in several places (properties, then/else): walk them as one
                yield from self.entries({"allOf": inline}, child_path, seen)

    def uses(self) -> dict[str, list[str]]:
        """Object definition -> the spec paths where it is used (``segments[]`` for ``segment``), through
        definitions used inside definitions; for examples taken from the shipped specs."""
        direct: dict[str, list[tuple[str | None, str]]] = {}

        def record(container: str | None, node: dict[str, Any], seen: tuple[str, ...]) -> None:
            for entry in self.entries(node, "", seen):
                for sub in entry["schemas"]:
                    for alt in _alternatives(self.resolve(sub, seen)[0] if not _ref_name(sub) else {"x": sub}):
                        for candidate, suffix in ((sub, ""), (alt.get("items"), "[]")):
                            name = _ref_name(candidate)
                            if name and self.is_object_def(name):
                                direct.setdefault(name, []).append((container, entry["path"] + suffix))

        record(None, self.schema, ())
        for name in self.definitions():
            node, seen = self.resolve({"$ref": f"#/$defs/{name}"})
            record(name, node, seen)

        def absolute(name: str, depth: int = 0) -> list[str]:
            out = []
            for container, path in direct.get(name, []):
                if container is None:
                    out.append(path)
                elif depth < 4:
                    out += [f"{outer}.{path}" for outer in absolute(container, depth + 1)]
            return out

        return {name: absolute(name) for name in direct}

    def definitions(self) -> list[str]:
        """Object definitions used by this kind, in the order first met (depth first from the root)."""
        order: list[str] = []

        def visit(node: Any) -> None:
            if isinstance(node, dict):
                name = _ref_name(node)
                if name and name not in order and self.is_object_def(name):
                    order.append(name)
                    visit(self.definition(name))
                for value in node.values():
                    visit(value)
            elif isinstance(node, list):
                for value in node:
                    visit(value)

        visit({k: v for k, v in self.schema.items() if k != "$defs"})
        return order


# --------------------------------------------------------------------------------------- describing
def _type_of(walker: Walker, node: Any, depth: int = 0) -> str:
    name = _ref_name(node)
    if name and walker.is_object_def(name):
        return f"[{name}](#{label(walker.kind, 'def-' + name)})"
    node, _ = walker.resolve(node)
    if "const" in node:
        return f"`{json.dumps(node['const'])}`"
    if "enum" in node:
        return "one of " + ", ".join(f"`{json.dumps(v)}`" for v in node["enum"])
    alts = node.get("oneOf") or node.get("anyOf")
    if alts and depth < 3:
        own = node.get("type")
        kinds = [_type_of(walker, alt, depth + 1) for alt in alts]
        text = " or ".join(dict.fromkeys(kinds))
        return f"{own} ({text})" if isinstance(own, str) and own not in text else text
    types = node.get("type")
    if isinstance(types, list):
        return " or ".join(types)
    if types == "array" and isinstance(node.get("items"), dict) and depth < 3:
        return f"array of {_type_of(walker, node['items'], depth + 1)}"
    if types:
        return str(types)
    if "allOf" in node and depth < 3:
        return " and ".join(_type_of(walker, alt, depth + 1) for alt in node["allOf"] if isinstance(alt, dict))
    return "any value"


CONSTRAINTS = (
    ("minimum", "≥ {}"),
    ("exclusiveMinimum", "> {}"),
    ("maximum", "≤ {}"),
    ("exclusiveMaximum", "< {}"),
    ("minLength", "at least {} characters"),
    ("maxLength", "at most {} characters"),
    ("minItems", "at least {} items"),
    ("maxItems", "at most {} items"),
    ("pattern", "matches `{}`"),
)


def _allowed(walker: Walker, node: Any) -> str:
    parts = []
    for alt in _alternatives(walker.resolve(node)[0]):
        alt, _ = walker.resolve(alt)
        for key, text in CONSTRAINTS:
            if key in alt:
                value = alt[key].replace("`", "\\`") if isinstance(alt[key], str) else alt[key]
                parts.append(text.format(value))
        if "enum" in alt:
            parts.append("one of " + ", ".join(f"`{json.dumps(v)}`" for v in alt["enum"]))
    return "; ".join(dict.fromkeys(parts))


def _description(walker: Walker, node: Any) -> str:
    resolved, _ = walker.resolve(node)
    texts = [resolved.get("description", "")]
    if not texts[0]:  # the alternatives' own (a property declared in several places: each one's)
        texts = [_description(walker, alt) for key in ("anyOf", "oneOf", "allOf") for alt in resolved.get(key, [])]
    return " ".join(dict.fromkeys(t for t in texts if t)).strip()


def _schema_example(walker: Walker, node: Any, depth: int = 0) -> Any:
    node, _ = walker.resolve(node)
    for key in ("examples",):
        if node.get(key):
            return node[key][0]
    for key in ("const", "default"):
        if key in node:
            return node[key]
    if node.get("enum"):
        return node["enum"][0]
    alts = node.get("oneOf") or node.get("anyOf")
    if alts and depth < 4:
        return _schema_example(walker, alts[0], depth + 1)
    types = node.get("type")
    types = types[0] if isinstance(types, list) else types
    if types == "array":
        return [_schema_example(walker, node.get("items", {}), depth + 1)] if depth < 4 else []
    if types == "object":
        return (
            {
                name: _schema_example(walker, node["properties"][name], depth + 1)
                for name in node.get("required", [])
                if name in node.get("properties", {})
            }
            if depth < 4
            else {}
        )
    return {
        "string": "<text>",
        "integer": node.get("minimum", 1),
        "number": node.get("minimum", 1.0),
        "boolean": True,
        "null": None,
    }.get(types or "", "<value>")


# --------------------------------------------------------------------------------------- examples
def _spec_documents(kind: str) -> list[Any]:
    docs = []
    for folder in EXAMPLE_FOLDERS:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix in (".yaml", ".yml", ".json") and path.is_file():
                try:
                    data = yaml.safe_load(path.read_text(encoding="utf-8"))
                except yaml.YAMLError:
                    continue
                if isinstance(data, dict) and data.get("kind") == kind:
                    docs.append(data)
    return docs


def _values_at(data: Any, parts: list[str]) -> Iterator[Any]:
    if not parts:
        yield data
        return
    head, rest = parts[0], parts[1:]
    if head.endswith("[]"):
        name = head[:-2]
        items = data if name == "" else (data.get(name) if isinstance(data, dict) else None)
        for item in items if isinstance(items, list) else []:
            yield from _values_at(item, rest)
    elif head == ANY_NAME:
        for value in data.values() if isinstance(data, dict) else []:
            yield from _values_at(value, rest)
    elif isinstance(data, dict) and head in data:
        yield from _values_at(data[head], rest)


def _found_values(docs: list[Any], parts: list[str], uses: list[str]) -> Iterator[Any]:
    """Values at ``parts`` below each of the paths ``uses`` ("" for the top) in the shipped specs."""
    for use in uses:
        prefix = _split(use) if use else []
        for doc in docs:
            yield from _values_at(doc, prefix + parts)


def _split(path: str) -> list[str]:
    """``segments[].category`` -> ``['segments[]', 'category']``; ``a[][]`` keeps both levels."""
    parts = []
    for part in path.split("."):
        name = part.rstrip("[]")
        parts.append(name + "[]" if part.endswith("[]") else name)
        parts.extend("[]" for _ in range(part.count("[]") - 1))
    return parts


def _nest(parts: list[str], value: Any) -> Any:
    for part in reversed(parts):
        if part == "[]":
            value = [value]
        elif part.endswith("[]"):
            value = {part[:-2]: [value]}
        else:
            value = {"name" if part == ANY_NAME else part: value}
    return value


def _example_yaml(value: Any) -> str:
    text = yaml.safe_dump(value, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100)
    lines = text.splitlines()
    if len(lines) > 14:
        lines = lines[:14] + ["# ..."]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------- rendering
def _entry(walker: Walker, entry: dict[str, Any], docs: list[Any], base: list[str], uses: list[str] = ()) -> str:
    path, schemas = entry["path"], entry["schemas"]
    node = schemas[0] if len(schemas) == 1 else {"anyOf": schemas}
    found = (
        next(_found_values(docs, _split(path), uses), None)
        if base
        else next(_found_values(docs, _split(path), [""]), None)
    )
    value = found if found is not None else _schema_example(walker, node)
    rows = [("type", _type_of(walker, node)), ("required", "yes" if entry["required"] else "no")]
    default = walker.resolve(node)[0].get("default")
    rows.append(
        (
            "default",
            f"`{json.dumps(default)}`"
            if default is not None
            else "see the description"
            if "default" in _description(walker, node).lower()
            else "none",
        )
    )
    allowed = _allowed(walker, node)
    if allowed:
        rows.append(("allowed", allowed))
    table = "\n".join(f"| {k} | {v.replace('|', '&#124;')} |" for k, v in rows)
    example = _example_yaml(_nest(base + _split(path), value))
    return (
        f"({label(walker.kind, path if not base else 'def-' + base[0] + '.' + path)})=\n"
        f"### `{path if not base else base[0] + '.' + path}`\n\n"
        f"{_description(walker, node) or '(no description in the schema)'}\n\n"
        f"| | |\n|---|---|\n{table}\n\n"
        f"```yaml\n{example}\n```\n"
    )


def render_kind(kind: str) -> str:
    """The reference page of spec ``kind`` (MyST Markdown)."""
    walker = Walker(kind)
    docs = _spec_documents(kind)
    schema = walker.schema
    out = [
        f"(spec-{page_name(kind)})=\n# {kind}\n",
        f"{schema.get('description', '')}\n",
        f"Generated from `schemas/{KINDS[kind]}` (print it with `dcmspec schema {kind}`). "
        "Paths are dotted; `[]` is an item of a list and `<name>` a key of your choosing. "
        "Examples are taken from the specs in `specs_examples/` and the starters where they have the "
        "property.\n",
        "## Properties\n",
    ]
    out += [_entry(walker, e, docs, []) for e in walker.entries(schema, "")]
    definitions = walker.definitions()
    uses = walker.uses()
    if definitions:
        out.append("## Definitions\n\nObjects used in several places of the spec; each use links here.\n")
        for name in definitions:
            node, seen = walker.resolve({"$ref": f"#/$defs/{name}"})
            out.append(f"({label(kind, 'def-' + name)})=\n### {name}\n\n{_description(walker, node)}\n")
            out += [_entry(walker, e, docs, [name], uses.get(name, [])) for e in walker.entries(node, "", seen)]
    return "\n".join(out)


def entry_paths(markdown: str) -> list[str]:
    """The property paths a rendered page has an entry for (its ``###`` headings in backquotes)."""
    return re.findall(r"^### `([^`]+)`$", markdown, re.M)


def render_index() -> str:
    lines = [
        "# Spec language reference\n",
        "One page per spec kind, generated from the JSON Schemas in `schemas/` when the documentation is "
        "built, so it says exactly what the compiler enforces.\n",
        "```{toctree}\n:maxdepth: 1\n",
    ]
    lines += [page_name(kind) for kind in KINDS]
    lines.append("```\n")
    return "\n".join(lines)


def write_pages(folder: Path) -> list[Path]:
    """Write the index and one page per kind into ``folder``; returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / "index.md"]
    written[0].write_text(render_index(), encoding="utf-8")
    for kind in KINDS:
        path = folder / f"{page_name(kind)}.md"
        path.write_text(render_kind(kind), encoding="utf-8")
        written.append(path)
    return written
