"""``extends:``: a spec built on top of others (a site template plus case overrides).

``extends: site.yaml`` (or a list, applied in order) loads those files first and merges this spec
over them: mappings merge key by key, anything else (lists, scalars) is replaced. Every merged value
keeps the location of the file that wrote it, so errors point at the template or at the case as the
case may be, and relative paths resolve against the file that wrote them. ``abstract: true`` (a spec
that is only a base) is not inherited.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import SpecError
from .document import NodePath, SpecDocument
from .parse import load_file

MAX_DEPTH = 16


def _merge(
    base: Any, over: Any, base_doc: SpecDocument, over_doc: SpecDocument, path: NodePath, out: SpecDocument
) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        merged: dict[str, Any] = {}
        for key in base:
            if key not in over:
                merged[key] = base[key]
                _copy_positions(base_doc, path + (key,), out)
        for key in over:
            if key in base:
                merged[key] = _merge(base[key], over[key], base_doc, over_doc, path + (key,), out)
            else:
                merged[key] = over[key]
                _copy_positions(over_doc, path + (key,), out)
        out.positions[path] = over_doc.positions.get(path, base_doc.loc(path))
        return merged
    _copy_positions(over_doc, path, out)
    return over


def _copy_positions(src: SpecDocument, prefix: NodePath, out: SpecDocument) -> None:
    n = len(prefix)
    for table, target in ((src.positions, out.positions), (src.key_positions, out.key_positions)):
        for p, loc in table.items():
            if p[:n] == prefix:
                target[p] = loc


def load_with_extends(path: Path, _stack: tuple[Path, ...] = ()) -> SpecDocument:
    """Load ``path`` and apply its ``extends:`` chain; cycles and missing bases are errors."""
    doc = load_file(path)
    bases = doc.data.get("extends")
    if bases is None:
        return doc
    items = bases if isinstance(bases, list) else [bases]
    resolved_self = path.resolve()
    if len(_stack) >= MAX_DEPTH:
        raise SpecError(f"`extends` nests deeper than {MAX_DEPTH} files", location=doc.loc(("extends",)))
    merged: SpecDocument | None = None
    for i, item in enumerate(items):
        ipath: NodePath = ("extends", i) if isinstance(bases, list) else ("extends",)
        if not isinstance(item, str) or not item:
            raise SpecError("`extends` takes a file name or a list of file names", location=doc.loc(ipath), path=ipath)
        base_path = (path.parent / item).resolve()
        chain = _stack + (resolved_self,)
        if base_path in chain:
            cycle = " -> ".join(str(p) for p in (*chain[chain.index(base_path) :], base_path))
            raise SpecError(
                f"`extends` cycle: {cycle}",
                location=doc.loc(ipath),
                path=ipath,
                hint="a spec may not extend itself, directly or through others",
            )
        if not base_path.is_file():
            raise SpecError(f"the spec to extend was not found: {base_path}", location=doc.loc(ipath), path=ipath)
        base = load_with_extends(base_path, chain)
        if merged is None:
            merged = base
        else:
            combined = SpecDocument(path=path, data=None)
            combined.data = _merge(merged.data, base.data, merged, base, (), combined)
            merged = combined
    assert merged is not None
    out = SpecDocument(path=path, data=None)
    own = {k: v for k, v in doc.data.items() if k != "extends"}
    base_data = {k: v for k, v in merged.data.items() if k not in ("extends", "abstract")}  # not inherited
    out.data = _merge(base_data, own, merged, doc, (), out)
    out.positions[()] = doc.positions.get((), out.loc(()))
    return out
