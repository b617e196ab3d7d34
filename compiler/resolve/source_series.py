"""Source images, series selection: pick the instances a spec asks for and check that they form the
one series a derived object needs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

import numpy as np
from pydicom.dataset import Dataset

from ..errors import InputError, Location, PathPart
from ..iods.common.source_frame import SourceFrame
from .source_geometry import (
    ORIENTATION_TOLERANCE,
    POSITION_TOLERANCE_MM,
    format_vector,
    geometry_problems,
    geometry_warnings,
    has_geometry,
    median,
    order_frames,
    short_list,
)
from .source_headers import SourceInstance

if TYPE_CHECKING:
    from typing import cast

    from .source_geometry import OrientedFrame, PlacedFrame

_K = TypeVar("_K")


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
        return bool(self.frames) and all(has_geometry(f) for f in self.frames)

    def slice_positions(self) -> np.ndarray | None:
        """Projection (mm) of each frame's position onto the first frame's normal, in frame order."""
        if not self.has_geometry:
            return None
        frames: Sequence[SourceFrame] = self.frames
        if TYPE_CHECKING:  # every frame has its geometry
            frames = cast("Sequence[PlacedFrame]", frames)
        normal = frames[0].normal
        return np.array([float(f.image_position @ normal) for f in frames])

    def slice_spacing(self) -> float | None:
        """Median distance (mm) between consecutive frames along the normal."""
        pos = self.slice_positions()
        if pos is None or len(pos) < 2:
            return None
        return median(np.diff(pos))

    def geometry_problems(self, tolerance_mm: float = POSITION_TOLERANCE_MM) -> list[str]:
        """Why the frames do not form a regular volume (empty if they do)."""
        return geometry_problems(self.frames, tolerance_mm)

    def is_volume(self, tolerance_mm: float = POSITION_TOLERANCE_MM) -> bool:
        """Same orientation, pixel spacing and size, parallel and evenly spaced planes."""
        return not self.geometry_problems(tolerance_mm)


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
                + ", ".join(missing[:5])
                + (" ..." if len(missing) > 5 else ""),
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
        SourceSeries(uid, insts, order_frames([f for i in insts for f in i.frames])) for uid, insts in groups.items()
    ]


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
            f"some source files are not images (no Rows/Columns): {short_list(bad)}",
            location=location,
            path=spec_path,
            hint="select the image series with 'series_instance_uid:' or 'modality:'",
        )
    series = group_series(images)
    if len(series) > 1:
        raise InputError(
            f"the sources contain {len(series)} series where one is expected: " + describe_series(images),
            location=location,
            path=spec_path,
            hint="add 'series_instance_uid: <uid>' under 'sources' to pick one",
        )
    s = series[0]
    frames = s.frames
    _check_same(frames, lambda f: (f.rows, f.columns), "Rows/Columns", lambda v: f"{v[0]}x{v[1]}", location, spec_path)
    _check_same(
        frames,
        lambda f: f.instance.frame_of_reference_uid,
        "Frame of Reference UID",
        lambda v: str(v),
        location,
        spec_path,
    )
    oriented: Sequence[SourceFrame] = [f for f in frames if f.image_orientation is not None]
    if TYPE_CHECKING:
        oriented = cast("Sequence[OrientedFrame]", oriented)
    if oriented and len(oriented) != len(frames):
        missing = [f.label for f in frames if f.image_orientation is None]
        raise InputError(
            f"some source frames have no Image Orientation (Patient): {short_list(missing)}",
            location=location,
            path=spec_path,
            hint="a Segmentation's frames share one geometry: select the images that have one"
            " (sources.series_instance_uid, sources.sop_instance_uids)",
        )
    if oriented:
        ref = oriented[0].image_orientation
        odd = [f for f in oriented if np.abs(f.image_orientation - ref).max() > ORIENTATION_TOLERANCE]
        if odd:
            raise InputError(
                "source frames have different Image Orientation (Patient): "
                f"{oriented[0].label} has {format_vector(ref)}, {odd[0].label} has "
                f"{format_vector(odd[0].image_orientation)}"
                f" ({len(odd)} frames differ: {short_list([f.label for f in odd])})",
                location=location,
                path=spec_path,
                hint="a Segmentation needs source frames with one orientation; select one series or one stack",
            )
    s.warnings = geometry_warnings(s)
    return s


def _check_same(
    frames: Sequence[SourceFrame],
    key: Callable[[SourceFrame], _K],
    what: str,
    fmt: Callable[[_K], str],
    location: Location | None,
    spec_path: Sequence[PathPart],
) -> None:
    values: dict[_K, list[SourceFrame]] = {}
    for f in frames:
        values.setdefault(key(f), []).append(f)
    if len(values) > 1:
        parts = [f"{fmt(v)}: {short_list(sorted({str(f.instance.path) for f in fs}))}" for v, fs in values.items()]
        raise InputError(
            f"source images have different {what}: " + "; ".join(parts),
            location=location,
            path=spec_path,
            hint="a Segmentation covers source frames with one size and one Frame of Reference; "
            "select the matching files",
        )
