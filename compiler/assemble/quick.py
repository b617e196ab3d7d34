"""``dcmspec validate --fast``: the checks of a spec that need neither pydicom nor numpy.

A complete ``validate`` builds every object in memory (the builder layer, pydicom datasets), and so
imports pydicom and numpy: about 0.3 s of CPU before any work. The fast check, for editors and
pre-commit hooks, runs instead of the builder, after the schema, the references between specs and the
output names were checked as usual:

* every code of the spec (each value the schema declares a code: ``definitions.schema.json#/$defs/code``)
  is resolved as a build resolves it (:func:`~dcmspec_compiler.assemble.common.code_at`); a unit
  (UCUM first) as a build reads it (:func:`~dcmspec_compiler.assemble.units.unit_at`);
* Segmentation: the source images are found (``sources.images``: the files exist and look like DICOM),
  and each mask file exists; a ``.npy`` mask's header is read (``io/npy.py``, without numpy) for its
  dtype and number of axes.

It does NOT read the source headers (series, geometry, frame of reference), place masks on the source
grid (shape, orientation, label values), nor apply the builder layer's DICOM rules (value
representations, enumerated values, conditions between attributes): a spec that passes may still fail
``validate`` and ``build``. A spec that fails it fails them too (``tests/test_validate_fast.py``).
"""

from __future__ import annotations

from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import DcmspecError, ErrorList, InputError, flatten
from ..load.document import SpecDocument
from ..resolve.codes import resolve_code
from ..resolve.input_files import check_input_file, check_magic, check_mask_kind, check_mask_shape
from ..validate.conforms import _resolve, _schema_file, _Unknown, _valid
from ..validate.schemas import DEFINITIONS, KINDS
from .common import Errors, NodePath, base_dir_of, code_at, resolve_path
from .context import BuildContext, BuildOptions
from .units import unit_at

if TYPE_CHECKING:
    from ..errors import ErrorAt
    from ..write.output import BuiltObject

_CODE = (DEFINITIONS, "/$defs/code")


def quick_check(doc: SpecDocument, kind: str, ctx: BuildContext) -> list[BuiltObject]:
    """Raise every error the fast check finds in ``doc`` (already valid against its schema); no objects."""
    errors = Errors()
    for path in code_paths(KINDS[kind], doc.data):
        errors.run(unit_at if path[-1] == "unit" else code_at, doc, ctx, path)
    if kind == "Segmentation":
        found = errors.run(_source_files, doc)
        if found is not None:  # a build reads masks only once the sources are known
            files: set[Path] = set()  # a file named twice is reported once, as a build does
            for path in _mask_paths(doc):
                if resolve_path(doc, path) not in files:
                    files.add(resolve_path(doc, path))
                    errors.run(_mask_file, doc, path)
    errors.raise_if_any()
    return []


def with_code_errors(doc: SpecDocument, kind: str, error: DcmspecError) -> DcmspecError:
    """``error``, raised by a build of ``doc``, with the errors of the spec's codes and units it does not
    report (``error`` itself when there are none). A code or unit depends on nothing a build reads: a build
    that stopped before them (missing source images, say) still reports them, as the fast check does, so
    that every independent error is reported in one pass. Warnings of codes are the build's (not repeated:
    the check runs in a context of its own)."""
    found = flatten(error)
    reported = {_place(e) for e in found}
    errors = Errors()
    own = BuildContext(BuildOptions())
    for path in code_paths(KINDS[kind], doc.data):
        if path[-1] == "unit":
            errors.run(unit_at, doc, own, path)
        else:
            errors.run(resolve_code, doc.get(path), location=doc.loc(path), path=path)
    more = [e for e in errors.errors if _place(e) not in reported]
    return ErrorList([*found, *more]) if more else error


def _place(error: DcmspecError) -> tuple[Any, ...]:
    loc = error.location
    return (loc.file, loc.line, loc.column) if loc is not None else tuple(error.path)


def code_paths(schema_file: str, data: Any) -> list[NodePath]:
    """The paths of the values of ``data`` that its schema declares codes, in document order. Branches
    of ``anyOf``/``oneOf``/``if`` are followed where they accept the value."""
    out: dict[NodePath, None] = {}
    # a schema construct the walk does not follow: its codes are left to the complete check
    with suppress(_Unknown, KeyError, IndexError, TypeError, ValueError, RecursionError):
        _walk(_schema_file(schema_file), data, schema_file, (), out)
    return list(out)


