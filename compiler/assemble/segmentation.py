"""Build a Segmentation spec: sources + masks + segment descriptions -> ``iods.seg.Segmentation``.

Masks come either as one file for all segments (``segmentation.mask``: a label map, or a 4D array with
one channel per segment for FRACTIONAL) or as one file per segment (``segments[i].mask``). Files with
geometry (NIfTI, NRRD) are placed on the source frames by their affine; numpy files must already be
``[frame, row, column]`` in source order (``dcmspec_compiler.resolve.masks``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InputError, SpecError
from ..load.document import SpecDocument
from ..write.output import BuiltObject
from .common import (
    Errors,
    NodePath,
    built_object,
    code_at,
    codes_at,
    conformance_at,
    object_identity,
    resolve_path,
    source_series,
    start_file_digest,
)
from .context import BuildContext

if TYPE_CHECKING:
    from ..iods.common.algorithm import AlgorithmIdentification
    from ..iods.seg.segment import SegmentDescription
    from ..resolve.source_series import SourceSeries

AI_FAMILY = ("DCM", "123110", "Artificial Intelligence")


def build(doc: SpecDocument, ctx: BuildContext) -> list[BuiltObject]:
    # Mask files are hashed (for the SOP Instance UID) on a second core while pydicom loads and the
    # source headers are read: started before the builder layer is imported.
    for path in _mask_paths(doc):
        start_file_digest(resolve_path(doc, path))
    from ..iods.seg.segmentation import Segmentation
    from .voxels import in_source_order, spacing_summary

    data = doc.data
    seg_spec = data["segmentation"]
    seg_type = seg_spec["type"]
    errors = Errors()  # sources, segment descriptions and masks are checked independently where they can be
    series = errors.run(source_series, doc, ctx)
    segments = errors.run(_segment_numbers, doc)
    numbers = segments or list(range(1, len(data["segments"]) + 1))
    descriptions = [errors.run(_segment_description, doc, ctx, i, number, series) for i, number in enumerate(numbers)]
    placed = errors.run(_pixels, doc, ctx, series, segments) if series is not None and segments else None
    errors.run(_check_encoding, doc)
    errors.raise_if_any()
    assert series is not None and placed is not None  # every check passed
    described = [d for d in descriptions if d is not None]  # all of them: every check passed
    pixels, mask_files, presence = placed

    ident = object_identity(
        doc,
        ctx,
        header=series.header,
        files=mask_files,
        inputs=[f.sop_instance_uid + str(f.frame_number) for f in series.frames],
        default_label="SEGMENTATION",
        default_series_number=300,
    )
    output = data.get("output") or {}
    images, pixels, presence = in_source_order(series, pixels, presence)
    with conformance_at(doc, ("segmentation",)):
        seg = Segmentation(
            source_images=images,
            pixel_array=pixels,
            segmentation_type=seg_type,
            segment_descriptions=described,
            **ident.image_arguments(),
            fractional_type=seg_spec.get("fractional_type", "PROBABILITY") if seg_type == "FRACTIONAL" else None,
            max_fractional_value=seg_spec.get("max_fractional_value", 255),
            omit_empty_frames=seg_spec.get("omit_empty_frames", True),
            transfer_syntax_uid=_transfer_syntax(output.get("transfer_syntax", "ExplicitVRLittleEndian")),
            label_presence=presence,
        )
    if seg_type == "LABELMAP" and len(described) > 255:
        ctx.warn(
            f"this label map has {len(described)} segments, so its pixels are 16-bit: the cornerstone"
            " adapters (@cornerstonejs/adapters, used by OHIF 3) decode label maps into 8-bit arrays, where"
            " segments above 255 wrap around (256 shows as background, 257 as segment 1, ...); the dcmjs"
            " legacy adapter (OHIF 2) does not read Label Map Segmentations at all. Use BINARY for those"
            " viewers",
            doc.loc(("segments",)),
            ("segments",),
        )
    spacing = seg.slice_spacing
    assert spacing is not None  # set by the constructor
    summary = {
        "frames": int(seg.NumberOfFrames),
        "segments": len(described),
        **spacing_summary(doc, ctx, spacing, len(series.frames)),
    }
    return [built_object(doc, seg, "Segmentation", summary)]


def _mask_paths(doc: SpecDocument) -> list[NodePath]:
    """Where the spec names mask files (``segmentation.mask``, ``segments[i].mask``)."""
    paths: list[NodePath] = [("segmentation", "mask")] if "mask" in doc.data["segmentation"] else []
    return paths + [("segments", i, "mask") for i, s in enumerate(doc.data["segments"]) if "mask" in s]


def _check_encoding(doc: SpecDocument) -> None:
    """The builder layer's type/transfer syntax/fractional rules, run before the build so that a refusal
    comes with the spec's other errors."""
    from ..iods.seg.segmentation import check_encoding

    seg_spec = doc.data["segmentation"]
    syntax = (doc.data.get("output") or {}).get("transfer_syntax")
    where: NodePath = ("output", "transfer_syntax") if syntax == "RLELossless" else ("segmentation",)
    with conformance_at(doc, where):
        check_encoding(
            seg_spec["type"],
            _transfer_syntax(syntax or "ExplicitVRLittleEndian"),
            seg_spec.get("fractional_type", "PROBABILITY") if seg_spec["type"] == "FRACTIONAL" else None,
            seg_spec.get("max_fractional_value", 255),
        )


