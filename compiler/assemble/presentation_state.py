"""Build a PresentationState spec -> a Grayscale (PS3.3 A.33.1), Color (A.33.2) or Pseudo-Color (A.33.3)
Softcopy Presentation State, or an Advanced Blending Presentation State (A.33.9), by its ``type``.

The spec names the source images it applies to (default: all), a window (centre/width or a named preset;
default: the images' own), rotation, flip, displayed area, display shutter (or a bitmap one), a palette
(pseudocolor), graphic layers, graphic groups and annotations. A blending spec names further ``inputs``
(series, window, palette) blended over the sources as ``blending`` says. Annotations are graphics and texts in image
pixel coordinates (column, row), or outlines
derived from segments of a Segmentation built in the same build (``from_segmentation``): one closed
POLYLINE per outline along the pixel edges, on every source image a segment touches, one layer per
segment in the segment's colour.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, TypeVar, cast

import numpy as np

from ..errors import DcmspecError, ErrorList, SpecError
from ..load.document import SpecDocument
from ..write.output import BuiltObject
from .common import NodePath, built_object, conformance_at, object_identity
from .context import BuildContext
from .sr_common import ImageResolver, series_from

if TYPE_CHECKING:  # the builder layer imports pydicom: loaded when a builder needs it
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from pydicom.dataset import Dataset

    from ..iods.pr import (
        GraphicAnnotation,
        GraphicLayer,
        GraphicObject,
        PaletteColorLUT,
        ReferencedImage,
        SoftcopyPresentationState,
        SoftcopyVOI,
        TextObject,
    )
    from ..iods.seg import SegmentDescription
    from ..iods.sr.read import MeasurementGroupView

    #: the masks of the chosen segments, one segment at a time: (segment number, source image UIDs, masks
    #: (images, rows, columns), (row, column) offset of the masks in the images)
    Masks = Iterator[tuple[int, list[str], np.ndarray, tuple[int, int]]]
    #: (layers, annotations, SOP Instance UID of the object they are derived from)
    Derived = tuple[list[GraphicLayer], list[GraphicAnnotation], str]

T = TypeVar("T")

#: Default layer order of segment outlines: after the spec's own layers.
_OUTLINE_ORDER_START = 100


def _classes() -> dict[str, type[SoftcopyPresentationState]]:
    from ..iods.pr import (
        ColorSoftcopyPresentationState,
        GrayscaleSoftcopyPresentationState,
        PseudoColorSoftcopyPresentationState,
    )

    return {
        "grayscale": GrayscaleSoftcopyPresentationState,
        "color": ColorSoftcopyPresentationState,
        "pseudocolor": PseudoColorSoftcopyPresentationState,
    }


def _palette(doc: SpecDocument, path: NodePath) -> PaletteColorLUT:
    """The PaletteColorLUT written at ``path``: a well-known palette's name or custom colours."""
    from ..iods.pr import PaletteColorLUT

    spec = doc.get(path)
    with conformance_at(
        doc,
        path,
        hint="a well-known palette (hot-iron, pet, hot-metal-blue, pet-20-step, spring,"
        " summer, fall, winter) or {colors: [[r, g, b], ...]}",
    ):
        if isinstance(spec, str):
            return PaletteColorLUT.well_known(spec)
        return PaletteColorLUT(spec["colors"], int(spec.get("first_mapped", 0)))


def _window(doc: SpecDocument, path: NodePath) -> list[SoftcopyVOI] | None:
    """The Softcopy VOI items of the window at ``path``, or None (the images' own)."""
    from ..iods.pr import WINDOW_PRESETS, SoftcopyVOI

    window = doc.get(path)
    if isinstance(window, str):
        center, width = WINDOW_PRESETS[window]
        return [SoftcopyVOI(center, width, explanation=window.upper())]
    if isinstance(window, dict):
        return [SoftcopyVOI(window["center"], window["width"], window.get("explanation"), window.get("function"))]
    return None


def _check_part(
    doc: SpecDocument, path: NodePath, errors: list[DcmspecError], check: Callable[..., object], *args: Any
) -> None:
    """Run one part's own check (it refuses what the standard forbids) and locate its error at ``path``."""
    try:
        with conformance_at(doc, path):
            check(*args)
    except SpecError as exc:
        errors.append(exc)


