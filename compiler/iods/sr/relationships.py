"""Which value types and relationships each SR IOD accepts, as data.

The rows transcribe the "Relationship Content Constraints" tables of PS3.3: A.35.1-2 (Basic Text SR),
A.35.2-2 (Enhanced SR), A.35.3-2 (Comprehensive SR), A.35.4-2 (Key Object Selection Document) and
A.35.13-2 (Comprehensive 3D SR), as amended by CP-1076 (the "PNAME HAS PROPERTIES" row, 2011) and CP-2084
(CONTAINER HAS OBS CONTEXT CONTAINER, 2021). A row is
(source value types, relationship type, target value types); a relationship is allowed when some row
matches it. :func:`check_tree` walks a content tree and raises
:class:`~dcmspec_compiler.errors.DicomConformanceError` naming the first violation and its place in the tree.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag

from ...errors import DicomConformanceError
from .value_types import VALUE_TYPES

__all__ = ["RULES", "IODRules", "TreeFacts", "check_tree", "tree_facts", "tree_violations"]

_ANY_SOURCE = frozenset(VALUE_TYPES)  # the rows whose source is any value type


def _s(text: str) -> frozenset[str]:
    return frozenset(text.split())


_LITERALS = "TEXT CODE DATETIME DATE TIME UIDREF PNAME"
_REFS = "COMPOSITE IMAGE WAVEFORM"


@dataclass(frozen=True)
class IODRules:
    """Relationship Content Constraints of one SR IOD."""

    iod: str
    table: str
    value_types: frozenset[str]
    rows: tuple[tuple[frozenset[str], str, frozenset[str]], ...]
    by_reference: bool

    def allows(self, source: str, relationship: str, target: str) -> bool:
        return any(source in src and relationship == rel and target in tgt for src, rel, tgt in self.rows)

    def targets(self, source: str, relationship: str) -> frozenset[str]:
        out: set[str] = set()
        for src, rel, tgt in self.rows:
            if source in src and relationship == rel:
                out |= tgt
        return frozenset(out)


BASIC_TEXT = IODRules(
    "Basic Text SR",
    "A.35.1-2",
    _s(f"CONTAINER {_LITERALS} {_REFS}"),
    (
        (_s("CONTAINER"), "CONTAINS", _s(f"{_LITERALS} {_REFS} CONTAINER")),
        (_s("CONTAINER"), "HAS OBS CONTEXT", _s(f"{_LITERALS} COMPOSITE CONTAINER")),  # CONTAINER: CP-2084
        (_s("CONTAINER IMAGE WAVEFORM COMPOSITE"), "HAS ACQ CONTEXT", _s(_LITERALS)),
        (_ANY_SOURCE, "HAS CONCEPT MOD", _s("TEXT CODE")),
        (_s("TEXT"), "HAS PROPERTIES", _s(f"{_LITERALS} {_REFS}")),
        (_s("PNAME"), "HAS PROPERTIES", _s(_LITERALS)),  # CP-1076
        (_s("TEXT"), "INFERRED FROM", _s(f"{_LITERALS} {_REFS}")),
    ),
    by_reference=False,
)

ENHANCED = IODRules(
    "Enhanced SR",
    "A.35.2-2",
    _s(f"CONTAINER NUM {_LITERALS} {_REFS} SCOORD TCOORD"),
    (
        (_s("CONTAINER"), "CONTAINS", _s(f"{_LITERALS} NUM {_REFS} SCOORD TCOORD CONTAINER")),
        (_s("CONTAINER"), "HAS OBS CONTEXT", _s(f"{_LITERALS} NUM COMPOSITE CONTAINER")),  # CONTAINER: CP-2084
        (_s("CONTAINER IMAGE WAVEFORM COMPOSITE NUM"), "HAS ACQ CONTEXT", _s(f"{_LITERALS} NUM")),
        (_ANY_SOURCE, "HAS CONCEPT MOD", _s("TEXT CODE")),
        (_s("TEXT CODE NUM"), "HAS PROPERTIES", _s(f"{_LITERALS} NUM {_REFS} SCOORD TCOORD")),
        (_s("PNAME"), "HAS PROPERTIES", _s(_LITERALS)),  # CP-1076
        (_s("TEXT CODE NUM"), "INFERRED FROM", _s(f"{_LITERALS} NUM {_REFS} SCOORD TCOORD")),
        (_s("SCOORD"), "SELECTED FROM", _s("IMAGE")),
        (_s("TCOORD"), "SELECTED FROM", _s("SCOORD IMAGE WAVEFORM")),
    ),
    by_reference=False,
)

COMPREHENSIVE = IODRules(
    "Comprehensive SR",
    "A.35.3-2",
    _s(f"CONTAINER NUM {_LITERALS} {_REFS} SCOORD TCOORD"),
    (
        (_s("CONTAINER"), "CONTAINS", _s(f"{_LITERALS} NUM {_REFS} SCOORD TCOORD CONTAINER")),
        (_s("CONTAINER TEXT CODE NUM"), "HAS OBS CONTEXT", _s(f"{_LITERALS} NUM COMPOSITE")),
        (_s("CONTAINER"), "HAS OBS CONTEXT", _s("CONTAINER")),  # CP-2084
        (_s("CONTAINER IMAGE WAVEFORM COMPOSITE NUM"), "HAS ACQ CONTEXT", _s(f"{_LITERALS} NUM CONTAINER")),
        (_ANY_SOURCE, "HAS CONCEPT MOD", _s("TEXT CODE")),
        (_s("TEXT CODE NUM"), "HAS PROPERTIES", _s(f"{_LITERALS} NUM {_REFS} SCOORD TCOORD CONTAINER")),
        (_s("PNAME"), "HAS PROPERTIES", _s(_LITERALS)),  # CP-1076
        (_s("TEXT CODE NUM"), "INFERRED FROM", _s(f"{_LITERALS} NUM {_REFS} SCOORD TCOORD CONTAINER")),
        (_s("SCOORD"), "SELECTED FROM", _s("IMAGE")),
        (_s("TCOORD"), "SELECTED FROM", _s("SCOORD IMAGE WAVEFORM")),
    ),
    by_reference=True,
)

COMPREHENSIVE_3D = IODRules(
    "Comprehensive 3D SR",
    "A.35.13-2",
    _s(f"CONTAINER NUM {_LITERALS} {_REFS} SCOORD SCOORD3D TCOORD"),
    (
        (_s("CONTAINER"), "CONTAINS", _s(f"{_LITERALS} NUM {_REFS} SCOORD SCOORD3D TCOORD CONTAINER")),
        (_s("TEXT CODE NUM"), "HAS OBS CONTEXT", _s(f"{_LITERALS} NUM COMPOSITE")),
        (_s("CONTAINER"), "HAS OBS CONTEXT", _s(f"{_LITERALS} NUM COMPOSITE CONTAINER")),
        (_s("CONTAINER IMAGE WAVEFORM COMPOSITE NUM"), "HAS ACQ CONTEXT", _s(f"{_LITERALS} NUM CONTAINER")),
        (_ANY_SOURCE, "HAS CONCEPT MOD", _s("TEXT CODE")),
        (_s("TEXT CODE NUM"), "HAS PROPERTIES", _s(f"{_LITERALS} NUM {_REFS} SCOORD SCOORD3D TCOORD CONTAINER")),
        (_s("PNAME"), "HAS PROPERTIES", _s(_LITERALS)),
        (_s("TEXT CODE NUM"), "INFERRED FROM", _s(f"{_LITERALS} NUM {_REFS} SCOORD SCOORD3D TCOORD CONTAINER")),
        (_s("SCOORD"), "SELECTED FROM", _s("IMAGE")),
        (_s("TCOORD"), "SELECTED FROM", _s("SCOORD SCOORD3D IMAGE WAVEFORM")),
    ),
    by_reference=True,
)

KEY_OBJECT_SELECTION = IODRules(
    "Key Object Selection Document",
    "A.35.4-2",
    _s("CONTAINER TEXT CODE UIDREF PNAME IMAGE WAVEFORM COMPOSITE"),
    (
        (_s("CONTAINER"), "CONTAINS", _s("TEXT IMAGE WAVEFORM COMPOSITE")),
        (_s("CONTAINER"), "HAS OBS CONTEXT", _s("TEXT CODE UIDREF PNAME CONTAINER")),  # CONTAINER: CP-2084
        (_s("CONTAINER"), "HAS CONCEPT MOD", _s("CODE")),
    ),
    by_reference=False,
)

RULES = {r.iod: r for r in (BASIC_TEXT, ENHANCED, COMPREHENSIVE, COMPREHENSIVE_3D, KEY_OBJECT_SELECTION)}


def _name(item: Dataset) -> str:
    seq = item.get("ConceptNameCodeSequence")
    return f" {seq[0].get('CodeMeaning', '')!r}" if seq else ""


_MISSING = object()
VALUE_TYPE = BaseTag(0x0040A040)
_RELATIONSHIP_TYPE = BaseTag(0x0040A010)
CONTENT_SEQUENCE = BaseTag(0x0040A730)
_CONCEPT_NAME = BaseTag(0x0040A043)
_REFERENCED_ITEM = BaseTag(0x0040DB73)


def element_value(item: Dataset, tag: BaseTag, default: Any = _MISSING) -> Any:
    """``item.get(keyword, default)`` by tag (raw elements of a dataset read from a file are decoded)."""
    elem = item._dict.get(tag)
    if elem is None:
        return default
    if type(elem) is not DataElement:
        elem = item[tag]
    return elem.value


def _text(item: Dataset, tag: BaseTag) -> str:
    """``str(item.get(keyword, ""))``."""
    value = element_value(item, tag)
    return "" if value is _MISSING else str(value)


def _walk(item: Dataset, path: str) -> Iterator[tuple[Dataset, Dataset, str]]:
    for i, child in enumerate(element_value(item, CONTENT_SEQUENCE, None) or (), start=1):
        child_path = f"{path}.{i}"
        yield item, child, child_path
        yield from _walk(child, child_path)


def _by_reference_target(root: Dataset, identifier: list[int]) -> Dataset | None:
    """Content item addressed by a Referenced Content Item Identifier (C.17.3.2.5), root is ``[1]``."""
    if not identifier or int(identifier[0]) != 1:
        return None
    node = root
    for index in identifier[1:]:
        seq = node.get("ContentSequence", [])
        if not 1 <= int(index) <= len(seq):
            return None
        node = seq[int(index) - 1]
    return node


@dataclass(frozen=True)
class _Edge:
    """One relationship of a content tree, with what the IOD rules look at."""

    parent: Dataset
    child: Dataset
    path: str
    source: str  # the parent's value type
    relationship: str
    by_reference: bool
    addressed: bool  # by reference: the identifier addresses an item of the tree
    target: str  # the child's value type, or the addressed item's
    selected_from: int  # by-value SCOORD: how many SELECTED FROM children it has
    error: Exception | None = None  # raised when a by-reference identifier is looked at (as before)
    loop: bool = False  # by reference: the addressed item is the referencing item or one of its ancestors


@dataclass(frozen=True)
class TreeFacts:
    """What the relationship rules of every SR IOD check, collected in one walk of a content tree;
    :func:`tree_violations` evaluates any IOD's rules on it."""

    root_is_container: bool
    root_has_name: bool
    edges: tuple[_Edge, ...]