def _transfer_syntax(name: str) -> str:
    from pydicom import uid

    return str(getattr(uid, name))


def _segment_numbers(doc: SpecDocument) -> list[int]:
    """Segment numbers, checked to be 1..N in order (PS3.3 C.8.20.2.4: start at 1, increase by 1)."""
    numbers = []
    for i, seg in enumerate(doc.data["segments"]):
        number = seg.get("number", i + 1)
        if number != i + 1:
            path = ("segments", i, "number")
            raise SpecError(
                f"segment number {number} out of order: segment {i + 1} in the list must be number {i + 1}",
                location=doc.loc(path),
                path=path,
                hint="Segment Numbers start at 1 and increase by 1 (PS3.3 C.8.20.2); list the"
                " segments in number order, or use label_value to pick mask values",
            )
        numbers.append(number)
    return numbers


def _segment_description(
    doc: SpecDocument, ctx: BuildContext, index: int, number: int, series: SourceSeries | None
) -> SegmentDescription:
    from ..iods.seg.segment import SegmentDescription

    base: NodePath = ("segments", index)
    seg = doc.get(base)
    algo_spec = seg.get("algorithm") or {"type": "MANUAL"}
    errors = Errors()  # every code of the segment is checked, not only the first bad one

    algorithm = None
    if algo_spec["type"] == "MANUAL":
        errors.run(_refuse_manual_algorithm, doc, base + ("algorithm",), algo_spec)
    else:
        algorithm = errors.run(algorithm_identification, doc, ctx, base + ("algorithm",))
    category = errors.run(code_at, doc, ctx, base + ("category",))
    property_type = errors.run(code_at, doc, ctx, base + ("type",))
    modifiers = errors.run(codes_at, doc, ctx, base + ("modifiers",))
    region = errors.run(code_at, doc, ctx, base + ("anatomic_region",))
    region_modifiers = errors.run(codes_at, doc, ctx, base + ("anatomic_region_modifiers",))
    errors.raise_if_any()
    # every check passed; the schema requires category and type
    assert category is not None and property_type is not None
    assert modifiers is not None and region_modifiers is not None
    tracking_id = seg.get("tracking_id")
    tracking_uid = seg.get("tracking_uid")
    if tracking_id and not tracking_uid:
        patient = str(series.header.get("PatientID", "")) if series is not None else ""
        tracking_uid = ctx.uids.uid("tracking", patient, tracking_id)
    with conformance_at(doc, base):
        return SegmentDescription(
            segment_number=number,
            segment_label=seg["label"],
            segmented_property_category=category,
            segmented_property_type=property_type,
            algorithm_type=algo_spec["type"],
            algorithm=algorithm,
            property_type_modifiers=modifiers,
            anatomic_region=region,
            anatomic_region_modifiers=region_modifiers,
            tracking_id=tracking_id,
            tracking_uid=tracking_uid,
            display_color=seg.get("color"),
            description=seg.get("description"),
        )


