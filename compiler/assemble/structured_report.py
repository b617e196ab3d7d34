"""Build a StructuredReport spec: a content tree written item by item -> the named SR document class.

Every item is made by the builder layer (``dcmspec_compiler.iods.sr.value_types``), which checks what its value
type requires; the document class then checks its relationship table (PS3.3 A.35.x). Both kinds of
error are located at the item of the spec that caused them (``content.children[1].children[0]``).
"""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any

from ..errors import DicomConformanceError, SpecError
from ..iods.common.vr import InvalidValue
from ..load.document import SpecDocument
from ..write.output import BuiltObject
from .common import Errors, NodePath, built_object, code_at, conformance_at, subject_header
from .context import BuildContext
from .sr_common import (
    ImageResolver,
    document_arguments,
    document_class,
    measurement_value,
    read_header,
    required_code_at,
    sources_and_images,
    tree_path,
)

if TYPE_CHECKING:  # the builder layer imports pydicom: loaded when a builder needs it
    from pydicom.dataset import Dataset

    from ..iods.sr import ContentItem, Reference

ROOT: NodePath = ("content",)


def build(doc: SpecDocument, ctx: BuildContext) -> list[BuiltObject]:
    errors = Errors()  # the sources, and the content tree whatever became of them
    series, images = sources_and_images(doc, ctx, errors)
    if not images.sources_failed and (series is None) == (doc.get(("subject",)) is None):
        where: NodePath = ("subject",) if series is not None else ()
        raise SpecError(
            "give either `sources` (patient and study come from the images) or `subject`",
            location=doc.loc(where),
            path=where,
            hint="`subject: {patient: {id: ...}, study: {...}}` describes a report without images",
        )
    used: list[Reference] = []
    root = errors.run(_item, doc, ctx, images, ROOT, used, is_root=True)
    errors.raise_if_any()
    assert root is not None  # it did not fail
    header = series.header if series is not None else subject_header(doc, ctx)
    cls = document_class(doc.data["document_class"])
    assert cls is not None  # the schema requires document_class
    arguments = document_arguments(doc, ctx, header, used, default_label="REPORT", default_series_number=1000)
    try:
        sr = cls(root, **arguments)
    except DicomConformanceError as exc:
        if isinstance(exc, InvalidValue):  # a value its VR forbids: located at the spec value
            with conformance_at(doc, ROOT):
                raise
        path = tree_path(str(exc), ROOT)
        if path is None:
            path = ("document",) if "verif" in str(exc).lower() or "flag" in str(exc).lower() else ROOT
        hint = None
        if path[:1] == ROOT:
            hint = _class_hint(root, str(doc.data["document_class"]))
        raise SpecError(str(exc), location=doc.loc(path), path=path, hint=hint) from None
    return [built_object(doc, sr, "StructuredReport", {"document_class": type(sr).__name__})]


def _class_hint(root: ContentItem, chosen: str) -> str:
    """Which document classes would accept the tree, to say what to change (PS3.3 A.35 tables)."""
    from ..iods.sr.relationships import RULES, tree_violations

    names = {
        "Basic Text SR": "BasicText",
        "Enhanced SR": "Enhanced",
        "Comprehensive SR": "Comprehensive",
        "Comprehensive 3D SR": "Comprehensive3D",
    }
    accepting = [
        short for iod, short in names.items() if iod in RULES and next(tree_violations(RULES[iod], root), None) is None
    ]
    if accepting:
        return f"document_class {chosen} does not allow this; {', '.join(accepting)} would"
    return (
        "no SR document class allows this: change the relationship type or the value type (PS3.3 A.35"
        " relationship content constraints)"
    )


def _reference(doc: SpecDocument, ctx: BuildContext, images: ImageResolver, path: NodePath) -> Reference:
    from ..iods.sr import Reference

    spec = doc.get(path)
    if not isinstance(spec, dict):
        return images.image(path).reference
    frames = spec.get("frames") or ()
    segments = spec.get("segments") or ()
    if "image" in spec:
        ref = images.image(path + ("image",)).reference
        if frames or segments:
            with conformance_at(doc, path):
                ref = Reference.from_dataset(_header_of(images, ref), frame_numbers=frames, segment_numbers=segments)
        return ref
    if "file" in spec:
        header = read_header(doc, ctx, path + ("file",))
    else:
        objects = ctx.referenced_objects(doc, path)
        header = objects[0].dataset
    with conformance_at(doc, path):
        return Reference.from_dataset(header, frame_numbers=frames, segment_numbers=segments)


def _header_of(images: ImageResolver, ref: Reference) -> Dataset:
    assert images.series is not None  # ``ref`` was resolved among its images
    return next(i.header for i in images.series.instances if i.sop_instance_uid == ref.sop_instance_uid)


def _time(value: str) -> str:
    return value.replace(":", "")