def build(doc: SpecDocument, ctx: BuildContext) -> list[BuiltObject]:
    from pydicom.dataset import Dataset

    from ..iods.pr import DisplayedArea, DisplayShutter, GraphicGroup, GraphicLayer, ReferencedImage
    from ..iods.pr.presentation_state import common_size

    kind = doc.get(("type",)) or "grayscale"
    if kind == "blending":
        return _build_blending(doc, ctx)
    cls = _classes()[kind]
    series = series_from(doc, ctx)
    images = ImageResolver(doc, ctx, series)
    errors: list[DcmspecError] = []

    def attempt(fn: Callable[..., T], *args: Any) -> T | None:
        try:
            return fn(*args)
        except DcmspecError as exc:
            errors.append(exc)
            return None

    # --- the images it applies to ------------------------------------------------------------
    chosen = doc.get(("images",))
    headers: list[Dataset] = []
    if chosen is None:
        assert series is not None  # the schema requires `sources`
        headers = [i.header for i in series.instances]
    else:
        for i in range(len(chosen)):
            resolved = attempt(images.image, ("images", i))
            if resolved is not None and attempt(_named_once, doc, ("images", i), resolved.header, headers):
                headers.append(resolved.header)
    uid_at: dict[NodePath, str] = {}  # spec path of an image reference -> SOP Instance UID

    def image_uids(path: NodePath) -> list[str]:
        value = doc.get(path)
        if value is None:
            return []
        paths = [path + (i,) for i in range(len(value))] if isinstance(value, list) else [path]
        out = []
        for p in paths:
            resolved = images.image(p)
            uid = str(resolved.header.SOPInstanceUID)
            if all(str(h.SOPInstanceUID) != uid for h in headers):
                raise SpecError(
                    f"image {doc.get(p)!r} is not one of the images this presentation state applies to",
                    location=doc.loc(p),
                    path=p,
                    hint="add it to `images:` (or leave `images:` out to apply to all)",
                )
            uid_at[p] = uid
            out.append(uid)
        return out

    # --- window, presentation LUT, spatial transformation, displayed area, shutter -----------------
    voi = _window(doc, ("window",))
    if voi is not None and not cls.GRAYSCALE_PIPELINE:
        errors.append(
            SpecError(
                f"a {kind} presentation state has no window ({cls.SOP_CLASS_NAME})",
                location=doc.loc(("window",)),
                path=("window",),
                hint="use type: grayscale or pseudocolor",
            )
        )
        voi = None
    if doc.get(("invert",)) and not cls.PRESENTATION_LUT:
        errors.append(
            SpecError(
                f"a {kind} presentation state cannot invert the images (no Presentation LUT)",
                location=doc.loc(("invert",)),
                path=("invert",),
                hint="use type: grayscale",
            )
        )
    palette = None
    if doc.get(("palette",)) is not None:
        if not cls.PALETTE:
            errors.append(
                SpecError(
                    f"a {kind} presentation state has no palette",
                    location=doc.loc(("palette",)),
                    path=("palette",),
                    hint="use type: pseudocolor",
                )
            )
        else:
            palette = attempt(_palette, doc, ("palette",))
    elif cls.PALETTE:
        errors.append(
            SpecError(
                "a pseudocolor presentation state needs a `palette`",
                location=doc.loc(("type",)),
                path=("type",),
                hint="add `palette: hot-iron` (or another well-known palette)",
            )
        )
    rotation = int(doc.get(("rotation",)) or 0)
    flip = bool(doc.get(("flip",)) or False)
    areas = None
    area = doc.get(("displayed_area",))
    if area is not None:
        spacing = area.get("pixel_spacing")
        if spacing is None and area.get("size", "SCALE TO FIT") == "TRUE SIZE" and headers:
            spacing = headers[0].get("PixelSpacing")
        areas = [
            DisplayedArea(
                tuple(area["top_left"]),
                tuple(area["bottom_right"]),
                area.get("size", "SCALE TO FIT"),
                # two values from the spec (the schema says so) or the images' Pixel Spacing (checked by fill)
                cast("tuple[float, float]", tuple(float(v) for v in spacing)) if spacing else None,
                magnification=area.get("magnification"),
            )
        ]
    shutter = None
    spec_shutter = doc.get(("shutter",))
    if spec_shutter:
        rect = spec_shutter.get("rectangle")
        circle = spec_shutter.get("circle")
        bitmap = attempt(_bitmap, doc, ("shutter", "bitmap")) if spec_shutter.get("bitmap") else None
        shutter = DisplayShutter(
            rectangle=(rect["left"], rect["right"], rect["top"], rect["bottom"]) if rect else None,
            circle=((circle["center"][0], circle["center"][1]), circle["radius"]) if circle else None,
            polygon=[tuple(p) for p in spec_shutter["polygon"]] if spec_shutter.get("polygon") else None,
            presentation_value=spec_shutter.get("value", 0),
            bitmap=bitmap,
            color=_rgb(spec_shutter["color"]) if spec_shutter.get("color") else None,
        )
    groups = [GraphicGroup(g["id"], g["label"], g.get("description")) for g in doc.get(("groups",)) or []]

    # --- layers and annotations ----------------------------------------------------------------
    layers = [
        GraphicLayer(
            layer["name"],
            layer.get("order", i + 1),
            layer.get("description"),
            layer.get("grey"),
            tuple(layer["color"]) if layer.get("color") else None,
        )
        for i, layer in enumerate(doc.get(("layers",)) or [])
    ]
    annotations: list[Any] = []
    unchecked: list[Any] = []  # annotations whose images could not be resolved
    derived_inputs: list[str] = []  # SOP Instance UIDs of the objects outlines and regions come from
    for i, spec in enumerate(doc.get(("annotations",)) or []):
        path: NodePath = ("annotations", i)
        if "from_segmentation" in spec or "from_report" in spec:
            derive = _outlines if "from_segmentation" in spec else _report_regions
            key = "from_segmentation" if "from_segmentation" in spec else "from_report"
            result = attempt(
                derive,
                doc,
                ctx,
                path + (key,),
                headers,
                _OUTLINE_ORDER_START + len(layers),
                {layer.name for layer in layers},
            )
            if result is not None:
                layers.extend(result[0])
                annotations.extend((a, None) for a in result[1])  # derived: checked when built
                derived_inputs.append(result[2])
            continue
        uids = (
            attempt(image_uids, path + ("images",))
            if "images" in spec
            else attempt(image_uids, path + ("image",))
            if "image" in spec
            else []
        )
        annotation = _annotation(doc, path, uids or [])
        if uids is None:  # the image reference is reported; still check the rest against every image
            unchecked.append((annotation, path))
            continue
        annotations.append((annotation, path))
    if not headers:
        errors.append(
            SpecError("the presentation state applies to no image", location=doc.loc(("images",)), path=("images",))
        )
        raise errors[0] if len(errors) == 1 else ErrorList(errors)
    if cls.COLOR and not cls.PALETTE and any(int(h.get("SamplesPerPixel", 1)) != 3 for h in headers):
        errors.append(
            SpecError(
                "a color presentation state applies to colour images; these have one sample per pixel",
                location=doc.loc(("type",)),
                path=("type",),
                hint="use type: grayscale, or pseudocolor with a palette",
            )
        )
    # check each annotation alone, each graphic and text at its own line
    refs = [ReferencedImage(h) for h in headers]
    names = [layer.name for layer in layers]
    by_uid = {r.sop_instance_uid: r for r in refs}
    group_ids = [g["id"] for g in doc.get(("groups",)) or []]
    for annotation, path in annotations + unchecked:
        if path is not None:
            errors.extend(_annotation_errors(doc, path, annotation, refs, names, by_uid, group_ids))
    # each part's own check, located at its spec value
    for window in voi or []:
        _check_part(doc, ("window",), errors, window.fill, Dataset())
    if areas is not None:
        _check_part(doc, ("displayed_area",), errors, areas[0].fill, Dataset(), rotation, flip)
    if shutter is not None and (not spec_shutter.get("bitmap") or shutter.bitmap is not None):
        _check_part(doc, ("shutter",), errors, shutter.fill, Dataset(), common_size(refs), cls.COLOR)
    for j, layer in enumerate(layers[: len(doc.get(("layers",)) or [])]):
        _check_part(doc, ("layers", j), errors, layer.item)
    for j, group in enumerate(groups):
        _check_part(doc, ("groups", j), errors, group.item)
    for part, values in ((("layers",), names), (("groups",), group_ids)):
        if len(set(values)) != len(values):
            errors.append(
                SpecError(
                    f"{part[0]}: names/IDs must be unique, got {values}",
                    location=doc.loc(part),
                    path=part,
                    hint=f"give each of the {part[0]} its own name/ID",
                )
            )
    if errors:
        raise errors[0] if len(errors) == 1 else ErrorList(errors)

    header = headers[0]
    ident = object_identity(
        doc,
        ctx,
        header=header,
        inputs=[str(h.SOPInstanceUID) for h in headers] + [str(header.StudyInstanceUID)] + derived_inputs,
        files=_bitmap_files(doc),
        default_label="PRESENTATION",
        default_series_number=1200,
    )
    with conformance_at(doc, ()):
        pr = cls(
            refs,
            **ident.presentation_arguments(),
            voi=voi,
            presentation_lut_shape="INVERSE" if doc.get(("invert",)) else "IDENTITY",
            layers=layers,
            annotations=[a for a, _ in annotations],
            displayed_areas=areas,
            rotation=rotation,
            horizontal_flip=flip,
            shutter=shutter,
            groups=groups,
            palette=palette,
        )
    summary = {"type": kind, "images": len(headers), "annotations": len(annotations)}
    return [built_object(doc, pr, "PresentationState", summary)]