def algorithm_identification(doc: SpecDocument, ctx: BuildContext, path: NodePath) -> AlgorithmIdentification:
    """The Algorithm Identification (Table 10-19) of the `algorithm:` mapping at ``path`` (name, version,
    family: AI by default, parameters, source); shared by every kind that names an algorithm."""
    from ..iods.common.algorithm import AlgorithmIdentification
    from ..iods.common.concept import Code

    spec = doc.get(path)
    params = spec.get("parameters")
    with conformance_at(doc, path):
        return AlgorithmIdentification(
            name=spec["name"],
            version=str(spec["version"]),
            family=code_at(doc, ctx, path + ("family",), Code(AI_FAMILY[1], AI_FAMILY[0], AI_FAMILY[2])),
            parameters=", ".join(f"{k}={v}" for k, v in params.items()) if params else None,
            source=spec.get("source"),
        )


def _refuse_manual_algorithm(doc: SpecDocument, path: NodePath, spec: Mapping[str, Any]) -> None:
    """A MANUAL segment names no algorithm: Segment Algorithm Name (0062,0009) is required when Segment
    Algorithm Type is not MANUAL and not allowed when it is (PS3.3 C.8.20.2, Table C.8.20-4), so the spec is
    refused at the key rather than the name silently dropped."""
    extra = [key for key in ("name", "version", "family", "parameters", "source") if key in spec]
    if extra:
        where = path + (extra[0],)
        raise SpecError(
            f"a MANUAL segment has no algorithm {extra[0]}: Segment Algorithm Name (0062,0009) is"
            " not allowed when Segment Algorithm Type is MANUAL (PS3.3 C.8.20.2)",
            location=doc.loc(where),
            path=where,
            hint="remove name/version/family/parameters/source, or say SEMIAUTOMATIC if a tool"
            " (e.g. a region grower) drew the segment with the user's help",
        )


def _place(doc: SpecDocument, path: NodePath, series: SourceSeries, key: str | None = None) -> tuple[np.ndarray, Path]:
    """Load the mask file at ``path`` and return its pixels on the source frames."""
    from .voxels import place_file

    # A mask holds at most one value per source pixel and segment (a channel per segment at most).
    first = series.frames[0]
    assert first.rows is not None and first.columns is not None  # a source frame is made only with both
    bound = len(series.frames) * first.rows * first.columns * max(1, len(doc.data.get("segments") or ()))
    return place_file(doc, path, series, key=key, max_values=bound, tolerance_path=("segmentation", "tolerance_mm"))


