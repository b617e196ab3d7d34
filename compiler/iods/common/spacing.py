"""Spacing Between Slices of a derived image (Segmentation, Parametric Map), computed from its source frames (PS3.3
C.7.6.16.2.1).

Spacing Between Slices (0018,0088) of the Pixel Measures Macro is the distance between adjacent slice
centres along the normal, in mm; PS3.3 C.7.6.2.1.1 does not allow it to be negative. It is not copied
from the source (real CT carries negative values, and many series leave it out, in which case readers
such as dcmqi fall back to Slice Thickness and stretch the volume): it is computed from the positions of
the source frames, as highdicom and dcmqi do, and written only where they form a regular stack.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .source_frame import SourceFrame

#: positions are DS strings of limited precision: steps agreeing to 0.01 mm are equal
TOLERANCE_MM = 1e-2


@dataclass(frozen=True)
class SliceSpacing:
    """The spacing of a regular stack (``value`` in mm, positive), or why there is none (``reason``)."""

    value: float | None
    reason: str | None = None

    @property
    def ds(self) -> str | None:
        """The value as a DS string (at most 16 characters), or None."""
        return None if self.value is None else f"{self.value:.6g}"


def regular_slice_spacing(frames: Sequence[SourceFrame], tolerance_mm: float = TOLERANCE_MM) -> SliceSpacing:
    """The spacing of ``frames`` along their normal when they form a regular stack: one orientation, every
    position on the line along the normal through the first, distinct positions, equal steps."""
    if len(frames) < 2:
        return SliceSpacing(None, "a single frame is not a stack of slices")
    if not all(f.has_geometry for f in frames):
        return SliceSpacing(None, "the source frames have no geometry")
    try:
        orientations = np.array([[float(v) for v in f.orientation or ()] for f in frames], dtype=np.float64)
        positions = np.array([[float(v) for v in f.position or ()] for f in frames], dtype=np.float64)
    except ValueError:  # lists of different lengths
        orientations = positions = np.zeros((0, 0))
    if orientations.shape != (len(frames), 6) or positions.shape != (len(frames), 3):
        return SliceSpacing(None, "the source frames' orientations are not six values or their positions not three")
    if np.abs(orientations - orientations[0]).max() > 1e-4:
        return SliceSpacing(None, "the source frames differ in orientation")
    row, col = orientations[0, :3], orientations[0, 3:]
    normal = np.cross(row, col)
    normal /= np.linalg.norm(normal)
    along = positions @ normal
    in_plane = (positions - positions[0]) - np.outer(along - along[0], normal)
    if np.abs(in_plane).max() > tolerance_mm:
        return SliceSpacing(None, "the source frames are shifted in-plane, not stacked along the normal")
    steps = np.diff(np.sort(along))
    if (steps <= tolerance_mm).any():
        return SliceSpacing(None, "several source frames share a position")
    spacing = float((along.max() - along.min()) / (len(frames) - 1))
    if np.abs(steps - spacing).max() > tolerance_mm:
        return SliceSpacing(None, f"the source slices are unevenly spaced ({steps.min():.4g} to {steps.max():.4g} mm)")
    return SliceSpacing(spacing)
