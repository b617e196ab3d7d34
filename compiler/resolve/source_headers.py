"""Source images, header reading: the files a spec names become :class:`SourceInstance` objects.

One :class:`SourceInstance` per file (header only: Pixel Data is never read), with one
:class:`SourceFrame` per frame and its plane geometry: the Image Plane Module (PS3.3 C.7.6.2) for
single-frame images, and the Plane Position / Plane Orientation / Pixel Measures functional groups (PS3.3
C.7.6.16.2.1-3) of the Shared and Per-frame Functional Groups (PS3.3 C.7.6.16) for multi-frame images.
Series selection is :mod:`.source_series`; frame order and geometry checks are :mod:`.source_geometry`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from ..errors import InputError, Location, PathPart
from ..iods.common.functional_groups import frame_group
from ..iods.common.source_frame import SourceFrame, ds_strings
from .headerscan import PlainValues, plain_values, scan_header
from .source_files import looks_like_dicom

#: Header values longer than this (bytes) are left in the file until used (pydicom's ``defer_size``).
DEFER_SIZE = 4096
#: Read headers with :func:`~dcmspec_compiler.resolve.headerscan.scan_header` where it can (same Dataset as
#: pydicom's reader, several times faster); ``False`` always uses ``pydicom.dcmread``.
FAST_HEADERS = True


# ----------------------------------------------------------------------------------------------
# Data classes


@dataclass(eq=False)
class SourceInstance:
    """One source file: its header (no Pixel Data) and frames."""

    path: Path | str  # a file, or the URL of an instance in a PACS
    header: Dataset = field(repr=False)
    sop_class_uid: str
    sop_instance_uid: str
    series_instance_uid: str
    study_instance_uid: str
    frame_of_reference_uid: str | None
    modality: str
    rows: int | None
    columns: int | None
    number_of_frames: int
    instance_number: int | None = None
    frames: list[SourceFrame] = field(default_factory=list, repr=False)

    @property
    def is_multiframe(self) -> bool:
        """True for instances of multi-frame IODs (Multi-frame Module, PS3.3 C.7.6.6)."""
        return "NumberOfFrames" in self.header

    @property
    def series_description(self) -> str:
        return _text(self.header.get("SeriesDescription"))


# ----------------------------------------------------------------------------------------------
# Reading headers


def read_source_headers(
    paths: Iterable[Path],
    *,
    location: Location | None = None,
    spec_path: Sequence[PathPart] = (),
) -> list[SourceInstance]:
    """Read the header of each file (Pixel Data is skipped, large values deferred).

    Raises :class:`InputError` for a file that is not DICOM or lacks the SOP Common / General
    Series identifiers (PS3.3 C.12.1, C.7.3.1), and for two files with one SOP Instance UID.
    """
    instances: list[SourceInstance] = []
    seen: dict[str, Path] = {}
    for path in paths:
        path = path if isinstance(path, Path) else Path(path)
        inst = read_source_header(path, location=location, spec_path=spec_path)
        other = seen.get(inst.sop_instance_uid)
        if other is not None:
            raise InputError(
                f"two source files have the same SOP Instance UID {inst.sop_instance_uid}: {other} and {path}",
                location=location,
                path=spec_path,
                hint="remove the copy, or narrow 'sources' so each instance is named once",
            )
        seen[inst.sop_instance_uid] = path
        instances.append(inst)
    return instances


def read_source_header(
    path: Path, *, location: Location | None = None, spec_path: Sequence[PathPart] = ()
) -> SourceInstance:
    """One file's :class:`SourceInstance` (see :func:`read_source_headers`); its geometry is checked
    (:func:`geometry_defect`), so NaN, infinite or zero spacing never reaches an output."""
    inst = _read_source_header(path if isinstance(path, Path) else Path(path), location=location, spec_path=spec_path)
    check_geometry(inst, path, location=location, spec_path=spec_path)
    return inst


def check_geometry(
    inst: SourceInstance, path: Path | str, *, location: Location | None = None, spec_path: Sequence[PathPart] = ()
) -> None:
    """Raise an :class:`InputError` if a frame of ``inst`` has unusable geometry (:func:`geometry_defect`)."""
    for frame in inst.frames or ():
        defect = geometry_defect(frame)
        if defect:
            where = f" (frame {frame.frame_number})" if frame.frame_number is not None else ""
            raise InputError(
                f"the source image {path}{where} has {defect}",
                location=location,
                path=spec_path,
                hint="fix or leave out that image; dcmspec does not copy invalid geometry",
            )


def geometry_defect(frame: SourceFrame) -> str | None:
    """What makes a frame's Image Plane attributes unusable (PS3.3 C.7.6.2): non-finite values, a zero
    direction cosine vector, a Pixel Spacing that is not positive; None when they are usable. (Plain
    ``math`` on the few values: numpy's per-call overhead dominated on a 300-slice series.)"""
    for name, vector in (
        ("Image Position (Patient)", frame.image_position),
        ("Image Orientation (Patient)", frame.image_orientation),
        ("Pixel Spacing", frame.pixel_spacing),
    ):
        if vector is not None and not all(map(math.isfinite, vector.tolist())):
            return f"{name} {vector.tolist()}, which is not finite"
    if frame.image_orientation is not None:
        cosines = frame.image_orientation.tolist()
        if min(math.hypot(*cosines[:3]), math.hypot(*cosines[3:])) < 1e-6:
            return f"Image Orientation (Patient) {cosines}, a zero direction vector"
    if frame.pixel_spacing is not None and not all(v > 0 for v in frame.pixel_spacing.tolist()):
        return f"Pixel Spacing {frame.pixel_spacing.tolist()}, which is not positive"
    if frame.slice_thickness is not None and not (np.isfinite(frame.slice_thickness) and frame.slice_thickness >= 0):
        return f"Slice Thickness {frame.slice_thickness}, which is not a finite non-negative number"
    return None


def _read_source_header(
    path: Path, *, location: Location | None = None, spec_path: Sequence[PathPart] = ()
) -> SourceInstance:
    try:
        ds: Dataset | None = scan_header(path, DEFER_SIZE) if FAST_HEADERS else None
        if ds is None:
            ds = _dcmread(path)
        elif (values := plain_values(ds)) is not None:
            return _instance_from_values(path, ds, values)
    except (InvalidDicomError, OSError, EOFError, ValueError, KeyError, TypeError) as exc:
        raise InputError(
            f"not a readable DICOM file: {path} ({exc})",
            location=location,
            path=spec_path,
            hint="source images must be DICOM Part 10 files",
        ) from exc
    return instance_from_dataset(path, ds, location=location, spec_path=spec_path)


def instance_from_dataset(
    path: Path | str, ds: Dataset, *, location: Location | None = None, spec_path: Sequence[PathPart] = ()
) -> SourceInstance:
    """The :class:`SourceInstance` of a header read elsewhere (``path`` names it in messages: a file or
    a URL); an :class:`InputError` if it lacks the SOP Common / General Series identifiers."""
    missing = [
        k for k in ("SOPClassUID", "SOPInstanceUID", "SeriesInstanceUID", "StudyInstanceUID") if not _text(ds.get(k))
    ]
    if missing:
        raise InputError(
            f"{path} is not a usable DICOM instance: {', '.join(missing)} missing",
            location=location,
            path=spec_path,
        )
    try:
        return _instance_from_header(path, ds)
    except (ValueError, TypeError, IndexError, AttributeError) as exc:
        raise InputError(f"cannot read the image geometry of {path}: {exc}", location=location, path=spec_path) from exc


def _dcmread(path: Path) -> Dataset:
    """pydicom's header read: the general path, for every file :func:`scan_header` does not take."""
    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True, defer_size=DEFER_SIZE)
    except InvalidDicomError:
        if not looks_like_dicom(path):
            raise
        # No preamble/File Meta Information (pre-PS3.10 files): let pydicom guess the encoding.
        ds = pydicom.dcmread(path, stop_before_pixels=True, defer_size=DEFER_SIZE, force=True)
    _check_complete(ds)
    return ds