def _bitmap(doc: SpecDocument, path: NodePath) -> np.ndarray:
    """The bitmap shutter of the .npy file at ``path + (file,)``: True where the image is hidden."""
    from ..resolve.input_files import check_input_file
    from ..resolve.masks import read_npy
    from .common import resolve_path

    where = path + ("file",)
    file = resolve_path(doc, where)
    check_input_file(file, "bitmap shutter", location=doc.loc(where), path=where)
    array = read_npy(file, location=doc.loc(where), spec_path=where)
    if array.ndim != 2:
        raise SpecError(
            f"the bitmap shutter is rows x columns, got an array of shape {array.shape}",
            location=doc.loc(path + ("file",)),
            path=path + ("file",),
        )
    hidden: np.ndarray = array != 0
    return hidden


def _rgb(values: Any) -> tuple[int, int, int]:
    """An sRGB colour of the spec: three integers (the schema says so)."""
    red, green, blue = (int(v) for v in values)
    return red, green, blue


def _bitmap_files(doc: SpecDocument) -> list[Path]:
    from .common import resolve_path

    return [resolve_path(doc, ("shutter", "bitmap", "file"))] if doc.get(("shutter", "bitmap")) else []


def _annotation_errors(
    doc: SpecDocument,
    path: NodePath,
    annotation: GraphicAnnotation,
    refs: list[ReferencedImage],
    names: list[str],
    by_uid: dict[str, ReferencedImage],
    group_ids: list[int],
) -> list[DcmspecError]:
    """What is wrong with the annotation at ``path``: its layer, and each graphic and text at its own
    line (PS3.3 C.10.5); the images it names are checked where they are resolved."""
    from ..iods.pr.presentation_state import common_size

    out: list[DcmspecError] = []
    if annotation.layer not in names:
        out.append(
            SpecError(
                f"layer {annotation.layer!r} is not one of the graphic layers"
                f" ({', '.join(names) or 'none defined'}; PS3.3 C.10.5.1)",
                location=doc.loc(path + ("layer",)),
                path=path + ("layer",),
                hint="define it under `layers:` (name, order, colour) or use one that is",
            )
        )
    targets = [by_uid[u] for u in annotation.images if u in by_uid] or refs
    bounds = common_size(targets)
    size_hint = (
        f"the image is {bounds[0]} columns x {bounds[1]} rows; points are (column, row), 0,0 the top"
        " left corner of the top left pixel"
        if bounds
        else None
    )
    objects: list[tuple[NodePath, GraphicObject | TextObject]] = [
        (path + ("graphics", j), g) for j, g in enumerate(annotation.graphics)
    ]
    objects.extend((path + ("texts", j), t) for j, t in enumerate(annotation.texts))
    for where, obj in objects:
        try:
            with conformance_at(doc, where, hint=size_hint):
                obj.item(bounds)
        except SpecError as exc:
            out.append(exc)
        if obj.group_id is not None and obj.group_id not in group_ids:
            out.append(
                SpecError(
                    f"group {obj.group_id} is not one of the graphic groups ({group_ids or 'none'})",
                    location=doc.loc(where + ("group",)),
                    path=where + ("group",),
                    hint="define it under `groups:` (id, label)",
                )
            )
    if not annotation.graphics and not annotation.texts:
        out.append(
            SpecError(
                "this annotation draws nothing", location=doc.loc(path), path=path, hint="add `graphics:` or `texts:`"
            )
        )
    return out


