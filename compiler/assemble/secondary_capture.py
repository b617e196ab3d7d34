"""Build a SecondaryCapture spec -> Secondary Capture images (PS3.3 A.8).

Two ways to get the picture: ``pixels`` (a .npy array or a PNG: one SC image, or one multi-frame SC image
from a stack of frames) or ``render`` (source images windowed, with the outlines of a Segmentation's
segments or a presentation state's graphics burnt in: one RGB SC image per source image, named
``<id>-NNN.dcm`` by the image's 1-based position). The patient and study are copied from the first source
image, or come from ``subject``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np

from ..errors import DicomConformanceError, InputError, SpecError
from ..load.document import SpecDocument
from ..write.output import BuiltObject
from ..write.targets import output_filename
from .common import (
    Errors,
    NodePath,
    built_object,
    conformance_at,
    content_digest,
    object_identity,
    resolve_path,
    spec_id,
    subject_header,
)
from .context import BuildContext
from .sr_common import cached_source_series

if TYPE_CHECKING:  # the builder layer imports pydicom: loaded when a builder needs it
    from pydicom.dataset import Dataset

    from ..errors import Location
    from ..iods.common.source_frame import SourceFrame
    from ..iods.pr import SoftcopyPresentationState
    from ..iods.sc.render import View
    from ..iods.seg import Segmentation
    from ..resolve.source_series import SourceSeries

#: default colours of segments without a display colour, and of graphics on layers without one
PALETTE = ((255, 255, 0), (0, 255, 255), (255, 0, 255), (0, 255, 0), (255, 128, 0), (0, 128, 255))
#: the largest side of a rendered picture (a MAGNIFY displayed area could ask for any size)
MAX_SIDE = 8192
_PIXEL_HINT = (
    "give (rows, columns) uint8 or uint16 grey, or (rows, columns, 3) uint8 RGB; with"
    " `multi_frame: true`, (frames, rows, columns[, 3]); e.g. np.save(path, picture.astype(np.uint8))"
)


@dataclass
class Picture:
    """One picture to store: its pixels and what it was made from."""

    pixels: np.ndarray
    source_images: list[Dataset] = field(default_factory=list)  # headers (Source Image Sequence)
    source_instances: list[Dataset] = field(default_factory=list)  # SEG / PR datasets (Source Instance Sequence)
    description: str | None = None
    position: int | None = None  # 1-based position of the rendered source image
    multi_frame: bool = False


class _Where(TypedDict):
    """Where a value of the spec is: the keyword arguments of an error located at it."""

    location: Location
    path: NodePath


def build(doc: SpecDocument, ctx: BuildContext) -> list[BuiltObject]:
    from ..iods.sc import MultiFrameSCImage, SCImage

    errors = Errors()
    if doc.get(("output", "transfer_syntax")) not in (None, "ExplicitVRLittleEndian"):
        errors.add(
            SpecError(
                "Secondary Capture images are written in Explicit VR Little Endian only",
                location=doc.loc(("output", "transfer_syntax")),
                path=("output", "transfer_syntax"),
                hint="leave output.transfer_syntax out (RLE Lossless is for Segmentations so far)",
            )
        )
    series = errors.run(cached_source_series, doc, ctx) if doc.get(("sources",)) is not None else None
    header = None
    if doc.get(("subject",)) is not None:
        if doc.get(("sources",)) is not None:
            errors.add(
                SpecError(
                    "give either `sources` (the patient and study are copied from them) or `subject`, not both",
                    location=doc.loc(("subject",)),
                    path=("subject",),
                )
            )
        else:
            header = errors.run(subject_header, doc, ctx)
    elif doc.get(("sources",)) is None:
        errors.add(
            SpecError(
                "a Secondary Capture needs a patient and study: give `sources` (copied from their"
                " first image) or `subject`",
                location=doc.loc(("kind",)),
                path=(),
                hint="add `sources: {images: ct/}` or `subject: {patient: {id: ...}, study: {...}}`",
            )
        )
    if series is not None:
        header = series.instances[0].header
    files: list[Path] = []
    pictures: list[Picture] = []
    if doc.get(("pixels",)) is not None:
        picture = errors.run(_from_file, doc, files)
        if picture is not None:  # not derived from the sources: they give the patient and study only
            pictures.append(picture)
    elif doc.get(("render",)) is not None:
        if doc.get(("sources",)) is None:
            errors.add(
                SpecError(
                    "`render` draws source images: give `sources`",
                    location=doc.loc(("render",)),
                    path=("render",),
                    hint="add `sources: {images: ...}` (the series the SEG or presentation state applies to)",
                )
            )
        elif series is not None:
            pictures = errors.run(render_pictures, doc, ctx, series) or []
    colour = "render" in doc.data or any(p.pixels.ndim == (4 if p.multi_frame else 3) for p in pictures)
    if doc.get(("window",)) is not None and colour:
        errors.add(
            SpecError(
                "`window` is for grey pictures; this one is RGB",
                location=doc.loc(("window",)),
                path=("window",),
                hint="leave it out (for `render`, give `render.window`)",
            )
        )
    errors.raise_if_any()
    assert header is not None  # from `sources` or `subject`, one of which is given (else an error above)
    if doc.get(("instance", "sop_instance_uid")) and len(pictures) > 1:
        raise SpecError(
            f"this spec makes {len(pictures)} images; one SOP Instance UID cannot name them all",
            location=doc.loc(("instance", "sop_instance_uid")),
            path=("instance", "sop_instance_uid"),
            hint="leave instance.sop_instance_uid out (derived per image), or render one image",
        )
    inputs = [str(h.SOPInstanceUID) for p in pictures for h in p.source_images + p.source_instances]
    ident = object_identity(
        doc,
        ctx,
        header=header,
        inputs=[str(header.StudyInstanceUID)] + inputs,
        files=files,
        default_label="SECONDARY",
        default_series_number=1300,
    )
    window = doc.get(("window",))
    name = output_filename(doc) or f"{spec_id(doc)}.dcm"
    stem, suffix = (name[: -len(Path(name).suffix)], Path(name).suffix) if Path(name).suffix else (name, "")
    out: list[BuiltObject] = []
    for k, picture in enumerate(pictures):
        sop_uid = (
            ident.sop_instance_uid
            if len(pictures) == 1
            else ctx.uids.uid(
                "instance", spec_id(doc), str(header.StudyInstanceUID), content_digest(doc, inputs=inputs), k
            )
        )
        number = ident.content.instance_number + k
        this = replace(ident, sop_instance_uid=sop_uid, content=replace(ident.content, instance_number=number))
        cls = MultiFrameSCImage if picture.multi_frame else SCImage
        where: NodePath = ("pixels",) if doc.get(("pixels",)) is not None else ("render",)
        with conformance_at(doc, where, hint=_PIXEL_HINT if where == ("pixels",) else None):
            sc = cls(
                picture.pixels,
                patient_study=header,
                **this.document_arguments(),
                conversion_type=doc.get(("conversion_type",)) or "WSD",
                modality=doc.get(("modality",)) or "OT",
                source_images=picture.source_images,
                source_instances=picture.source_instances,
                derivation_description=doc.get(("derivation_description",)) or picture.description,
                burned_in_annotation=bool(doc.get(("burned_in_annotation",))),
                window=(window["center"], window["width"]) if window else None,
                image_comments=doc.get(("comments",)),
            )
        filename = name if picture.position is None else f"{stem}-{picture.position:03d}{suffix}"
        summary: dict[str, Any] = {
            "photometric": str(sc.PhotometricInterpretation),
            "rows": int(sc.Rows),
            "columns": int(sc.Columns),
        }
        if picture.position is not None:
            summary["source_image"] = picture.position
        out.append(built_object(doc, sc, "SecondaryCapture", summary, filename))
    return out


# ------------------------------------------------------------------------------------------ pixels
def _from_file(doc: SpecDocument, files: list[Path]) -> Picture:
    """The picture of ``pixels``: a .npy array or a PNG."""
    from ..iods.sc import PNGError, read_png

    value = doc.get(("pixels",))
    path: NodePath = ("pixels",) if isinstance(value, str) else ("pixels", "file")
    multi = bool(isinstance(value, dict) and value.get("multi_frame"))
    file = resolve_path(doc, path)
    where: _Where = {"location": doc.loc(path), "path": path}
    if not file.is_file():
        raise InputError(
            f"pixel file not found: {file}", **where, hint="a relative path is relative to the spec file that names it"
        )
    kind = file.suffix.lower()
    if kind == ".png":
        if multi:
            raise SpecError(
                "a PNG holds one picture: `multi_frame` needs a .npy of (frames, rows, columns[, 3])",
                location=doc.loc(("pixels", "multi_frame")),
                path=("pixels", "multi_frame"),
            )
        try:
            pixels = read_png(file)
        except (PNGError, OSError) as exc:
            raise InputError(
                f"cannot read {file.name} as PNG: {exc}",
                **where,
                hint="save it as a non-interlaced 8/16-bit greyscale, 8-bit RGB or palette PNG",
            ) from None
    elif kind == ".npy":
        from ..resolve.masks import _read_npy  # the masks' reader: memory-mapped, refusals located

        try:
            pixels = _read_npy(file, **where)
        except InputError as exc:
            if exc.hint:
                raise
            raise InputError(exc.message, **where, hint="write it with numpy.save(path, array)") from None
    else:
        raise SpecError(
            f"{file.name}: pixels come from a .npy or a .png file",
            **where,
            hint="convert the picture to PNG, or save the array with numpy.save",
        )
    files.append(file)
    from ..iods.sc.image import _pixel_form

    try:
        _pixel_form(pixels, multi)
    except DicomConformanceError as exc:
        raise InputError(f"{file.name}: {exc}", **where, hint=_PIXEL_HINT) from None
    return Picture(pixels=pixels, multi_frame=multi)


# ------------------------------------------------------------------------------------------ render
def render_pictures(
    doc: SpecDocument, ctx: BuildContext, series: SourceSeries, path: NodePath = ("render",)
) -> list[Picture]:
    """One RGB picture per chosen source image, from the Segmentation or presentation state of ``render``."""
    from .linked import chosen_segments, presentation_state_at, segmentation_at

    spec = doc.get(path)
    errors = Errors()
    positions = errors.run(_positions, doc, series, path + ("images",))
    window = errors.run(_window, doc, path + ("window",))
    if "segmentation" in spec:
        where = path + ("segmentation",)
        seg = errors.run(segmentation_at, doc, ctx, where)
        errors.raise_if_any()
        assert seg is not None  # it did not fail
        numbers = chosen_segments(doc, where, {n: seg.get_segment(n) for n in seg.segment_numbers})
        return segmentation_pictures(
            seg, numbers, series, positions, window, doc=doc, where=where, images_path=path + ("images",)
        )
    where = path + ("presentation_state",)
    pr = errors.run(presentation_state_at, doc, ctx, where)
    errors.raise_if_any()
    assert pr is not None  # it did not fail
    return presentation_pictures(pr, series, positions, window, doc=doc, where=where, images_path=path + ("images",))


def _window(doc: SpecDocument, path: NodePath) -> tuple[float, float] | None:
    """The window at ``path``: a preset name or centre and width, finite, the width at least 1 (PS3.3
    C.11.2.1.2); None when the spec gives none."""
    import math

    from ..iods.pr import WINDOW_PRESETS

    value = doc.get(path)
    if value is None:
        return None
    if isinstance(value, str):
        return WINDOW_PRESETS[value]
    center, width = float(value["center"]), float(value["width"])
    errors = Errors()  # the schema asks for numbers (width at least 1); YAML's .nan and .inf are numbers too
    for key, number in (("center", center), ("width", width)):
        if not math.isfinite(number):
            errors.add(
                SpecError(
                    f"window {key} {number} is not a finite number",
                    location=doc.loc(path + (key,)),
                    path=path + (key,),
                    hint="give the window in the images' values, e.g. {center: 40, width: 400}",
                )
            )
    errors.raise_if_any()
    return center, width


def _positions(doc: SpecDocument, series: SourceSeries, path: NodePath) -> list[int] | None:
    """1-based positions of ``render.images`` in the source series (checked), or None (the default)."""
    value = doc.get(path)
    if value is None:
        return None
    n = len(series.frames)
    errors = Errors()
    for i, pos in enumerate(value):
        if pos in value[:i]:
            errors.add(
                SpecError(
                    f"image {pos} is named twice",
                    location=doc.loc(path + (i,)),
                    path=path + (i,),
                    hint="each image gives one picture: name it once",
                )
            )
        elif not 1 <= pos <= n:
            errors.add(
                InputError(
                    f"image {pos} is not in the source series: it has {n} image(s) (1..{n})",
                    location=doc.loc(path + (i,)),
                    path=path + (i,),
                    hint="positions count the source images in geometric order, starting at 1",
                )
            )
    errors.raise_if_any()
    return list(value)


def _stored(frame: SourceFrame) -> np.ndarray:
    """The stored pixel values of a source frame (read once per file)."""
    import pydicom

    instance = frame.instance
    cache = instance.__dict__.setdefault("_render_pixels", {})
    if "array" not in cache:
        cache["array"] = pydicom.dcmread(str(instance.path)).pixel_array
    array: np.ndarray = cache["array"]
    if instance.number_of_frames > 1 or (array.ndim == 3 and int(instance.header.get("SamplesPerPixel", 1)) == 1):
        one: np.ndarray = array[(frame.frame_number or 1) - 1]
        return one
    return array


def _first(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        return (
            float(value[0])
            if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue"
            else float(value)
        )
    except (TypeError, ValueError):
        return None


def _frame_groups(frame: SourceFrame) -> tuple[Any, Any]:
    """The Pixel Value Transformation and Frame VOI LUT items of a frame of an enhanced multi-frame image
    (per-frame, else shared; PS3.3 C.7.6.16.2.9, C.7.6.16.2.10), or None (single-frame images)."""
    from ..iods.common.functional_groups import frame_group, frame_items

    if not frame.frame_number:
        return None, None
    per_frame, shared = frame_items(frame.instance.header, frame.frame_number - 1)
    return (
        frame_group(per_frame, shared, "PixelValueTransformationSequence", "RescaleSlope"),
        frame_group(per_frame, shared, "FrameVOILUTSequence", "WindowCenter"),
    )


def _base(
    frame: SourceFrame,
    window: tuple[float, float] | None,
    rescale: tuple[float, float] | None = None,
    invert: bool = False,
) -> tuple[np.ndarray, str]:
    """The source frame as RGB, and how it was made: grey images through the rescale (an enhanced image's
    frame: its own Pixel Value Transformation, before ``rescale``) and the window (to 8 bits; the
    presentation LUT INVERSE with ``invert``), 8-bit colour images as they are (pydicom gives YBR as RGB)."""
    from ..iods.sc.render import default_window, grey_to_rgb, modality_values, window_to_bytes

    header = frame.instance.header
    if int(header.get("SamplesPerPixel", 1)) != 1:
        stored = _stored(frame)
        if stored.dtype != np.uint8 or stored.ndim != 3:
            raise DicomConformanceError(
                f"{frame.instance.path.name}: colour images of {stored.dtype} are not"
                " drawn on; 8-bit colour and grey images are"
            )
        return np.ascontiguousarray(stored), "Source image (colour)"
    frame_rescale, frame_window = _frame_groups(frame)
    source = frame_rescale if frame_rescale is not None else header
    slope, intercept = (
        (_first(source.get("RescaleSlope")) or 1.0, _first(source.get("RescaleIntercept")) or 0.0)
        if frame_rescale is not None or rescale is None
        else rescale
    )
    values = modality_values(_stored(frame), slope, intercept)
    if window is None:
        voi = frame_window if frame_window is not None else header
        center, width = _first(voi.get("WindowCenter")), _first(voi.get("WindowWidth"))
        window = (center, width) if center is not None and width is not None and width >= 1 else default_window(values)
    return (
        grey_to_rgb(window_to_bytes(values, *window, invert=invert)),
        f"Source image windowed (centre {window[0]:g}, width {window[1]:g})",
    )


def segmentation_pictures(
    seg: Segmentation,
    numbers: list[int],
    series: SourceSeries,
    positions: list[int] | None,
    window: tuple[float, float] | None,
    *,
    doc: SpecDocument | None = None,
    where: NodePath = (),
    images_path: NodePath = (),
) -> list[Picture]:
    """Source images windowed, with the outline of each chosen segment in its display colour."""
    from ..iods.sc.render import paint, segment_outlines

    def error(message: str, at: NodePath, hint: str | None = None) -> InputError:
        return InputError(message, location=doc.loc(at) if doc else None, path=at, hint=hint)

    def key(f: SourceFrame) -> tuple[str, int | None]:
        return f.sop_instance_uid, f.frame_number if f.frame_number not in (None, 1) else None

    keys = {key(f) for f in seg.source_frames}
    referenced = [i + 1 for i, f in enumerate(series.frames) if key(f) in keys]
    if not referenced:
        raise error(
            "none of the Segmentation's source images is in `sources`",
            where,
            hint="render a Segmentation of the same series",
        )
    masks: dict[int, np.ndarray] = {}
    for pos in referenced:
        f = series.frames[pos - 1]
        m = seg.get_pixels_by_source_instance(f.sop_instance_uid, f.frame_number, numbers)
        masks[pos] = m >= 0.5 if m.dtype != bool else m
    if positions is None:
        positions = [p for p in referenced if masks[p].any()]
        if not positions:
            raise error("the chosen segments are empty on every source image: nothing to render", where)
    errors = Errors()
    touched = [p for p in referenced if masks[p].any()]
    for i, pos in enumerate(positions):
        if pos not in masks:
            errors.add(
                error(
                    f"image {pos} is not a source image of the Segmentation",
                    images_path + (i,),
                    hint=f"the Segmentation covers images {_ranges(referenced)}",
                )
            )
        elif not masks[pos].any():
            errors.add(
                error(
                    f"the chosen segments do not touch image {pos}: nothing to draw on it",
                    images_path + (i,),
                    hint=f"they touch images {_ranges(touched) or 'none'}",
                )
            )
    errors.raise_if_any()
    colours = []
    for j, number in enumerate(numbers):
        colour = seg.get_segment(number).display_color
        colours.append(tuple(colour) if colour else PALETTE[j % len(PALETTE)])
    labels = ", ".join(seg.get_segment(n).segment_label for n in numbers)
    chosen = np.stack([masks[pos] for pos in positions])  # (images, rows, columns, segments)
    outlines = [segment_outlines(chosen[..., j]) for j in range(len(numbers))]  # each traced on all at once
    out = []
    for k, pos in enumerate(positions):
        frame = series.frames[pos - 1]
        rgb, how = _base(frame, window)
        if masks[pos].shape[:2] != rgb.shape[:2]:
            raise error(
                f"the Segmentation's frames are {masks[pos].shape[1]} x {masks[pos].shape[0]} but source"
                f" image {pos} is {rgb.shape[1]} x {rgb.shape[0]} pixels",
                where,
            )
        for j in range(len(numbers)):
            paint(rgb, outlines[j][k], colours[j])
        out.append(
            Picture(
                rgb,
                [frame.instance.header],
                [seg],
                position=pos,
                description=(
                    f"{how} with the outlines of segments {labels} of Segmentation {seg.SOPInstanceUID} burnt in"
                )[:1024],
            )
        )
    return out


def presentation_pictures(
    pr: SoftcopyPresentationState,
    series: SourceSeries,
    positions: list[int] | None,
    window: tuple[float, float] | None,
    *,
    doc: SpecDocument | None = None,
    where: NodePath = (),
    images_path: NodePath = (),
) -> list[Picture]:
    """Source images as the presentation state shows them (its modality LUT, window, presentation LUT and
    display shutter), with its graphics burnt in, each in its layer's colour, then cut to its displayed area,
    rotated, flipped and scaled as it says (C.10.4, C.10.6), and its texts written on that in its layers'
    colours."""
    from ..iods.common.color import dicom_lab_to_rgb
    from ..iods.sc.render import apply_palette, graphic_mask, paint, shutter_mask, text_mask

    def error(message: str, at: NodePath, hint: str | None = None) -> InputError:
        return InputError(message, location=doc.loc(at) if doc else None, path=at, hint=hint)

    applies = {uid for _, uid, _ in pr.referenced_images()}
    referenced = [i + 1 for i, f in enumerate(series.frames) if f.sop_instance_uid in applies]
    if not referenced:
        raise error(
            "none of the images the presentation state applies to is in `sources`",
            where,
            hint="render a presentation state of the same series",
        )
    if positions is None:
        positions = referenced
    errors = Errors()
    for i, pos in enumerate(positions):
        if pos not in referenced:
            errors.add(
                error(
                    f"the presentation state does not apply to image {pos}",
                    images_path + (i,),
                    hint=f"it applies to images {_ranges(referenced)}",
                )
            )
    errors.raise_if_any()
    colours: dict[str, tuple[int, int, int]] = {}
    for j, layer in enumerate(pr.get("GraphicLayerSequence", [])):
        lab = layer.get("GraphicLayerRecommendedDisplayCIELabValue")
        grey = layer.get("GraphicLayerRecommendedDisplayGrayscaleValue")
        colours[str(layer.GraphicLayer)] = (
            dicom_lab_to_rgb([int(v) for v in lab])
            if lab
            else (int(grey) >> 8,) * 3
            if grey is not None
            else PALETTE[j % len(PALETTE)]
        )
    rescale = None
    if pr.get("RescaleIntercept") is not None:
        rescale = (_first(pr.get("RescaleSlope")) or 1.0, _first(pr.get("RescaleIntercept")) or 0.0)
    invert = str(pr.get("PresentationLUTShape", "IDENTITY")) == "INVERSE"
    shutter = pr.shutter()
    if shutter is not None:
        shade = shutter.get("color") or (int(round((shutter["presentation_value"] or 0) / 257)),) * 3
    palette = pr.palette()
    out = []
    for pos in positions:
        frame = series.frames[pos - 1]
        uid = frame.sop_instance_uid
        rgb, how = _base(frame, window or pr.window(uid), rescale, invert)
        rows, cols = rgb.shape[:2]
        if palette is not None and int(frame.instance.header.get("SamplesPerPixel", 1)) == 1:
            rgb, how = apply_palette(rgb[..., 0], palette.rgb), f"{how}, palette {palette.label or 'custom'}"
        if shutter is not None:
            paint(rgb, ~shutter_mask(shutter, (rows, cols)), shade)
        for g in pr.graphics(uid):  # DISPLAY units: through the displayed area, rotation and flip
            assert g.pixel_points is not None  # graphics() gives every graphic's pixel points
            paint(
                rgb,
                graphic_mask(g.graphic_type, g.pixel_points, (rows, cols), filled=g.filled),
                colours.get(g.layer, PALETTE[0]),
            )
        view = _view(pr, uid, rgb.shape[:2])
        size = [round((view.bottom - view.top + 1) * view.scale), round((view.right - view.left + 1) * view.scale)]
        if max(size) > MAX_SIDE:
            raise error(
                f"the displayed area of image {pos} would be shown {size[1]} x {size[0]} pixels: more than"
                f" {MAX_SIDE} a side",
                where,
                hint="a smaller magnification or displayed area",
            )
        rgb = view.picture(rgb)
        for t in pr.texts(uid):
            corners = view.points(np.array(t.pixel_box)) if t.pixel_box is not None else None
            box = (corners[0], corners[1]) if corners is not None else None
            anchor = view.points(np.array([t.pixel_anchor]))[0] if t.pixel_anchor is not None else None
            paint(
                rgb,
                text_mask(
                    t.text,
                    rgb.shape[:2],
                    box=box,
                    anchor=anchor,
                    justification=t.justification,
                    anchor_visible=t.anchor_visible,
                ),
                colours.get(t.layer, PALETTE[0]),
            )
        out.append(
            Picture(
                rgb,
                [frame.instance.header],
                [pr],
                position=pos,
                description=(f"{how} with the graphics of presentation state {pr.SOPInstanceUID} burnt in")[:1024],
            )
        )
    return out


def _view(pr: SoftcopyPresentationState, sop_instance_uid: str, shape: tuple[int, int]) -> View:
    """How the presentation state shows an image of ``shape`` (rows, columns): its displayed area (the whole
    image when it has none), rotation, flip and scale (C.10.4): SCALE TO FIT to the image's own size (by the
    largest whole factor when the area is smaller, so each image pixel stays a square of pixels), TRUE SIZE
    at one picture pixel per image pixel (no display to measure), MAGNIFY by its ratio."""
    from ..iods.sc.render import View

    rotation, flip = pr.spatial()
    rows, cols = shape
    item = next(
        (
            i
            for i in pr.get("DisplayedAreaSelectionSequence", [])
            if not i.get("ReferencedImageSequence")
            or any(str(r.ReferencedSOPInstanceUID) == sop_instance_uid for r in i.ReferencedImageSequence)
        ),
        None,
    )
    if item is None:
        return View(1, 1, cols, rows, rotation, flip)
    (a, b), (c, d), mode = pr.displayed_area(sop_instance_uid)  # the corners shown top left, bottom right
    left, right, top, bottom = min(a, c), max(a, c), min(b, d), max(b, d)
    width, height = right - left + 1, bottom - top + 1
    if rotation % 180:
        width, height, rows, cols = height, width, cols, rows
    if mode == "MAGNIFY":
        scale = float(item.get("PresentationPixelMagnificationRatio") or 1.0)
    elif mode == "TRUE SIZE":
        scale = 1.0
    else:
        scale = min(rows / height, cols / width)
        scale = float(math.floor(scale)) if scale >= 1 else scale
    return View(left, top, right, bottom, rotation, flip, scale)


def _ranges(positions: list[int]) -> str:
    """``[1, 2, 3, 7]`` -> ``1-3, 7``."""
    out, start = [], None
    for i, p in enumerate(positions):
        if start is None:
            start = p
        if i + 1 == len(positions) or positions[i + 1] != p + 1:
            out.append(f"{start}-{p}" if p != start else f"{p}")
            start = None
    return ", ".join(out)
