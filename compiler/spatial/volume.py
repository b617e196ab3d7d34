"""A voxel array with its position in the patient coordinate system.

Conventions used everywhere in dcmspec:

* ``array[k, r, c]``: ``k`` is the slice (frame) index, ``r`` the row, ``c`` the column - the order
  in which DICOM stores frames of pixels. An optional fourth, trailing axis holds channels
  (e.g. one per segment); it carries no geometry.
* ``affine`` is a 4x4 float64 matrix mapping the index vector ``(k, r, c, 1)`` to patient
  coordinates in millimetres, in the DICOM patient coordinate system (LPS, PS3.3 C.7.6.2.1.1):

  - column 0: the step from one slice to the next;
  - column 1: the step along a column, i.e. from one row to the next
    (``ImageOrientationPatient[3:6] * PixelSpacing[0]``);
  - column 2: the step along a row, i.e. from one column to the next
    (``ImageOrientationPatient[0:3] * PixelSpacing[1]``);
  - column 3: ``ImagePositionPatient`` of voxel ``(0, 0, 0)``, the centre of the first voxel.

* A volume may have no geometry (``affine is None``), e.g. a mask read from a ``.npy`` file; it is
  then taken to be in source frame order already and the geometric properties raise ``ValueError``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray


def _unit(vector: NDArray[np.float64]) -> NDArray[np.float64]:
    norm = float(np.linalg.norm(vector))
    if norm == 0.0:
        raise ValueError("zero-length direction vector")
    return vector / norm


def affine_from_geometry(
    position: ArrayLike,
    orientation: ArrayLike,
    pixel_spacing: ArrayLike,
    slice_step: ArrayLike,
) -> NDArray[np.float64]:
    """The 4x4 ``(k, r, c, 1)`` -> LPS affine of an image plane stack (PS3.3 C.7.6.2.1.1).

    ``position`` is ImagePositionPatient of the first slice, ``orientation`` ImageOrientationPatient
    (row direction cosines, then column direction cosines), ``pixel_spacing`` (row spacing, column
    spacing) and ``slice_step`` the vector from one slice to the next, in mm.
    """
    iop = np.asarray(orientation, dtype=np.float64).reshape(6)
    spacing = np.asarray(pixel_spacing, dtype=np.float64).reshape(2)
    affine = np.eye(4)
    affine[:3, 0] = np.asarray(slice_step, dtype=np.float64).reshape(3)
    affine[:3, 1] = iop[3:6] * spacing[0]
    affine[:3, 2] = iop[0:3] * spacing[1]
    affine[:3, 3] = np.asarray(position, dtype=np.float64).reshape(3)
    return affine


def stack_affine(
    positions: ArrayLike,
    orientation: ArrayLike,
    pixel_spacing: ArrayLike,
    *,
    slice_spacing: float | None = None,
    tolerance_mm: float | None = None,
) -> NDArray[np.float64]:
    """The affine of a stack of parallel image planes given each plane's ImagePositionPatient.

    The planes must be evenly spaced along the normal (or anti-normal), PS3.3 C.7.6.2.1.1: the
    largest distance between a position and where an even stack would put it must not exceed
    ``tolerance_mm`` (default 1% of the smaller pixel spacing), else ``ValueError`` names the slice
    and the distance in mm. A single plane steps ``slice_spacing`` (default 1 mm) along the normal.
    """
    pos = np.asarray(positions, dtype=np.float64).reshape(-1, 3)
    iop = np.asarray(orientation, dtype=np.float64).reshape(6)
    spacing = np.asarray(pixel_spacing, dtype=np.float64).reshape(2)
    if len(pos) == 0:
        raise ValueError("no slice positions given")
    normal = _unit(np.cross(iop[0:3], iop[3:6]))
    tol = 0.01 * float(spacing.min()) if tolerance_mm is None else float(tolerance_mm)
    if len(pos) == 1:
        step = normal * (1.0 if slice_spacing is None else float(slice_spacing))
    else:
        offsets = (pos - pos[0]) @ normal
        gap = (offsets[-1] - offsets[0]) / (len(pos) - 1)
        if abs(gap) <= tol:
            raise ValueError("the first and last slices lie at the same position along the normal")
        step = normal * gap
        expected = pos[0] + np.arange(len(pos))[:, None] * step
        deviation = np.linalg.norm(pos - expected, axis=1)
        worst = int(np.argmax(deviation))
        if deviation[worst] > tol:
            raise ValueError(
                f"slices are not evenly spaced along the image normal: slice {worst} lies "
                f"{deviation[worst]:.4g} mm from where an even stack would put it "
                f"(tolerance {tol:.4g} mm)"
            )
    return affine_from_geometry(pos[0], iop, spacing, step)


class Volume:
    """A 3D (or 4D, trailing channel axis) array indexed ``[k, r, c]`` with its affine.

    See the module docstring for the conventions. ``affine`` may be ``None`` for an array without
    geometry (numpy masks).
    """

    def __init__(
        self,
        array: ArrayLike,
        affine: ArrayLike | None,
        frame_of_reference_uid: str | None = None,
    ) -> None:
        voxels = np.asarray(array)
        if voxels.ndim not in (3, 4):
            raise ValueError(f"a volume needs a 3D or 4D array, got shape {voxels.shape}")
        matrix = None
        if affine is not None:
            matrix = np.array(affine, dtype=np.float64)
            if matrix.shape != (4, 4):
                raise ValueError(f"affine must be 4x4, got shape {matrix.shape}")
            if not np.all(np.isfinite(matrix)):
                raise ValueError("affine contains non-finite values")
            if not np.allclose(matrix[3], [0.0, 0.0, 0.0, 1.0]):
                raise ValueError(f"the last row of the affine must be (0, 0, 0, 1), got {matrix[3]}")
            if abs(np.linalg.det(matrix[:3, :3])) < 1e-12:
                raise ValueError("affine is singular: two axes are parallel or an axis has zero length")
        #: the voxels, indexed ``[k, r, c]`` (and a trailing channel axis)
        self.array: NDArray[Any] = voxels
        #: the ``(k, r, c, 1)`` -> patient coordinates (mm) matrix, ``None`` without geometry
        self.affine: NDArray[np.float64] | None = matrix
        self.frame_of_reference_uid = frame_of_reference_uid

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_image_geometry(
        cls,
        array: ArrayLike,
        positions: ArrayLike,
        orientation: ArrayLike,
        pixel_spacing: ArrayLike,
        frame_of_reference_uid: str | None = None,
        *,
        slice_spacing: float | None = None,
        tolerance_mm: float | None = None,
    ) -> Volume:
        """Build a volume from per-slice ImagePositionPatient values (PS3.3 C.7.6.2.1.1).

        ``positions`` is (N, 3), one row per slice in array order. The slices must be evenly spaced
        along the normal (or anti-normal) of the image plane; the largest distance between a slice
        position and where an even stack would put it must not exceed ``tolerance_mm`` (default
        1% of the smaller pixel spacing), else ``ValueError`` names the slice and the distance.
        A single slice uses ``slice_spacing`` (default 1 mm) along the normal.
        """
        arr = np.asarray(array)
        n_pos = np.asarray(positions, dtype=np.float64).reshape(-1, 3).shape[0]
        if arr.ndim not in (3, 4) or arr.shape[0] != n_pos:
            raise ValueError(f"array of shape {arr.shape} does not have one slice per position ({n_pos})")
        affine = stack_affine(
            positions, orientation, pixel_spacing, slice_spacing=slice_spacing, tolerance_mm=tolerance_mm
        )
        return cls(arr, affine, frame_of_reference_uid)

    # ------------------------------------------------------------------ shape
    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of the array, including the channel axis if any."""
        return tuple(self.array.shape)

    @property
    def spatial_shape(self) -> tuple[int, int, int]:
        """``(slices, rows, columns)``."""
        k, r, c = self.array.shape[:3]
        return (int(k), int(r), int(c))

    @property
    def has_geometry(self) -> bool:
        """Whether the volume has an affine."""
        return self.affine is not None

    def _affine(self) -> NDArray[np.float64]:
        if self.affine is None:
            raise ValueError("this volume has no geometry (affine is None)")
        return self.affine

    # ------------------------------------------------------------------ geometry
    @property
    def spacing(self) -> NDArray[np.float64]:
        """Step lengths in mm along (slice, row, column) axes: ``(slice, row spacing, column spacing)``."""
        spacing: NDArray[np.float64] = np.linalg.norm(self._affine()[:3, :3], axis=0)
        return spacing

    @property
    def direction(self) -> NDArray[np.float64]:
        """3x3 matrix whose columns are the unit vectors of the k, r and c axes."""
        linear = self._affine()[:3, :3]
        direction: NDArray[np.float64] = linear / np.linalg.norm(linear, axis=0)
        return direction

    @property
    def position(self) -> NDArray[np.float64]:
        """Patient position (mm) of the centre of voxel ``(0, 0, 0)``."""
        position: NDArray[np.float64] = self._affine()[:3, 3].copy()
        return position

    @property
    def orientation(self) -> NDArray[np.float64]:
        """ImageOrientationPatient of the slices: row direction cosines, then column direction cosines."""
        d = self.direction
        return np.concatenate([d[:, 2], d[:, 1]])

    @property
    def normal(self) -> NDArray[np.float64]:
        """Unit normal of the slice plane, row direction x column direction (PS3.3 C.7.6.2.1.1)."""
        d = self.direction
        return _unit(np.cross(d[:, 2], d[:, 1]))

    @property
    def pixel_spacing(self) -> NDArray[np.float64]:
        """PixelSpacing of the slices: (row spacing, column spacing) in mm."""
        spacing: NDArray[np.float64] = self.spacing[1:3].copy()
        return spacing

    def positions(self) -> NDArray[np.float64]:
        """ImagePositionPatient of every slice, shape (N, 3)."""
        a = self._affine()
        return a[:3, 3] + np.arange(self.spatial_shape[0])[:, None] * a[:3, 0]

    def index_to_reference(self, indices: ArrayLike) -> NDArray[np.float64]:
        """Map (N, 3) ``(k, r, c)`` indices (integer or fractional) to (N, 3) patient coordinates."""
        idx = np.asarray(indices, dtype=np.float64).reshape(-1, 3)
        a = self._affine()
        points: NDArray[np.float64] = idx @ a[:3, :3].T + a[:3, 3]
        return points

    def reference_to_index(self, points: ArrayLike) -> NDArray[np.float64]:
        """Map (N, 3) patient coordinates to fractional ``(k, r, c)`` indices."""
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 3)
        a = self._affine()
        indices: NDArray[np.float64] = np.linalg.solve(a[:3, :3], (pts - a[:3, 3]).T).T
        return indices

    def corners(self) -> NDArray[np.float64]:
        """Patient coordinates of the 8 corner voxel centres, shape (8, 3)."""
        k, r, c = (n - 1 for n in self.spatial_shape)
        grid = np.array([[i, j, m] for i in (0, k) for j in (0, r) for m in (0, c)], dtype=np.float64)
        return self.index_to_reference(grid)

    def geometry_distance(self, other: Volume) -> float:
        """Largest distance (mm) between corresponding voxel centres of two equally shaped grids.

        The distance between two affine maps is largest at a corner of the index box, so comparing
        the 8 corners covers every voxel.
        """
        if self.spatial_shape != other.spatial_shape:
            raise ValueError(f"spatial shapes differ: {self.spatial_shape} vs {other.spatial_shape}")
        return float(np.linalg.norm(self.corners() - other.corners(), axis=1).max())

    def match_geometry(self, other: Volume, atol_mm: float = 1e-3) -> bool:
        """Whether both volumes have the same spatial shape and every voxel centre within ``atol_mm``."""
        if self.affine is None or other.affine is None:
            return False
        if self.spatial_shape != other.spatial_shape:
            return False
        return self.geometry_distance(other) <= atol_mm

    # ------------------------------------------------------------------ reorientation
    def with_array(self, array: ArrayLike) -> Volume:
        """The same geometry with another array of the same spatial shape."""
        array = np.asarray(array)
        if tuple(array.shape[:3]) != self.spatial_shape:
            raise ValueError(f"array shape {array.shape} does not match spatial shape {self.spatial_shape}")
        return Volume(array, self.affine, self.frame_of_reference_uid)

    def flip(self, *axes: int) -> Volume:
        """Reverse the given spatial axes (0=k, 1=r, 2=c); voxels keep their patient positions."""
        arr = self.array
        affine = None if self.affine is None else self.affine.copy()
        for axis in axes:
            if axis not in (0, 1, 2):
                raise ValueError(f"spatial axis must be 0, 1 or 2, got {axis}")
            arr = np.flip(arr, axis=axis)
            if affine is not None:
                affine[:3, 3] += (self.spatial_shape[axis] - 1) * affine[:3, axis]
                affine[:3, axis] *= -1.0
        return Volume(arr, affine, self.frame_of_reference_uid)

    def permute(self, order: Sequence[int]) -> Volume:
        """Reorder the spatial axes: new axis ``i`` is old axis ``order[i]`` (channels stay last)."""
        order = tuple(int(i) for i in order)
        if sorted(order) != [0, 1, 2]:
            raise ValueError(f"order must be a permutation of (0, 1, 2), got {order}")
        arr = np.transpose(self.array, order + tuple(range(3, self.array.ndim)))
        affine = None
        if self.affine is not None:
            affine = self.affine.copy()
            affine[:3, :3] = self.affine[:3, list(order)]
        return Volume(arr, affine, self.frame_of_reference_uid)

    def __repr__(self) -> str:
        geom = "no geometry" if self.affine is None else f"position={np.round(self.position, 3).tolist()}"
        return f"Volume(shape={self.shape}, dtype={self.array.dtype}, {geom})"
