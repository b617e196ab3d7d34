"""``dcmspec build --preview``: PNG pictures beside the DICOM outputs, to look at what a build made.

A Secondary Capture gives its own pixels (``<name>.png``; one PNG per frame, ``<name>-fNNN.png``, for the
multi-frame classes); a Segmentation gives each source image a segment touches, windowed, with the
segment outlines (``<name>-NNN.png``, NNN the image's 1-based position in the sources); a presentation
state gives each image it applies to as it shows it, with its graphics. They are the pictures a
``SecondaryCapture`` spec with ``render`` would store. The PNGs are written with the build's DICOM files,
all or nothing (:mod:`dcmspec_compiler.write.output`).
"""

from __future__ import annotations

from pathlib import Path

from ..load.document import SpecDocument
from ..write.output import BuiltObject
from .context import BuildContext
from .linked import ABPS_SOP_CLASS, BLENDING_NOT_RENDERED, RENDERED_PR_SOP_CLASSES, SEG_SOP_CLASSES


def _stem(filename: str) -> str:
    suffix = Path(filename).suffix
    return filename[: -len(suffix)] if suffix else filename


def add_previews(doc: SpecDocument, ctx: BuildContext, objects: list[BuiltObject]) -> None:
    """Attach the preview PNGs of each object ``doc`` built (objects without a picture get none); an object
    whose pictures cannot be drawn (e.g. on 16-bit colour sources) gets none and a warning."""
    from ..errors import DcmspecError, DicomConformanceError

    for obj in objects:
        try:
            _add_previews(doc, ctx, obj)
        except (DcmspecError, DicomConformanceError) as exc:
            obj.previews.clear()
            message = exc.message if isinstance(exc, DcmspecError) else str(exc)
            ctx.warn(f"no preview of {obj.filename}: {message}", doc.loc(()))


def _add_previews(doc: SpecDocument, ctx: BuildContext, obj: BuiltObject) -> None:
    from ..errors import DicomConformanceError
    from ..iods.sc import SCImage, encode_png
    from ..iods.sc.image import SC_SOP_CLASSES
    from .secondary_capture import presentation_pictures, segmentation_pictures
    from .sr_common import cached_source_series

    ds = obj.dataset
    if ds is None:
        return
    sop_class = str(ds.SOPClassUID)
    stem = _stem(obj.filename)
    if sop_class in SC_SOP_CLASSES:
        pixels = SCImage.from_dataset(ds).pixels()
        if pixels.ndim == (3 if str(ds.PhotometricInterpretation) == "RGB" else 2):
            obj.previews[f"{stem}.png"] = encode_png(pixels)
        else:
            for k, frame in enumerate(pixels, start=1):
                obj.previews[f"{stem}-f{k:03d}.png"] = encode_png(frame)
        return
    if sop_class == ABPS_SOP_CLASS:
        raise DicomConformanceError(BLENDING_NOT_RENDERED)  # a warning (add_previews)
    if sop_class not in SEG_SOP_CLASSES + RENDERED_PR_SOP_CLASSES or doc.get(("sources",)) is None:
        return
    series = cached_source_series(doc, ctx)
    if sop_class in RENDERED_PR_SOP_CLASSES:
        from ..iods.pr import SoftcopyPresentationState, prread

        pr = ds if isinstance(ds, SoftcopyPresentationState) else prread(ds)
        pictures = presentation_pictures(pr, series, None, None)
    else:
        from ..iods.seg import Segmentation

        seg = ds if isinstance(ds, Segmentation) else Segmentation.from_dataset(ds)
        if not seg.source_frames or not seg.get_pixels().any():
            return  # every segment empty: nothing to show
        pictures = segmentation_pictures(seg, list(seg.segment_numbers), series, None, None)
    for picture in pictures:
        obj.previews[f"{stem}-{picture.position:03d}.png"] = encode_png(picture.pixels)
