"""One frame of a source image: the one type for a reference to a source frame and its plane geometry.

A derived object refers to a source frame by Referenced SOP Class UID, Referenced SOP Instance UID and,
for instances of multi-frame IODs, Referenced Frame Number (PS3.3 C.7.6.16.2.6, C.10.5 Image SOP
Instance Reference Macro). The geometry is the Image Plane Module (PS3.3 C.7.6.2) of a single-frame image,
or the Plane Position / Plane Orientation / Pixel Measures functional groups (PS3.3 C.7.6.16.2.1-3) of a
frame of a multi-frame image, kept as the source's DS strings (a derived object copies them unchanged) with
their numeric values beside them. Source headers are read into it by ``resolve/source_headers.py`` (files)
and ``iods/seg/sources.py`` (datasets); a Segmentation read back names its source frames with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np


def slice_normal(orientation: np.ndarray) -> np.ndarray:
    """Unit slice normal of Image Orientation (Patient): row direction x column direction
    (PS3.3 C.7.6.2.1.1)."""
    n = np.cross(orientation[:3], orientation[3:])
    norm = np.linalg.norm(n)
    return n / norm if norm > 0 else n


def ds_strings(value: object) -> tuple[str, ...] | None:
    """The DS values of an element value as the file has them (``original_string``), else ``str``."""
    if value is None:
        return None
    values = (
        value
        if isinstance(value, (list, tuple)) or (hasattr(value, "__iter__") and not isinstance(value, str))
        else [value]
    )
    out = []
    for v in values:
        s = getattr(v, "original_string", None)
        out.append(str(s).strip() if s is not None else str(v))
    return tuple(out)


def _floats(values: tuple[str, ...] | None) -> np.ndarray | None:
    if values is None:
        return None
    arr = np.array([float(v) for v in values], dtype=float)
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True)
class SourceFrame:
    """One frame of a source image (see the module docstring).

    ``frame_number`` is 1-based for instances of multi-frame IODs (those with Number of Frames), ``None``
    for single-frame images, as in Referenced Frame Number (PS3.3 C.7.6.16.2.5). Geometry fields are the
    source's DS strings, ``None`` where it has none (e.g. a projection radiograph); ``image_position``,
    ``image_orientation``, ``pixel_spacing`` and ``slice_thickness`` are their numeric values.
    ``instance`` is the source file's header record when read from a file (``resolve``), else ``None``.
    """

    sop_class_uid: str
    sop_instance_uid: str
    frame_number: int | None = None
    position: tuple[str, ...] | None = None
    orientation: tuple[str, ...] | None = None
    spacing: tuple[str, ...] | None = None
    thickness: str | None = None
    spacing_between_slices: str | None = None
    rows: int | None = None
    columns: int | None = None
    instance_number: int | None = None
    instance: Any = field(default=None, repr=False)

    @property
    def key(self) -> tuple[str, int | None]:
        """(SOP Instance UID, frame number or None): what tells two source frames apart."""
        return (self.sop_instance_uid, self.frame_number)

    @property
    def frame_index(self) -> int:
        """0-based index of the frame in its file's Pixel Data."""
        return 0 if self.frame_number is None else self.frame_number - 1

    @property
    def has_geometry(self) -> bool:
        """True if the frame has a position, an orientation and a pixel spacing."""
        return self.position is not None and self.orientation is not None and self.spacing is not None

    @cached_property
    def image_position(self) -> np.ndarray | None:
        return _floats(self.position)

    @cached_property
    def image_orientation(self) -> np.ndarray | None:
        return _floats(self.orientation)

    @cached_property
    def pixel_spacing(self) -> np.ndarray | None:
        return _floats(self.spacing)

    @cached_property
    def slice_thickness(self) -> float | None:
        if self.thickness is None or self.thickness == "":
            return None
        try:
            return float(self.thickness)
        except ValueError:
            return None

    @property
    def normal(self) -> np.ndarray | None:
        """Unit slice normal: row direction x column direction (PS3.3 C.7.6.2.1.1)."""
        return None if self.image_orientation is None else slice_normal(self.image_orientation)

    @property
    def path(self) -> Path | None:
        return None if self.instance is None else self.instance.path

    @property
    def label(self) -> str:
        """``file`` (or the SOP Instance UID) and ``frame N`` for messages."""
        name = str(self.path) if self.instance is not None else self.sop_instance_uid
        return name if self.frame_number is None else f"{name} frame {self.frame_number}"
