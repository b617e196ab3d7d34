"""Transformers between pixel indices, image coordinates and the reference coordinate system.

Three coordinate systems appear in derived objects:

* **pixel indices** ``(column, row)``: integers, ``(0, 0)`` is the top-left pixel; the matrix of
  PS3.3 C.7.6.2.1.1 maps a pixel's centre to ImagePositionPatient + steps along the row and column
  direction cosines scaled by PixelSpacing.
* **image coordinates** ``(column, row)``: floats, as used by SR SCOORD (PS3.3 C.18.6.1.2):
  ``(0, 0)`` is the top-left *corner* of the top-left pixel, so the centre of pixel ``(c, r)`` is
  ``(c + 0.5, r + 0.5)``.
* **reference coordinates** ``(x, y, z)`` in mm: the patient coordinate system (LPS) of a Frame of
  Reference, or the slide coordinate system for whole slide microscopy (PS3.3 C.8.12.2.1).

Each transformer is a callable taking an ``(N, 2)`` or ``(N, 3)`` array and returning an array of
points; ``.affine`` is the 4x4 homogeneous matrix it applies. The 2D transformers embed the plane
in 3D as ``(column, row, d)`` with ``d`` the signed distance from the plane in mm along the normal
(row direction x column direction). The ``ReferenceTo*`` transformers for one plane refuse points
lying further than ``tolerance_mm`` from the plane (default 1% of the smaller pixel spacing).

Volume transformers use the ``(k, r, c)`` index convention of :mod:`dcmspec_compiler.spatial.volume`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from ..iods.common.functional_groups import frame_group, frame_items
from .volume import Volume, affine_from_geometry, stack_affine

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray
    from pydicom.dataset import Dataset
    from typing_extensions import Self


# ---------------------------------------------------------------------- geometry from datasets
@dataclass(frozen=True)
class PlaneGeometry:
    """Position of one image plane: ImagePositionPatient (or slide offsets), orientation, spacing."""

    position: NDArray[np.float64]  # (3,) centre of the top-left pixel, mm
    orientation: NDArray[np.float64]  # (6,) row direction cosines, then column direction cosines
    pixel_spacing: NDArray[np.float64]  # (2,) row spacing, column spacing, mm


def _floats(value: Any, n: int, name: str) -> NDArray[np.float64]:
    if value is None:
        raise ValueError(f"the dataset has no {name}")
    arr = np.asarray([float(v) for v in value], dtype=np.float64)
    if arr.shape != (n,):
        raise ValueError(f"{name} must have {n} values, got {len(arr)}")
    return arr


def _functional_group_value(ds: Dataset, frame_index: int | None, sequence: str, keyword: str) -> Any:
    """A value from the per-frame functional group of ``frame_index`` (0-based), else the shared one
    (PS3.3 C.7.6.16)."""
    group = frame_group(*frame_items(ds, frame_index), sequence, keyword)
    return None if group is None else group.get(keyword)


def number_of_frames(ds: Dataset) -> int:
    """NumberOfFrames, or 1 for a single-frame image."""
    return int(ds.get("NumberOfFrames", 1) or 1)


def _is_slide(ds: Dataset) -> bool:
    return "ImageOrientationSlide" in ds and "TotalPixelMatrixOriginSequence" in ds


def _slide_geometry(ds: Dataset, frame_index: int | None) -> PlaneGeometry:
    """Whole slide microscopy: the total pixel matrix, or one tile (PS3.3 C.8.12.4.1.2, C.8.12.6.1)."""
    orientation = _floats(ds.ImageOrientationSlide, 6, "ImageOrientationSlide")
    spacing = _floats(
        _functional_group_value(ds, frame_index, "PixelMeasuresSequence", "PixelSpacing"), 2, "PixelSpacing"
    )
    origin_item = ds.TotalPixelMatrixOriginSequence[0]
    origin = np.array(
        [
            float(origin_item.XOffsetInSlideCoordinateSystem),
            float(origin_item.YOffsetInSlideCoordinateSystem),
            float(origin_item.get("ZOffsetInSlideCoordinateSystem", 0.0) or 0.0),
        ]
    )
    if frame_index is None:
        return PlaneGeometry(origin, orientation, spacing)
    x = _functional_group_value(ds, frame_index, "PlanePositionSlideSequence", "XOffsetInSlideCoordinateSystem")
    if x is not None:
        y = _functional_group_value(ds, frame_index, "PlanePositionSlideSequence", "YOffsetInSlideCoordinateSystem")
        z = _functional_group_value(ds, frame_index, "PlanePositionSlideSequence", "ZOffsetInSlideCoordinateSystem")
        return PlaneGeometry(np.array([float(x), float(y), float(z or 0.0)]), orientation, spacing)
    if ds.get("DimensionOrganizationType") != "TILED_FULL":
        raise ValueError(f"frame {frame_index + 1} has no PlanePositionSlideSequence")
    # TILED_FULL (PS3.3 C.7.6.17.3): tiles fill the total pixel matrix row by row.
    across = -(-int(ds.TotalPixelMatrixColumns) // int(ds.Columns))
    down = -(-int(ds.TotalPixelMatrixRows) // int(ds.Rows))
    tile = frame_index % (across * down)
    tile_row, tile_col = divmod(tile, across)
    position = (
        origin
        + orientation[0:3] * spacing[1] * tile_col * int(ds.Columns)
        + orientation[3:6] * spacing[0] * tile_row * int(ds.Rows)
    )
    return PlaneGeometry(position, orientation, spacing)


def plane_geometry(ds: Dataset, frame_number: int | None = None) -> PlaneGeometry:
    """Read the geometry of one image plane from a dataset (PS3.3 C.7.6.2, C.7.6.16.2.3/4/1).

    Single-frame images use the top-level ImagePositionPatient, ImageOrientationPatient and
    PixelSpacing. Multi-frame images use the per-frame functional group of ``frame_number``
    (1-based) where present, else the shared one; ``frame_number`` may be omitted only when there is
    one frame or the position is shared. Whole slide microscopy images without ``frame_number`` give
    the total pixel matrix (slide coordinate system).
    """
    n_frames = number_of_frames(ds)
    if frame_number is not None and not 1 <= frame_number <= n_frames:
        raise ValueError(f"frame_number {frame_number} is out of range 1..{n_frames}")
    index = None if frame_number is None else frame_number - 1
    if _is_slide(ds):
        return _slide_geometry(ds, index)
    has_groups = "PerFrameFunctionalGroupsSequence" in ds or "SharedFunctionalGroupsSequence" in ds
    if not has_groups:
        return PlaneGeometry(
            _floats(ds.get("ImagePositionPatient"), 3, "ImagePositionPatient"),
            _floats(ds.get("ImageOrientationPatient"), 6, "ImageOrientationPatient"),
            _floats(ds.get("PixelSpacing"), 2, "PixelSpacing"),
        )
    if index is None and n_frames == 1:
        index = 0
    position = _functional_group_value(ds, index, "PlanePositionSequence", "ImagePositionPatient")
    if position is None and index is None:
        raise ValueError("this multi-frame image has a position per frame: give frame_number")
    return PlaneGeometry(
        _floats(position, 3, "ImagePositionPatient"),
        _floats(
            _functional_group_value(ds, index, "PlaneOrientationSequence", "ImageOrientationPatient"),
            6,
            "ImageOrientationPatient",
        ),
        _floats(_functional_group_value(ds, index, "PixelMeasuresSequence", "PixelSpacing"), 2, "PixelSpacing"),
    )


def frame_positions(ds: Dataset) -> NDArray[np.float64]:
    """ImagePositionPatient of every frame of an image, shape (NumberOfFrames, 3)."""
    return np.stack([plane_geometry(ds, i + 1).position for i in range(number_of_frames(ds))])


def _slice_spacing(ds: Dataset) -> float | None:
    for keyword in ("SpacingBetweenSlices", "SliceThickness"):
        value = ds.get(keyword)
        if value is None:
            value = _functional_group_value(ds, 0, "PixelMeasuresSequence", keyword)
        if value not in (None, ""):
            return float(value)
    return None


# ---------------------------------------------------------------------- helpers
def _points(values: ArrayLike, width: int, name: str) -> NDArray[np.float64]:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 1 and arr.shape == (width,):
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != width:
        raise ValueError(f"{name} must be an (N, {width}) array, got shape {arr.shape}")
    return arr


def _apply(affine: NDArray[np.floating[Any]], points: NDArray[np.float64]) -> NDArray[np.float64]:
    applied: NDArray[np.float64] = points @ affine[:3, :3].T + affine[:3, 3]
    return applied


def _plane_affine(position: ArrayLike, orientation: ArrayLike, pixel_spacing: ArrayLike) -> NDArray[np.float64]:
    """4x4 matrix mapping ``(column, row, d, 1)`` to reference coordinates (PS3.3 C.7.6.2.1.1)."""
    iop = np.asarray(orientation, dtype=np.float64).reshape(6)
    spacing = np.asarray(pixel_spacing, dtype=np.float64).reshape(2)
    normal = np.cross(iop[0:3], iop[3:6])
    normal = normal / np.linalg.norm(normal)
    affine = np.eye(4)
    affine[:3, 0] = iop[0:3] * spacing[1]
    affine[:3, 1] = iop[3:6] * spacing[0]
    affine[:3, 2] = normal
    affine[:3, 3] = np.asarray(position, dtype=np.float64).reshape(3)
    return affine


_HALF_PIXEL = np.array([[1.0, 0.0, 0.0, -0.5], [0.0, 1.0, 0.0, -0.5], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]])


class _Transformer:
    """Applies a 4x4 affine to points."""

    def __init__(self, affine: ArrayLike) -> None:
        self._affine: NDArray[np.float64] = np.asarray(affine, dtype=np.float64)

    @property
    def affine(self) -> NDArray[np.float64]:
        """The 4x4 homogeneous matrix applied by this transformer."""
        affine: NDArray[np.float64] = self._affine.copy()
        return affine


class _PlaneTransformer(_Transformer):
    """Shared constructor and ``from_dataset`` of the single-plane transformers."""

    def __init__(
        self,
        image_position: ArrayLike,
        image_orientation: ArrayLike,
        pixel_spacing: ArrayLike,
        *,
        tolerance_mm: float | None = None,
    ) -> None:
        spacing = np.asarray(pixel_spacing, dtype=np.float64).reshape(2)
        if np.any(spacing <= 0):
            raise ValueError(f"pixel spacing must be positive, got {spacing.tolist()}")
        self.plane_affine = _plane_affine(image_position, image_orientation, spacing)
        self.tolerance_mm = 0.01 * float(spacing.min()) if tolerance_mm is None else float(tolerance_mm)
        super().__init__(self._build())

    def _build(self) -> NDArray[np.float64]:  # pragma: no cover - overridden
        raise NotImplementedError

    @classmethod
    def from_dataset(cls, ds: Dataset, frame_number: int | None = None, **kwargs: Any) -> Self:
        """Build from a single-frame image or one frame (1-based) of a multi-frame image."""
        geometry = plane_geometry(ds, frame_number)
        return cls(geometry.position, geometry.orientation, geometry.pixel_spacing, **kwargs)

    def _to_plane(self, points: ArrayLike) -> NDArray[np.float64]:
        """``(column, row, d)`` of reference points; raises if ``|d|`` exceeds the tolerance."""
        pts = _points(points, 3, "points")
        local = _apply(np.linalg.inv(self.plane_affine), pts)
        distance = np.abs(local[:, 2])
        if distance.size and distance.max() > self.tolerance_mm:
            worst = int(np.argmax(distance))
            raise ValueError(
                f"point {worst} lies {distance[worst]:.4g} mm from the image plane "
                f"(tolerance {self.tolerance_mm:.4g} mm)"
            )
        return local

    def plane_distance(self, points: ArrayLike) -> NDArray[np.float64]:
        """Signed distance (mm) of reference points from the plane, along row x column direction."""
        pts = _points(points, 3, "points")
        return _apply(np.linalg.inv(self.plane_affine), pts)[:, 2]


class PixelToReferenceTransformer(_PlaneTransformer):
    """Pixel indices ``(column, row)`` of one plane -> reference coordinates (mm)."""

    def _build(self) -> NDArray[np.float64]:
        return self.plane_affine

    def __call__(self, indices: ArrayLike) -> NDArray[np.float64]:
        idx = _points(indices, 2, "indices")
        return _apply(self._affine, np.column_stack([idx, np.zeros(len(idx))]))


class ReferenceToPixelTransformer(_PlaneTransformer):
    """Reference coordinates (mm) -> integer pixel indices ``(column, row)`` (nearest pixel centre).

    Points further than ``tolerance_mm`` from the plane raise ``ValueError``.
    """

    def _build(self) -> NDArray[np.float64]:
        return cast("NDArray[np.float64]", np.linalg.inv(self.plane_affine))  # numpy's stubs: floating

    def __call__(self, points: ArrayLike) -> NDArray[np.int64]:
        return np.rint(self._to_plane(points)[:, :2]).astype(np.int64)


class ImageToReferenceTransformer(_PlaneTransformer):
    """Image coordinates ``(column, row)`` (PS3.3 C.18.6.1.2, pixel centre at +0.5) -> reference (mm)."""

    def _build(self) -> NDArray[np.float64]:
        affine: NDArray[np.float64] = self.plane_affine @ _HALF_PIXEL
        return affine

    def __call__(self, coordinates: ArrayLike) -> NDArray[np.float64]:
        xy = _points(coordinates, 2, "coordinates")
        return _apply(self._affine, np.column_stack([xy, np.zeros(len(xy))]))


class ReferenceToImageTransformer(_PlaneTransformer):
    """Reference coordinates (mm) -> float image coordinates ``(column, row)`` (PS3.3 C.18.6.1.2).

    Points further than ``tolerance_mm`` from the plane raise ``ValueError``.
    """

    def _build(self) -> NDArray[np.float64]:
        return cast("NDArray[np.float64]", np.linalg.inv(self.plane_affine @ _HALF_PIXEL))

    def __call__(self, points: ArrayLike) -> NDArray[np.float64]:
        return self._to_plane(points)[:, :2] + 0.5


# ---------------------------------------------------------------------- volumes
def _dataset_volume_affine(ds: Dataset, frame_number: int | None) -> NDArray[np.float64]:
    if frame_number is not None or number_of_frames(ds) == 1:
        geometry = plane_geometry(ds, frame_number)
        normal = np.cross(geometry.orientation[0:3], geometry.orientation[3:6])
        step = normal / np.linalg.norm(normal) * (_slice_spacing(ds) or 1.0)
        return affine_from_geometry(geometry.position, geometry.orientation, geometry.pixel_spacing, step)
    first = plane_geometry(ds, 1)
    return stack_affine(frame_positions(ds), first.orientation, first.pixel_spacing)


class VolumeToReferenceTransformer(_Transformer):
    """Volume indices ``(k, r, c)`` (integer or fractional) -> reference coordinates (mm).

    ``affine`` is a :class:`~dcmspec_compiler.spatial.volume.Volume` affine.
    """

    def __init__(self, affine: ArrayLike) -> None:
        super().__init__(np.asarray(affine, dtype=np.float64).reshape(4, 4))

    @classmethod
    def from_volume(cls, volume: Volume) -> Self:
        """The transformer of a volume with geometry."""
        if volume.affine is None:
            raise ValueError("this volume has no geometry (affine is None)")
        return cls(volume.affine)

    @classmethod
    def from_dataset(cls, ds: Dataset, frame_number: int | None = None) -> Self:
        """All frames of a multi-frame image (evenly spaced, else ``ValueError``), or one frame.

        A single plane steps SpacingBetweenSlices (else SliceThickness, else 1 mm) along the normal.
        """
        return cls(_dataset_volume_affine(ds, frame_number))

    def __call__(self, indices: ArrayLike) -> NDArray[np.float64]:
        return _apply(self._affine, _points(indices, 3, "indices"))


class ReferenceToVolumeTransformer(VolumeToReferenceTransformer):
    """Reference coordinates (mm) -> fractional volume indices ``(k, r, c)``.

    Built from a volume affine (index -> reference); ``.affine`` is its inverse. Round the result
    with ``np.rint`` to get the nearest voxel.
    """

    def __init__(self, affine: ArrayLike) -> None:
        super().__init__(np.linalg.inv(np.asarray(affine, dtype=np.float64).reshape(4, 4)))

    def __call__(self, points: ArrayLike) -> NDArray[np.float64]:
        return _apply(self._affine, _points(points, 3, "points"))
