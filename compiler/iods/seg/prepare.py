"""Checking the pixel array of a Segmentation and choosing the frames to store (vectorised)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ...errors import DicomConformanceError


@dataclass
class PreparedPixels:
    """Frames to encode: ``source_index`` and ``segment_number`` per stored frame, and the frame data
    as a list of chunks (each (n, rows, cols)) in stored order."""

    source_index: np.ndarray
    segment_number: np.ndarray | None
    chunks: list[np.ndarray]
    dtype: type
    overlap: str  # "YES" | "NO"


def _presence(labels: np.ndarray, nonempty: np.ndarray, max_value: int) -> np.ndarray:
    """presence[f, v]: label value v occurs in frame f (only frames flagged non-empty are scanned)."""
    flat = labels.reshape(labels.shape[0], -1)
    pres = np.zeros((labels.shape[0], max_value + 1), bool)
    for f in np.flatnonzero(nonempty):
        counts = np.bincount(flat[f], minlength=max_value + 1)
        pres[f] = counts > 0
    return pres


def _check_label_values(labels: np.ndarray) -> tuple[np.ndarray, int]:
    if labels.dtype.kind == "b":
        labels = labels.view(np.uint8)
    elif labels.dtype.kind not in "iu":
        raise DicomConformanceError(
            f"a 3-dimensional pixel array is a label map and must hold integers, got {labels.dtype};"
            " give (frames, rows, columns, segments) for fractional values")
    if labels.dtype.kind == "i":
        if labels.size and int(labels.min()) < 0:
            raise DicomConformanceError("label map values must be 0 (background) or segment numbers,"
                                        " found negative values")
    max_value = int(labels.max()) if labels.size else 0
    if max_value > 0xFFFF:
        raise DicomConformanceError(
            f"label value {max_value} exceeds the largest Segment Number 65535 (US)")
    if labels.dtype.itemsize > 2 or labels.dtype.kind == "i":
        labels = labels.astype(np.uint16 if max_value > 255 else np.uint8)
    return labels, max_value


def _occupancy(values: np.ndarray) -> tuple[np.ndarray, str]:
    """(frames, segments) occupancy and whether any pixel holds more than one segment.

    Reductions run over long contiguous rows (several whole pixels per row), which is much faster than
    reducing along the short channel axis.
    """
    n_src, rows, cols, n_seg = values.shape
    u = values.view(np.uint8) if values.dtype == bool else values
    k = 1
    while k < 64 and (rows * cols) % (2 * k) == 0:
        k *= 2
    reduced = np.bitwise_or.reduce(u.reshape(n_src, -1, k * n_seg), axis=1)
    occupied = reduced.reshape(n_src, k, n_seg).any(axis=1)
    overlap = "NO"
    if n_seg > 1:
        ones = np.ones(n_seg, np.uint8)
        for f in np.flatnonzero(occupied.sum(axis=1) > 1):
            nz = u[f].reshape(-1, n_seg) if values.dtype == bool else (u[f] != 0).view(np.uint8).reshape(
                -1, n_seg)
            if int((nz @ ones).max()) > 1:
                overlap = "YES"
                break
    return occupied, overlap


def prepare_pixels(pixel_array: np.ndarray, *, segmentation_type: str, numbers: Sequence[int],
                   omit_empty_frames: bool, max_fractional_value: int = 255) -> PreparedPixels:
    arr = np.asarray(pixel_array)
    numbers = [int(n) for n in numbers]
    n_src = arr.shape[0]
    if arr.ndim == 3 and arr.dtype.kind == "f":
        if segmentation_type == "FRACTIONAL" and len(numbers) == 1:
            arr = arr[..., None]
        else:
            raise DicomConformanceError(
                "a 3-dimensional pixel array is a label map of segment numbers and must hold integers;"
                " give (frames, rows, columns, segments) with one channel per segment for other values")

    if arr.ndim == 3:
        labels, max_value = _check_label_values(arr)
        flat = labels.reshape(n_src, -1)
        fmax = flat.max(axis=1) if flat.shape[1] else np.zeros(n_src, labels.dtype)
        nonempty = fmax > 0
        pres = _presence(labels, nonempty, max_value)
        allowed = np.zeros(max_value + 1, bool)
        allowed[0] = True
        allowed[[n for n in numbers if n <= max_value]] = True
        bad = np.flatnonzero(pres.any(axis=0) & ~allowed)
        if bad.size:
            raise DicomConformanceError(
                f"label values {bad.tolist()} appear in the pixel array but no segment with those"
                f" Segment Numbers (0062,0004) is described (PS3.3 C.8.20.2.3)")
        if not nonempty.any():
            raise DicomConformanceError("the segmentation is empty: no frame holds any segment pixel")
        if segmentation_type == "LABELMAP":
            idx = np.flatnonzero(nonempty) if omit_empty_frames else np.arange(n_src)
            dtype = np.uint16 if max(numbers) > 255 else np.uint8
            return PreparedPixels(idx, None, [labels[idx].astype(dtype, copy=False)], dtype, "NO")
        src, seg, chunks = [], [], []
        scale = 1 if segmentation_type == "BINARY" else max_fractional_value
        for s in numbers:
            if omit_empty_frames:
                idx = np.flatnonzero(pres[:, s]) if s <= max_value else np.zeros(0, np.int64)
            else:
                idx = np.arange(n_src)
            if idx.size == 0:
                continue
            mask = labels[idx] == s
            chunks.append(mask if scale == 1 else mask.astype(np.uint8) * np.uint8(scale))
            src.append(idx)
            seg.append(np.full(idx.size, s))
        dtype = bool if segmentation_type == "BINARY" else np.uint8
        return PreparedPixels(np.concatenate(src), np.concatenate(seg), chunks, dtype, "NO")

    if arr.ndim != 4:
        raise DicomConformanceError(
            f"pixel array must be (frames, rows, columns) or (frames, rows, columns, segments),"
            f" got shape {arr.shape}")
    if arr.shape[3] != len(numbers):
        raise DicomConformanceError(
            f"pixel array has {arr.shape[3]} segment channels but {len(numbers)} segments are described")
    kind = arr.dtype.kind
    if segmentation_type in ("BINARY", "LABELMAP"):
        if kind != "b":
            if kind not in "iuf" or not np.isin(arr, (0, 1)).all():
                raise DicomConformanceError(
                    f"{segmentation_type} segmentation data must be boolean-like (only 0 and 1 per"
                    f" segment channel), got dtype {arr.dtype} with other values")
            arr = arr != 0
        values = arr
    else:  # FRACTIONAL
        if kind == "b":
            values = arr.astype(np.uint8) * np.uint8(max_fractional_value)
        elif kind in "iuf":
            if kind == "f" and not np.isfinite(arr).all():
                raise DicomConformanceError("FRACTIONAL values must be finite numbers between 0 and 1")
            lo, hi = (float(arr.min()), float(arr.max())) if arr.size else (0.0, 0.0)
            if lo < 0 or hi > 1:
                raise DicomConformanceError(
                    f"FRACTIONAL values must lie between 0 and 1 (they are scaled to Maximum Fractional"
                    f" Value {max_fractional_value}), found {lo:g}..{hi:g}")
            values = np.rint(arr.astype(np.float64) * max_fractional_value).astype(np.uint8)
        else:
            raise DicomConformanceError(f"FRACTIONAL pixel array must be numeric, got {arr.dtype}")
    occupied, overlap = _occupancy(values)
    if not occupied.any():
        raise DicomConformanceError("the segmentation is empty: no frame holds any segment pixel")
    if segmentation_type == "LABELMAP":
        if overlap == "YES":
            raise DicomConformanceError(
                "segments overlap, but a LABELMAP Segmentation holds one segment per pixel"
                " (PS3.3 C.8.20.2.3); use BINARY")
        dtype = np.uint16 if max(numbers) > 255 else np.uint8
        lut = np.asarray(numbers, dtype)
        labels = np.zeros(arr.shape[:3], dtype)
        for c in range(len(numbers)):
            labels[values[..., c]] = lut[c]
        nonempty = occupied.any(axis=1)
        idx = np.flatnonzero(nonempty) if omit_empty_frames else np.arange(n_src)
        return PreparedPixels(idx, None, [labels[idx]], dtype, "NO")
    src, seg, chunks = [], [], []
    for c, s in enumerate(numbers):
        idx = np.flatnonzero(occupied[:, c]) if omit_empty_frames else np.arange(n_src)
        if idx.size == 0:
            continue
        chunks.append(np.ascontiguousarray(values[idx, :, :, c]))
        src.append(idx)
        seg.append(np.full(idx.size, s))
    dtype = bool if segmentation_type == "BINARY" else np.uint8
    return PreparedPixels(np.concatenate(src), np.concatenate(seg), chunks, dtype, overlap)
