"""Source images: read the headers of the files a spec names, pick and check one series.

A spec's ``sources`` names files, folders or globs (found by :mod:`.source_files`); this module turns them into
:class:`SourceInstance` objects (one per file, header only: Pixel Data is never read) and their
:class:`SourceFrame` objects (one per frame, with its plane geometry), then groups them into
:class:`SourceSeries`. The geometry is the Image Plane Module (PS3.3 C.7.6.2) for single-frame
images, and the Plane Position / Plane Orientation / Pixel Measures functional groups (PS3.3
C.7.6.16.2.1-3) of the Shared and Per-frame Functional Groups (PS3.3 C.7.6.16) for multi-frame
images. Slice spacing always comes from the positions, never from Spacing Between Slices
(0018,0088), which real files get wrong (negative, missing).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from ..errors import InputError, Location, PathPart
from .headerscan import plain_values, scan_header
from .source_files import looks_like_dicom

#: Largest difference between direction cosines still taken as "the same orientation".
ORIENTATION_TOLERANCE = 1e-4
#: Largest difference (mm) between positions/spacings still taken as equal.
POSITION_TOLERANCE_MM = 1e-2


#: Header values longer than this (bytes) are left in the file until used (pydicom's ``defer_size``).
DEFER_SIZE = 4096
#: Read headers with :func:`~dcmspec_compiler.resolve.headerscan.scan_header` where it can (same Dataset as
#: pydicom's reader, several times faster); ``False`` always uses ``pydicom.dcmread``.
FAST_HEADERS = True


# ----------------------------------------------------------------------------------------------
# Data classes


@dataclass(frozen=True, eq=False)
class SourceFrame:
    """One frame of a source image and its plane geometry (PS3.3 C.7.6.2, C.7.6.16.2).

    ``frame_number`` is 1-based for instances of multi-frame IODs (those with Number of Frames),
    ``None`` for single-frame images, as in Referenced Frame Number (PS3.3 C.7.6.16.2.5).
    Geometry fields are ``None`` where the file has none (e.g. a projection radiograph).
    """

    instance: "SourceInstance" = field(repr=False)
    sop_class_uid: str
    sop_instance_uid: str
    frame_number: int | None
    image_position: np.ndarray | None
    image_orientation: np.ndarray | None
    pixel_spacing: np.ndarray | None
    slice_thickness: float | None
    rows: int
    columns: int
    instance_number: int | None = None

    @property
    def path(self) -> Path:
        return self.instance.path

    @property
    def frame_index(self) -> int:
        """0-based index of the frame in its file's Pixel Data."""
        return 0 if self.frame_number is None else self.frame_number - 1

    @property
    def normal(self) -> np.ndarray | None:
        """Unit slice normal: row direction x column direction (PS3.3 C.7.6.2.1.1)."""
        return None if self.image_orientation is None else _normal(self.image_orientation)

    @property
    def label(self) -> str:
        """``file`` or ``file frame N`` for messages."""
        name = str(self.instance.path)
        return name if self.frame_number is None else f"{name} frame {self.frame_number}"


@dataclass(eq=False)
class SourceInstance:
    """One source file: its header (no Pixel Data) and frames."""

    path: Path
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