def tree_facts(root: Dataset) -> TreeFacts:
    """Walk ``root``'s tree once (depth first, as the documents list their items)."""
    edges = []
    for parent, child, path in _walk(root, "1"):
        relationship = _text(child, _RELATIONSHIP_TYPE)
        by_reference = _REFERENCED_ITEM in child._dict
        addressed = False
        loop = False
        selected_from = 0
        error = None
        target = ""
        if by_reference:
            try:
                value = child.ReferencedContentItemIdentifier  # UL, VM 1-n: one value reads as an int
                identifier = [value] if isinstance(value, int) else list(value)
                target_item = _by_reference_target(root, identifier)
            except Exception as exc:  # surfaces where the rules look at it
                error = exc
            else:
                addressed = target_item is not None
                position = path.split(".")
                loop = addressed and [str(int(i)) for i in identifier] == position[: len(identifier)]
                target = _text(target_item, VALUE_TYPE) if target_item is not None else ""
        else:
            target = _text(child, VALUE_TYPE)
            if target == "SCOORD":
                selected_from = sum(
                    1
                    for c in element_value(child, CONTENT_SEQUENCE, None) or ()
                    if element_value(c, _RELATIONSHIP_TYPE, None) == "SELECTED FROM"
                )
        edges.append(
            _Edge(
                parent,
                child,
                path,
                _text(parent, VALUE_TYPE),
                relationship,
                by_reference,
                addressed,
                target,
                selected_from,
                error,
                loop,
            )
        )
    return TreeFacts(
        element_value(root, VALUE_TYPE, None) == "CONTAINER",
        bool(element_value(root, _CONCEPT_NAME, None)),
        tuple(edges),
    )