def _annotation(doc: SpecDocument, path: NodePath, uids: list[str]) -> GraphicAnnotation:
    from ..iods.pr import GraphicAnnotation, GraphicObject, TextObject

    spec = doc.get(path)
    graphics = [
        GraphicObject(g["type"], g["points"], g.get("units", "PIXEL"), bool(g.get("filled", False)), g.get("group"))
        for g in spec.get("graphics") or []
    ]
    texts = []
    for t in spec.get("texts") or []:
        box = t.get("box")
        texts.append(
            TextObject(
                t["text"],
                (tuple(box[0]), tuple(box[1])) if box else None,
                tuple(t["anchor"]) if t.get("anchor") else None,
                t.get("units", "PIXEL"),
                t.get("justification", "LEFT"),
                bool(t.get("anchor_visible", True)),
                t.get("group"),
            )
        )
    return GraphicAnnotation(spec["layer"], graphics, texts, uids)


def _layer_name(label: str, number: int, taken: set[str]) -> str:
    """A Graphic Layer name (CS, 16 characters) for a segment: its label in capitals, else SEGMENT n; with
    the segment number (then a count) appended where that name is taken (by the spec's own layers too)."""
    name = re.sub(r"[^A-Z0-9 _]", "_", label.upper()).strip()[:16].strip() or f"SEGMENT {number}"
    if name in taken:
        suffix = f" {number}"
        name = name[: 16 - len(suffix)].rstrip() + suffix
    return _free_name(name, taken)