def _datetime(value: str) -> Any:
    try:
        return _dt.datetime.fromisoformat(value.replace(" ", "T")) if "-" in value else value
    except ValueError:
        return value


def _item(
    doc: SpecDocument,
    ctx: BuildContext,
    images: ImageResolver,
    path: NodePath,
    used: list[Reference],
    is_root: bool = False,
) -> ContentItem:
    from ..iods import sr

    spec = doc.get(path)
    vt = spec["type"]
    errors = Errors()  # this item and every child are checked, not only up to the first error
    if is_root:
        if vt != "CONTAINER" or "relationship" in spec or "name" not in spec:
            errors.add(
                SpecError(
                    "the root content item is a CONTAINER with a name (the document title) and no relationship",
                    location=doc.loc(path),
                    path=path,
                    hint='e.g. content: {type: CONTAINER, name: DCM:126000 "Imaging Measurement'
                    ' Report", children: [...]}',
                )
            )
        rel = None
    else:
        rel = spec.get("relationship")
        if rel is None:
            errors.add(
                SpecError(
                    f"this {vt} item needs a relationship to its parent",
                    location=doc.loc(path),
                    path=path,
                    hint="add `relationship:` (CONTAINS, HAS PROPERTIES, HAS OBS CONTEXT,"
                    " HAS ACQ CONTEXT, INFERRED FROM, SELECTED FROM, HAS CONCEPT MOD)",
                )
            )
    items = [
        errors.run(_item, doc, ctx, images, path + ("children", i), used)
        for i in range(len(spec.get("children") or []))
    ]
    name = errors.run(code_at, doc, ctx, path + ("name",))
    errors.raise_if_any()
    children = [item for item in items if item is not None]  # all of them: none failed
    value = spec.get("value")
    with conformance_at(doc, path):
        if vt == "CONTAINER":
            return sr.ContainerItem(
                name,
                rel,
                continuity=spec.get("continuity", "SEPARATE"),
                template_id=spec.get("template"),
                children=children,
            )
        if vt in ("COMPOSITE", "IMAGE", "WAVEFORM"):
            ref = _reference(doc, ctx, images, path + ("reference",))
            used.append(ref)
            classes: dict[str, type[sr.CompositeItem | sr.ImageItem | sr.WaveformItem]]
            classes = {"COMPOSITE": sr.CompositeItem, "IMAGE": sr.ImageItem, "WAVEFORM": sr.WaveformItem}
            return classes[vt](name, ref, rel, children=children)
        if name is None:
            raise SpecError(
                f"a {vt} content item needs a concept name",
                location=doc.loc(path),
                path=path,
                hint="add `name:` with a code",
            )
        if vt == "CODE":
            return sr.CodeItem(name, required_code_at(doc, ctx, path + ("value",)), rel, children=children)
        if vt == "NUM":
            number, unit, qualifier = measurement_value(doc, ctx, path)
            return sr.NumItem(name, number, unit, rel, qualifier=qualifier, children=children)
        if vt == "TEXT":
            return sr.TextItem(name, str(value), rel, children=children)
        if vt == "PNAME":
            return sr.PNameItem(name, str(value), rel, children=children)
        if vt == "UIDREF":
            return sr.UIDRefItem(name, str(value), rel, children=children)
        if vt == "DATE":
            return sr.DateItem(name, str(value).replace("-", ""), rel, children=children)
        if vt == "TIME":
            return sr.TimeItem(name, _time(str(value)), rel, children=children)
        if vt == "DATETIME":
            return sr.DateTimeItem(name, _datetime(str(value)), rel, children=children)
        if vt == "SCOORD":
            resolved = images.image(path + ("image",), spec.get("frame"), path + ("frame",))
            used.append(resolved.reference)
            return sr.ScoordItem(name, spec["graphic_type"], spec["points"], resolved.reference, rel, children=children)
        if vt == "SCOORD3D":
            uid = spec.get("frame_of_reference_uid")
            if uid is None and "image" in spec:
                uid = images.image(path + ("image",), spec.get("frame"), path + ("frame",)).header.get(
                    "FrameOfReferenceUID"
                )
            if uid is None:
                uid = images.frame_of_reference(path)
            return sr.Scoord3DItem(name, spec["graphic_type"], spec["points"], str(uid), rel, children=children)
        if vt == "TCOORD":
            return sr.TcoordItem(
                name,
                spec["temporal_range_type"],
                sample_positions=spec.get("sample_positions"),
                time_offsets=spec.get("time_offsets"),
                datetimes=[_datetime(v) for v in spec["datetimes"]] if "datetimes" in spec else None,
                relationship_type=rel,
                children=children,
            )
    raise SpecError(f"value type {vt} is not supported", location=doc.loc(path + ("type",)), path=path + ("type",))
