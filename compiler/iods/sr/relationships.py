"""Which value types and relationships each SR IOD accepts, as data.

The rows transcribe the "Relationship Content Constraints" tables of PS3.3: A.35.1-2 (Basic Text SR),
A.35.2-2 (Enhanced SR), A.35.3-2 (Comprehensive SR) and A.35.13-2 (Comprehensive 3D SR). A row is
(source value types, relationship type, target value types); a relationship is allowed when some row
matches it. :func:`check_tree` walks a content tree and raises
:class:`~dcmspec.errors.DicomConformanceError` naming the first violation and its place in the tree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from pydicom.dataset import Dataset

from ...errors import DicomConformanceError

__all__ = ["IODRules", "RULES", "check_tree", "tree_violations"]

_ANY_SOURCE = frozenset({"CONTAINER", "TEXT", "CODE", "NUM", "DATE", "TIME", "DATETIME", "PNAME", "UIDREF",
                         "COMPOSITE", "IMAGE", "WAVEFORM", "SCOORD", "SCOORD3D", "TCOORD"})


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
    "Basic Text SR", "A.35.1-2",
    _s(f"CONTAINER {_LITERALS} {_REFS}"),
    (
        (_s("CONTAINER"), "CONTAINS", _s(f"{_LITERALS} {_REFS} CONTAINER")),
        (_s("CONTAINER"), "HAS OBS CONTEXT", _s(f"{_LITERALS} COMPOSITE")),
        (_s("CONTAINER IMAGE WAVEFORM COMPOSITE"), "HAS ACQ CONTEXT", _s(_LITERALS)),
        (_ANY_SOURCE, "HAS CONCEPT MOD", _s("TEXT CODE")),
        (_s("TEXT"), "HAS PROPERTIES", _s(f"{_LITERALS} {_REFS}")),
        (_s("TEXT"), "INFERRED FROM", _s(f"{_LITERALS} {_REFS}")),
    ),
    by_reference=False,
)

ENHANCED = IODRules(
    "Enhanced SR", "A.35.2-2",
    _s(f"CONTAINER NUM {_LITERALS} {_REFS} SCOORD TCOORD"),
    (
        (_s("CONTAINER"), "CONTAINS", _s(f"{_LITERALS} NUM {_REFS} SCOORD TCOORD CONTAINER")),
        (_s("CONTAINER"), "HAS OBS CONTEXT", _s(f"{_LITERALS} NUM COMPOSITE")),
        (_s("CONTAINER IMAGE WAVEFORM COMPOSITE NUM"), "HAS ACQ CONTEXT", _s(f"{_LITERALS} NUM")),
        (_ANY_SOURCE, "HAS CONCEPT MOD", _s("TEXT CODE")),
        (_s("TEXT CODE NUM"), "HAS PROPERTIES", _s(f"{_LITERALS} NUM {_REFS} SCOORD TCOORD")),
        (_s("TEXT CODE NUM"), "INFERRED FROM", _s(f"{_LITERALS} NUM {_REFS} SCOORD TCOORD")),
        (_s("SCOORD"), "SELECTED FROM", _s("IMAGE")),
        (_s("TCOORD"), "SELECTED FROM", _s("SCOORD IMAGE WAVEFORM")),
    ),
    by_reference=False,
)

COMPREHENSIVE = IODRules(
    "Comprehensive SR", "A.35.3-2",
    _s(f"CONTAINER NUM {_LITERALS} {_REFS} SCOORD TCOORD"),
    (
        (_s("CONTAINER"), "CONTAINS", _s(f"{_LITERALS} NUM {_REFS} SCOORD TCOORD CONTAINER")),
        (_s("CONTAINER TEXT CODE NUM"), "HAS OBS CONTEXT", _s(f"{_LITERALS} NUM COMPOSITE")),
        (_s("CONTAINER IMAGE WAVEFORM COMPOSITE NUM"), "HAS ACQ CONTEXT",
         _s(f"{_LITERALS} NUM CONTAINER")),
        (_ANY_SOURCE, "HAS CONCEPT MOD", _s("TEXT CODE")),
        (_s("TEXT CODE NUM"), "HAS PROPERTIES", _s(f"{_LITERALS} NUM {_REFS} SCOORD TCOORD CONTAINER")),
        (_s("TEXT CODE NUM"), "INFERRED FROM", _s(f"{_LITERALS} NUM {_REFS} SCOORD TCOORD CONTAINER")),
        (_s("SCOORD"), "SELECTED FROM", _s("IMAGE")),
        (_s("TCOORD"), "SELECTED FROM", _s("SCOORD IMAGE WAVEFORM")),
    ),
    by_reference=True,
)

COMPREHENSIVE_3D = IODRules(
    "Comprehensive 3D SR", "A.35.13-2",
    _s(f"CONTAINER NUM {_LITERALS} {_REFS} SCOORD SCOORD3D TCOORD"),
    (
        (_s("CONTAINER"), "CONTAINS", _s(f"{_LITERALS} NUM {_REFS} SCOORD SCOORD3D TCOORD CONTAINER")),
        (_s("TEXT CODE NUM"), "HAS OBS CONTEXT", _s(f"{_LITERALS} NUM COMPOSITE")),
        (_s("CONTAINER"), "HAS OBS CONTEXT", _s(f"{_LITERALS} NUM COMPOSITE CONTAINER")),
        (_s("CONTAINER IMAGE WAVEFORM COMPOSITE NUM"), "HAS ACQ CONTEXT",
         _s(f"{_LITERALS} NUM CONTAINER")),
        (_ANY_SOURCE, "HAS CONCEPT MOD", _s("TEXT CODE")),
        (_s("TEXT CODE NUM"), "HAS PROPERTIES",
         _s(f"{_LITERALS} NUM {_REFS} SCOORD SCOORD3D TCOORD CONTAINER")),
        (_s("PNAME"), "HAS PROPERTIES", _s(_LITERALS)),
        (_s("TEXT CODE NUM"), "INFERRED FROM",
         _s(f"{_LITERALS} NUM {_REFS} SCOORD SCOORD3D TCOORD CONTAINER")),
        (_s("SCOORD"), "SELECTED FROM", _s("IMAGE")),
        (_s("TCOORD"), "SELECTED FROM", _s("SCOORD SCOORD3D IMAGE WAVEFORM")),
    ),
    by_reference=True,
)

RULES = {r.iod: r for r in (BASIC_TEXT, ENHANCED, COMPREHENSIVE, COMPREHENSIVE_3D)}


def _name(item: Dataset) -> str:
    seq = item.get("ConceptNameCodeSequence")
    return f" {seq[0].get('CodeMeaning', '')!r}" if seq else ""


def _walk(item: Dataset, path: str) -> Iterator[tuple[Dataset, Dataset, str]]:
    for i, child in enumerate(item.get("ContentSequence", []), start=1):
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


def tree_violations(rules: IODRules, root: Dataset) -> Iterator[str]:
    """Messages for every value type or relationship in ``root``'s tree that ``rules`` forbids."""
    if root.get("ValueType") != "CONTAINER":
        yield f"the root content item of a {rules.iod} document must be a CONTAINER (PS3.3 C.17.3)"
    if not root.get("ConceptNameCodeSequence"):
        yield "the root CONTAINER needs a concept name (the document title, PS3.3 C.17.3)"
    for parent, child, path in _walk(root, "1"):
        source = str(parent.get("ValueType", ""))
        relationship = str(child.get("RelationshipType", ""))
        if "ReferencedContentItemIdentifier" in child:
            if not rules.by_reference:
                yield (f"{rules.iod} does not allow by-reference relationships (PS3.3 {rules.table});"
                       f" item {path} is one")
                continue
            target_item = _by_reference_target(root, list(child.ReferencedContentItemIdentifier))
            if target_item is None:
                yield f"item {path}: Referenced Content Item Identifier does not address an item of this tree"
                continue
            target = str(target_item.get("ValueType", ""))
            if relationship == "HAS CONCEPT MOD" or (relationship == "CONTAINS" and target == "CONTAINER"):
                yield (f"item {path}: {relationship} {target} may only be by-value"
                       f" (PS3.3 {rules.table})")
                continue
        else:
            target = str(child.get("ValueType", ""))
            if target not in rules.value_types:
                yield (f"{rules.iod} does not allow value type {target} (PS3.3 {rules.table});"
                       f" item {path}{_name(child)} is one")
                continue
        if not rules.allows(source, relationship, target):
            allowed = ", ".join(sorted(rules.targets(source, relationship))) or "nothing"
            yield (f"{rules.iod} does not allow {source}{_name(parent)} {relationship} {target}"
                   f"{_name(child)} at item {path} (PS3.3 {rules.table}; {source} {relationship} allows"
                   f" {allowed})")
        if target == "SCOORD" and "ReferencedContentItemIdentifier" not in child:
            sources = [c for c in child.get("ContentSequence", [])
                       if c.get("RelationshipType") == "SELECTED FROM"]
            if len(sources) != 1:
                yield (f"SCOORD{_name(child)} at item {path} must be the source of exactly one SELECTED FROM"
                       f" relationship to an IMAGE (PS3.3 C.18.6), has {len(sources)}")


def check_tree(rules: IODRules, root: Dataset) -> None:
    """Raise DicomConformanceError on the first violation of ``rules`` in ``root``'s tree."""
    for message in tree_violations(rules, root):
        raise DicomConformanceError(message)
