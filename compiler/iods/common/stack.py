"""Stored frames of a multi-frame derived image as one volume: where each frame goes along the normal."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from pydicom.multival import MultiValue

from ...errors import DicomConformanceError
from .functional_groups import frame_group

if TYPE_CHECKING:
    from numpy.typing import NDArray
    from pydicom.dataset import Dataset


@dataclass(frozen=True)
class FrameStack:
    """Frames on one stack: ``index[f]`` is the plane of frame ``f``; the affine of the whole stack."""

    index: NDArray[np.intp]
    n_planes: int
    affine: NDArray[np.float64]


def frame_geometry(ds: Dataset, what: str) -> Callable[[int, str, str], NDArray[np.float64]]:
    """``value(frame, group, keyword)``: a geometry attribute of a frame (per-frame item, else shared)."""
    shared_seq = ds.get("SharedFunctionalGroupsSequence")
    shared = shared_seq[0] if shared_seq else None
    per_frame = ds.get("PerFrameFunctionalGroupsSequence") or []

    def value(f: int, group: str, keyword: str) -> NDArray[np.float64]:
        g = frame_group(per_frame[f] if per_frame else None, shared, group, keyword)
        if g is not None:
            raw = g[keyword].value  # one value (Slice Thickness, VM 1) or several
            values = raw if isinstance(raw, (list, tuple, MultiValue)) else [raw]
            return np.asarray([float(v) for v in values], dtype=np.float64)
        raise DicomConformanceError(
            f"frame {f + 1} has no {keyword} ({group}): the {what} has no geometry to build a volume from"
        )

    return value


def frame_stack(ds: Dataset, n: int, what: str, tolerance_mm: float = 1e-3) -> FrameStack:
    """Place the ``n`` frames of ``ds`` on one stack running from the first to the last plane along the
    normal, with the smallest step between planes as slice spacing (planes without a frame are gaps).
    Frames must share orientation and lie on the line along the normal at whole steps, else
    :class:`DicomConformanceError` says which frame is off and by how many mm."""
    from ...spatial.volume import affine_from_geometry

    value = frame_geometry(ds, what)
    shared_seq = ds.get("SharedFunctionalGroupsSequence")
    shared = shared_seq[0] if shared_seq else None
    positions = np.array([value(f, "PlanePositionSequence", "ImagePositionPatient") for f in range(n)])
    orientation = value(0, "PlaneOrientationSequence", "ImageOrientationPatient")
    spacing = value(0, "PixelMeasuresSequence", "PixelSpacing")
    for f in range(1, n):
        if not np.allclose(value(f, "PlaneOrientationSequence", "ImageOrientationPatient"), orientation, atol=1e-4):
            raise DicomConformanceError(f"frame {f + 1} has another orientation: not one volume")
    normal = np.cross(orientation[:3], orientation[3:])
    distance = positions @ normal
    planes = np.unique(np.round(distance / tolerance_mm)) * tolerance_mm
    steps = np.diff(planes)
    measures = (shared.get("PixelMeasuresSequence") or [{}])[0] if shared is not None else {}
    step = (
        float(steps.min())
        if steps.size
        else float(
            np.asarray(value(0, "PixelMeasuresSequence", "SliceThickness") if "SliceThickness" in measures else [1.0])[
                0
            ]
        )
    )
    origin = positions[int(np.argmin(distance))]
    index = np.rint((distance - planes[0]) / step).astype(int)
    expected = origin + np.outer(index * step, normal)
    off = np.linalg.norm(positions - expected, axis=1)
    worst = int(np.argmax(off))
    if off[worst] > max(tolerance_mm, 1e-3 * step):
        raise DicomConformanceError(
            f"frame {worst + 1} lies {off[worst]:.3g} mm off the stack of the other frames: the"
            f" {what} does not form one volume"
        )
    affine = affine_from_geometry(origin, orientation, spacing, normal * step)
    return FrameStack(index, int(index.max()) + 1 if n else 0, affine)
