"""Checking the pixel array of a Segmentation and choosing the frames to store (vectorised).

The stored frames are not materialised here: :attr:`PreparedPixels.chunks` yields them in stored order,
a bounded number of frames at a time (views of the input where possible), so the encoder writes them
straight into the one Pixel Data buffer and peak memory stays near input + output. Frames are taken as
runs of consecutive source frames (slices, no gathering copies).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from ...errors import DicomConformanceError

CHUNK_BYTES = 8 << 20
"""About how many input bytes one chunk of frames covers (bounds the temporaries)."""


@dataclass
class PreparedPixels:
    """Frames to encode: ``source_index`` and ``segment_number`` per stored frame, and ``chunks()``,
    which yields the stored frames in order as arrays (n, rows, cols) of ``dtype``. A chunk may be a
    reused buffer: it is valid only until the next one is requested."""

    source_index: np.ndarray
    segment_number: np.ndarray | None
    chunks: Callable[[], Iterator[np.ndarray]]
    dtype: type
    overlap: str  # "YES" | "NO"


def _runs(idx: np.ndarray, max_frames: int) -> Iterator[tuple[int, int]]:
    """Slices ``[a, b)`` covering the ascending frame indices ``idx`` as runs of consecutive frames,
    each at most ``max_frames`` long."""
    if idx.size == 0:
        return
    cut = np.flatnonzero(np.diff(idx) != 1) + 1
    starts = np.concatenate(([0], cut)).tolist()
    ends = np.concatenate((cut, [idx.size])).tolist()
    for s, e in zip(starts, ends):
        a, b = int(idx[s]), int(idx[e - 1]) + 1
        for x in range(a, b, max_frames):
            yield x, min(x + max_frames, b)


def _frames_per_chunk(frame_bytes: int) -> int:
    return max(1, CHUNK_BYTES // max(1, frame_bytes))


# --- label maps (frames, rows, columns) -----------------------------------------------------------


def label_presence(labels: np.ndarray) -> np.ndarray:
    """``presence[f, v]``: label value ``v`` (>= 1) occurs in frame ``f`` of a label map of unsigned
    integers (or bool); shape (frames, max value + 1), column 0 is not filled (False).

    One vectorised maximum per frame, then a histogram of the non-zero pixels of the frames that have
    any: the volume is read once and never converted as a whole.
    """
    flat = labels.reshape(labels.shape[0], -1)
    if flat.dtype == bool:
        flat = flat.view(np.uint8)
    fmax = flat.max(axis=1) if flat.size else np.zeros(flat.shape[0], np.uint8)
    max_value = int(fmax.max()) if fmax.size else 0
    pres = np.zeros((flat.shape[0], max_value + 1), bool)
    if max_value == 1:  # a binary mask: its frames' maxima say it all
        pres[:, 1] = fmax != 0
        return pres
    for f in np.flatnonzero(fmax).tolist():
        x = flat[f]
        pres[f] = np.bincount(x[x != 0], minlength=max_value + 1) > 0
    return pres


def _label_array(arr: np.ndarray) -> np.ndarray:
    """The label map as uint8/uint16 (bool viewed as uint8), checked; a copy only for wider or signed
    integer types."""
    if arr.dtype.kind == "b":
        return arr.view(np.uint8)
    if arr.dtype.kind not in "iu":
        raise DicomConformanceError(
            f"a 3-dimensional pixel array is a label map and must hold integers, got {arr.dtype};"
            " give (frames, rows, columns, segments) for fractional values"
        )
    if arr.dtype.kind == "u" and arr.dtype.itemsize <= 2:
        return arr
    if arr.dtype.kind == "i" and arr.size and int(arr.min()) < 0:
        raise DicomConformanceError("label map values must be 0 (background) or segment numbers, found negative values")
    max_value = int(arr.max()) if arr.size else 0
    if max_value > 0xFFFF:
        raise DicomConformanceError(f"label value {max_value} exceeds the largest Segment Number 65535 (US)")
    return arr.astype(np.uint16 if max_value > 255 else np.uint8)


def _prepare_labels(
    arr: np.ndarray,
    seg_type: str,
    numbers: list[int],
    omit: bool,
    max_fractional_value: int,
    presence: np.ndarray | None,
) -> PreparedPixels:
    labels = _label_array(arr)
    n_src, rows, cols = labels.shape
    if presence is None:
        presence = label_presence(labels)
    elif presence.shape[0] != n_src or presence.ndim != 2 or presence.dtype != bool:
        raise DicomConformanceError("label_presence must be a bool array (frames, max label value + 1)")
    max_value = presence.shape[1] - 1
    nonempty = presence[:, 1:].any(axis=1)
    allowed = np.zeros(max_value + 1, bool)
    allowed[0] = True
    allowed[[n for n in numbers if n <= max_value]] = True
    bad = np.flatnonzero(presence.any(axis=0) & ~allowed)
    if bad.size:
        raise DicomConformanceError(
            f"label values {bad.tolist()} appear in the pixel array but no segment with those"
            f" Segment Numbers (0062,0004) is described (PS3.3 C.8.20.2.3)"
        )
    if not nonempty.any():
        raise DicomConformanceError("the segmentation is empty: no frame holds any segment pixel")
    per_chunk = _frames_per_chunk(rows * cols * labels.dtype.itemsize)

    if seg_type == "LABELMAP":
        idx = np.flatnonzero(nonempty) if omit else np.arange(n_src)
        dtype = np.uint16 if max(numbers) > 255 else np.uint8

        def label_chunks() -> Iterator[np.ndarray]:
            for a, b in _runs(idx, per_chunk):
                yield labels[a:b].astype(dtype, copy=False)

        return PreparedPixels(idx, None, label_chunks, dtype, "NO")

    src, seg, plan = [], [], []
    for s in numbers:
        if omit:
            idx = np.flatnonzero(presence[:, s]) if s <= max_value else np.zeros(0, np.int64)
        else:
            idx = np.arange(n_src)
        if idx.size == 0:
            continue
        plan.append((s, idx))
        src.append(idx)
        seg.append(np.full(idx.size, s))
    scale = np.uint8(1 if seg_type == "BINARY" else max_fractional_value)

    def mask_chunks() -> Iterator[np.ndarray]:
        tmp = np.empty((min(per_chunk, n_src), rows, cols), bool)
        for s, idx in plan:
            for a, b in _runs(idx, per_chunk):
                mask = tmp[: b - a]
                np.equal(labels[a:b], s, out=mask)
                if seg_type == "BINARY":
                    yield mask
                else:  # FRACTIONAL: 0 or the maximum fractional value
                    values = mask.view(np.uint8)
                    np.multiply(values, scale, out=values)
                    yield values

    dtype = bool if seg_type == "BINARY" else np.uint8
    return PreparedPixels(np.concatenate(src), np.concatenate(seg), mask_chunks, dtype, "NO")


# --- one channel per segment (frames, rows, columns, segments) ------------------------------------


def _channel_max(values: np.ndarray) -> np.ndarray:
    """(frames, segments) maximum of each segment channel in each frame (bool: any; NaN propagates).

    The reduction runs over long contiguous rows (several whole pixels per row), which is much faster
    than reducing along the short channel axis.
    """
    n_src, rows, cols, n_seg = values.shape
    k = 1
    while k < 64 and (rows * cols) % (2 * k) == 0:
        k *= 2
    reduced = np.maximum.reduce(values.reshape(n_src, -1, k * n_seg), axis=1)
    maxima: np.ndarray = reduced.reshape(n_src, k, n_seg).max(axis=1)
    return maxima


def _overlap(occupied: np.ndarray, frame_nonzero: Callable[[int], np.ndarray]) -> str:
    """ "YES" when a pixel holds more than one segment, checking only frames with several segments."""
    if occupied.shape[1] < 2:
        return "NO"
    for f in np.flatnonzero(occupied.sum(axis=1) > 1).tolist():
        if int(frame_nonzero(f).sum(axis=-1, dtype=np.int64).max()) > 1:
            return "YES"
    return "NO"


def _quantizer(arr: np.ndarray, max_fractional_value: int) -> Callable[[np.ndarray], np.ndarray]:
    """FRACTIONAL values -> uint8 (0..max): round(value * max) in float64, as an elementwise function."""
    if arr.dtype.kind == "b":
        scale = np.uint8(max_fractional_value)
        return lambda x: x.astype(np.uint8) * scale
    return lambda x: np.rint(x.astype(np.float64) * max_fractional_value).astype(np.uint8)


def _prepare_channels(
    arr: np.ndarray, seg_type: str, numbers: list[int], omit: bool, max_fractional_value: int
) -> PreparedPixels:
    if arr.shape[3] != len(numbers):
        raise DicomConformanceError(
            f"pixel array has {arr.shape[3]} segment channels but {len(numbers)} segments are described"
        )
    n_src, rows, cols, n_seg = arr.shape
    kind = arr.dtype.kind
    if seg_type in ("BINARY", "LABELMAP"):
        values = arr
        if kind != "b":
            if kind in "iu":
                ok = not arr.size or (int(arr.min()) >= 0 and int(arr.max()) <= 1)
            else:
                ok = kind == "f" and bool(np.isin(arr, (0, 1)).all())
            if not ok:
                raise DicomConformanceError(
                    f"{seg_type} segmentation data must be boolean-like (only 0 and 1 per"
                    f" segment channel), got dtype {arr.dtype} with other values"
                )
            values = arr.view(bool) if arr.dtype.itemsize == 1 else arr != 0
        occupied = _channel_max(values)
        overlap = _overlap(occupied, lambda f: values[f].view(np.uint8).reshape(-1, n_seg))
        quantize = None
    else:  # FRACTIONAL
        if kind not in "biuf":
            raise DicomConformanceError(f"FRACTIONAL pixel array must be numeric, got {arr.dtype}")
        quantize = _quantizer(arr, max_fractional_value)
        cmax = _channel_max(arr)
        if kind != "b":
            lo = float(arr.min()) if arr.size else 0.0
            hi = float(cmax.max()) if cmax.size else 0.0
            if kind == "f" and not (np.isfinite(lo) and np.isfinite(hi)):
                raise DicomConformanceError("FRACTIONAL values must be finite numbers between 0 and 1")
            if lo < 0 or hi > 1:
                raise DicomConformanceError(
                    f"FRACTIONAL values must lie between 0 and 1 (they are scaled to Maximum Fractional"
                    f" Value {max_fractional_value}), found {lo:g}..{hi:g}"
                )
        # rounding is monotone: a channel holds a non-zero stored value where its maximum does
        occupied = quantize(cmax) != 0
        overlap = _overlap(occupied, lambda f: (quantize(arr[f]) != 0).reshape(-1, n_seg))
    if not occupied.any():
        raise DicomConformanceError("the segmentation is empty: no frame holds any segment pixel")
    per_chunk = _frames_per_chunk(rows * cols * n_seg * arr.dtype.itemsize)

    if seg_type == "LABELMAP":
        if overlap == "YES":
            raise DicomConformanceError(
                "segments overlap, but a LABELMAP Segmentation holds one segment per pixel"
                " (PS3.3 C.8.20.2.3); use BINARY"
            )
        dtype = np.uint16 if max(numbers) > 255 else np.uint8
        lut = np.asarray(numbers, dtype)
        idx = np.flatnonzero(occupied.any(axis=1)) if omit else np.arange(n_src)

        def label_chunks() -> Iterator[np.ndarray]:
            tmp = np.empty((min(per_chunk, n_src), rows, cols), dtype)
            for a, b in _runs(idx, per_chunk):
                out = tmp[: b - a]
                out.fill(0)
                for c in range(n_seg):
                    np.copyto(out, lut[c], where=values[a:b, :, :, c])
                yield out

        return PreparedPixels(idx, None, label_chunks, dtype, "NO")

    src, seg, plan = [], [], []
    for c, s in enumerate(numbers):
        idx = np.flatnonzero(occupied[:, c]) if omit else np.arange(n_src)
        if idx.size == 0:
            continue
        plan.append((c, idx))
        src.append(idx)
        seg.append(np.full(idx.size, s))

    def channel_chunks() -> Iterator[np.ndarray]:
        for c, idx in plan:
            for a, b in _runs(idx, per_chunk):
                if quantize is None:
                    yield np.ascontiguousarray(values[a:b, :, :, c])
                else:
                    yield quantize(arr[a:b, :, :, c])

    dtype = bool if seg_type == "BINARY" else np.uint8
    return PreparedPixels(np.concatenate(src), np.concatenate(seg), channel_chunks, dtype, overlap)


def prepare_pixels(
    pixel_array: np.ndarray,
    *,
    segmentation_type: str,
    numbers: Sequence[int],
    omit_empty_frames: bool,
    max_fractional_value: int = 255,
    label_presence: np.ndarray | None = None,
) -> PreparedPixels:
    """Check ``pixel_array`` and plan the stored frames; ``label_presence`` (for a 3D label map only)
    is :func:`label_presence` of the array when the caller has it already (it is trusted)."""
    arr = np.asarray(pixel_array)
    numbers = [int(n) for n in numbers]
    if arr.ndim == 3 and arr.dtype.kind == "f":
        if segmentation_type == "FRACTIONAL" and len(numbers) == 1:
            arr = arr[..., None]
        else:
            raise DicomConformanceError(
                "a 3-dimensional pixel array is a label map of segment numbers and must hold integers;"
                " give (frames, rows, columns, segments) with one channel per segment for other values"
            )
    if arr.ndim == 3:
        return _prepare_labels(arr, segmentation_type, numbers, omit_empty_frames, max_fractional_value, label_presence)
    if arr.ndim != 4:
        raise DicomConformanceError(
            f"pixel array must be (frames, rows, columns) or (frames, rows, columns, segments), got shape {arr.shape}"
        )
    return _prepare_channels(arr, segmentation_type, numbers, omit_empty_frames, max_fractional_value)
