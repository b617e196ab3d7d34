"""Voxel files named by a spec (masks, maps), loaded and placed on the source frames by their affine.

Shared by the Segmentation and Parametric Map builders: ``resolve.masks`` does the loading and the
placing (RAS/LPS, permuted and flipped axes, oblique series, tolerance, refusal of off-grid input with
the distance); this puts the spec's file, tolerance and locations around it.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InputError, SpecAt, SpecError
from ..load.document import SpecDocument
from .common import NodePath, resolve_path, start_file_digest
from .context import BuildContext

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

    from ..iods.common.spacing import SliceSpacing
    from ..resolve.source_series import SourceSeries


def place_file(
    doc: SpecDocument,
    path: NodePath,
    series: SourceSeries,
    *,
    key: str | None = None,
    max_values: int,
    tolerance_path: NodePath,
    what: str = "mask",
) -> tuple[np.ndarray, Path]:
    """Load the voxel file named at ``path`` and return its values on the source frames of ``series`` (in
    the series' frame order) and the file. ``max_values`` bounds what the file may declare."""
    from ..resolve.masks import load_mask, place_on_frames

    file = resolve_path(doc, path)
    start_file_digest(file)
    where: SpecAt = {"location": doc.loc(path), "spec_path": path}
    frames = series.frames
    first = frames[0]
    volume = load_mask(file, key=key, max_values=max_values, what=what, **where)
    if volume.affine is not None and first.image_position is None:
        raise InputError(
            f"the {what} has geometry but the source images have none (no Image Position/Orientation)",
            hint=f"use a .npy/.npz {what} indexed [frame, row, column]",
            location=doc.loc(path),
            path=path,
        )
    positions = (
        np.array([f.image_position for f in frames]) if first.image_position is not None else np.zeros((len(frames), 3))
    )
    orientation = first.image_orientation if first.image_orientation is not None else np.array([1, 0, 0, 0, 1, 0.0])
    spacing = first.pixel_spacing if first.pixel_spacing is not None else np.array([1.0, 1.0])
    tolerance = doc.get(tolerance_path)
    if tolerance is not None and not math.isfinite(tolerance):
        raise SpecError(
            f"tolerance_mm must be a finite number of millimetres, not {tolerance}",
            location=doc.loc(tolerance_path),
            path=tolerance_path,
        )
    assert first.rows is not None and first.columns is not None  # a source frame is made only with both
    array = place_on_frames(
        volume,
        positions,
        orientation,
        spacing,
        first.rows,
        first.columns,
        tolerance_mm=tolerance,
        what=what,
        tolerance_key=".".join(map(str, tolerance_path)),
        **where,
    )
    return array, file


def in_source_order(
    series: SourceSeries, pixels: np.ndarray, presence: np.ndarray | None = None
) -> tuple[list[Dataset], np.ndarray, np.ndarray | None]:
    """Source datasets, pixels and per-frame label presence in the order the builder layer expects.

    Frames of ``series`` are ordered by geometry; a single-frame series is passed as its instances in
    that order, a multi-frame image as itself with the pixels put back into its own frame order.
    """
    instances = series.instances
    if len(instances) == 1 and instances[0].is_multiframe:
        order = np.array([f.frame_index for f in series.frames])
        reordered = np.empty_like(pixels)
        reordered[order] = pixels
        if presence is not None:
            moved = np.empty_like(presence)
            moved[order] = presence
            presence = moved
        return [instances[0].header], reordered, presence
    return [f.instance.header for f in series.frames], pixels, presence


def spacing_summary(doc: SpecDocument, ctx: BuildContext, spacing: SliceSpacing, n_frames: int) -> dict[str, Any]:
    """Spacing Between Slices for the build summary; a stack it cannot be computed for is also a warning
    (readers such as dcmqi then take Slice Thickness as the slice spacing)."""
    if spacing.value is not None:
        return {"spacing_between_slices": round(spacing.value, 6)}
    if n_frames > 1:
        ctx.warn(
            f"Spacing Between Slices is left out: {spacing.reason}; readers that need it (dcmqi) fall"
            " back to Slice Thickness",
            doc.loc(("sources",)),
            ("sources",),
        )
    return {"spacing_between_slices": None, "spacing_between_slices_omitted": spacing.reason}