def _check_complete(ds: Dataset) -> None:
    """EOFError for a value the file ends inside of: pydicom reads the bytes there are, without a word
    (a Pixel Spacing "0.5\\0.75" cut to "0.5\\0.7"); a value has its Value Length (PS3.5 7.1.1)."""
    for elem in ds._dict.values():
        if (
            type(elem) is RawDataElement
            and elem.value is not None
            and len(elem.value) < elem.length != 0xFFFFFFFF  # not an undefined length (PS3.5 7.1.1)
        ):
            raise EOFError(f"the file ends inside the value of {elem.tag}")


def _instance_from_values(path: Path, ds: Dataset, v: PlainValues) -> SourceInstance:
    """:func:`_instance_from_header` for a single-frame image whose values
    :func:`~dcmspec_compiler.resolve.headerscan.plain_values` decoded (same result, without pydicom's
    per-element conversion)."""
    inst = SourceInstance(
        path=path,
        header=ds,
        sop_class_uid=v["sop_class_uid"],
        sop_instance_uid=v["sop_instance_uid"],
        series_instance_uid=v["series_instance_uid"],
        study_instance_uid=v["study_instance_uid"],
        frame_of_reference_uid=v["frame_of_reference_uid"],
        modality=v["modality"],
        rows=v["rows"],
        columns=v["columns"],
        number_of_frames=1,
        instance_number=v["instance_number"],
    )
    if inst.rows is None or inst.columns is None:
        return inst
    inst.frames = [
        SourceFrame(
            instance=inst,
            sop_class_uid=inst.sop_class_uid,
            sop_instance_uid=inst.sop_instance_uid,
            frame_number=None,
            position=v["position"],
            orientation=v["orientation"],
            spacing=v["spacing"],
            thickness=v["thickness"],
            rows=inst.rows,
            columns=inst.columns,
            instance_number=inst.instance_number,
        )
    ]
    return inst


