"""Build a PresentationState spec -> a Grayscale Softcopy Presentation State (PS3.3 A.33.1).

The spec names the source images it applies to (default: all), a window (centre/width or a named preset;
default: the images' own), rotation, flip, displayed area, display shutter, graphic layers and
annotations. Annotations are graphics and texts in image pixel coordinates (column, row), or outlines
derived from segments of a Segmentation built in the same build (``from_segmentation``): one closed
POLYLINE per outline along the pixel edges, on every source image a segment touches, one layer per
segment in the segment's colour.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from ..errors import DcmspecError, ErrorList, SpecError
from ..load.document import SpecDocument
from ..write.output import BuiltObject
from ..write.targets import output_filename
from .common import NodePath, conformance_at, content_identification, equipment, object_identity, spec_id
from .context import BuildContext
from .sr_common import ImageResolver, read_header, series_from

#: Default layer order of segment outlines: after the spec's own layers.
_OUTLINE_ORDER_START = 100


def build(doc: SpecDocument, ctx: BuildContext) -> list[BuiltObject]:
    from ..iods.pr import (DisplayedArea, DisplayShutter, GraphicAnnotation, GraphicLayer,
                           GrayscaleSoftcopyPresentationState, ReferencedImage, SoftcopyVOI, WINDOW_PRESETS)

    kind = doc.get(("type",)) or "grayscale"
    if kind != "grayscale":
        raise SpecError(f"presentation state type {kind!r} is not available yet: only grayscale (GSPS) is",
                        location=doc.loc(("type",)), path=("type",),
                        hint="use type: grayscale; color, pseudocolor and blending are planned")
    series = series_from(doc, ctx)
    images = ImageResolver(doc, ctx, series)
    errors: list[DcmspecError] = []

    def attempt(fn, *args):
        try:
            return fn(*args)
        except DcmspecError as exc:
            errors.append(exc)
            return None

    # --- the images it applies to ------------------------------------------------------------
    chosen = doc.get(("images",))
    if chosen is None:
        headers = [i.header for i in series.instances]
    else:
        headers = []
        for i in range(len(chosen)):
            resolved = attempt(images.image, ("images", i))
            if resolved is not None and all(h.SOPInstanceUID != resolved.header.SOPInstanceUID for h in headers):
                headers.append(resolved.header)
    uid_at = {}  # spec path of an image reference -> SOP Instance UID

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
                raise SpecError(f"image {doc.get(p)!r} is not one of the images this presentation state applies"
                                " to", location=doc.loc(p), path=p,
                                hint="add it to `images:` (or leave `images:` out to apply to all)")
            uid_at[p] = uid
            out.append(uid)
        return out

    # --- window, presentation LUT, spatial transformation, displayed area, shutter -----------------
    voi = None
    window = doc.get(("window",))
    if isinstance(window, str):
        center, width = WINDOW_PRESETS[window]
        voi = [SoftcopyVOI(center, width, explanation=window.upper())]
    elif isinstance(window, dict):
        voi = [SoftcopyVOI(window["center"], window["width"], window.get("explanation"), window.get("function"))]
    rotation = int(doc.get(("rotation",)) or 0)
    flip = bool(doc.get(("flip",)) or False)
    areas = None
    area = doc.get(("displayed_area",))
    if area is not None:
        spacing = area.get("pixel_spacing")
        if spacing is None and area.get("size", "SCALE TO FIT") == "TRUE SIZE" and headers:
            spacing = headers[0].get("PixelSpacing")
        areas = [DisplayedArea(tuple(area["top_left"]), tuple(area["bottom_right"]), area.get("size", "SCALE TO FIT"),
                               tuple(float(v) for v in spacing) if spacing else None,
                               magnification=area.get("magnification"))]
    shutter = None
    spec_shutter = doc.get(("shutter",))
    if spec_shutter:
        rect = spec_shutter.get("rectangle")
        circle = spec_shutter.get("circle")
        shutter = DisplayShutter(
            rectangle=(rect["left"], rect["right"], rect["top"], rect["bottom"]) if rect else None,
            circle=((circle["center"][0], circle["center"][1]), circle["radius"]) if circle else None,
            polygon=[tuple(p) for p in spec_shutter["polygon"]] if spec_shutter.get("polygon") else None,
            presentation_value=spec_shutter.get("value", 0))

    # --- layers and annotations ----------------------------------------------------------------
    layers = [GraphicLayer(l["name"], l.get("order", i + 1), l.get("description"), l.get("grey"),
                           tuple(l["color"]) if l.get("color") else None)
              for i, l in enumerate(doc.get(("layers",)) or [])]
    annotations: list[Any] = []
    unchecked: list[Any] = []  # annotations whose images could not be resolved
    for i, spec in enumerate(doc.get(("annotations",)) or []):
        path: NodePath = ("annotations", i)
        if "from_segmentation" in spec:
            result = attempt(_outlines, doc, ctx, path + ("from_segmentation",), headers,
                             _OUTLINE_ORDER_START + len(layers))
            if result is not None:
                layers.extend(result[0])
                annotations.extend((a, None) for a in result[1])  # derived: checked when built
            continue
        uids = attempt(image_uids, path + ("images",)) if "images" in spec else \
            attempt(image_uids, path + ("image",)) if "image" in spec else []
        annotation = _annotation(doc, path, uids or [])
        if uids is None:  # the image reference is reported; still check the rest against every image
            unchecked.append((annotation, path))
            continue
        annotations.append((annotation, path))
    if not headers:
        errors.append(SpecError("the presentation state applies to no image", location=doc.loc(("images",)),
                                path=("images",)))
        raise errors[0] if len(errors) == 1 else ErrorList(errors)
    # check each annotation alone, each graphic and text at its own line
    refs = [ReferencedImage(h) for h in headers]
    names = [layer.name for layer in layers]
    by_uid = {r.sop_instance_uid: r for r in refs}
    for annotation, path in annotations + unchecked:
        if path is not None:
            errors.extend(_annotation_errors(doc, path, annotation, refs, names, by_uid))
    probe_kwargs = _identity_free(headers)
    for key, kwargs in ((("window",), {"voi": voi}), (("displayed_area",), {"displayed_areas": areas,
                                                                             "rotation": rotation,
                                                                             "horizontal_flip": flip}),
                        (("shutter",), {"shutter": shutter}), (("layers",), {"layers": layers})):
        if doc.get(key) is None and not (key == ("layers",) and layers):
            continue
        try:
            with conformance_at(doc, key):
                GrayscaleSoftcopyPresentationState(headers, **kwargs, **probe_kwargs)
        except SpecError as exc:
            errors.append(exc)
    if errors:
        raise errors[0] if len(errors) == 1 else ErrorList(errors)

    header = headers[0]
    ident = object_identity(doc, ctx, header=header,
                            inputs=[str(h.SOPInstanceUID) for h in headers] + [str(header.StudyInstanceUID)]
                            + [str(o) for o in _outline_inputs(doc, ctx)],
                            default_label="PRESENTATION", default_series_number=1200)
    with conformance_at(doc, ()):
        pr = GrayscaleSoftcopyPresentationState(
            refs, series_instance_uid=ident.series_instance_uid,
            series_number=ident.series_number, series_description=ident.series_description,
            sop_instance_uid=ident.sop_instance_uid, content=ident.content,
            presentation_datetime=ident.content_datetime, equipment=equipment(doc), voi=voi,
            presentation_lut_shape="INVERSE" if doc.get(("invert",)) else "IDENTITY", layers=layers,
            annotations=[a for a, _ in annotations], displayed_areas=areas, rotation=rotation,
            horizontal_flip=flip, shutter=shutter)
    name = output_filename(doc)
    return [BuiltObject(dataset=pr, filename=name, kind="PresentationState", spec=doc.path, spec_id=spec_id(doc),
                        summary={"type": kind, "images": len(headers), "annotations": len(annotations)})]


def _identity_free(headers: list) -> dict[str, Any]:
    """Arguments that make a throw-away presentation state, to check one part of a spec on its own."""
    import datetime as _dt

    from ..iods.common.modules import ContentIdentification, Equipment

    return dict(series_instance_uid="2.25.1", series_number=1, sop_instance_uid="2.25.2",
                content=ContentIdentification(), presentation_datetime=_dt.datetime(2000, 1, 1),
                equipment=Equipment("x", "x", "x", "x"))


def _annotation_errors(doc: SpecDocument, path: NodePath, annotation, refs: list, names: list[str],
                       by_uid: dict) -> list[DcmspecError]:
    """What is wrong with the annotation at ``path``: its layer, and each graphic and text at its own
    line (PS3.3 C.10.5); the images it names are checked where they are resolved."""
    from ..iods.pr.presentation_state import common_size

    out: list[DcmspecError] = []
    if annotation.layer not in names:
        out.append(SpecError(f"layer {annotation.layer!r} is not one of the graphic layers"
                             f" ({', '.join(names) or 'none defined'}; PS3.3 C.10.5.1)",
                             location=doc.loc(path + ("layer",)), path=path + ("layer",),
                             hint="define it under `layers:` (name, order, colour) or use one that is"))
    targets = [by_uid[u] for u in annotation.images if u in by_uid] or refs
    bounds = common_size(targets)
    size_hint = (f"the image is {bounds[0]} columns x {bounds[1]} rows; points are (column, row), 0,0 the top"
                 " left corner of the top left pixel" if bounds else None)
    for key, objects in (("graphics", annotation.graphics), ("texts", annotation.texts)):
        for j, obj in enumerate(objects):
            where = path + (key, j)
            try:
                with conformance_at(doc, where, hint=size_hint):
                    obj.item(bounds)
            except SpecError as exc:
                out.append(exc)
    if not annotation.graphics and not annotation.texts:
        out.append(SpecError("this annotation draws nothing", location=doc.loc(path), path=path,
                             hint="add `graphics:` or `texts:`"))
    return out


def _annotation(doc: SpecDocument, path: NodePath, uids: list[str]):
    from ..iods.pr import GraphicAnnotation, GraphicObject, TextObject

    spec = doc.get(path)
    graphics = [GraphicObject(g["type"], g["points"], g.get("units", "PIXEL"), bool(g.get("filled", False)))
                for g in spec.get("graphics") or []]
    texts = []
    for t in spec.get("texts") or []:
        box = t.get("box")
        texts.append(TextObject(t["text"], (tuple(box[0]), tuple(box[1])) if box else None,
                                tuple(t["anchor"]) if t.get("anchor") else None, t.get("units", "PIXEL"),
                                t.get("justification", "LEFT"), bool(t.get("anchor_visible", True))))
    return GraphicAnnotation(spec["layer"], graphics, texts, uids)


def _layer_name(label: str, number: int, taken: set[str]) -> str:
    """A Graphic Layer name (CS, 16 characters) for a segment: its label in capitals, else SEGMENT n."""
    name = re.sub(r"[^A-Z0-9 _]", "_", label.upper()).strip()[:16].strip() or f"SEGMENT {number}"
    if name in taken:
        suffix = f" {number}"
        name = name[:16 - len(suffix)].rstrip() + suffix
    taken.add(name)
    return name


def _outline_inputs(doc: SpecDocument, ctx: BuildContext) -> list[str]:
    """SOP Instance UIDs of the Segmentations outlined (they make part of the content digest)."""
    out = []
    for i, spec in enumerate(doc.get(("annotations",)) or []):
        if "from_segmentation" in spec:
            path: NodePath = ("annotations", i, "from_segmentation")
            if "spec" in spec["from_segmentation"]:
                out.extend(str(o.dataset.SOPInstanceUID) for o in ctx.referenced_objects(doc, path))
            else:
                out.append(str(read_header(doc, ctx, path + ("file",)).SOPInstanceUID))
    return out


def _outlines(doc: SpecDocument, ctx: BuildContext, path: NodePath, headers: list, first_order: int):
    """(layers, annotations) drawing the outlines of the chosen segments on the images they touch."""
    from ..iods.pr import GraphicAnnotation, GraphicLayer, GraphicObject
    from ..iods.seg import Segmentation, segread
    from ..spatial.contours import frame_outlines

    spec = doc.get(path)
    if "spec" in spec:
        objects = [o.dataset for o in ctx.referenced_objects(doc, path)]
        segs = [o for o in objects if str(o.SOPClassUID) in ("1.2.840.10008.5.1.4.1.1.66.4",
                                                                 "1.2.840.10008.5.1.4.1.1.66.7")]
        if len(segs) != 1:
            raise SpecError(f"spec {spec['spec']!r} wrote {len(segs)} Segmentation(s); outlines need exactly one",
                            location=doc.loc(path + ("spec",)), path=path + ("spec",))
        seg = segs[0] if isinstance(segs[0], Segmentation) else Segmentation.from_dataset(segs[0])
    else:
        from ..assemble.common import resolve_path

        file = resolve_path(doc, path + ("file",))
        if not file.is_file():
            raise SpecError(f"Segmentation file not found: {file}", location=doc.loc(path + ("file",)),
                            path=path + ("file",))
        seg = segread(file)
    numbers = list(seg.segment_numbers)
    wanted = spec.get("segments")
    if wanted is not None:
        chosen = []
        for j, w in enumerate(wanted):
            where = path + ("segments", j)
            if isinstance(w, int):
                if w not in numbers:
                    raise SpecError(f"the Segmentation has no segment {w} (it has {numbers})", location=doc.loc(where),
                                    path=where)
                chosen.append(w)
            else:
                found = [s.segment_number for s in seg.find_segments(label=str(w))]
                if not found:
                    labels = [seg.get_segment(n).segment_label for n in numbers]
                    raise SpecError(f"the Segmentation has no segment labelled {w!r} (labels: {labels})",
                                    location=doc.loc(where), path=where)
                chosen.extend(found)
        numbers = chosen
    by_uid = {str(h.SOPInstanceUID): h for h in headers}
    keys = seg.source_frames
    usable = [k for k, frame in enumerate(keys) if frame.sop_instance_uid in by_uid]
    if not usable:
        raise SpecError("none of the Segmentation's source images is an image of this presentation state",
                        location=doc.loc(path), path=path, hint="outline a Segmentation of the same series")
    layers, annotations = [], []
    taken: set[str] = set()
    for j, number in enumerate(numbers):
        desc = seg.get_segment(number)
        name = _layer_name(desc.segment_label, number, taken)
        color = desc.display_color
        layers.append(GraphicLayer(name, first_order + j, f"Segment {number}: {desc.segment_label}"[:64],
                                   65535, color))
        pixels = seg.get_pixels([number])[..., 0]  # one segment at a time: (frames, rows, cols)
        if len(usable) < len(keys):
            pixels = pixels[usable]
        if pixels.dtype != bool:  # FRACTIONAL: the outline of what is at least half in
            pixels = pixels >= 0.5
        outlines = frame_outlines(pixels)
        for k, polys in zip(usable, outlines):
            if polys:
                annotations.append(GraphicAnnotation(
                    name, [GraphicObject("POLYLINE", p) for p in polys], (), [keys[k].sop_instance_uid]))
    return layers, annotations
