"""References between the specs of one build, and the order to build them in.

A spec refers to another with a mapping holding ``spec:`` (e.g. ``segment: {spec: organs, number: 2}``
in a report): the value is the other spec's ``id`` (default: its file name without extension), or a
path ending in ``.yaml``/``.yml``/``.json`` relative to the referring file, which joins the build if it
was not named. Specs are built so that every referred spec comes first; a dangling id or a cycle is an
error naming both ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ErrorList, Location, SpecError
from ..load.document import NodePath, SpecDocument

SPEC_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True)
class SpecRef:
    """``spec:`` at ``path`` of ``doc`` naming ``target`` (an id, or a file path)."""

    doc: SpecDocument
    path: NodePath
    target: str

    @property
    def location(self) -> Location:
        return self.doc.loc(self.path + ("spec",))

    @property
    def is_file(self) -> bool:
        return self.target.lower().endswith(SPEC_SUFFIXES)

    def file(self) -> Path:
        return (Path(self.location.file or self.doc.path).parent / self.target).resolve()


def find_refs(doc: SpecDocument) -> Iterator[SpecRef]:
    def walk(node: Any, path: NodePath) -> Iterator[SpecRef]:
        if isinstance(node, dict):
            if isinstance(node.get("spec"), str) and path[:1] != ("parameters",):
                yield SpecRef(doc, path, node["spec"])
            for key, value in node.items():
                yield from walk(value, path + (key,))
        elif isinstance(node, list):
            for i, value in enumerate(node):
                yield from walk(value, path + (i,))

    yield from walk(doc.data, ())


def spec_id(doc: SpecDocument) -> str:
    return str(doc.data.get("id") or doc.path.stem)


def build_order(docs: list[SpecDocument]) -> list[SpecDocument]:
    """``docs`` ordered so that each comes after the specs it refers to."""
    by_id: dict[str, SpecDocument] = {}
    by_file: dict[Path, SpecDocument] = {}
    errors: list[SpecError] = []
    for doc in docs:
        sid = spec_id(doc)
        if sid in by_id:
            other = by_id[sid]
            errors.append(
                SpecError(
                    f"two specs have the id {sid!r}: {other.path} and {doc.path}",
                    location=doc.loc(("id",)),
                    hint="give one of them another `id:`",
                )
            )
        by_id[sid] = doc
        by_file[doc.path.resolve()] = doc
    edges: dict[int, list[tuple[SpecDocument, SpecRef]]] = {id(d): [] for d in docs}
    for doc in docs:
        for ref in find_refs(doc):
            target = by_file.get(ref.file()) if ref.is_file else by_id.get(ref.target)
            if target is None:
                known = ", ".join(sorted(by_id)) or "none"
                errors.append(
                    SpecError(
                        f"no spec {ref.target!r} in this build",
                        location=ref.location,
                        path=ref.path + ("spec",),
                        hint=f"specs in this build: {known}; name its file too, or refer to it"
                        " by path (e.g. organs.yaml)",
                    )
                )
                continue
            edges[id(doc)].append((target, ref))
    if errors:
        raise ErrorList(errors)
    order: list[SpecDocument] = []
    state: dict[int, int] = {}  # 1 visiting, 2 done

    def visit(doc: SpecDocument, via: SpecRef | None) -> None:
        mark = state.get(id(doc))
        if mark == 2:
            return
        if mark == 1:
            assert via is not None
            back = next((r for t, r in edges[id(doc)] if state.get(id(t)) == 1), None)
            other = f"; {back.location} refers back to {spec_id(back.doc)!r}" if back else ""
            raise SpecError(
                f"specs refer to each other in a cycle: {spec_id(via.doc)!r} refers to {spec_id(doc)!r}{other}",
                location=via.location,
                path=via.path + ("spec",),
                hint="an object can only refer to objects built before it",
            )
        state[id(doc)] = 1
        for target, ref in edges[id(doc)]:
            visit(target, ref)
        state[id(doc)] = 2
        order.append(doc)

    for doc in docs:
        visit(doc, None)
    return order


def referenced_files(doc: SpecDocument) -> list[tuple[Path, SpecRef]]:
    """Spec files ``doc`` refers to by path (they join the build)."""
    return [(ref.file(), ref) for ref in find_refs(doc) if ref.is_file]