def _instance_from_header(path: Path | str, ds: Dataset) -> SourceInstance:
    rows = _int(ds.get("Rows"))
    columns = _int(ds.get("Columns"))
    multiframe = "NumberOfFrames" in ds
    n_frames = (_int(ds.get("NumberOfFrames")) or 1) if multiframe else 1
    inst = SourceInstance(
        path=path,
        header=ds,
        sop_class_uid=_text(ds.SOPClassUID),
        sop_instance_uid=_text(ds.SOPInstanceUID),
        series_instance_uid=_text(ds.SeriesInstanceUID),
        study_instance_uid=_text(ds.StudyInstanceUID),
        frame_of_reference_uid=_text(ds.get("FrameOfReferenceUID")) or None,
        modality=_text(ds.get("Modality")),
        rows=rows,
        columns=columns,
        number_of_frames=n_frames,
        instance_number=_int(ds.get("InstanceNumber")),
    )
    if rows is None or columns is None:
        return inst  # not an image (e.g. SR): no frames
    if multiframe:
        inst.frames = _multiframe_frames(inst, ds, n_frames)
    else:
        inst.frames = [_frame(inst, None, ds, ds, ds, ds)]
    return inst


def _frame(
    inst: SourceInstance,
    number: int | None,
    pos: Dataset | None,
    ori: Dataset | None,
    meas: Dataset | None,
    thick: Dataset | None,
) -> SourceFrame:
    return SourceFrame(
        instance=inst,
        sop_class_uid=inst.sop_class_uid,
        sop_instance_uid=inst.sop_instance_uid,
        frame_number=number,
        position=_vector(pos, "ImagePositionPatient", 3),
        orientation=_vector(ori, "ImageOrientationPatient", 6),
        spacing=_vector(meas, "PixelSpacing", 2),
        thickness=_number(thick.get("SliceThickness")) if thick is not None else None,
        rows=inst.rows or 0,
        columns=inst.columns or 0,
        instance_number=inst.instance_number,
    )


def _multiframe_frames(inst: SourceInstance, ds: Dataset, n_frames: int) -> list[SourceFrame]:
    """Frames of a multi-frame image from its functional groups (PS3.3 C.7.6.16), falling back to
    top-level Image Plane attributes (position only when there is a single frame)."""
    shared_seq = ds.get("SharedFunctionalGroupsSequence")
    shared = shared_seq[0] if shared_seq else None
    per_frame = ds.get("PerFrameFunctionalGroupsSequence") or []
    frames = []
    for i in range(n_frames):
        item = per_frame[i] if i < len(per_frame) else None
        pos = frame_group(item, shared, "PlanePositionSequence")
        ori = frame_group(item, shared, "PlaneOrientationSequence")
        meas = frame_group(item, shared, "PixelMeasuresSequence")
        if pos is None and n_frames == 1 and "ImagePositionPatient" in ds:
            pos = ds
        if ori is None and "ImageOrientationPatient" in ds:
            ori = ds
        if meas is None and "PixelSpacing" in ds:
            meas = ds
        thick = meas if meas is not None and "SliceThickness" in meas else (ds if "SliceThickness" in ds else None)
        frames.append(_frame(inst, i + 1, pos, ori, meas, thick))
    return frames


# ----------------------------------------------------------------------------------------------
# Small helpers


def _text(value: object) -> str:
    """A string value without the NUL/space padding some writers leave (PS3.5 6.2)."""
    if value is None:
        return ""
    return str(value).strip("\x00 ")


def _int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _float(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _number(value: Any) -> str | None:
    """The DS string of a single number, None when absent or not a number."""
    strings = None if _float(value) is None else ds_strings(value)
    return None if strings is None else strings[0]


def _vector(ds: Dataset | None, keyword: str, n: int) -> tuple[str, ...] | None:
    """The ``n`` DS strings of ``keyword`` (None when absent); ValueError for another count or a value
    that is not a number."""
    if ds is None:
        return None
    value = ds.get(keyword)
    if value is None or value == "":
        return None
    values = list(value) if isinstance(value, (list, tuple, pydicom.multival.MultiValue)) else [value]
    if len(values) != n:
        raise ValueError(f"{keyword} has {len(values)} values, expected {n}")
    for v in values:
        float(v)
    return ds_strings(values)