@dataclass(eq=False)
class SourceSeries:
    """The instances of one series, with their frames ordered by geometry (see :func:`order_frames`).

    ``warnings`` is filled by :func:`resolve_single_series` (gaps, overlaps, uneven spacing).
    """

    series_instance_uid: str
    instances: list[SourceInstance]
    frames: list[SourceFrame]
    warnings: list[str] = field(default_factory=list)

    @property
    def header(self) -> Dataset:
        """Header of the instance holding the first ordered frame."""
        return self.frames[0].instance.header if self.frames else self.instances[0].header

    @property
    def study(self) -> Dataset:
        """Source of the Patient/Study/Frame of Reference attributes of a derived object."""
        return self.header

    @property
    def patient(self) -> Dataset:
        return self.header

    @property
    def modality(self) -> str:
        return self.instances[0].modality

    @property
    def study_instance_uid(self) -> str:
        return self.instances[0].study_instance_uid

    @property
    def frame_of_reference_uid(self) -> str | None:
        return self.instances[0].frame_of_reference_uid

    @property
    def series_description(self) -> str:
        return self.instances[0].series_description

    @property
    def rows(self) -> int | None:
        return self.frames[0].rows if self.frames else None

    @property
    def columns(self) -> int | None:
        return self.frames[0].columns if self.frames else None

    @property
    def has_geometry(self) -> bool:
        """True if every frame has a position, an orientation and a pixel spacing."""
        return bool(self.frames) and all(_has_geometry(f) for f in self.frames)

    def slice_positions(self) -> np.ndarray | None:
        """Projection (mm) of each frame's position onto the first frame's normal, in frame order."""
        if not self.has_geometry:
            return None
        normal = self.frames[0].normal
        return np.array([float(f.image_position @ normal) for f in self.frames])

    def slice_spacing(self) -> float | None:
        """Median distance (mm) between consecutive frames along the normal."""
        pos = self.slice_positions()
        if pos is None or len(pos) < 2:
            return None
        return float(np.median(np.diff(pos)))

    def geometry_problems(self, tolerance_mm: float = POSITION_TOLERANCE_MM) -> list[str]:
        """Why the frames do not form a regular volume (empty if they do)."""
        return _geometry_problems(self.frames, tolerance_mm)

    def is_volume(self, tolerance_mm: float = POSITION_TOLERANCE_MM) -> bool:
        """Same orientation, pixel spacing and size, parallel and evenly spaced planes."""
        return not self.geometry_problems(tolerance_mm)


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
        path = Path(path)
        inst = read_source_header(path, location=location, spec_path=spec_path)
        other = seen.get(inst.sop_instance_uid)
        if other is not None:
            raise InputError(
                f"two source files have the same SOP Instance UID {inst.sop_instance_uid}: "
                f"{other} and {path}",
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
    """One file's :class:`SourceInstance` (see :func:`read_source_headers`)."""
    path = Path(path)
    try:
        ds = scan_header(path, DEFER_SIZE) if FAST_HEADERS else None
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
    missing = [k for k in ("SOPClassUID", "SOPInstanceUID", "SeriesInstanceUID", "StudyInstanceUID")
               if not _text(ds.get(k))]
    if missing:
        raise InputError(
            f"{path} is not a usable DICOM instance: {', '.join(missing)} missing",
            location=location,
            path=spec_path,
        )
    try:
        return _instance_from_header(path, ds)
    except (ValueError, TypeError, IndexError, AttributeError) as exc:
        raise InputError(
            f"cannot read the image geometry of {path}: {exc}", location=location, path=spec_path
        ) from exc


def _dcmread(path: Path) -> Dataset:
    """pydicom's header read: the general path, for every file :func:`scan_header` does not take."""
    try:
        return pydicom.dcmread(path, stop_before_pixels=True, defer_size=DEFER_SIZE)
    except InvalidDicomError:
        if not looks_like_dicom(path):
            raise
        # No preamble/File Meta Information (pre-PS3.10 files): let pydicom guess the encoding.
        return pydicom.dcmread(path, stop_before_pixels=True, defer_size=DEFER_SIZE, force=True)


def _instance_from_values(path: Path, ds: Dataset, v: dict) -> SourceInstance:
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
    inst.frames = [SourceFrame(
        instance=inst,
        sop_class_uid=inst.sop_class_uid,
        sop_instance_uid=inst.sop_instance_uid,
        frame_number=None,
        image_position=_array(v["position"]),
        image_orientation=_array(v["orientation"]),
        pixel_spacing=_array(v["spacing"]),
        slice_thickness=v["thickness"],
        rows=inst.rows,
        columns=inst.columns,
        instance_number=inst.instance_number,
    )]
    return inst


def _array(values: tuple[float, ...] | None) -> np.ndarray | None:
    if values is None:
        return None
    arr = np.array(values, dtype=float)
    arr.setflags(write=False)
    return arr


def _instance_from_header(path: Path, ds: Dataset) -> SourceInstance:
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


def _frame(inst: SourceInstance, number: int | None, pos: Dataset | None, ori: Dataset | None,
           meas: Dataset | None, thick: Dataset | None) -> SourceFrame:
    return SourceFrame(
        instance=inst,
        sop_class_uid=inst.sop_class_uid,
        sop_instance_uid=inst.sop_instance_uid,
        frame_number=number,
        image_position=_vector(pos, "ImagePositionPatient", 3),
        image_orientation=_vector(ori, "ImageOrientationPatient", 6),
        pixel_spacing=_vector(meas, "PixelSpacing", 2),
        slice_thickness=_float(thick.get("SliceThickness")) if thick is not None else None,
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
        pos = _group(item, shared, "PlanePositionSequence")
        ori = _group(item, shared, "PlaneOrientationSequence")
        meas = _group(item, shared, "PixelMeasuresSequence")
        if pos is None and n_frames == 1 and "ImagePositionPatient" in ds:
            pos = ds
        if ori is None and "ImageOrientationPatient" in ds:
            ori = ds
        if meas is None and "PixelSpacing" in ds:
            meas = ds
        thick = meas if meas is not None and "SliceThickness" in meas else (
            ds if "SliceThickness" in ds else None)
        frames.append(_frame(inst, i + 1, pos, ori, meas, thick))
    return frames


def _group(item: Dataset | None, shared: Dataset | None, keyword: str) -> Dataset | None:
    """The first item of a functional group macro, per-frame before shared."""
    for source in (item, shared):
        if source is not None:
            seq = source.get(keyword)
            if seq:
                return seq[0]
    return None


# ----------------------------------------------------------------------------------------------
# Selecting and grouping


def select_instances(
    instances: Sequence[SourceInstance],
    *,
    series_instance_uid: str | None = None,
    sop_instance_uids: Sequence[str] | None = None,
    modality: str | None = None,
    location: Location | None = None,
    spec_path: Sequence[PathPart] = (),
) -> list[SourceInstance]:
    """The instances matching every selector given; an :class:`InputError` listing what is there
    when a selector matches nothing (or a requested SOP Instance UID is absent)."""
    selected = list(instances)
    if series_instance_uid is not None:
        selected = [i for i in selected if i.series_instance_uid == series_instance_uid.strip()]
        if not selected:
            raise InputError(
                f"no source instance has Series Instance UID {series_instance_uid}",
                location=location,
                path=tuple(spec_path) + ("series_instance_uid",),
                hint="the sources hold: " + describe_series(instances),
            )
    if modality is not None:
        pool = selected
        selected = [i for i in pool if i.modality.upper() == modality.strip().upper()]
        if not selected:
            raise InputError(
                f"no source instance has Modality {modality}",
                location=location,
                path=tuple(spec_path) + ("modality",),
                hint="the sources hold: " + describe_series(pool),
            )
    if sop_instance_uids is not None:
        wanted = [u.strip() for u in sop_instance_uids]
        by_uid = {i.sop_instance_uid: i for i in selected}
        missing = [u for u in wanted if u not in by_uid]
        if missing:
            raise InputError(
                f"{len(missing)} of the requested SOP Instance UIDs are not among the sources: "
                + ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else ""),
                location=location,
                path=tuple(spec_path) + ("sop_instance_uids",),
                hint="the sources hold: " + describe_series(selected or instances),
            )
        keep = set(wanted)
        selected = [i for i in selected if i.sop_instance_uid in keep]
    return selected


def describe_series(instances: Sequence[SourceInstance]) -> str:
    """``<uid> (CT, "CT WB", 10 instances); ...`` for messages."""
    counts: Counter[str] = Counter()
    first: dict[str, SourceInstance] = {}
    for inst in instances:
        counts[inst.series_instance_uid] += 1
        first.setdefault(inst.series_instance_uid, inst)
    parts = []
    for uid, n in counts.items():
        inst = first[uid]
        desc = f', "{inst.series_description}"' if inst.series_description else ""
        parts.append(f"{uid} ({inst.modality or '?'}{desc}, {n} instance{'s' if n != 1 else ''})")
    return "; ".join(parts) if parts else "nothing"


def group_series(instances: Sequence[SourceInstance]) -> list[SourceSeries]:
    """One :class:`SourceSeries` per Series Instance UID, in order of first appearance."""
    groups: dict[str, list[SourceInstance]] = {}
    for inst in instances:
        groups.setdefault(inst.series_instance_uid, []).append(inst)
    return [
        SourceSeries(uid, insts, order_frames([f for i in insts for f in i.frames]))
        for uid, insts in groups.items()
    ]


def order_frames(frames: Sequence[SourceFrame]) -> list[SourceFrame]:
    """Frames sorted along the slice normal (ascending projection of the position onto the first
    frame's normal, PS3.3 C.7.6.2.1.1). If any frame lacks a position or orientation, sorted by
    Instance Number then frame number instead. Ties keep Instance Number / frame order."""

    def fallback(f: SourceFrame) -> tuple:
        inst_no = f.instance_number if f.instance_number is not None else 1 << 62
        return (inst_no, f.frame_number or 0, str(f.instance.path))

    if not frames:
        return []
    if not all(f.image_position is not None and f.image_orientation is not None for f in frames):
        return sorted(frames, key=fallback)
    normal = frames[0].normal
    return sorted(frames, key=lambda f: (round(float(f.image_position @ normal), 4), fallback(f)))


def resolve_single_series(
    instances: Sequence[SourceInstance],
    *,
    location: Location | None = None,
    spec_path: Sequence[PathPart] = (),
) -> SourceSeries:
    """The one series the instances must form, checked for what a Segmentation needs.

    Errors: no image, several series, different Rows/Columns, Frame of Reference UIDs or image
    orientations (the Multi-frame Functional Groups of a SEG share one Frame of Reference and
    the SEG pixel matrix has one size; PS3.3 A.51, C.8.20). Gaps, overlaps, uneven spacing and
    differing pixel spacing are allowed and reported in ``series.warnings``.
    """
    images = [i for i in instances if i.frames]
    if not images:
        what = describe_series(instances) if instances else "no instances"
        raise InputError(
            f"the sources contain no images ({what})",
            location=location,
            path=spec_path,
            hint="point 'sources.images' at the image series the object is derived from",
        )
    if len(images) < len(instances):
        bad = [str(i.path) for i in instances if not i.frames]
        raise InputError(
            f"some source files are not images (no Rows/Columns): {_list(bad)}",
            location=location,
            path=spec_path,
            hint="select the image series with 'series_instance_uid:' or 'modality:'",
        )
    series = group_series(images)
    if len(series) > 1:
        raise InputError(
            f"the sources contain {len(series)} series where one is expected: "
            + describe_series(images),
            location=location,
            path=spec_path,
            hint="add 'series_instance_uid: <uid>' under 'sources' to pick one",
        )
    s = series[0]
    frames = s.frames
    _check_same(frames, lambda f: (f.rows, f.columns), "Rows/Columns",
                lambda v: f"{v[0]}x{v[1]}", location, spec_path)
    _check_same(frames, lambda f: f.instance.frame_of_reference_uid, "Frame of Reference UID",
                lambda v: str(v), location, spec_path)
    oriented = [f for f in frames if f.image_orientation is not None]
    if oriented and len(oriented) != len(frames):
        missing = [f.label for f in frames if f.image_orientation is None]
        raise InputError(
            f"some source frames have no Image Orientation (Patient): {_list(missing)}",
            location=location,
            path=spec_path,
        )
    if oriented:
        ref = oriented[0].image_orientation
        odd = [f for f in oriented if np.abs(f.image_orientation - ref).max() > ORIENTATION_TOLERANCE]
        if odd:
            raise InputError(
                "source frames have different Image Orientation (Patient): "
                f"{oriented[0].label} has {_fmt(ref)}, {odd[0].label} has "
                f"{_fmt(odd[0].image_orientation)} ({len(odd)} frames differ: {_list([f.label for f in odd])})",
                location=location,
                path=spec_path,
                hint="a Segmentation needs source frames with one orientation; select one series "
                "or one stack",
            )
    s.warnings = _geometry_warnings(s)
    return s


def _check_same(frames, key, what, fmt, location, spec_path) -> None:
    values: dict = {}
    for f in frames:
        values.setdefault(key(f), []).append(f)
    if len(values) > 1:
        parts = [f"{fmt(v)}: {_list(sorted({str(f.instance.path) for f in fs}))}"
                 for v, fs in values.items()]
        raise InputError(
            f"source images have different {what}: " + "; ".join(parts),
            location=location,
            path=spec_path,
            hint="a Segmentation covers source frames with one size and one Frame of Reference; "
            "select the matching files",
        )


# ----------------------------------------------------------------------------------------------
# Geometry checks


def _geometry_problems(frames: Sequence[SourceFrame], tol: float) -> list[str]:
    if not frames:
        return ["no frames"]
    problems: list[str] = []
    missing = [f.label for f in frames if not _has_geometry(f)]
    if missing:
        problems.append(f"{len(missing)} frames have no position, orientation or pixel spacing "
                        f"({_list(missing)})")
        return problems
    sizes = {(f.rows, f.columns) for f in frames}
    if len(sizes) > 1:
        problems.append(f"frames have different Rows/Columns: {sorted(sizes)}")
    ref = frames[0]
    if any(np.abs(f.image_orientation - ref.image_orientation).max() > ORIENTATION_TOLERANCE
           for f in frames):
        problems.append("frames have different orientations")
        return problems
    if any(np.abs(f.pixel_spacing - ref.pixel_spacing).max() > tol for f in frames):
        problems.append("frames have different pixel spacings")
    if len(frames) < 2:
        return problems
    normal = ref.normal
    pos = np.array([f.image_position for f in frames], dtype=float)
    proj = pos @ normal
    # Positions must lie on a line along the normal (no in-plane shift between slices).
    in_plane = (pos - pos[0]) - np.outer(proj - proj[0], normal)
    if np.abs(in_plane).max() > tol:
        problems.append("slice positions are not stacked along the slice normal (sheared or "
                        "shifted in-plane)")
    steps = np.diff(proj)
    if np.any(np.abs(steps) <= tol):
        dup = sum(1 for s in steps if abs(s) <= tol)
        problems.append(f"{dup} frames share a position with another frame")
    elif np.abs(steps - np.median(steps)).max() > tol:
        problems.append("slices are not evenly spaced: steps from "
                        f"{steps.min():.4g} to {steps.max():.4g} mm")
    return problems


def _geometry_warnings(s: SourceSeries) -> list[str]:
    warnings: list[str] = []
    frames = s.frames
    if not s.has_geometry or len(frames) < 2:
        return warnings
    ref = frames[0]
    if any(np.abs(f.pixel_spacing - ref.pixel_spacing).max() > POSITION_TOLERANCE_MM for f in frames):
        warnings.append("source frames have different Pixel Spacing")
    proj = s.slice_positions()
    steps = np.diff(proj)
    med = float(np.median(steps))
    dups = [frames[i + 1].label for i, d in enumerate(steps) if abs(d) <= POSITION_TOLERANCE_MM]
    if dups:
        warnings.append(f"{len(dups)} source frames share a position with another frame: {_list(dups)}")
    gaps = [(frames[i].label, frames[i + 1].label, d) for i, d in enumerate(steps)
            if d > med + POSITION_TOLERANCE_MM]
    if gaps:
        a, b, d = gaps[0]
        warnings.append(f"source slices have {len(gaps)} gap(s) larger than the usual spacing "
                        f"{med:.4g} mm, e.g. {d:.4g} mm between {a} and {b}")
    elif np.abs(steps - med).max() > POSITION_TOLERANCE_MM and not dups:
        warnings.append(f"source slices are unevenly spaced ({steps.min():.4g} to {steps.max():.4g} mm)")
    thick = [f.slice_thickness for f in frames if f.slice_thickness]
    if thick and med > POSITION_TOLERANCE_MM and max(thick) > med + POSITION_TOLERANCE_MM:
        warnings.append(f"source slices overlap: Slice Thickness {max(thick):.4g} mm is larger than "
                        f"the spacing {med:.4g} mm")
    return warnings


# ----------------------------------------------------------------------------------------------
# Small helpers


def _has_geometry(f: SourceFrame) -> bool:
    return (f.image_position is not None and f.image_orientation is not None
            and f.pixel_spacing is not None)


def _normal(orientation: np.ndarray) -> np.ndarray:
    n = np.cross(orientation[:3], orientation[3:])
    norm = np.linalg.norm(n)
    return n / norm if norm > 0 else n


def _text(value) -> str:
    """A string value without the NUL/space padding some writers leave (PS3.5 6.2)."""
    if value is None:
        return ""
    return str(value).strip("\x00 ")


def _int(value) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _float(value) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _vector(ds: Dataset | None, keyword: str, n: int) -> np.ndarray | None:
    if ds is None:
        return None
    value = ds.get(keyword)
    if value is None or value == "":
        return None
    values = list(value) if isinstance(value, (list, tuple, pydicom.multival.MultiValue)) else [value]
    if len(values) != n:
        raise ValueError(f"{keyword} has {len(values)} values, expected {n}")
    arr = np.array([float(v) for v in values], dtype=float)
    arr.setflags(write=False)
    return arr


def _fmt(v: np.ndarray) -> str:
    return "[" + ", ".join(f"{x:.6g}" for x in v) + "]"


def _list(items: Sequence[str], limit: int = 4) -> str:
    items = list(items)
    text = ", ".join(items[:limit])
    return text + (f" and {len(items) - limit} more" if len(items) > limit else "")
