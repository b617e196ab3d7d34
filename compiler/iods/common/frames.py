"""Functional groups of derived multi-frame images (PS3.3 C.7.6.16), encoded fast.

Shared by Segmentation (C.8.20.3) and Parametric Map (A.75.4): Derivation Image, Frame Content, Plane
Position/Orientation, Pixel Measures and the dimension index; the IOD adds its own groups (Segment
Identification, Real World Value Mapping, ...) with ``extra_shared`` / the plan's segment numbers.

The Per-frame Functional Groups Sequence is encoded straight to Explicit VR Little Endian bytes
(``common.encoding``) from pieces computed once per source frame and per segment, instead of one nested
Dataset per frame. Items and sequences have defined lengths.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
from pydicom.dataset import Dataset

from . import encoding as enc
from .codes import code_item
from .concept import Code
from .source_frame import SourceFrame
from .sources import SourceSet
from .spacing import SliceSpacing, regular_slice_spacing

# PS3.3 A.51.5.1 (Segmentation functional groups description) and CID 7202 / CID 7203
PURPOSE_SOURCE_FOR_PROCESSING = Code("121322", "DCM", "Source image for image processing operation")
DERIVATION_SEGMENTATION = Code("113076", "DCM", "Segmentation")

TAG_DERIVATION_IMAGE = 0x00089124
TAG_SOURCE_IMAGE = 0x00082112
TAG_DERIVATION_CODE = 0x00089215
TAG_PURPOSE = 0x0040A170
TAG_FRAME_CONTENT = 0x00209111
TAG_PLANE_POSITION = 0x00209113
TAG_PLANE_ORIENTATION = 0x00209116
TAG_PIXEL_MEASURES = 0x00289110
TAG_SEGMENT_IDENTIFICATION = 0x0062000A
TAG_REFERENCED_SEGMENT_NUMBER = 0x0062000B
TAG_IMAGE_POSITION = 0x00200032
TAG_IN_STACK_POSITION = 0x00209057
TAG_PER_FRAME = 0x52009230


def source_image_item(frame: SourceFrame) -> Dataset:
    item = Dataset()
    item.ReferencedSOPClassUID = frame.sop_class_uid
    item.ReferencedSOPInstanceUID = frame.sop_instance_uid
    if frame.frame_number is not None:
        item.ReferencedFrameNumber = frame.frame_number
    item.SpatialLocationsPreserved = "YES"
    item.PurposeOfReferenceCodeSequence = [code_item(PURPOSE_SOURCE_FOR_PROCESSING)]
    return item


def derivation_image_dataset(frame: SourceFrame, derivation_code: Code = DERIVATION_SEGMENTATION) -> Dataset:
    item = Dataset()
    item.SourceImageSequence = [source_image_item(frame)]
    item.DerivationCodeSequence = [code_item(derivation_code)]
    return item


def _derivation_bytes(frame: SourceFrame, purpose: bytes, derivation: bytes) -> bytes:
    src = enc.uid(0x00081150, frame.sop_class_uid) + enc.uid(0x00081155, frame.sop_instance_uid)
    if frame.frame_number is not None:
        src += enc.text(0x00081160, "IS", str(frame.frame_number))
    src += enc.text(0x0028135A, "CS", "YES")  # Spatial Locations Preserved: pixels map 1:1
    src += purpose
    body = enc.sequence(TAG_SOURCE_IMAGE, [src]) + derivation
    return enc.sequence(TAG_DERIVATION_IMAGE, [body])


def _pixel_measures_body(frame: SourceFrame, spacing_between_slices: str | None) -> bytes:
    body = b""
    if frame.thickness is not None:
        body += enc.text(0x00180050, "DS", frame.thickness)
    if spacing_between_slices is not None:
        body += enc.text(0x00180088, "DS", spacing_between_slices)
    body += enc.text(0x00280030, "DS", list(frame.spacing or ()))
    return body


def pixel_measures_dataset(frame: SourceFrame, spacing_between_slices: str | None) -> Dataset:
    """Pixel Measures (C.7.6.16.2.1): the source frame's Pixel Spacing and Slice Thickness, and the
    Spacing Between Slices computed from the whole stack (:mod:`.spacing`), never the source's value."""
    item = Dataset()
    item.PixelSpacing = list(frame.spacing or ())
    if frame.thickness is not None:
        item.SliceThickness = frame.thickness
    if spacing_between_slices is not None:
        item.SpacingBetweenSlices = spacing_between_slices
    return item


