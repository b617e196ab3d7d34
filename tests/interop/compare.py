"""Comparing what a consumer read with the input mask, in the source series' geometry.

The source affine is computed here from the source files' headers (PS3.3 C.7.6.2.1.1: position, orientation,
pixel spacing; the slice step from the positions), independently of dcmspec's own spatial code.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom

TOLERANCE_MM = 1e-3


def source_affine(files: list[Path]) -> np.ndarray:
    """4x4 affine of (slice, row, column) indices of the source stack (files in stack order) to LPS mm."""
    first, second = (pydicom.dcmread(f, stop_before_pixels=True) for f in files[:2])
    iop = np.array(first.ImageOrientationPatient, dtype=float)
    row_spacing, column_spacing = (float(v) for v in first.PixelSpacing)
    affine = np.eye(4)
    affine[:3, 0] = np.array(second.ImagePositionPatient, float) - np.array(first.ImagePositionPatient, float)
    affine[:3, 1] = iop[3:] * row_spacing
    affine[:3, 2] = iop[:3] * column_spacing
    affine[:3, 3] = np.array(first.ImagePositionPatient, float)
    return affine


def compare_with_mask(
    array: np.ndarray, affine: np.ndarray, mask: np.ndarray, src_affine: np.ndarray, what: str
) -> list[str]:
    """Problems found comparing ``array`` (k, r, c) placed by ``affine`` with ``mask`` on the source grid.

    Every axis of ``array`` must step exactly (within 1e-3 mm) one source axis, its origin must be a source
    voxel centre, every voxel must equal the mask there, and the mask must be empty where ``array`` does
    not reach.
    """
    problems = []
    for axis in range(3):
        step = affine[:3, axis]
        if not any(
            np.allclose(step, sign * src_affine[:3, a], atol=TOLERANCE_MM) for a in range(3) for sign in (1, -1)
        ):
            problems.append(
                f"{what}: axis {axis} steps {np.round(step, 4).tolist()} mm, which is no source "
                f"axis ({np.round(src_affine[:3, :3].T, 4).tolist()})"
            )
    if problems:
        return problems
    to_source = np.linalg.inv(src_affine) @ affine
    origin = to_source[:3, 3]
    if not np.allclose(origin, np.rint(origin), atol=TOLERANCE_MM / 10):
        return [f"{what}: origin {np.round(affine[:3, 3], 4).tolist()} is not on a source voxel centre"]
    index = np.indices(array.shape).reshape(3, -1)
    src = np.rint(to_source[:3, :3] @ index + origin[:, None]).astype(int)
    inside = np.all((src >= 0) & (src < np.array(mask.shape)[:, None]), axis=0)
    values = array.reshape(-1)
    if np.any(values[~inside] != 0):
        problems.append(f"{what}: {int(np.count_nonzero(values[~inside]))} non-zero voxels outside the source")
    src, values = src[:, inside], values[inside]
    expected = mask[src[0], src[1], src[2]]
    differ = np.count_nonzero(values != expected)
    if differ:
        problems.append(f"{what}: {differ} of {values.size} voxels differ from the input mask")
    covered = np.zeros(mask.shape, dtype=bool)
    covered[src[0], src[1], src[2]] = True
    if np.any(mask[~covered] != 0):
        problems.append(f"{what}: {int(np.count_nonzero(mask[~covered]))} mask voxels lie outside what was read")
    return problems