def _pixels(
    doc: SpecDocument, ctx: BuildContext, series: SourceSeries, numbers: list[int]
) -> tuple[np.ndarray, list[Path], np.ndarray | None]:
    """The segmentation pixels for the builder: a label map of segment numbers (N, rows, cols), or
    (N, rows, cols, segments) when each segment has its own mask or for multi-channel FRACTIONAL; the
    mask files; and for a label map its per-frame presence of segment numbers (frames, values)."""
    data = doc.data
    seg_spec = data["segmentation"]
    seg_type = seg_spec["type"]
    segments = data["segments"]
    own = [i for i, s in enumerate(segments) if "mask" in s]
    if "mask" in seg_spec:
        if own:
            path: NodePath = ("segments", own[0], "mask")
            raise SpecError(
                "segmentation.mask is given, so segments may not name their own masks",
                location=doc.loc(path),
                path=path,
                hint="use one of the two ways, not both",
            )
        mpath: NodePath = ("segmentation", "mask")
        array, file = _place(doc, mpath, series, key=seg_spec.get("mask_key"))
        if seg_type == "FRACTIONAL":
            return _fractional_from_single(doc, array, len(numbers)), [file], None
        labels, presence = _label_map(doc, ctx, array, numbers)
        return labels, [file], presence
    if len(own) != len(segments):
        missing = next(i for i, s in enumerate(segments) if "mask" not in s)
        path = ("segments", missing)
        raise SpecError(
            "this segment has no mask",
            location=doc.loc(path),
            path=path,
            hint="give segmentation.mask (one file for all segments) or a mask on every segment",
        )
    planes, files = [], []
    placed: dict[Path, np.ndarray | None] = {}  # segments may share a file (one label value each); None: failed
    errors = Errors()  # every segment's mask is checked

    def plane(i: int) -> None:
        path = ("segments", i, "mask")
        file = resolve_path(doc, path)
        if file not in placed:
            placed[file] = None
            placed[file] = _place(doc, path, series)[0]
        array = placed[file]
        if array is None:
            return  # its error is reported at the first segment naming the file
        if array.ndim != 3:
            raise InputError(
                f"a per-segment mask must be 3D, this one has shape {array.shape}", location=doc.loc(path), path=path
            )
        if seg_type == "FRACTIONAL":
            _check_fraction_range(doc, array, path)
            planes.append(array.astype(np.float32, copy=False))
        elif "label_value" in segments[i]:
            planes.append(array == segments[i]["label_value"])
        else:
            planes.append(array != 0)
        if file not in files:
            files.append(file)
        if not planes[-1].any():
            ctx.warn(f"segment {i + 1} ({segments[i]['label']}) has no pixels in its mask", doc.loc(path), path)

    for i in range(len(segments)):
        errors.run(plane, i)
    errors.raise_if_any()
    return np.stack(planes, axis=-1), files, None


def _label_map(
    doc: SpecDocument, ctx: BuildContext, array: np.ndarray, numbers: list[int]
) -> tuple[np.ndarray, np.ndarray]:
    """Map label values to segment numbers; values no segment describes become background (warned).

    Returns the label map of segment numbers and its per-frame presence (``label_presence``), computed
    in one pass over the volume and handed to the builder so it does not scan the volume again. When
    label values are the segment numbers the mask is passed on as it is (no copy for uint8/uint16).
    """
    from ..iods.seg.prepare import label_presence

    path: NodePath = ("segmentation", "mask")
    if array.ndim != 3:
        raise InputError(
            f"a label map mask must be 3D (frame, row, column); this one has shape {array.shape}",
            location=doc.loc(path),
            path=path,
            hint="4D masks (one channel per segment) are for FRACTIONAL segmentations",
        )
    array = _unsigned_labels(doc, array, path)
    segments = doc.data["segments"]
    values = [s.get("label_value", n) for s, n in zip(segments, numbers)]
    presence = label_presence(array)
    present = np.flatnonzero(presence.any(axis=0))
    present_set = set(present.tolist())
    undescribed = sorted(present_set - set(values))
    if undescribed:
        shown = ", ".join(map(str, undescribed[:10])) + (" ..." if len(undescribed) > 10 else "")
        ctx.warn(f"mask values {shown} are not described by any segment and are left out", doc.loc(path), path)
    for i, value in enumerate(values):
        if value not in present_set:
            spath = ("segments", i)
            ctx.warn(
                f"segment {numbers[i]} ({segments[i]['label']}): label value {value} does not occur in the mask",
                doc.loc(spath),
                spath,
            )
    if values == numbers and not undescribed:
        return array, presence  # uint8/uint16 as loaded: the builder takes either
    dtype = np.uint8 if max(numbers) < 256 else np.uint16
    lut = np.zeros(int(max(present.max(initial=0), max(values))) + 1, dtype=np.uint16)
    for value, number in zip(values, numbers):
        lut[value] = number
    moved = np.zeros((presence.shape[0], max(numbers) + 1), bool)
    for value in present.tolist():
        if lut[value]:
            moved[:, lut[value]] |= presence[:, value]
    return _apply_lut(lut.astype(dtype), array), moved