def _free_name(name: str, taken: set[str]) -> str:
    """``name``, or ``name`` with " 2", " 3", ... (within 16 characters) where it is taken; marked taken."""
    candidate, k = name, 2
    while candidate in taken:
        suffix = f" {k}"
        candidate, k = name[: 16 - len(suffix)].rstrip() + suffix, k + 1
    taken.add(candidate)
    return candidate


def _segmentation(
    doc: SpecDocument, ctx: BuildContext, path: NodePath
) -> tuple[dict[int, SegmentDescription], str, Callable[[list[int]], Masks]]:
    """(segment descriptions by number, SOP Instance UID, masks) of the Segmentation at ``path``: built in
    this build (``spec``) or a file, read once and lazily (``masks(numbers)`` yields, per segment, its
    source image UIDs, masks and their (row, column) offset in the images)."""
    from ..iods.seg import SegmentDescription
    from .linked import SEG_SOP_CLASSES, segmentation_at, segmentation_file

    if "spec" in doc.get(path):
        seg = segmentation_at(doc, ctx, path)
        keys = [f.sop_instance_uid for f in seg.source_frames]

        def masks(numbers: list[int]) -> Masks:
            for number in numbers:
                pixels = seg.get_pixels([number])[..., 0]  # one segment at a time: (frames, rows, cols)
                if pixels.dtype != bool:  # FRACTIONAL: the outline of what is at least half in
                    pixels = pixels >= 0.5
                yield number, keys, pixels, (0, 0)

        return {n: seg.get_segment(n) for n in seg.segment_numbers}, str(seg.SOPInstanceUID), masks
    from ..io.frames import FrameReader
    from ..iods.seg.frame_index import segment_masks

    where = path + ("file",)
    file = segmentation_file(doc, path)
    try:
        with FrameReader(file) as reader:
            header = reader.header
            if str(header.get("SOPClassUID", "")) not in SEG_SOP_CLASSES:
                raise SpecError(
                    f"{file} is not a Segmentation (SOP Class {header.get('SOPClassUID')})",
                    location=doc.loc(where),
                    path=where,
                )
            descriptions = {
                int(item.SegmentNumber): SegmentDescription.from_dataset(item) for item in header.SegmentSequence
            }
            uid = str(header.SOPInstanceUID)
    except DcmspecError as exc:
        if isinstance(exc, SpecError):
            raise
        raise SpecError(str(exc), location=doc.loc(where), path=where) from None
    return descriptions, uid, lambda numbers: segment_masks(file, numbers)