def _walk(schema: Any, value: Any, base: str, path: NodePath, out: dict[NodePath, None]) -> None:
    if not isinstance(schema, dict) or not _may_hold_codes(schema, base):
        return  # e.g. 100,000 annotations' points: not walked
    if "$ref" in schema:
        target, file = _resolve(schema["$ref"], base)
        if (file, schema["$ref"].partition("#")[2]) == _CODE:
            out[path] = None
        else:
            _walk(target, value, file, path, out)
    if isinstance(value, dict):
        known = schema.get("properties", {})
        for name, sub in known.items():
            if name in value:
                _walk(sub, value[name], base, path + (name,), out)
        more = schema.get("additionalProperties")
        if isinstance(more, dict):
            for name in value:
                if name not in known:
                    _walk(more, value[name], base, path + (name,), out)
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            _walk(schema["items"], item, base, path + (i,), out)
    for sub in schema.get("allOf", ()):
        _walk(sub, value, base, path, out)
    for key in ("anyOf", "oneOf"):
        for sub in schema.get(key, ()):
            if _valid(sub, value, base):
                _walk(sub, value, base, path, out)
    if "if" in schema:
        branch = schema.get("then" if _valid(schema["if"], value, base) else "else")
        _walk(branch, value, base, path, out)


_HOLDS_CODES: dict[tuple[int, str], bool] = {}
_NOT_SCHEMAS = frozenset(("$defs", "definitions", "enum", "const", "default", "examples"))


def _may_hold_codes(schema: Any, base: str) -> bool:
    """Whether a value ``schema`` describes may hold a code (a ``$ref`` to the code definition somewhere
    below it); True also where a ``$ref`` cycle leaves it open."""
    key = (id(schema), base)
    if key not in _HOLDS_CODES:
        _HOLDS_CODES[key] = True  # a cycle back here: assumed to hold codes
        found = False
        if "$ref" in schema:
            target, file = _resolve(schema["$ref"], base)
            found = (file, schema["$ref"].partition("#")[2]) == _CODE or (
                isinstance(target, dict) and _may_hold_codes(target, file)
            )
        for name, sub in schema.items():
            if found:
                break
            if name in _NOT_SCHEMAS:
                continue
            subs = (
                sub.values() if name in ("properties", "patternProperties") else sub if isinstance(sub, list) else [sub]
            )
            found = any(isinstance(s, dict) and _may_hold_codes(s, base) for s in subs)
        _HOLDS_CODES[key] = found
    return _HOLDS_CODES[key]


def _source_files(doc: SpecDocument) -> list[Path] | None:
    """The files ``sources.images`` names (as a build finds them); None for a DICOMweb origin."""
    from ..resolve.source_files import find_source_files

    path: NodePath = ("sources", "images")
    images = doc.get(path)
    if isinstance(images, dict):
        return None  # DICOMweb: asked for by the complete check only
    return find_source_files(images, base_dir_of(doc, path), location=doc.loc(path), spec_path=path)


def _mask_paths(doc: SpecDocument) -> list[NodePath]:
    """Where the spec names mask files, when a build would read them (one way of giving masks, segments
    numbered 1..N)."""
    seg_spec, segments = doc.data["segmentation"], doc.data["segments"]
    own: list[NodePath] = [("segments", i, "mask") for i, s in enumerate(segments) if "mask" in s]
    if any(s.get("number", i + 1) != i + 1 for i, s in enumerate(segments)):
        return []
    if "mask" in seg_spec:
        return [] if own else [("segmentation", "mask")]
    return own if len(own) == len(segments) else []


def _mask_file(doc: SpecDocument, path: NodePath) -> None:
    """The mask file exists; a ``.npy`` one has a readable header, 2 to 4 axes and booleans, integers or
    floats (``resolve/masks.py`` checks the same when it loads the file)."""
    from ..io.npy import MAGIC, read_npy_header

    file = resolve_path(doc, path)
    where: ErrorAt = {"location": doc.loc(path), "path": path}
    check_input_file(file, "mask", **where)
    if file.name.lower().endswith(".npy"):
        check_magic(file, MAGIC, "a .npy array", "numpy.save(path, array)", **where)
        try:
            header = read_npy_header(file)
        except (ValueError, OSError) as exc:
            raise InputError(f"cannot read {file} as a .npy array: {exc}", **where) from exc
        check_mask_shape(header.shape, file, **where)
        check_mask_kind(header.kind, header.descr, file, **where)