_ALLOWED: dict[tuple[int, str, str], tuple[IODRules, frozenset[str]]] = {}


def _allowed_targets(rules: IODRules, source: str, relationship: str) -> frozenset[str]:
    """``rules.targets(source, relationship)``, cached: ``rules.allows(s, r, t)`` is ``t in`` this."""
    key = (id(rules), source, relationship)
    hit = _ALLOWED.get(key)
    if hit is None or hit[0] is not rules:
        hit = _ALLOWED[key] = (rules, rules.targets(source, relationship))
    return hit[1]


def tree_violations(rules: IODRules, root: Dataset, facts: TreeFacts | None = None) -> Iterator[str]:
    """Messages for every value type or relationship in ``root``'s tree that ``rules`` forbids.

    ``facts``: :func:`tree_facts` of ``root``, when already collected (one walk serves every IOD).
    """
    if facts is None:
        facts = tree_facts(root)
    if not facts.root_is_container:
        yield f"the root content item of a {rules.iod} document must be a CONTAINER (PS3.3 C.17.3)"
    if not facts.root_has_name:
        yield "the root CONTAINER needs a concept name (the document title, PS3.3 C.17.3)"
    for edge in facts.edges:
        source, relationship, target, path = edge.source, edge.relationship, edge.target, edge.path
        if edge.by_reference:
            if not rules.by_reference:
                yield (
                    f"{rules.iod} does not allow by-reference relationships (PS3.3 {rules.table}); item {path} is one"
                )
                continue
            if edge.error is not None:
                raise edge.error
            if not edge.addressed:
                yield f"item {path}: Referenced Content Item Identifier does not address an item of this tree"
                continue
            if edge.loop:  # A.35.3.3.1.2 (Comprehensive), A.35.13/A.35.15 (3D, Extensible): no loops
                yield (
                    f"item {path}: a by-reference relationship to the item itself or an ancestor makes a loop;"
                    " relationships by-reference to ancestor Content Items are forbidden (PS3.3 A.35)"
                )
                continue
            if relationship == "HAS CONCEPT MOD" or (relationship == "CONTAINS" and target == "CONTAINER"):
                yield (f"item {path}: {relationship} {target} may only be by-value (PS3.3 {rules.table})")
                continue
        elif target not in rules.value_types:
            yield (
                f"{rules.iod} does not allow value type {target} (PS3.3 {rules.table});"
                f" item {path}{_name(edge.child)} is one"
            )
            continue
        if target not in _allowed_targets(rules, source, relationship):
            allowed = ", ".join(sorted(rules.targets(source, relationship))) or "nothing"
            yield (
                f"{rules.iod} does not allow {source}{_name(edge.parent)} {relationship} {target}"
                f"{_name(edge.child)} at item {path} (PS3.3 {rules.table}; {source} {relationship} allows"
                f" {allowed})"
            )
        if target == "SCOORD" and not edge.by_reference and edge.selected_from != 1:
            yield (
                f"SCOORD{_name(edge.child)} at item {path} must be the source of exactly one SELECTED FROM"
                f" relationship to an IMAGE (PS3.3 C.18.6), has {edge.selected_from}"
            )


def check_tree(rules: IODRules, root: Dataset, facts: TreeFacts | None = None) -> None:
    """Raise DicomConformanceError on the first violation of ``rules`` in ``root``'s tree."""
    for message in tree_violations(rules, root, facts):
        raise DicomConformanceError(message)