def _outlines(
    doc: SpecDocument, ctx: BuildContext, path: NodePath, headers: list[Dataset], first_order: int, taken: set[str]
) -> Derived:
    """(layers, annotations, SOP Instance UID of the SEG) drawing the outlines of the chosen segments on the
    images they touch, on layers named apart from those ``taken``; a SEG file is read once, one segment's
    frames at a time."""
    from ..iods.pr import GraphicAnnotation, GraphicLayer, GraphicObject
    from ..spatial.contours import frame_outlines
    from .linked import chosen_segments

    descriptions, seg_uid, masks = _segmentation(doc, ctx, path)
    numbers = chosen_segments(doc, path, descriptions)
    by_uid = {str(h.SOPInstanceUID): h for h in headers}
    layers: list[GraphicLayer] = []
    annotations: list[GraphicAnnotation] = []
    taken = set(taken)
    touched = False
    for j, (number, uids, pixels, (row0, col0)) in enumerate(masks(numbers)):
        desc = descriptions[number]
        name = _layer_name(desc.segment_label, number, taken)
        layers.append(
            GraphicLayer(
                name, first_order + j, f"Segment {number}: {desc.segment_label}"[:64], 65535, desc.display_color
            )
        )
        usable = [k for k, uid in enumerate(uids) if uid in by_uid]
        touched = touched or bool(usable) or not uids
        if len(usable) < len(uids):
            pixels = pixels[usable]
        offset = np.array([col0, row0], dtype=np.float64)  # outlines are (column, row) points
        for k, polys in zip(usable, frame_outlines(pixels)):
            if polys:
                annotations.append(
                    GraphicAnnotation(
                        name,
                        [GraphicObject("POLYLINE", p + offset if row0 or col0 else p) for p in polys],
                        (),
                        [uids[k]],
                    )
                )
    if not touched:
        raise SpecError(
            "none of the Segmentation's source images is an image of this presentation state",
            location=doc.loc(path),
            path=path,
            hint="outline a Segmentation of the same series",
        )
    return layers, annotations, seg_uid


#: SCOORD Graphic Type (C.18.6.1.1) -> presentation state Graphic Type (C.10.5.1.2); MULTIPOINT: one POINT each
_SCOORD_TYPES = {
    "POINT": "POINT",
    "MULTIPOINT": "POINT",
    "POLYLINE": "POLYLINE",
    "CIRCLE": "CIRCLE",
    "ELLIPSE": "ELLIPSE",
}


def _measurement_text(group: MeasurementGroupView) -> str:
    """The group's tracking ID and measurements ("name value unit"), as one text (ST, at most 1024)."""
    parts = []
    for m in group.measurements:
        if m.value is None or m.name is None:  # a NUM has a concept name (PS3.3 C.17.3.2.1); a file may lack it
            continue
        unit = "" if m.unit is None or m.unit.value == "1" else f" {m.unit.value}"
        parts.append(f"{m.name.meaning} {m.value:.4g}{unit}")
    head = group.tracking_id or "Region"
    return (f"{head}: " + "; ".join(parts) if parts else head)[:1024]