def _measures_key(f: SourceFrame) -> tuple[tuple[str, ...] | None, str | None]:
    return (f.spacing, f.thickness)


#: orientations whose direction cosines differ by less than this are one orientation (DS rounding: a
#: series may write 0.0038759 on some slices and 0.00387589 on others)
ORIENTATION_TOLERANCE = 1e-6


def _common_orientation(frames: list[SourceFrame]) -> tuple[tuple[str, ...], bool]:
    """The orientation most frames state, and whether all frames agree with it within
    :data:`ORIENTATION_TOLERANCE` (then it is shared: readers such as highdicom need one orientation to
    build a volume)."""
    counts = Counter(f.orientation for f in frames)
    written = counts.most_common(1)[0][0] or ()
    if len(counts) == 1:
        return written, True
    values = np.array([[float(v) for v in o or ()] for o in counts], dtype=np.float64)
    if values.ndim != 2 or values.shape[1] != 6:
        return written, False
    return written, bool(np.abs(values - values[0]).max() < ORIENTATION_TOLERANCE)


@dataclass
class FramePlan:
    """Which stored frame shows what: source frame index and segment number (None when the frames are
    not per segment: LABELMAP SEG, Parametric Map)."""

    source_index: np.ndarray  # (n_frames,) int, index into SourceSet.frames
    segment_number: np.ndarray | None  # (n_frames,) int or None


@dataclass
class Layout:
    """Decisions on where each functional group goes and which dimensions index the frames."""

    shared: Dataset
    per_frame: bytes
    dimensions: list[tuple[int, int, str]]  # (index pointer, functional group pointer, label)
    stack: bool
    slice_spacing: SliceSpacing  # written in Pixel Measures when the source frames are a regular stack