def _apply_lut(lut: np.ndarray, array: np.ndarray) -> np.ndarray:
    """``lut[array]`` frame block by frame block (numpy turns index arrays into int64 temporaries)."""
    out = np.empty(array.shape, lut.dtype)
    step = max(1, (8 << 20) // max(1, array[0].size if len(array) else 1))
    for a in range(0, len(array), step):
        np.take(lut, array[a : a + step], out=out[a : a + step])
    return out


def _unsigned_labels(doc: SpecDocument, array: np.ndarray, path: NodePath) -> np.ndarray:
    """The label map as uint8/uint16 (as it is when it is one of those; else checked 0..65535 and cast)."""
    if array.dtype in (np.uint8, np.uint16):
        return array
    if array.dtype == bool:
        return array.view(np.uint8)
    if not np.issubdtype(array.dtype, np.integer) and not (
        np.issubdtype(array.dtype, np.floating) and np.all(np.mod(array, 1) == 0)
    ):
        raise InputError(
            f"a label map must hold integers, this one holds {array.dtype}",
            location=doc.loc(path),
            path=path,
            hint="use FRACTIONAL for probabilities, or round the mask",
        )
    lo, hi = (array.min(), array.max()) if array.size else (0, 0)
    if lo < 0 or hi > 65535:
        present = _label_values(array.astype(np.int64) if array.dtype.kind == "f" else array)
        raise InputError(
            f"label values must be 0..65535, the mask holds {present.min()}..{present.max()}",
            location=doc.loc(path),
            path=path,
        )
    return array.astype(np.uint8 if hi < 256 else np.uint16)


def _label_values(array: np.ndarray) -> np.ndarray:
    """The non-zero values of a label map (for messages only: sorts)."""
    values = np.unique(array)
    non_zero: np.ndarray = values[values != 0]
    return non_zero


def _check_fraction_range(doc: SpecDocument, array: np.ndarray, path: NodePath) -> None:
    """Values must lie in 0..1 (two reductions, no temporaries; NaN propagates into min and max)."""
    if array.dtype == bool:
        return
    if not np.issubdtype(array.dtype, np.floating):
        if array.size and (array.min() < 0 or array.max() > 1):
            raise InputError("a FRACTIONAL mask must hold values between 0 and 1", location=doc.loc(path), path=path)
        return
    lo, hi = float(array.min()), float(array.max())
    if not (lo >= 0 and hi <= 1):
        lo, hi = float(np.nanmin(array)), float(np.nanmax(array))
        raise InputError(
            f"a FRACTIONAL mask must hold values between 0 and 1, this one holds {lo:g}..{hi:g}",
            location=doc.loc(path),
            path=path,
            hint="scale the probabilities to 0..1",
        )


def _fractional_from_single(doc: SpecDocument, array: np.ndarray, n_segments: int) -> np.ndarray:
    path: NodePath = ("segmentation", "mask")
    if array.ndim == 3:
        array = array[..., np.newaxis]
    if array.shape[-1] != n_segments:
        raise InputError(
            f"the FRACTIONAL mask has {array.shape[-1]} channel(s) for {n_segments} segment(s)",
            location=doc.loc(path),
            path=path,
            hint="give a 4D mask with one channel per segment, or a mask on each segment",
        )
    channels = [s.get("channel", i) for i, s in enumerate(doc.data["segments"])]
    if channels != list(range(array.shape[-1])):
        array = array[..., channels]
    _check_fraction_range(doc, array, path)
    return array.astype(np.float32, copy=False)


__all__: list[Any] = ["build"]