def _report_regions(
    doc: SpecDocument, ctx: BuildContext, path: NodePath, headers: list[Dataset], first_order: int, taken: set[str]
) -> Derived:
    """(layers, annotations, SOP Instance UID of the report): the planar regions (SCOORD) of a TID 1500
    report's measurement groups drawn on the images they are selected from, each with its tracking ID and
    measurement values as a text at its first point, on one layer (PS3.16 TID 1410, PS3.3 C.10.5)."""
    from ..iods.pr import GraphicAnnotation, GraphicLayer, GraphicObject, TextObject
    from ..iods.sr.read import measurement_groups

    spec = doc.get(path)
    built = ctx.referenced_objects(doc, path)
    kinds = sorted({str(o.kind) for o in built})
    if kinds and not set(kinds) <= {"MeasurementReport", "StructuredReport"}:
        raise SpecError(
            f"spec {spec['spec']!r} is a {' and '.join(kinds)} spec; `from_report` draws the regions of a"
            " MeasurementReport (TID 1500)",
            location=doc.loc(path + ("spec",)),
            path=path + ("spec",),
            hint="name a MeasurementReport spec"
            + (", or use `from_segmentation:` to outline a Segmentation's segments" if "Segmentation" in kinds else ""),
        )
    objects = [o.dataset for o in built]
    reports = [o for o in objects if str(o.get("Modality", "")) == "SR"]
    if len(reports) != 1:
        raise SpecError(
            f"spec {spec['spec']!r} wrote {len(reports)} structured report(s); regions need exactly one",
            location=doc.loc(path + ("spec",)),
            path=path + ("spec",),
        )
    report = reports[0]
    by_uid = {str(h.SOPInstanceUID) for h in headers}
    name = spec.get("layer")
    if name is None:
        name = _free_name("REPORT", set(taken))  # the default layer: REPORT, or REPORT 2 where that is taken
    elif name in taken:
        raise SpecError(
            f"layer {name!r} is already a graphic layer of this presentation state; the report's regions"
            " are drawn on a layer of their own",
            location=doc.loc(path + ("layer",)),
            path=path + ("layer",),
            hint=f"choose another `layer:` name (taken: {', '.join(sorted(taken))})",
        )
    drawn: dict[str, tuple[list[GraphicObject], list[TextObject]]] = {}
    skipped = 0
    for group in measurement_groups(report):
        for region in group.regions:
            if region.value_type != "SCOORD" or region.source_sop_instance_uid is None:
                continue  # 3-D regions and segments: not planar regions of an image
            uid = region.source_sop_instance_uid
            if uid not in by_uid:
                skipped += 1
                continue
            graphics, texts = drawn.setdefault(uid, ([], []))
            points = region.coordinates
            gtype = _SCOORD_TYPES.get(region.graphic_type)
            if gtype is None:
                continue
            if region.graphic_type == "MULTIPOINT":
                graphics.extend(GraphicObject("POINT", [p]) for p in points)
            else:
                graphics.append(GraphicObject(gtype, points))
            texts.append(TextObject(_measurement_text(group), anchor=(float(points[0][0]), float(points[0][1]))))
    if not drawn:
        raise SpecError(
            f"the report of spec {spec['spec']!r} has no planar region on an image of this presentation"
            " state" + (f" ({skipped} on other images)" if skipped else ""),
            location=doc.loc(path + ("spec",)),
            path=path + ("spec",),
            hint="apply the presentation state to the images the report's regions are drawn on",
        )
    layers = [
        GraphicLayer(name, first_order, "Regions of the report"[:64], 65535, _rgb(spec.get("color", (255, 255, 0))))
    ]
    annotations = [GraphicAnnotation(name, g, t, [uid]) for uid, (g, t) in drawn.items()]
    return layers, annotations, str(report.SOPInstanceUID)


def _input_headers(doc: SpecDocument, ctx: BuildContext, base: NodePath, errors: list[DcmspecError]) -> list[Dataset]:
    """The headers of the images of one blending input: its ``images`` of its ``sources`` (default: all)."""
    from .sr_common import cached_source_series

    try:
        series = cached_source_series(doc, ctx, base + ("sources",))
    except DcmspecError as exc:
        errors.append(exc)
        return []
    chosen = doc.get(base + ("images",))
    if chosen is None:
        return [i.header for i in series.instances]
    resolver = ImageResolver(doc, ctx, series)
    headers: list[Dataset] = []
    for j in range(len(chosen)):
        try:
            header = resolver.image(base + ("images", j)).header
            _named_once(doc, base + ("images", j), header, headers)
        except DcmspecError as exc:
            errors.append(exc)
            continue
        headers.append(header)
    return headers