def build_functional_groups(
    sources: SourceSet, plan: FramePlan, derivation_codes: tuple[Code, ...] = (DERIVATION_SEGMENTATION,)
) -> Layout:
    """Shared and per-frame functional groups of the frames of ``plan``: each stored frame references its
    source frame (Derivation Image with ``derivation_codes``, CID 7203), with the source's position;
    orientation and pixel measures are shared when equal for all frames."""
    frames = sources.frames
    used = sorted(set(plan.source_index.tolist()))  # np.unique would import numpy.ma (start-up time)
    used_frames = [frames[i] for i in used]
    geometry = sources.has_geometry
    shared = Dataset()

    # Derivation Image stays per frame even when every frame derives from the same source frame:
    # sharing it is allowed, but readers (e.g. highdicom 0.28) map frames to sources only from the
    # per-frame items.
    derivation_shared = False
    if derivation_shared:
        shared.DerivationImageSequence = [derivation_image_dataset(frames[int(used[0])], derivation_codes[0])]
    orient_shared = measures_shared = False
    slice_spacing = (
        regular_slice_spacing(frames) if geometry else SliceSpacing(None, "the source frames have no geometry")
    )
    if geometry:
        orientation, orient_shared = _common_orientation(used_frames)
        measures_shared = len({_measures_key(f) for f in used_frames}) == 1
        if orient_shared:
            item = Dataset()
            item.ImageOrientationPatient = list(orientation)
            shared.PlaneOrientationSequence = [item]
        if measures_shared:
            shared.PixelMeasuresSequence = [pixel_measures_dataset(used_frames[0], slice_spacing.ds)]

    # dimensions
    dimensions: list[tuple[int, int, str]] = []
    has_segments = plan.segment_number is not None
    if has_segments:
        dimensions.append((TAG_REFERENCED_SEGMENT_NUMBER, TAG_SEGMENT_IDENTIFICATION, "ReferencedSegmentNumber"))
    stack = False
    n_src = len(frames)
    if geometry:
        dimensions.append((TAG_IMAGE_POSITION, TAG_PLANE_POSITION, "ImagePositionPatient"))
        # index of each distinct position, in source order
        pos_index: dict[tuple[str, ...], int] = {}
        src_dim = np.zeros(n_src, np.int64)
        for i, f in enumerate(frames):
            key = tuple(float(v) for v in f.position or ())
            src_dim[i] = pos_index.setdefault(key, len(pos_index) + 1)  # type: ignore[arg-type]
    elif n_src > 1 or not has_segments:
        stack = True
        dimensions.append((TAG_IN_STACK_POSITION, TAG_FRAME_CONTENT, "InStackPositionNumber"))
        src_dim = np.arange(1, n_src + 1)
    else:
        src_dim = np.ones(n_src, np.int64)

    # per-source-frame and per-segment pieces
    purpose = enc.sequence(TAG_PURPOSE, [enc.code_item_body(PURPOSE_SOURCE_FOR_PROCESSING)])
    derivation = enc.sequence(TAG_DERIVATION_CODE, [enc.code_item_body(c) for c in derivation_codes])
    src_piece_a: dict[int, bytes] = {}  # before Frame Content
    src_piece_b: dict[int, bytes] = {}  # after Frame Content
    for i in used:
        f = frames[int(i)]
        a = b"" if derivation_shared else _derivation_bytes(f, purpose, derivation)
        b = b""
        if geometry:
            b += enc.sequence(TAG_PLANE_POSITION, [enc.text(TAG_IMAGE_POSITION, "DS", list(f.position or ()))])
            if not orient_shared:
                b += enc.sequence(TAG_PLANE_ORIENTATION, [enc.text(0x00200037, "DS", list(f.orientation or ()))])
            if not measures_shared:
                b += enc.sequence(TAG_PIXEL_MEASURES, [_pixel_measures_body(f, slice_spacing.ds)])
        src_piece_a[int(i)] = a
        src_piece_b[int(i)] = b
    seg_piece: dict[int, bytes] = {}
    if has_segments:
        for s in sorted(set(plan.segment_number.tolist())):  # type: ignore[union-attr]
            seg_piece[int(s)] = enc.sequence(
                TAG_SEGMENT_IDENTIFICATION, [enc.us(TAG_REFERENCED_SEGMENT_NUMBER, int(s))]
            )
    stack_id = enc.text(0x00209056, "SH", "1")
    items = []
    src_idx = plan.source_index.tolist()
    seg_nums = plan.segment_number.tolist() if has_segments else None  # type: ignore[union-attr]
    for k, i in enumerate(src_idx):
        if has_segments:
            s = seg_nums[k]  # type: ignore[index]
            dim_values = (s, int(src_dim[i])) if len(dimensions) == 2 else (s,)
        else:
            dim_values = (int(src_dim[i]),)
        content = b""
        if stack:
            content += stack_id + enc.ul(TAG_IN_STACK_POSITION, int(src_dim[i]))
        content += enc.ul(0x00209157, *dim_values)
        body = (
            src_piece_a[i]
            + enc.element(TAG_FRAME_CONTENT, "SQ", enc.item(content))
            + src_piece_b[i]
            + (seg_piece[s] if has_segments else b"")
        )
        items.append(body)
    per_frame = enc.sequence(TAG_PER_FRAME, items)
    return Layout(shared=shared, per_frame=per_frame, dimensions=dimensions, stack=stack, slice_spacing=slice_spacing)
