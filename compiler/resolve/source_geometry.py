"""Source images, ordering and geometry: frames sorted along the slice normal, and what keeps them
from forming a regular volume (PS3.3 C.7.6.2.1.1)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from typing import cast

    from ..iods.common.source_frame import SourceFrame
    from .source_series import SourceSeries

    class OrientedFrame(SourceFrame):
        """For the type checker: a :class:`SourceFrame` known to have its orientation (the code that
        narrows to it runs under ``if TYPE_CHECKING:``, at no cost)."""

        @property
        def image_orientation(self) -> np.ndarray: ...
        @property
        def normal(self) -> np.ndarray: ...

    class PlacedFrame(OrientedFrame):
        """For the type checker: a :class:`SourceFrame` known to have its position, orientation and
        pixel spacing."""

        @property
        def image_position(self) -> np.ndarray: ...
        @property
        def pixel_spacing(self) -> np.ndarray: ...


#: Largest difference between direction cosines still taken as "the same orientation".
ORIENTATION_TOLERANCE = 1e-4
#: Largest difference (mm) between positions/spacings still taken as equal.
POSITION_TOLERANCE_MM = 1e-2


def median(values: np.ndarray) -> float:
    """``float(np.median(values))`` of a 1-D float array (NaN if it holds one), computed without
    ``np.median``, whose NaN check imports ``numpy.ma`` (about 0.02 s of every SEG build's start-up)."""
    v = np.sort(np.asarray(values, dtype=float).ravel())
    n = v.size
    if n == 0 or np.isnan(v[-1]):
        return float("nan")
    return float(v[n // 2]) if n % 2 else float((v[n // 2 - 1] + v[n // 2]) / 2)


def has_geometry(f: SourceFrame) -> bool:
    """True if the frame has a position, an orientation and a pixel spacing."""
    return f.has_geometry


def order_frames(frames: Sequence[SourceFrame]) -> list[SourceFrame]:
    """Frames sorted along the slice normal (ascending projection of the position onto the first
    frame's normal, PS3.3 C.7.6.2.1.1). If any frame lacks a position or orientation, sorted by
    Instance Number then frame number instead. Ties keep Instance Number / frame order."""

    def fallback(f: SourceFrame) -> tuple[int, int, str]:
        inst_no = f.instance_number if f.instance_number is not None else 1 << 62
        return (inst_no, f.frame_number or 0, str(f.instance.path))

    if not frames:
        return []
    if not all(f.image_position is not None and f.image_orientation is not None for f in frames):
        return sorted(frames, key=fallback)
    if TYPE_CHECKING:  # every frame has a position and an orientation
        frames = cast("Sequence[PlacedFrame]", frames)  # pragma: no mutate
    normal = frames[0].normal
    return sorted(frames, key=lambda f: (round(float(f.image_position @ normal), 4), fallback(f)))


def geometry_problems(frames: Sequence[SourceFrame], tol: float) -> list[str]:
    if not frames:
        return ["no frames"]
    problems: list[str] = []
    missing = [f.label for f in frames if not has_geometry(f)]
    if missing:
        problems.append(f"{len(missing)} frames have no position, orientation or pixel spacing ({short_list(missing)})")
        return problems
    if TYPE_CHECKING:  # every frame has its geometry
        frames = cast("Sequence[PlacedFrame]", frames)  # pragma: no mutate
    sizes = {(f.rows, f.columns) for f in frames}
    if len(sizes) > 1:
        problems.append(f"frames have different Rows/Columns: {sorted(sizes)}")
    ref = frames[0]
    if any(np.abs(f.image_orientation - ref.image_orientation).max() > ORIENTATION_TOLERANCE for f in frames):
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
        problems.append("slice positions are not stacked along the slice normal (sheared or shifted in-plane)")
    steps = np.diff(proj)
    if np.any(np.abs(steps) <= tol):
        dup = sum(1 for s in steps if abs(s) <= tol)
        problems.append(f"{dup} frames share a position with another frame")
    elif np.abs(steps - median(steps)).max() > tol:
        problems.append(f"slices are not evenly spaced: steps from {steps.min():.4g} to {steps.max():.4g} mm")
    return problems


def geometry_warnings(s: SourceSeries) -> list[str]:
    warnings: list[str] = []
    frames: Sequence[SourceFrame] = s.frames
    if not s.has_geometry or len(frames) < 2:
        return warnings
    if TYPE_CHECKING:  # every frame has its geometry
        frames = cast("Sequence[PlacedFrame]", frames)  # pragma: no mutate
    ref = frames[0]
    if any(np.abs(f.pixel_spacing - ref.pixel_spacing).max() > POSITION_TOLERANCE_MM for f in frames):
        warnings.append("source frames have different Pixel Spacing")
    proj = s.slice_positions()
    if TYPE_CHECKING:  # not None: the series has its geometry
        assert proj is not None  # pragma: no mutate
    steps = np.diff(proj)
    med = median(steps)
    dups = [frames[i + 1].label for i, d in enumerate(steps) if abs(d) <= POSITION_TOLERANCE_MM]
    if dups:
        warnings.append(f"{len(dups)} source frames share a position with another frame: {short_list(dups)}")
    gaps = [(frames[i].label, frames[i + 1].label, d) for i, d in enumerate(steps) if d > med + POSITION_TOLERANCE_MM]
    if gaps:
        a, b, d = gaps[0]
        warnings.append(
            f"source slices have {len(gaps)} gap(s) larger than the usual spacing "
            f"{med:.4g} mm, e.g. {d:.4g} mm between {a} and {b}"
        )
    elif np.abs(steps - med).max() > POSITION_TOLERANCE_MM and not dups:
        warnings.append(f"source slices are unevenly spaced ({steps.min():.4g} to {steps.max():.4g} mm)")
    thick = [f.slice_thickness for f in frames if f.slice_thickness]
    if thick and med > POSITION_TOLERANCE_MM and max(thick) > med + POSITION_TOLERANCE_MM:
        warnings.append(
            f"source slices overlap: Slice Thickness {max(thick):.4g} mm is larger than the spacing {med:.4g} mm"
        )
    return warnings


def format_number(x: float) -> str:
    """A coordinate for a message: 6 significant digits, float noise (|x| < 1e-9) and -0 written as 0."""
    x = float(x)
    return f"{(0.0 if abs(x) < 1e-9 else x) + 0.0:.6g}"


def format_vector(v: np.ndarray) -> str:
    return "[" + ", ".join(map(format_number, v)) + "]"


def short_list(items: Sequence[str], limit: int = 4) -> str:
    items = list(items)
    text = ", ".join(items[:limit])
    return text + (f" and {len(items) - limit} more" if len(items) > limit else "")