def _named_once(doc: SpecDocument, path: NodePath, header: Dataset, headers: list[Dataset]) -> bool:
    """True, or a SpecError at ``path`` when its image is one of ``headers`` already (named twice)."""
    if any(h.SOPInstanceUID == header.SOPInstanceUID for h in headers):
        raise SpecError(
            f"image {doc.get(path)!r} is named twice (the same image as an earlier entry)",
            location=doc.loc(path),
            path=path,
            hint="name each image once",
        )
    return True


def _build_blending(doc: SpecDocument, ctx: BuildContext) -> list[BuiltObject]:
    """An Advanced Blending Presentation State: the sources (input 1) and each of ``inputs``."""
    from pydicom.dataset import Dataset

    from ..iods.pr import AdvancedBlendingPresentationState, BlendingInput

    errors: list[DcmspecError] = []
    for key in ("annotations", "layers", "groups", "shutter", "displayed_area", "rotation", "flip", "invert"):
        if doc.get((key,)) is not None:
            errors.append(
                SpecError(
                    f"`{key}` is not available in a blending presentation state here",
                    location=doc.loc((key,)),
                    path=(key,),
                    hint="draw on a grayscale or pseudocolor presentation state of the underlay",
                )
            )
    bases: list[NodePath] = [()] + [("inputs", i) for i in range(len(doc.get(("inputs",)) or []))]
    if len(bases) < 2:
        errors.append(
            SpecError(
                "a blending presentation state blends two or more inputs: add `inputs`",
                location=doc.loc(("type",)),
                path=("type",),
                hint="inputs: [{sources: {images: pet/}, palette: hot-iron}]",
            )
        )
    inputs, all_headers = [], []
    first_input: dict[str, int] = {}  # SOP Instance UID -> the input it is in: 0 `sources`, n `inputs[n - 1]`
    for number, base in enumerate(bases):
        headers = _input_headers(doc, ctx, base, errors)
        twice = [h for h in headers if str(h.SOPInstanceUID) in first_input]
        if twice:
            where = base + ("sources",)
            other = first_input[str(twice[0].SOPInstanceUID)]
            errors.append(
                SpecError(
                    f"{len(twice)} image(s) of this input (e.g. {twice[0].SOPInstanceUID}) are already in the"
                    f" {'input of `sources`' if not other else f'input {other} of `inputs`'}; an image is in one"
                    " blending input only (PS3.3 C.11.28)",
                    location=doc.loc(where),
                    path=where,
                    hint="blend a different series here, or choose other images with `images:`",
                )
            )
            headers = [h for h in headers if str(h.SOPInstanceUID) not in first_input]
        for h in headers:
            first_input.setdefault(str(h.SOPInstanceUID), number)
        palette = None
        if doc.get(base + ("palette",)) is not None:
            try:
                palette = _palette(doc, base + ("palette",))
            except DcmspecError as exc:
                errors.append(exc)
        voi = _window(doc, base + ("window",))
        for window in voi or []:
            _check_part(doc, base + ("window",), errors, window.fill, Dataset())
        if headers:
            inputs.append(BlendingInput(headers, voi, palette))
            all_headers.extend(headers)
    spec = doc.get(("blending",)) or {}
    mode, opacity = spec.get("mode", "FOREGROUND"), spec.get("opacity")
    if mode != "FOREGROUND" and opacity is not None:
        errors.append(
            SpecError(
                f"`opacity` is for FOREGROUND blending only; {mode} weighs all inputs alike"
                " (Relative Opacity is Type 1C, PS3.3 C.11.29)",
                location=doc.loc(("blending", "opacity")),
                path=("blending", "opacity"),
                hint="leave `opacity` out, or use mode: FOREGROUND",
            )
        )
    if errors:
        raise errors[0] if len(errors) == 1 else ErrorList(errors)
    header = all_headers[0]
    ident = object_identity(
        doc,
        ctx,
        header=header,
        inputs=[str(h.SOPInstanceUID) for h in all_headers] + [str(header.StudyInstanceUID)],
        default_label="BLENDING",
        default_series_number=1200,
    )
    with conformance_at(doc, ()):
        pr = AdvancedBlendingPresentationState(
            inputs,
            mode=mode,
            opacity=opacity,
            **ident.presentation_arguments(),
        )
    summary = {"type": "blending", "images": len(all_headers), "inputs": len(inputs)}
    return [built_object(doc, pr, "PresentationState", summary)]
